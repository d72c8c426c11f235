/**
 * Command-line parsing for `vphb`: a table of options per command on top of node:util parseArgs.
 *
 * Why not yargs: its `.env(prefix)` applies to every command, and under `.strict()` any exported
 * VPHB_* variable that the running command does not define is an "Unknown argument" (VPHB_SOCKET
 * broke `vphb ping`); an option named `no-unix` collides with its boolean negation; and numbers
 * need a coerce per option to refuse NaN, 2.5 or 0. Each of those is a workaround; a small table
 * read by parseArgs has none of the magic. Here:
 *
 * - each option names its own environment variable, read only by the commands that define it
 *   (other VPHB_* variables are ignored, never an error);
 * - every boolean `--x` also has `--no-x`;
 * - integers and sizes are checked with a message naming the option (or variable) and the range;
 * - the command line wins over the environment, which wins over the default.
 */
import { parseArgs } from 'node:util';

export type OptionType = 'string' | 'boolean' | 'integer' | 'size';

export interface OptionSpec {
  name: string;
  short?: string;
  type: OptionType;
  describe: string;
  /** Environment variable that supplies the value when the option is not given. */
  env?: string;
  /** For a boolean: an environment variable that, when true, sets the option to false. */
  envNegated?: string;
  default?: string | number | boolean;
  /** Shown in help instead of the default value (e.g. a path that depends on the environment). */
  defaultText?: string;
  /** Value placeholder in help, e.g. HOST:PORT. */
  placeholder?: string;
  min?: number;
  max?: number;
  choices?: readonly string[];
  /** Further check of a string value (throws an Error saying what is wrong): a usage error. */
  check?: (value: string) => void;
}

export type Value = string | number | boolean;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The parsed options of one command, with typed accessors. */
export class Options {
  readonly #values: ReadonlyMap<string, Value>;
  readonly positionals: readonly string[];

  constructor(values: ReadonlyMap<string, Value>, positionals: readonly string[]) {
    this.#values = values;
    this.positionals = positionals;
  }

  has(name: string): boolean {
    return this.#values.has(name);
  }

  str(name: string): string | undefined {
    const v = this.#values.get(name);
    return v === undefined ? undefined : String(v);
  }

  int(name: string): number {
    const v = this.#values.get(name);
    if (typeof v !== 'number') throw new Error(`option --${name} has no numeric value`);
    return v;
  }

  bool(name: string): boolean {
    return this.#values.get(name) === true;
  }
}

const UNITS: Record<string, number> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30 };

function convert(spec: OptionSpec, raw: string | boolean, from: string): Value {
  switch (spec.type) {
    case 'boolean': {
      if (typeof raw === 'boolean') return raw;
      const v = raw.trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(v)) return true;
      if (['0', 'false', 'no', 'off', ''].includes(v)) return false;
      throw new UsageError(`${from}: expected true or false, got ${JSON.stringify(raw)}`);
    }
    case 'string': {
      const v = String(raw);
      if (spec.choices !== undefined && !spec.choices.includes(v)) {
        throw new UsageError(`${from}: expected one of ${spec.choices.join(', ')}, got ${JSON.stringify(v)}`);
      }
      if (spec.check !== undefined) {
        try {
          spec.check(v);
        } catch (e) {
          // The checkers name the option themselves (`--tcp: ...`); say where the value came from.
          const why = (e instanceof Error ? e.message : String(e)).replace(/^--[a-z0-9-]+: /, '');
          throw new UsageError(`${from}: ${why}`);
        }
      }
      return v;
    }
    case 'integer':
    case 'size': {
      const text = String(raw).trim();
      const m = spec.type === 'size' ? /^(\d+)\s*([kmg]?)(?:i?b)?$/i.exec(text) : /^(\d+)$/.exec(text);
      const n = m === null ? NaN : Number(m[1]) * UNITS[(m[2] ?? '').toLowerCase()]!;
      const range = `${spec.min ?? 0}..${spec.max ?? Number.MAX_SAFE_INTEGER}`;
      const what = spec.type === 'size' ? 'a whole number of bytes (K/M/G suffixes allowed)' : 'a whole number';
      if (!Number.isSafeInteger(n)) throw new UsageError(`${from}: expected ${what} in ${range}, got ${JSON.stringify(raw)}`);
      if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) {
        throw new UsageError(`${from}: ${n} is out of range: expected ${range}`);
      }
      return n;
    }
  }
}

/**
 * Parses `args` (after the command name) against `specs`. Unknown options, missing values and
 * invalid numbers are UsageErrors naming the option.
 */
export function parseOptions(specs: readonly OptionSpec[], args: readonly string[], env: NodeJS.ProcessEnv, allowPositionals = false): Options {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const negated = new Map<string, boolean>();
  const valued = new Set(specs.filter((s) => s.type !== 'boolean').flatMap((s) => [`--${s.name}`, ...(s.short === undefined ? [] : [`-${s.short}`])]));
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      rest.push(...args.slice(i));
      break;
    }
    // `-n -3`: the value is "-3" (refused by its range check), not an option.
    const next = args[i + 1];
    if (valued.has(a) && next !== undefined && /^-\d/.test(next)) {
      rest.push(`${a.startsWith('--') ? a : `--${specs.find((s) => `-${s.short}` === a)!.name}`}=${next}`);
      i++;
      continue;
    }
    const m = /^--no-([a-z0-9-]+)$/.exec(a);
    const spec = m === null ? undefined : byName.get(m[1]!);
    if (spec?.type === 'boolean') negated.set(spec.name, false);
    else rest.push(a);
  }
  const config: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: false }> = {};
  for (const s of specs) {
    config[s.name] = { type: s.type === 'boolean' ? 'boolean' : 'string', ...(s.short === undefined ? {} : { short: s.short }) };
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: rest, options: config, strict: true, allowPositionals });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    // parseArgs words its messages for programmers; keep the part that names the option.
    throw new UsageError(msg.replace(/\. To specify a positional argument.*$/s, '').replace(/^Unknown option/, 'unknown option'));
  }
  const values = new Map<string, Value>();
  for (const s of specs) {
    const flag = `--${s.name}`;
    const given = parsed.values[s.name] as string | boolean | undefined;
    if (negated.has(s.name) && given !== undefined) throw new UsageError(`${flag} and --no-${s.name} given together`);
    if (negated.has(s.name)) values.set(s.name, false);
    else if (given !== undefined) values.set(s.name, convert(s, given, flag));
    else if (s.envNegated !== undefined && env[s.envNegated] !== undefined && env[s.envNegated] !== '') {
      const on = convert({ ...s, type: 'boolean' }, env[s.envNegated]!, s.envNegated);
      values.set(s.name, !(on as boolean));
    } else if (s.env !== undefined && env[s.env] !== undefined && env[s.env] !== '') {
      values.set(s.name, convert(s, env[s.env]!, s.env));
    } else if (s.default !== undefined) values.set(s.name, s.default);
  }
  return new Options(values, parsed.positionals);
}

/** The help text of a command's options, one line each. */
export function formatOptions(specs: readonly OptionSpec[]): string {
  const rows = specs.map((s) => {
    const flag = s.type === 'boolean' ? `--[no-]${s.name}` : `--${s.name} ${s.placeholder ?? (s.type === 'string' ? 'VALUE' : 'N')}`;
    const left = `  ${s.short === undefined ? '    ' : `-${s.short}, `}${flag}`;
    const extra: string[] = [];
    if (s.choices !== undefined) extra.push(`one of ${s.choices.join(', ')}`);
    const dflt = s.defaultText ?? (s.default === undefined ? undefined : String(s.default));
    if (dflt !== undefined) extra.push(`default ${dflt}`);
    if (s.env !== undefined) extra.push(`env ${s.env}`);
    if (s.envNegated !== undefined) extra.push(`env ${s.envNegated}=1 for --no-${s.name}`);
    return [left, `${s.describe}${extra.length > 0 ? ` (${extra.join('; ')})` : ''}`] as const;
  });
  const width = Math.max(...rows.map(([l]) => l.length)) + 2;
  return rows.map(([l, r]) => `${l.padEnd(width)}${r}`).join('\n');
}
