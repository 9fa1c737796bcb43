// A veth pair: what one end transmits, the other receives, wherever the
// other end's namespace is. Carrier follows the peer's administrative state.
import { IFF_BROADCAST, IFF_MULTICAST, type LinkKind } from '../device';
import { receiveFrame } from '../l2';

export const vethKind: LinkKind = {
  name: 'veth',
  baseFlags: IFF_BROADCAST | IFF_MULTICAST,
  defaultMtu: 1500,
  minMtu: 68,
  maxMtu: 65535,
  linkType: 'ether',
  txqlen: 1000,
  noQueue: true,
  hasCarrier: (dev) => dev.peer !== null && dev.peer.adminUp,
  operState: (dev) => (!dev.adminUp ? 'DOWN' : dev.carrier ? 'UP' : dev.noCarrierState),
  transmit: (dev, frame) => {
    if (dev.peer) receiveFrame(dev.peer, frame);
  },
};
