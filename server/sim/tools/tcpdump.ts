// `tcpdump`: the frames crossing one device, decoded as tcpdump prints them,
// with a small pcap-filter language (icmp, icmp6, arp, tcp, udp, ip, ip6,
// host, port, and/or/not).
import { BROADCAST_MAC, formatIpv4, formatMac, inPrefix, isMulticastMac, parseIpv6, prefixMask, type Ipv4, type Ipv6 } from '../kernel/addr';
import type { Device } from '../kernel/device';
import {
  ARP_REQUEST,
  ICMP_DEST_UNREACH,
  ICMP_ECHO_REPLY,
  ICMP_ECHO_REQUEST,
  ICMP_TIME_EXCEEDED,
  ICMPV6_DEST_UNREACH,
  ICMPV6_ECHO_REPLY,
  ICMPV6_ECHO_REQUEST,
  ICMPV6_TIME_EXCEED,
  NDISC_NEIGHBOUR_ADVERTISEMENT,
  NDISC_NEIGHBOUR_SOLICITATION,
  frameBytes,
  type Frame,
  type Ipv4Packet,
  type Ipv6Packet,
} from '../kernel/packet';
import { parseIpv4Loose } from './ip/utils';
import type { Proc, ProcContext, Program } from './process';
import { serviceName } from './services';

const POLL_US = 10_000;

type Filter = (frame: Frame) => boolean;

class FilterError {
  constructor(readonly message: string) {}
}

/** Parses a pcap-filter expression: primitives joined by and/or, negated by not, grouped by ( ). */
function parseFilter(words: string[]): Filter {
  let i = 0;
  const peek = () => words[i];
  const next = () => words[i++];
  const ports = (f: Frame) => (f.ip?.ports ? [f.ip.ports.sport, f.ip.ports.dport] : []);
  const primary = (): Filter => {
    const w = next();
    if (w === undefined) throw new FilterError(SYNTAX_ERROR);
    if (w === '(') {
      const inner = or();
      if (next() !== ')') throw new FilterError(SYNTAX_ERROR);
      return inner;
    }
    if (w === 'not' || w === '!') {
      const inner = primary();
      return (f) => !inner(f);
    }
    const number = (): number => {
      const text = next();
      if (text === undefined) throw new FilterError(SYNTAX_ERROR);
      if (!/^\d+$/.test(text)) throw new FilterError(`unknown port '${text}'`);
      const n = Number(text);
      if (n > 65535) throw new FilterError(`illegal port number ${n} > 65535`);
      return n;
    };
    const address = (): Ipv4 | Ipv6 => {
      const text = next();
      if (text === undefined || KEYWORDS.has(text)) throw new FilterError(SYNTAX_ERROR);
      const a = parseIpv4Loose(text) ?? parseIpv6(text);
      if (a === null) throw new FilterError(`can't resolve host ${text}`);
      return a;
    };
    /** `net A.B.C.D/LEN`: whether an address is inside it. */
    const net = (): ((addr: Ipv4) => boolean) => {
      const text = next() ?? '';
      const [addr, len] = text.split('/');
      const a = parseIpv4Loose(addr ?? '');
      if (a === null) throw new FilterError(SYNTAX_ERROR);
      const l = Number(len ?? 32);
      if (l > 32) throw new FilterError('mask length must be <= 32');
      if ((a & ~prefixMask(l)) >>> 0 !== 0) throw new FilterError(`non-network bits set in "${text}"`);
      return (x) => inPrefix(x, a, l);
    };
    switch (w) {
      case 'icmp':
        return (f) => f.ip?.protocol === 'icmp';
      case 'icmp6':
        return (f) => f.ip6 !== undefined;
      case 'ip6':
        // `ip6 host X` qualifies the host primitive that follows.
        if (peek() === 'host') return primary();
        return (f) => f.ip6 !== undefined;
      case 'tcp':
      case 'udp':
        if (peek() === 'port') {
          next();
          const port = number();
          return (f) => f.ip?.protocol === w && ports(f).includes(port);
        }
        return (f) => f.ip?.protocol === w;
      case 'arp':
        return (f) => f.arp !== undefined;
      case 'ip':
        return (f) => f.ip !== undefined;
      case 'port': {
        const port = number();
        return (f) => ports(f).includes(port);
      }
      case 'host': {
        const a = address();
        return (f) => f.ip?.src === a || f.ip?.dst === a || f.ip6?.src === a || f.ip6?.dst === a || f.arp?.senderIp === a || f.arp?.targetIp === a;
      }
      case 'net': {
        const inNet = net();
        return (f) => (f.ip ? inNet(f.ip.src) || inNet(f.ip.dst) : false);
      }
      case 'src':
      case 'dst': {
        const kind = next();
        if (kind === 'net') {
          const inNet = net();
          return (f) => f.ip !== undefined && inNet(w === 'src' ? f.ip.src : f.ip.dst);
        }
        if (kind === 'port') {
          const port = number();
          return (f) => (w === 'src' ? f.ip?.ports?.sport : f.ip?.ports?.dport) === port;
        }
        if (kind !== 'host') i--;
        const a = address();
        return (f) => (w === 'src' ? (f.ip?.src ?? f.ip6?.src ?? f.arp?.senderIp) : (f.ip?.dst ?? f.ip6?.dst ?? f.arp?.targetIp)) === a;
      }
      default: {
        const field = /^icmp\[(icmptype|icmpcode|[01])\]$/.exec(w);
        if (field) return icmpComparison(field[1] === 'icmptype' || field[1] === '0' ? 'type' : 'code', next(), next());
        const a = parseIpv4Loose(w);
        if (a !== null && w.split('.').length === 4) return (f) => f.ip?.src === a || f.ip?.dst === a;
        throw new FilterError(SYNTAX_ERROR);
      }
    }
  };
  const and = (): Filter => {
    let left = primary();
    while (peek() === 'and' || peek() === '&&') {
      next();
      const right = primary();
      const l = left;
      left = (f) => l(f) && right(f);
    }
    return left;
  };
  const or = (): Filter => {
    let left = and();
    while (peek() === 'or' || peek() === '||') {
      next();
      const right = and();
      const l = left;
      left = (f) => l(f) || right(f);
    }
    return left;
  };
  if (words.length === 0) return () => true;
  const filter = or();
  if (i < words.length) throw new FilterError(SYNTAX_ERROR);
  return filter;
}

/** The names pcap-filter gives ICMP types. */
const ICMP_TYPE_NAMES: Record<string, number> = { 'icmp-echoreply': 0, 'icmp-unreach': 3, 'icmp-redirect': 5, 'icmp-echo': 8, 'icmp-timxceed': 11 };
const COMPARISONS: Record<string, (a: number, b: number) => boolean> = {
  '=': (a, b) => a === b,
  '==': (a, b) => a === b,
  '!=': (a, b) => a !== b,
  '<': (a, b) => a < b,
  '>': (a, b) => a > b,
  '<=': (a, b) => a <= b,
  '>=': (a, b) => a >= b,
};

/** `icmp[icmptype] = icmp-echo`: a byte of the ICMP header compared with a number or a type name. */
function icmpComparison(field: 'type' | 'code', op: string | undefined, operand: string | undefined): Filter {
  const compare = op === undefined ? undefined : COMPARISONS[op];
  const value = operand === undefined ? undefined : /^\d+$/.test(operand) ? Number(operand) : ICMP_TYPE_NAMES[operand];
  if (!compare || value === undefined) throw new FilterError(SYNTAX_ERROR);
  return (f) => f.ip?.icmp !== undefined && compare(f.ip.icmp[field], value);
}

/** What the grammar itself rejects; semantic errors (ports, masks) are worded on their own. */
const SYNTAX_ERROR = "can't parse filter expression: syntax error";
const KEYWORDS = new Set(['and', 'or', 'not', '&&', '||', '!', '(', ')', 'host', 'net', 'port', 'src', 'dst', 'icmp', 'icmp6', 'tcp', 'udp', 'arp', 'ip', 'ip6']);

function endpoint(addr: Ipv4, port: number, numeric: boolean, protocol: 'tcp' | 'udp'): string {
  return `${formatIpv4(addr)}.${numeric ? port : (serviceName(port, protocol) ?? port)}`;
}

function icmpText(p: Ipv4Packet): string {
  const icmp = p.icmp!;
  const length = p.length - 20;
  if (icmp.type === ICMP_ECHO_REQUEST || icmp.type === ICMP_ECHO_REPLY) {
    return `ICMP echo ${icmp.type === ICMP_ECHO_REQUEST ? 'request' : 'reply'}, id ${icmp.id}, seq ${icmp.seq}, length ${length}`;
  }
  const q = icmp.quoted;
  if (icmp.type === ICMP_DEST_UNREACH && q) {
    if (icmp.code === 3 && q.ports) return `ICMP ${formatIpv4(q.dst)} ${q.protocol} port ${q.ports.dport} unreachable, length ${length}`;
    const what = ['net', 'host', 'protocol'][icmp.code];
    if (what) return `ICMP ${what} ${formatIpv4(q.dst)} unreachable, length ${length}`;
    return `ICMP ${formatIpv4(q.dst)} unreachable - admin prohibited filter, length ${length}`;
  }
  if (icmp.type === ICMP_TIME_EXCEEDED) return `ICMP time exceeded in-transit, length ${length}`;
  if (icmp.type === 5 && q) return `ICMP redirect ${formatIpv4(q.dst)} to host ${formatIpv4(icmp.gateway ?? 0)}, length ${length}`;
  return `ICMP type-#${icmp.type}, length ${length}`;
}

/** libpcap's pkttype names for the any device's cooked header: In, B(roadcast), M(ulticast), P (other host), Out. */
function packetType(dev: Device, frame: Frame, direction: 'in' | 'out'): string {
  if (direction === 'out') return 'Out';
  if (frame.dst === BROADCAST_MAC) return 'B';
  if (isMulticastMac(frame.dst)) return 'M';
  return frame.dst === dev.mac ? 'In' : 'P';
}

/** print-icmp6.c: the message's type, what it is about, its length. */
function icmp6Text(p: Ipv6Packet): string {
  const icmp = p.icmp6;
  const about = (() => {
    switch (icmp.type) {
      case ICMPV6_ECHO_REQUEST:
      case ICMPV6_ECHO_REPLY:
        return `echo ${icmp.type === ICMPV6_ECHO_REQUEST ? 'request' : 'reply'}, id ${icmp.id}, seq ${icmp.seq}`;
      case NDISC_NEIGHBOUR_SOLICITATION:
        return `neighbor solicitation, who has ${icmp.target}`;
      case NDISC_NEIGHBOUR_ADVERTISEMENT:
        return `neighbor advertisement, tgt is ${icmp.target}`;
      case ICMPV6_DEST_UNREACH: {
        const code = ['unreachable route', 'unreachable prohibited', 'beyond scope', 'unreachable address', 'unreachable port'][icmp.code] ?? `unknown unreach code (${icmp.code})`;
        return `destination unreachable, ${code}${icmp.code <= 3 && icmp.code !== 2 ? ` ${icmp.quoted?.dst}` : ''}`;
      }
      case ICMPV6_TIME_EXCEED:
        return icmp.code === 0 ? `time exceeded in-transit for ${icmp.quoted?.dst}` : 'time exceeded in-transit';
      default:
        return `unknown icmp6 type (${icmp.type})`;
    }
  })();
  return `ICMP6, ${about}, length ${p.payloadLength}`;
}

const ETHERTYPES = { arp: 'ARP (0x0806)', ip: 'IPv4 (0x0800)', ip6: 'IPv6 (0x86dd)' };

/** One captured frame as a line of tcpdump's output. */
export function decode(frame: Frame, o: { numeric: boolean; quiet: boolean; link: boolean }): string {
  // With -e the link header names the ethertype, in place of the protocol's own name.
  const head = o.link
    ? `${formatMac(frame.src)} > ${formatMac(frame.dst)}, ethertype ${ETHERTYPES[frame.arp ? 'arp' : frame.ip6 ? 'ip6' : 'ip']}, length ${frameBytes(frame)}: `
    : frame.arp ? 'ARP, ' : frame.ip6 ? 'IP6 ' : 'IP ';
  if (frame.ip6) return `${head}${frame.ip6.src} > ${frame.ip6.dst}: ${icmp6Text(frame.ip6)}`;
  if (frame.arp) {
    const a = frame.arp;
    return a.op === ARP_REQUEST
      ? `${head}Request who-has ${formatIpv4(a.targetIp)} tell ${formatIpv4(a.senderIp)}, length 28`
      : `${head}Reply ${formatIpv4(a.senderIp)} is-at ${formatMac(a.senderMac)}, length 28`;
  }
  const p = frame.ip!;
  if (p.protocol === 'icmp') return `${head}${formatIpv4(p.src)} > ${formatIpv4(p.dst)}: ${icmpText(p)}`;
  const ports = p.ports!;
  const ends = `${endpoint(p.src, ports.sport, o.numeric, p.protocol)} > ${endpoint(p.dst, ports.dport, o.numeric, p.protocol)}`;
  const payload = p.payload?.length ?? 0;
  if (p.protocol === 'udp') return `${head}${ends}: UDP, length ${payload}`;
  if (o.quiet) return `${head}${ends}: tcp ${payload}`;
  return `${head}${ends}: Flags [${ports.tcpFlags ?? '.'}], length ${payload}`;
}

const VERSION = 'tcpdump version 4.99.3\nlibpcap version 1.10.3 (with TPACKET_V3)\nOpenSSL 3.0.19 27 Jan 2026\n';
const USAGE = `Usage: tcpdump [-AbdDefhHIJKlLnNOpqStuUvxX#] [ -B size ] [ -c count ] [--count]
\t\t[ -C file_size ] [ -E algo:secret ] [ -F file ] [ -G seconds ]
\t\t[ -i interface ] [ --immediate-mode ] [ -j tstamptype ]
\t\t[ -M secret ] [ --number ] [ --print ] [ -Q in|out|inout ]
\t\t[ -r file ] [ -s snaplen ] [ -T type ] [ --version ]
\t\t[ -V file ] [ -w file ] [ -W filecount ] [ -y datalinktype ]
\t\t[ --time-stamp-precision precision ] [ --micro ] [ --nano ]
\t\t[ -z postrotate-command ] [ -Z user ] [ expression ]
`;
const WITH_ARG = new Set('BcCEFGiMQrsTVwWyzZj'.split(''));
const FLAGS = new Set('AbdDefhHIJKlLnNOpqStuUvxX#'.split(''));

/** Capture sources libpcap lists besides the namespace's interfaces (`tcpdump -D`), with their flags. */
const PSEUDO_DEVICES = ['bluetooth-monitor (Bluetooth Linux Monitor) [Wireless]', 'nflog (Linux netfilter log (NFLOG) interface) [none]', 'nfqueue (Linux netfilter queue (NFQUEUE) interface) [none]', 'dbus-system (D-Bus system bus) [none]', 'dbus-session (D-Bus session bus) [none]'];
const NOT_RUNNING = 0x80000000;
const NOT_UP = 0x40000000;
const DISCONNECTED = 0x20000000;
const LOOPBACK = 0x10000000;
/** The any device: after the other running interfaces, before loopback. */
const ANY_MERIT = 0x0fffffff;

/**
 * pcap_findalldevs as `tcpdump -D` numbers it: ordered by figure of merit
 * (running and up first, then connected, loopback after the rest, the any
 * device after the other connected ones), ties in the order found.
 */
function deviceList(ns: ProcContext['ns']): string[] {
  const entries: Array<{ merit: number; text: string }> = ns.sortedDevices().map((dev) => {
    const loopback = dev.kind.name === 'loopback';
    const flags = [dev.adminUp ? 'Up' : null, dev.running ? 'Running' : null, loopback ? 'Loopback' : null].filter((f) => f !== null);
    const connected = loopback ? null : dev.running ? 'Connected' : 'Disconnected';
    const merit = (dev.running ? 0 : NOT_RUNNING) | (dev.adminUp ? 0 : NOT_UP) | (connected === 'Disconnected' ? DISCONNECTED : 0) | (loopback ? LOOPBACK : 0);
    return { merit: merit >>> 0, text: `${dev.name} [${[flags.length ? flags.join(', ') : 'none', connected].filter((f) => f !== null).join(', ')}]` };
  });
  entries.push({ merit: ANY_MERIT, text: 'any (Pseudo-device that captures on all interfaces) [Up, Running]' });
  for (const text of PSEUDO_DEVICES) entries.push({ merit: (NOT_RUNNING | NOT_UP) >>> 0, text });
  return entries.sort((a, b) => a.merit - b.merit).map((e, i) => `${i + 1}.${e.text}`);
}

function* run(ctx: ProcContext, argv: string[]): Proc {
  let ifname: string | null = null;
  let count = Infinity;
  let numeric = false;
  let quiet = false;
  let link = false;
  let timestamps = true;
  let list = false;
  let promiscuous = true;
  const expression: string[] = [];
  const usage = (problem: string) => {
    ctx.stderr.write(`tcpdump: ${problem}\n${VERSION}${USAGE}`);
    return 1;
  };
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--version') {
      ctx.stdout.write(VERSION);
      return 0;
    }
    if (!a.startsWith('-') || a === '-') {
      expression.push(...a.replace(/([()])/g, ' $1 ').split(/\s+/).filter(Boolean));
      continue;
    }
    for (let j = 1; j < a.length; j++) {
      const f = a[j]!;
      if (FLAGS.has(f)) {
        if (f === 'n') numeric = true;
        else if (f === 't') timestamps = false;
        else if (f === 'q') quiet = true;
        else if (f === 'e') link = true;
        else if (f === 'D') list = true;
        else if (f === 'p') promiscuous = false;
        continue;
      }
      if (!WITH_ARG.has(f)) return usage(`invalid option -- '${f}'`);
      const value = a.slice(j + 1) || argv[++i];
      if (value === undefined) return usage(`option requires an argument -- '${f}'`);
      if (f === 'i') ifname = value;
      else if (f === 'c') {
        // strtol: leading digits count, trailing garbage is ignored.
        const n = parseInt(value, 10);
        if (!(n > 0)) {
          ctx.stderr.write(`tcpdump: invalid packet count ${value}\n`);
          return 1;
        }
        count = n;
      }
      break;
    }
  }
  if (list) {
    ctx.stdout.write(deviceList(ctx.ns).map((line) => line + '\n').join(''));
    return 0;
  }
  const name = ifname ?? ctx.ns.sortedDevices().find((d) => d.adminUp && d.kind.name !== 'loopback')?.name ?? 'lo';
  const any = name === 'any';
  const dev: Device | undefined = ctx.ns.device(name);
  if (!dev && !any) {
    ctx.stderr.write(`tcpdump: ${name}: No such device exists\n(No such device exists)\n`);
    return 1;
  }
  if (dev && !dev.adminUp) {
    ctx.stderr.write(`tcpdump: ${name}: That device is not up\n`);
    return 1;
  }
  let filter: Filter;
  try {
    filter = parseFilter(expression);
  } catch (e) {
    if (!(e instanceof FilterError)) throw e;
    ctx.stderr.write(`tcpdump: ${e.message}\n`);
    return 1;
  }
  const linkType = any ? 'LINUX_SLL2 (Linux cooked v2)' : 'EN10MB (Ethernet)';
  if (any) ctx.stderr.write('tcpdump: data link type LINUX_SLL2\n');
  ctx.stderr.write(`tcpdump: verbose output suppressed, use -v[v]... for full protocol decode\nlistening on ${name}, link-type ${linkType}, snapshot length 262144 bytes\n`);
  let captured = 0;
  // Everything the filter passes until tcpdump stops, printed or not, is "received by filter".
  let received = 0;
  const devices = any ? ctx.ns.sortedDevices() : [dev!];
  const taps = devices.map((d) => {
    const tap = (frame: Frame, direction: 'in' | 'out') => {
      if (!filter(frame)) return;
      received++;
      if (captured >= count) return;
      captured++;
      const stamp = timestamps ? `${clock(ctx.world.now)} ` : '';
      const cooked = any ? `${d.name.padEnd(5)} ${packetType(d, frame, direction).padEnd(3)} ` : '';
      ctx.stdout.write(stamp + cooked + decode(frame, { numeric, quiet, link }) + '\n');
    };
    d.taps.push(tap);
    // Unless -p, the capture puts the device in promiscuous mode while it runs (the any device cannot be).
    if (promiscuous && !any) d.promisc++;
    return { d, tap };
  });
  try {
    while (captured < count && !ctx.interrupted()) yield ctx.world.now + POLL_US;
  } finally {
    for (const { d, tap } of taps) {
      d.taps.splice(d.taps.indexOf(tap), 1);
      if (promiscuous && !any) d.promisc = Math.max(0, d.promisc - 1);
    }
  }
  const plural = (n: number) => `${n} packet${n === 1 ? '' : 's'}`;
  ctx.stderr.write(`${captured < count ? '\n' : ''}${plural(captured)} captured\n${plural(received)} received by filter\n0 packets dropped by kernel\n`);
  return 0;
}

/** Time of day of the simulated clock, as tcpdump stamps lines. */
function clock(nowUs: number): string {
  const seconds = Math.floor(nowUs / 1e6);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(Math.floor(seconds / 3600) % 24)}:${two(Math.floor(seconds / 60) % 60)}:${two(seconds % 60)}.${String(nowUs % 1e6).padStart(6, '0')}`;
}

export const tcpdump: Program = { run, flushesStdout: true };
