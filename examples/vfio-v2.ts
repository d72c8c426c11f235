// The VFIO sPAPR v2 flow a VMM runs (as QEMU does for a pseries guest with DDW):
// container + group, SPAPR_TCE_v2, preregister guest RAM, replace the default 32-bit window
// with a 64K-page window and a 2M-page DDW, map, check what a device DMA hits, tear down.
// Run: node dist/examples/vfio-v2.js [target] [group]
import { Client, VphbError, defaultSocketPath } from '../clients/ts/index.js';

const MiB = 1n << 20n;
const GiB = 1n << 30n;
const guestRam = 0x7fff_0000_0000n; // the VMM's user address of guest RAM
const c = await Client.connect(process.argv[2] ?? defaultSocketPath(), { name: 'vfio-v2', token: process.env.VPHB_TOKEN });
const group = Number(process.argv[3] ?? 1);

const { fd: container } = await c.vfioOpenContainer();
const { fd: groupFd } = await c.vfioGroupOpen(group);
await c.vfioGroupSetContainer({ fd: groupFd, container });
await c.vfioSetIommu({ fd: container, type: 7 }); // VFIO_SPAPR_TCE_v2_IOMMU
const info = await c.vfioIommuSpaprTceGetInfo(container);
console.log(`dma32 window ${info.dma32_window_size >>> 20} MiB, DDW page sizes 0x${info.ddw?.pgsizes.toString(16)}, levels ${info.ddw?.levels}`);

// Guest RAM on hugetlbfs (16M pages): only hugepage-backed memory backs IOMMU pages above the host page.
await c.vfioIommuSpaprRegisterMemory({ fd: container, vaddr: guestRam, size: 1n * GiB, page_shift: 24 });
await c.vfioIommuSpaprTceRemove({ fd: container, start_addr: 0n }); // drop the pending default window
const small = await c.vfioIommuSpaprTceCreate({ fd: container, page_shift: 16, window_size: 1n * GiB, levels: 1 });
const ddw = await c.vfioIommuSpaprTceCreate({ fd: container, page_shift: 21, window_size: 1n << 40n, levels: 2 });
console.log(`windows at 0x${small.start_addr.toString(16)} (64K pages) and 0x${ddw.start_addr.toString(16)} (2M pages)`);

await c.vfioIommuMapDma({ fd: container, flags: 3, vaddr: guestRam, iova: ddw.start_addr, size: 64n * MiB });
const hit = await c.iommuTranslate({ fd: groupFd, iova: ddw.start_addr + 3n * MiB + 0x40n, access: 'write' });
console.log(`device write to 0x${(ddw.start_addr + 3n * MiB + 0x40n).toString(16)} -> user address 0x${hit.addr.toString(16)}`);
try {
  await c.iommuTranslate({ fd: groupFd, iova: 0x8000_0000n, access: 'read' });
} catch (e) {
  if (!(e instanceof VphbError)) throw e;
  console.log(`device read of 0x80000000 -> ${e.code}: ${e.message}`);
}

await c.vfioIommuUnmapDma({ fd: container, iova: ddw.start_addr, size: 64n * MiB });
await c.vfioIommuSpaprTceRemove({ fd: container, start_addr: ddw.start_addr });
await c.vfioGroupUnsetContainer(groupFd); // last group: windows, preregistration and accounting released
await c.end();
