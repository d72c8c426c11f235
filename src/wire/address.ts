/**
 * Server addresses as users write them (PROTOCOL.md §1), shared by the server (what it listens on
 * and prints) and the clients (what they connect to), so that every printed address can be given
 * back to `-c`:
 *
 *   unix:PATH, unix://PATH, or a bare PATH      UNIX stream socket
 *   tcp:HOST:PORT, tcp://HOST:PORT              TCP (HOST may be [v6]; QEMU writes tcp:HOST:PORT)
 *   ws://HOST:PORT[/PATH]                       WebSocket (wss:// and ws+unix:// are passed on as URLs)
 */

export type AddressKind = 'unix' | 'tcp' | 'ws';

export interface Address {
  kind: AddressKind;
  /** UNIX socket path. */
  path?: string;
  host?: string;
  port?: number;
  /** WebSocket URL. */
  url?: string;
}

export class AddressError extends TypeError {
  override readonly name = 'AddressError';
}

const HOST_PORT = /^(?:\[([0-9a-fA-F:.%a-zA-Z]+)\]|([^:[\]\s/]+)):(\d{1,5})$/;

/** `HOST:PORT` or `[V6]:PORT`; null if it is not of that shape or the port is above 65535. */
export function splitHostPort(value: string): { host: string; port: number } | null {
  const m = HOST_PORT.exec(value);
  if (m === null) return null;
  const port = Number(m[3]);
  if (port > 65535) return null;
  return { host: m[1] ?? m[2]!, port };
}

/** Parses a client target; an AddressError says what shape was expected. */
export function parseAddress(target: string): Address {
  const t = target.trim();
  if (t === '') throw new AddressError('empty address: want unix:PATH, tcp:HOST:PORT or ws://HOST:PORT');
  if (/^wss?:\/\//i.test(t) || /^ws\+unix:/i.test(t)) {
    if (/^wss?:\/\//i.test(t)) {
      const rest = t.replace(/^wss?:\/\//i, '');
      const authority = rest.split('/')[0]!;
      if (splitHostPort(authority) === null) {
        throw new AddressError(`bad WebSocket address ${JSON.stringify(target)}: want ws://HOST:PORT[/PATH], e.g. ws://127.0.0.1:7421`);
      }
    }
    return { kind: 'ws', url: t };
  }
  const tcp = /^tcp:(?:\/\/)?(.*)$/i.exec(t);
  if (tcp !== null) {
    const hp = splitHostPort(tcp[1]!.replace(/\/$/, ''));
    if (hp === null || hp.port === 0) {
      throw new AddressError(`bad TCP address ${JSON.stringify(target)}: want tcp:HOST:PORT or tcp://HOST:PORT (IPv6 as [::1]), e.g. tcp:127.0.0.1:7420`);
    }
    return { kind: 'tcp', host: hp.host, port: hp.port };
  }
  const unix = /^unix:(?:\/\/)?(.*)$/i.exec(t);
  if (unix !== null) {
    if (unix[1] === '') throw new AddressError(`bad UNIX address ${JSON.stringify(target)}: want unix:PATH`);
    return { kind: 'unix', path: unix[1]! };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(t)) {
    throw new AddressError(`unsupported address scheme in ${JSON.stringify(target)}: want unix:PATH, tcp:HOST:PORT or ws://HOST:PORT`);
  }
  return { kind: 'unix', path: t };
}

/** `host` as it goes before `:PORT` in an address: IPv6 literals in brackets. */
export function hostForAddress(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** The printed form of an address, which `parseAddress` reads back to the same address. */
export function formatAddress(a: Address): string {
  switch (a.kind) {
    case 'unix':
      return `unix:${a.path!}`;
    case 'tcp':
      return `tcp://${hostForAddress(a.host!)}:${a.port!}`;
    case 'ws':
      return a.url ?? `ws://${hostForAddress(a.host!)}:${a.port!}/`;
  }
}
