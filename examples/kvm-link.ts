// KVM acceleration of a passed-through device's DMA window, as QEMU sets it up on POWER:
// a VFIO v2 window, an in-kernel TCE table for the guest's LIOBN at the same bus address, the
// KVM VFIO device linking the two; then hcalls and the batched fast path update both tables.
// Run: node dist/examples/kvm-link.js [target] [group]
import { Client, defaultSocketPath } from '../clients/ts/index.js';

const MiB = 1n << 20n;
const guestRam = 0x7fff_0000_0000n; // user address of guest RAM in the VMM
const liobn = 0x8000_0001n;
const c = await Client.connect(process.argv[2] ?? defaultSocketPath(), { name: 'kvm-link', token: process.env.VPHB_TOKEN });
const groupNumber = Number(process.argv[3] ?? 1);

// VFIO: one group in a v2 container, guest RAM preregistered, a 64K-page window at 1<<59.
const { fd: container } = await c.vfioOpenContainer();
const { fd: group } = await c.vfioGroupOpen(groupNumber);
await c.vfioGroupSetContainer({ fd: group, container });
await c.vfioSetIommu({ fd: container, type: 7 });
await c.vfioIommuSpaprRegisterMemory({ fd: container, vaddr: guestRam, size: 256n * MiB });
const { start_addr: bus } = await c.vfioIommuSpaprTceCreate({ fd: container, page_shift: 16, window_size: 1n << 32n, levels: 2 });

// KVM: a VM with 256 MiB of RAM at guest address 0, an in-kernel table for the LIOBN, the link.
const { fd: vm } = await c.kvmCreateVm();
await c.kvmSetUserMemoryRegion({ fd: vm, slot: 0, guest_phys_addr: 0n, memory_size: 256n * MiB, userspace_addr: guestRam });
const { fd: table } = await c.kvmCreateSpaprTce64({ fd: vm, liobn, page_shift: 16, offset: bus >> 16n, size: 1n << 16n });
const { fd: device } = await c.kvmCreateDevice({ fd: vm, type: 4 }); // KVM_DEV_TYPE_VFIO
await c.kvmSetDeviceAttr({ fd: device!, group: 1, attr: 1n, groupfd: group }); // ADD
await c.kvmSetDeviceAttr({ fd: device!, group: 1, attr: 3n, groupfd: group, tablefd: table }); // SET_SPAPR_TCE

// The guest maps guest page 0x10000 at the window's first page; the PHB now translates it.
console.log(`H_PUT_TCE ret ${(await c.hPutTce({ fd: vm, liobn, ioba: bus, tce: 0x10000n | 3n })).ret}`);
const hit = await c.iommuTranslate({ fd: group, iova: bus + 0x10n, access: 'read' });
console.log(`DMA to 0x${(bus + 0x10n).toString(16)} -> user address 0x${hit.addr.toString(16)}`);

// INDIRECT is served in kernel only once enabled (H_TOO_HARD before), as QEMU enables it.
const list = { fd: vm, liobn, ioba: bus + 0x10000n, tce_list: 0x1000n, tces: [0x20003n, 0x30003n] };
console.log(`H_PUT_TCE_INDIRECT before enabling: ret ${(await c.hPutTceIndirect(list)).ret}`);
await c.kvmEnableCap({ fd: vm, cap: 104, args: [0x13cn, 1n, 0n, 0n] }); // KVM_CAP_PPC_ENABLE_HCALL
console.log(`H_PUT_TCE_INDIRECT after enabling: ret ${(await c.hPutTceIndirect(list)).ret}`);

// The fast path: 4096 TCEs in one frame, written straight into both tables.
const tces = new BigUint64Array(4096).map((_, i) => (BigInt(i) << 16n) | 3n);
const batch = await c.tcePutBatch(vm, liobn, bus, tces);
console.log(`TCE_PUT_BATCH ret ${batch.ret} written ${batch.written}`);
const { data } = await c.tceTableRead({ fd: table, index: 4095n, count: 1 });
console.log(`table entry 4095 = 0x${Buffer.from(data).readBigUInt64LE(0).toString(16)}`);
console.log(`H_GET_TCE ioba+4095 pages: 0x${(await c.hGetTce({ fd: vm, liobn, ioba: bus + (4095n << 16n) })).tce.toString(16)}`);
await c.end(); // closing the connection releases the link, the tables, the window and the group
