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

interface Filter {
  proto: IpProtocol | null;
  origSrc: Ipv4 | null;
  origDst: Ipv4 | null;
  replySrc: Ipv4 | null;
  replyDst: Ipv4 | null;
  /** Port filters of the tcp and udp extensions: which tuple, which end. */
  ports: { tuple: 'orig' | 'reply'; end: 'sport' | 'dport'; port: number }[];
  /** TCP states (--state). */
  states: string[] | null;
  nat: boolean;
}

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

function matches(entry: ConnEntry, f: Filter): boolean {
  return (
    (f.proto === null || entry.orig.proto === f.proto) &&
    (f.origSrc === null || entry.orig.src === f.origSrc) &&
    (f.origDst === null || entry.orig.dst === f.origDst) &&
    (f.replySrc === null || entry.reply.src === f.replySrc) &&
    (f.replyDst === null || entry.reply.dst === f.replyDst) &&
    f.ports.every(({ tuple, end, port }) => entry[tuple][end] === port) &&
    (f.states === null || f.states.includes(entry.tcpState ?? '')) &&
    (!f.nat || entry.srcNat || entry.dstNat)
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

function execute(ctx: ProcContext, argv: string[]): number {
  let command: 'L' | 'D' | 'F' | 'C' | null = null;
  let extended = false;
  const filter: Filter = { proto: null, origSrc: null, origDst: null, replySrc: null, replyDst: null, ports: [], states: null, nat: false };
  const address = (option: string, value: string | undefined): Ipv4 => {
    const addr = value === undefined ? null : parseIpv4Loose(value);
    if (addr === null) throw new ConntrackError(`${PREFIX}Bad parameter \`${option}'\n${TRY}`);
    return addr;
  };
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
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
      case '--src-nat': case '--dst-nat': filter.nat = true; break;
      case '--sport': case '--orig-port-src': case '--dport': case '--orig-port-dst': case '--reply-port-src': case '--reply-port-dst': {
        // Options of the protocol extension, known only after -p tcp or udp.
        if (filter.proto !== 'tcp' && filter.proto !== 'udp') throw new ConntrackError(`${PREFIX}unknown option \`${a}'\n${TRY}`);
        const tuple = a.startsWith('--reply') ? 'reply' : 'orig';
        const end = a === '--sport' || a.endsWith('-src') ? 'sport' : 'dport';
        filter.ports.push({ tuple, end, port: Number(argv[++i]) });
        break;
      }
      case '--state':
        if (filter.proto !== 'tcp') throw new ConntrackError(`${PREFIX}unknown option \`${a}'\n${TRY}`);
        filter.states = (argv[++i] ?? '').split(',');
        break;
      case '-o': case '--output':
        extended = (argv[++i] ?? '').split(',').includes('extended');
        break;
      case '-n': case '-g': break;
      default:
        throw new ConntrackError(`${PREFIX}unknown option \`${a}'\n${TRY}`);
    }
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
