/**
 * FrameDecoder streaming (BodySink): a sink that claims frames spanning chunks gets their bodies
 * as views of the received chunks, in order, then `end()` in place of `frame()`; everything else
 * is delivered as before, in stream order, whatever the chunking.
 */
import { describe, expect, it } from 'vitest';
import { FrameDecoder } from '../../src/wire/frame-decoder.js';
import { HEADER_SIZE, writeHeader } from '../../src/wire/header.js';
import { rng } from '../helpers/rng.js';

const STREAMED = 526;

function frame(msgId: number, command: number, body: Uint8Array): Uint8Array {
  const f = new Uint8Array(HEADER_SIZE + body.length);
  writeHeader(f, 0, { msgId, command, size: f.length, flags: 0, error: 0 });
  f.set(body, HEADER_SIZE);
  return f;
}

function recorder(opts: { pauseAfterEnd?: boolean } = {}) {
  const log: string[] = [];
  const chunks = new Set<ArrayBufferLike>();
  const decoder: FrameDecoder = new FrameDecoder(
    {
      frame: (h, p) => log.push(`frame ${h.msgId} ${h.command} ${Buffer.from(p).toString('hex')}`),
      oversize: (h) => log.push(`oversize ${h.msgId}`),
      fatal: (why) => log.push(`fatal ${why}`),
      stream: (h) => {
        if (h.command !== STREAMED) return undefined;
        const pieces: Uint8Array[] = [];
        return {
          data: (piece) => {
            expect(chunks.has(piece.buffer)).toBe(true); // a view of a pushed chunk, not a copy
            pieces.push(piece);
          },
          end: () => {
            log.push(`frame ${h.msgId} ${h.command} ${Buffer.concat(pieces).toString('hex')}`);
            log.push(`streamed ${h.msgId} in ${pieces.length}`);
            if (opts.pauseAfterEnd) decoder.pause();
          },
        };
      },
    },
    { maxFrameSize: 8192 },
  );
  const push = (c: Uint8Array) => {
    chunks.add(c.buffer);
    decoder.push(c);
  };
  return { log, decoder, push };
}

describe('FrameDecoder body streaming', () => {
  it('delivers every frame in order whatever the chunking; spanning frames of the claimed command stream', () => {
    const r = rng(5);
    let streamedFrames = 0;
    for (let round = 0; round < 40; round++) {
      const frames: Uint8Array[] = [];
      const want: string[] = [];
      for (let i = 0; i < 8; i++) {
        const command = r() < 0.5 ? STREAMED : 2;
        const body = Uint8Array.from({ length: Math.floor(r() * (r() < 0.2 ? 3000 : 300)) }, () => Math.floor(r() * 256));
        frames.push(frame(i, command, body));
        want.push(`frame ${i} ${command} ${Buffer.from(body).toString('hex')}`);
      }
      const stream = Buffer.concat(frames);
      const { log, push, decoder } = recorder();
      for (let at = 0; at < stream.length;) {
        const n = Math.min(stream.length - at, 1 + Math.floor(r() * 700));
        push(Uint8Array.from(stream.subarray(at, at + n))); // a buffer of its own, as a socket gives
        at += n;
      }
      expect(log.filter((l) => l.startsWith('frame'))).toEqual(want);
      streamedFrames += log.filter((l) => l.startsWith('streamed')).length;
      expect(decoder.end()).toEqual({ truncated: false, pendingBytes: 0 });
    }
    expect(streamedFrames).toBeGreaterThan(20);
  });

  it('a body inside one chunk is not streamed (one view, no sink)', () => {
    const { log, push } = recorder();
    push(frame(1, STREAMED, new Uint8Array(64).fill(7)));
    expect(log).toEqual([`frame 1 ${STREAMED} ${'07'.repeat(64)}`]);
  });

  it('counts streamed bytes as buffered and reports a close inside a streamed body as truncated', () => {
    const { log, push, decoder } = recorder();
    const f = frame(3, STREAMED, new Uint8Array(1000).fill(1));
    push(f.subarray(0, 100));
    push(f.subarray(100, 600));
    expect(decoder.bufferedBytes).toBe(600);
    expect(decoder.end()).toEqual({ truncated: true, pendingBytes: 600 });
    push(f.subarray(600));
    expect(log).toEqual([`frame 3 ${STREAMED} ${'01'.repeat(1000)}`, 'streamed 3 in 3']);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('a pause from inside end() holds the following frames until resume', () => {
    const { log, push, decoder } = recorder({ pauseAfterEnd: true });
    const a = frame(1, STREAMED, new Uint8Array(200).fill(2));
    const b = frame(2, 2, new Uint8Array([9]));
    const both = Buffer.concat([a, b]);
    push(Uint8Array.from(both.subarray(0, 50)));
    push(Uint8Array.from(both.subarray(50)));
    expect(log).toEqual([`frame 1 ${STREAMED} ${'02'.repeat(200)}`, 'streamed 1 in 2']);
    decoder.resume();
    expect(log.at(-1)).toBe('frame 2 2 09');
  });
});
