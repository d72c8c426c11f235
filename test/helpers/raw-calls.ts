/** Sequential raw calls over a RawConnection: one frame out, wait for its reply, decoded. */
import { ERRNO, errnoName } from '../../src/wire/errno.js';
import type { OpName } from '../../src/wire/ops.generated.js';
import { frame, versionFrame, RawConnection } from './raw.js';

export class RawCaller {
  readonly conn: RawConnection;
  #id = 1;

  private constructor(conn: RawConnection) {
    this.conn = conn;
  }

  /** Connects and handshakes (token for TCP). */
  static async open(target: string | { host: string; port: number }, token?: string): Promise<RawCaller> {
    const conn = await RawConnection.open(target);
    const c = new RawCaller(conn);
    conn.write(versionFrame(c.#id++, token));
    await conn.waitFrames(1);
    return c;
  }

  /** The reply payload; throws Error(errno name) on an error reply. */
  async call(op: OpName, payload: unknown, timeoutMs = 20_000): Promise<Record<string, unknown>> {
    const n = this.conn.frames.length;
    this.conn.write(frame(op, payload, this.#id++ & 0xffff));
    const rs = await this.conn.waitFrames(n + 1, timeoutMs);
    const r = rs[n]!;
    if (r.header.error !== 0) throw new Error(errnoName(r.header.error));
    return (r.payload ?? {}) as Record<string, unknown>;
  }

  /** The errno name of a call expected to fail ('OK' if it succeeded). */
  async errno(op: OpName, payload: unknown): Promise<string> {
    try {
      await this.call(op, payload);
      return 'OK';
    } catch (e) {
      return (e as Error).message;
    }
  }

  destroy(): void {
    this.conn.destroy();
  }
}

export { ERRNO };
