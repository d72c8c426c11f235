/** Model-level fixtures for the VFIO tests: a host, its VFIO, a client mm, and shorthands. */
import { Host } from '../../src/hw/host.js';
import { DEFAULT_TOPOLOGY, type PhbSpec, type TopologySpec } from '../../src/hw/topology.js';
import { VFIO_SPAPR_TCE_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU } from '../../src/vfio/constants.js';
import type { Container } from '../../src/vfio/container.js';
import type { GroupFile } from '../../src/vfio/group.js';
import { Mm } from '../../src/vfio/locked-memory.js';
import { quirksOf, type ProfileName } from '../../src/vfio/profile.js';
import type { SpaprTceBackend } from '../../src/vfio/spapr-tce.js';
import { Vfio } from '../../src/vfio/vfio.js';
export { errno, failure } from '../helpers/errors.js';

export const KiB = 1n << 10n;
export const MiB = 1n << 20n;
export const GiB = 1n << 30n;
export const TiB = 1n << 40n;
export const V1 = VFIO_SPAPR_TCE_IOMMU;
export const V2 = VFIO_SPAPR_TCE_v2_IOMMU;

export interface World {
  host: Host;
  vfio: Vfio;
  mm: Mm;
  /** A second process. */
  other: Mm;
  /** Opens a container and the groups, sets them in it, and (if given) sets the IOMMU type. */
  setup(groups: number[], type?: number): { container: Container; files: GroupFile[]; backend: SpaprTceBackend };
}

export function world(opts: { topology?: TopologySpec; limit?: bigint | null; profile?: ProfileName } = {}): World {
  const host = new Host(opts.topology ?? DEFAULT_TOPOLOGY);
  const vfio = new Vfio(host, quirksOf(opts.profile));
  const limit = opts.limit === undefined ? null : opts.limit;
  const mm = new Mm(limit, host.pageShift);
  const other = new Mm(limit, host.pageShift);
  return {
    host,
    vfio,
    mm,
    other,
    setup(groups, type) {
      const container = vfio.openContainer();
      const files = groups.map((g) => vfio.openGroup(g));
      for (const f of files) f.group.setContainer(container);
      if (type !== undefined) container.setIommu(type);
      return { container, files, backend: container.backend! };
    },
  };
}

/** DEFAULT_TOPOLOGY plus phb2: an IODA1 (POWER7) PHB with groups 7 (no DDW), and phb3 with group 8 (IODA1 given DDW). */
export function mixedTopology(): TopologySpec {
  const base = DEFAULT_TOPOLOGY.phbs[0]!;
  const p7: PhbSpec = {
    ...base,
    index: 2,
    name: 'phb2',
    model: 'POWER7',
    tableOps: 'ioda1',
    pageShifts: [12],
    maxLevels: 1,
    windowStarts: [0n],
    maxDynamicWindows: 0,
    pes: [{ pe: 1, group: 7, devices: ['0002:01:00.0'] }],
  };
  const p7ddw: PhbSpec = {
    ...base,
    index: 3,
    name: 'phb3',
    model: 'POWER7',
    tableOps: 'ioda1',
    pageShifts: [12, 16],
    windowStarts: [0n, 1n << 59n],
    maxDynamicWindows: 2,
    pes: [{ pe: 1, group: 8, devices: ['0003:01:00.0'] }],
  };
  return { hostPageShift: 16, phbs: [...DEFAULT_TOPOLOGY.phbs, p7, p7ddw] };
}
