// A physical NIC plugged into a world segment (a hub: every frame reaches
// every other NIC on it). The lab machines' NICs are tap devices, hence
// their MTU ceiling (65535 less the Ethernet header).
import { ETHERNET_LINK, type Device, type LinkKind } from '../device';
import type { Frame } from '../packet';
import { receiveFrame } from '../l2';

export class Segment {
  readonly ports: Device[] = [];
  constructor(readonly name: string) {}

  transmit(from: Device, frame: Frame): void {
    for (const port of this.ports) {
      if (port !== from && port.ns.alive) receiveFrame(port, frame);
    }
  }
}

export const etherKind: LinkKind = {
  name: 'ether',
  ...ETHERNET_LINK,
  maxMtu: 65521,
  noQueue: false,
  hasCarrier: (dev) => dev.segment !== null,
  operState: (dev) => (dev.adminUp ? 'UP' : 'DOWN'),
  transmit: (dev, frame) => dev.segment?.transmit(dev, frame),
};
