/**
 * `vphb stress` (the built CLI, needs `npm run build`) against an in-process server: a short run of
 * every mode is clean and exits 0; a group left held after the baseline is reported as a leak
 * and exits 1. Bounded: a few seconds each.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawCaller } from '../helpers/raw-calls.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const CLI = 'dist/src/cli.js';
let ts: TestServer;
beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} missing: run npm run build first (npm test does)`);
  ts = await startTestServer();
});
afterAll(() => ts.close());

function stress(args: string[], onStderr?: (text: string) => void): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, 'stress', '--connect', ts.socketPath, '--server-pid', String(process.pid), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      onStderr?.(stderr);
    });
    p.once('exit', (code) => resolve({ code, stdout: stdout + stderr }));
  });
}

describe('vphb stress', () => {
  it('a short run of every mode (ops, SIGKILLed clients, fuzz) is clean and exits 0', async () => {
    const r = await stress(['--mode', 'all', '--clients', '3', '--seconds', '6', '--kills', '5', '--json']);
    expect(r.stdout).toMatch(/result: ok/);
    const report = JSON.parse(r.stdout.split('\n').find((l) => l.startsWith('{'))!) as Record<string, unknown>;
    expect(report).toMatchObject({ divergences: 0, leaks: [], internalErrors: 0, malformedReplies: 0, hangs: 0, crashed: false });
    expect(report.ops as number).toBeGreaterThan(0);
    expect(report.framesTried as number).toBeGreaterThan(0);
    expect(r.code).toBe(0);
    expect(ts.server.sessions.size).toBe(0);
  }, 60_000);

  it('fault mode: client processes SIGKILLed mid-call leave nothing behind', async () => {
    const r = await stress(['--mode', 'fault', '--clients', '2', '--seconds', '10', '--kills', '3', '--json']);
    const report = JSON.parse(r.stdout.split('\n').find((l) => l.startsWith('{'))!) as Record<string, unknown>;
    expect(report).toMatchObject({ divergences: 0, leaks: [], crashed: false });
    expect(report.kills as number).toBeGreaterThan(0);
    expect(r.code).toBe(0);
  }, 60_000);

  it('a group still held at the end is a leak: reported, exit 1', async () => {
    let holder: RawCaller | undefined;
    let opening: Promise<unknown> | undefined;
    const r = await stress(['--mode', 'ops', '--clients', '1', '--seconds', '1'], (text) => {
      // Once the baseline is taken, another client takes group 4 and keeps it.
      if (opening === undefined && text.includes('baseline')) {
        opening = RawCaller.open(ts.socketPath).then((c) => {
          holder = c;
          return c.call('VFIO_GROUP_OPEN', { group: 4 });
        });
      }
    });
    await opening;
    holder?.destroy();
    expect(r.stdout).toMatch(/leaks: group\(s\) 4 still held/);
    expect(r.stdout).toMatch(/result: FAILED/);
    expect(r.code).toBe(1);
  }, 60_000);
});
