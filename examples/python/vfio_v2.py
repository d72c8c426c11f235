#!/usr/bin/env python3
"""The VFIO sPAPR v2 flow a VMM runs, as examples/vfio-v2.ts: container + group, SPAPR_TCE_v2,
preregister guest RAM, replace the default 32-bit window with a 64K-page window and a 2M-page
DDW, map, check what a device DMA hits, tear down.

Run: python3 examples/python/vfio_v2.py [target] [group]
"""
import os
import sys

from vphb import Client, VphbError

MiB = 1 << 20
GiB = 1 << 30
guest_ram = 0x7FFF_0000_0000  # the VMM's user address of guest RAM
target = sys.argv[1] if len(sys.argv) > 1 else None
group = int(sys.argv[2]) if len(sys.argv) > 2 else 1

with Client.connect(target, client="vfio-v2", token=os.environ.get("VPHB_TOKEN")) as c:
    container = c.vfio_open_container()["fd"]
    group_fd = c.vfio_group_open(group)["fd"]
    c.vfio_group_set_container(group_fd, container)
    c.vfio_set_iommu(container, 7)  # VFIO_SPAPR_TCE_v2_IOMMU
    info = c.vfio_iommu_spapr_tce_get_info(container)
    ddw_info = info["ddw"]
    print(f"dma32 window {info['dma32_window_size'] >> 20} MiB, DDW page sizes {ddw_info['pgsizes']:#x}, levels {ddw_info['levels']}")

    # Guest RAM on hugetlbfs (16M pages): only hugepage-backed memory backs IOMMU pages above the host page.
    c.vfio_iommu_spapr_register_memory(container, guest_ram, 1 * GiB, page_shift=24)
    c.vfio_iommu_spapr_tce_remove(container, 0)  # drop the pending default window
    small = c.vfio_iommu_spapr_tce_create(container, 16, 1 * GiB, 1)["start_addr"]
    ddw = c.vfio_iommu_spapr_tce_create(container, 21, 1 << 40, 2)["start_addr"]
    print(f"windows at {small:#x} (64K pages) and {ddw:#x} (2M pages)")

    c.vfio_iommu_map_dma(container, guest_ram, ddw, 64 * MiB, flags=3)
    iova = ddw + 3 * MiB + 0x40
    hit = c.iommu_translate(group_fd, iova, "write")
    print(f"device write to {iova:#x} -> user address {hit['addr']:#x}")
    try:
        c.iommu_translate(group_fd, 0x8000_0000, "read")
    except VphbError as e:
        print(f"device read of 0x80000000 -> {e.name}: {e.message}")

    c.vfio_iommu_unmap_dma(container, ddw, 64 * MiB)
    c.vfio_iommu_spapr_tce_remove(container, ddw)
    c.vfio_group_unset_container(group_fd)  # last group: windows, preregistration and accounting released
