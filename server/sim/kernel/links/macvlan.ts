// macvlan and macvtap (drivers/net/macvlan.c): devices with MACs of their own
// stacked on a lower Ethernet device. They send through the lower onto its
// medium and receive what arrives there for their MAC, and every broadcast;
// the lower itself never hears them. In bridge mode siblings on the same
// lower also reach each other directly.
import { BROADCAST_MAC, isMulticastMac } from '../addr';
import { ETHERNET_LINK, type Device, type LinkKind } from '../device';
import type { Frame } from '../packet';
import { receiveFrame, transmitFrame } from '../l2';

function isGroupFrame(frame: Frame): boolean {
  return frame.dst === BROADCAST_MAC || isMulticastMac(frame.dst);
}

/** Siblings a bridge-mode macvlan reaches without going out on the wire. */
function bridgedSiblings(dev: Device): Device[] {
  return dev.lower!.macvlans.filter((other) => other !== dev && other.macvlanMode === 'bridge' && other.running);
}

/** macvlan_queue_xmit */
function transmit(dev: Device, frame: Frame): void {
  if (!dev.lower) return;
  if (dev.macvlanMode === 'bridge') {
    if (isGroupFrame(frame)) {
      for (const sibling of bridgedSiblings(dev)) deliver(sibling, frame);
    } else {
      const sibling = bridgedSiblings(dev).find((other) => other.mac === frame.dst);
      if (sibling) {
        deliver(sibling, frame);
        return;
      }
    }
  }
  transmitFrame(dev.lower, frame);
}

/** A macvtap hands frames to its character device, which nothing reads here. */
function deliver(dev: Device, frame: Frame): void {
  if (dev.kind === macvlanKind) receiveFrame(dev, frame);
}

/**
 * macvlan_handle_frame, the lower's receive hook: a frame for one macvlan's
 * MAC goes to it alone (true: consumed); broadcasts go to every macvlan and
 * on to the lower as well.
 */
export function macvlanInput(lower: Device, frame: Frame): boolean {
  if (isGroupFrame(frame)) {
    for (const dev of lower.macvlans) if (dev.running) deliver(dev, frame);
    return false;
  }
  const dev = lower.macvlans.find((m) => m.mac === frame.dst);
  if (!dev) return false;
  if (dev.running) deliver(dev, frame);
  return true;
}

export const macvlanKind: LinkKind = {
  name: 'macvlan',
  ...ETHERNET_LINK,
  noQueue: true,
  // netif_stacked_transfer_operstate: carrier follows the lower's.
  hasCarrier: (dev) => dev.lower !== null && dev.lower.running,
  operState: (dev) => (!dev.adminUp ? 'DOWN' : dev.carrier ? 'UP' : 'LOWERLAYERDOWN'),
  transmit,
};

export const macvtapKind: LinkKind = { ...macvlanKind, name: 'macvtap', txqlen: 500 };
