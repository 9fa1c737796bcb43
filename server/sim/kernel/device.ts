// A network device (struct net_device): identity, flags, addresses and the
// kind-specific parts. What a kind does differently lives in its LinkKind.
import type { Ipv4, Mac } from './addr';
import type { NetNs } from './netns';
import type { Frame } from './packet';
import type { Segment } from './links/ether';

export const IFF_UP = 0x1;
export const IFF_BROADCAST = 0x2;
export const IFF_LOOPBACK = 0x8;
export const IFF_POINTOPOINT = 0x10;
export const IFF_RUNNING = 0x40;
export const IFF_NOARP = 0x80;
export const IFF_PROMISC = 0x100;
export const IFF_ALLMULTI = 0x200;
export const IFF_MASTER = 0x400;
export const IFF_SLAVE = 0x800;
export const IFF_MULTICAST = 0x1000;
export const IFF_LOWER_UP = 0x10000;
export const IFF_DORMANT = 0x20000;

export type KindName = 'loopback' | 'ether' | 'veth' | 'bridge' | 'ifb' | 'macvlan' | 'macvtap' | 'tun' | 'tap' | 'vxlan';
export type OperState = 'UP' | 'DOWN' | 'UNKNOWN' | 'LOWERLAYERDOWN';

/** What one kind of link does: the kernel-side plug-in (`rtnl_link_ops`). */
export interface LinkKind {
  readonly name: KindName;
  /** Flags the device always has (IFF_BROADCAST|IFF_MULTICAST, IFF_LOOPBACK, …). */
  readonly baseFlags: number;
  readonly defaultMtu: number;
  readonly minMtu: number;
  readonly maxMtu: number;
  /** link/ether, link/loopback or link/none (no hardware address) in `ip link`. */
  readonly linkType: 'ether' | 'loopback' | 'none';
  /** tx_queue_len at creation. */
  readonly txqlen: number;
  /** IFF_NO_QUEUE: once up, the device gets `noqueue` rather than the default qdisc (pfifo_fast). */
  readonly noQueue: boolean;
  hasCarrier(dev: Device): boolean;
  operState(dev: Device): OperState;
  /** A frame leaves the device onto its medium; `false` when the driver drops it (NET_XMIT_DROP). */
  transmit(dev: Device, frame: Frame): boolean | void;
}

/** What every Ethernet-like kind starts from: broadcast and multicast, 1500 bytes, link/ether, a 1000-packet queue. */
export const ETHERNET_LINK = {
  baseFlags: IFF_BROADCAST | IFF_MULTICAST,
  defaultMtu: 1500,
  minMtu: 68,
  maxMtu: 65535,
  linkType: 'ether',
  txqlen: 1000,
} as const;

/** How a macvlan shares its lower device with its siblings. */
export const MACVLAN_MODES = ['private', 'vepa', 'bridge', 'passthru', 'source'] as const;
export type MacvlanMode = (typeof MACVLAN_MODES)[number];

/** A vxlan's configuration, as `ip -d link` reports it. */
export interface VxlanConfig {
  vni: number;
  /** Unicast `remote` or multicast `group` the frames are sent to. */
  remote: Ipv4 | null;
  group: Ipv4 | null;
  local: Ipv4 | null;
  /** `dev`: the underlay device. */
  underlay: Device | null;
  dstPort: number;
}

export interface Ipv4Address {
  local: Ipv4;
  /** The other end of a point-to-point address (`peer`); the prefix is then the peer's. */
  peer: Ipv4 | null;
  prefixLen: number;
  broadcast: Ipv4 | null;
  label: string;
  secondary: boolean;
  scope: 'global' | 'host' | 'link';
}

export interface Ipv6Address {
  /** RFC 5952 text, as iproute2 prints it. */
  address: string;
  prefixLen: number;
  scope: 'global' | 'host' | 'link';
  /** Creation order within the namespace (the kernel lists prefix routes in it). */
  seq: number;
}

export interface DeviceStats {
  rxPackets: number;
  rxBytes: number;
  rxDropped: number;
  txPackets: number;
  txBytes: number;
  txDropped: number;
}

export interface FdbEntry {
  port: Device;
  /** Local entries are the bridge's own and its ports' addresses. */
  local: boolean;
  updatedUs: number;
}

export interface BridgeState {
  ports: Device[];
  /** A bridge that never had a port keeps carrier; once its last port leaves it has none. */
  hadPorts: boolean;
  fdb: Map<Mac, FdbEntry>;
}

export class Device {
  ifindex: number;
  name: string;
  ns: NetNs;
  mac: Mac;
  /** The MAC was chosen by a user (`ip link set … address`), not inherited. */
  macSetByUser = false;
  mtu: number;
  adminUp = false;
  /** Has been up at least once: the kernel attached a qdisc then and keeps it. */
  everUp = false;
  /** Whether it was running (up with carrier) when last told of a link change. */
  wasRunning = false;
  txqlen: number;
  /** Root qdisc configured explicitly (physical NICs); otherwise noop/noqueue. */
  rootQdisc: string | null = null;
  master: Device | null = null;
  ipv4: Ipv4Address[] = [];
  ipv6: Ipv6Address[] = [];
  /** Link-layer multicast addresses added by hand (`ip maddr add`). */
  staticMulticast: Mac[] = [];
  stats: DeviceStats = { rxPackets: 0, rxBytes: 0, rxDropped: 0, txPackets: 0, txBytes: 0, txDropped: 0 };
  /** veth: the other end. */
  peer: Device | null = null;
  /** macvlan: the device it is stacked on (its IFLA_LINK). */
  lower: Device | null = null;
  macvlanMode: MacvlanMode | null = null;
  /** Lower device: the macvlans stacked on it, in creation order (macvlan_port). */
  macvlans: Device[] = [];
  vxlan: VxlanConfig | null = null;
  /** Physical NIC: the world segment it is plugged into. */
  segment: Segment | null = null;
  /** Bridge: ports and forwarding database. */
  bridge: BridgeState | null = null;
  /** Promiscuity count (bridge ports hold one); the IFF_PROMISC flag itself is only the user's. */
  promisc = 0;
  /** Packet sockets watching this device (tcpdump): every frame in and out. */
  taps: Array<(frame: Frame, direction: 'in' | 'out') => void> = [];
  /** veth: how the kernel classed the missing carrier when it went away (see carrierChanged). */
  noCarrierState: 'LOWERLAYERDOWN' | 'DOWN' = 'LOWERLAYERDOWN';
  /** Flags a user turned on or off (`arp off`, `multicast off`, `promisc on`). */
  userFlagsOn = 0;
  userFlagsOff = 0;
  /** `ip link set … alias TEXT` */
  alias: string | null = null;
  /** Bridge port: STP path cost and priority (`bridge link set … cost N`). */
  portCost = 2;
  portPriority = 32;
  /** Bridge port: hairpin mode lets frames go back out of the port they came in by. */
  portHairpin = false;
  /** Bridge: the MTU was set by a user, so it no longer follows its ports. */
  bridgeMtuSetByUser = false;

  constructor(readonly kind: LinkKind, ns: NetNs, ifindex: number, name: string, mac: Mac) {
    this.ns = ns;
    this.ifindex = ifindex;
    this.name = name;
    this.mac = mac;
    this.mtu = kind.defaultMtu;
    this.txqlen = kind.txqlen;
  }

  get carrier(): boolean {
    return this.kind.hasCarrier(this);
  }

  /** Up and able to pass traffic (IFF_RUNNING). */
  get running(): boolean {
    return this.adminUp && this.carrier;
  }

  get flags(): number {
    let flags = (this.kind.baseFlags | this.userFlagsOn) & ~this.userFlagsOff;
    if (this.adminUp) flags |= IFF_UP;
    if (this.running) flags |= IFF_RUNNING | IFF_LOWER_UP;
    return flags;
  }

  get operState(): OperState {
    return this.kind.operState(this);
  }

  get qdisc(): string {
    if (this.rootQdisc) return this.rootQdisc;
    if (!this.everUp) return 'noop';
    return this.kind.noQueue ? 'noqueue' : 'pfifo_fast';
  }

  countTx(bytes: number): void {
    this.stats.txPackets++;
    this.stats.txBytes += bytes;
  }

  countRx(bytes: number): void {
    this.stats.rxPackets++;
    this.stats.rxBytes += bytes;
  }
}
