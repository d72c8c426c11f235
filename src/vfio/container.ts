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
import { VFIO_API_VERSION, VFIO_TYPE1_IOMMU, VFIO_TYPE1v2_IOMMU } from './constants.js';
import type { Group } from './group.js';
import { quirksOf, type Quirks } from './profile.js';
import { SpaprTceBackend } from './spapr-tce.js';
import { Type1Backend } from './type1.js';
import { DEFAULT_DMA_ENTRY_LIMIT } from '../hw/smmu-spec.js';

export class Container implements KernelFile {
  readonly closeRank = CLOSE_RANK.container;
  readonly #groups: Group[] = [];
  readonly #onGone: (c: Container) => void;
  readonly quirks: Quirks;
  #backend: SpaprTceBackend | Type1Backend | undefined;
  #fdOpen = true;

  /** `onGone` runs once the container can no longer be reached (fd closed, no group left). */
  constructor(onGone: (c: Container) => void = () => undefined, quirks: Quirks = quirksOf()) {
    this.#onGone = onGone;
    this.quirks = quirks;
  }

  get groups(): readonly Group[] {
    return this.#groups;
  }

  /** The sPAPR TCE backend, if that is the one set. */
  get backend(): SpaprTceBackend | undefined {
    return this.#backend instanceof SpaprTceBackend ? this.#backend : undefined;
  }

  /** The type1 backend, if that is the one set. */
  get type1(): Type1Backend | undefined {
    return this.#backend instanceof Type1Backend ? this.#backend : undefined;
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
    if (this.#backend !== undefined) return this.#backend.checkExtension(extension);
    const spapr = SpaprTceBackend.checkExtension(extension);
    if (spapr > 0 || !this.#groups.some((g) => g.pe.phb.spec.kind === 'smmu')) return spapr;
    return Type1Backend.checkExtension(extension);
  }

  /**
   * VFIO_SET_IOMMU: EINVAL without a group or with a backend already set; ENODEV for a type no
   * backend claims; EINVAL for one a backend claims as an extension but cannot open as a type
   * (VFIO_EEH, 5: K15); otherwise every group is attached, and the first failure unwinds them all.
   */
  setIommu(type: number): void {
    if (this.#groups.length === 0) throw fail('EINVAL', 'container has no group: SET_IOMMU needs at least one');
    if (this.#backend !== undefined) throw fail('EINVAL', `IOMMU type ${this.#backend.type} is already set`);
    const backend = this.#openBackend(type);
    try {
      for (const g of this.#groups) backend.attachPe(g.pe);
    } catch (e) {
      backend.release();
      throw e;
    }
    this.#backend = backend;
  }

  /**
   * The driver for `type` (vfio_ioctl_set_iommu): sPAPR TCE for 2/7, type1 for 1/3; EINVAL for
   * another extension type1 answers (its open refuses it), ENODEV for one no driver claims.
   */
  #openBackend(type: number): SpaprTceBackend | Type1Backend {
    if (SpaprTceBackend.checkExtension(type) > 0) return new SpaprTceBackend(type, this.quirks);
    if (type === VFIO_TYPE1_IOMMU || type === VFIO_TYPE1v2_IOMMU) {
      const smmu = this.#groups.map((g) => g.pe.phb.spec.smmu).find((s) => s !== undefined);
      return new Type1Backend(type, smmu?.dmaEntryLimit ?? DEFAULT_DMA_ENTRY_LIMIT, this.#groups[0]!.pe.phb.hostPageShift, this.quirks);
    }
    if (Type1Backend.checkExtension(type) > 0) throw fail('EINVAL', `type ${type} is an extension, not an IOMMU type`);
    throw fail('ENODEV', `no IOMMU backend provides type ${type}`);
  }

  /** The sPAPR backend for a passed-through ioctl: EINVAL EMPTY container, ENOTTY type1 (not its ioctl). */
  backendFor(op: string): SpaprTceBackend {
    if (this.#backend === undefined) throw fail('EINVAL', `${op}: container has no IOMMU backend (VFIO_SET_IOMMU first)`);
    if (!(this.#backend instanceof SpaprTceBackend)) throw fail('ENOTTY', `${op}: not an ioctl of the type1 IOMMU backend`);
    return this.#backend;
  }

  /** The type1 backend for a passed-through ioctl: EINVAL EMPTY container, ENOTTY sPAPR (not its ioctl). */
  type1For(op: string): Type1Backend {
    if (this.#backend === undefined) throw fail('EINVAL', `${op}: container has no IOMMU backend (VFIO_SET_IOMMU first)`);
    if (!(this.#backend instanceof Type1Backend)) throw fail('ENOTTY', `${op}: not an ioctl of the sPAPR TCE IOMMU backend`);
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
