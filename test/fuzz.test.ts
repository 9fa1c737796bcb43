// Random command lines never crash the engine, and the lab's invariants hold.
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Lab } from '../server/sim/lab';
import { buildLab, parseWorld } from '../server/sim/world-file';

const spec = parseWorld(JSON.parse(readFileSync(join(import.meta.dirname, '../server/templates/classroom.json'), 'utf8')));

const WORDS = ['ip', 'link', 'add', 'del', 'set', 'up', 'down', 'type', 'veth', 'bridge', 'peer', 'name', 'netns', 'red', 'blue', 'master', 'br0', 'v0', 'v1', 'addr', 'route', 'via', 'dev', 'default', '10.0.0.1/24', '10.0.0.2', 'neigh', 'exec', 'ping', '-c', '1', '-n', 'nomaster', 'mtu', '9000', '|', ';', '&&', '||', '>', '2>&1', '/dev/null', 'grep', 'iptables', '-t', 'nat', '-A', 'POSTROUTING', '-j', 'MASQUERADE', 'sysctl', '-w', 'net.ipv4.ip_forward=1', '"', "'", 'eth0', 'lo', 'arp', 'route', '-n', 'fdb', 'show', 'state', 'learning', 'on', 'off', 'stp_state', 'forward_delay', '200', 'hairpin', 'isolated', 'cost', 'vlan', '02:00:00:00:00:01', 'static', 'permanent', 'dynamic', 'self', 'fdb_flush', 'ageing_time'];

function checkInvariants(lab: Lab): void {
  for (const host of lab.world.hosts.values()) {
    for (const ns of host.allNamespaces()) {
      for (const dev of ns.devices.values()) {
        expect(ns.byName.get(dev.name)).toBe(dev);
        if (dev.kind.name === 'veth') {
          expect(dev.peer, `${dev.name} has a peer`).not.toBeNull();
          expect(dev.peer!.peer).toBe(dev);
          expect(dev.peer!.ns.devices.get(dev.peer!.ifindex)).toBe(dev.peer);
        }
        if (dev.master) expect(dev.master.bridge!.ports).toContain(dev);
        expect(dev.brport !== null, `${dev.name} has port settings exactly while it is a port`).toBe(dev.master !== null);
        if (dev.bridge) for (const port of dev.bridge.ports) expect(port.ns.devices.get(port.ifindex)).toBe(port);
      }
      for (const route of ns.routes) if (route.dev) expect(ns.devices.get(route.dev.ifindex), 'route through a present device').toBe(route.dev);
    }
  }
}

describe('random command lines', () => {
  it('never throw and keep the lab consistent', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.constantFrom(...WORDS), { minLength: 1, maxLength: 9 }), { minLength: 1, maxLength: 12 }), (lines) => {
        const lab = buildLab(spec);
        lab.run('hostA', 'ip netns add red; ip link add br0 type bridge; ip link add v0 type veth peer name v1');
        for (const words of lines) {
          const result = lab.run('hostA', words.join(' '));
          expect(typeof result.exitCode).toBe('number');
        }
        checkInvariants(lab);
      }),
      { numRuns: 300, seed: 42 },
    );
  });
});
