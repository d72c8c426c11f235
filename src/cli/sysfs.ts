/** `vphb sysfs DIR`: the sysfs stand-in QEMU's vfio-pci reads, and the QEMU command lines to use it. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from './command.js';
import { CONNECT_OPTIONS, withClient } from './connect.js';
import { preloadLibraryPath, qemuCommands, writeSysfs } from './sysfs-tree.js';

export const sysfs: Command = {
  name: 'sysfs',
  summary: 'write the sysfs stand-in QEMU vfio-pci reads, and print the QEMU command lines',
  description: 'DIR/bus/pci/devices/<address>/iommu_group links to DIR/kernel/iommu_groups/<N> for every device\nof the running server; pass DIR/bus/pci/devices/<address> to -device vfio-pci,sysfsdev=.',
  positionals: '<dir>',
  options: [
    ...CONNECT_OPTIONS,
    { name: 'device', type: 'string', placeholder: 'ADDR', describe: 'only this PCI address' },
  ],
  async run(opts, io) {
    const [dir, ...extra] = opts.positionals;
    if (dir === undefined || extra.length > 0) throw new Error('sysfs: give exactly one directory (vphb sysfs DIR)');
    await withClient(opts, io, async (client, target) => {
      const topo = await client.topology();
      const only = opts.str('device');
      if (only !== undefined && !topo.phbs.some((p) => p.groups.some((g) => g.devices.includes(only)))) {
        throw new Error(`--device ${only}: not in the server's topology`); // before writing anything
      }
      const devices = writeSysfs(dir, topo, only);
      const lib = preloadLibraryPath();
      io.stdout.write(`wrote ${devices.length} device(s) under ${resolve(dir)}/bus/pci/devices\n`);
      if (!existsSync(lib)) io.stdout.write(`note: ${lib} is not built yet: run make -C clients/c\n`);
      if (target.startsWith('ws:')) io.stdout.write('note: libvphb-vfio.so connects over a UNIX socket or tcp:// (VPHB_SOCKET, VPHB_TOKEN)\n');
      // A pseries guest sees only sPAPR PHBs' devices; an smmu PHB's belong to an ARM VMM.
      const spapr = new Set(topo.phbs.filter((p) => p.kind === 'spapr').map((p) => p.name));
      const other = devices.filter((d) => !spapr.has(d.phb));
      if (other.length > 0) io.stdout.write(`note: ${other.map((d) => d.address).join(', ')} sit behind an smmu PHB: no pseries command for them\n`);
      io.stdout.write(qemuCommands(devices.filter((d) => spapr.has(d.phb)), target, lib));
    });
  },
};
