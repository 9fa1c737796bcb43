// A Linux bridge: a learning switch whose ports are other devices, and a
// device of its own through which the host takes part in the LAN.
import { BROADCAST_MAC, isMulticastMac, type Mac } from '../addr';
import type { Ipv4 } from '../addr';
import { ETHERNET_LINK, IFF_PROMISC, PORT_STATES, tsoMaxSize, type BridgeSetting, type Device, type FdbEntry, type LinkKind, type PortFlag, type PortState } from '../device';
import { fail, OK, type Errno, type KResult } from '../errno';
import { deliverToStack, transmitFrame } from '../l2';
import { currentState, neighLookup, neighOutput } from '../neigh';
import { netfilterHook } from '../netfilter';
import { frameBytes, type BridgedFrom, type Frame, type Ipv4Packet } from '../packet';

/** Centiseconds (the unit of bridge times) in microseconds. */
const CS_US = 10_000;

function stpOn(bridge: Device): boolean {
  return bridge.bridge!.settings.stp_state !== 0;
}

/**
 * The port's STP state: disabled unless it and its bridge are up with
 * carrier; then what a user set; then, if it was enabled under kernel STP,
 * listening and learning for a forward delay each; else forwarding.
 */
export function portState(bridge: Device, port: Device): PortState {
  if (!bridge.adminUp || !port.running) return 'disabled';
  const settings = port.brport!;
  if (settings.stateSet) return settings.stateSet;
  if (settings.stpStartUs === null) return 'forwarding';
  const delays = (bridge.ns.host.world.now - settings.stpStartUs) / (bridge.bridge!.settings.forward_delay * CS_US);
  return delays < 1 ? 'listening' : delays < 2 ? 'learning' : 'forwarding';
}

/**
 * br_stp_enable_port and br_stp_disable_port: a port enabled or disabled
 * again (itself, its peer's carrier, or its whole bridge) drops the state a
 * user set, and under kernel STP starts listening if it is enabled now.
 */
export function resetPortStates(dev: Device): void {
  for (const port of dev.bridge ? dev.bridge.ports : [dev, dev.peer]) {
    if (!port?.brport) continue;
    const bridge = port.master!;
    port.brport.stateSet = null;
    port.brport.stpStartUs = stpOn(bridge) && bridge.adminUp && port.running ? bridge.ns.host.world.now : null;
  }
}

/** The entry for `mac`, unless it is a learned one older than the bridge's ageing time (br_fdb_cleanup removes those). */
export function fdbEntry(bridge: Device, mac: Mac): FdbEntry | undefined {
  const state = bridge.bridge!;
  const entry = state.fdb.get(mac);
  if (entry?.kind === 'dynamic' && bridge.ns.host.world.now - entry.updatedUs >= state.settings.ageing_time * CS_US) {
    state.fdb.delete(mac);
    return undefined;
  }
  return entry;
}

/** The bridge's entries, newest first as the kernel dumps them, without those aged out. */
export function fdbEntries(bridge: Device): Array<[Mac, FdbEntry]> {
  return [...bridge.bridge!.fdb.keys()].reverse().flatMap((mac) => {
    const entry = fdbEntry(bridge, mac);
    return entry ? [[mac, entry] as [Mac, FdbEntry]] : [];
  });
}

export const bridgeKind: LinkKind = {
  name: 'bridge',
  ...ETHERNET_LINK,
  noQueue: true,
  hasCarrier: (dev) => (dev.bridge!.ports.length === 0 ? !dev.bridge!.portStatesSelected : dev.bridge!.ports.some((port) => port.running)),
  operState: (dev) => (!dev.adminUp || !dev.carrier ? 'DOWN' : dev.bridge!.ports.length === 0 ? 'UNKNOWN' : 'UP'),
  transmit: (dev, frame) => {
    // br_dev_xmit: a DNATed packet that waited for its neighbour goes on as if from the port it came in by.
    const from = frame.ip?.bridgedDnat;
    if (from) {
      frame.ip!.bridgedDnat = undefined;
      forward(dev, from.port, { ...frame, src: from.srcMac });
      return;
    }
    forward(dev, null, frame);
  },
};

/** br_dev_queue_push_xmit: a port does not send what exceeds its MTU. */
function toPort(port: Device, frame: Frame): void {
  if (frame.ip && !frame.ip.fragmented && frame.ip.length > port.mtu) {
    port.stats.txDropped++;
    return;
  }
  transmitFrame(port, frame);
}

/** should_deliver: back out of the port it came in on only in hairpin mode, only when forwarding, and never from one isolated port to another. Why not, or null. */
function deliveryRefusal(bridge: Device, ingress: Device | null, port: Device): string | null {
  const flags = port.brport!.flags;
  if (port === ingress && !flags.hairpin) return `not sent back out of ${port.name}, the port it came in by (hairpin off)`;
  if (ingress?.brport!.flags.isolated && flags.isolated) return `not bridged from ${ingress.name} to ${port.name}: both ports are isolated`;
  const state = portState(bridge, port);
  return state === 'forwarding' ? null : `not bridged to ${port.name}: the port is ${state}${stpWaitNote(state)}`;
}

function shouldDeliver(bridge: Device, ingress: Device | null, port: Device): boolean {
  return deliveryRefusal(bridge, ingress, port) === null;
}

/** What a listening or learning port waits for. */
function stpWaitNote(state: PortState): string {
  return state === 'listening' || state === 'learning' ? ' (STP: it forwards once its forward delay has passed)' : '';
}

/** br_flood: to every port that takes this kind of frame; what the bridge itself sends goes to every port for broadcast and multicast. */
function flood(bridge: Device, ingress: Device | null, frame: Frame): void {
  const flag = frame.dst === BROADCAST_MAC ? 'bcast_flood' : isMulticastMac(frame.dst) ? 'mcast_flood' : 'flood';
  for (const port of bridge.bridge!.ports) {
    if (!port.brport!.flags[flag] && (flag === 'flood' || ingress !== null)) continue;
    if (shouldDeliver(bridge, ingress, port)) toPort(port, frame);
  }
}

/**
 * Sends a frame out of the right port (br_forward) or floods it. A frame
 * bridged from a port passes iptables' FORWARD and POSTROUTING (br_netfilter)
 * once a port is to send it; the bridge's own frames do not.
 */
function forward(bridge: Device, ingress: Device | null, frame: Frame): void {
  if (frame.dst === BROADCAST_MAC || isMulticastMac(frame.dst)) {
    flood(bridge, ingress, frame);
    return;
  }
  const entry = fdbEntry(bridge, frame.dst);
  if (entry && entry.kind !== 'local') {
    entry.usedUs = bridge.ns.host.world.now;
    const refusal = deliveryRefusal(bridge, ingress, entry.port);
    if (refusal) {
      bridge.ns.host.world.tracer?.drop(bridge.ns, bridge, refusal, frame);
      return;
    }
    if (ingress && !bridgeForwardHooks(bridge, frame)) return;
    bridge.ns.host.world.tracer?.note(bridge.ns, bridge, 'bridge', frame, `bridged to ${entry.port.name} (learned address)`);
    toPort(entry.port, frame);
    return;
  }
  if (ingress && !bridgeForwardHooks(bridge, frame)) return;
  flood(bridge, ingress, frame);
}

/** br_fdb_update: the source address is behind the port now, unless it is one of the bridge's own. */
function learn(bridge: Device, port: Device, mac: Mac): void {
  if (isMulticastMac(mac)) return;
  const now = bridge.ns.host.world.now;
  const entry = fdbEntry(bridge, mac);
  if (entry?.kind === 'local') return;
  if (entry) {
    entry.port = port;
    entry.updatedUs = now;
  } else bridge.bridge!.fdb.set(mac, { port, kind: 'dynamic', byUser: false, updatedUs: now, usedUs: now });
}

/** br_handle_frame: a frame arrives on one of the bridge's ports. */
export function bridgeInput(bridge: Device, port: Device, frame: Frame): void {
  const state = portState(bridge, port);
  if (state !== 'forwarding' && state !== 'learning') {
    bridge.ns.host.world.tracer?.drop(bridge.ns, port, `${port.name} is ${state} on ${bridge.name}: it takes in nothing${stpWaitNote(state)}`, frame);
    return;
  }
  if (port.brport!.flags.learning) learn(bridge, port, frame.src);
  if (state === 'learning') {
    bridge.ns.host.world.tracer?.drop(bridge.ns, port, `${port.name} is learning on ${bridge.name}: it learns addresses but passes nothing on${stpWaitNote(state)}`, frame);
    return;
  }
  // br_pass_frame_up hands the bridge device its copy after the other ports were given theirs; as those
  // reach their stacks only later (netif_rx), the bridge's captures see it first.
  if (frame.dst === BROADCAST_MAC || isMulticastMac(frame.dst)) {
    receivedByBridge(bridge, frame);
    flood(bridge, port, frame);
    deliverToStack(bridge, frame, { port, srcMac: frame.src });
    return;
  }
  const entry = fdbEntry(bridge, frame.dst);
  if (entry?.kind === 'local') {
    entry.usedUs = bridge.ns.host.world.now;
    receivedByBridge(bridge, frame);
    deliverToStack(bridge, frame, { port, srcMac: frame.src });
    return;
  }
  if (frame.ip && bridgeCallsIptables(bridge) && netfilterHook(bridge.ns, 'PREROUTING', frame.ip, bridge, null).verdict !== 'accept') return;
  // A promiscuous bridge (tcpdump on it) gets a copy of what it forwards, which its stack drops as not its own.
  if (bridge.promisc > 0 || bridge.userFlagsOn & IFF_PROMISC) receivedByBridge(bridge, frame);
  forward(bridge, port, frame);
}

/** The bridge device receives a frame: its counters (after the Ethernet header) and captures see it. */
function receivedByBridge(bridge: Device, frame: Frame): void {
  bridge.countRx(frameBytes(frame) - 14);
  for (const tap of bridge.taps) tap(frame, 'in');
}

/**
 * br_netfilter, loaded on the kernel the scenarios were recorded on: with
 * net.bridge.bridge-nf-call-iptables on, or the bridge's own nf_call_iptables,
 * IPv4 frames passing a bridge meet iptables.
 */
export function bridgeCallsIptables(bridge: Device): boolean {
  return bridge.ns.netfilter !== undefined && (bridge.ns.sysctl.get('net.bridge.bridge-nf-call-iptables') !== '0' || bridge.bridge!.settings.nf_call_iptables !== 0);
}

/** br_nf_forward_ip and br_nf_post_routing: a bridged IPv4 frame passes FORWARD and POSTROUTING, the bridge its in and out device. False when dropped. */
function bridgeForwardHooks(bridge: Device, frame: Frame): boolean {
  const packet = frame.ip;
  if (!packet || !bridgeCallsIptables(bridge)) return true;
  const ns = bridge.ns;
  if (netfilterHook(ns, 'FORWARD', packet, bridge, bridge).verdict !== 'accept') {
    ns.host.world.tracer?.drop(ns, bridge, `dropped by iptables FORWARD while bridged (net.bridge.bridge-nf-call-iptables is 1)`, frame);
    return false;
  }
  return netfilterHook(ns, 'POSTROUTING', packet, null, bridge).verdict === 'accept';
}

/**
 * br_nf_pre_routing_finish_bridge: a packet that PREROUTING DNATed to a host
 * reached through the bridge it came in by is bridged there rather than
 * routed: from its port (hairpin mode decides whether it may go back out of
 * it), its source MAC kept, to the neighbour's MAC, resolved first if need be.
 */
export function bridgeDnat(bridge: Device, from: BridgedFrom, packet: Ipv4Packet, nexthop: Ipv4): void {
  const entry = neighLookup(bridge, nexthop);
  const state = entry && currentState(entry);
  if (entry?.mac != null && (state === 'REACHABLE' || state === 'PERMANENT' || state === 'NOARP')) {
    forward(bridge, from.port, { src: from.srcMac, dst: entry.mac, ip: packet });
    return;
  }
  packet.bridgedDnat = from;
  neighOutput(bridge, nexthop, packet);
}

/** A port joins: its address becomes a local entry, and the bridge may take it (the lowest wins). */
export function bridgePortAdded(bridge: Device, port: Device): void {
  const state = bridge.bridge!;
  const first = !state.portStatesSelected;
  state.portStatesSelected = true;
  state.tsoMaxSize = Math.min(state.tsoMaxSize ?? Infinity, tsoMaxSize(port));
  addLocal(bridge, port, port.mac);
  if (!bridge.macSetByUser && (first || port.mac < bridge.mac)) {
    const old = state.fdb.get(bridge.mac);
    if (old?.port === bridge) state.fdb.delete(bridge.mac);
    bridge.mac = port.mac;
  }
  if (!bridge.bridgeMtuSetByUser && (state.ports.length === 1 || port.mtu < bridge.mtu)) bridge.mtu = port.mtu;
}

/** Local fdb entries and the bridge address follow the ports (br_stp_recalculate_bridge_id). */
export function recalculateBridge(bridge: Device): void {
  const state = bridge.bridge!;
  if (state.ports.length > 0) state.portStatesSelected = true;
  if (!bridge.macSetByUser && state.ports.length > 0) {
    let lowest: Mac = state.ports[0]!.mac;
    for (const port of state.ports) if (port.mac < lowest) lowest = port.mac;
    bridge.mac = lowest;
  } else if (!bridge.macSetByUser && state.portStatesSelected) {
    bridge.mac = 0;
  }
  // Local entries follow the addresses of the ports and the bridge; the others keep their place in the list.
  const owners = new Map<Mac, Device>(state.ports.map((port) => [port.mac, port]));
  if (!owners.has(bridge.mac)) owners.set(bridge.mac, bridge);
  for (const [mac, entry] of [...state.fdb]) if (entry.kind === 'local' && !entry.byUser && owners.get(mac) !== entry.port) state.fdb.delete(mac);
  for (const [mac, owner] of owners) if (state.fdb.get(mac)?.kind !== 'local') addLocal(bridge, owner, mac);
  const minPortMtu = Math.min(...state.ports.map((port) => port.mtu));
  if (state.ports.length > 0 && !bridge.bridgeMtuSetByUser) bridge.mtu = minPortMtu;
}

/** fdb_add_local: the address is delivered to the bridge itself. */
function addLocal(bridge: Device, owner: Device, mac: Mac): void {
  const now = bridge.ns.host.world.now;
  bridge.bridge!.fdb.set(mac, { port: owner, kind: 'local', byUser: false, updatedUs: now, usedUs: now });
}

/** What `bridge link set` asks of a port (IFLA_PROTINFO); a field left out is left as it is. */
export interface PortChange {
  flags: Partial<Record<PortFlag, boolean>>;
  cost?: number;
  priority?: number;
  /** BR_STATE_* number, checked here. */
  state?: number;
  mcastRouter?: number;
}

/** br_setport, in its order (flags, cost, priority, state, multicast router): an error stops it there, keeping what came before. */
export function setBridgePort(port: Device, change: PortChange): KResult {
  const settings = port.brport;
  if (!settings) return fail('EOPNOTSUPP');
  Object.assign(settings.flags, change.flags);
  if (change.cost !== undefined) {
    if (change.cost < 1 || change.cost > 65535) return fail('ERANGE');
    settings.cost = change.cost;
  }
  if (change.priority !== undefined) {
    if (change.priority > 63) return fail('ERANGE');
    settings.priority = change.priority;
  }
  if (change.state !== undefined) {
    // Kernel STP decides port states itself.
    if (stpOn(port.master!)) return fail('EBUSY');
    const state = PORT_STATES[change.state];
    if (state === undefined) return fail('EINVAL');
    if (!port.adminUp || (!port.running && state !== 'disabled')) return fail('ENETDOWN');
    // br_port_state_selection: without STP a port set blocking is made forwarding at once.
    settings.stateSet = state === 'blocking' ? null : state;
  }
  if (change.mcastRouter !== undefined) {
    if (change.mcastRouter > 3) return fail('EINVAL');
    settings.mcastRouter = change.mcastRouter;
  }
  return OK;
}

/**
 * br_fdb_add (fdb_add_entry): `port` is a port of `bridge`, or the bridge
 * itself for an address of its own. Without `replace`-like flags (`exclusive`)
 * an existing entry is an error; otherwise it moves to the port and takes the kind.
 */
export function fdbAdd(bridge: Device, port: Device, mac: Mac, kind: FdbEntry['kind'], exclusive: boolean): KResult {
  const state = port === bridge ? null : portState(bridge, port);
  if (kind === 'dynamic' && state !== null && state !== 'learning' && state !== 'forwarding') return fail('EPERM');
  if (port === bridge && kind !== 'local') return fail('EINVAL');
  const now = bridge.ns.host.world.now;
  const entry = fdbEntry(bridge, mac);
  if (entry && exclusive) return fail('EEXIST');
  if (entry) Object.assign(entry, { port, kind, byUser: true, updatedUs: now, usedUs: now });
  else bridge.bridge!.fdb.set(mac, { port, kind, byUser: true, updatedUs: now, usedUs: now });
  return OK;
}

/** br_fdb_delete: only the entry for `mac` behind `port`. */
export function fdbDelete(bridge: Device, port: Device, mac: Mac): KResult {
  if (fdbEntry(bridge, mac)?.port !== port) return fail('ENOENT');
  bridge.bridge!.fdb.delete(mac);
  return OK;
}

/** The STP group address must be 01:80:c2:00:00:0X, and not one of 802.3's own (X 1, 2, 3). */
function validGroupAddress(mac: Mac): boolean {
  const last = mac % 256;
  return Math.floor(mac / 16) === 0x0180c200000 && last !== 1 && last !== 2 && last !== 3;
}

/** Checks on the settings br_changelink refuses; null when the value is taken. */
const SETTING_CHECKS: Partial<Record<BridgeSetting | 'vlan_filtering', (value: number, bridge: Device) => Errno | null>> = {
  // br_set_forward_delay checks the range only while STP runs.
  forward_delay: (v, bridge) => (stpOn(bridge) && (v < 200 || v > 3000) ? 'ERANGE' : null),
  hello_time: (v) => (v < 100 || v > 1000 ? 'ERANGE' : null),
  max_age: (v) => (v < 600 || v > 4000 ? 'ERANGE' : null),
  // A kernel built without VLAN filtering refuses the attribute whatever its value.
  vlan_filtering: () => 'EOPNOTSUPP',
  group_fwd_mask: (v) => (v & 7 ? 'EINVAL' : null),
  group_address: (v) => (validGroupAddress(v) ? null : 'EINVAL'),
  mcast_router: (v) => (v > 2 ? 'EINVAL' : null),
  mcast_igmp_version: (v) => (v !== 2 && v !== 3 ? 'EINVAL' : null),
  mcast_mld_version: (v) => (v !== 1 && v !== 2 ? 'EINVAL' : null),
};

/** What `ip link … type bridge` asks: settings, `vlan_filtering`, and `fdb_flush` (any value). */
export type BridgeChange = Partial<Record<BridgeSetting | 'vlan_filtering' | 'fdb_flush', number>>;

/** br_changelink's order: the first refused setting stops it, keeping those before. */
const CHANGE_ORDER: Array<keyof BridgeChange> = [
  'forward_delay', 'hello_time', 'max_age', 'ageing_time', 'stp_state', 'priority', 'vlan_filtering', 'group_fwd_mask', 'group_address', 'fdb_flush',
  'mcast_router', 'mcast_snooping', 'mcast_query_use_ifaddr', 'mcast_querier', 'mcast_hash_elasticity', 'mcast_hash_max', 'mcast_last_member_count',
  'mcast_startup_query_count', 'mcast_last_member_interval', 'mcast_membership_interval', 'mcast_querier_interval', 'mcast_query_interval',
  'mcast_query_response_interval', 'mcast_startup_query_interval', 'mcast_stats_enabled', 'mcast_igmp_version', 'mcast_mld_version',
  'nf_call_iptables', 'nf_call_ip6tables', 'nf_call_arptables', 'no_linklocal_learn', 'mcast_vlan_snooping',
];

/** br_changelink */
export function setBridgeSettings(bridge: Device, change: BridgeChange): KResult {
  const state = bridge.bridge!;
  for (const name of CHANGE_ORDER) {
    const value = change[name];
    if (value === undefined) continue;
    if (name === 'fdb_flush') {
      // br_fdb_flush: the learned entries; local and static ones stay.
      for (const [mac, entry] of [...state.fdb]) if (entry.kind === 'dynamic') state.fdb.delete(mac);
      continue;
    }
    const refused = SETTING_CHECKS[name]?.(value, bridge);
    if (refused) return fail(refused);
    if (name === 'vlan_filtering') continue;
    if (name === 'stp_state') setStp(bridge, value !== 0);
    else state.settings[name] = name === 'mcast_snooping' || name.startsWith('nf_call_') || name === 'mcast_stats_enabled' ? Number(value !== 0) : value;
  }
  return OK;
}

/**
 * br_stp_start and br_stp_stop. Starting clamps the forward delay into
 * STP's range; ports forwarding already keep forwarding. Stopping leaves the
 * ports listening or learning to their forward delay timers.
 */
function setStp(bridge: Device, on: boolean): void {
  const settings = bridge.bridge!.settings;
  settings.stp_state = on ? 1 : 0;
  if (on) settings.forward_delay = Math.min(Math.max(settings.forward_delay, 200), 3000);
}
