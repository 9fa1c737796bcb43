// `conntrack` (conntrack-tools 1.4.7): list, count, delete and flush the
// namespace's connection tracking table.
import { formatIpv4, type Ipv4 } from '../kernel/addr';
import type { ConnEntry, Tuple } from '../kernel/conntrack';
import type { NetNs } from '../kernel/netns';
import { IP_PROTO_NUMBER, type IpProtocol } from '../kernel/packet';
import { parseIpv4Loose } from './ip/utils';
import { program, type ProcContext } from './process';

const PREFIX = 'conntrack v1.4.7 (conntrack-tools): ';
const TRY = "Try `conntrack -h' or 'conntrack --help' for more information.";

class ConntrackError {
  constructor(readonly message: string) {}
}

/** A --src-nat/--dst-nat filter: any translation, or one to this address (and port). */
interface NatFilter {
  addr: Ipv4 | null;
  port: number | null;
}

type PortField = 'origSport' | 'origDport' | 'replySport' | 'replyDport';

interface Filter {
  proto: IpProtocol | null;
  origSrc: Ipv4 | null;
  origDst: Ipv4 | null;
  replySrc: Ipv4 | null;
  replyDst: Ipv4 | null;
  ports: Partial<Record<PortField, number>>;
  tcpState: string | null;
  srcNat: NatFilter | null;
  dstNat: NatFilter | null;
  anyNat: boolean;
}

/** The options -p tcp and -p udp add (conntrack's tcp/udp extensions). */
const PORT_OPTIONS: Record<string, PortField> = {
  '--sport': 'origSport',
  '--orig-port-src': 'origSport',
  '--dport': 'origDport',
  '--orig-port-dst': 'origDport',
  '--reply-port-src': 'replySport',
  '--reply-port-dst': 'replyDport',
};

const TCP_STATES = ['NONE', 'SYN_SENT', 'SYN_RECV', 'ESTABLISHED', 'FIN_WAIT', 'CLOSE_WAIT', 'LAST_ACK', 'TIME_WAIT', 'CLOSE', 'LISTEN', 'SYN_SENT2'];

function tupleText(t: Tuple): string {
  const ends = `src=${formatIpv4(t.src)} dst=${formatIpv4(t.dst)}`;
  return t.proto === 'icmp' ? ends : `${ends} sport=${t.sport} dport=${t.dport}`;
}

/** One line of `conntrack -L`, as the kernel's table shows it. */
export function entryLine(entry: ConnEntry, nowUs: number, extended: boolean): string {
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
  return line + 'mark=0 use=1';
}

function portOf(entry: ConnEntry, field: PortField): number {
  const tuple = field.startsWith('orig') ? entry.orig : entry.reply;
  return field.endsWith('Sport') ? tuple.sport : tuple.dport;
}

/**
 * libnetfilter_conntrack's IS_SNAT/IS_SPAT and IS_DNAT/IS_DPAT: the tuples
 * disagree. For ICMP the "ports" compared are the echo identifier against the
 * other tuple's type and code, so echo flows nearly always count as NATed.
 */
function translated(entry: ConnEntry, side: 'src' | 'dst'): { addr: boolean; port: boolean } {
  const { orig, reply } = entry;
  if (side === 'src') {
    return { addr: orig.src !== reply.dst, port: orig.proto === 'icmp' ? orig.sport !== 0 : orig.sport !== reply.dport };
  }
  const echoRequestTypeCode = 0x0800; // type 8, code 0 read as the identifier's network-order bytes
  return { addr: orig.dst !== reply.src, port: orig.proto === 'icmp' ? reply.sport !== echoRequestTypeCode : orig.dport !== reply.sport };
}

/** conntrack's filter_nat for one side: the address (and port) it was translated to, as the reply tuple shows. */
function natMatches(entry: ConnEntry, side: 'src' | 'dst', nat: NatFilter): boolean {
  const done = translated(entry, side);
  const to = side === 'src' ? { addr: entry.reply.dst, port: entry.reply.dport } : { addr: entry.reply.src, port: entry.reply.sport };
  if (nat.addr === null && nat.port === null) return done.addr || done.port;
  const addrOk = nat.addr === null || (done.addr && to.addr === nat.addr);
  const portOk = nat.port === null || (done.port && to.port === nat.port);
  return addrOk && portOk;
}

function matches(entry: ConnEntry, f: Filter): boolean {
  const any = { addr: null, port: null };
  if (f.anyNat && !natMatches(entry, 'src', any) && !natMatches(entry, 'dst', any)) return false;
  return (
    (f.proto === null || entry.orig.proto === f.proto) &&
    (f.origSrc === null || entry.orig.src === f.origSrc) &&
    (f.origDst === null || entry.orig.dst === f.origDst) &&
    (f.replySrc === null || entry.reply.src === f.replySrc) &&
    (f.replyDst === null || entry.reply.dst === f.replyDst) &&
    (Object.entries(f.ports) as [PortField, number][]).every(([field, port]) => portOf(entry, field) === port) &&
    (f.tcpState === null || entry.tcpState === f.tcpState) &&
    (f.srcNat === null || natMatches(entry, 'src', f.srcNat)) &&
    (f.dstNat === null || natMatches(entry, 'dst', f.dstNat))
  );
}

function entriesOf(ns: NetNs): ConnEntry[] {
  return ns.conntrack?.entries() ?? [];
}

function run(ctx: ProcContext, argv: string[]): number {
  try {
    return execute(ctx, argv);
  } catch (e) {
    if (!(e instanceof ConntrackError)) throw e;
    ctx.stderr.write(e.message + '\n');
    return 2;
  }
}

/** atoi, then the u16 the tcp/udp extensions store. */
function portNumber(text: string): number {
  const m = /^\s*([+-]?\d+)/.exec(text);
  return (m ? Number(m[1]) : 0) & 0xffff;
}

/** The names conntrack's command/option check reports, in the order it checks them. */
const FILTER_OPTION_NAMES: [keyof Filter, string][] = [
  ['origSrc', 'src'],
  ['origDst', 'dst'],
  ['replySrc', 'reply-src'],
  ['replyDst', 'reply-dst'],
  ['proto', 'protonum'],
  ['srcNat', 'src-nat'],
  ['dstNat', 'dst-nat'],
];

function execute(ctx: ProcContext, argv: string[]): number {
  let command: 'L' | 'D' | 'F' | 'C' | null = null;
  let extended = false;
  const filter: Filter = {
    proto: null,
    origSrc: null,
    origDst: null,
    replySrc: null,
    replyDst: null,
    ports: {},
    tcpState: null,
    srcNat: null,
    dstNat: null,
    anyNat: false,
  };
  let i = 1;
  const address = (option: string, value: string | undefined): Ipv4 => {
    const addr = value === undefined ? null : parseIpv4Loose(value);
    if (addr === null) throw new ConntrackError(`${PREFIX}Bad parameter \`${option}'\n${TRY}`);
    return addr;
  };
  const argument = (option: string): string => {
    const value = argv[++i];
    if (value === undefined) throw new ConntrackError(`${PREFIX}option \`${option}' requires an argument\n${TRY}`);
    return value;
  };
  // --src-nat/--dst-nat take an optional IP[:PORT], the next word unless it is an option.
  const natTarget = (): NatFilter => {
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('-')) return { addr: null, port: null };
    i++;
    const colon = next.indexOf(':');
    const addrText = colon < 0 ? next : next.slice(0, colon);
    const addr = parseIpv4Loose(addrText);
    if (addr === null) throw new ConntrackError(`${PREFIX}Invalid IP address \`${addrText}'\n${TRY}`);
    return { addr, port: colon < 0 ? null : portNumber(next.slice(colon + 1)) };
  };
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    const protoOption = filter.proto === 'tcp' || filter.proto === 'udp';
    if (protoOption && a in PORT_OPTIONS) {
      filter.ports[PORT_OPTIONS[a]!] = portNumber(argument(a));
      continue;
    }
    if (filter.proto === 'tcp' && a === '--state') {
      const state = argument(a);
      if (!TCP_STATES.includes(state)) throw new ConntrackError(`${PREFIX}unknown TCP state \`${state}'\n${TRY}`);
      filter.tcpState = state;
      continue;
    }
    switch (a) {
      case '-L': case '--dump': command = 'L'; break;
      case '-D': case '--delete': command = 'D'; break;
      case '-F': case '--flush': command = 'F'; break;
      case '-C': case '--count': command = 'C'; break;
      case '-p': case '--proto': {
        const proto = argv[++i];
        if (proto !== 'tcp' && proto !== 'udp' && proto !== 'icmp') throw new ConntrackError(`${PREFIX}\`${proto}' unsupported protocol\n${TRY}`);
        filter.proto = proto;
        break;
      }
      case '-s': case '--src': case '--orig-src': filter.origSrc = address(a, argv[++i]); break;
      case '-d': case '--dst': case '--orig-dst': filter.origDst = address(a, argv[++i]); break;
      case '-r': case '--reply-src': filter.replySrc = address(a, argv[++i]); break;
      case '-q': case '--reply-dst': filter.replyDst = address(a, argv[++i]); break;
      case '--src-nat': filter.srcNat = natTarget(); break;
      case '--dst-nat': filter.dstNat = natTarget(); break;
      case '--any-nat': filter.anyNat = true; break;
      case '-o': case '--output':
        extended = (argv[++i] ?? '').split(',').includes('extended');
        break;
      case '-n': case '-g': break;
      default:
        throw new ConntrackError(`${PREFIX}unknown option \`${a}'\n${TRY}`);
    }
  }
  if (command === 'C' || command === 'F') {
    const illegal = FILTER_OPTION_NAMES.find(([field]) => filter[field] !== null) ?? (filter.anyNat ? [null, 'any-nat'] : null);
    if (illegal) throw new ConntrackError(`${PREFIX}Illegal option \`--${illegal[1]}' with this command\n${TRY}`);
  }
  const ns = ctx.ns;
  const now = ctx.world.now;
  switch (command ?? 'L') {
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

export const conntrack = program(run);
