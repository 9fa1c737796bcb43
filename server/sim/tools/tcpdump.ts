// `tcpdump`: the frames crossing one device, decoded as tcpdump prints them,
// with a small pcap-filter language (icmp, icmp6, arp, tcp, udp, ip, ip6,
// host, port, and/or/not).
import { formatIpv4, formatMac, inPrefix, parseIpv6, type Ipv4, type Ipv6 } from '../kernel/addr';
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
    if (w === undefined) throw new FilterError('syntax error');
    if (w === '(') {
      const inner = or();
      if (next() !== ')') throw new FilterError('syntax error');
      return inner;
    }
    if (w === 'not' || w === '!') {
      const inner = primary();
      return (f) => !inner(f);
    }
    const number = (): number => {
      const text = next() ?? '';
      const n = /^\d+$/.test(text) ? Number(text) : undefined;
      if (n === undefined) throw new FilterError(`illegal port number ${text}`);
      return n;
    };
    const address = (): Ipv4 | Ipv6 => {
      const text = next() ?? '';
      const a = parseIpv4Loose(text) ?? parseIpv6(text);
      if (a === null) throw new FilterError(`can't resolve host ${text}`);
      return a;
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
        const [addr, len] = (next() ?? '').split('/');
        const a = parseIpv4Loose(addr ?? '');
        if (a === null) throw new FilterError('syntax error');
        const l = Number(len ?? 32);
        return (f) => (f.ip ? inPrefix(f.ip.src, a, l) || inPrefix(f.ip.dst, a, l) : false);
      }
      case 'src':
      case 'dst': {
        const kind = next();
        if (kind === 'port') {
          const port = number();
          return (f) => (w === 'src' ? f.ip?.ports?.sport : f.ip?.ports?.dport) === port;
        }
        if (kind !== 'host') i--;
        const a = address();
        return (f) => (w === 'src' ? (f.ip?.src ?? f.ip6?.src ?? f.arp?.senderIp) : (f.ip?.dst ?? f.ip6?.dst ?? f.arp?.targetIp)) === a;
      }
      default: {
        const a = parseIpv4Loose(w);
        if (a !== null && w.split('.').length === 4) return (f) => f.ip?.src === a || f.ip?.dst === a;
        throw new FilterError('syntax error');
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
  if (i < words.length) throw new FilterError('syntax error');
  return filter;
}

function endpoint(addr: Ipv4, port: number, numeric: boolean): string {
  return `${formatIpv4(addr)}.${numeric ? port : (serviceName(port) ?? port)}`;
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
  const link = o.link ? `${formatMac(frame.src)} > ${formatMac(frame.dst)}, ethertype ${ETHERTYPES[frame.arp ? 'arp' : frame.ip6 ? 'ip6' : 'ip']}, length ${frameBytes(frame)}: ` : '';
  if (frame.ip6) return `${link}IP6 ${frame.ip6.src} > ${frame.ip6.dst}: ${icmp6Text(frame.ip6)}`;
  if (frame.arp) {
    const a = frame.arp;
    return a.op === ARP_REQUEST
      ? `${link}ARP, Request who-has ${formatIpv4(a.targetIp)} tell ${formatIpv4(a.senderIp)}, length 28`
      : `${link}ARP, Reply ${formatIpv4(a.senderIp)} is-at ${formatMac(a.senderMac)}, length 28`;
  }
  const p = frame.ip!;
  if (p.protocol === 'icmp') return `${link}IP ${formatIpv4(p.src)} > ${formatIpv4(p.dst)}: ${icmpText(p)}`;
  const ports = p.ports!;
  const ends = `${endpoint(p.src, ports.sport, o.numeric)} > ${endpoint(p.dst, ports.dport, o.numeric)}`;
  const payload = p.payload?.length ?? 0;
  if (p.protocol === 'udp') return `${link}IP ${ends}: UDP, length ${payload}`;
  if (o.quiet) return `${link}IP ${ends}: tcp ${payload}`;
  return `${link}IP ${ends}: Flags [${ports.tcpFlags ?? '.'}], length ${payload}`;
}

function* run(ctx: ProcContext, argv: string[]): Proc {
  let ifname: string | null = null;
  let count = Infinity;
  let numeric = false;
  let quiet = false;
  let link = false;
  let timestamps = true;
  const expression: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-i') ifname = argv[++i] ?? null;
    else if (a === '-c') count = Number(argv[++i]);
    else if (/^-[ntlqevpSA]+$/.test(a)) {
      for (const f of a.slice(1)) {
        if (f === 'n') numeric = true;
        else if (f === 't') timestamps = false;
        else if (f === 'q') quiet = true;
        else if (f === 'e') link = true;
      }
    } else if (a.startsWith('-i')) ifname = a.slice(2);
    else if (a.startsWith('-c')) count = Number(a.slice(2));
    else expression.push(...a.replace(/([()])/g, ' $1 ').split(/\s+/).filter(Boolean));
  }
  const name = ifname ?? ctx.ns.sortedDevices().find((d) => d.adminUp && d.kind.name !== 'loopback')?.name ?? 'lo';
  const dev: Device | undefined = ctx.ns.device(name);
  if (!dev) {
    ctx.stderr.write(`tcpdump: ${name}: No such device exists\n(No such device exists)\n`);
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
  ctx.stderr.write(`tcpdump: verbose output suppressed, use -v[v]... for full protocol decode\nlistening on ${dev.name}, link-type EN10MB (Ethernet), snapshot length 262144 bytes\n`);
  let captured = 0;
  const tap = (frame: Frame) => {
    if (captured >= count || !filter(frame)) return;
    captured++;
    const stamp = timestamps ? `${clock(ctx.world.now)} ` : '';
    ctx.stdout.write(stamp + decode(frame, { numeric, quiet, link }) + '\n');
  };
  dev.taps.push(tap);
  try {
    while (captured < count && !ctx.interrupted()) yield ctx.world.now + POLL_US;
  } finally {
    dev.taps.splice(dev.taps.indexOf(tap), 1);
  }
  ctx.stderr.write(`${captured < count ? '\n' : ''}${captured} packets captured\n${captured} packets received by filter\n0 packets dropped by kernel\n`);
  return 0;
}

/** Time of day of the simulated clock, as tcpdump stamps lines. */
function clock(nowUs: number): string {
  const seconds = Math.floor(nowUs / 1e6);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(Math.floor(seconds / 3600) % 24)}:${two(Math.floor(seconds / 60) % 60)}:${two(seconds % 60)}.${String(nowUs % 1e6).padStart(6, '0')}`;
}

export const tcpdump: Program = { run, flushesStdout: true };
