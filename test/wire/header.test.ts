import { describe, expect, it } from 'vitest';
import {
  FLAG_ERROR, FLAG_NO_REPLY, HEADER_SIZE, TYPE_COMMAND, TYPE_MASK, TYPE_REPLY,
  encodeFrame, isReply, readHeader, writeHeader,
} from '../../src/wire/header.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('frame header', () => {
  it('has the vfio-user flag layout', () => {
    expect(HEADER_SIZE).toBe(16);
    expect([TYPE_MASK, TYPE_COMMAND, TYPE_REPLY, FLAG_NO_REPLY, FLAG_ERROR]).toEqual([0xf, 0, 1, 0x10, 0x20]);
  });

  it('reads every field little-endian, at an offset', () => {
    const b = hex('ffff  3412 0d02 11223344 21000000 47000000');
    expect(readHeader(b, 2)).toEqual({ msgId: 0x1234, command: 0x020d, size: 0x44332211, flags: 0x21, error: 71 });
  });

  it('reads u32 fields with the top bit set as unsigned', () => {
    expect(readHeader(hex('ffff ffff ffffffff ffffffff ffffffff'))).toEqual({
      msgId: 0xffff, command: 0xffff, size: 0xffff_ffff, flags: 0xffff_ffff, error: 0xffff_ffff,
    });
  });

  it('writes the exact bytes and round-trips', () => {
    const b = new Uint8Array(20);
    const h = { msgId: 0xfffe, command: 526, size: 0x1_0030, flags: TYPE_REPLY | FLAG_ERROR, error: 22 };
    writeHeader(b, 4, h);
    expect(Buffer.from(b).toString('hex')).toBe('00000000' + 'feff0e02300001002100000016000000');
    expect(readHeader(b, 4)).toEqual(h);
  });

  it('encodeFrame puts size = header + payload in front of the payload', () => {
    const f = encodeFrame({ msgId: 1, command: 2, flags: FLAG_NO_REPLY, error: 0 }, hex('80'));
    expect(f.toString('hex')).toBe('0100020011000000100000000000000080');
    expect(encodeFrame({ msgId: 3, command: 4, flags: TYPE_REPLY, error: 0 }, undefined).toString('hex'))
      .toBe('03000400100000000100000000000000');
  });

  it('isReply looks at the type bits only', () => {
    expect(isReply(TYPE_REPLY)).toBe(true);
    expect(isReply(TYPE_REPLY | FLAG_ERROR | FLAG_NO_REPLY)).toBe(true);
    expect(isReply(TYPE_COMMAND | FLAG_ERROR)).toBe(false);
    expect(isReply(0x2)).toBe(false);
  });
});
