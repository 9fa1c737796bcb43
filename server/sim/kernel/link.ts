// Link operations (net/core/rtnetlink.c, dev.c): creating, deleting,
// raising, renaming and moving devices, with what follows from each —
// carrier on the other end, addresses, routes, neighbours, bridge state.
import type { Mac } from './addr';
import { addIpv4Address, dropIpv6, LOOPBACK_ADDRESS, syncIpv6 } from './address';
import { BRIDGE_DEFAULTS, Device, newBridgePort, type LinkKind, type MacvlanMode, type VxlanConfig } from './device';
import { fail, ok, OK, type KResult } from './errno';
import { addConnectedRoute, flushDeviceRoutes } from './fib';
import { neighCarrierDown, neighFlushDevice } from './neigh';
import type { NetNs } from './netns';
import { bridgeKind, bridgePortAdded, recalculateBridge, resetPortStates } from './links/bridge';
import { etherKind, type Segment } from './links/ether';
import { ifbKind } from './links/ifb';
import { loopbackKind } from './links/loopback';
import { macvlanKind, macvtapKind } from './links/macvlan';
import { vethKind } from './links/veth';
import { syncVxlanSocket, vxlanKind, vxlanMtu } from './links/vxlan';

/** The kinds `ip link add` can create: the modules the lab machines' kernel has. */
export const LINK_KINDS: Record<string, LinkKind> = { veth: vethKind, bridge: bridgeKind, ifb: ifbKind, macvlan: macvlanKind, macvtap: macvtapKind, vxlan: vxlanKind };

const IFNAMSIZ = 16;

/** dev_valid_name */
export function validDeviceName(name: string): boolean {
  return name.length > 0 && name.length < IFNAMSIZ && name !== '.' && name !== '..' && !/[/:\s]/.test(name);
}

function allocIfindex(ns: NetNs): number {
  let index = ns.lastIfindex;
  for (;;) {
    index = index >= 0x7fffffff ? 1 : index + 1;
    if (!ns.devices.has(index)) return (ns.lastIfindex = index);
  }
}

function attach(ns: NetNs, dev: Device): void {
  dev.ns = ns;
  ns.devices.set(dev.ifindex, dev);
  ns.byName.set(dev.name, dev);
}

function detach(dev: Device): void {
  dev.ns.devices.delete(dev.ifindex);
  dev.ns.byName.delete(dev.name);
}

/** A device registered in `ns`, at the index asked for or the next free one. */
function newDevice(ns: NetNs, kind: LinkKind, name: string, mac: Mac, index: number | null = null): Device {
  const dev = new Device(kind, ns, index ?? allocIfindex(ns), name, mac);
  if (kind === bridgeKind) dev.bridge = { ports: [], fdb: new Map(), settings: { ...BRIDGE_DEFAULTS }, tsoMaxSize: null, portStatesSelected: false };
  attach(ns, dev);
  return dev;
}

export function createLoopback(ns: NetNs): Device {
  return newDevice(ns, loopbackKind, 'lo', 0);
}

export function createEther(ns: NetNs, name: string, segment: Segment): Device {
  const dev = newDevice(ns, etherKind, name, ns.host.world.randomMac());
  dev.segment = segment;
  dev.rootQdisc = 'pfifo_fast';
  segment.ports.push(dev);
  return dev;
}

/** The link a device reports as its IFLA_LINK (a veth's peer, a macvlan's lower device). */
export function linkPeer(dev: Device): Device | null {
  return dev.peer ?? dev.lower;
}

/** rtnl_fill_link_netnsid: reporting a device whose link lives elsewhere allocates an id for that namespace. */
export function notifyLink(dev: Device): void {
  const link = linkPeer(dev);
  if (link && link.ns !== dev.ns) dev.ns.idFor(link.ns);
}

/**
 * The promiscuity count: what holds it (bridge ports) plus one while up
 * macvlans have MACs in the lower's unicast list, which a tap cannot filter
 * (__dev_set_rx_mode's uc_promisc).
 */
export function promiscuity(dev: Device): number {
  return dev.promisc + (dev.macvlans.some((m) => m.adminUp) ? 1 : 0);
}

/** dev->max_mtu: a macvlan inherits its lower device's. */
export function deviceMaxMtu(dev: Device): number {
  return dev.lower ? deviceMaxMtu(dev.lower) : dev.kind.maxMtu;
}

function nameTaken(ns: NetNs, name: string): boolean {
  return ns.byName.has(name);
}

/** dev_alloc_name: a `%d` in a name becomes the lowest free number. */
export function expandDeviceName(ns: NetNs, name: string): string {
  if (!name.includes('%d')) return name;
  for (let n = 0; ; n++) {
    const candidate = name.replace('%d', String(n));
    if (!ns.byName.has(candidate)) return candidate;
  }
}

export function createLink(ns: NetNs, kind: LinkKind, requested: string, index: number | null = null): KResult<Device> {
  const name = expandDeviceName(ns, requested);
  if (!validDeviceName(name)) return fail('EINVAL');
  if (nameTaken(ns, name) || (index !== null && ns.devices.has(index))) return fail('EEXIST');
  const dev = newDevice(ns, kind, name, ns.host.world.randomMac(), index);
  if (kind === bridgeKind) recalculateBridge(dev);
  return ok(dev);
}

/** macvlan_common_newlink: a passthru macvlan must have its lower device to itself. */
export function createMacvlan(ns: NetNs, kind: LinkKind, requested: string, link: Device, mode: MacvlanMode): KResult<Device> {
  // Stacked on another macvlan, it shares that one's lower device.
  const lower = link.lower ?? link;
  if (lower.kind.linkType !== 'ether') return fail('EINVAL');
  // The lower's one receive hook is taken when it is a bridge port.
  if (lower.master) return fail('EBUSY');
  const passthruTaken = lower.macvlans.some((m) => m.macvlanMode === 'passthru');
  if (passthruTaken || (mode === 'passthru' && lower.macvlans.length > 0)) return fail('EINVAL');
  const name = expandDeviceName(ns, requested);
  if (!validDeviceName(name)) return fail('EINVAL');
  if (nameTaken(ns, name)) return fail('EEXIST');
  const dev = newDevice(ns, kind, name, ns.host.world.randomMac());
  dev.lower = lower;
  dev.macvlanMode = mode;
  lower.macvlans.push(dev);
  return ok(dev);
}

/** vxlan_config_validate: one device per VNI and port in a namespace. */
export function createVxlan(ns: NetNs, requested: string, config: VxlanConfig): KResult<Device> {
  const name = expandDeviceName(ns, requested);
  if (!validDeviceName(name)) return fail('EINVAL');
  if (nameTaken(ns, name)) return fail('EEXIST');
  const clash = [...ns.devices.values()].some((d) => d.vxlan?.vni === config.vni && d.vxlan.dstPort === config.dstPort);
  if (clash) return fail('EEXIST', 'A VXLAN device with the specified VNI already exists');
  const dev = newDevice(ns, vxlanKind, name, ns.host.world.randomMac());
  dev.vxlan = config;
  dev.mtu = vxlanMtu(config.underlay);
  return ok(dev);
}

/**
 * veth_newlink: the peer is registered first (so it gets the lower index),
 * each name's `%d` becoming the lowest free number; a clash found only then
 * (the device's name or index) unregisters the peer, its index spent.
 */
export function createVethPair(ns: NetNs, requested: string, requestedPeer: string, peerNs: NetNs = ns, index: number | null = null, peerIndex: number | null = null): KResult<Device> {
  if (!validDeviceName(requested) || !validDeviceName(requestedPeer)) return fail('EINVAL');
  const peerName = expandDeviceName(peerNs, requestedPeer);
  if (nameTaken(peerNs, peerName) || nameTaken(ns, requested) || (peerIndex !== null && peerNs.devices.has(peerIndex))) return fail('EEXIST');
  const peer = newDevice(peerNs, vethKind, peerName, ns.host.world.randomMac(), peerIndex);
  const name = expandDeviceName(ns, requested);
  if (nameTaken(ns, name) || (index !== null && ns.devices.has(index))) {
    detach(peer);
    return fail('EEXIST');
  }
  const dev = newDevice(ns, vethKind, name, ns.host.world.randomMac(), index);
  dev.peer = peer;
  peer.peer = dev;
  notifyLink(peer);
  notifyLink(dev);
  return ok(dev);
}

/** Recomputes what depends on carrier after `changed` went up or down. */
function carrierChanged(changed: Device[]): void {
  const affected = new Set<Device>();
  for (const dev of changed) {
    affected.add(dev);
    if (dev.peer) affected.add(dev.peer);
    for (const upper of dev.macvlans) affected.add(upper);
  }
  for (const dev of [...affected]) if (dev.master) affected.add(dev.master);
  for (const dev of affected) {
    syncIpv6(dev);
    notifyLink(dev);
    // arp_netdev_event: losing carrier while up forgets the neighbours learned on the device.
    if (dev.wasRunning && dev.adminUp && !dev.carrier) neighCarrierDown(dev);
    dev.wasRunning = dev.running;
  }
}

export function setLinkUp(dev: Device): void {
  if (dev.adminUp) return;
  dev.adminUp = true;
  // Raised without carrier, a veth reports its lower layer down wherever the peer is.
  dev.noCarrierState = 'LOWERLAYERDOWN';
  dev.everUp = true;
  if (dev.vxlan) syncVxlanSocket(dev.ns, dev.vxlan.dstPort);
  if (dev.kind === loopbackKind && !dev.ipv4.some((a) => a.local === LOOPBACK_ADDRESS)) {
    addIpv4Address(dev, LOOPBACK_ADDRESS, 8, { scope: 'host' });
  }
  for (const a of dev.ipv4) addConnectedRoute(dev.ns, dev, a);
  resetPortStates(dev);
  carrierChanged([dev]);
}

export function setLinkDown(dev: Device): void {
  if (!dev.adminUp) return;
  dev.adminUp = false;
  if (dev.vxlan) syncVxlanSocket(dev.ns, dev.vxlan.dstPort);
  // The peer loses carrier: it sees its lower layer only when that is in its own namespace.
  if (dev.peer) dev.peer.noCarrierState = dev.peer.ns === dev.ns ? 'LOWERLAYERDOWN' : 'DOWN';
  dropIpv6(dev);
  flushDeviceRoutes(dev.ns, dev);
  neighFlushDevice(dev);
  resetPortStates(dev);
  carrierChanged([dev]);
}

/** dev_change_name; kernels since 6.x also rename devices that are up. */
export function renameLink(dev: Device, requested: string): KResult {
  const name = expandDeviceName(dev.ns, requested);
  if (name === dev.name) return OK;
  if (!validDeviceName(name)) return fail('EINVAL');
  if (nameTaken(dev.ns, name)) return fail('EEXIST');
  dev.ns.byName.delete(dev.name);
  dev.ns.sysctl.renameDevice(dev.name, name);
  for (const a of dev.ipv4) if (a.label === dev.name) a.label = name;
  dev.name = name;
  dev.ns.byName.set(name, dev);
  return OK;
}

export function setLinkMtu(dev: Device, mtu: number): KResult {
  if (mtu < dev.kind.minMtu) return fail('EINVAL', 'mtu less than device minimum');
  if (mtu > deviceMaxMtu(dev)) return fail('EINVAL', 'mtu greater than device maximum');
  // macvlan_change_mtu: never above the lower device's MTU.
  if (dev.lower && mtu > dev.lower.mtu) return fail('EINVAL');
  dev.mtu = mtu;
  if (dev.bridge) dev.bridgeMtuSetByUser = true;
  if (dev.master) recalculateBridge(dev.master);
  return OK;
}

export function setLinkAddress(dev: Device, mac: Mac): KResult {
  if (dev.kind === loopbackKind) return fail('EOPNOTSUPP');
  if (mac % 2 ** 41 >= 2 ** 40 || mac === 0) return fail('EADDRNOTAVAIL');
  if (dev.bridge) {
    dev.macSetByUser = true;
    // A new bridge id selects the port states again.
    if (mac !== dev.mac) dev.bridge.portStatesSelected = true;
  }
  dev.mac = mac;
  if (dev.master) recalculateBridge(dev.master);
  if (dev.bridge) recalculateBridge(dev);
  return OK;
}

/** do_set_master: the device leaves its old master first, even when the new one then refuses it. */
export function setLinkMaster(dev: Device, master: Device): KResult {
  if (dev.master === master) return OK;
  if (dev.master) releaseFromMaster(dev);
  if (!master.bridge) return fail('EOPNOTSUPP');
  if (dev.kind === loopbackKind) return fail('EINVAL', 'Can not enslave loopback device');
  if (dev.bridge) return fail('ELOOP', 'Can not enslave a bridge to a bridge');
  // Its receive hook already belongs to its macvlans.
  if (dev.macvlans.length > 0) return fail('EBUSY');
  dev.master = master;
  dev.brport = newBridgePort();
  dev.promisc++;
  master.bridge.ports.push(dev);
  bridgePortAdded(master, dev);
  resetPortStates(dev);
  carrierChanged([dev, master]);
  return OK;
}

export function releaseFromMaster(dev: Device): void {
  const master = dev.master;
  if (!master?.bridge) return;
  master.bridge.ports = master.bridge.ports.filter((p) => p !== dev);
  for (const [mac, entry] of [...master.bridge.fdb]) if (entry.port === dev) master.bridge.fdb.delete(mac);
  dev.master = null;
  dev.brport = null;
  dev.promisc = Math.max(0, dev.promisc - 1);
  recalculateBridge(master);
  carrierChanged([master]);
}

/** unregister_netdevice for one device and whatever it takes along. */
function destroy(dev: Device): void {
  if (!dev.ns.devices.has(dev.ifindex) || dev.ns.devices.get(dev.ifindex) !== dev) return;
  if (dev.master) releaseFromMaster(dev);
  if (dev.bridge) for (const port of [...dev.bridge.ports]) releaseFromMaster(port);
  // A lower device takes its macvlans along, wherever they live.
  for (const upper of [...dev.macvlans]) destroy(upper);
  if (dev.lower) {
    dev.lower.macvlans = dev.lower.macvlans.filter((m) => m !== dev);
    dev.lower = null;
  }
  dev.adminUp = false;
  flushDeviceRoutes(dev.ns, dev);
  neighFlushDevice(dev);
  dev.ns.sysctl.renameDevice(dev.name, null);
  if (dev.segment) dev.segment.ports.splice(dev.segment.ports.indexOf(dev), 1);
  detach(dev);
  if (dev.vxlan) syncVxlanSocket(dev.ns, dev.vxlan.dstPort);
  const peer = dev.peer;
  if (peer) {
    dev.peer = null;
    peer.peer = null;
    destroy(peer);
  }
}

export function deleteLink(dev: Device): KResult {
  if (dev.kind === loopbackKind || dev.kind === etherKind) return fail('EOPNOTSUPP');
  destroy(dev);
  carrierChanged([]);
  return OK;
}

/** dev_change_net_namespace */
export function moveLink(dev: Device, target: NetNs): KResult {
  if (target === dev.ns) return OK;
  if (dev.kind === loopbackKind || dev.kind === etherKind || dev.kind === bridgeKind) return fail('EINVAL');
  if (nameTaken(target, dev.name)) return fail('EEXIST');
  const from = dev.ns;
  setLinkDown(dev);
  if (dev.master) releaseFromMaster(dev);
  dev.ipv4 = [];
  dev.ipv6 = [];
  flushDeviceRoutes(from, dev);
  neighFlushDevice(dev);
  from.sysctl.renameDevice(dev.name, null);
  // The old namespace names the new one (new_nsid), and reports the device one last time.
  from.idFor(target);
  notifyLink(dev);
  detach(dev);
  if (target.devices.has(dev.ifindex)) dev.ifindex = allocIfindex(target);
  dev.everUp = false; // the qdisc is torn down with the move
  attach(target, dev);
  if (dev.peer) dev.peer.noCarrierState = dev.peer.ns === dev.ns ? 'LOWERLAYERDOWN' : 'DOWN';
  notifyLink(dev);
  if (dev.peer) carrierChanged([dev.peer]);
  return OK;
}

/** Tears a namespace down: its veths die with their peers, the rest with it. */
export function destroyNamespace(ns: NetNs): void {
  for (const dev of ns.sortedDevices().reverse()) destroy(dev);
  ns.alive = false;
  for (const other of ns.host.world.hosts.values()) for (const peerNs of other.allNamespaces()) peerNs.nsids.delete(ns);
}

/** ndo_dflt_fdb_add: an address for the device's own unicast or multicast filter (dev_uc_add_excl, dev_mc_add_excl). */
export function addDeviceAddress(dev: Device, mac: Mac, exclusive: boolean): KResult {
  if (dev.addedAddresses.includes(mac)) return exclusive ? fail('EEXIST') : OK;
  dev.addedAddresses.push(mac);
  return OK;
}

/** ndo_dflt_fdb_del */
export function deleteDeviceAddress(dev: Device, mac: Mac): KResult {
  const at = dev.addedAddresses.indexOf(mac);
  if (at < 0) return fail('ENOENT');
  dev.addedAddresses.splice(at, 1);
  return OK;
}
