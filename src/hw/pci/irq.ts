/**
 * Interrupts a PCI function raises, apart from how anyone receives them. The function emits an
 * interrupt (INTx assertion, an MSI or MSI-X message, an error report, a device request); whoever
 * listens (the VFIO device fd, through the host kernel's handlers) decides what becomes of it. The
 * model does no I/O: a listener records or forwards the event.
 */

export type IrqKind = 'intx' | 'msi' | 'msix' | 'err' | 'req';

/** Returns true when the interrupt was delivered to someone (an eventfd was signalled). */
export type IrqListener = (kind: IrqKind, vector: number) => boolean;

export class IrqLines {
  readonly #listeners = new Set<IrqListener>();

  /** Adds a listener; the returned function removes it. */
  subscribe(listener: IrqListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Delivers an interrupt to every listener; true when any delivered it. */
  emit(kind: IrqKind, vector: number): boolean {
    let delivered = false;
    for (const l of this.#listeners) delivered = l(kind, vector) || delivered;
    return delivered;
  }
}
