// What travels: Ethernet frames carrying ARP, IPv4 (ICMP, TCP, UDP) or IPv6 (ICMPv6).
import type { Ipv4, Ipv6, Mac } from './addr';
import type { CtInfo } from './conntrack';
import type { Device } from './device';

export const ARP_REQUEST = 1;
export const ARP_REPLY = 2;

export interface ArpMessage {
  op: typeof ARP_REQUEST | typeof ARP_REPLY;
  senderMac: Mac;
  senderIp: Ipv4;
  targetMac: Mac;
  targetIp: Ipv4;
}

export const ICMP_ECHO_REPLY = 0;
export const ICMP_DEST_UNREACH = 3;
export const ICMP_REDIRECT = 5;
export const ICMP_ECHO_REQUEST = 8;
export const ICMP_TIME_EXCEEDED = 11;

export const ICMP_NET_UNREACH = 0;
export const ICMP_HOST_UNREACH = 1;
export const ICMP_PROT_UNREACH = 2;
export const ICMP_PORT_UNREACH = 3;
export const ICMP_FRAG_NEEDED = 4;
export const ICMP_NET_ANO = 9;
export const ICMP_HOST_ANO = 10;
export const ICMP_PKT_FILTERED = 13;

export interface IcmpMessage {
  type: number;
  code: number;
  /** Echo identifier and sequence (for errors: those of the quoted echo). */
  id: number;
  seq: number;
  /** ICMP errors quote the packet that caused them. */
  quoted?: Ipv4Packet;
  /** Redirect: the better next hop. */
  gateway?: Ipv4;
  /** Fragmentation needed: the next hop's MTU. */
  mtu?: number;
}

export interface L4Ports {
  sport: number;
  dport: number;
  /** TCP flags as tcpdump spells them (S, S., ., F., R, P.). */
  tcpFlags?: string;
}

export type IpProtocol = 'icmp' | 'tcp' | 'udp';

export const IP_PROTO_NUMBER: Record<IpProtocol, number> = { icmp: 1, tcp: 6, udp: 17 };

export interface Ipv4Packet {
  src: Ipv4;
  dst: Ipv4;
  ttl: number;
  protocol: IpProtocol;
  /** Total length of the IPv4 datagram in bytes. */
  length: number;
  icmp?: IcmpMessage;
  ports?: L4Ports;
  /** Application data carried by TCP or UDP (what nc and curl send). */
  payload?: string;
  /** Don't Fragment: too big for a link, it is refused instead of split. */
  df?: boolean;
  /** Split into fragments to fit a link; reassembled where it is received or tracked. */
  fragmented?: boolean;
  /** Simulated microseconds spent in flight so far (for RTTs). */
  elapsedUs: number;
  /** skb->mark: set by iptables' MARK, read by -m mark and fwmark routing rules; it stays in its namespace. */
  mark?: number;
  /** The raw table's NOTRACK: conntrack leaves it alone (state UNTRACKED). */
  untracked?: boolean;
  /** Conntrack's verdict on this packet in the namespace it is in now. */
  ct?: CtInfo | undefined;
  /**
   * nf_ct_attach: an answer the kernel makes for a packet (a REJECT's reset or
   * ICMP error) belongs to that packet's flow, confirmed or not, so NAT undoes itself on it.
   */
  answersFlow?: CtInfo | undefined;
  /** br_netfilter's bridged DNAT: waiting for its neighbour, to be bridged on as if from this port. */
  bridgedDnat?: BridgedFrom | undefined;
  /** A VXLAN datagram: the network identifier and the Ethernet frame it carries. */
  vxlan?: { vni: number; frame: Frame };
}

/** The bridge port (and sender's MAC) a frame handed up by a bridge came in by. */
export interface BridgedFrom {
  port: Device;
  srcMac: Mac;
}

export const ICMPV6_DEST_UNREACH = 1;
export const ICMPV6_TIME_EXCEED = 3;
export const ICMPV6_ECHO_REQUEST = 128;
export const ICMPV6_ECHO_REPLY = 129;
export const NDISC_NEIGHBOUR_SOLICITATION = 135;
export const NDISC_NEIGHBOUR_ADVERTISEMENT = 136;

export const ICMPV6_NOROUTE = 0;
export const ICMPV6_ADM_PROHIBITED = 1;
export const ICMPV6_ADDR_UNREACH = 3;
export const ICMPV6_PORT_UNREACH = 4;

export interface Icmp6Message {
  type: number;
  code: number;
  /** Echo identifier and sequence. */
  id: number;
  seq: number;
  /** Errors quote the packet that caused them. */
  quoted?: Ipv6Packet;
  /** Neighbour discovery: the address asked or told about, and the link-layer address option (source for a solicitation, target for an advertisement). */
  target?: Ipv6;
  lladdr?: Mac | null;
  /** Advertisement flags: from a router, in answer to a solicitation, overriding a cached address. */
  router?: boolean;
  solicited?: boolean;
  override?: boolean;
}

export interface Ipv6Packet {
  src: Ipv6;
  dst: Ipv6;
  hopLimit: number;
  /** Bytes after the 40-byte header (the ICMPv6 message). */
  payloadLength: number;
  icmp6: Icmp6Message;
  /** Simulated microseconds spent in flight so far (for RTTs). */
  elapsedUs: number;
}

export interface Frame {
  src: Mac;
  dst: Mac;
  arp?: ArpMessage;
  ip?: Ipv4Packet;
  ip6?: Ipv6Packet;
}

export function frameBytes(frame: Frame): number {
  return 14 + (frame.arp ? 28 : frame.ip ? frame.ip.length : frame.ip6 ? 40 + frame.ip6.payloadLength : 0);
}

export function clonePacket(p: Ipv4Packet): Ipv4Packet {
  const copy: Ipv4Packet = { ...p, ct: undefined, answersFlow: undefined, bridgedDnat: undefined };
  if (p.icmp) copy.icmp = { ...p.icmp };
  if (p.ports) copy.ports = { ...p.ports };
  if (p.icmp?.quoted) copy.icmp!.quoted = clonePacket(p.icmp.quoted);
  return copy;
}

export function clonePacket6(p: Ipv6Packet): Ipv6Packet {
  const icmp6 = { ...p.icmp6 };
  if (p.icmp6.quoted) icmp6.quoted = clonePacket6(p.icmp6.quoted);
  return { ...p, icmp6 };
}
