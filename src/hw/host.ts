/**
 * The host's hardware, built from a TopologySpec: PHBs, their PEs (one IOMMU group each) and the
 * devices behind them, plus the host PAGE_SIZE that drives level sizes and accounting.
 */
import { fail } from '../wire/errno.js';
import type { Device } from './device.js';
import type { Pe } from './pe.js';
import { Phb } from './phb.js';
import type { TopologySpec } from './topology.js';

export class Host {
  readonly topology: TopologySpec;
  readonly phbs: readonly Phb[];
  /** Host PAGE_SIZE shift (16 = 64 KiB on ppc64). */
  readonly pageShift: number;
  readonly #byGroup = new Map<number, Pe>();
  readonly #byAddress = new Map<string, Device>();

  constructor(topology: TopologySpec) {
    this.topology = topology;
    this.pageShift = topology.hostPageShift;
    this.phbs = topology.phbs.map((spec) => new Phb(spec, topology.hostPageShift));
    for (const phb of this.phbs) {
      for (const pe of phb.pes) {
        this.#byGroup.set(pe.group, pe);
        for (const d of pe.devices) this.#byAddress.set(d.address, d);
      }
    }
  }

  get pageSize(): number {
    return 2 ** this.pageShift;
  }

  /** Every PE, PHB by PHB. */
  get pes(): Pe[] {
    return this.phbs.flatMap((p) => [...p.pes]);
  }

  /** The PE that forms IOMMU group `group`, or undefined. */
  peOfGroup(group: number): Pe | undefined {
    return this.#byGroup.get(group);
  }

  /** The device at a PCI address; ENODEV when there is none. */
  device(address: string): Device {
    const d = this.#byAddress.get(address);
    if (d === undefined) throw fail('ENODEV', `no device ${address}`);
    return d;
  }
}
