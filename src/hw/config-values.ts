/**
 * Reading a JSON config: the value checks every config section shares (objects, known keys,
 * integers, 64-bit quantities) and the collector that reports every bad value with its JSON path.
 */
import { VphbError } from '../wire/errno.js';

export type Json = unknown;

export interface ConfigIssueInfo {
  /** JSON path of the bad value, e.g. `$.phbs[0].max_levels`. */
  path: string;
  why: string;
}

/** One bad value; thrown by a validator, caught and recorded by ConfigErrors. */
export class ConfigIssue extends Error {
  override readonly name = 'ConfigIssue';
  readonly path: string;
  readonly why: string;
  constructor(path: string, why: string) {
    super(`${path}: ${why}`);
    this.path = path;
    this.why = why;
  }
}

/** Thrown when the issues of a value's members are recorded already: abandons the value silently. */
export class AlreadyReported extends ConfigIssue {
  constructor() {
    super('', '');
  }
}

/** The error of a bad config: EINVAL, with every issue found. */
export class TopologyConfigError extends VphbError {
  readonly issues: readonly ConfigIssueInfo[];
  constructor(issues: readonly ConfigIssueInfo[]) {
    super(
      'EINVAL',
      issues.length === 1
        ? `topology config: ${issues[0]!.path}: ${issues[0]!.why}`
        : `topology config: ${issues.length} errors:\n${issues.map((i) => `  ${i.path}: ${i.why}`).join('\n')}`,
    );
    this.issues = issues;
  }
}

/** Collects the issues of one parse. */
export class ConfigErrors {
  readonly issues: ConfigIssueInfo[] = [];

  /** Runs one validation; a ConfigIssue is recorded and yields undefined. */
  collect<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch (e) {
      // A validator that reports the classic way (VphbError "topology config: PATH: why") counts too.
      const classic = e instanceof VphbError && e.code === 'EINVAL' ? /^topology config: (\$\S*): (.*)$/s.exec(e.message) : null;
      if (classic !== null) {
        this.issues.push({ path: classic[1]!, why: classic[2]! });
        return undefined;
      }
      if (!(e instanceof ConfigIssue)) throw e;
      if (e instanceof AlreadyReported) return undefined;
      this.issues.push({ path: e.path, why: e.why });
      return undefined;
    }
  }

  add(path: string, why: string): void {
    this.issues.push({ path, why });
  }

  throwIfAny(): void {
    if (this.issues.length > 0) throw new TopologyConfigError(this.issues);
  }
}

export function bad(path: string, why: string): never {
  throw new ConfigIssue(path, why);
}

export function obj(v: Json, path: string): Record<string, Json> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(path, 'must be an object');
  return v as Record<string, Json>;
}

/** Unknown keys are recorded in `errs` (all of them), or thrown (the first) without one. */
export function onlyKeys(o: Record<string, Json>, path: string, allowed: readonly string[], errs?: ConfigErrors): void {
  for (const k of Object.keys(o)) {
    if (allowed.includes(k)) continue;
    if (errs === undefined) bad(`${path}.${k}`, 'unknown key');
    errs.add(`${path}.${k}`, 'unknown key');
  }
}

export function int(v: Json, path: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    bad(path, `must be an integer in [${min}, ${max}]`);
  }
  return v;
}

/** A 64-bit quantity: a safe-integer number or a string in decimal or 0x-hex. */
export function u64(v: Json, path: string): bigint {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  if (typeof v === 'string' && /^(0x[0-9a-fA-F]+|[0-9]+)$/.test(v)) {
    const n = BigInt(v);
    if (n < 1n << 64n) return n;
  }
  return bad(path, 'must be a non-negative integer below 2^64 (number, or string in decimal or 0x hex)');
}
