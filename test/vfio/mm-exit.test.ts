// A closed connection's mm takes everything still locked with it, back to the server-wide pool:
// the kernel drops locked_vm with the process, whatever it leaked (K4) or left pinned (K9).
import { describe, expect, it } from 'vitest';
import { Mm } from '../../src/vfio/locked-memory.js';
import { MemoryPool } from '../../src/vfio/memory-pool.js';
import { errno } from '../helpers/errors.js';

describe('Mm.exit', () => {
  it('returns every page still locked to the pool, so another client can lock it', () => {
    const pool = new MemoryPool(64n << 16n, 16); // 64 host pages server-wide
    const a = new Mm(null, 16, pool);
    a.charge(40, 'leaked table charge');
    const b = new Mm(null, 16, pool);
    expect(errno(() => b.charge(40, 'window'))).toBe('ENOMEM');
    expect(a.exit()).toBe(40);
    expect(a.lockedPages).toBe(0);
    expect(pool.lockedPages).toBe(0);
    b.charge(40, 'window');
    expect(pool.lockedPages).toBe(40);
  });
});
