/**
 * The host's VFIO: one Group per PE of the hardware, and the containers clients open.
 * Shared by all connections (groups are host-wide); containers are reachable only through the
 * handles of the connection that opened them.
 */
import { fail } from '../wire/errno.js';
import type { Host } from '../hw/host.js';
import { Container } from './container.js';
import { Group, type GroupFile } from './group.js';
import { quirksOf, type Quirks } from './profile.js';

export class Vfio {
  readonly host: Host;
  /** The behaviour profile's quirk table, shared by every container. */
  readonly quirks: Quirks;
  readonly #groups = new Map<number, Group>();
  readonly #containers = new Set<Container>();

  constructor(host: Host, quirks: Quirks = quirksOf()) {
    this.host = host;
    this.quirks = quirks;
    for (const pe of host.pes) this.#groups.set(pe.group, new Group(pe));
  }

  get groups(): Group[] {
    return [...this.#groups.values()];
  }

  /** Containers still reachable (fd open or groups attached). */
  get containers(): ReadonlySet<Container> {
    return this.#containers;
  }

  /** The group numbered `group`; ENOENT when the host has none. */
  group(group: number): Group {
    const g = this.#groups.get(group);
    if (g === undefined) throw fail('ENOENT', `no IOMMU group ${group}`);
    return g;
  }

  /** open("/dev/vfio/N"): ENOENT unknown group, EBUSY already open. */
  openGroup(group: number): GroupFile {
    return this.group(group).open();
  }

  /** open("/dev/vfio/vfio"). */
  openContainer(): Container {
    const c = new Container((gone) => this.#containers.delete(gone), this.quirks);
    this.#containers.add(c);
    return c;
  }
}
