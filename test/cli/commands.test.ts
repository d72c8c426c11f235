/**
 * The issue 9 CLI items, one test each, run against the built command as a user would. Each of
 * these failed on the yargs-based CLI (the old behaviour is quoted in the test names), except
 * --version, which that CLI already got right here (the test pins it).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, exited, startServe, vphb, type Served } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'vphb-cli9-'));
const socket = join(dir, 'vphb.sock');
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
let served: Served;
let tcpServed: Served;

beforeAll(async () => {
  served = await startServe(['--socket', socket, '--log-level', 'info']);
  // TCP on IPv6 loopback and WebSocket, no UNIX socket: `--no-unix` as a real negation.
  tcpServed = await startServe(['--no-unix', '--tcp', '[::1]:0', '--ws', '127.0.0.1:0', '--token', 'tok', '--log-level', 'warn']);
});

afterAll(async () => {
  for (const s of [served, tcpServed]) {
    s?.proc.kill('SIGTERM');
    if (s !== undefined) await exited(s.proc);
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('vphb serve options', () => {
  it('--no-unix is a negation ("Unknown argument: unix" before)', () => {
    expect(tcpServed.addresses).toHaveLength(2);
    expect(tcpServed.addresses.some((a) => a.startsWith('unix:'))).toBe(false);
  });

  it('prints an IPv6 listener as tcp://[::1]:PORT, which -c accepts (tcp://::1:PORT before)', () => {
    const tcp = tcpServed.addresses.find((a) => a.startsWith('tcp:'))!;
    expect(tcp).toMatch(/^tcp:\/\/\[::1\]:\d+$/);
    const r = vphb(['ping', '-c', tcp, '--token', 'tok', '-n', '1']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(`at ${tcp}\n`);
    // The QEMU-style spelling of the same address.
    const port = tcp.split(':').pop()!;
    expect(vphb(['ping', '-c', `tcp:[::1]:${port}`, '--token', 'tok', '-n', '1']).status).toBe(0);
  });

  it.each([
    ['abc', 'expected a whole number of bytes (K/M/G suffixes allowed) in 4096..1073741824, got "abc"'],
    ['0', '0 is out of range: expected 4096..1073741824'],
    ['10', '10 is out of range: expected 4096..1073741824'],
    ['20', '20 is out of range: expected 4096..1073741824'],
  ])('--max-frame-size %s is refused before listening (accepted, then crashed, before)', (v, msg) => {
    const r = vphb(['serve', '--socket', join(dir, `mfs-${v}.sock`), '--max-frame-size', v]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`vphb: serve: --max-frame-size: ${msg}\n\nRun "vphb serve --help" for usage.\n`);
  });

  it('an invalid value from the environment names the variable', () => {
    const r = vphb(['serve', '--socket', join(dir, 'env.sock')], { VPHB_MAX_FRAME_SIZE: 'lots' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('vphb: serve: VPHB_MAX_FRAME_SIZE: expected a whole number of bytes');
  });

  it('logs JSON lines to stdout by default, and to --log-file when given', async () => {
    const lines = served.stdout().trim().split('\n').map((l) => JSON.parse(l) as { msg: string; listen?: string[] });
    expect(lines[0]).toMatchObject({ msg: 'listening', listen: [`unix:${socket}`] });
    const logFile = join(dir, 'logs', 'vphb.log');
    const s = await startServe(['--socket', join(dir, 'logfile.sock'), '--log-file', logFile]);
    expect(vphb(['ping', '-c', join(dir, 'logfile.sock'), '-n', '1']).status).toBe(0);
    s.proc.kill('SIGTERM');
    await exited(s.proc);
    expect(s.stdout()).toBe('');
    const msgs = readFileSync(logFile, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { msg: string }).msg);
    expect(msgs).toEqual(expect.arrayContaining(['listening', 'connected', 'handshake', 'disconnected', 'shutting down']));
  });

  it('--log-format pretty writes the short human form instead of JSON (what a terminal gets by default)', async () => {
    const s = await startServe(['--socket', join(dir, 'pretty.sock'), '--log-format', 'pretty']);
    s.proc.kill('SIGTERM');
    await exited(s.proc);
    const first = s.stdout().split('\n')[0]!;
    expect(first).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO  listening listen=\["unix:.*pretty\.sock"\] phbs=2 groups=\[1,2,3,4,5,6\]$/);
  });
});

describe('vphb client commands', () => {
  it('ignores VPHB_* variables of other commands (VPHB_LOG_LEVEL broke ping before)', () => {
    const r = vphb(['ping', '-n', '1'], { VPHB_SOCKET: socket, VPHB_LOG_LEVEL: 'debug', VPHB_MAX_FRAME_SIZE: '1M', VPHB_NO_UNIX: '1' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    // VPHB_SOCKET, exported for serve, is also where ping looks by default.
    expect(r.stdout).toContain(`at unix:${socket}\n`);
  });

  it.each([
    ['0', '--count: 0 is out of range: expected 1..1000000'],
    ['-3', '--count: expected a whole number in 1..1000000, got "-3"'],
    ['abc', '--count: expected a whole number in 1..1000000, got "abc"'],
    ['2.5', '--count: expected a whole number in 1..1000000, got "2.5"'],
  ])('ping -n %s is a usage error ("Cannot read properties of undefined" before)', (n, msg) => {
    const r = vphb(['ping', '-c', socket, '-n', n]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(msg);
  });

  it('says "1 round trip" and prints the server version', () => {
    const r = vphb(['ping', '-c', `unix:${socket}`, '-n', '1']);
    expect(r.stdout).toMatch(new RegExp(`^connected to vphb ${pkg.version.replace(/\./g, '\\.')} protocol 1\\.0 at unix:`));
    expect(r.stdout).toMatch(/ping: 1 round trip, rtt/);
  });

  it('--version is the package version wherever it runs, also through an installed bin link', () => {
    // Another project's package.json in the cwd, and vphb linked into its node_modules/.bin.
    const project = join(dir, 'project');
    mkdirSync(join(project, 'node_modules', '.bin'), { recursive: true });
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'not-vphb', version: '9.9.9' }));
    symlinkSync(CLI, join(project, 'node_modules', '.bin', 'vphb'));
    expect(vphb(['--version'], {}, project).stdout).toBe(`${pkg.version}\n`);
    const viaBin = spawnSync(process.execPath, [join(project, 'node_modules', '.bin', 'vphb'), '-V'], { cwd: project, encoding: 'utf8' });
    expect(viaBin.stdout).toBe(`${pkg.version}\n`);
  });

  it('connection errors name the target and what to do (raw "connect ENOENT" before)', () => {
    const missing = join(dir, 'nobody.sock');
    const r = vphb(['ping', '-c', missing]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^vphb: no vphb server at unix:${missing}: the socket does not exist; start one with "vphb serve"`));
    const bad = vphb(['ping', '-c', 'tcp://:7420']);
    expect(bad.stderr).toBe('vphb: bad TCP address "tcp://:7420": want tcp:HOST:PORT or tcp://HOST:PORT (IPv6 as [::1]), e.g. tcp:127.0.0.1:7420\n');
    const tcp = tcpServed.addresses.find((a) => a.startsWith('tcp:'))!;
    const port = tcp.split(':').pop()!;
    const ws = vphb(['ping', '-c', `ws://[::1]:${port}`, '--token', 'tok']);
    expect(ws.stderr).toMatch(/^vphb: ws:\/\/\[::1\]:\d+ did not answer as a vphb WebSocket server .*; if it is a --tcp port, use tcp:HOST:PORT\n$/);
    const noToken = vphb(['ping', '-c', tcp]);
    expect(noToken.stderr).toContain("refused the handshake (token required on this transport): pass the server's token with --token or VPHB_TOKEN");
  });

  it('topology --json is accepted by serve --config as it is, and serves the same topology', async () => {
    const j = vphb(['topology', '-c', socket, '--json']);
    expect(j.status).toBe(0);
    const cfg = join(dir, 'roundtrip.json');
    writeFileSync(cfg, j.stdout);
    const s = await startServe(['--socket', join(dir, 'rt.sock'), '--config', cfg, '--log-level', 'warn']);
    try {
      expect(vphb(['topology', '-c', join(dir, 'rt.sock'), '--json']).stdout).toBe(j.stdout);
      expect(s.banner).toContain('phb1 (spapr POWER8, 2 groups)');
    } finally {
      s.proc.kill('SIGTERM');
      await exited(s.proc);
    }
  });

  it('serve --config reports every error at once with its JSON path, duplicate PHB names included', () => {
    const cfg = join(dir, 'bad.json');
    const pe = (n: number): unknown => ({ pe: n, group: n, devices: [`0000:0${n}:00.0`] });
    writeFileSync(cfg, JSON.stringify({ phbs: [{ name: 'x', max_levels: 7, pes: [pe(1)] }, { name: 'x', pes: [pe(2)], bogus: 1 }] }));
    const r = vphb(['serve', '--socket', join(dir, 'bad.sock'), '--config', cfg]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe([
      `vphb: --config ${cfg}: topology config: 3 errors:`,
      '  $.phbs[0].max_levels: must be an integer in [1, 5]',
      '  $.phbs[1].bogus: unknown key',
      '  $.phbs[1].name: PHB name "x" is already used by $.phbs[0]',
      '',
    ].join('\n'));
  });

  it('pluralises the banner: "1 group"', async () => {
    const cfg = join(dir, 'one.json');
    writeFileSync(cfg, JSON.stringify({ phbs: [{ pes: [{ pe: 1, group: 1, devices: ['0000:01:00.0'] }] }] }));
    const s = await startServe(['--socket', join(dir, 'one.sock'), '--config', cfg, '--log-level', 'warn']);
    s.proc.kill('SIGTERM');
    await exited(s.proc);
    expect(s.banner).toContain('emulating phb0 (spapr POWER9, 1 group)\n');
  });
});
