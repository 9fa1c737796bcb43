// A network namespace (struct net): its devices, routes, neighbours,
// sysctls, netfilter tables and sockets. Everything a namespace owns is
// reached from here; the subsystems that act on it are functions in their
// own modules.
import type { Ipv4 } from './addr';
import type { Device } from './device';
import type { Host } from './host';
import { DEFAULT_RULES, RT_TABLE_MAIN, type FibRule, type Route } from './fib';
import type { NeighEntry, ProxyNeighEntry } from './neigh';
import type { Netfilter } from './netfilter';
import type { Conntrack } from './conntrack';
import type { Ipv4Packet, Ipv6Packet } from './packet';
import type { Route6 } from './ipv6';
import type { SocketTable } from './sockets';
import { SysctlTable } from './sysctl';

/** A socket that receives ICMP (what `ping` holds open). */
export interface IcmpSocket {
  id: number;
  onPacket(packet: Ipv4Packet, device: Device): void;
  /** An ICMPv6 socket (ping -6) takes echo replies and errors here. */
  onPacket6?(packet: Ipv6Packet, device: Device): void;
}

export class NetNs {
  readonly devices = new Map<number, Device>();
  readonly byName = new Map<string, Device>();
  /** Last ifindex handed out (the kernel allocates cyclically per namespace). */
  lastIfindex = 0;
  /** Routing tables by id, the main one from the start; the local table is derived from addresses. */
  readonly tables = new Map<number, Route[]>([[RT_TABLE_MAIN, []]]);
  /** Routing policy rules in the order a lookup tries them; replaced as a whole on change. */
  rules: readonly FibRule[] = DEFAULT_RULES;
  readonly neigh = new Map<string, NeighEntry>();
  /** Proxy neighbours (pneigh), keyed like `neigh`; made on first use, as few namespaces have any. */
  pneigh: Map<string, ProxyNeighEntry> | null = null;
  readonly sysctl: SysctlTable;
  /** Ids this namespace gives other namespaces (`ip netns list` `(id: N)`). */
  readonly nsids = new Map<NetNs, number>();
  netfilter: Netfilter | null = null;
  conntrack: Conntrack | null = null;
  /** Raw ICMP sockets by echo identifier (ping). */
  readonly icmpSockets = new Map<number, IcmpSocket>();
  /** TCP and UDP sockets, made on first use. */
  sockets: SocketTable | null = null;
  alive = true;
  /** Processes running in it (`ip netns exec`): they keep it alive after `ip netns delete` takes its name. */
  readonly pids = new Set<number>();
  /** Path MTUs learned from "fragmentation needed" (route exceptions), by destination. */
  readonly pmtuExceptions = new Map<Ipv4, { mtu: number; expiresUs: number }>();
  /**
   * inet_peer, per remote address: the redirects sent to it and the ICMP error
   * rate tokens share one `rateLastUs`, so a redirect holds back an error sent right after it.
   */
  readonly inetPeers = new Map<number, { rateLastUs: number; rateTokensUs: number; redirects: number }>();
  /** The local routing table comes into being with the first address. */
  localTableExists = false;
  /** The IPv6 main table in the order routes were added: addrconf's prefix routes and those added by hand. */
  routes6: Route6[] = [];
  /** Counts addresses made here, to order them (and their routes) as the kernel does. */
  addressSeq = 0;
  /**
   * fib_has_custom_rules: once a rule was added or deleted, the local table is
   * looked up apart from main (fib_unmerge), and route lookups name it.
   */
  customRules = false;

  constructor(
    readonly host: Host,
    /** `null` for the host's own (root) namespace. */
    public name: string | null,
    /** Unique within the world, stable: identifies the namespace in traces. */
    readonly serial: number,
  ) {
    this.sysctl = new SysctlTable(this);
  }

  get label(): string {
    return this.name === null ? this.host.name : `${this.host.name}/${this.name}`;
  }

  /** The main routing table. */
  get routes(): Route[] {
    return this.tables.get(RT_TABLE_MAIN)!;
  }

  device(name: string): Device | undefined {
    return this.byName.get(name);
  }

  /** Devices in ifindex order, as the kernel dumps them. */
  sortedDevices(): Device[] {
    return [...this.devices.values()].sort((a, b) => a.ifindex - b.ifindex);
  }

  get ipForward(): boolean {
    return this.sysctl.get('net.ipv4.ip_forward') !== '0';
  }

  /** peernet2id_alloc: the id this namespace knows `other` by, allocated on first use. */
  idFor(other: NetNs): number {
    const known = this.nsids.get(other);
    if (known !== undefined) return known;
    const used = new Set(this.nsids.values());
    let id = 0;
    while (used.has(id)) id++;
    this.nsids.set(other, id);
    return id;
  }
}
