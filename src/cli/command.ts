/**
 * What a `vphb` subcommand is. Adding one: write `src/cli/<name>.ts` exporting a `Command`, and
 * list it in `COMMANDS` (src/cli/commands.ts). Its options (with their environment variables) are
 * its own: other commands never see them.
 */
import type { Options, OptionSpec } from './args.js';

export interface CommandIo {
  readonly env: NodeJS.ProcessEnv;
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream;
}

export interface Command {
  /** The word after `vphb`. */
  readonly name: string;
  /** One line for `vphb --help`. */
  readonly summary: string;
  /** Extra text for `vphb <name> --help`. */
  readonly description?: string;
  readonly options: readonly OptionSpec[];
  /** Positional arguments, shown in usage (e.g. `<file>`); none allowed when absent. */
  readonly positionals?: string;
  /**
   * Runs the command. Resolves to the exit status (0 if undefined). A long-running command (serve)
   * resolves once it is up; the process lives on while it has work.
   */
  run(opts: Options, io: CommandIo): Promise<number | void>;
}

/** `1 group`, `2 groups`. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
