// Address values as the kernel keeps them: IPv4 as an unsigned 32-bit number,
// MAC as a 48-bit number. Parsing user text is the tools' business (each tool
// has its own rules); these helpers only convert and compare.
import ipaddr from 'ipaddr.js';

export type Ipv4 = number;
export type Mac = number;

export function ipv4(a: number, b: number, c: number, d: number): Ipv4 {
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

export function formatIpv4(addr: Ipv4): string {
  return `${addr >>> 24}.${(addr >>> 16) & 255}.${(addr >>> 8) & 255}.${addr & 255}`;
}

/** Strict dotted quad, as inet_pton(AF_INET) accepts it. */
export function parseIpv4Strict(text: string): Ipv4 | null {
  if (!ipaddr.IPv4.isValidFourPartDecimal(text)) return null;
  const [a, b, c, d] = ipaddr.IPv4.parse(text).octets;
  return ipv4(a, b, c, d);
}

export function prefixMask(len: number): number {
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

export function networkOf(addr: Ipv4, len: number): Ipv4 {
  return (addr & prefixMask(len)) >>> 0;
}

export function inPrefix(addr: Ipv4, prefix: Ipv4, len: number): boolean {
  return ((addr ^ prefix) & prefixMask(len)) === 0;
}

/** Prefix length of a contiguous netmask, or -1. */
export function maskLength(mask: number): number {
  for (let len = 0; len <= 32; len++) if (prefixMask(len) === mask >>> 0) return len;
  return -1;
}

export const LOOPBACK_NET = ipv4(127, 0, 0, 0);

export function isLoopback(addr: Ipv4): boolean {
  return addr >>> 24 === 127;
}

export function isMulticast(addr: Ipv4): boolean {
  return addr >>> 28 === 0xe;
}

export function formatMac(mac: Mac): string {
  let out = '';
  for (let shift = 40; shift >= 0; shift -= 8) {
    const byte = Math.floor(mac / 2 ** shift) % 256;
    out += (shift === 40 ? '' : ':') + byte.toString(16).padStart(2, '0');
  }
  return out;
}

export function parseMac(text: string): Mac | null {
  const m = /^([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})$/.exec(text);
  if (!m) return null;
  let mac = 0;
  for (let i = 1; i <= 6; i++) mac = mac * 256 + parseInt(m[i]!, 16);
  return mac;
}

export const BROADCAST_MAC: Mac = 0xffffffffffff;

export function isMulticastMac(mac: Mac): boolean {
  return Math.floor(mac / 2 ** 40) % 2 === 1;
}

/** The IPv6 link-local address the kernel derives from a MAC (modified EUI-64). */
export function linkLocalFromMac(mac: Mac): string {
  const b = [...Array(6)].map((_, i) => Math.floor(mac / 2 ** (40 - 8 * i)) % 256);
  const bytes = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, b[0]! ^ 0x02, b[1]!, b[2]!, 0xff, 0xfe, b[3]!, b[4]!, b[5]!];
  return ipaddr.fromByteArray(bytes).toString();
}

/** The solicited-node multicast group of an IPv6 address (ff02::1:ffXX:XXXX), and its Ethernet mapping (33:33:ff:XX:XX:XX). */
export function solicitedNode(address: string): { group: string; mac: Mac } {
  const bytes = ipaddr.IPv6.parse(address).toByteArray();
  const [a, b, c] = bytes.slice(13) as [number, number, number];
  return { group: `ff02::1:ff${a.toString(16).padStart(2, '0')}:${((b << 8) | c).toString(16)}`, mac: 0x3333ff000000 + ((a << 16) | (b << 8) | c) };
}

/** An IPv6 address in RFC 5952 text, as the tools print it (the kernel's 16 bytes, kept in the form that is compared and shown). */
export type Ipv6 = string;

export const IPV6_ANY: Ipv6 = '::';
export const IPV6_LOOPBACK: Ipv6 = '::1';

/** inet_pton(AF_INET6), in RFC 5952 form; null when not an IPv6 address. */
export function parseIpv6(text: string): Ipv6 | null {
  return ipaddr.IPv6.isValid(text) && !text.includes('%') ? ipaddr.IPv6.parse(text).toString() : null;
}

function ipv6Bytes(addr: Ipv6): number[] {
  return ipaddr.IPv6.parse(addr).toByteArray();
}

/** The first `len` bits of an address, the rest zero. */
export function ipv6Network(addr: Ipv6, len: number): Ipv6 {
  const bytes = ipv6Bytes(addr).map((b, i) => b & (0xff << (8 - Math.max(0, Math.min(8, len - i * 8)))) & 0xff);
  return ipaddr.fromByteArray(bytes).toString();
}

export function ipv6InPrefix(addr: Ipv6, prefix: Ipv6, len: number): boolean {
  return ipv6Network(addr, len) === ipv6Network(prefix, len);
}

/** Orders addresses as their bytes do. */
export function compareIpv6(a: Ipv6, b: Ipv6): number {
  const x = ipv6Bytes(a);
  const y = ipv6Bytes(b);
  for (let i = 0; i < 16; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return 0;
}

export function isIpv6LinkLocal(addr: Ipv6): boolean {
  return ipv6InPrefix(addr, 'fe80::', 10);
}

export function isIpv6Multicast(addr: Ipv6): boolean {
  return addr.startsWith('ff');
}

/** The Ethernet address an IPv6 multicast group maps to (33:33 and its last four bytes). */
export function ipv6MulticastMac(group: Ipv6): Mac {
  const b = ipv6Bytes(group);
  return 0x333300000000 + ((b[12]! << 24) >>> 0) + (b[13]! << 16) + (b[14]! << 8) + b[15]!;
}
