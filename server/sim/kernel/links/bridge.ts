// A Linux bridge: a learning switch whose ports are other devices, and a
// device of its own through which the host takes part in the LAN.
import { BROADCAST_MAC, isMulticastMac, type Mac } from '../addr';
import { ETHERNET_LINK, IFF_PROMISC, type Device, type LinkKind } from '../device';
import { frameBytes, type BridgedFrom, type Frame, type Ipv4Packet } from '../packet';
import type { Ipv4 } from '../addr';
import { currentState, neighLookup, neighOutput } from '../neigh';
import { deliverToStack, transmitFrame } from '../l2';
import { netfilterHook } from '../netfilter';
import { fail, OK, type KResult } from '../errno';

/** A port forwards when it and its bridge are up and it has carrier (no STP). */
export function portForwarding(bridge: Device, port: Device): boolean {
  return bridge.adminUp && port.running;
}

/** should_deliver: a forwarding port, and not the one the frame came in by unless in hairpin mode. */
function shouldDeliver(bridge: Device, ingress: Device | null, port: Device): boolean {
  return (port !== ingress || port.portHairpin) && portForwarding(bridge, port);
}

export const bridgeKind: LinkKind = {
  name: 'bridge',
  ...ETHERNET_LINK,
  noQueue: true,
  hasCarrier: (dev) => (dev.bridge!.ports.length === 0 ? !dev.bridge!.hadPorts : dev.bridge!.ports.some((port) => port.running)),
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

function flood(bridge: Device, ingress: Device | null, frame: Frame): void {
  for (const port of bridge.bridge!.ports) {
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
  const entry = bridge.bridge!.fdb.get(frame.dst);
  if (entry && !entry.local) {
    if (!shouldDeliver(bridge, ingress, entry.port)) return;
    if (ingress && !bridgeForwardHooks(bridge, frame)) return;
    bridge.ns.host.world.tracer?.note(bridge.ns, bridge, 'bridge', frame, `bridged to ${entry.port.name} (learned address)`);
    toPort(entry.port, frame);
    return;
  }
  if (ingress && !bridgeForwardHooks(bridge, frame)) return;
  flood(bridge, ingress, frame);
}

/** br_handle_frame: a frame arrives on one of the bridge's ports. */
export function bridgeInput(bridge: Device, port: Device, frame: Frame): void {
  if (!portForwarding(bridge, port)) return;
  const state = bridge.bridge!;
  const known = state.fdb.get(frame.src);
  if (!isMulticastMac(frame.src) && !(known && known.local)) {
    state.fdb.set(frame.src, { port, local: false, updatedUs: bridge.ns.host.world.now });
  }
  // br_pass_frame_up hands the bridge device its copy after the other ports were given theirs; as those
  // reach their stacks only later (netif_rx), the bridge's captures see it first.
  if (frame.dst === BROADCAST_MAC || isMulticastMac(frame.dst)) {
    receivedByBridge(bridge, frame);
    flood(bridge, port, frame);
    deliverToStack(bridge, frame, { port, srcMac: frame.src });
    return;
  }
  const entry = state.fdb.get(frame.dst);
  if (entry?.local) {
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

/** br_netfilter, loaded on the kernel the scenarios were recorded on: with net.bridge.bridge-nf-call-iptables on, IPv4 frames passing a bridge meet iptables. */
export function bridgeCallsIptables(bridge: Device): boolean {
  return bridge.ns.netfilter !== undefined && bridge.ns.sysctl.get('net.bridge.bridge-nf-call-iptables') !== '0';
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

export interface PortSettings {
  hairpin?: boolean;
  cost?: number;
  priority?: number;
}

/** br_setport: flags first, then the STP cost (1-65535) and priority (0-63), stopping at the first out of range. */
export function setBridgePort(port: Device, settings: PortSettings): KResult {
  if (!port.master?.bridge) return fail('EOPNOTSUPP');
  if (settings.hairpin !== undefined) port.portHairpin = settings.hairpin;
  if (settings.cost !== undefined) {
    if (settings.cost < 1 || settings.cost > 65535) return fail('ERANGE');
    port.portCost = settings.cost;
  }
  if (settings.priority !== undefined) {
    if (settings.priority > 63) return fail('ERANGE');
    port.portPriority = settings.priority;
  }
  return OK;
}

/** A port joins: its address becomes a local entry, and the bridge may take it (the lowest wins). */
export function bridgePortAdded(bridge: Device, port: Device): void {
  const state = bridge.bridge!;
  const first = !state.hadPorts;
  state.hadPorts = true;
  state.fdb.set(port.mac, { port, local: true, updatedUs: 0 });
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
  if (state.ports.length > 0) state.hadPorts = true;
  if (!bridge.macSetByUser && state.ports.length > 0) {
    let lowest: Mac = state.ports[0]!.mac;
    for (const port of state.ports) if (port.mac < lowest) lowest = port.mac;
    bridge.mac = lowest;
  } else if (!bridge.macSetByUser && state.hadPorts) {
    bridge.mac = 0;
  }
  for (const [mac, entry] of [...state.fdb]) if (entry.local) state.fdb.delete(mac);
  for (const port of state.ports) state.fdb.set(port.mac, { port, local: true, updatedUs: 0 });
  if (!state.fdb.has(bridge.mac)) state.fdb.set(bridge.mac, { port: bridge, local: true, updatedUs: 0 });
  const minPortMtu = Math.min(...state.ports.map((port) => port.mtu));
  if (state.ports.length > 0 && !bridge.bridgeMtuSetByUser) bridge.mtu = minPortMtu;
}
