/**
 * The server's one execution loop. Transports only queue received frames; commands run here, in
 * turns of the event loop (setImmediate), never inside a transport callback — so no delivery path
 * can re-enter a session, whatever the transport reports synchronously.
 *
 * A turn visits the runnable sessions round-robin; each executes at most a slice of work (a count
 * of commands or a time budget, whichever comes first; a long op advances by its own slices) and
 * goes to the back of the ring if it has more. The turn itself ends after `turnMs`, the rest of the
 * ring continuing in the next turn, so that the event loop (sockets, timers) runs at least every
 * `turnMs + sliceMs`. At the end of a turn every session that ran writes its replies at once: one
 * write (or one corked writev) per connection per turn.
 */
import { performance } from 'node:perf_hooks';

export interface Runnable {
  /** Executes until `deadline` (performance.now() ms) or `maxCommands`; true if work remains. */
  runSlice(deadline: number, maxCommands: number): boolean;
  /** End of the turn: hand what was produced to the transport. */
  flush(): void;
}

export interface SchedulerOptions {
  /** Time budget of one connection per turn, in ms. */
  sliceMs: number;
  /** Commands one connection executes per turn at most. */
  sliceCommands: number;
  /** Time after which a turn stops visiting sessions and yields to the event loop, in ms. */
  turnMs: number;
}

export const DEFAULT_SCHEDULER: SchedulerOptions = { sliceMs: 1, sliceCommands: 64, turnMs: 4 };

export class Scheduler {
  readonly #opts: SchedulerOptions;
  #ring: Runnable[] = [];
  readonly #inRing = new Set<Runnable>();
  #scheduled = false;
  #turns = 0;

  constructor(opts: SchedulerOptions = DEFAULT_SCHEDULER) {
    this.#opts = opts;
  }

  /** Turns run so far (for tests and the stress tool). */
  get turns(): number {
    return this.#turns;
  }

  /** Marks `r` runnable: it gets a slice in the next turn. Cheap and safe to call from anywhere. */
  wake(r: Runnable): void {
    if (!this.#inRing.has(r)) {
      this.#inRing.add(r);
      this.#ring.push(r);
    }
    this.#schedule();
  }

  /** Forgets `r` (its connection is gone and its work is finished). */
  remove(r: Runnable): void {
    if (!this.#inRing.delete(r)) return;
    this.#ring = this.#ring.filter((x) => x !== r);
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.#turn());
  }

  #turn(): void {
    this.#scheduled = false;
    this.#turns++;
    const { sliceMs, sliceCommands, turnMs } = this.#opts;
    const start = performance.now();
    const ran: Runnable[] = [];
    // Each session present at the start of the turn gets at most one slice in it.
    let visits = this.#ring.length;
    while (visits-- > 0 && this.#ring.length > 0) {
      const r = this.#ring.shift()!;
      this.#inRing.delete(r);
      ran.push(r);
      const more = r.runSlice(performance.now() + sliceMs, sliceCommands);
      if (more && !this.#inRing.has(r)) {
        this.#inRing.add(r);
        this.#ring.push(r);
      }
      if (performance.now() - start >= turnMs) break;
    }
    for (const r of ran) r.flush();
    if (this.#ring.length > 0) this.#schedule();
  }
}
