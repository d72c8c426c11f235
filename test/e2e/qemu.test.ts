/**
 * End to end: Debian's qemu-system-ppc64 (pseries, TCG, unmodified) with one vfio-pci device whose
 * /dev/vfio files are vphb's (libvphb-vfio.so), booting Debian's ppc64el kernel and a busybox
 * initramfs that loads nvme. Asserted from HOST_STATE, the preload library's call trace and the
 * guest console. Needs the packages of scripts/setup-e2e.sh; skips loudly without them.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../clients/ts/index.js';
import type { Replies } from '../../src/wire/ops.generated.js';
import { bootGuest, type Guest } from './guest.js';
import { announce, buildC, cToolchain, E2E_CACHE, qemuGuest, type Prereq } from './system.js';
import { big, readTrace } from './trace.js';
import { CLI, DEVICE_OPS, serverOps, startVphb, type VphbProc } from './vphb-proc.js';

const c = cToolchain();
const q = qemuGuest();
const prereq: Prereq = c.missing !== undefined ? c : q;
const run = announce('QEMU end-to-end suite (test/e2e/qemu.test.ts)', prereq);

const GiB = 1n << 30n;
const MiB = 1n << 20n;
const DDW_START = 1n << 59n;
const DEVICE = '0000:02:00.0'; // group 2 on phb0 (POWER9) of the default topology
const DDW_LINE = /ibm,create-pe-dma-window\(\d+\) .* returned 0 \(liobn = 0x[0-9a-f]+ starting addr = 8000000 0\)/;
const QEMU_FAILED = /hw_error|hardware error|Aborted|core dumped|Host doesn't support DMA window/i;

const dir = mkdtempSync(join(tmpdir(), 'vphb-e2e-'));
const running: Guest[] = [];
const servers: VphbProc[] = [];

async function server(config?: unknown): Promise<VphbProc> {
  const v = await startVphb(config === undefined ? {} : { config });
  servers.push(v);
  return v;
}

/** `vphb sysfs` as the README has the user run it; returns the sysfsdev of DEVICE. */
function sysfs(v: VphbProc, address = DEVICE): string {
  const out = join(v.dir, 'sysfs');
  const r = spawnSync(process.execPath, [CLI, 'sysfs', out, '-c', v.socket, '--device', address], { encoding: 'utf8', timeout: 30_000 });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const m = /sysfsdev=(\S+)/.exec(r.stdout);
  expect(m).not.toBeNull();
  return m![1]!;
}

function boot(opts: Parameters<typeof bootGuest>[0]): Guest {
  const g = bootGuest(opts);
  running.push(g);
  return g;
}

async function hostState(v: VphbProc): Promise<Replies['HOST_STATE']> {
  const client = await Client.connect(v.socket, { name: 'e2e' });
  try {
    return await client.hostState();
  } finally {
    await client.end();
  }
}

// The three guests boot concurrently (each QEMU is one TCG thread): the suite takes about as long
// as its longest case.
describe.runIf(run).concurrent('QEMU pseries + Linux guest + vphb nvme through libvphb-vfio.so', () => {
  let lacking: string[] = [];
  beforeAll(async () => {
    if (prereq.missing !== undefined) throw new Error(`missing ${prereq.missing}: ${prereq.install}`);
    const probe = await server();
    const ops = await serverOps(probe.socket);
    lacking = DEVICE_OPS.filter((o) => !ops.includes(o));
    if (lacking.length > 0) process.stderr.write(`\n${'!'.repeat(78)}\nQEMU e2e: SKIPPED: this vphb lacks the device ops QEMU needs (issue 7): ${lacking.join(', ')}\n${'!'.repeat(78)}\n\n`);
    buildC();
    // The test builds the initramfs from the cached Debian packages (no download; a no-op when current).
    const i = spawnSync('bash', ['scripts/e2e-initramfs.sh', E2E_CACHE], { encoding: 'utf8', timeout: 120_000 });
    if (i.status !== 0) throw new Error(`initramfs build failed:\n${i.stdout}${i.stderr}`);
  }, 240_000);
  afterAll(async () => {
    for (const g of running.splice(0)) await g.kill();
    for (const s of servers.splice(0)) await s.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('vphb killed while QEMU runs: the next VFIO call fails with EIO, QEMU does not hang; then a fresh vphb serves a new QEMU through ' +
    'the whole DDW case (windows at 0 and 2^59, 262,144 UNMAPs, 128 MAP_DMA of 16 MiB, EEH, nvme CC.EN with queues in the DDW, clean exit)', async (ctx) => {
    if (lacking.length > 0) ctx.skip();
    const v = await server();
    const guest = boot({ vfio: { sysfsdev: sysfs(v), socket: v.socket }, wait: 3 });
    await guest.waitFor(/PCI: Probing PCI hardware/, 240_000);
    await v.kill();
    // the guest's PCI probe keeps reading config space: QEMU reports each failed access with EIO
    await guest.waitFor(/(vfio_(pci_read_config|pci_write_config|region_read|region_write)\(.*failed|vfio_dma_unmap\(.*\)) .*Input\/output error|failed: Input\/output error/, 120_000);
    // and then it ends, never hangs: QEMU itself stops with hw_error when the guest's DMA window
    // cannot be created any more ("Failed to create a window, ret = -1 (Input/output error)")
    const exit = await Promise.race([guest.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 120_000))]);
    expect(exit).not.toBe('hung');
    expect(guest.output()).not.toMatch(/failed: (?!Input\/output error)[A-Z][a-z ]+/); // EIO, no other errno
    expect(guest.output()).not.toMatch(/Transport endpoint|Broken pipe/);

    // A fresh server on the same socket path (the stale socket file is replaced) serves a new
    // QEMU: the whole DDW case below runs against it.
    const fresh = await startVphb({ dir: v.dir, socket: v.socket });
    servers.push(fresh);
    await ddwCase(fresh);
  }, 900_000);

  /** DDW: windows, 262,144 UNMAPs, 128 MAP_DMA of 16 MiB at 2^59, EEH, nvme CC.EN with queues in the DDW; QEMU exits cleanly. */
  async function ddwCase(v: VphbProc): Promise<void> {
    const trace = join(dir, 'ddw.trace');
    const guest = boot({ vfio: { sysfsdev: sysfs(v), socket: v.socket, trace }, wait: 8 });
    await guest.waitFor(DDW_LINE, 300_000);
    // the guest maps all of its RAM into the new window right after creating it: watch it land
    let state = await hostState(v);
    const ddwMapped = (st: typeof state): number | undefined =>
      st.containers.flatMap((x) => x.windows).find((w) => w.start_addr === DDW_START)?.mapped;
    for (let i = 0; i < 600 && ddwMapped(state) !== 524_288 && guest.proc.exitCode === null; i++) {
      await new Promise((r) => setTimeout(r, 100));
      state = await hostState(v);
    }
    // what a user sees meanwhile: `vphb inspect` shows the guest's window and its mappings
    const inspect = spawnSync(process.execPath, [CLI, 'inspect', '-c', v.socket], { encoding: 'utf8', timeout: 30_000 });
    expect(inspect.status).toBe(0);
    expect(inspect.stdout).toMatch(/0x800000000000000\+2G p12 l2 mapped 524288/);
    const exit = await guest.exited;
    const consoleText = guest.output();
    expect(consoleText).not.toMatch(QEMU_FAILED);
    expect(exit).toEqual({ code: 0, signal: null });

    const t = readTrace(trace);
    const reg = t.filter((l) => l.op === 'REGISTER_MEMORY' && l.result === '0');
    expect(reg).toHaveLength(1);
    const ram = big(reg[0]!.args['vaddr']);
    expect(big(reg[0]!.args['size'])).toBe(2n * GiB);
    const creates = t.filter((l) => l.op === 'TCE_CREATE');
    expect(creates.map((l) => [l.args['page_shift'], big(l.args['window_size']), l.args['levels'], big(l.args['start_addr']), l.result]))
      .toEqual([['12', GiB, '2', 0n, '0'], ['12', 2n * GiB, '2', DDW_START, '0']]);
    const unmaps = t.filter((l) => l.op === 'UNMAP_DMA');
    expect(unmaps.filter((l) => l.result === '0' && big(l.args['size']) === 4096n && big(l.args['iova']) < GiB)).toHaveLength(262_144);
    expect(unmaps.filter((l) => l.result !== '0')).toEqual([]);
    const maps = t.filter((l) => l.op === 'MAP_DMA');
    const ddwMaps = maps.filter((l) => big(l.args['iova']) >= DDW_START);
    expect(ddwMaps).toHaveLength(128);
    ddwMaps.forEach((l, n) => {
      expect([l.args['flags'], big(l.args['iova']), big(l.args['size']), l.result]).toEqual(['3', DDW_START + BigInt(n) * 16n * MiB, 16n * MiB, '0']);
      expect(big(l.args['vaddr']) - ram).toBe(big(l.args['iova']) - DDW_START); // IOMMU_TRANSLATE(2^59 + x) = RAM base + x
    });
    expect(t.filter((l) => l.op === 'EEH_PE_OP' && l.args['op'] === '1' && l.result === '0').length).toBeGreaterThanOrEqual(1);
    // nvme: ASQ/ACQ programmed with addresses inside the DDW window, then CC.EN, and the model answered RDY
    // BAR0 writes, in order: 64-bit registers come as one 8-byte or two 4-byte writes
    const regs = new Map<number, bigint>();
    const seen: Array<Map<number, bigint>> = [];
    for (const l of t) {
      if (l.op !== 'PWRITE' || l.args['region'] !== '0' || l.result.startsWith('-')) continue;
      const off = Number(l.args['offset']), len = Number(l.args['len']), val = big(l.args['value']);
      if (len === 8) { regs.set(off, val & 0xffffffffn); regs.set(off + 4, val >> 32n); } else regs.set(off, val);
      if (off === 0x14) seen.push(new Map(regs)); // a CC write: the controller state at that moment
    }
    const reg64 = (m: Map<number, bigint>, off: number): bigint => ((m.get(off + 4) ?? 0n) << 32n) | (m.get(off) ?? 0n);
    const inDdw = (a: bigint): boolean => a >= DDW_START && a < DDW_START + 2n * GiB;
    const enable = seen.find((m) => ((m.get(0x14) ?? 0n) & 1n) === 1n);
    expect(enable).toBeDefined(); // CC.EN written...
    expect(inDdw(reg64(enable!, 0x28))).toBe(true); // ...with ASQ
    expect(inDdw(reg64(enable!, 0x30))).toBe(true); // and ACQ inside the DDW window
    // and the model saw it: CSTS.RDY read back as 1
    expect(t.some((l) => l.op === 'PREAD' && l.args['region'] === '0' && Number(l.args['offset']) === 0x1c && (big(l.args['value']) & 1n) === 1n)).toBe(true);
    expect(consoleText).toMatch(DDW_LINE);

    // HOST_STATE while QEMU ran: the container's two windows, the DDW fully mapped, EEH normal
    const cont = state.containers.filter((x) => x.groups.includes(2));
    expect(cont).toHaveLength(1);
    expect(cont[0]!.backend).toBe('spapr_tce_v2');
    const ddw = cont[0]!.windows.find((w) => w.start_addr === DDW_START);
    expect(ddw).toMatchObject({ page_shift: 12, window_size: 2n * GiB, levels: 2, mapped: 524_288 });
    expect(cont[0]!.windows.find((w) => w.start_addr === 0n)).toMatchObject({ page_shift: 12, window_size: GiB, levels: 2 });
    const pe = state.phbs[0]!.pes.find((p) => p.group === 2)!;
    expect(pe.eeh.state).toBe(0);
    expect(pe.holder).not.toBeNull();
    const qemuConn = state.connections.find((x) => x.name === 'libvphb-vfio')!;
    expect(qemuConn.prereg).toEqual([{ vaddr: ram, size: 2n * GiB }]);
  }

  it('disable_ddw: only 4 KiB MAP_DMA inside the 32-bit window', async (ctx) => {
    if (lacking.length > 0) ctx.skip();
    const v = await server();
    const trace = join(dir, 'noddw.trace');
    const guest = boot({ vfio: { sysfsdev: sysfs(v), socket: v.socket, trace }, wait: 6, append: 'disable_ddw' });
    await guest.waitFor(/nvme nvme\d/, 300_000);
    const exit = await guest.exited;
    expect(guest.output()).not.toMatch(QEMU_FAILED);
    expect(guest.output()).not.toMatch(/ibm,create-pe-dma-window/);
    expect(exit).toEqual({ code: 0, signal: null });
    const t = readTrace(trace);
    expect(t.filter((l) => l.op === 'TCE_CREATE').map((l) => big(l.args['start_addr']))).toEqual([0n]);
    const maps = t.filter((l) => l.op === 'MAP_DMA');
    expect(maps.length).toBeGreaterThan(0);
    for (const l of maps) {
      expect(big(l.args['size'])).toBe(4096n);
      expect(big(l.args['iova'])).toBeLessThan(GiB);
      expect(l.result).toBe('0');
    }
  }, 600_000);

  it('a PHB without DDW (POWER7 preset): QEMU falls back to a v1 container and the 32-bit window, and runs', async (ctx) => {
    if (lacking.length > 0) ctx.skip();
    const v = await server({ host_page_shift: 16, phbs: [{ name: 'p7', model: 'POWER7', pes: [{ pe: 2, group: 2, devices: [DEVICE] }] }] });
    const trace = join(dir, 'p7.trace');
    // QEMU's guest-visible DDW is its own PHB's feature, independent of the host: against a host
    // window it cannot create, QEMU 7.2 stops with hw_error, so the guest is told there is none.
    const guest = boot({ vfio: { sysfsdev: sysfs(v), socket: v.socket, trace }, wait: 3, qemuArgs: ['-global', 'spapr-pci-host-bridge.ddw=off'] });
    await guest.waitFor(/nvme nvme\d/, 300_000);
    const exit = await guest.exited;
    expect(guest.output()).not.toMatch(QEMU_FAILED);
    expect(exit).toEqual({ code: 0, signal: null });
    const t = readTrace(trace);
    expect(t.filter((l) => l.op === 'SET_IOMMU').map((l) => [l.args['0'], l.result])).toEqual([['7', '-Invalid argument'], ['2', '0']]);
    expect(t.filter((l) => l.op === 'TCE_CREATE')).toEqual([]);
    const maps = t.filter((l) => l.op === 'MAP_DMA');
    expect(maps.length).toBeGreaterThan(0);
    for (const l of maps) expect([big(l.args['size']), big(l.args['iova']) < GiB, l.result]).toEqual([4096n, true, '0']);
    expect(t.filter((l) => l.op === 'UNMAP_DMA' && l.result !== '0')).toEqual([]);
  }, 600_000);
});
