/**
 * Pass 1's inner loop (is every entry with permissions aligned and inside the cached range?) in
 * plain JS over a Uint32Array view of the received bytes, against WebAssembly SIMD (4 entries per
 * step, deinterleaved with i8x16.shuffle), which first has to copy the bytes into its linear
 * memory: V8 cannot point a WebAssembly memory at a socket's buffer. Same data, same cache, CPU
 * ns per entry, min of several rounds, for 64 KiB pieces (as the streamed path validates them)
 * and whole 512 KiB frames. The module is assembled here byte by byte (no toolchain needed).
 * Usage: node dist/test/bench/validate-wasm.js
 */

import { SimdScanner, scanJs } from '../../src/kvm/tce-scan.js';

// ---- the two loops on the same data ------------------------------------------------------------

const ALIGN = 0xfffc; // 64K pages
const C_HI = 0;
const C_FIRST = 0;
const C_SPAN = 0xffff_ffff; // the whole low 4 GiB, as the bench's one slot

const simd = SimdScanner.create();
if (simd === undefined) throw new Error('WebAssembly SIMD is not available in this Node');

function jsScan(words: Uint32Array, n: number): number {
  return scanJs(words, 0, n, ALIGN, C_HI, C_FIRST, C_SPAN);
}

/** The whole SIMD path: a new run (copied into linear memory) and its scan. */
function wasmScan(words: Uint32Array, n: number): number {
  simd!.begin(words);
  return simd!.scan(0, n, ALIGN, C_HI, C_FIRST, C_SPAN);
}

function cpuNs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}

function measure(label: string, entries: number, fn: () => number): number {
  for (let i = 0; i < 200; i++) fn();
  let best = Infinity;
  for (let round = 0; round < 9; round++) {
    const reps = Math.max(20, Math.floor(4e6 / entries));
    const t0 = cpuNs();
    for (let i = 0; i < reps; i++) fn();
    best = Math.min(best, (cpuNs() - t0) / (reps * entries));
  }
  console.log(`${label.padEnd(52)} ${best.toFixed(3).padStart(7)} ns/entry`);
  return best;
}

const out: Record<string, number> = {};
for (const entries of [8192, 65536]) {
  const bytes = new Uint8Array(entries * 8);
  const dv = new DataView(bytes.buffer);
  for (let i = 0; i < entries; i++) dv.setUint32(i * 8, ((i % 65536) << 16 | 3) >>> 0, true);
  const words = new Uint32Array(bytes.buffer);
  // Both agree, including on a flagged entry.
  if (jsScan(words, entries) !== entries || wasmScan(words, entries) !== entries) throw new Error('scan disagrees on valid data');
  dv.setUint32((entries - 3) * 8, 0x1233, true);
  if (jsScan(words, entries) !== entries - 3 || wasmScan(words, entries) !== entries - 3) throw new Error('scan disagrees on a bad entry');
  dv.setUint32((entries - 3) * 8, 0x30003, true);
  const label = entries === 8192 ? '64 KiB piece' : '512 KiB frame';
  out[`js-${entries}`] = measure(`JS loop over the received bytes, ${label}`, entries, () => jsScan(words, entries));
  out[`wasm-${entries}`] = measure(`Wasm SIMD incl. copy into its memory, ${label}`, entries, () => wasmScan(words, entries));
  simd.begin(words);
  simd.scan(0, entries, ALIGN, C_HI, C_FIRST, C_SPAN);
  out[`wasmNoCopy-${entries}`] = measure(`Wasm SIMD loop alone (block already copied), ${label}`, entries, () => simd.scan(0, entries, ALIGN, C_HI, C_FIRST, C_SPAN));
}
console.log(JSON.stringify({ validate: 'js-vs-wasm-simd', nsPerEntry: out }));
