// A veth pair: what one end transmits, the other receives, wherever the
// other end's namespace is. Carrier follows the peer's administrative state.
import { ETHERNET_LINK, type LinkKind } from '../device';
import { receiveFrame } from '../l2';

export const vethKind: LinkKind = {
  name: 'veth',
  ...ETHERNET_LINK,
  noQueue: true,
  hasCarrier: (dev) => dev.peer !== null && dev.peer.adminUp,
  operState: (dev) => (!dev.adminUp ? 'DOWN' : dev.carrier ? 'UP' : dev.noCarrierState),
  // veth_xmit: what the peer refuses (down, or over its MTU) is a drop the sender hears of.
  transmit: (dev, frame) => dev.peer !== null && receiveFrame(dev.peer, frame),
};
