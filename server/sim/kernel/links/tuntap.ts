// tun and tap devices made persistent by `ip tuntap`: a program would read and
// write their packets through /dev/net/tun, but none ever attaches here, so
// they never get carrier and what is routed to them is dropped.
import { ETHERNET_LINK, IFF_MULTICAST, IFF_NOARP, IFF_POINTOPOINT, type LinkKind } from '../device';

const detached: Pick<LinkKind, 'hasCarrier' | 'operState' | 'transmit'> = {
  hasCarrier: () => false,
  operState: () => 'DOWN',
  transmit: () => {},
};

/** Layer 3: IP packets without a link-layer header. */
export const tunKind: LinkKind = {
  name: 'tun',
  baseFlags: IFF_POINTOPOINT | IFF_MULTICAST | IFF_NOARP,
  defaultMtu: 1500,
  minMtu: 68,
  maxMtu: 65535,
  linkType: 'none',
  txqlen: 500,
  noQueue: false,
  ...detached,
};

/** Layer 2: Ethernet frames (the max MTU leaves room for the Ethernet header). */
export const tapKind: LinkKind = {
  name: 'tap',
  ...ETHERNET_LINK,
  maxMtu: 65521,
  noQueue: false,
  ...detached,
};
