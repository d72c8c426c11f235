/** Behaviour profiles: chosen per server (option or topology `profile`), reported in VERSION. */
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_TOPOLOGY, parseTopology } from '../../src/hw/topology.js';
import { createSystem } from '../../src/ops/context.js';
import { PROFILES, quirksOf } from '../../src/vfio/profile.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const servers: TestServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

describe('profile', () => {
  it('VERSION capabilities report the server profile: linux by default, strict when asked', async () => {
    const l = await startTestServer();
    const s = await startTestServer({ profile: 'strict' });
    servers.push(l, s);
    expect((await l.connect()).serverInfo.capabilities.profile).toBe('linux');
    expect((await s.connect()).serverInfo.capabilities.profile).toBe('strict');
    expect(s.server.system.profile).toBe('strict');
    expect(s.server.system.quirks).toBe(PROFILES.strict);
  });

  it('the topology config may name it; the option wins; anything else is a named config error', () => {
    const json = { phbs: [{ name: 'phb0', pes: [{ pe: 1, group: 1, devices: ['0000:01:00.0'] }] }] };
    expect(parseTopology(json).profile).toBeUndefined();
    const strict = parseTopology({ ...json, profile: 'strict' });
    expect(strict.profile).toBe('strict');
    expect(createSystem({ topology: strict }).profile).toBe('strict');
    expect(createSystem({ topology: strict, profile: 'linux' }).profile).toBe('linux');
    expect(createSystem({ topology: DEFAULT_TOPOLOGY }).quirks).toBe(PROFILES.linux);
    expect(() => parseTopology({ ...json, profile: 'bsd' })).toThrow(/\$\.profile/);
  });

  it('one frozen table: every switch is on for linux and off for strict', () => {
    const { profile: _l, ...linux } = quirksOf('linux');
    const { profile: _s, ...strict } = quirksOf('strict');
    expect(Object.keys(linux)).toEqual(Object.keys(strict));
    expect(Object.values(linux).every((v) => v === true)).toBe(true);
    expect(Object.values(strict).every((v) => v === false)).toBe(true);
    expect(Object.isFrozen(PROFILES.linux) && Object.isFrozen(PROFILES.strict) && Object.isFrozen(PROFILES)).toBe(true);
    expect(quirksOf()).toBe(PROFILES.linux);
  });
});
