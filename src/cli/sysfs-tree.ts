/**
 * `vphb sysfs DIR`: the sysfs stand-in QEMU's vfio-pci reads for a host device, for every device
 * of a running server's topology, and the QEMU arguments that use it with libvphb-vfio.so.
 *
 * QEMU (`-device vfio-pci,sysfsdev=PATH`) stats PATH, takes basename(PATH) as the device name for
 * VFIO_GROUP_GET_DEVICE_FD, and reads the group number from the basename of the `iommu_group`
 * link's target; everything else goes through the VFIO files the preload library serves.
 */
import { existsSync, mkdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Replies } from '../wire/ops.generated.js';

export interface SysfsDevice {
  address: string;
  group: number;
  phb: string;
  /** The directory to pass as `sysfsdev=`. */
  sysfsdev: string;
}

/** Where `make -C clients/c` puts the preload library, relative to this module (src/cli/ or dist/src/cli/). */
export function preloadLibraryPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of [join('..', '..'), join('..', '..', '..')]) {
    const p = resolve(here, up, 'clients', 'c', 'build', 'libvphb-vfio.so');
    if (existsSync(dirname(dirname(p)))) return p;
  }
  return resolve(here, '..', '..', '..', 'clients', 'c', 'build', 'libvphb-vfio.so');
}

function hex(v: number, width: number): string {
  return `0x${v.toString(16).padStart(width, '0')}`;
}

function link(target: string, path: string): void {
  try {
    if (readlinkSync(path) === target) return;
    rmSync(path, { force: true });
  } catch {
    /* absent */
  }
  symlinkSync(target, path);
}

/**
 * Writes DIR/bus/pci/devices/<address>/ for every device (or only the device `only`): an
 * `iommu_group` link to DIR/kernel/iommu_groups/<N> (created too), and vendor/device/class
 * files. Idempotent.
 */
export function writeSysfs(dir: string, topo: Replies['TOPOLOGY'], only?: string): SysfsDevice[] {
  const root = resolve(dir);
  const out: SysfsDevice[] = [];
  for (const phb of topo.phbs) {
    for (const g of phb.groups) {
      const groupDir = join(root, 'kernel', 'iommu_groups', String(g.group));
      g.devices.forEach((address, i) => {
        if (only !== undefined && address !== only) return;
        mkdirSync(join(groupDir, 'devices'), { recursive: true });
        const dev = join(root, 'bus', 'pci', 'devices', address);
        mkdirSync(dev, { recursive: true });
        link(relative(dev, groupDir), join(dev, 'iommu_group'));
        link(relative(join(groupDir, 'devices'), dev), join(groupDir, 'devices', address));
        const f = g.functions?.[i];
        if (f !== undefined) {
          writeFileSync(join(dev, 'vendor'), `${hex(f.vendor_id, 4)}\n`);
          writeFileSync(join(dev, 'device'), `${hex(f.device_id, 4)}\n`);
          writeFileSync(join(dev, 'class'), `${hex(f.class_code, 6)}\n`);
        }
        out.push({ address, group: g.group, phb: phb.name, sysfsdev: dev });
      });
    }
  }
  return out;
}

/** The command lines a user types, one per device. */
export function qemuCommands(devices: SysfsDevice[], socket: string, lib: string): string {
  let s = '';
  for (const d of devices) {
    s += `# ${d.address} (group ${d.group}, ${d.phb})\n` +
      `LD_PRELOAD=${lib} VPHB_SOCKET=${socket} qemu-system-ppc64 -M pseries -m 2G -nographic \\\n` +
      `  -kernel vmlinux -initrd initramfs.gz -append console=hvc0 \\\n` +
      `  -device vfio-pci,sysfsdev=${d.sysfsdev}\n`;
  }
  return s;
}

