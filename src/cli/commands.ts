/**
 * The `vphb` subcommands, in the order `vphb --help` lists them. Adding a command: a module in
 * src/cli/ exporting a `Command` (see command.ts; ping.ts is a short example, connect.ts has the
 * -c/--token options and the friendly connection errors), and one entry here.
 */
import type { Command } from './command.js';
import { inspect } from './inspect.js';
import { ping } from './ping.js';
import { serve } from './serve.js';
import { topology } from './topology.js';

export const COMMANDS: readonly Command[] = [serve, ping, topology, inspect];
