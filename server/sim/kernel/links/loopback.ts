// The loopback device: what it sends comes straight back to its namespace.
import { IFF_LOOPBACK, type LinkKind } from '../device';
import { receiveFrame } from '../l2';

export const loopbackKind: LinkKind = {
  name: 'loopback',
  baseFlags: IFF_LOOPBACK,
  defaultMtu: 65536,
  minMtu: 0,
  maxMtu: 0x7fffffff,
  linkType: 'loopback',
  txqlen: 1000,
  noQueue: true,
  hasCarrier: () => true,
  operState: (dev) => (dev.adminUp ? 'UNKNOWN' : 'DOWN'),
  transmit: (dev, frame) => receiveFrame(dev, frame),
};
