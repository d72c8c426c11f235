import { describe, expect, it } from 'vitest';
import { FrameDecoder, type FrameSink } from '../../src/wire/frame-decoder.js';
import type { FrameHeader } from '../../src/wire/header.js';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

// PING command, msg_id 7, payload {data: bin 01 02 03}: 16 + 11 = 27 bytes.
const PING = hex('0700 0200 1b000000 00000000 00000000  81 a4 64617461 c4 03 010203');
// TOPOLOGY command, msg_id 0x0102, empty map payload: 17 bytes.
const TOPO = hex('0201 0300 11000000 00000000 00000000  80');
// Header-only reply (error flag, ENOTTY 25), msg_id 9, command 257.
const ERR = hex('0900 0101 10000000 21000000 19000000');

interface Event {
  kind: 'frame' | 'oversize' | 'fatal';
  header?: FrameHeader;
  payload?: string;
  view?: Uint8Array;
  reason?: string;
}

function recorder(onFrame?: (d: FrameDecoder) => void): { events: Event[]; decoder: FrameDecoder } {
  const events: Event[] = [];
  const sink: FrameSink = {
    frame(header, payload) {
      events.push({ kind: 'frame', header, payload: toHex(payload), view: payload });
      onFrame?.(decoder);
    },
    oversize(header) {
      events.push({ kind: 'oversize', header });
    },
    fatal(reason) {
      events.push({ kind: 'fatal', reason });
    },
  };
  const decoder = new FrameDecoder(sink, { maxFrameSize: 64 });
  return { events, decoder };
}

describe('FrameDecoder', () => {
  it('decodes one frame in one chunk as a view of the chunk', () => {
    const { events, decoder } = recorder();
    decoder.push(PING);
    expect(events).toHaveLength(1);
    const e = events[0]!;
    expect(e.header).toEqual({ msgId: 7, command: 2, size: 27, flags: 0, error: 0 });
    expect(e.payload).toBe('81a464617461c403010203');
    expect(e.view!.buffer).toBe(PING.buffer);
    expect(e.view!.byteOffset).toBe(PING.byteOffset + 16);
    expect(decoder.bufferedBytes).toBe(0);
    expect(decoder.end()).toEqual({ truncated: false, pendingBytes: 0 });
  });

  it('decodes a frame split at every byte boundary, header included', () => {
    for (let cut = 1; cut < PING.length; cut++) {
      const { events, decoder } = recorder();
      decoder.push(PING.subarray(0, cut));
      expect(events, `cut ${cut}`).toHaveLength(0);
      expect(decoder.bufferedBytes).toBe(cut);
      expect(decoder.end()).toEqual({ truncated: true, pendingBytes: cut });
      decoder.push(PING.subarray(cut));
      expect(events, `cut ${cut}`).toHaveLength(1);
      expect(events[0]!.header!.msgId).toBe(7);
      expect(events[0]!.payload).toBe('81a464617461c403010203');
      expect(decoder.bufferedBytes).toBe(0);
    }
  });

  it('decodes a stream pushed one byte at a time and in every two-way split of two frames', () => {
    const both = new Uint8Array([...PING, ...TOPO]);
    const { events, decoder } = recorder();
    for (const b of both) decoder.push(new Uint8Array([b]));
    expect(events.map((e) => e.payload)).toEqual(['81a464617461c403010203', '80']);
    for (let cut = 0; cut <= both.length; cut++) {
      const r = recorder();
      r.decoder.push(both.slice(0, cut));
      r.decoder.push(both.slice(cut));
      expect(r.events.map((e) => e.header!.msgId), `cut ${cut}`).toEqual([7, 0x0102]);
    }
  });

  it('assembles a body split across chunks once, into a buffer of exactly the frame size', () => {
    const { events, decoder } = recorder();
    decoder.push(PING.subarray(0, 20));
    decoder.push(PING.subarray(20, 23));
    decoder.push(PING.subarray(23));
    const view = events[0]!.view!;
    expect(view.byteOffset).toBe(16);
    expect(view.buffer.byteLength).toBe(27);
    expect(toHex(new Uint8Array(view.buffer))).toBe(toHex(PING));
  });

  it('hands out a view when the header and the body arrive in separate chunks', () => {
    const { events, decoder } = recorder();
    const body = PING.slice(16);
    decoder.push(PING.slice(0, 16));
    expect(decoder.bufferedBytes).toBe(16);
    decoder.push(body);
    expect(events[0]!.view!.buffer).toBe(body.buffer);
  });

  it('decodes several frames in one chunk, including a header-only one', () => {
    const { events, decoder } = recorder();
    const chunk = new Uint8Array([...TOPO, ...ERR, ...PING]);
    decoder.push(chunk);
    expect(events.map((e) => [e.header!.msgId, e.header!.command, e.header!.flags, e.header!.error, e.payload])).toEqual([
      [0x0102, 3, 0, 0, '80'],
      [9, 257, 0x21, 25, ''],
      [7, 2, 0, 0, '81a464617461c403010203'],
    ]);
    for (const e of events) expect(e.view!.buffer).toBe(chunk.buffer);
  });

  it('decodes 1,000 frames in one chunk without copying', () => {
    const frames = Buffer.alloc(1000 * 17);
    for (let i = 0; i < 1000; i++) {
      frames.set(TOPO, i * 17);
      frames.writeUInt16LE(i, i * 17);
    }
    const { events, decoder } = recorder();
    decoder.push(frames);
    expect(events).toHaveLength(1000);
    expect(events.map((e) => e.header!.msgId)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(events.every((e) => e.payload === '80' && e.view!.buffer === frames.buffer)).toBe(true);
  });

  it('size < 16 is fatal and later pushes are ignored', () => {
    const { events, decoder } = recorder();
    decoder.push(hex('0100 0200 0f000000 00000000 00000000'));
    expect(events).toEqual([{ kind: 'fatal', reason: 'frame size 15 is smaller than the 16-byte header' }]);
    decoder.push(PING);
    expect(events).toHaveLength(1);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('size > max is reported once, its body discarded as it streams in, and the stream stays in sync', () => {
    const { events, decoder } = recorder();
    // 16 + 84 = 100 > 64: header announces 0x64 bytes.
    const big = new Uint8Array(100).fill(0xee);
    big.set(hex('0500 0200 64000000 00000000 00000000'));
    decoder.push(big.subarray(0, 10));
    decoder.push(big.subarray(10, 20));
    expect(events).toEqual([{ kind: 'oversize', header: { msgId: 5, command: 2, size: 100, flags: 0, error: 0 } }]);
    for (let off = 20; off < 100; off += 7) {
      decoder.push(big.subarray(off, Math.min(off + 7, 100)));
      expect(decoder.bufferedBytes).toBe(0); // never buffered
    }
    expect(decoder.end().truncated).toBe(false);
    decoder.push(PING);
    expect(events.map((e) => e.kind)).toEqual(['oversize', 'frame']);
    expect(events[1]!.payload).toBe('81a464617461c403010203');
  });

  it('an oversize body ending inside a chunk is followed by a frame in the same chunk', () => {
    const { events, decoder } = recorder();
    const big = new Uint8Array(65).fill(0xee);
    big.set(hex('0500 0200 41000000 00000000 00000000'));
    decoder.push(new Uint8Array([...big, ...TOPO]));
    expect(events.map((e) => e.kind)).toEqual(['oversize', 'frame']);
    expect(events[1]!.header!.msgId).toBe(0x0102);
  });

  it('a frame of exactly maxFrameSize is delivered', () => {
    const { events, decoder } = recorder();
    const f = new Uint8Array(64);
    f.set(hex('0100 0200 40000000'));
    decoder.push(f);
    expect(events.map((e) => e.kind)).toEqual(['frame']);
    expect(events[0]!.view!.byteLength).toBe(48);
  });

  it('end() reports a truncated stream', () => {
    const { decoder } = recorder();
    decoder.push(PING.subarray(0, 5));
    expect(decoder.end()).toEqual({ truncated: true, pendingBytes: 5 });
    decoder.push(PING.subarray(5, 22));
    expect(decoder.end()).toEqual({ truncated: true, pendingBytes: 22 });
    decoder.push(PING.subarray(22));
    expect(decoder.end()).toEqual({ truncated: false, pendingBytes: 0 });
    // Truncated inside an oversize body.
    const r = recorder();
    r.decoder.push(hex('0500 0200 64000000 00000000 00000000 eeee'));
    expect(r.decoder.end()).toEqual({ truncated: true, pendingBytes: 0 });
  });

  it('pause() inside frame() stops after that frame and retains the rest as views; resume() continues', () => {
    const chunk = new Uint8Array([...TOPO, ...ERR, ...PING, ...PING.subarray(0, 3)]);
    const { events, decoder } = recorder((d) => d.pause());
    decoder.push(chunk);
    expect(events).toHaveLength(1);
    expect(decoder.paused).toBe(true);
    expect(decoder.bufferedBytes).toBe(16 + 27 + 3);
    // Complete frames retained while paused are not "truncated"; the 3-byte tail is.
    expect(decoder.end()).toEqual({ truncated: true, pendingBytes: 46 });
    decoder.push(PING.subarray(3)); // retained, not parsed while paused
    expect(events).toHaveLength(1);
    expect(decoder.end()).toEqual({ truncated: false, pendingBytes: 16 + 27 + 27 });
    decoder.resume();
    expect(events).toHaveLength(2);
    expect(events[1]!.header!.msgId).toBe(9);
    decoder.resume();
    expect(events.map((e) => e.header!.msgId)).toEqual([0x0102, 9, 7]);
    expect(events[2]!.view!.buffer).toBe(chunk.buffer); // still a view after the pause
    decoder.resume();
    expect(events).toHaveLength(4);
    expect(events[3]!.payload).toBe('81a464617461c403010203');
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('pause() from outside a callback keeps chunks until resume()', () => {
    const { events, decoder } = recorder();
    decoder.pause();
    decoder.push(TOPO);
    decoder.push(PING);
    expect(events).toHaveLength(0);
    expect(decoder.bufferedBytes).toBe(17 + 27);
    decoder.resume();
    expect(events.map((e) => e.header!.msgId)).toEqual([0x0102, 7]);
  });

  it('rejects a nonsensical maxFrameSize', () => {
    expect(() => new FrameDecoder({ frame() {}, oversize() {}, fatal() {} }, { maxFrameSize: 8 })).toThrow(RangeError);
  });
});
