/**
 * Test helper: walks MessagePack bytes and throws unless they use only the interop subset
 * (nil, bool, int, float64, str, bin, array, map with str keys) and fill the buffer exactly.
 * Independent of msgpackr, so it can catch ext types or records msgpackr itself would accept.
 */
export function assertInteropSubset(bytes: Uint8Array): void {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = 0;
  const need = (n: number): void => {
    if (p + n > bytes.length) throw new Error(`truncated at ${p}`);
  };
  const u = (n: 1 | 2 | 4): number => {
    need(n);
    const x = n === 1 ? v.getUint8(p) : n === 2 ? v.getUint16(p) : v.getUint32(p);
    p += n;
    return x;
  };
  const skip = (n: number): void => {
    need(n);
    p += n;
  };
  const value = (mustBeStr: boolean): void => {
    const at = p;
    const t = u(1);
    const isStr = (t >= 0xa0 && t <= 0xbf) || t === 0xd9 || t === 0xda || t === 0xdb;
    if (mustBeStr && !isStr) throw new Error(`map key at ${at} is not a str (0x${t.toString(16)})`);
    if (t <= 0x7f || t >= 0xe0) return; // fixint
    if (t >= 0x80 && t <= 0x8f) return map(t & 0xf);
    if (t >= 0x90 && t <= 0x9f) return array(t & 0xf);
    if (t >= 0xa0 && t <= 0xbf) return skip(t & 0x1f);
    switch (t) {
      case 0xc0: case 0xc2: case 0xc3: return;
      case 0xc4: case 0xd9: return skip(u(1));
      case 0xc5: case 0xda: return skip(u(2));
      case 0xc6: case 0xdb: return skip(u(4));
      case 0xcb: return skip(8);
      case 0xcc: case 0xd0: return skip(1);
      case 0xcd: case 0xd1: return skip(2);
      case 0xce: case 0xd2: return skip(4);
      case 0xcf: case 0xd3: return skip(8);
      case 0xdc: return array(u(2));
      case 0xdd: return array(u(4));
      case 0xde: return map(u(2));
      case 0xdf: return map(u(4));
      default: throw new Error(`marker 0x${t.toString(16)} at ${at} is outside the interop subset`);
    }
  };
  const array = (n: number): void => {
    for (let i = 0; i < n; i++) value(false);
  };
  const map = (n: number): void => {
    for (let i = 0; i < n; i++) {
      value(true);
      value(false);
    }
  };
  value(false);
  if (p !== bytes.length) throw new Error(`${bytes.length - p} trailing bytes`);
}
