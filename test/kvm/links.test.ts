import { describe, expect, it } from 'vitest';
import { errno as code } from '../helpers/errors.js';
import { H_SUCCESS, H_TOO_HARD, KVM_CAP_PPC_ENABLE_HCALL } from '../../src/kvm/constants.js';
import { hGetTce, hPutTce, hPutTceIndirect, hStuffTce, tcePutBatch } from '../../src/kvm/hcalls.js';
import { Vm } from '../../src/kvm/vm.js';
import { FakeGroup, FakeMm, FakeWindow, bytesOf, linkFakeWindow, type Range } from './fakes.js';

const LIOBN = 0x8000_0001n;
const MiB = 1 << 20;
const UA = 0x7fff_0000_0000;
const BUS = 1n << 59n;

/** A VM with 64 MiB of RAM at gpa 0 (ua UA) and a VFIO v2-like container with one window at 1<<59. */
function setup(o: { sttShift?: number; hwShift?: number; entries?: bigint; prereg?: Range[] } = {}) {
  const sttShift = o.sttShift ?? 16;
  const hwShift = o.hwShift ?? 12;
  const entries = o.entries ?? 0x400n;
  const mm = new FakeMm();
  const vm = new Vm(1, 16, mm);
  vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: 0n, memorySize: BigInt(64 * MiB), userspaceAddr: BigInt(UA) });
  vm.enableCap(KVM_CAP_PPC_ENABLE_HCALL, 0, [0x13cn, 1n]);
  vm.enableCap(KVM_CAP_PPC_ENABLE_HCALL, 0, [0x138n, 1n]);
  const table = vm.createSpaprTce64({ liobn: LIOBN, pageShift: sttShift, flags: 0, offset: BUS >> BigInt(sttShift), size: entries });
  const prereg = o.prereg ?? [{ ua: UA, size: 64 * MiB, mapped: 0 }];
  const { window, container, group, device } = linkFakeWindow(vm, table, prereg, hwShift, BUS, 1n << 40n);
  const baseline = () => mm.locked;
  return { mm, vm, table, window, container, group, device, prereg, sttShift, hwShift, baseline };
}

const ioba = (i: number, shift: number) => BUS + (BigInt(i) << BigInt(shift));

describe('KVM_DEV_VFIO_FILE attributes', () => {
  it('ADD/DEL: EEXIST, ENOENT, references', () => {
    const { device, group } = setup();
    expect(group.refs).toBe(2);
    expect(code(() => device.addGroup(group))).toBe('EEXIST');
    device.delGroup(group.identity);
    expect(group.refs).toBe(1);
    expect(code(() => device.delGroup(group.identity))).toBe('ENOENT');
  });

  it('SET_SPAPR_TCE: ENOENT, then EINVAL table, then EINVAL window', () => {
    const s = setup();
    const other = new FakeGroup(s.container);
    expect(code(() => s.device.setSpaprTce(other.identity, s.table))).toBe('ENOENT');
    s.device.addGroup(other);
    expect(code(() => s.device.setSpaprTce(other.identity, undefined))).toBe('EINVAL');
    const vm2 = new Vm(0, 16, new FakeMm());
    const foreign = vm2.createSpaprTce64({ liobn: LIOBN, pageShift: 16, flags: 0, offset: BUS >> 16n, size: 16n });
    expect(code(() => s.device.setSpaprTce(other.identity, foreign))).toBe('EINVAL');
    // bus start differs
    const t2 = s.vm.createSpaprTce64({ liobn: 2n, pageShift: 16, flags: 0, offset: 0n, size: 16n });
    expect(code(() => s.device.setSpaprTce(other.identity, t2))).toBe('EINVAL');
    // hardware page larger than the guest page
    const t3 = s.vm.createSpaprTce64({ liobn: 3n, pageShift: 12, flags: 0, offset: BUS >> 12n, size: 16n });
    s.container.windows[0] = new FakeWindow(s.prereg, 16, BUS, 1n << 40n);
    expect(code(() => s.device.setSpaprTce(other.identity, t3))).toBe('EINVAL');
    // hardware window smaller than the guest window
    s.container.windows[0] = new FakeWindow(s.prereg, 12, BUS, 1n << 20n);
    expect(code(() => s.device.setSpaprTce(other.identity, s.table))).toBe('EINVAL');
    // a group without a container has no window
    const lonely = new FakeGroup();
    s.device.addGroup(lonely);
    expect(code(() => s.device.setSpaprTce(lonely.identity, s.table))).toBe('EINVAL');
    // a closed table is not a table of this VM any more
    t2.close();
    expect(code(() => s.device.setSpaprTce(other.identity, t2))).toBe('EINVAL');
  });

  it('linking twice is a no-op', () => {
    const s = setup();
    s.device.setSpaprTce(s.group.identity, s.table);
    expect(s.table.linkCount).toBe(1);
  });
});

describe('propagation to the hardware table', () => {
  it('one guest TCE = 2^Δshift hardware TCEs; W-only becomes R|W; clear clears', () => {
    const s = setup(); // 64K guest pages over 4K hardware pages: 16 sub-entries
    expect(hPutTce(s.vm, LIOBN, ioba(3, 16), 0x20000n | 2n)).toBe(H_SUCCESS);
    for (let k = 0; k < 16; k++) expect(s.window.table.get(3 * 16 + k)).toBe(BigInt(UA + 0x20000 + k * 0x1000) | 3n);
    expect(s.window.table.get(4 * 16)).toBe(0n);
    expect(s.prereg[0]!.mapped).toBe(16);
    expect(hGetTce(s.vm, LIOBN, ioba(3, 16)).tce).toBe(0x20002n); // guest view keeps the guest's value
    expect(hPutTce(s.vm, LIOBN, ioba(3, 16), 0x30000n | 1n)).toBe(H_SUCCESS);
    expect(s.window.table.get(3 * 16 + 15)).toBe(BigInt(UA + 0x3f000) | 1n);
    expect(s.prereg[0]!.mapped).toBe(16);
    expect(hPutTce(s.vm, LIOBN, ioba(3, 16), 0xabc0000n)).toBe(H_SUCCESS); // poison clears hardware
    for (let k = 0; k < 16; k++) expect(s.window.table.get(3 * 16 + k)).toBe(0n);
    expect(s.prereg[0]!.mapped).toBe(0);
    expect(hGetTce(s.vm, LIOBN, ioba(3, 16)).tce).toBe(0xabc0000n);
  });

  it('memory not preregistered: H_TOO_HARD, nothing written', () => {
    const s = setup({ prereg: [{ ua: UA, size: MiB, mapped: 0 }] });
    expect(hPutTce(s.vm, LIOBN, ioba(0, 16), BigInt(2 * MiB) | 3n)).toBe(H_TOO_HARD);
    expect(hGetTce(s.vm, LIOBN, ioba(0, 16)).tce).toBe(0n);
    expect(s.window.table.get(0)).toBe(0n);
    const r = hPutTceIndirect(s.vm, LIOBN, ioba(0, 16), 0x1000n, [0x10003n, BigInt(2 * MiB) | 3n]);
    expect(r).toEqual({ ret: H_TOO_HARD, written: 0 });
    expect(s.window.table.get(16)).toBe(0n);
  });

  it('INDIRECT pass-2 failure keeps entries 0..i-1, clears entry i in hardware', () => {
    // 16 MiB guest pages over 64 KiB hardware pages; RAM fully in a memslot, but the third page's
    // preregistration covers only its first 64 KiB: pass 1 (first hardware page) accepts it,
    // pass 2 fails at its second sub-page.
    const s = setup({
      sttShift: 24, hwShift: 16, entries: 4n,
      prereg: [{ ua: UA, size: 32 * MiB, mapped: 0 }, { ua: UA + 32 * MiB, size: 0x10000, mapped: 0 }],
    });
    hPutTce(s.vm, LIOBN, ioba(2, 24), 0x3n | 0n); // gpa 0 into entry 2 beforehand
    expect(s.window.table.get(2 * 256)).toBe(BigInt(UA) | 3n);
    const r = hPutTceIndirect(s.vm, LIOBN, ioba(0, 24), 0x1000n, [
      BigInt(16 * MiB) | 1n, 0n | 2n, BigInt(32 * MiB) | 3n, BigInt(16 * MiB) | 3n,
    ]);
    expect(r).toEqual({ ret: H_TOO_HARD, written: 2 });
    expect(hGetTce(s.vm, LIOBN, ioba(0, 24)).tce).toBe(BigInt(16 * MiB) | 1n);
    expect(hGetTce(s.vm, LIOBN, ioba(1, 24)).tce).toBe(2n);
    expect(hGetTce(s.vm, LIOBN, ioba(2, 24)).tce).toBe(3n); // guest view keeps the old entry
    expect(hGetTce(s.vm, LIOBN, ioba(3, 24)).tce).toBe(0n);
    expect(s.window.table.get(0)).toBe(BigInt(UA + 16 * MiB) | 1n);
    expect(s.window.table.get(256 + 255)).toBe(BigInt(UA + 255 * 0x10000) | 3n);
    for (const k of [0, 1, 255]) expect(s.window.table.get(2 * 256 + k)).toBe(0n); // entry 2 cleared
    expect(s.window.table.get(3 * 256)).toBe(0n);
    expect(s.prereg[0]!.mapped).toBe(512);
    expect(s.prereg[1]!.mapped).toBe(0);
  });

  it('STUFF clears the linked hardware entries', () => {
    const s = setup();
    hPutTceIndirect(s.vm, LIOBN, ioba(0, 16), 0x1000n, [0x10003n, 0x20003n, 0x30003n]);
    expect(s.prereg[0]!.mapped).toBe(48);
    expect(hStuffTce(s.vm, LIOBN, ioba(1, 16), 0n, 2n)).toBe(H_SUCCESS);
    expect(s.window.table.get(0)).toBe(BigInt(UA + 0x10000) | 3n);
    expect(s.window.table.get(16)).toBe(0n);
    expect(s.prereg[0]!.mapped).toBe(16);
  });

  it('a batch equals the same entries put one by one (guest view and hardware)', () => {
    const a = setup({ entries: 0x1000n });
    const b = setup({ entries: 0x1000n });
    const tces = Array.from({ length: 0xc00 }, (_, i) =>
      i % 11 === 0 ? 0n : i % 13 === 0 ? 0x123450000n : (BigInt((i * 7) % 1000) << 16n) | BigInt(1 + (i % 3)));
    expect(tcePutBatch(a.vm, LIOBN, ioba(0x100, 16), bytesOf(tces), 0, tces.length)).toEqual({ ret: H_SUCCESS, written: tces.length });
    tces.forEach((t, i) => expect(hPutTce(b.vm, LIOBN, ioba(0x100 + i, 16), t)).toBe(H_SUCCESS));
    const read = (s: ReturnType<typeof setup>) => {
      const g = new Uint8Array(0x1000 * 8);
      s.table.readLE(0, 0x1000, g, 0);
      const h = new Uint8Array(0x1000 * 16 * 8);
      s.window.table.readLE(0, 0x1000 * 16, h, 0);
      return [g, h] as const;
    };
    const [ga, ha] = read(a);
    const [gb, hb] = read(b);
    expect(Buffer.compare(ga, gb)).toBe(0);
    expect(Buffer.compare(ha, hb)).toBe(0);
    expect(a.prereg[0]!.mapped).toBe(b.prereg[0]!.mapped);
  });

  it('same page size, user address below the guest address, unaligned source: same as one by one', () => {
    const mk = () => {
      const mm = new FakeMm();
      const vm = new Vm(1, 16, mm);
      // gpa 0x1_0000_0000.. backed by ua 0x8000_0000..: ua - gpa is negative
      vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: 1n << 32n, memorySize: BigInt(64 * MiB), userspaceAddr: 0x8000_0000n });
      const table = vm.createSpaprTce64({ liobn: LIOBN, pageShift: 16, flags: 0, offset: BUS >> 16n, size: 0x800n });
      const prereg = [{ ua: 0x8000_0000, size: 64 * MiB, mapped: 0 }];
      const { window } = linkFakeWindow(vm, table, prereg, 16, BUS, 1n << 32n);
      return { vm, table, window, prereg };
    };
    const a = mk();
    const b = mk();
    const tces = Array.from({ length: 0x600 }, (_, i) => (i % 5 === 0 ? 0n : ((1n << 32n) + (BigInt(i % 1000) << 16n)) | BigInt(1 + (i % 3))));
    const src = new Uint8Array(tces.length * 8 + 1);
    src.set(bytesOf(tces), 1);
    expect(tcePutBatch(a.vm, LIOBN, ioba(0x100, 16), src, 1, tces.length)).toEqual({ ret: H_SUCCESS, written: tces.length });
    tces.forEach((t, i) => expect(hPutTce(b.vm, LIOBN, ioba(0x100 + i, 16), t)).toBe(H_SUCCESS));
    expect(a.window.table.get(0x101)).toBe(BigInt(0x8000_0000 + 0x10000) | 3n); // W-only upgraded
    expect(a.window.table.get(0x100 + 3)).toBe(BigInt(0x8000_0000 + 0x30000) | 1n);
    for (const s of [a, b]) expect(s.prereg[0]!.mapped).toBe(tces.filter((t) => t !== 0n).length);
    const dump = (t: { readLE(i: number, n: number, d: Uint8Array, o: number): void }, n: number) => {
      const d = new Uint8Array(n * 8);
      t.readLE(0, n, d, 0);
      return d;
    };
    expect(Buffer.compare(dump(a.table, 0x800), dump(b.table, 0x800))).toBe(0);
    expect(Buffer.compare(dump(a.window.table, 0x800), dump(b.window.table, 0x800))).toBe(0);
  });

  it('two groups of one container write the shared window once', () => {
    const s = setup();
    const g2 = new FakeGroup(s.container);
    s.device.addGroup(g2);
    s.device.setSpaprTce(g2.identity, s.table);
    expect(s.table.linkCount).toBe(2);
    expect(hPutTce(s.vm, LIOBN, ioba(0, 16), 0x10003n)).toBe(H_SUCCESS);
    expect(s.prereg[0]!.mapped).toBe(16);
    s.device.delGroup(s.group.identity); // the other link still writes
    expect(hPutTce(s.vm, LIOBN, ioba(1, 16), 0x10003n)).toBe(H_SUCCESS);
    expect(s.window.table.get(16)).toBe(BigInt(UA + 0x10000) | 3n);
  });

  it('two containers: both written; a failure in one clears the entry in both', () => {
    const s = setup({ entries: 4n });
    const smallPrereg: Range[] = [{ ua: UA, size: 0x20000, mapped: 0 }];
    const w2 = new FakeWindow(smallPrereg, 16, BUS, 1n << 30n);
    const g2 = new FakeGroup({ windows: [w2] });
    s.device.addGroup(g2);
    s.device.setSpaprTce(g2.identity, s.table);
    const r = tcePutBatch(s.vm, LIOBN, ioba(0, 16), bytesOf([0x10003n, 0x10001n]), 0, 2);
    expect(r).toEqual({ ret: H_SUCCESS, written: 2 });
    expect(w2.table.get(1)).toBe(BigInt(UA + 0x10000) | 1n);
    expect(s.window.table.get(16)).toBe(BigInt(UA + 0x10000) | 1n);
    // gpa 0x20000 is preregistered for the first container only: pass 1 rejects, nothing written
    expect(tcePutBatch(s.vm, LIOBN, ioba(2, 16), bytesOf([0x20003n]), 0, 1).ret).toBe(H_TOO_HARD);
    expect(s.window.table.get(32)).toBe(0n);
  });
});

describe('teardown in every order', () => {
  const mapped = (s: ReturnType<typeof setup>) => s.prereg.reduce((n, r) => n + r.mapped, 0);

  it('table fd closed first: LIOBN gone, accounting refunded, hardware left to VFIO', () => {
    const s = setup();
    hPutTce(s.vm, LIOBN, ioba(0, 16), 0x10003n);
    s.table.close();
    expect(s.mm.locked).toBe(0);
    expect(hPutTce(s.vm, LIOBN, ioba(0, 16), 0x10003n)).toBe(H_TOO_HARD);
    expect(s.window.table.get(0)).toBe(BigInt(UA + 0x10000) | 3n);
    s.device.delGroup(s.group.identity);
    expect(s.group.refs).toBe(1);
    s.window.remove();
    expect(mapped(s)).toBe(0);
  });

  it('group DEL first: link dropped, later hcalls write the guest view only', () => {
    const s = setup();
    s.device.delGroup(s.group.identity);
    expect(s.table.linkCount).toBe(0);
    expect(hPutTce(s.vm, LIOBN, ioba(0, 16), BigInt(60 * MiB) | 3n)).toBe(H_SUCCESS); // no prereg needed now
    expect(s.window.table.get(0)).toBe(0n);
    s.table.close();
    s.device.close();
    s.vm.close();
    expect(s.mm.locked).toBe(0);
    expect(s.vm.alive).toBe(false);
  });

  it('group fd closed while KVM holds it: the group stays, the link works until DEL', () => {
    const s = setup();
    s.group.refs--; // the VMM closes its group fd
    expect(s.group.refs).toBe(1);
    expect(hPutTce(s.vm, LIOBN, ioba(0, 16), 0x10003n)).toBe(H_SUCCESS);
    expect(s.window.table.get(0)).toBe(BigInt(UA + 0x10000) | 3n);
    s.device.delGroup(s.group.identity);
    expect(s.group.refs).toBe(0);
  });

  it('group unset from its container: link dropped before the next write', () => {
    const s = setup();
    s.group.container = undefined;
    expect(hPutTce(s.vm, LIOBN, ioba(0, 16), 0x10003n)).toBe(H_SUCCESS);
    expect(s.table.linkCount).toBe(0);
    expect(s.window.table.get(0)).toBe(0n);
  });

  it('window removed while linked: the freed table is never touched, a new window is not linked', () => {
    const s = setup();
    hPutTce(s.vm, LIOBN, ioba(0, 16), 0x10003n);
    s.window.remove();
    s.window.table.free(); // any later touch would throw
    const fresh = new FakeWindow(s.prereg, 12, BUS, 1n << 40n);
    s.container.windows[0] = fresh;
    expect(hPutTce(s.vm, LIOBN, ioba(1, 16), 0x10003n)).toBe(H_SUCCESS);
    expect(hStuffTce(s.vm, LIOBN, ioba(0, 16), 0n, 4n)).toBe(H_SUCCESS);
    expect(tcePutBatch(s.vm, LIOBN, ioba(0, 16), bytesOf([0x10003n]), 0, 1).ret).toBe(H_SUCCESS);
    expect(s.table.linkCount).toBe(0);
    expect(fresh.table.get(16)).toBe(0n);
    expect(mapped(s)).toBe(0);
    s.device.setSpaprTce(s.group.identity, s.table); // relink to the new window
    expect(hPutTce(s.vm, LIOBN, ioba(1, 16), 0x10003n)).toBe(H_SUCCESS);
    expect(fresh.table.get(16)).toBe(BigInt(UA + 0x10000) | 3n);
  });

  it('VM closed first: tables and device keep it; closing them releases everything', () => {
    const s = setup();
    hPutTce(s.vm, LIOBN, ioba(0, 16), 0x10003n);
    s.vm.close();
    expect(s.vm.alive).toBe(true);
    s.device.close();
    expect(s.group.refs).toBe(1);
    expect(s.table.linkCount).toBe(0);
    s.table.close();
    expect(s.vm.alive).toBe(false);
    expect(s.mm.locked).toBe(0);
  });

  it('device closed: references dropped, links gone, a new device may be created', () => {
    const s = setup();
    s.device.close();
    expect(s.group.refs).toBe(1);
    expect(s.table.linkCount).toBe(0);
    expect(s.vm.createDevice(4, 0)).toBeDefined();
  });
});
