// `conntrack` (conntrack-tools 1.4.7): list, count, delete and flush the
// namespace's connection tracking table.
import { formatIpv4, inPrefix, type Ipv4 } from '../kernel/addr';
import type { ConnEntry, CtEvent, Tuple } from '../kernel/conntrack';
import { conntrackOf } from '../kernel/netfilter';
import type { NetNs } from '../kernel/netns';
import { IP_PROTO_NUMBER } from '../kernel/packet';
import { parseIpv4Loose } from './ip/utils';
import type { Proc, Program, ProcContext } from './process';
import { protocolNumber } from './services';

const PREFIX = 'conntrack v1.4.7 (conntrack-tools): ';
const TRY = "Try `conntrack -h' or 'conntrack --help' for more information.";

class ConntrackError {
  constructor(readonly message: string) {}
}

interface NatFilter {
  addr: Ipv4 | null;
  port: number | null;
}

/** An address filter: an IPv4 prefix, or an IPv6 one that no IPv4 flow matches. */
type AddrFilter = { addr: Ipv4; prefixLen: number } | 'ipv6';

interface Filter {
  /** An IP protocol number. */
  proto: number | null;
  origSrc: AddrFilter | null;
  origDst: AddrFilter | null;
  replySrc: AddrFilter | null;
  replyDst: AddrFilter | null;
  /** Port filters of the tcp and udp extensions: which tuple, which end. */
  ports: { tuple: 'orig' | 'reply'; end: 'sport' | 'dport'; port: number }[];
  /** TCP states (--state). */
  states: string[] | null;
  /** --src-nat, --dst-nat: any translation of that side, or one to this address (and port); --any-nat: either side. */
  srcNat: NatFilter | null;
  dstNat: NatFilter | null;
  anyNat: boolean;
  /** -f ipv6: no flow here is IPv6. */
  ipv6: boolean;
}

const USAGE = "Command line interface for the connection tracking system. Version 1.4.7\nUsage: conntrack [commands] [options]\n\nCommands:\n  -L [table] [options]\t\tList conntrack or expectation table\n  -G [table] parameters\t\tGet conntrack or expectation\n  -D [table] parameters\t\tDelete conntrack or expectation\n  -I [table] parameters\t\tCreate a conntrack or expectation\n  -U [table] parameters\t\tUpdate a conntrack\n  -E [table] [options]\t\tShow events\n  -F [table]\t\t\tFlush table\n  -C [table]\t\t\tShow counter\n  -S\t\t\t\tShow statistics\n\nTables: conntrack, expect, dying, unconfirmed\n\nConntrack parameters and options:\n  -n, --src-nat ip\t\t\tsource NAT ip\n  -g, --dst-nat ip\t\t\tdestination NAT ip\n  -j, --any-nat ip\t\t\tsource or destination NAT ip\n  -m, --mark mark\t\t\tSet mark\n  -c, --secmark secmark\t\t\tSet selinux secmark\n  -e, --event-mask eventmask\t\tEvent mask, eg. NEW,DESTROY\n  -z, --zero \t\t\t\tZero counters while listing\n  -o, --output type[,...]\t\tOutput format, eg. xml\n  -l, --label label[,...]\t\tconntrack labels\n\nExpectation parameters and options:\n  --tuple-src ip\tSource address in expect tuple\n  --tuple-dst ip\tDestination address in expect tuple\n\nUpdating parameters and options:\n  --label-add label\tAdd label\n  --label-del label\tDelete label\n\nCommon parameters and options:\n  -s, --src, --orig-src ip\t\tSource address from original direction\n  -d, --dst, --orig-dst ip\t\tDestination address from original direction\n  -r, --reply-src ip\t\tSource addres from reply direction\n  -q, --reply-dst ip\t\tDestination address from reply direction\n  -p, --protonum proto\t\tLayer 4 Protocol, eg. 'tcp'\n  -f, --family proto\t\tLayer 3 Protocol, eg. 'ipv6'\n  -t, --timeout timeout\t\tSet timeout\n  -u, --status status\t\tSet status, eg. ASSURED\n  -w, --zone value\t\tSet conntrack zone\n  --orig-zone value\t\tSet zone for original direction\n  --reply-zone value\t\tSet zone for reply direction\n  -b, --buffer-size\t\tNetlink socket buffer size\n  --mask-src ip\t\t\tSource mask address\n  --mask-dst ip\t\t\tDestination mask address\n\n";

function tupleText(t: Tuple): string {
  const ends = `src=${formatIpv4(t.src)} dst=${formatIpv4(t.dst)}`;
  return t.proto === 'icmp' ? ends : `${ends} sport=${t.sport} dport=${t.dport}`;
}

/** One line of `conntrack -L`, as the kernel's table shows it. */
export function entryLine(entry: ConnEntry, nowUs: number, extended: boolean): string {
  return flowText(entry, nowUs, extended) + 'mark=0 use=1';
}

/** A flow as both listings and events print it: protocol, timeout, state, tuples and flags. */
function flowText(entry: ConnEntry, nowUs: number, extended: boolean): string {
  const { orig, reply } = entry;
  const proto = orig.proto;
  const seconds = Math.max(0, Math.floor((entry.expiresUs - nowUs) / 1e6));
  let line = `${extended ? 'ipv4     2 ' : ''}${proto.padEnd(8)} ${IP_PROTO_NUMBER[proto]} ${seconds} `;
  if (entry.tcpState) line += `${entry.tcpState} `;
  if (proto === 'icmp') {
    line += `${tupleText(orig)} type=8 code=0 id=${orig.sport} `;
    line += entry.seenReply ? '' : '[UNREPLIED] ';
    line += `${tupleText(reply)} type=0 code=0 id=${reply.sport} `;
  } else {
    line += `${tupleText(orig)} `;
    line += entry.seenReply ? '' : '[UNREPLIED] ';
    line += `${tupleText(reply)} `;
    if (entry.assured) line += '[ASSURED] ';
  }
  return line;
}

/**
 * libnetfilter_conntrack's IS_SNAT/IS_SPAT and IS_DNAT/IS_DPAT: the tuples
 * disagree. For ICMP the "ports" compared are the echo identifier against the
 * other tuple's type and code, so echo flows nearly always count as NATed.
 */
function translated(entry: ConnEntry, side: 'src' | 'dst'): { addr: boolean; port: boolean } {
  const { orig, reply } = entry;
  if (side === 'src') return { addr: orig.src !== reply.dst, port: orig.proto === 'icmp' ? orig.sport !== 0 : orig.sport !== reply.dport };
  const echoRequestTypeCode = 0x0800; // type 8, code 0 read as the identifier's network-order bytes
  return { addr: orig.dst !== reply.src, port: orig.proto === 'icmp' ? reply.sport !== echoRequestTypeCode : orig.dport !== reply.sport };
}

/** conntrack's filter_nat for one side: the address (and port) it was translated to, as the reply tuple shows. */
function natMatches(entry: ConnEntry, side: 'src' | 'dst', nat: NatFilter): boolean {
  const done = translated(entry, side);
  const to = side === 'src' ? { addr: entry.reply.dst, port: entry.reply.dport } : { addr: entry.reply.src, port: entry.reply.sport };
  if (nat.addr === null && nat.port === null) return done.addr || done.port;
  return (nat.addr === null || (done.addr && to.addr === nat.addr)) && (nat.port === null || (done.port && to.port === nat.port));
}

const ANY_NAT: NatFilter = { addr: null, port: null };

function addrMatches(f: AddrFilter | null, addr: Ipv4): boolean {
  return f === null || (f !== 'ipv6' && inPrefix(addr, f.addr, f.prefixLen));
}

function matches(entry: ConnEntry, f: Filter): boolean {
  return (
    (f.proto === null || IP_PROTO_NUMBER[entry.orig.proto] === f.proto) &&
    addrMatches(f.origSrc, entry.orig.src) &&
    addrMatches(f.origDst, entry.orig.dst) &&
    addrMatches(f.replySrc, entry.reply.src) &&
    addrMatches(f.replyDst, entry.reply.dst) &&
    f.ports.every(({ tuple, end, port }) => entry[tuple][end] === port) &&
    (f.states === null || f.states.includes(entry.tcpState ?? '')) &&
    (f.srcNat === null || natMatches(entry, 'src', f.srcNat)) &&
    (f.dstNat === null || natMatches(entry, 'dst', f.dstNat)) &&
    (!f.anyNat || natMatches(entry, 'src', ANY_NAT) || natMatches(entry, 'dst', ANY_NAT)) &&
    !f.ipv6
  );
}

function entriesOf(ns: NetNs): ConnEntry[] {
  return ns.conntrack?.entries() ?? [];
}

type Command = 'L' | 'D' | 'F' | 'C' | 'E';

interface Parsed {
  command: Command | null;
  filter: Filter;
  extended: boolean;
}

function* run(ctx: ProcContext, argv: string[]): Proc {
  let p: Parsed;
  try {
    p = parse(argv);
  } catch (e) {
    if (!(e instanceof ConntrackError)) throw e;
    ctx.stderr.write(e.message + '\n');
    return 2;
  }
  if (p.command === 'E') return yield* watch(ctx, p.filter);
  return execute(ctx, p);
}

/** conntrack -E: the table's events as they happen, until interrupted. */
function* watch(ctx: ProcContext, filter: Filter): Proc {
  const ct = conntrackOf(ctx.ns);
  let shown = 0;
  const watcher = (event: CtEvent, entry: ConnEntry) => {
    if (!matches(entry, filter)) return;
    shown++;
    ctx.stdout.write(`${`[${event}]`.padStart(9)} ${flowText(entry, ctx.world.now, false).trimEnd()}\n`);
    // conntrack fflush()es each event.
    ctx.stdout.flush?.();
  };
  ct.watchers.push(watcher);
  try {
    while (!ctx.interrupted()) yield ctx.world.now + POLL_US;
  } finally {
    ct.watchers.splice(ct.watchers.indexOf(watcher), 1);
  }
  ctx.stderr.write(`${PREFIX}${shown} flow events have been shown.\n`);
  return 0;
}

const POLL_US = 10_000;

/** The long names conntrack gives options in its errors. */
const OPTION_NAMES: Record<string, string> = {
  '-s': '--src', '--src': '--src', '--orig-src': '--src', '-d': '--dst', '--dst': '--dst', '--orig-dst': '--dst', '-r': '--reply-src',
  '--reply-src': '--reply-src', '-q': '--reply-dst', '--reply-dst': '--reply-dst', '-p': '--protonum', '--proto': '--protonum',
  '--protonum': '--protonum', '--src-nat': '--src-nat', '-n': '--src-nat', '--dst-nat': '--dst-nat', '-g': '--dst-nat',
  '-j': '--any-nat', '--any-nat': '--any-nat',
};

function parse(argv: string[]): Parsed {
  let command: Command | null = null;
  let extended = false;
  const filter: Filter = { proto: null, origSrc: null, origDst: null, replySrc: null, replyDst: null, ports: [], states: null, srcNat: null, dstNat: null, anyNat: false, ipv6: false };
  const usageError = (message: string): never => {
    throw new ConntrackError(`${PREFIX}${message}\n${TRY}`);
  };
  /** Filter options given, which -C and -F do not take. */
  const filters: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) usageError(`option \`${a}' requires an argument`);
      return v!;
    };
    const address = (): AddrFilter => {
      const [text, len] = value().split('/') as [string, string | undefined];
      if (text.includes(':')) return 'ipv6';
      const addr = parseIpv4Loose(text);
      if (addr === null) usageError(`Invalid IP address \`${text}'`);
      return { addr: addr!, prefixLen: len === undefined ? 32 : Number(len) };
    };
    // --src-nat and --dst-nat take an optional IP[:PORT]: the next word unless it is an option.
    const natTarget = (): NatFilter => {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('-')) return ANY_NAT;
      i++;
      const colon = next.indexOf(':');
      const addrText = colon < 0 ? next : next.slice(0, colon);
      const addr = parseIpv4Loose(addrText);
      if (addr === null) usageError(`Invalid IP address \`${addrText}'`);
      // atoi, then the u16 a port is.
      const port = colon < 0 ? null : (Number(/^\s*([+-]?\d+)/.exec(next.slice(colon + 1))?.[1] ?? 0) & 0xffff);
      return { addr, port };
    };
    if (OPTION_NAMES[a]) filters.push(OPTION_NAMES[a]!);
    const setCommand = (c: typeof command) => {
      if (command !== null) usageError('Invalid commands combination');
      command = c;
    };
    switch (a) {
      case '-L': case '--dump': setCommand('L'); break;
      case '-D': case '--delete': setCommand('D'); break;
      case '-F': case '--flush': setCommand('F'); break;
      case '-C': case '--count': setCommand('C'); break;
      case '-E': case '--event': setCommand('E'); break;
      case '-p': case '--proto': case '--protonum': {
        const proto = value();
        // getprotobyname, or a number up to 255.
        const number = /^\d+$/.test(proto) && Number(proto) <= 255 ? Number(proto) : protocolNumber(proto);
        if (number === undefined) usageError(`\`${proto}' unsupported protocol`);
        filter.proto = number!;
        break;
      }
      case '-s': case '--src': case '--orig-src': filter.origSrc = address(); break;
      case '-d': case '--dst': case '--orig-dst': filter.origDst = address(); break;
      case '-r': case '--reply-src': filter.replySrc = address(); break;
      case '-q': case '--reply-dst': filter.replyDst = address(); break;
      case '-n': case '--src-nat': filter.srcNat = natTarget(); break;
      case '-g': case '--dst-nat': filter.dstNat = natTarget(); break;
      case '-j': case '--any-nat': filter.anyNat = true; break;
      case '-f': case '--family': filter.ipv6 = value() === 'ipv6'; break;
      case '--sport': case '--orig-port-src': case '--dport': case '--orig-port-dst': case '--reply-port-src': case '--reply-port-dst': {
        // Options of the protocol extension, known only after -p tcp or udp.
        if (filter.proto !== 6 && filter.proto !== 17) usageError(`unknown option \`${a}'`);
        const tuple = a.startsWith('--reply') ? 'reply' : 'orig';
        const end = a === '--sport' || a.endsWith('-src') ? 'sport' : 'dport';
        filter.ports.push({ tuple, end, port: Number(value()) });
        break;
      }
      case '--state':
        if (filter.proto !== 6) usageError(`unknown option \`${a}'`);
        filter.states = value().split(',');
        break;
      case '-o': case '--output':
        extended = value().split(',').includes('extended');
        break;
      default:
        usageError(`unknown option \`${a}'`);
    }
  }
  if ((command === 'C' || command === 'F') && filters.length > 0) usageError(`Illegal option \`${filters[0]}' with this command`);
  return { command, filter, extended };
}

function execute(ctx: ProcContext, { command, filter, extended }: Parsed): number {
  if (command === null) {
    ctx.stdout.write(USAGE);
    return 0;
  }
  const ns = ctx.ns;
  const now = ctx.world.now;
  switch (command) {
    case 'C':
      ctx.stdout.write(`${entriesOf(ns).length}\n`);
      return 0;
    case 'F':
      ns.conntrack?.flush();
      ctx.stderr.write(`${PREFIX}connection tracking table has been emptied.\n`);
      return 0;
    case 'D': {
      const doomed = entriesOf(ns).filter((e) => matches(e, filter));
      for (const e of doomed) {
        ctx.stdout.write(entryLine(e, now, extended) + '\n');
        ns.conntrack!.remove(e);
      }
      ctx.stderr.write(`${PREFIX}${doomed.length} flow entries have been deleted.\n`);
      return doomed.length > 0 ? 0 : 1;
    }
    default: {
      const shown = entriesOf(ns).filter((e) => matches(e, filter));
      for (const e of shown) ctx.stdout.write(entryLine(e, now, extended) + '\n');
      ctx.stderr.write(`${PREFIX}${shown.length} flow entries have been shown.\n`);
      return 0;
    }
  }
}

export const conntrack: Program = { run };
