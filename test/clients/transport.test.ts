import { execFileSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { Client, OpMethods, defaultSocketPath, parseTarget, type VphbError } from '../../clients/ts/index.js';
import { TYPE_REPLY, encodeFrame, readHeader } from '../../src/wire/header.js';
import { decodePayload, encodePayload } from '../../src/wire/msgpack.js';
import { OPS } from '../../src/wire/ops.generated.js';
import { FAKE_INFO } from './fake-server.js';

describe('parseTarget', () => {
  it.each([
    ['/tmp/x.sock', { kind: 'unix', path: '/tmp/x.sock' }],
    ['unix:/tmp/x.sock', { kind: 'unix', path: '/tmp/x.sock' }],
    ['unix:///tmp/x.sock', { kind: 'unix', path: '/tmp/x.sock' }],
    ['rel/x.sock', { kind: 'unix', path: 'rel/x.sock' }],
    ['tcp://127.0.0.1:7000', { kind: 'tcp', host: '127.0.0.1', port: 7000 }],
    ['tcp://[::1]:7000', { kind: 'tcp', host: '::1', port: 7000 }],
    ['ws://localhost:8080/vphb', { kind: 'ws', url: 'ws://localhost:8080/vphb' }],
    ['wss://h:1', { kind: 'ws', url: 'wss://h:1' }],
    // QEMU's spelling, and IPv6 in both forms.
    ['tcp:127.0.0.1:7000', { kind: 'tcp', host: '127.0.0.1', port: 7000 }],
    ['tcp:[::1]:7000', { kind: 'tcp', host: '::1', port: 7000 }],
    ['tcp:localhost:7000', { kind: 'tcp', host: 'localhost', port: 7000 }],
  ])('%s', (target, expected) => {
    expect(parseTarget(target)).toEqual(expected);
  });

  it('rejects a TCP target without port and unknown schemes', () => {
    expect(() => parseTarget('tcp://host')).toThrow(TypeError);
    expect(() => parseTarget('http://host:1')).toThrow(/unsupported address scheme/);
    // Formerly the URL parser's bare "Invalid URL".
    expect(() => parseTarget('tcp://:7420')).toThrow('bad TCP address "tcp://:7420": want tcp:HOST:PORT or tcp://HOST:PORT (IPv6 as [::1]), e.g. tcp:127.0.0.1:7420');
    expect(() => parseTarget('tcp://::1:7432')).toThrow(/bad TCP address/);
    expect(() => parseTarget('ws://:1')).toThrow(/bad WebSocket address/);
  });

  it('defaultSocketPath follows XDG_RUNTIME_DIR, else the temp dir and uid', () => {
    expect(defaultSocketPath({ XDG_RUNTIME_DIR: '/run/user/7' })).toBe('/run/user/7/vphb.sock');
    expect(defaultSocketPath({})).toMatch(/^\/tmp\/vphb-\d+\.sock$/);
  });
});

describe('generated methods', () => {
  const camel = (n: string): string => n.toLowerCase().replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());

  it('exist for every MessagePack op of the registry', () => {
    const msgpack = OPS.filter((o) => o.payload === 'msgpack' && o.direction !== 'server');
    expect(msgpack.length).toBeGreaterThan(30);
    for (const o of msgpack) expect(typeof (OpMethods.prototype as unknown as Record<string, unknown>)[camel(o.name)], o.name).toBe('function');
    expect(camel('KVM_CREATE_SPAPR_TCE_64')).toBe('kvmCreateSpaprTce64');
    // Frames the server sends have no method: they arrive as events.
    expect((OpMethods.prototype as unknown as Record<string, unknown>)['vfioDeviceIrq']).toBeUndefined();
  });

  it('are up to date with protocol/ops.json', () => {
    const script = new URL('../../protocol/gen-client.mjs', import.meta.url).pathname;
    expect(() => execFileSync(process.execPath, [script, '--check'], { stdio: 'pipe' })).not.toThrow();
  });
});

describe('WebSocket transport', () => {
  let wss: WebSocketServer | undefined;
  afterEach(async () => {
    if (wss) {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((resolve) => wss!.close(() => resolve()));
    }
    wss = undefined;
  });

  async function wsServer(onMessage: (ws: WebSocket, data: Buffer) => void): Promise<string> {
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
    await new Promise<void>((resolve) => wss!.once('listening', resolve));
    wss.on('connection', (ws) => ws.on('message', (data: Buffer) => onMessage(ws, data)));
    return `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/vphb`;
  }

  const reply = (ws: WebSocket, req: Buffer, payload: unknown): void => {
    const h = readHeader(req);
    ws.send(encodeFrame({ msgId: h.msgId, command: h.command, flags: TYPE_REPLY, error: 0 }, encodePayload(payload)));
  };

  it('carries one frame per binary message, TCE batches included', async () => {
    const messages: Buffer[] = [];
    const url = await wsServer((ws, data) => {
      messages.push(data);
      const h = readHeader(data);
      if (h.command === 1) reply(ws, data, FAKE_INFO);
      else if (h.command === 2) reply(ws, data, decodePayload(data.subarray(16)));
      else reply(ws, data, { ret: 0, written: (data.length - 48) / 8 });
    });
    const client = await Client.connect(url, { name: 'ws-test' });
    expect(client.transport).toBe('ws');
    const [p1, p2, batch] = await Promise.all([
      client.ping(new Uint8Array([1])),
      client.ping(new Uint8Array([2])),
      client.tcePutBatch(4, 0x80000001n, 0x800000000000000n, new BigUint64Array([0x12340003n, 0x12350001n, 0x8000000000001002n])),
    ]);
    expect([p1.data, p2.data]).toEqual([Buffer.from([1]), Buffer.from([2])]);
    expect(batch).toEqual({ ret: 0, written: 3 });
    expect(messages.map((m) => readHeader(m).size === m.length)).toEqual([true, true, true, true]);
    // The batch went as two fragments of one message: the server sees the exact frame.
    expect(messages[3]!.subarray(16).toString('hex')).toBe(
      '0400000000000000010000800000000000000000000000080300000000000000030034120000000001003512000000000210000000000080',
    );
    await client.end();
  });

  it('fails the connection when a message is not exactly one frame', async () => {
    const url = await wsServer((ws, data) => {
      const h = readHeader(data);
      if (h.command === 1) reply(ws, data, FAKE_INFO);
      else ws.send(Buffer.concat([encodeFrame({ msgId: h.msgId, command: 2, flags: TYPE_REPLY, error: 0 }, encodePayload({})), Buffer.alloc(3)]));
    });
    const client = await Client.connect(url);
    const err = await client.ping().then(() => undefined, (e: VphbError) => e);
    expect(err?.code).toBe('ECONNRESET');
    expect(err?.message).toMatch(/frame size 17 does not match its message length 20/);
  });
});
