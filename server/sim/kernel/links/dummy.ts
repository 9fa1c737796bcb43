// A dummy device: always has carrier, does not ARP, and discards what it sends.
import { IFF_BROADCAST, IFF_NOARP, type LinkKind } from '../device';

export const dummyKind: LinkKind = {
  name: 'dummy',
  baseFlags: IFF_BROADCAST | IFF_NOARP,
  defaultMtu: 1500,
  minMtu: 0,
  maxMtu: 0xffffffff,
  linkType: 'ether',
  hasCarrier: () => true,
  operState: (dev) => (dev.adminUp ? 'UNKNOWN' : 'DOWN'),
  transmit: () => {},
};
