/**
 * Dirty-page bitmaps of a type1 container (VFIO_IOMMU_DIRTY_PAGES GET_BITMAP, UNMAP_DMA
 * GET_DIRTY_BITMAP): one bit per smallest-IOMMU-page, every page of an IOMMU-mapped mapping set,
 * as update_user_bitmap does when a group cannot report dirty pages itself.
 */
import { fail } from '../wire/errno.js';
import { DIRTY_BITMAP_SIZE_MAX } from './type1-constants.js';
import type { Type1Dma } from './type1.js';

/** Most bytes of dirty bitmap one reply carries (vphb's frame limit, not the kernel's). */
export const DIRTY_BITMAP_REPLY_MAX = 16 << 20;

/** The bitmap of [iova, iova+size) at `pgsize` with the pages of `dmas` set. */
export function dirtyBitmapOf(dmas: readonly Type1Dma[], iova: bigint, size: bigint, pgsize: bigint, bitmapSize: bigint): Uint8Array {
  const shift = trailingZeros(pgsize);
  const bytes = dirtyBitmapBytes(size >> shift);
  if (bytes > BigInt(DIRTY_BITMAP_REPLY_MAX) || bytes > bitmapSize) {
    throw fail('EINVAL', `a ${bytes}-byte dirty bitmap exceeds ${bytes > bitmapSize ? `bitmap_size ${bitmapSize}` : `vphb's reply limit of ${DIRTY_BITMAP_REPLY_MAX} bytes`}`);
  }
  const out = new Uint8Array(Number(bytes));
  for (const d of dmas) {
    const from = Number((d.iova - iova) >> shift);
    const to = Math.min(from + Number(d.size >> shift), out.length * 8);
    let bit = from;
    for (; bit < to && (bit & 7) !== 0; bit++) out[bit >> 3]! |= 1 << (bit & 7);
    const whole = to & ~7;
    if (bit < whole) {
      out.fill(0xff, bit >> 3, whole >> 3);
      bit = whole;
    }
    for (; bit < to; bit++) out[bit >> 3]! |= 1 << (bit & 7);
  }
  return out;
}

export function trailingZeros(v: bigint): bigint {
  if (v === 0n) return 0n;
  let n = 0n;
  while (((v >> n) & 1n) === 0n) n++;
  return n;
}

/** DIRTY_BITMAP_BYTES: whole u64 words of one bit per page. */
function dirtyBitmapBytes(pages: bigint): bigint {
  return ((pages + 63n) / 64n) * 8n;
}

/** verify_bitmap_size. */
export function verifyBitmapSize(pages: bigint, bitmapSize: bigint): void {
  if (pages === 0n || bitmapSize === 0n || bitmapSize > DIRTY_BITMAP_SIZE_MAX || bitmapSize < dirtyBitmapBytes(pages)) {
    throw fail('EINVAL', `bitmap_size ${bitmapSize} does not fit ${pages} page(s) (needs ${dirtyBitmapBytes(pages)} bytes, at most ${DIRTY_BITMAP_SIZE_MAX})`);
  }
}
