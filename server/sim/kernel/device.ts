// A network device (struct net_device): identity, flags, addresses and the
// kind-specific parts. What a kind does differently lives in its LinkKind.
import type { Ipv4, Mac } from './addr';
import type { NetNs } from './netns';
import type { Frame } from './packet';
import type { Segment } from './links/ether';
import type { Timer } from './world';

export const IFF_UP = 0x1;
export const IFF_BROADCAST = 0x2;
export const IFF_LOOPBACK = 0x8;
export const IFF_POINTOPOINT = 0x10;
export const IFF_NOTRAILERS = 0x20;
export const IFF_RUNNING = 0x40;
export const IFF_NOARP = 0x80;
export const IFF_PROMISC = 0x100;
export const IFF_ALLMULTI = 0x200;
export const IFF_MASTER = 0x400;
export const IFF_SLAVE = 0x800;
export const IFF_MULTICAST = 0x1000;
export const IFF_DYNAMIC = 0x8000;
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
  /** IFA_F_NOPREFIXROUTE: no connected route for the subnet. */
  noprefixroute: boolean;
  /** IFA_RT_PRIORITY: the metric of the connected route. */
  routeMetric: number;
  /** Finite lifetimes (valid_lft, preferred_lft, in seconds) counted from `sinceUs`; null for forever (IFA_F_PERMANENT). */
  lifetime: AddressLifetime | null;
  /** Creation order within the namespace (the kernel lists routes for equal destinations in it). */
  seq: number;
}

export interface AddressLifetime {
  valid: number;
  /** Null for forever (a preferred lifetime beyond the valid one is refused). */
  preferred: number | null;
  sinceUs: number;
}

export interface Ipv6Address {
  /** RFC 5952 text, as iproute2 prints it. */
  address: string;
  prefixLen: number;
  scope: 'global' | 'host' | 'link';
  /** IFA_F_NODAD: added with `nodad`, without duplicate address detection, usable at once. */
  nodad: boolean;
  /** Creation order within the namespace (the kernel lists prefix routes in it). */
  seq: number;
  /** Duplicate address detection has not finished: the address is not yet usable (IFA_F_TENTATIVE). */
  tentative: boolean;
  /** The pending end of duplicate address detection, while the link runs. */
  dadTimer: Timer | null;
}

export interface DeviceStats {
  rxPackets: number;
  rxBytes: number;
  rxDropped: number;
  txPackets: number;
  txBytes: number;
  txDropped: number;
}

/**
 * A forwarding database entry. `local`: the bridge's own and its ports'
 * addresses and those a user added as permanent, delivered to the bridge
 * itself; `static`: added by a user, never aged out; `dynamic`: learned
 * from a frame's source, aged out.
 */
export interface FdbEntry {
  /** The port the address is behind; the bridge itself for its own address. */
  port: Device;
  kind: 'local' | 'static' | 'dynamic';
  /** Added with `bridge fdb add`: the bridge's own bookkeeping of local addresses leaves it alone. */
  byUser: boolean;
  updatedUs: number;
  usedUs: number;
}

/** STP port states (BR_STATE_*), by number. */
export const PORT_STATES = ['disabled', 'listening', 'learning', 'forwarding', 'blocking'] as const;
export type PortState = (typeof PORT_STATES)[number];

/** A bridge port's on/off settings (BR_* port flags) that `bridge link set` changes. */
export const PORT_FLAGS = ['hairpin', 'guard', 'root_block', 'fastleave', 'learning', 'flood', 'mcast_flood', 'bcast_flood', 'mcast_to_unicast', 'neigh_suppress', 'vlan_tunnel', 'isolated', 'locked'] as const;
export type PortFlag = (typeof PORT_FLAGS)[number];

export function isPortFlag(name: string): name is PortFlag {
  return (PORT_FLAGS as readonly string[]).includes(name);
}

/** What a device has while it is a bridge port (net_bridge_port): made when it joins, gone when it leaves. */
export interface BridgePort {
  /** STP path cost (a veth's 10 Gb/s gives 2) and priority. */
  cost: number;
  priority: number;
  /** A state set with `bridge link set … state`, kept until the port is next enabled or disabled; null while the bridge decides. */
  stateSet: PortState | null;
  /** When the port was enabled under kernel STP: it listens, then learns, a forward delay each, then forwards. Null: it forwards at once. */
  stpStartUs: number | null;
  flags: Record<PortFlag, boolean>;
  /** Multicast router mode: 0 off, 1 learned (the default), 2 permanent, 3 temporary. */
  mcastRouter: number;
}

export function newBridgePort(): BridgePort {
  const on = new Set<PortFlag>(['learning', 'flood', 'mcast_flood', 'bcast_flood']);
  return { cost: 2, priority: 32, stateSet: null, stpStartUs: null, flags: Object.fromEntries(PORT_FLAGS.map((flag) => [flag, on.has(flag)])) as Record<PortFlag, boolean>, mcastRouter: 1 };
}

/**
 * A bridge's settings (`ip link … type bridge`), as `ip -d link` prints them:
 * times in centiseconds, the rest numbers. Only some change what the
 * simulation does (ageing_time, stp_state with forward_delay, nf_call_iptables);
 * the others are kept and shown.
 */
export const BRIDGE_DEFAULTS = {
  forward_delay: 1500,
  hello_time: 200,
  max_age: 2000,
  ageing_time: 30000,
  stp_state: 0,
  priority: 32768,
  group_fwd_mask: 0,
  /** The STP group address, a MAC. */
  group_address: 0x0180c2000000,
  mcast_snooping: 1,
  no_linklocal_learn: 0,
  mcast_vlan_snooping: 0,
  mcast_router: 1,
  mcast_query_use_ifaddr: 0,
  mcast_querier: 0,
  mcast_hash_elasticity: 16,
  mcast_hash_max: 4096,
  mcast_last_member_count: 2,
  mcast_startup_query_count: 2,
  mcast_last_member_interval: 100,
  mcast_membership_interval: 26000,
  mcast_querier_interval: 25500,
  mcast_query_interval: 12500,
  mcast_query_response_interval: 1000,
  mcast_startup_query_interval: 3124,
  mcast_stats_enabled: 0,
  mcast_igmp_version: 2,
  mcast_mld_version: 1,
  nf_call_iptables: 0,
  nf_call_ip6tables: 0,
  nf_call_arptables: 0,
};
export type BridgeSetting = keyof typeof BRIDGE_DEFAULTS;

export interface BridgeState {
  ports: Device[];
  /**
   * br_port_state_selection has run (a port came or went, or the bridge id
   * changed): until then an empty bridge keeps carrier, from then on it has none.
   */
  portStatesSelected: boolean;
  /** In the order entries were made: the kernel's list, which dumps show newest first. */
  fdb: Map<Mac, FdbEntry>;
  settings: Record<BridgeSetting, number>;
  /** The largest TSO the bridge takes: its first port's, then the smallest of its ports' (netif_inherit_tso_max); null before any port, 64 KiB. */
  tsoMaxSize: number | null;
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
  /** The device group (`ip link set … group`), 0 being "default". */
  group = 0;
  /** Root qdisc configured explicitly (physical NICs); otherwise noop/noqueue. */
  rootQdisc: string | null = null;
  master: Device | null = null;
  ipv4: Ipv4Address[] = [];
  ipv6: Ipv6Address[] = [];
  /** IF_READY: the link has run since it was brought up, so addrconf configured it and checks new addresses at once. */
  ipv6Ready = false;
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
  /** Its settings while it is a bridge port. */
  brport: BridgePort | null = null;
  /** Addresses a user added to the device's own filters (`bridge fdb add ADDR dev DEV self`), in the order added. */
  addedAddresses: Mac[] = [];
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

/** Drivers that keep the default 64 KiB TSO ceiling (tun/tap, the lab's NICs too, and vxlan); software devices raise it. */
const DEFAULT_TSO_KINDS = new Set<KindName>(['ether', 'tun', 'tap', 'vxlan']);

/** tso_max_size; a macvlan inherits its lower device's. */
export function tsoMaxSize(dev: Device): number {
  if (dev.lower) return tsoMaxSize(dev.lower);
  if (dev.bridge) return dev.bridge.tsoMaxSize ?? 65536;
  return DEFAULT_TSO_KINDS.has(dev.kind.name) ? 65536 : 524280;
}
