// What clients see of the simulated kernel: plain JSON views of every
// namespace and segment, computed from the World after each change. Views
// hold only what the topology diagram needs (no counters, no neighbour
// timers), so they change only when the topology does.
import { formatIpv4, formatMac } from '../sim/kernel/addr';
import type { Device } from '../sim/kernel/device';
import { sortedRoutes } from '../sim/kernel/fib';
import type { NetNs } from '../sim/kernel/netns';
import { TABLE_CHAINS, type TableName } from '../sim/kernel/netfilter';
import type { World } from '../sim/kernel/world';
import { ruleSpec } from '../sim/tools/iptables';

export interface DeviceView {
  /** The namespace's view key (`hostA`, `hostA/red`). */
  ns: string;
  name: string;
  ifindex: number;
  kind: string;
  up: boolean;
  carrier: boolean;
  operState: string;
  mac: string;
  mtu: number;
  ipv4: string[];
  ipv6: string[];
  master: string | null;
  /** The other end of a veth: its namespace (view key) and name. */
  peer: { ns: string; name: string } | null;
  segment: string | null;
}

export interface RouteView {
  dst: string;
  gateway: string | null;
  dev: string | null;
  type: string;
  proto: string;
  scope: string;
  metric: number;
}

export interface ChainView {
  policy: string | null;
  /** Each rule as `iptables -S` prints it, without the `-A CHAIN`. */
  rules: string[];
}

export interface NamespaceView {
  host: string;
  /** null for the host's own (root) namespace. */
  name: string | null;
  forwarding: boolean;
  routes: RouteView[];
  /** Tables that hold rules or a non-default policy: table → chain → view. */
  netfilter: Record<string, Record<string, ChainView>>;
}

export interface SegmentView {
  /** NICs plugged into the segment, as `HOST/NS:DEVICE` labels (`hostA:eth0` in a root namespace). */
  ports: string[];
}

function deviceView(dev: Device): DeviceView {
  return {
    ns: dev.ns.label,
    name: dev.name,
    ifindex: dev.ifindex,
    kind: dev.kind.name,
    up: dev.adminUp,
    carrier: dev.carrier,
    operState: dev.kind.operState(dev),
    mac: formatMac(dev.mac),
    mtu: dev.mtu,
    ipv4: dev.ipv4.map((a) => `${formatIpv4(a.local)}/${a.prefixLen}`),
    ipv6: dev.ipv6.map((a) => `${a.address}/${a.prefixLen}`),
    master: dev.master?.name ?? null,
    peer: dev.peer ? { ns: dev.peer.ns.label, name: dev.peer.name } : null,
    segment: dev.segment?.name ?? null,
  };
}

function netfilterView(ns: NetNs): NamespaceView['netfilter'] {
  const view: NamespaceView['netfilter'] = {};
  if (!ns.netfilter) return view;
  for (const tableName of Object.keys(TABLE_CHAINS) as TableName[]) {
    const table = ns.netfilter.existingTable(tableName);
    if (!table) continue;
    const chains: Record<string, ChainView> = {};
    for (const chain of table.chains.values()) {
      const builtinDefault = chain.policy === 'ACCEPT' && chain.rules.length === 0;
      if (!builtinDefault) chains[chain.name] = { policy: chain.policy, rules: chain.rules.map(ruleSpec) };
    }
    if (Object.keys(chains).length) view[tableName] = chains;
  }
  return view;
}

export function namespaceView(ns: NetNs): NamespaceView {
  return {
    host: ns.host.name,
    name: ns.name,
    forwarding: ns.ipForward,
    routes: sortedRoutes(ns).map((r) => ({
      dst: r.dst === 0 && r.prefixLen === 0 ? 'default' : `${formatIpv4(r.dst)}/${r.prefixLen}`,
      gateway: r.gateway === null ? null : formatIpv4(r.gateway),
      dev: r.dev?.name ?? null,
      type: r.type,
      proto: r.proto,
      scope: r.scope,
      metric: r.metric,
    })),
    netfilter: netfilterView(ns),
  };
}

/** Every namespace of every host. */
export function namespaces(world: World): NetNs[] {
  return [...world.hosts.values()].flatMap((host) => host.allNamespaces());
}

/** Every device, keyed `NS#IFINDEX` (`hostA#2`, `hostA/red#1`): a rename keeps its key. */
export function deviceViews(world: World): Map<string, DeviceView> {
  const views = new Map<string, DeviceView>();
  for (const ns of namespaces(world)) for (const dev of ns.sortedDevices()) views.set(`${ns.label}#${dev.ifindex}`, deviceView(dev));
  return views;
}

export function segmentViews(world: World): Map<string, SegmentView> {
  const views = new Map<string, SegmentView>();
  for (const [name, segment] of world.segments) {
    views.set(name, { ports: segment.ports.filter((dev) => dev.ns.alive).map((dev) => `${dev.ns.label}:${dev.name}`) });
  }
  return views;
}

/** The topology as the state document holds it: namespaces by label, devices by `NS#IFINDEX`, segments by name. */
export function topologyViews(world: World): { namespaces: Map<string, NamespaceView>; devices: Map<string, DeviceView>; segments: Map<string, SegmentView> } {
  return { namespaces: new Map(namespaces(world).map((ns) => [ns.label, namespaceView(ns)])), devices: deviceViews(world), segments: segmentViews(world) };
}

export interface ObjectCounts {
  namespaces: number;
  devices: number;
  rules: number;
}

export function countObjects(world: World): ObjectCounts {
  const all = namespaces(world);
  return {
    namespaces: all.length,
    devices: all.reduce((n, ns) => n + ns.devices.size, 0),
    rules: all.reduce((n, ns) => n + (ns.netfilter?.ruleCount() ?? 0), 0),
  };
}
