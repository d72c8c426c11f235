/**
 * Pass 1's scan (tce-batch.ts): the first entry of a run that needs more than the cached range to
 * be admitted, i.e. has permission bits and is misaligned to the table page, has another high
 * word than the cached range, or lies outside it. `scanJs` is the specification; `SimdScanner`
 * does the same with WebAssembly SIMD, 4 entries per step (measured about twice as fast here, the
 * copy into its linear memory included: test/bench/validate-wasm.ts; V8 cannot map a WebAssembly
 * memory onto a received buffer, so each block of the run is copied in once). A property test
 * compares the two on random runs. Where WebAssembly SIMD is not available, scanJs is used.
 *
 * The module is assembled below byte by byte (one function; no toolchain needed to build it).
 * Pure computation: no I/O.
 */

/** The first index in [from, end) whose entry needs the slow path, or `end` (the specification). */
export function scanJs(words: Uint32Array, from: number, end: number, alignMask: number, cHi: number, cFirst: number, cSpan: number): number {
  for (let e = from; e < end; e++) {
    const lo = words[2 * e]!;
    if ((lo & 3) === 0) continue; // no permissions: stored as is, never checked
    if ((lo & alignMask) !== 0 || words[2 * e + 1] !== cHi || ((lo - cFirst) >>> 0) > cSpan) return e;
  }
  return end;
}


const SIMD = 0xfd;
const leb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
};
const sleb = (n: number): number[] => {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
};
const simd = (op: number) => [SIMD, ...leb(op)];
const get = (i: number) => [0x20, i];
const set = (i: number) => [0x21, i];
const i32c = (v: number) => [0x41, ...sleb(v)];
const V128_LOAD = (offset: number) => [...simd(0x00), 4, ...leb(offset)];
const SHUFFLE = (lanes: number[]) => [...simd(0x0d), ...lanes];
const V128_ZERO = [...simd(0x0c), ...new Array<number>(16).fill(0)];
const SPLAT = simd(0x11);
const AND = simd(0x4e);
const OR = simd(0x50);
const NE = simd(0x38);
const GT_U = simd(0x3c);
const SUB = simd(0xb1);
const ANY = simd(0x53);

// params: 0 ptr, 1 n, 2 alignMask, 3 cHi, 4 cFirst, 5 cSpan; locals: 6 i, 7 p, 8..16 v128, 17 lo, 18 hi
const body = [
  ...i32c(3), ...SPLAT, ...set(8),
  ...get(2), ...SPLAT, ...set(9),
  ...get(3), ...SPLAT, ...set(10),
  ...get(4), ...SPLAT, ...set(11),
  ...get(5), ...SPLAT, ...set(12),
  0x02, 0x40, 0x03, 0x40, // block, loop
  ...get(6), ...i32c(4), 0x6a, ...get(1), 0x4b, 0x0d, 1, // i + 4 > n → out
  ...get(0), ...get(6), ...i32c(3), 0x74, 0x6a, ...set(7),
  ...get(7), ...V128_LOAD(0), ...set(15),
  ...get(7), ...V128_LOAD(16), ...set(16),
  ...get(15), ...get(16), ...SHUFFLE([0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27]), ...set(13),
  ...get(15), ...get(16), ...SHUFFLE([4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31]), ...set(14),
  ...get(13), ...get(8), ...AND, ...V128_ZERO, ...NE, // needs checking (has permissions)
  ...get(13), ...get(9), ...AND, ...V128_ZERO, ...NE, // misaligned
  ...get(14), ...get(10), ...NE, ...OR, // other high word
  ...get(13), ...get(11), ...SUB, ...get(12), ...GT_U, ...OR, // outside the range
  ...AND, ...ANY, 0x0d, 1, // a lane needs the slow path → scalar from i
  ...get(6), ...i32c(4), 0x6a, ...set(6), 0x0c, 0, // i += 4, loop
  0x0b, 0x0b,
  0x02, 0x40, 0x03, 0x40, // scalar: first flagged entry from i
  ...get(6), ...get(1), 0x4f, 0x0d, 1,
  ...get(0), ...get(6), ...i32c(3), 0x74, 0x6a, ...set(7),
  ...get(7), 0x28, 2, 0, ...set(17),
  ...get(7), 0x28, 2, 4, ...set(18),
  ...get(17), ...i32c(3), 0x71, 0x04, 0x40,
  ...get(17), ...get(2), 0x71, ...get(18), ...get(3), 0x47, 0x72, ...get(17), ...get(4), 0x6b, ...get(5), 0x4b, 0x72,
  0x04, 0x40, ...get(6), 0x0f, 0x0b,
  0x0b,
  ...get(6), ...i32c(1), 0x6a, ...set(6), 0x0c, 0,
  0x0b, 0x0b,
  ...get(1),
  0x0b,
];
const locals = [3, 2, 0x7f, 9, 0x7b, 2, 0x7f];
const func = [...leb(locals.length + body.length), ...locals, ...body];
const section = (id: number, content: number[]) => [id, ...leb(content.length), ...content];
const name = (s: string) => [...leb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
const wasm = Uint8Array.from([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  ...section(1, [1, 0x60, 6, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 1, 0x7f]),
  ...section(3, [1, 0]),
  ...section(5, [1, 0, 16]), // 16 pages = 1 MiB
  ...section(7, [2, ...name('scan'), 0, 0, ...name('mem'), 2, 0]),
  ...section(10, [1, ...func]),
]);



/** The little of the WebAssembly JS API used here (the project's lib settings do not declare it). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
}

type WasmScan = (ptr: number, n: number, alignMask: number, cHi: number, cFirst: number, cSpan: number) => number;

/** Entries copied into linear memory at a time (the module's 1 MiB holds 131072). */
const BLOCK = 65536;

function instantiate(): { scan: WasmScan; mem: Uint32Array } | undefined {
  try {
    const api = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
    if (api === undefined) return undefined;
    const instance = new api.Instance(new api.Module(wasm));
    const mem = new Uint32Array((instance.exports.mem as { buffer: ArrayBuffer }).buffer);
    return { scan: instance.exports.scan as WasmScan, mem };
  } catch {
    return undefined; // no WebAssembly SIMD here
  }
}

/**
 * scanJs with WebAssembly SIMD over one run at a time: `begin(words)` starts a run, `scan` then
 * answers as scanJs for that run, copying each block of it into linear memory once.
 */
export class SimdScanner {
  readonly #scan: WasmScan;
  readonly #mem: Uint32Array;
  #words: Uint32Array | undefined;
  /** The run's entries [#base, #base + #len) are in linear memory from byte 0. */
  #base = 0;
  #len = 0;

  private constructor(w: { scan: WasmScan; mem: Uint32Array }) {
    this.#scan = w.scan;
    this.#mem = w.mem;
  }

  /** A scanner, or undefined where WebAssembly SIMD is not available. */
  static create(): SimdScanner | undefined {
    const w = instantiate();
    return w === undefined ? undefined : new SimdScanner(w);
  }

  begin(words: Uint32Array): void {
    this.#words = words;
    this.#len = 0;
  }

  scan(from: number, end: number, alignMask: number, cHi: number, cFirst: number, cSpan: number): number {
    const words = this.#words!;
    while (from < end) {
      if (from < this.#base || from >= this.#base + this.#len) {
        this.#len = Math.min(BLOCK, end - from);
        this.#base = from;
        this.#mem.set(words.subarray(2 * from, 2 * (from + this.#len)));
      }
      const stop = this.#base + this.#len;
      const j = this.#scan((from - this.#base) * 8, stop - from, alignMask, cHi, cFirst, cSpan);
      if (j < stop - from) return from + j;
      from = stop;
    }
    return end;
  }
}
