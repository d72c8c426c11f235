// The VFIO type1 flow of a VMM on an ARM host with an SMMUv3 (as QEMU's virt machine runs it):
// TYPE1v2 container on the smmu PHB, read the usable IOVA ranges, map guest RAM around the
// reserved MSI window, enable MSI on the device and follow its write through the IOMMU to the ITS
// doorbell, then run out of MSI window on a PHB configured with a one-page window.
// Run: node dist/examples/type1-msi.js [target] [group] [tiny-group-a tiny-group-b]
import { Client, VphbError, defaultSocketPath } from '../clients/ts/index.js';

const hex = (v: bigint) => `0x${v.toString(16)}`;
const c = await Client.connect(process.argv[2] ?? defaultSocketPath(), { name: 'type1-msi', token: process.env.VPHB_TOKEN });
const topo = await c.topology();
const smmuGroup = (n: number) => {
  const phb = topo.phbs.find((p) => p.groups.some((g) => g.group === n))!;
  return { device: phb.groups.find((g) => g.group === n)!.devices[0]!, info: phb.smmu!.groups.find((g) => g.group === n)! };
};

/** A TYPE1v2 container holding `groups`; returns it and the first group's device fd. */
async function type1(groups: number[]): Promise<{ container: number; dev: number; gfd: number; fds: number[] }> {
  const { fd: container } = await c.vfioOpenContainer();
  const fds = [];
  for (const group of groups) {
    const { fd } = await c.vfioGroupOpen(group);
    await c.vfioGroupSetContainer({ fd, container });
    fds.push(fd);
  }
  await c.vfioSetIommu({ fd: container, type: 3 }); // VFIO_TYPE1v2_IOMMU
  return { container, fds, gfd: fds[0]!, dev: (await c.vfioGroupGetDeviceFd({ fd: fds[0]!, name: smmuGroup(groups[0]!).device })).fd };
}

/** Maps guest RAM 1:1 (guest physical = IOVA) over every usable range below `top`. */
async function mapRamAround(container: number, top: bigint): Promise<void> {
  for (const r of (await c.vfioIommuGetInfo(container)).iova_ranges ?? []) {
    if (r.start >= top) continue;
    const end = r.end + 1n < top ? r.end + 1n : top;
    await c.vfioIommuMapDma({ fd: container, flags: 3, vaddr: 0x7f00_0000_0000n + r.start, iova: r.start, size: end - r.start });
    console.log(`guest RAM mapped at IOVA ${hex(r.start)}..${hex(end - 1n)}`);
  }
}

const group = Number(process.argv[3] ?? 7);
const { container, dev, gfd } = await type1([group]);
const info = await c.vfioIommuGetInfo(container);
console.log(`IOVA page sizes ${hex(info.iova_pgsizes)}, ${info.dma_avail} mappings available`);
for (const r of info.iova_ranges ?? []) console.log(`usable IOVA ${hex(r.start)}..${hex(r.end)}`);
await mapRamAround(container, 256n << 20n);
const msiWindow = smmuGroup(group).info.reserved_regions.find((r) => r.type === 'sw-msi')!;
await c.vfioIommuMapDma({ fd: container, flags: 3, vaddr: 0n, iova: msiWindow.start, size: 0x1_0000n }).catch((e: VphbError) => {
  console.log(`MAP_DMA into the MSI window ${hex(msiWindow.start)} -> ${e.code}`);
});

// Enable one MSI vector (eventfd token 42): vphb maps the ITS doorbell page in the MSI window.
await c.vfioDeviceSetIrqs({ fd: dev, flags: 4 | 32, index: 1, start: 0, count: 1, data: [42] });
const doorbell = smmuGroup(group).info.doorbell;
const page = (await c.hostState()).containers.flatMap((x) => x.type1?.domains ?? []).flatMap((d) => d.msi_pages)[0]!;
const msiIova = page.iova + (doorbell & 0xffffn);
console.log(`MSI enabled: doorbell page ${hex(page.doorbell)} mapped at IOVA ${hex(page.iova)}`);
const hit = await c.iommuTranslate({ fd: gfd, iova: msiIova, access: 'write' });
console.log(`device MSI write to ${hex(msiIova)} -> ${hex(hit.addr)} (the ITS doorbell)`);
console.log(`device raises MSI vector 0 -> delivered ${(await c.deviceRaiseIrq({ fd: dev, index: 1, vector: 0 })).ret}`);

const tiny = process.argv.slice(4, 6).map(Number);
if (tiny.length === 2) {
  // Two devices with different doorbells behind a one-page MSI window, guest RAM right after it.
  const a = await type1(tiny);
  await mapRamAround(a.container, 256n << 20n);
  const b = (await c.vfioGroupGetDeviceFd({ fd: a.fds[1]!, name: smmuGroup(tiny[1]!).device })).fd;
  await c.vfioDeviceSetIrqs({ fd: a.dev, flags: 4 | 32, index: 1, start: 0, count: 1, data: [43] });
  await c.vfioDeviceSetIrqs({ fd: b, flags: 4 | 32, index: 2, start: 0, count: 1, data: [44] }).catch((e: VphbError) => {
    console.log(`second doorbell with the MSI window full -> ${e.code}`);
  });
}
await c.end(); // closing the connection tears down groups, mappings and the MSI cookies
