/** Parsing of the server's command-line values (pure functions, unit-tested). */
import type { HostPort } from './server.js';
import { splitHostPort } from '../wire/address.js';

/** `HOST:PORT`, `[::1]:PORT`, `:PORT` or `PORT` (host defaults to loopback). */
export function parseHostPort(value: string, what: string): HostPort {
  const v = value.trim();
  const m = /^\d+$/.test(v) ? ['', undefined, '', v] : /^(?:\[([^\]]+)\]|([^:\s]*)):(\d+)$/.exec(v);
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || !Number.isInteger(port) || port > 65535) {
    throw new Error(`--${what}: expected HOST:PORT (e.g. 127.0.0.1:7420), got ${JSON.stringify(value)}`);
  }
  const host = m[1] ?? (m[2] === undefined || m[2] === '' ? '127.0.0.1' : m[2]);
  return { host, port };
}

/**
 * What `--tcp` / `--ws` take: `HOST:PORT`, `[::1]:PORT`, `:PORT`, `PORT`, and the address forms
 * the server prints (`tcp:HOST:PORT`, `tcp://HOST:PORT`, `ws://HOST:PORT/`), so that a printed
 * address can be given back. A WebSocket address may not carry a path other than `/`.
 */
export function parseListenAddress(value: string, what: 'tcp' | 'ws'): HostPort {
  let v = value.trim();
  const scheme = what === 'tcp' ? /^tcp:(?:\/\/)?/i : /^ws:\/\//i;
  if (scheme.test(v)) {
    v = v.replace(scheme, '');
    if (what === 'ws') {
      const slash = v.indexOf('/');
      if (slash >= 0 && v.slice(slash) !== '/') {
        throw new Error(`--ws: the server serves WebSocket on path / only, got ${JSON.stringify(value)}`);
      }
      if (slash >= 0) v = v.slice(0, slash);
    }
    const hp = splitHostPort(v);
    if (hp === null) throw new Error(`--${what}: expected HOST:PORT (e.g. 127.0.0.1:7420), got ${JSON.stringify(value)}`);
    return hp;
  }
  return parseHostPort(v, what);
}

const UNITS: Record<string, bigint> = { '': 1n, k: 1n << 10n, m: 1n << 20n, g: 1n << 30n, t: 1n << 40n };

/** Bytes with an optional K/M/G/T (binary) suffix, or `unlimited` (→ null). */
export function parseMemlock(value: string): bigint | null {
  const v = value.trim().toLowerCase();
  if (v === 'unlimited' || v === 'infinity') return null;
  const m = /^(\d+)\s*([kmgt]?)(i?b)?$/.exec(v);
  if (m === null) throw new Error(`--memlock-limit: expected bytes (e.g. 16G, 1048576) or "unlimited", got ${JSON.stringify(value)}`);
  return BigInt(m[1]!) * UNITS[m[2]!]!;
}
