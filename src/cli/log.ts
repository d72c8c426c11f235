/**
 * The server's logger: pino, JSON lines on stdout by default (or to --log-file), and a short
 * human form when stdout is a terminal. The human form is a small formatter of pino's own lines
 * (no pino-pretty: it is not a dependency, and this needs only a few lines).
 */
import { Writable } from 'node:stream';
import { pino, type DestinationStream, type Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** One pino JSON line as `HH:MM:SS.mmm LEVEL msg key=value ...`. */
export function prettyLine(line: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const { time, level, msg, pid: _pid, hostname: _host, name: _name, ...rest } = o;
  const t = typeof time === 'number' ? new Date(time).toISOString().slice(11, 23) : '';
  const lv = (LEVEL_NAMES[level as number] ?? String(level)).padEnd(5);
  const extra = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ');
  return `${t} ${lv} ${typeof msg === 'string' ? msg : ''}${extra === '' ? '' : ` ${extra}`}`;
}

class PrettyStream extends Writable {
  readonly #out: NodeJS.WritableStream;
  #partial = '';
  constructor(out: NodeJS.WritableStream) {
    super();
    this.#out = out;
  }
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: (e?: Error | null) => void): void {
    const text = this.#partial + chunk.toString();
    const lines = text.split('\n');
    this.#partial = lines.pop()!;
    if (lines.length > 0) this.#out.write(lines.map(prettyLine).join('\n') + '\n');
    done();
  }
}

export interface LogOptions {
  level: string;
  /** Append JSON lines to this file instead of stdout. */
  file?: string | undefined;
  format: (typeof LOG_FORMATS)[number];
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
}

export function createLogger(o: LogOptions): Logger {
  let dest: DestinationStream;
  if (o.file !== undefined) dest = pino.destination({ dest: o.file, append: true, mkdir: true, sync: true });
  else if (o.format === 'pretty' || (o.format === 'auto' && o.stdout.isTTY === true)) dest = new PrettyStream(o.stdout);
  else dest = o.stdout === process.stdout ? pino.destination({ dest: 1, sync: true }) : (o.stdout as DestinationStream);
  return pino({ name: 'vphb', level: o.level }, dest);
}
