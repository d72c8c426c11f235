/**
 * The vphb server: one shared model (`System`), listeners on a UNIX socket and optionally TCP and
 * WebSocket, and one Session per connection.
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { unlinkSync } from 'node:fs';
import { pino, type Logger } from 'pino';
import { WebSocketServer } from 'ws';
import type { TopologySpec } from '../hw/topology.js';
import type { ProfileName } from '../vfio/profile.js';
import { createSystem, type System } from '../ops/context.js';
import { Dispatcher } from '../ops/dispatch.js';
import { HANDLERS } from '../ops/index.js';
import { boundPathOfFd, listenUnix, ListenError } from './listen-unix.js';
import { DEFAULT_SCHEDULER, Scheduler, type SchedulerOptions } from './scheduler.js';
import { Session, type SessionLimits } from './session.js';
import { StreamTransport } from './transport-stream.js';
import type { Transport, TransportKind } from './transport.js';
import { WsTransport } from './transport-ws.js';
import { SERVER_STRING } from './version.js';
import { checkUpgrade, selectProtocol } from './ws-upgrade.js';

export const SERVER_NAME = 'vphb';

export interface HostPort {
  host: string;
  port: number;
}

export interface ServerOptions {
  topology: TopologySpec;
  /** Behaviour profile (--profile); default: the topology's, else linux. */
  profile?: ProfileName | undefined;
  /** UNIX socket path, or null for none. */
  socketPath: string | null;
  /**
   * An inherited, already listening UNIX socket to serve (systemd socket activation, fd 3), used
   * instead of `socketPath`; its file belongs to whoever created it and is not removed on close.
   */
  listenFd?: number | undefined;
  tcp?: HostPort | undefined;
  ws?: HostPort | undefined;
  /** Token required in VERSION on TCP and WebSocket. Required when either is enabled. */
  token?: string | undefined;
  /** Per-connection RLIMIT_MEMLOCK in bytes; null = unlimited. */
  memlockLimit: bigint | null;
  limits?: Partial<SessionLimits>;
  /** Server-wide limits (see DEFAULT_SERVER_LIMITS). */
  serverLimits?: Partial<ServerLimits>;
  scheduler?: Partial<SchedulerOptions>;
  logger?: Logger;
}

export const DEFAULT_LIMITS: SessionLimits = {
  maxFrameSize: 16 * 1024 * 1024,
  maxInflight: 1024,
  writeHighWater: 1024 * 1024,
  replyBatch: 32,
  preVersionFrameSize: 4096,
  inputHighWater: 1024 * 1024,
  handshakeTimeoutMs: 10_000,
};

/** Limits across all connections. */
export interface ServerLimits {
  /** Connections at once; one more is accepted and closed at once. */
  maxConnections: number;
  /** Connections that have not completed VERSION at once; one more is closed at once. */
  maxUnauthenticated: number;
  /** Locked memory of all clients together, in bytes; null = unlimited. ENOMEM beyond. */
  maxMemory: bigint | null;
  /** Handles one connection may hold at once (RLIMIT_NOFILE); EMFILE beyond. */
  maxHandles: number;
}

/**
 * Sized for the reference machine (24 GiB, 2 cores): the accounted memory of every client together
 * stays well below RAM (table memory is at most what is accounted), a few hundred connections.
 */
export const DEFAULT_SERVER_LIMITS: ServerLimits = {
  maxConnections: 256,
  maxUnauthenticated: 128,
  maxMemory: 8n << 30n,
  maxHandles: 1024,
};

export interface ServerAddresses {
  unix?: string;
  tcp?: HostPort;
  ws?: HostPort;
}

export class VphbServer {
  readonly system: System;
  readonly log: Logger;
  readonly limits: SessionLimits;
  readonly serverLimits: ServerLimits;
  readonly scheduler: Scheduler;
  readonly addresses: ServerAddresses = {};
  readonly sessions = new Set<Session>();
  readonly #dispatcher = new Dispatcher(HANDLERS);
  readonly #opts: ServerOptions;
  #nextSession = 1;
  #unix: NetServer | undefined;
  #tcp: NetServer | undefined;
  #http: HttpServer | undefined;
  #wss: WebSocketServer | undefined;
  #closing = false;
  #inherited = false;
  readonly #idleWaiters: (() => void)[] = [];
  #unauthenticated = 0;
  /** Connections refused because a limit was reached, by limit. */
  readonly refused = { connections: 0, unauthenticated: 0 };

  private constructor(opts: ServerOptions) {
    this.#opts = opts;
    this.log = opts.logger ?? pino({ name: SERVER_NAME });
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.serverLimits = { ...DEFAULT_SERVER_LIMITS, ...opts.serverLimits };
    this.scheduler = new Scheduler({ ...DEFAULT_SCHEDULER, ...opts.scheduler });
    this.system = createSystem({ topology: opts.topology, profile: opts.profile, maxMemory: this.serverLimits.maxMemory });
  }

  /** Connections that have not completed VERSION. */
  get unauthenticated(): number {
    return this.#unauthenticated;
  }

  static async start(opts: ServerOptions): Promise<VphbServer> {
    if ((opts.tcp !== undefined || opts.ws !== undefined) && (opts.token === undefined || opts.token === '')) {
      throw new ListenError('TCP and WebSocket listeners require a token (--token or VPHB_TOKEN)');
    }
    const server = new VphbServer(opts);
    try {
      await server.#listen();
    } catch (e) {
      await server.close();
      throw e;
    }
    return server;
  }

  async #listen(): Promise<void> {
    const opts = this.#opts;
    if (opts.listenFd !== undefined) {
      const fd = opts.listenFd;
      this.#unix = createServer({ allowHalfOpen: true }, (s) => this.#acceptStream(s, 'unix'));
      await new Promise<void>((resolve, reject) => {
        this.#unix!.once('error', (e) => reject(new ListenError(`cannot serve the inherited socket fd ${fd}: ${e.message}`)));
        this.#unix!.listen({ fd }, () => resolve());
      });
      this.#inherited = true;
      this.addresses.unix = boundPathOfFd(fd) ?? `fd ${fd}`;
    } else if (opts.socketPath !== null) {
      this.#unix = createServer({ allowHalfOpen: true }, (s) => this.#acceptStream(s, 'unix'));
      await listenUnix(this.#unix, opts.socketPath);
      this.addresses.unix = opts.socketPath;
    }
    if (opts.tcp !== undefined) {
      this.#tcp = createServer({ allowHalfOpen: true }, (s) => this.#acceptStream(s, 'tcp'));
      this.addresses.tcp = await listenTcp(this.#tcp, opts.tcp, 'TCP');
    }
    if (opts.ws !== undefined) {
      const wss = new WebSocketServer({
        noServer: true,
        perMessageDeflate: false,
        maxPayload: this.limits.maxFrameSize,
        handleProtocols: selectProtocol,
      });
      this.#wss = wss;
      this.#http = createHttpServer((_req, res) => {
        res.writeHead(426, { 'content-type': 'text/plain' }).end('vphb: WebSocket upgrade required\n');
      });
      this.#http.on('upgrade', (req, socket, head) => {
        const verdict = checkUpgrade(req);
        if (!verdict.ok) {
          const body = `${verdict.reason}\n`;
          socket.end(`HTTP/1.1 ${verdict.status} ${verdict.status === 404 ? 'Not Found' : 'Bad Request'}\r\nConnection: close\r\n` +
            `Content-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
          return;
        }
        wss.handleUpgrade(req, socket, head, (ws) => {
          const peer = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
          const t = new WsTransport(ws, peer, this.limits.preVersionFrameSize);
          this.#startSession(t, (h) => t.attach(h));
        });
      });
      this.addresses.ws = await listenTcp(this.#http, opts.ws, 'WebSocket');
    }
  }

  #acceptStream(socket: Socket, kind: TransportKind): void {
    const t = new StreamTransport(socket, kind, this.limits.preVersionFrameSize);
    this.#startSession(t, (h) => t.attach(h));
  }

  #startSession(t: Transport, attach: (s: Session) => void): void {
    if (this.#closing) {
      t.destroy();
      return;
    }
    // Over a limit, the connection is closed before anything is read from it (the peer sees
    // the connection close at once, as from a server whose accept backlog overflowed).
    const { maxConnections, maxUnauthenticated, maxHandles } = this.serverLimits;
    if (this.sessions.size >= maxConnections || this.#unauthenticated >= maxUnauthenticated) {
      const which = this.sessions.size >= maxConnections ? 'connections' : 'unauthenticated';
      this.refused[which]++;
      this.log.warn({ transport: t.kind, peer: t.peer, connections: this.sessions.size, unauthenticated: this.#unauthenticated },
        which === 'connections' ? `--max-connections ${maxConnections} reached: connection refused` : `--max-unauthenticated ${maxUnauthenticated} reached: connection refused`);
      t.destroy();
      return;
    }
    const id = this.#nextSession++;
    const log = this.log.child({ conn: id, transport: t.kind, peer: t.peer });
    this.#unauthenticated++;
    let authenticated = false;
    const session = new Session(t, this.system, this.#dispatcher, log, {
      id,
      limits: this.limits,
      token: t.kind === 'unix' ? null : (this.#opts.token ?? null),
      serverName: SERVER_STRING,
      memlockLimit: this.#opts.memlockLimit,
      maxHandles,
      scheduler: this.scheduler,
      onOpen: () => {
        authenticated = true;
        this.#unauthenticated--;
      },
    }, (s) => {
      if (!authenticated) this.#unauthenticated--;
      this.sessions.delete(s);
      if (this.sessions.size === 0) for (const w of this.#idleWaiters.splice(0)) w();
    });
    this.sessions.add(session);
    log.info('connected');
    attach(session);
  }

  /** Stops listening, drops every connection (releasing what each held) and removes the socket file. */
  async close(): Promise<void> {
    this.#closing = true;
    const closing: Promise<void>[] = [];
    const closeServer = (s: NetServer | HttpServer | undefined): void => {
      if (s?.listening) closing.push(new Promise((r) => s.close(() => r())));
    };
    closeServer(this.#unix);
    closeServer(this.#tcp);
    this.#wss?.clients.forEach((c) => c.terminate());
    this.#wss?.close();
    closeServer(this.#http);
    this.#http?.closeAllConnections();
    for (const s of this.sessions) s.destroy();
    // Sessions release what they held once an op running in slices has finished.
    if (this.sessions.size > 0) closing.push(new Promise((r) => this.#idleWaiters.push(r)));
    await Promise.all(closing);
    if (this.addresses.unix !== undefined && !this.#inherited) {
      try {
        unlinkSync(this.addresses.unix);
      } catch {
        /* already gone */
      }
    }
  }
}

function listenTcp(server: NetServer | HttpServer, at: HostPort, what: string): Promise<HostPort> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => reject(new ListenError(`cannot listen for ${what} on ${at.host}:${at.port}: ${e.message}`));
    server.once('error', onError);
    server.listen(at.port, at.host, () => {
      server.off('error', onError);
      const a = server.address() as AddressInfo;
      resolve({ host: a.address, port: a.port });
    });
  });
}
