// A wrong world file is refused with a message naming the field.
import { describe, expect, it } from 'vitest';
import { buildLab, parseWorld, WorldFileError } from '../server/sim/world-file';

const base = () => ({
  name: 'w',
  segments: ['lan'],
  hosts: { a: { interfaces: { eth0: { segment: 'lan', address: '10.0.0.1/24' } } } },
});

function refusal(raw: unknown): string {
  try {
    buildLab(parseWorld(raw));
  } catch (e) {
    if (e instanceof WorldFileError) return e.message;
    throw e;
  }
  throw new Error('accepted');
}

describe('world files', () => {
  it('builds a valid world', () => {
    const lab = buildLab(parseWorld(base()));
    expect(lab.run('a', 'ip -br addr show eth0').output).toMatch(/^eth0 +UP +10\.0\.0\.1\/24 fe80::/);
  });
  it('names an unknown segment', () => {
    const w = base();
    w.hosts.a.interfaces.eth0.segment = 'wan';
    expect(refusal(w)).toBe('world file: hosts.a.interfaces.eth0.segment: unknown segment "wan"');
  });
  it('names a bad address', () => {
    const w = base();
    w.hosts.a.interfaces.eth0.address = '10.0.0.300/24';
    expect(refusal(w)).toBe('world file: hosts.a.interfaces.eth0.address: must be an IPv4 address with an optional /prefix, like 192.168.1.2/24');
  });
  it('names a duplicate segment', () => {
    expect(refusal({ ...base(), segments: ['lan', 'lan'] })).toBe('world file: segments: duplicate segment "lan"');
  });
  it('names an unknown field', () => {
    expect(refusal({ ...base(), extra: 1 })).toMatch(/^world file: \(top level\): /);
  });
  it('names a setup line that fails, with its output', () => {
    const w = { ...base(), hosts: { a: { ...base().hosts.a, setup: ['ip link set eth9 up'] } } };
    expect(refusal(w)).toBe('world file: hosts.a.setup[0]: Cannot find device "eth9"');
  });
  it('names a route that fails', () => {
    const w = { ...base(), hosts: { a: { ...base().hosts.a, routes: ['default via 10.9.9.9'] } } };
    expect(refusal(w)).toBe('world file: hosts.a.routes[0]: Error: Nexthop has invalid gateway.');
  });
});
