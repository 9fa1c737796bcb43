// Tab completion that knows where it is on the line: `ip` objects and their
// verbs, device names after `dev`, `master` or `ip link set`, namespace names
// after `ip netns exec` or `ip -n`, iptables tables and chains. Names come from
// the state document; this file is pure so it can be tested without a browser.
import type * as Y from 'yjs';

/** The names one host has, by namespace ('' is the host's own namespace). */
export interface HostNames {
  namespaces: string[];
  devices: Record<string, string[]>;
  /** Chains that hold rules or a policy, by namespace and table. */
  chains: Record<string, Record<string, string[]>>;
}

export const COMMANDS = ['ip', 'ping', 'traceroute', 'curl', 'nc', 'arp', 'route', 'ifconfig', 'bridge', 'sysctl', 'iptables', 'conntrack', 'tcpdump', 'ss', 'explain', 'cat', 'echo', 'grep', 'head', 'tail', 'wc', 'hostname', 'sleep', 'exit', 'bash'];

const IP_OBJECTS = ['link', 'address', 'addr', 'route', 'neigh', 'netns', 'rule', 'maddr', 'tuntap'];
/** What `ip` accepts for each object, abbreviations included. */
const IP_OBJECT_NAMES: Record<string, string> = { l: 'link', link: 'link', a: 'address', addr: 'address', address: 'address', r: 'route', ro: 'route', route: 'route', n: 'neigh', neigh: 'neigh', neighbor: 'neigh', neighbour: 'neigh', netns: 'netns', ru: 'rule', rule: 'rule', m: 'maddr', maddr: 'maddr', tuntap: 'tuntap' };
const IP_VERBS: Record<string, string[]> = {
  link: ['add', 'del', 'set', 'show', 'list'],
  address: ['add', 'del', 'show', 'flush', 'list'],
  route: ['add', 'del', 'show', 'get', 'replace', 'flush', 'list'],
  neigh: ['add', 'del', 'show', 'replace', 'flush', 'list'],
  netns: ['add', 'del', 'delete', 'list', 'exec', 'identify', 'set'],
  rule: ['add', 'del', 'show', 'flush', 'list'],
  maddr: ['add', 'del', 'show'],
  tuntap: ['add', 'del', 'show'],
};
/** Keywords worth offering after an object's verb. */
const IP_KEYWORDS: Record<string, string[]> = {
  'link add': ['name', 'type', 'peer', 'mtu', 'address', 'netns'],
  'link set': ['up', 'down', 'master', 'nomaster', 'netns', 'name', 'mtu', 'address', 'dev'],
  'link del': ['dev'],
  'link show': ['dev', 'up', 'type', 'master'],
  'address add': ['dev', 'broadcast', 'label'],
  'address del': ['dev'],
  'address show': ['dev', 'up'],
  'address flush': ['dev'],
  'route add': ['via', 'dev', 'default', 'table', 'metric', 'src', 'scope'],
  'route del': ['via', 'dev', 'default', 'table'],
  'route replace': ['via', 'dev', 'default', 'table', 'metric'],
  'route get': ['from', 'iif', 'oif'],
  'route show': ['dev', 'table', 'default'],
  'neigh add': ['lladdr', 'dev', 'nud', 'proxy'],
  'neigh show': ['dev', 'proxy'],
  'rule add': ['from', 'to', 'table', 'priority', 'iif', 'oif', 'fwmark'],
};
const LINK_TYPES = ['veth', 'bridge', 'dummy', 'macvlan', 'macvtap', 'vxlan', 'ifb'];
/** Words after which a device name comes. */
const TAKES_DEVICE = new Set(['dev', 'master', 'iif', 'oif', 'link']);
/** `ip netns` verbs whose first argument is a namespace. */
const NETNS_NAMED = new Set(['exec', 'del', 'delete', 'set', 'identify', 'pids']);

const TABLE_CHAINS: Record<string, string[]> = {
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  raw: ['PREROUTING', 'OUTPUT'],
};
const TAKES_CHAIN = new Set(['-A', '--append', '-I', '--insert', '-D', '--delete', '-R', '--replace', '-L', '--list', '-S', '--list-rules', '-F', '--flush', '-Z', '--zero', '-P', '--policy', '-N', '--new-chain', '-X', '--delete-chain']);
const TARGETS = ['ACCEPT', 'DROP', 'REJECT', 'RETURN', 'LOG', 'MASQUERADE', 'SNAT', 'DNAT'];

/**
 * The words that could complete the last word of `before` (the line up to the
 * cursor), for a terminal in namespace `ns` (null: the host's own).
 */
export function completions(before: string, names: HostNames, ns: string | null): string[] {
  const words = before.split(/\s+/).filter((w, i, all) => w !== '' || i === all.length - 1);
  const current = words.pop() ?? '';
  const offered = candidates(words, names, ns ?? '');
  return [...new Set(offered)].filter((w) => w.startsWith(current)).sort();
}

function candidates(words: string[], names: HostNames, ns: string): string[] {
  const [command, ...args] = words;
  if (command === undefined) return COMMANDS;
  if (command === 'ip') return ipCandidates(args, names, ns);
  if (command === 'iptables') return iptablesCandidates(args, names, ns);
  if (command === 'ifconfig' || command === 'tcpdump') return args.length === 0 || args.at(-1) === '-i' ? devices(names, ns) : [];
  return [];
}

function devices(names: HostNames, ns: string): string[] {
  return names.devices[ns] ?? [];
}

function ipCandidates(args: string[], names: HostNames, ns: string): string[] {
  let i = 0;
  // Options before the object: -n NS / -netns NS change the namespace; the rest are flags.
  while (i < args.length && args[i]!.startsWith('-')) {
    if (args[i] === '-n' || args[i] === '-netns') {
      if (i + 1 === args.length) return names.namespaces;
      ns = args[i + 1]!;
      i += 2;
    } else i += 1;
  }
  const objectWord = args[i];
  if (objectWord === undefined) return IP_OBJECTS;
  const object = IP_OBJECT_NAMES[objectWord];
  if (!object) return [];
  const verb = args[i + 1];
  if (verb === undefined) return IP_VERBS[object] ?? [];
  const rest = args.slice(i + 2);
  if (object === 'netns') {
    if (!NETNS_NAMED.has(verb)) return [];
    if (rest.length === 0) return names.namespaces;
    // ip netns exec NS command…: the command completes as typed inside NS.
    return verb === 'exec' ? candidates(rest.slice(1), names, rest[0]!) : [];
  }
  const previous = rest.at(-1);
  if (previous !== undefined && TAKES_DEVICE.has(previous)) return devices(names, ns);
  if (previous === 'netns') return names.namespaces;
  if (previous === 'type') return LINK_TYPES;
  if (previous === 'peer') return ['name'];
  // A value goes after these: nothing to offer.
  if (previous !== undefined && ['name', 'mtu', 'address', 'via', 'table', 'metric', 'lladdr', 'src', 'from', 'to'].includes(previous)) return [];
  const keywords = (IP_KEYWORDS[`${object} ${verb}`] ?? []).filter((keyword) => !rest.includes(keyword));
  // `ip link set|del|show DEV`, `ip addr show DEV`: the device may come first, without `dev`.
  const deviceFirst = rest.length === 0 && ((object === 'link' && verb !== 'add') || (object === 'address' && (verb === 'show' || verb === 'list' || verb === 'flush')));
  return deviceFirst ? [...devices(names, ns), ...keywords] : keywords;
}

function iptablesCandidates(args: string[], names: HostNames, ns: string): string[] {
  const previous = args.at(-1);
  const tableAt = args.findIndex((a) => a === '-t' || a === '--table');
  const table = tableAt >= 0 ? (args[tableAt + 1] ?? 'filter') : 'filter';
  const userChains = (names.chains[ns]?.[table] ?? []).filter((c) => !(TABLE_CHAINS[table] ?? []).includes(c));
  if (previous === '-t' || previous === '--table') return Object.keys(TABLE_CHAINS);
  if (previous !== undefined && TAKES_CHAIN.has(previous)) return [...(TABLE_CHAINS[table] ?? []), ...userChains];
  if (previous === '-i' || previous === '-o' || previous === '--in-interface' || previous === '--out-interface') return devices(names, ns);
  if (previous === '-j' || previous === '--jump') return [...TARGETS, ...userChains];
  return [];
}

interface NamespaceState {
  host: string;
  name: string | null;
  netfilter?: Record<string, Record<string, unknown>>;
}

/** A host's names from the state document's `namespaces` and `devices` maps. */
export function hostNames(namespaces: Y.Map<NamespaceState>, devices: Y.Map<{ ns: string; name: string }>, host: string): HostNames {
  const names: HostNames = { namespaces: [], devices: {}, chains: {} };
  namespaces.forEach((entry, key) => {
    if (entry.host !== host) return;
    const ns = key.includes('/') ? (entry.name ?? key.slice(host.length + 1)) : '';
    if (ns) names.namespaces.push(ns);
    names.chains[ns] = Object.fromEntries(Object.entries(entry.netfilter ?? {}).map(([table, chains]) => [table, Object.keys(chains)]));
  });
  devices.forEach((device) => {
    const [deviceHost, ns = ''] = device.ns.split('/');
    if (deviceHost === host) (names.devices[ns] ??= []).push(device.name);
  });
  return names;
}
