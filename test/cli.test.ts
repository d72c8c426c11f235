/** The built `vphb` command and the examples, run as a user would (needs `npm run build`). */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServe } from './cli/helpers.js';

const CLI = 'dist/src/cli.js';
const dir = mkdtempSync(join(tmpdir(), 'vphb-cli-'));
const socket = join(dir, 'vphb.sock');
let server: ChildProcess;
let banner = '';

function vphb(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} missing: run npm run build first (npm test does)`);
  const served = await startServe(['--socket', socket, '--log-level', 'warn']);
  server = served.proc;
  banner = served.banner;
});

afterAll(() => {
  server.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('vphb CLI', () => {
  it('serve says where it listens and what it emulates', () => {
    expect(banner).toContain(`vphb: listening on unix:${socket}`);
    expect(banner).toMatch(/emulating phb0 \(spapr POWER9, 4 groups\), phb1 \(spapr POWER8, 2 groups\)/);
  });

  it('ping prints the server version and round-trip times', () => {
    const r = vphb('ping', '-c', socket, '-n', '5');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^connected to vphb \d+\.\d+\.\d+\S* protocol 1\.0 at unix:/);
    expect(r.stdout).toMatch(/ping: 5 round trips, rtt min [\d.]+ µs, median [\d.]+ µs/);
  });

  it('topology prints a table, and JSON with --json', () => {
    const t = vphb('topology', '-c', socket);
    expect(t.status).toBe(0);
    expect(t.stdout).toContain('PHB 0 phb0: spapr POWER9, IOMMU pages 4K/64K/2M/1G');
    expect(t.stdout).toMatch(/ 1\s+1\s+0000:01:00\.0 0000:01:00\.1/);
    const j = vphb('topology', '-c', socket, '--json');
    const parsed = JSON.parse(j.stdout) as { phbs: { window_starts: string[] }[] };
    expect(parsed.phbs[0]!.window_starts).toEqual(['0x0', '0x800000000000000']);
  });

  it('inspect prints the host state as tables, and JSON with --json', () => {
    const t = vphb('inspect', '-c', socket);
    expect(t.stderr).toBe('');
    expect(t.status).toBe(0);
    expect(t.stdout).toMatch(/CONNECTIONS\n\s+ID\s+TRANSPORT.*\n\s+\d+\s+unix\s+unix\s+vphb-cli\s+0/);
    expect(t.stdout).toMatch(/\n\s+phb0\s+1\s+1\s+-\s+-\s+normal\s+0\s+0\n/);
    expect(t.stdout).toMatch(/0000:01:00\.0\s+nvme\s+1b36:0010\s+010802\s+0x0\s+0:mem64@0x[0-9a-f]+\+16K\s+0\s+none\s+-/);
    expect(t.stdout).toMatch(/CONTAINERS\n.*\n\s+\(none\)/);
    const j = JSON.parse(vphb('inspect', '-c', socket, '--json').stdout) as { phbs: { pes: { devices: { model: string; bars: { size: string }[] }[] }[] }[] };
    expect(j.phbs[0]!.pes[0]!.devices[0]!.model).toBe('nvme');
    expect(j.phbs[0]!.pes[0]!.devices[0]!.bars[0]!.size).toBe('0x4000');
  });

  it('a second server on the same socket is a clear startup error', () => {
    const r = vphb('serve', '--socket', socket);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`vphb: another server is already listening on ${socket}\n`);
  });

  it('a bad --config names the bad key', () => {
    const cfg = join(dir, 'bad.json');
    writeFileSync(cfg, JSON.stringify({ phbs: [{ pes: [{ pe: 1, group: 1, devices: ['0000:01:00.0'] }], max_levles: 3 }] }));
    const r = vphb('serve', '--socket', join(dir, 'other.sock'), '--config', cfg);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('$.phbs[0].max_levles: unknown key');
  });

  it('unknown options and commands are refused with usage help', () => {
    const r = vphb('serve', '--sokcet', 'x');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown option '--sokcet'/);
    expect(vphb('frobnicate').status).toBe(2);
  });

  it('--help lists the commands', () => {
    const r = vphb('--help');
    expect(r.status).toBe(0);
    for (const c of ['serve', 'ping', 'topology']) expect(r.stdout).toContain(`vphb ${c}`);
  });

  it('ping against no server fails with a clear message', () => {
    const r = vphb('ping', '-c', join(dir, 'nobody.sock'));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^vphb: .*nobody\.sock/);
  });
});

describe('examples', () => {
  it('quickstart lists the groups and pings', () => {
    const r = spawnSync(process.execPath, ['dist/examples/quickstart.js', socket], { encoding: 'utf8', timeout: 20_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^server vphb \d+\.\d+\.\d+\S*, protocol 1\.0\n/);
    expect(r.stdout).toContain('phb0 group 1 (PE 1): 0000:01:00.0, 0000:01:00.1');
    expect(r.stdout).toContain('phb1 group 6 (PE 2): 0001:02:00.0');
    expect(r.stdout).toMatch(/ping [\d.]+ µs/);
  });

  it('vfio-v2 walks the VMM flow and prints what the device DMA hits', () => {
    const r = spawnSync(process.execPath, ['dist/examples/vfio-v2.js', socket, '2'], { encoding: 'utf8', timeout: 20_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe([
      'dma32 window 2048 MiB, DDW page sizes 0x40211000, levels 5',
      'windows at 0x0 (64K pages) and 0x800000000000000 (2M pages)',
      'device write to 0x800000000300040 -> user address 0x7fff00300040',
      'device read of 0x80000000 -> EFAULT: iova 0x80000000 decodes as MMIO32, not DMA; phb0 PE 2 frozen (EEH)',
      '',
    ].join('\n'));
    // Run twice: the teardown released the group for the next user.
    expect(spawnSync(process.execPath, ['dist/examples/vfio-v2.js', socket, '2'], { encoding: 'utf8' }).status).toBe(0);
  });

  it('kvm-link links a KVM table to a VFIO window and drives hcalls and the fast path', () => {
    const want = [
      'H_PUT_TCE ret 0',
      'DMA to 0x800000000000010 -> user address 0x7fff00010010',
      'H_PUT_TCE_INDIRECT before enabling: ret 9999',
      'H_PUT_TCE_INDIRECT after enabling: ret 0',
      'TCE_PUT_BATCH ret 0 written 4096',
      'table entry 4095 = 0xfff0003',
      'H_GET_TCE ioba+4095 pages: 0xfff0003',
      '',
    ].join('\n');
    for (let run = 0; run < 2; run++) {
      // Twice: closing the first connection released the link, tables, window and group.
      const r = spawnSync(process.execPath, ['dist/examples/kvm-link.js', socket, '3'], { encoding: 'utf8', timeout: 20_000 });
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe(want);
    }
    expect(spawnSync(process.execPath, ['dist/examples/vfio-v2.js', socket, '2'], { encoding: 'utf8' }).status).toBe(0);
  });
});
