// A Linux bridge: a learning switch whose ports are other devices, and a
// device of its own through which the host takes part in the LAN.
import { BROADCAST_MAC, isMulticastMac, type Mac } from '../addr';
import { ETHERNET_LINK, type Device, type LinkKind } from '../device';
import type { Frame } from '../packet';
import { deliverToStack, transmitFrame } from '../l2';
import { netfilterHook } from '../netfilter';

/** A port forwards when it and its bridge are up and it has carrier (no STP). */
export function portForwarding(bridge: Device, port: Device): boolean {
  return bridge.adminUp && port.running;
}

export const bridgeKind: LinkKind = {
  name: 'bridge',
  ...ETHERNET_LINK,
  noQueue: true,
  hasCarrier: (dev) => (dev.bridge!.ports.length === 0 ? !dev.bridge!.portStatesSelected : dev.bridge!.ports.some((port) => port.running)),
  operState: (dev) => (!dev.adminUp || !dev.carrier ? 'DOWN' : dev.bridge!.ports.length === 0 ? 'UNKNOWN' : 'UP'),
  transmit: (dev, frame) => forward(dev, null, frame),
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
    if (port !== ingress && portForwarding(bridge, port)) toPort(port, frame);
  }
}

/** Sends a frame out of the right port (br_forward) or floods it. */
function forward(bridge: Device, ingress: Device | null, frame: Frame): void {
  if (frame.dst === BROADCAST_MAC || isMulticastMac(frame.dst)) {
    flood(bridge, ingress, frame);
    return;
  }
  const entry = bridge.bridge!.fdb.get(frame.dst);
  if (entry && !entry.local) {
    if (entry.port !== ingress && portForwarding(bridge, entry.port)) {
      bridge.ns.host.world.tracer?.note(bridge.ns, bridge, 'bridge', frame, `bridged to ${entry.port.name} (learned address)`);
      toPort(entry.port, frame);
    }
    return;
  }
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
  if (frame.dst === BROADCAST_MAC || isMulticastMac(frame.dst)) {
    flood(bridge, port, frame);
    bridge.countRx(0);
    deliverToStack(bridge, frame);
    return;
  }
  const entry = state.fdb.get(frame.dst);
  if (entry?.local) {
    deliverToStack(bridge, frame);
    return;
  }
  if (!bridgeNetfilter(bridge, frame)) return;
  forward(bridge, port, frame);
}

/**
 * br_netfilter: with net.bridge.bridge-nf-call-iptables on, an IPv4 frame
 * bridged from port to port passes iptables' PREROUTING, FORWARD and
 * POSTROUTING, the bridge being its in and out device. False when dropped.
 */
function bridgeNetfilter(bridge: Device, frame: Frame): boolean {
  const ns = bridge.ns;
  const packet = frame.ip;
  if (!packet || !ns.netfilter || ns.sysctl.get('net.bridge.bridge-nf-call-iptables') === '0') return true;
  if (netfilterHook(ns, 'PREROUTING', packet, bridge, null).verdict !== 'accept') return false;
  if (netfilterHook(ns, 'FORWARD', packet, bridge, bridge).verdict !== 'accept') {
    ns.host.world.tracer?.drop(ns, bridge, `dropped by iptables FORWARD while bridged (net.bridge.bridge-nf-call-iptables is 1)`, frame);
    return false;
  }
  return netfilterHook(ns, 'POSTROUTING', packet, null, bridge).verdict === 'accept';
}

/** A port joins: its address becomes a local entry, and the bridge may take it (the lowest wins). */
export function bridgePortAdded(bridge: Device, port: Device): void {
  const state = bridge.bridge!;
  const first = !state.portStatesSelected;
  state.portStatesSelected = true;
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
  if (state.ports.length > 0) state.portStatesSelected = true;
  if (!bridge.macSetByUser && state.ports.length > 0) {
    let lowest: Mac = state.ports[0]!.mac;
    for (const port of state.ports) if (port.mac < lowest) lowest = port.mac;
    bridge.mac = lowest;
  } else if (!bridge.macSetByUser && state.portStatesSelected) {
    bridge.mac = 0;
  }
  for (const [mac, entry] of [...state.fdb]) if (entry.local) state.fdb.delete(mac);
  for (const port of state.ports) state.fdb.set(port.mac, { port, local: true, updatedUs: 0 });
  if (!state.fdb.has(bridge.mac)) state.fdb.set(bridge.mac, { port: bridge, local: true, updatedUs: 0 });
  const minPortMtu = Math.min(...state.ports.map((port) => port.mtu));
  if (state.ports.length > 0 && !bridge.bridgeMtuSetByUser) bridge.mtu = minPortMtu;
}
