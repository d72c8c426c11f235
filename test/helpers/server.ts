/** Starts an in-process vphb server on a unique UNIX socket for a test, and connects clients to it. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Client } from '../../clients/ts/index.js';
import { DEFAULT_TOPOLOGY, type TopologySpec } from '../../src/hw/topology.js';
import { VphbServer, type HostPort } from '../../src/server/server.js';
import type { SessionLimits } from '../../src/server/session.js';

export interface TestServerOptions {
  topology?: TopologySpec;
  memlockLimit?: bigint | null;
  tcp?: boolean;
  ws?: boolean;
  token?: string;
  limits?: Partial<SessionLimits>;
  profile?: 'linux' | 'strict';
}

export interface TestServer {
  server: VphbServer;
  socketPath: string;
  tcp?: HostPort;
  ws?: HostPort;
  token: string;
  /** A connected, handshaken client (UNIX socket unless `target` is given). */
  connect(target?: string, opts?: { name?: string; token?: string }): Promise<Client>;
  close(): Promise<void>;
}

export const TEST_TOKEN = 'test-token';

export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'vphb-test-'));
  const socketPath = join(dir, 'vphb.sock');
  const token = opts.token ?? TEST_TOKEN;
  const server = await VphbServer.start({
    topology: opts.topology ?? DEFAULT_TOPOLOGY,
    profile: opts.profile,
    socketPath,
    tcp: opts.tcp === true ? { host: '127.0.0.1', port: 0 } : undefined,
    ws: opts.ws === true ? { host: '127.0.0.1', port: 0 } : undefined,
    token: opts.tcp === true || opts.ws === true ? token : undefined,
    memlockLimit: opts.memlockLimit === undefined ? 16n << 30n : opts.memlockLimit,
    limits: opts.limits ?? {},
    logger: pino({ level: process.env.VPHB_TEST_LOG ?? 'silent' }),
  });
  const clients = new Set<Client>();
  const result: TestServer = {
    server,
    socketPath,
    token,
    async connect(target = socketPath, o = {}) {
      const { Client: ClientClass } = await import('../../clients/ts/index.js');
      const c = await ClientClass.connect(target, { name: o.name ?? 'test', ...(o.token === undefined ? {} : { token: o.token }) });
      clients.add(c);
      return c;
    },
    async close() {
      await Promise.all([...clients].map((c) => c.end().catch(() => undefined)));
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  if (server.addresses.tcp !== undefined) result.tcp = server.addresses.tcp;
  if (server.addresses.ws !== undefined) result.ws = server.addresses.ws;
  return result;
}
