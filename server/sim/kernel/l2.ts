// Layer 2: frames leaving and entering devices (dev_queue_xmit and
// netif_receive_skb), with bridge ports handed to their bridge first and
// macvlan lower devices to their macvlans.
import { BROADCAST_MAC, isMulticastMac } from './addr';
import type { Device } from './device';
import { frameBytes, type BridgedFrom, type Frame } from './packet';
import { arpReceive } from './neigh';
import { ipReceive } from './ipv4';
import { ipv6Receive } from './ipv6';
import { bridgeInput } from './links/bridge';
import { macvlanInput } from './links/macvlan';

/** What a device's byte counters add for a frame: loopback counts after its Ethernet header is pulled. */
function countedBytes(dev: Device, frame: Frame): number {
  return dev.kind.name === 'loopback' ? frameBytes(frame) - 14 : frameBytes(frame);
}

/**
 * Hands a frame to the device; false when the sender learns it was dropped:
 * only a device without a queue (veth, bridge) answers for its driver, a
 * queueing one takes the frame into its qdisc whatever becomes of it.
 */
export function transmitFrame(dev: Device, frame: Frame): boolean {
  if (!dev.running) {
    dev.stats.txDropped++;
    dev.ns.host.world.tracer?.drop(dev.ns, dev, `${dev.name} is ${dev.adminUp ? 'up but has no carrier' : 'down'}`);
    return !dev.kind.noQueue;
  }
  dev.countTx(countedBytes(dev, frame));
  for (const tap of dev.taps) tap(frame, 'out');
  dev.ns.host.world.tracer?.note(dev.ns, dev, 'xmit', frame, 'sent');
  return dev.kind.transmit(dev, frame) !== false || !dev.kind.noQueue;
}

/**
 * A frame arrives on a device from its medium. A veth's peer refuses one
 * larger than its MTU (is_skb_forwardable); a NIC takes what its buffers hold.
 * False when refused.
 */
export function receiveFrame(dev: Device, frame: Frame): boolean {
  if (!dev.adminUp || !dev.ns.alive) return false;
  if (frame.ip && !frame.ip.fragmented && frame.ip.length > dev.mtu && dev.kind.name === 'veth') {
    dev.stats.rxDropped++;
    dev.ns.host.world.tracer?.drop(dev.ns, dev, `dropped: ${frame.ip.length} bytes exceed the MTU ${dev.mtu} of ${dev.name}`, frame);
    return false;
  }
  dev.countRx(countedBytes(dev, frame));
  for (const tap of dev.taps) tap(frame, 'in');
  if (dev.master?.bridge) {
    bridgeInput(dev.master, dev, frame);
    return true;
  }
  if (dev.macvlans.length > 0 && macvlanInput(dev, frame)) return true;
  deliverToStack(dev, frame);
  return true;
}

/** The frame is for this device's own protocol stack (ARP, IPv4, IPv6); a bridge says which port it came in by. */
export function deliverToStack(dev: Device, frame: Frame, bridgedFrom?: BridgedFrom): void {
  // eth_type_trans ran on the bridge port: a frame to the port's own address is for the host too.
  const toUs = frame.dst === dev.mac || frame.dst === bridgedFrom?.port.mac || frame.dst === BROADCAST_MAC || isMulticastMac(frame.dst) || dev.kind.name === 'loopback';
  if (!toUs) return; // PACKET_OTHERHOST: not ours
  if (frame.arp) arpReceive(dev, frame.arp);
  else if (frame.ip) ipReceive(dev, frame.ip, frame.dst === BROADCAST_MAC, bridgedFrom);
  else if (frame.ip6) ipv6Receive(dev, frame.ip6);
}
