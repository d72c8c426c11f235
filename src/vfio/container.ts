/**
 * A VFIO container (open("/dev/vfio/vfio")): groups join it, an IOMMU backend is chosen for it,
 * and from then on all its groups share the backend's DMA address space.
 *
 * Lifecycle: EMPTY (no backend) → SET_IOMMU → ACTIVE. The container fd and every attached group
 * keep it alive; when the last group leaves, the backend is released (windows, preregistration,
 * locked memory) and the container is EMPTY again.
 */
import { fail } from '../wire/errno.js';
import { CLOSE_RANK, type KernelFile } from './kernel-file.js';
import { VFIO_API_VERSION } from './constants.js';
import type { Group } from './group.js';
import { quirksOf, type Quirks } from './profile.js';
import { SpaprTceBackend } from './spapr-tce.js';

export class Container implements KernelFile {
  readonly closeRank = CLOSE_RANK.container;
  readonly #groups: Group[] = [];
  readonly #onGone: (c: Container) => void;
  readonly quirks: Quirks;
  #backend: SpaprTceBackend | undefined;
  #fdOpen = true;

  /** `onGone` runs once the container can no longer be reached (fd closed, no group left). */
  constructor(onGone: (c: Container) => void = () => undefined, quirks: Quirks = quirksOf()) {
    this.#onGone = onGone;
    this.quirks = quirks;
  }

  get groups(): readonly Group[] {
    return this.#groups;
  }

  get backend(): SpaprTceBackend | undefined {
    return this.#backend;
  }

  get state(): 'EMPTY' | 'ACTIVE' {
    return this.#backend === undefined ? 'EMPTY' : 'ACTIVE';
  }

  /** The container fd is still open. */
  get fdOpen(): boolean {
    return this.#fdOpen;
  }

  /** VFIO_GET_API_VERSION. */
  apiVersion(): number {
    return VFIO_API_VERSION;
  }

  /** VFIO_CHECK_EXTENSION: the backend's answer, or (EMPTY) whether any backend supports it. */
  checkExtension(extension: number): number {
    return this.#backend?.checkExtension(extension) ?? SpaprTceBackend.checkExtension(extension);
  }

  /**
   * VFIO_SET_IOMMU: EINVAL without a group or with a backend already set; ENODEV for a type no
   * backend claims; EINVAL for one a backend claims as an extension but cannot open as a type
   * (VFIO_EEH, 5: K15); otherwise every group is attached, and the first failure unwinds them all.
   */
  setIommu(type: number): void {
    if (this.#groups.length === 0) throw fail('EINVAL', 'container has no group: SET_IOMMU needs at least one');
    if (this.#backend !== undefined) throw fail('EINVAL', `IOMMU type ${this.#backend.type} is already set`);
    if (SpaprTceBackend.checkExtension(type) <= 0) throw fail('ENODEV', `no IOMMU backend provides type ${type}`);
    const backend = new SpaprTceBackend(type, this.quirks);
    try {
      for (const g of this.#groups) backend.attachPe(g.pe);
    } catch (e) {
      backend.release();
      throw e;
    }
    this.#backend = backend;
  }

  /** The backend for a passed-through ioctl; an EMPTY container answers EINVAL. */
  backendFor(op: string): SpaprTceBackend {
    if (this.#backend === undefined) throw fail('EINVAL', `${op}: container has no IOMMU backend (VFIO_SET_IOMMU first)`);
    return this.#backend;
  }

  /** Called by Group.setContainer: attaches to the backend if there is one; nothing changes on error. */
  addGroup(group: Group): void {
    this.#backend?.attachPe(group.pe);
    this.#groups.push(group);
  }

  /** Called by Group when it leaves: the last group releases the backend. */
  removeGroup(group: Group): void {
    const i = this.#groups.indexOf(group);
    if (i < 0) return;
    this.#backend?.detachPe(group.pe);
    this.#groups.splice(i, 1);
    if (this.#groups.length > 0) return;
    const backend = this.#backend;
    this.#backend = undefined;
    backend?.release();
    if (!this.#fdOpen) this.#onGone(this);
  }

  /** close(2) of the container fd: attached groups keep the container alive. */
  close(): void {
    if (!this.#fdOpen) return;
    this.#fdOpen = false;
    if (this.#groups.length === 0) this.#onGone(this);
  }
}
