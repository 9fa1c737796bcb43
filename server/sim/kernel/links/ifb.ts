// An Intermediate Functional Block: traffic reaches it only when tc redirects
// it there (not simulated), so it just holds carrier and drops what it sends.
import { IFF_BROADCAST, IFF_NOARP, type LinkKind } from '../device';

export const ifbKind: LinkKind = {
  name: 'ifb',
  baseFlags: IFF_BROADCAST | IFF_NOARP,
  defaultMtu: 1500,
  // ifb sets no limits: the kernel reports 0 for both.
  minMtu: 0,
  maxMtu: 0,
  linkType: 'ether',
  txqlen: 32,
  noQueue: false,
  hasCarrier: () => true,
  operState: (dev) => (dev.adminUp ? 'UNKNOWN' : 'DOWN'),
  transmit: () => {},
};
