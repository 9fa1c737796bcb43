// The web terminal's Tab completion, as a pure function of the line and the
// host's names.
import { describe, expect, test } from 'vitest';
import * as Y from 'yjs';
import { completions, hostNames, type HostNames } from '../web/src/completion';

const NAMES: HostNames = {
  namespaces: ['blue', 'red'],
  devices: { '': ['lo', 'eth0', 'v-net-0', 'veth-red-br', 'veth-blue-br'], red: ['lo', 'veth-red'], blue: ['lo', 'veth-blue'] },
  chains: { '': { nat: ['POSTROUTING'], filter: ['FORWARD', 'LOGDROP'] } },
};

const complete = (line: string, ns: string | null = null) => completions(line, NAMES, ns);

describe('Tab completion', () => {
  test('commands at the start of the line', () => {
    expect(complete('ip')).toEqual(['ip', 'iptables']);
    expect(complete('  pi')).toEqual(['ping']);
    expect(complete('')).toContain('iptables');
  });

  test('ip objects, their abbreviations and their verbs', () => {
    expect(complete('ip ')).toEqual(['addr', 'address', 'link', 'maddr', 'neigh', 'netns', 'route', 'rule', 'tuntap']);
    expect(complete('ip ne')).toEqual(['neigh', 'netns']);
    expect(complete('ip link ')).toEqual(['add', 'del', 'list', 'set', 'show']);
    expect(complete('ip a s')).toEqual(['show']);
    expect(complete('ip -4 -br addr sh')).toEqual(['show']);
    expect(complete('ip route a')).toEqual(['add']);
    expect(complete('ip nosuch ')).toEqual([]);
  });

  test('device names after dev and master, and first after ip link set', () => {
    expect(complete('ip addr add 10.0.0.1/24 dev v')).toEqual(['v-net-0', 'veth-blue-br', 'veth-red-br']);
    expect(complete('ip link set veth-red-br master ')).toEqual(['eth0', 'lo', 'v-net-0', 'veth-blue-br', 'veth-red-br']);
    expect(complete('ip link set veth-r')).toEqual(['veth-red-br']);
    expect(complete('ip link set veth-red-br ')).toEqual(['address', 'dev', 'down', 'master', 'mtu', 'name', 'netns', 'nomaster', 'up']);
    expect(complete('ip route add default via 10.0.0.1 d')).toEqual(['dev']);
  });

  test('the namespace the line runs in decides the devices', () => {
    expect(complete('ip -n red link set v')).toEqual(['veth-red']);
    expect(complete('ip -n blue addr add 192.168.15.2/24 dev ')).toEqual(['lo', 'veth-blue']);
    expect(complete('ip netns exec red ip link set ve')).toEqual(['veth-red']);
    expect(complete('ip link set v', 'blue')).toEqual(['veth-blue']);
    expect(complete('ip -n ghost link set ')).toEqual(['address', 'dev', 'down', 'master', 'mtu', 'name', 'netns', 'nomaster', 'up']);
  });

  test('namespace names after ip netns exec|del and ip -n, and commands after ip netns exec NS', () => {
    expect(complete('ip netns exec ')).toEqual(['blue', 'red']);
    expect(complete('ip netns del r')).toEqual(['red']);
    expect(complete('ip -n ')).toEqual(['blue', 'red']);
    expect(complete('ip -netns b')).toEqual(['blue']);
    expect(complete('ip link set veth-red netns ')).toEqual(['blue', 'red']);
    expect(complete('ip netns exec red pi')).toEqual(['ping']);
    expect(complete('ip netns add ')).toEqual([]);
  });

  test('what follows peer, type and name', () => {
    expect(complete('ip link add veth-a type ')).toEqual(['bridge', 'dummy', 'ifb', 'macvlan', 'macvtap', 'veth', 'vxlan']);
    expect(complete('ip link add veth-a type veth peer ')).toEqual(['name']);
    expect(complete('ip link add veth-a type veth peer name ')).toEqual([]);
  });

  test('iptables tables, chains (built-in and the namespace’s own), interfaces and targets', () => {
    expect(complete('iptables -t ')).toEqual(['filter', 'mangle', 'nat', 'raw']);
    expect(complete('iptables -t nat -A ')).toEqual(['INPUT', 'OUTPUT', 'POSTROUTING', 'PREROUTING']);
    expect(complete('iptables -A ')).toEqual(['FORWARD', 'INPUT', 'LOGDROP', 'OUTPUT']);
    expect(complete('iptables -t nat -A POSTROUTING -o e')).toEqual(['eth0']);
    expect(complete('iptables -A FORWARD -j ')).toEqual(['ACCEPT', 'DNAT', 'DROP', 'LOG', 'LOGDROP', 'MASQUERADE', 'REJECT', 'RETURN', 'SNAT']);
  });
});

test('a host’s names come from the state document', () => {
  const state = new Y.Doc();
  const namespaces = state.getMap<{ host: string; name: string | null; netfilter?: Record<string, Record<string, unknown>> }>('namespaces');
  const devices = state.getMap<{ ns: string; name: string }>('devices');
  namespaces.set('hostA', { host: 'hostA', name: null, netfilter: { nat: { POSTROUTING: { policy: 'ACCEPT', rules: ['-o eth0 -j MASQUERADE'] } } } });
  namespaces.set('hostA/red', { host: 'hostA', name: 'red' });
  namespaces.set('hostB', { host: 'hostB', name: null });
  devices.set('hostA#1', { ns: 'hostA', name: 'lo' });
  devices.set('hostA#2', { ns: 'hostA', name: 'eth0' });
  devices.set('hostA/red#2', { ns: 'hostA/red', name: 'veth-red' });
  devices.set('hostB#2', { ns: 'hostB', name: 'eth0' });
  expect(hostNames(namespaces, devices, 'hostA')).toEqual({
    namespaces: ['red'],
    devices: { '': ['lo', 'eth0'], red: ['veth-red'] },
    chains: { '': { nat: ['POSTROUTING'] }, red: {} },
  });
});
