/** The scheduler: round-robin, bounded commands per connection per turn, one flush per turn, no re-entry. */
import { describe, expect, it } from 'vitest';
import { Scheduler, type Runnable } from '../../src/server/scheduler.js';

class Worker implements Runnable {
  flushes = 0;
  readonly name: string;
  left: number;
  readonly log: string[];
  readonly onFlush: (() => void) | undefined;
  constructor(name: string, left: number, log: string[], onFlush?: () => void) {
    this.name = name;
    this.left = left;
    this.log = log;
    this.onFlush = onFlush;
  }
  runSlice(_deadline: number, maxCommands: number): boolean {
    const n = Math.min(maxCommands, this.left);
    for (let i = 0; i < n; i++) this.log.push(this.name);
    this.left -= n;
    return this.left > 0;
  }
  flush(): void {
    this.flushes++;
    this.onFlush?.();
  }
}

const idle = (s: Scheduler, turns: number): Promise<void> =>
  new Promise((resolve) => {
    const check = (): void => (s.turns >= turns ? resolve() : void setImmediate(check));
    check();
  });

describe('Scheduler', () => {
  it('gives each runnable at most sliceCommands per turn, round-robin, until all are done', async () => {
    const s = new Scheduler({ sliceMs: 1000, sliceCommands: 2, turnMs: 1000 });
    const log: string[] = [];
    const a = new Worker('a', 5, log);
    const b = new Worker('b', 3, log);
    s.wake(a);
    s.wake(b);
    s.wake(a); // a second wake of a queued runnable adds nothing
    await idle(s, 3);
    expect(log.join('')).toBe('aabbaaba');
    expect([a.flushes, b.flushes]).toEqual([3, 2]);
  });

  it('a runnable woken from its own flush (a transport reporting a flush synchronously) runs in a later turn, not re-entrantly', async () => {
    const s = new Scheduler({ sliceMs: 1000, sliceCommands: 1, turnMs: 1000 });
    const log: string[] = [];
    let depth = 0;
    let maxDepth = 0;
    const w: Worker = new Worker('w', 1000, log, () => {
      depth++;
      maxDepth = Math.max(maxDepth, depth);
      s.wake(w);
      depth--;
    });
    s.wake(w);
    await idle(s, 1000);
    expect(log).toHaveLength(1000);
    expect(maxDepth).toBe(1);
  });
});
