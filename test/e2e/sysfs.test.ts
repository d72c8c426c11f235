/** `vphb sysfs DIR` against a live server: what QEMU's vfio-pci reads (sysfsdev, iommu_group). */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readlinkSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, startVphb, type VphbProc } from './vphb-proc.js';

let vphb: VphbProc;
const dir = mkdtempSync(join(tmpdir(), 'vphb-sysfs-'));
beforeAll(async () => { vphb = await startVphb(); });
afterAll(async () => { await vphb?.stop(); rmSync(dir, { recursive: true, force: true }); });

function sysfs(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'sysfs', ...args], { encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('vphb sysfs', () => {
  it('writes an iommu_group link per device whose target basename is the group, and prints the QEMU command', () => {
    const r = sysfs(dir, '-c', vphb.socket);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('wrote 10 device(s)'); // the default topology's 8 sPAPR devices and smmu0's 2
    const expectGroups: Array<[string, number]> = [['0000:01:00.0', 1], ['0000:01:00.1', 1], ['0000:02:00.0', 2], ['0000:04:00.1', 4], ['0001:02:00.0', 6], ['0002:02:00.0', 8]];
    for (const [addr, group] of expectGroups) {
      const dev = join(dir, 'bus', 'pci', 'devices', addr);
      const target = readlinkSync(join(dev, 'iommu_group'));
      expect(basename(target)).toBe(String(group)); // what QEMU parses
      expect(realpathSync(join(dev, 'iommu_group'))).toBe(realpathSync(join(dir, 'kernel', 'iommu_groups', String(group))));
      expect(existsSync(join(dev, 'subsystem'))).toBe(false); // "not an mdev"
      if (group <= 6) expect(r.stdout).toContain(`-device vfio-pci,sysfsdev=${dev}\n`);
      else expect(r.stdout).not.toContain(`sysfsdev=${dev}\n`); // behind smmu0: not for a pseries guest
    }
    expect(r.stdout).toContain('0002:02:00.0 sit behind an smmu PHB: no pseries command for them');
    expect(r.stdout).toMatch(/LD_PRELOAD=\S*\/clients\/c\/build\/libvphb-vfio\.so VPHB_SOCKET=\S+ qemu-system-ppc64 -M pseries/);
    expect(r.stdout).toContain(`VPHB_SOCKET=unix:${vphb.socket} `); // the address as vphb prints it; libvphb takes it
  });

  it('is idempotent and filters by --device; an unknown device is an error naming it', () => {
    const again = sysfs(dir, '-c', vphb.socket, '--device', '0000:02:00.0');
    expect(again.status).toBe(0);
    expect(again.stdout).toContain('wrote 1 device(s)');
    expect(again.stdout.match(/-device vfio-pci/g)).toHaveLength(1);
    const bad = sysfs(dir, '-c', vphb.socket, '--device', '0000:7f:00.0');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('--device 0000:7f:00.0: not in the server');
  });

  it('--device writes only that device; an unknown one writes nothing', () => {
    const fresh = mkdtempSync(join(tmpdir(), 'vphb-sysfs-one-'));
    try {
      const bad = sysfs(fresh, '-c', vphb.socket, '--device', '0000:7f:00.0');
      expect(bad.status).toBe(1);
      expect(readdirSync(fresh)).toEqual([]);
      const one = sysfs(fresh, '-c', vphb.socket, '--device', '0000:04:00.1');
      expect(one.status).toBe(0);
      expect(one.stdout).toContain('wrote 1 device(s)');
      expect(readdirSync(join(fresh, 'bus', 'pci', 'devices'))).toEqual(['0000:04:00.1']);
      expect(readdirSync(join(fresh, 'kernel', 'iommu_groups'))).toEqual(['4']);
      expect(basename(readlinkSync(join(fresh, 'bus', 'pci', 'devices', '0000:04:00.1', 'iommu_group')))).toBe('4');
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });
});
