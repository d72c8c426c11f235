#!/usr/bin/env node
/** The `vphb` command (src/cli/): serve the emulated host, or talk to a running server. */
import { main } from './cli/main.js';

main(process.argv.slice(2), { env: process.env, stdout: process.stdout, stderr: process.stderr }).then(
  (status) => {
    // serve keeps running (its listeners hold the event loop); everything else ends here.
    if (status !== 0) process.exit(status);
  },
  (e: unknown) => {
    process.stderr.write(`vphb: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
