/**
 * The stress client's reference model: what the server must answer, as far as a client can know
 * it. Handles: numbers are the lowest free one, per connection. Groups: a group open by one client
 * is EBUSY for every other (shared by the clients of one process; clients in other processes are
 * unknown, so an EBUSY there is not a divergence).
 */

export class HandleModel {
  readonly #open = new Map<number, string>();

  /** The number the next new handle must get. */
  nextFd(): number {
    let fd = 0;
    while (this.#open.has(fd)) fd++;
    return fd;
  }

  add(fd: number, kind: string): void {
    this.#open.set(fd, kind);
  }

  remove(fd: number): void {
    this.#open.delete(fd);
  }

  has(fd: number): boolean {
    return this.#open.has(fd);
  }

  /** A number that is certainly not open. */
  closedFd(rnd: () => number): number {
    for (;;) {
      const fd = Math.floor(rnd() * 64);
      if (!this.#open.has(fd)) return fd;
    }
  }

  get size(): number {
    return this.#open.size;
  }
}

/**
 * Group ownership among the clients of this process. A client claims a group before it sends
 * VFIO_GROUP_OPEN (so two clients never both expect success) and marks it releasing before it
 * sends the CLOSE. While a CLOSE or an open whose outcome was uncertain is in flight, another
 * client's open may go either way.
 */
export class Ownership {
  readonly #owner = new Map<number, { client: number; releasing: boolean }>();
  /** Opens in flight that were sent while the outcome was uncertain, per group. */
  readonly #uncertain = new Map<number, number>();

  /** What another client's open must get: 'ok', 'EBUSY', or 'either'. */
  expectOpen(group: number): 'ok' | 'EBUSY' | 'either' {
    const o = this.#owner.get(group);
    if ((this.#uncertain.get(group) ?? 0) > 0 || o?.releasing === true) return 'either';
    return o === undefined ? 'ok' : 'EBUSY';
  }

  /** An open is sent whose outcome is uncertain; `settled` when its reply is in. */
  uncertainOpen(group: number): void {
    this.#uncertain.set(group, (this.#uncertain.get(group) ?? 0) + 1);
  }

  settled(group: number, opened: boolean, client: number): void {
    const n = (this.#uncertain.get(group) ?? 1) - 1;
    if (n === 0) this.#uncertain.delete(group);
    else this.#uncertain.set(group, n);
    if (opened) this.claim(group, client);
  }

  claim(group: number, client: number): void {
    this.#owner.set(group, { client, releasing: false });
  }

  releasing(group: number): void {
    const o = this.#owner.get(group);
    if (o !== undefined) o.releasing = true;
  }

  release(group: number, client: number): void {
    if (this.#owner.get(group)?.client === client) this.#owner.delete(group);
  }

  /** A client stops (its connection closes): its groups become uncertain until then. */
  dropClient(client: number): void {
    for (const o of this.#owner.values()) if (o.client === client) o.releasing = true;
  }
}

/** A small deterministic PRNG (xorshift32), so that a run can be repeated from its seed. */
export function prng(seed: number): () => number {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}
