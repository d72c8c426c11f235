/** The handle table: lowest free number first (against a linear-scan reference), EMFILE at the limit (issue 10 item 5). */
import { describe, expect, it } from 'vitest';
import { HandleTable } from '../../src/ops/handles.js';
import type { KernelFile } from '../../src/vfio/kernel-file.js';
import { errno } from '../helpers/errors.js';

class File implements KernelFile {
  readonly closeRank = 0;
  closed = 0;
  close(): void {
    this.closed++;
  }
}

describe('HandleTable', () => {
  it('hands out the lowest free number, as a linear scan would, over 20,000 random opens and closes', () => {
    const t = new HandleTable(100_000);
    const ref: boolean[] = [];
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const open: number[] = [];
    for (let step = 0; step < 20_000; step++) {
      if (open.length === 0 || rnd(3) !== 0) {
        let want = ref.indexOf(false);
        if (want < 0) want = ref.length;
        const fd = t.install(new File());
        expect(fd).toBe(want);
        ref[fd] = true;
        open.push(fd);
      } else {
        const fd = open.splice(rnd(open.length), 1)[0]!;
        t.close(fd);
        ref[fd] = false;
      }
      expect(t.size).toBe(open.length);
    }
  });

  it('EMFILE at the limit closes the object it could not install; a closed number is free again', () => {
    const t = new HandleTable(3);
    for (let i = 0; i < 3; i++) t.install(new File());
    const extra = new File();
    expect(errno(() => t.install(extra))).toBe('EMFILE');
    expect(extra.closed).toBe(1);
    t.close(1);
    expect(t.install(new File())).toBe(1);
    expect(errno(() => t.install(new File()))).toBe('EMFILE');
  });

  it('200,000 handles open and reuse without a linear scan', () => {
    const t = new HandleTable(1 << 20);
    for (let i = 0; i < 200_000; i++) t.install(new File());
    for (let i = 199_999; i >= 0; i -= 2) t.close(i);
    // The freed numbers come back lowest first.
    expect(t.install(new File())).toBe(1);
    expect(t.install(new File())).toBe(3);
    expect(t.size).toBe(100_002);
  });
});
