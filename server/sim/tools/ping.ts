// `ping` (iputils): ICMP echo on the simulated clock, one probe per
// interval, replies and errors as they arrive, statistics at the end.
import { formatIpv4, inPrefix, ipv4, IPV6_ANY, IPV6_LOOPBACK, isIpv6LinkLocal, parseIpv4Strict, parseIpv6, prefixMask, type Ipv4, type Ipv6 } from '../kernel/addr';
import type { Device } from '../kernel/device';
import { isLocalAddress } from '../kernel/fib';
import { ipOutput, routeOutput, type OutputResult } from '../kernel/ipv4';
import { DEFAULT_HOP_LIMIT, ip6Output, isLocalAddress6, routeOutput6 } from '../kernel/ipv6';
import { ICMP_DEST_UNREACH, ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST, ICMP_REDIRECT, ICMP_TIME_EXCEEDED, ICMPV6_DEST_UNREACH, ICMPV6_ECHO_REPLY, ICMPV6_ECHO_REQUEST, ICMPV6_TIME_EXCEED, type Ipv4Packet } from '../kernel/packet';
import { STRERROR } from '../kernel/errno';
import type { Proc, ProcContext, Program } from './process';

const USAGE = `
Usage
  ping [options] <destination>

Options:
  <destination>      dns name or ip address
  -a                 use audible ping
  -A                 use adaptive ping
  -B                 sticky source address
  -c <count>         stop after <count> replies
  -C                 call connect() syscall on socket creation
  -D                 print timestamps
  -d                 use SO_DEBUG socket option
  -e <identifier>    define identifier for ping session, default is random for
                     SOCK_RAW and kernel defined for SOCK_DGRAM
                     Imply using SOCK_RAW (for IPv4 only for identifier 0)
  -f                 flood ping
  -h                 print help and exit
  -I <interface>     either interface name or address
  -i <interval>      seconds between sending each packet
  -L                 suppress loopback of multicast packets
  -l <preload>       send <preload> number of packages while waiting replies
  -m <mark>          tag the packets going out
  -M <pmtud opt>     define mtu discovery, can be one of <do|dont|want>
  -n                 no dns name resolution
  -O                 report outstanding replies
  -p <pattern>       contents of padding byte
  -q                 quiet output
  -Q <tclass>        use quality of service <tclass> bits
  -s <size>          use <size> as number of data bytes to be sent
  -S <size>          use <size> as SO_SNDBUF socket option value
  -t <ttl>           define time to live
  -U                 print user-to-user latency
  -v                 verbose output
  -V                 print version and exit
  -w <deadline>      reply wait <deadline> in seconds
  -W <timeout>       time to wait for response

IPv4 options:
  -4                 use IPv4
  -b                 allow pinging broadcast
  -R                 record route
  -T <timestamp>     define timestamp, can be one of <tsonly|tsandaddr|tsprespec>

IPv6 options:
  -6                 use IPv6
  -F <flowlabel>     define flow label, default is random
  -N <nodeinfo opt>  use icmp6 node info query, try <help> as argument

For more details see ping(8).
`;

const WITH_ARG = new Set(['c', 'i', 'W', 'w', 's', 't', 'I', 'l', 'm', 'M', 'p', 'Q', 'S', 'e', 'T', 'F', 'N']);
const FLAGS = new Set(['q', 'n', 'a', 'A', 'B', 'C', 'D', 'd', 'f', 'h', 'L', 'O', 'U', 'v', 'V', '4', '6', 'b', 'R']);
const MAX_COUNT = '9223372036854775807';
/** -i and -W are kept in milliseconds in an int. */
const MAX_SECONDS = 2147483647 / 1000;
/** The most a raw socket sends in one message. */
const MAX_RAW_MESSAGE = 65535;
/** An unanswered request holds back an unlimited flood for this long. */
const FLOOD_WAIT_US = 10_000;
/** How iputils names the address families it prints with -v. */
const FAMILY_NAMES = { 4: 'AF_INET', 6: 'AF_INET6' } as const;

interface PingOptions {
  count: number;
  intervalUs: number;
  lingerUs: number;
  deadlineUs: number;
  quiet: boolean;
  size: number;
  ttl: number | null;
  iface: string | null;
  broadcast: boolean;
  /** -e: the echo identifier, random when not given. */
  ident: number | null;
  /** -M do: set Don't Fragment and refuse what does not fit. */
  dontFragment: boolean;
  /** -f: a dot per request, a backspace per reply, the next request as soon as the last is answered. */
  flood: boolean;
  /** -A: the interval follows the round-trip time. */
  adaptive: boolean;
  /** -O: say so when the previous request is still unanswered as the next goes out. */
  outstanding: boolean;
  /** -a: ring the terminal bell on each reply. */
  audible: boolean;
  verbose: boolean;
  /** -4 or -6; otherwise the target's own family. */
  family: 4 | 6 | null;
}

/** What ping says while it reads its options, before it stops or goes on. */
interface Notice {
  stream: 'stdout' | 'stderr';
  line: string;
}

class UsageError {
  constructor(
    readonly message: string,
    readonly code: number,
  ) {}
}

function number(text: string, min: number, max: number, maxText: string, integer: boolean): number {
  const value = Number(text);
  if (text.trim() === '' || Number.isNaN(value) || (integer && !/^-?\d+$/.test(text))) throw new UsageError(`ping: invalid argument: '${text}'`, 1);
  if (value < min || value > max) throw new UsageError(`ping: invalid argument: '${text}': out of range: ${min} <= value <= ${maxText}`, 1);
  return value;
}

/**
 * ping_strtod: strtod that only warns about trailing garbage (iputils keeps
 * what parsed), but refuses an empty, infinite or NaN value.
 */
function seconds(text: string, what: string, notices: Notice[]): number {
  if (text === '') throw new UsageError(`ping: ${what}: `, 2);
  const m = /^\s*([+-]?(?:inf(?:inity)?|nan|0x[0-9a-f]*\.?[0-9a-f]*(?:p[+-]?\d+)?|(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?))/i.exec(text);
  const value = m ? Number(m[1]!.replace(/inf(inity)?/i, 'Infinity').replace(/nan/i, 'NaN')) : 0;
  const rest = m ? text.slice(m[0].length) : text;
  if (rest !== '') notices.push({ stream: 'stderr', line: `ping: option argument contains garbage: ${rest}` }, { stream: 'stderr', line: 'ping: this will become fatal error in the future' });
  if (!Number.isFinite(value)) throw new UsageError(`ping: ${what}: ${text}: Numerical result out of range`, 2);
  return value;
}

/** -p: hex digit pairs, sixteen at most (sscanf "%2x" sixteen times). */
function pattern(text: string): number[] {
  const bad = text.search(/[^0-9a-fA-F]/);
  if (bad >= 0) throw new UsageError(`ping: patterns must be specified as hex digits: ${text.slice(bad)}`, 2);
  return (text.match(/.{1,2}/g) ?? []).slice(0, 16).map((pair) => parseInt(pair, 16));
}

function parse(argv: string[], notices: Notice[]): { opts: PingOptions; target: string } {
  const opts: PingOptions = {
    count: 0,
    intervalUs: 1_000_000,
    lingerUs: 10_000_000,
    deadlineUs: 0,
    quiet: false,
    size: 56,
    ttl: null,
    iface: null,
    broadcast: false,
    ident: null,
    dontFragment: false,
    flood: false,
    adaptive: false,
    outstanding: false,
    audible: false,
    verbose: false,
    family: null,
  };
  let intervalGiven = false;
  const positional: string[] = [];
  // ping6 is ping called by another name: IPv6 unless told otherwise.
  if (argv[0]!.endsWith('ping6')) opts.family = 6;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('-') || a === '-') {
      positional.push(a);
      continue;
    }
    for (let j = 1; j < a.length; j++) {
      const flag = a[j]!;
      if (FLAGS.has(flag)) {
        if (flag === 'q') opts.quiet = true;
        if (flag === 'b') opts.broadcast = true;
        if (flag === 'f') opts.flood = true;
        if (flag === 'A') opts.adaptive = true;
        if (flag === 'O') opts.outstanding = true;
        if (flag === 'a') opts.audible = true;
        if (flag === 'v') opts.verbose = true;
        if (flag === '4' || flag === '6') {
          const family = flag === '4' ? 4 : 6;
          if (opts.family !== null && opts.family !== family) throw new UsageError('ping: only one -4 or -6 option may be specified', 2);
          opts.family = family;
        }
        if (flag === 'h') throw new UsageError(USAGE.slice(1), 2);
        if (flag === 'V') throw new UsageError('ping from iputils 20221126\nlibcap: yes, IDN: yes, NLS: no, error.h: yes, getrandom(): yes, __fpending(): yes', 0);
        continue;
      }
      if (!WITH_ARG.has(flag)) throw new UsageError(`ping: invalid option -- '${flag}'\n${USAGE}`, 2);
      let value = a.slice(j + 1);
      if (value === '') {
        const next = argv[++i];
        if (next === undefined) throw new UsageError(`ping: option requires an argument -- '${flag}'\n${USAGE}`, 2);
        value = next;
      }
      switch (flag) {
        case 'c':
          opts.count = number(value, 1, Number.MAX_SAFE_INTEGER, MAX_COUNT, true);
          break;
        case 'i': {
          const interval = seconds(value, 'bad timing interval', notices);
          if (interval > MAX_SECONDS) throw new UsageError(`ping: bad timing interval: ${value}`, 2);
          opts.intervalUs = Math.max(0, Math.round(interval * 1e6));
          intervalGiven = true;
          break;
        }
        case 'W': {
          const linger = seconds(value, 'bad linger time', notices);
          if (linger < 0 || linger > MAX_SECONDS) throw new UsageError(`ping: bad linger time: ${value}`, 2);
          opts.lingerUs = Math.round(linger * 1e6);
          break;
        }
        case 'w':
          opts.deadlineUs = number(value, 0, 2147483647, '2147483647', true) * 1e6;
          break;
        case 'p': {
          // The padding's bytes are not simulated, only echoed as the option is read (so only an earlier -q silences them).
          const bytes = pattern(value);
          if (!opts.quiet) notices.push({ stream: 'stdout', line: `PATTERN: 0x${bytes.map((b) => b.toString(16).padStart(2, '0')).join('')}` });
          break;
        }
        case 's':
          opts.size = number(value, 0, 2147483647, '2147483647', true);
          break;
        case 't':
          opts.ttl = number(value, 0, 255, '255', true);
          break;
        case 'I':
          opts.iface = value;
          break;
        case 'e':
          opts.ident = number(value, 0, 65535, '65535', true);
          break;
        case 'M':
          if (value !== 'do' && value !== 'dont' && value !== 'want') throw new UsageError(`ping: invalid -M argument: ${value}`, 2);
          opts.dontFragment = value === 'do';
          break;
      }
      break;
    }
  }
  if (positional.length === 0) throw new UsageError('ping: usage error: Destination address required', 1);
  // Extra hosts before the target ask for a source route (IP record-route), which a raw socket may not set.
  if (positional.length > 1) throw new UsageError('ping: record route: Operation not permitted', 2);
  if (opts.ttl === 0) throw new UsageError('ping: cannot set unicast time-to-live: Invalid argument', 2);
  // A flood without -i sends the next request as soon as the last is answered.
  if (opts.flood && !intervalGiven) opts.intervalUs = 0;
  return { opts, target: positional[0]! };
}

function formatMs(us: number): string {
  if (us >= 100_000 - 50) return String(Math.round(us / 1000));
  if (us >= 10_000 - 5) return (us / 1000).toFixed(1);
  if (us >= 1000) return (us / 1000).toFixed(2);
  return (us / 1000).toFixed(3);
}

function errorText(packet: Ipv4Packet): string {
  const icmp = packet.icmp!;
  if (icmp.type === ICMP_TIME_EXCEEDED) return 'Time to live exceeded';
  if (icmp.type === ICMP_DEST_UNREACH) {
    if (icmp.code === 4) return `Frag needed and DF set (mtu = ${icmp.mtu ?? 0})`;
    return (
      ['Destination Net Unreachable', 'Destination Host Unreachable', 'Destination Protocol Unreachable', 'Destination Port Unreachable', 'Frag needed', 'Source Route Failed', 'Destination Net Unknown', 'Destination Host Unknown', 'Source Host Isolated', 'Destination Net Prohibited', 'Destination Host Prohibited', 'Destination Net Unreachable for Type of Service', 'Destination Host Unreachable for Type of Service', 'Packet filtered'][icmp.code] ?? `Dest Unreachable, Bad Code: ${icmp.code}`
    );
  }
  return `Bad ICMP type: ${icmp.type}`;
}

/** What a ping session sends through: the family's socket, connected to its target. */
interface Connection {
  /** The first line printed. */
  header: string;
  /** Sends echo request `seq`; what became of it. */
  send(seq: number): OutputResult;
}

/** What the session hears on its socket, in either family. */
interface Receiver {
  reply(seq: number, bytes: number, source: string, ttl: number, elapsedUs: number): void;
  error(seq: number, line: string): void;
  /** Advice that counts as nothing (a redirect). */
  note(line: string): void;
}

/** With -v iputils names each address getaddrinfo found, before it tries it. */
function found(ctx: ProcContext, opts: PingOptions, target: string, family: 4 | 6): void {
  if (opts.verbose) ctx.stdout.write(`ai->ai_family: ${FAMILY_NAMES[family]}, ai->ai_canonname: '${target}'\n`);
}

/** The IPv4 socket: resolution (inet_aton, /etc/hosts), -I as a device or a source address, connect(). */
function connect4(ctx: ProcContext, opts: PingOptions, target: string, id: number, receiver: Receiver): Connection | number {
  const ns = ctx.ns;
  const resolved = resolveHost(target);
  if (resolved === null) {
    // Only a well-formed host name is worth asking DNS about (and the lab's DNS never answers).
    const hostname = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$/.test(target);
    ctx.stderr.write(`ping: ${target}: ${hostname ? 'Temporary failure in name resolution' : 'Name or service not known'}\n`);
    return 2;
  }
  found(ctx, opts, target, 4);
  // Connecting to 0.0.0.0 means this host.
  const dst = resolved === 0 ? LOCALHOST : resolved;
  const named = hostName(dst) !== null && parseInetAton(target) === null;
  let oif: Device | null = null;
  let bindSrc: Ipv4 | null = null;
  if (opts.iface !== null) {
    const asAddr = parseIpv4Strict(opts.iface);
    if (asAddr !== null) {
      if (!isLocalAddress(ns, asAddr)) {
        ctx.stderr.write('ping: bind: Cannot assign requested address\n');
        return 2;
      }
      bindSrc = asAddr;
    } else {
      oif = ns.device(opts.iface) ?? null;
      if (!oif) {
        ctx.stderr.write(`ping: SO_BINDTODEVICE ${opts.iface}: No such device\n`);
        return 2;
      }
    }
  }
  const route = routeOutput(ns, dst, oif);
  if (!route.ok) {
    // iputils takes EACCES from connect() for a broadcast without SO_BROADCAST (a prohibit route answers it too).
    if (route.errno === 'EACCES') {
      if (!opts.broadcast) {
        ctx.stderr.write('ping: Do you want to ping broadcast? Then -b. If not, check your local firewall rules\n');
        return 2;
      }
      ctx.stderr.write('WARNING: pinging broadcast address\n');
    }
    ctx.stderr.write(`ping: connect: ${STRERROR[route.errno]}\n`);
    return 2;
  }
  if (isBroadcast(ns, dst)) {
    if (!opts.broadcast) {
      ctx.stderr.write('ping: Do you want to ping broadcast? Then -b. If not, check your local firewall rules\n');
      return 2;
    }
    ctx.stderr.write('WARNING: pinging broadcast address\n');
  }
  const src = bindSrc ?? route.value.src;
  // iputils checks the source connect() chose against the addresses of the -I device.
  if (oif && !oif.ipv4.some((a) => a.local === src)) ctx.stderr.write(`ping: Warning: source address might be selected on device other than: ${oif.name}\n`);
  const from = opts.iface !== null ? ` from ${formatIpv4(src)} ${oif ? oif.name : ''}:` : '';
  ns.icmpSockets.set(id, {
    id,
    onPacket(packet) {
      const icmp = packet.icmp!;
      if (icmp.type === ICMP_ECHO_REPLY) {
        if (icmp.id !== id) return;
        const source = named && hostName(packet.src) ? `${hostName(packet.src)} (${formatIpv4(packet.src)})` : formatIpv4(packet.src);
        receiver.reply(icmp.seq, packet.length - 20, source, packet.ttl, packet.elapsedUs);
        return;
      }
      const quoted = icmp.quoted;
      if (!quoted?.icmp || quoted.icmp.id !== id || quoted.icmp.type !== ICMP_ECHO_REQUEST) return;
      // A redirect is advice, not an error: printed with a colon after the address.
      if (icmp.type === ICMP_REDIRECT) receiver.note(`From ${formatIpv4(packet.src)}: icmp_seq=${quoted.icmp.seq} Redirect Host(New nexthop: ${formatIpv4(icmp.gateway ?? 0)})`);
      else receiver.error(quoted.icmp.seq, `From ${formatIpv4(packet.src)} icmp_seq=${quoted.icmp.seq} ${errorText(packet)}`);
    },
  });
  return {
    header: `PING ${target} (${formatIpv4(dst)})${from} ${opts.size}(${opts.size + 28}) bytes of data.`,
    // A raw socket refuses a message over 64 KiB outright (EMSGSIZE), which ping counts as sent without a word.
    send: (seq) =>
      opts.size + 8 > MAX_RAW_MESSAGE
        ? 'dropped'
        : ipOutput(
            ns,
            {
              src,
              dst,
              ttl: opts.ttl ?? Number(ns.sysctl.get('net.ipv4.ip_default_ttl')),
              protocol: 'icmp',
              length: opts.size + 28,
              icmp: { type: ICMP_ECHO_REQUEST, code: 0, id, seq },
              elapsedUs: 0,
              df: opts.dontFragment,
            },
            oif,
          ),
  };
}

/** An IPv6 literal with an optional `%interface` scope, as getaddrinfo takes it. */
function parseIpv6Target(text: string): { addr: Ipv6; scope: string | null } | null {
  const [addrText, scope, ...rest] = text.split('%');
  const addr = parseIpv6(addrText!);
  return addr === null || rest.length > 0 || scope === '' ? null : { addr, scope: scope ?? null };
}

/** getaddrinfo found the target only in `family`, not the one asked for with -4 or -6. */
function familyNotSupported(ctx: ProcContext, opts: PingOptions, target: string, family: 4 | 6): number {
  found(ctx, opts, target, family);
  ctx.stderr.write(`ping: ${target}: Address family for hostname not supported\n`);
  return 2;
}

/** icmp6 errors as iputils words them. */
function errorText6(type: number, code: number): string {
  if (type === ICMPV6_DEST_UNREACH) return `Destination unreachable: ${['No route', 'Administratively prohibited', 'Beyond scope of source address', 'Address unreachable', 'Port unreachable'][code] ?? `Unknown code ${code}`}`;
  if (type === ICMPV6_TIME_EXCEED) return `Time exceeded: ${['Hop limit', 'Defragmentation failure'][code] ?? `code ${code}`}`;
  return `Bad ICMP type: ${type}`;
}

/**
 * The ICMPv6 socket: a literal (its `%interface` scope naming a device),
 * -I as a device or a source address, connect(). A link-local address is
 * printed with the device it belongs to.
 */
function connect6(ctx: ProcContext, opts: PingOptions, target: string, id: number, receiver: Receiver): Connection | number {
  const ns = ctx.ns;
  const parsed = parseIpv6Target(target);
  const scopeDev = parsed?.scope != null ? ns.device(parsed.scope) : null;
  if (!parsed || scopeDev === undefined) {
    if (target === 'localhost' || parseInetAton(target) !== null) return familyNotSupported(ctx, opts, target, 4);
    // A name (not a broken literal) is asked of DNS, which the lab does not have.
    ctx.stderr.write(`ping: ${target}: ${target.includes(':') ? 'Name or service not known' : 'Temporary failure in name resolution'}\n`);
    return 2;
  }
  found(ctx, opts, target, 6);
  let oif = scopeDev;
  let bindSrc: Ipv6 | null = null;
  if (opts.iface !== null) {
    bindSrc = parseIpv6(opts.iface);
    if (bindSrc !== null && !isLocalAddress6(ns, bindSrc)) {
      ctx.stderr.write('ping: bind icmp socket: Cannot assign requested address\n');
      return 2;
    }
    if (bindSrc === null) {
      oif = ns.device(opts.iface) ?? null;
      if (!oif) {
        ctx.stderr.write(`ping: unknown iface: ${opts.iface}\n`);
        return 2;
      }
    }
  }
  // Connecting to :: means this host.
  const dst = parsed.addr === IPV6_ANY ? IPV6_LOOPBACK : parsed.addr;
  const route = routeOutput6(ns, dst, oif);
  if (!route.ok) {
    ctx.stderr.write(`ping: connect: ${STRERROR[route.errno]}\n`);
    return 2;
  }
  // A device given for a link-local target leaves the source to the kernel, unseen by ping.
  const unprobed = opts.iface !== null && bindSrc === null && scopeDev === null && (isIpv6LinkLocal(dst) || dst.startsWith('ff02:'));
  if (unprobed) ctx.stderr.write(`ping: Warning: source address might be selected on device other than: ${opts.iface}\n`);
  const src = bindSrc ?? route.value.src;
  const from = opts.iface !== null ? ` from ${unprobed ? IPV6_ANY : src} ${bindSrc === null ? opts.iface : ''}:` : '';
  const dstText = scopeDev ? `${parsed.addr}%${scopeDev.name}` : parsed.addr;
  const scoped = (addr: Ipv6, dev: Device) => (isIpv6LinkLocal(addr) ? `${addr}%${(oif ?? dev).name}` : addr);
  const socket = ns.icmpSockets.get(id) ?? { id, onPacket: () => {} };
  socket.onPacket6 = (packet, dev) => {
    const icmp = packet.icmp6;
    if (icmp.type === ICMPV6_ECHO_REPLY) {
      if (icmp.id === id) receiver.reply(icmp.seq, packet.payloadLength, scoped(packet.src, dev), packet.hopLimit, packet.elapsedUs);
      return;
    }
    const quoted = icmp.quoted?.icmp6;
    if (quoted?.id === id) receiver.error(quoted.seq, `From ${scoped(packet.src, dev)} icmp_seq=${quoted.seq} ${errorText6(icmp.type, icmp.code)}`);
  };
  ns.icmpSockets.set(id, socket);
  return {
    header: `PING ${target}(${dstText})${from} ${opts.size} data bytes`,
    send: (seq) =>
      ip6Output(ns, { src, dst, hopLimit: opts.ttl ?? DEFAULT_HOP_LIMIT, payloadLength: opts.size + 8, icmp6: { type: ICMPV6_ECHO_REQUEST, code: 0, id, seq }, elapsedUs: 0 }, oif)
        ? 'sent'
        : 'dropped',
  };
}

function* run(ctx: ProcContext, argv: string[]): Proc {
  let parsed;
  const notices: Notice[] = [];
  const say = () => notices.splice(0).forEach((n) => ctx[n.stream].write(n.line + '\n'));
  try {
    parsed = parse(argv, notices);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    say();
    (e.code === 0 ? ctx.stdout : ctx.stderr).write(e.message + '\n');
    return e.code;
  }
  say();
  const { opts, target } = parsed;
  const ns = ctx.ns;
  const out = (line: string) => ctx.stdout.write(line + '\n');
  if (opts.verbose) {
    // A raw socket for each family that may be used, opened before the target is resolved.
    const fd4 = opts.family === 6 ? null : 3;
    const fd6 = opts.family === 4 ? null : fd4 === null ? 3 : 4;
    const sock = (fd: number | null) => (fd === null ? '-1 (socktype: 0)' : `${fd} (socktype: SOCK_RAW)`);
    ctx.stderr.write(`ping: sock4.fd: ${sock(fd4)}, sock6.fd: ${sock(fd6)}, hints.ai_family: ${opts.family === null ? 'AF_UNSPEC' : FAMILY_NAMES[opts.family]}\n\n`);
  }
  // Without room for a timestamp in the payload, replies cannot be timed.
  const timing = opts.size >= 16;
  let pipesize = 1;
  const acknowledge = (seq: number) => {
    pipesize = Math.max(pipesize, transmitted - seq + 1);
  };

  const world = ctx.world;
  const id = opts.ident ?? world.randomInt(1, 0xffff);
  let transmitted = 0;
  let received = 0;
  let errors = 0;
  const rtts: number[] = [];
  const seen = new Set<number>();
  /** The smoothed round-trip time, times 8, as iputils keeps it for -A and the ipg/ewma summary. */
  let ewma8 = 0;

  const done = () => (opts.count > 0 && received + errors >= opts.count) || (opts.deadlineUs > 0 && errors > 0 && opts.count === 0);
  // iputils leaves its receive loop once -c is satisfied: what arrives at that instant (a broadcast's other replies) goes unread.
  const receiver: Receiver = {
    reply(seq, bytes, source, ttl, elapsedUs) {
      if (done()) return;
      const dup = seen.has(seq);
      if (!dup) {
        seen.add(seq);
        received++;
        rtts.push(elapsedUs);
        ewma8 = ewma8 ? ewma8 + elapsedUs - Math.floor(ewma8 / 8) : elapsedUs * 8;
        if (opts.adaptive) opts.intervalUs = Math.round(ewma8 / 8 / 1000) * 1000;
      }
      acknowledge(seq);
      if (opts.quiet) return;
      if (opts.flood) {
        ctx.stdout.write('\b \b');
        return;
      }
      const ident = opts.verbose ? ` ident=${id}` : '';
      const time = timing ? ` time=${formatMs(elapsedUs)} ms` : '';
      out(`${bytes} bytes from ${source}: icmp_seq=${seq}${ident} ttl=${ttl}${time}${dup ? ' (DUP!)' : ''}${opts.audible ? '\x07' : ''}`);
    },
    error(seq, line) {
      if (done()) return;
      errors++;
      acknowledge(seq);
      if (!opts.quiet) out(line);
    },
    note(line) {
      if (!done() && !opts.quiet) out(line);
    },
  };
  const ipv6 = opts.family === 6 || (opts.family === null && parseIpv6Target(target) !== null);
  const connection = opts.family === 4 && parseIpv6Target(target) !== null ? familyNotSupported(ctx, opts, target, 6) : ipv6 ? connect6(ctx, opts, target, id, receiver) : connect4(ctx, opts, target, id, receiver);
  if (typeof connection === 'number') return connection;
  out(connection.header);
  const start = world.now;
  let lastSendAt = start;
  let exitAt = Infinity;

  let nextSend = start;
  try {
    for (;;) {
      if (done() || ctx.interrupted()) break;
      if (opts.deadlineUs > 0 && world.now >= start + opts.deadlineUs) break;
      if (world.now >= exitAt) break;
      if ((opts.count === 0 || transmitted < opts.count) && world.now >= nextSend) {
        if (opts.outstanding && transmitted > 0 && !seen.has(transmitted)) out(`no answer yet for icmp_seq=${transmitted}`);
        if (opts.flood && !opts.quiet) ctx.stdout.write('.');
        transmitted++;
        lastSendAt = world.now;
        const sent = connection.send(transmitted);
        if (sent === 'rejected') ctx.stderr.write('ping: sendmsg: Operation not permitted\n');
        else if (sent === 'nobufs') ctx.stderr.write('ping: sendmsg: No buffer space available\n');
        else if (typeof sent === 'object') {
          errors++;
          acknowledge(transmitted);
          out(`ping: local error: message too long, mtu=${sent.tooBig}`);
        }
        nextSend = opts.intervalUs > 0 ? nextSend + opts.intervalUs : world.now + FLOOD_WAIT_US;
        if (opts.count > 0 && transmitted >= opts.count && opts.deadlineUs === 0) {
          const tmax = rtts.length ? Math.max(...rtts) : 0;
          exitAt = world.now + (received > 0 ? Math.max(2 * tmax, opts.intervalUs) : opts.lingerUs);
        }
        continue;
      }
      // Without an interval the next request goes as soon as nothing is in flight.
      if (opts.intervalUs === 0 && transmitted - received - errors <= 0) nextSend = Math.min(nextSend, world.now);
      if (world.now >= nextSend && (opts.count === 0 || transmitted < opts.count)) continue;
      let wake = exitAt;
      if (opts.count === 0 || transmitted < opts.count) wake = Math.min(wake, nextSend);
      if (opts.deadlineUs > 0) wake = Math.min(wake, start + opts.deadlineUs);
      // Wake for whatever the network does meanwhile (ARP timers), one event at a time.
      const event = world.nextEventAt();
      yield Math.min(wake, event === Infinity ? wake : event);
    }
  } finally {
    ns.icmpSockets.delete(id);
  }

  const lossPct = transmitted === 0 ? 0 : Math.floor(((transmitted - received) * 100) / transmitted);
  out('');
  out(`--- ${target} ping statistics ---`);
  const elapsedMs = Math.round((lastSendAt - start) / 1000) + (transmitted > 1 ? world.jitterUs(3) : 0);
  out(`${transmitted} packets transmitted, ${received} received,${errors ? ` +${errors} errors,` : ''} ${lossPct}% packet loss, time ${elapsedMs}ms`);
  let tail = '';
  if (received > 0 && timing) {
    const min = Math.min(...rtts);
    const max = Math.max(...rtts);
    const avg = rtts.reduce((a, b) => a + b, 0) / rtts.length;
    const mdev = Math.sqrt(Math.max(0, rtts.reduce((a, b) => a + b * b, 0) / rtts.length - avg * avg));
    const f = (us: number) => (us / 1000).toFixed(3);
    tail = `rtt min/avg/max/mdev = ${f(min)}/${f(avg)}/${f(max)}/${f(mdev)} ms`;
  }
  if (pipesize > 1) tail += `${tail ? ', ' : ''}pipe ${pipesize}`;
  if (transmitted > 1 && errors === 0 && (opts.intervalUs === 0 || opts.flood || opts.adaptive)) {
    const ipg = Math.floor((lastSendAt - start) / (transmitted - 1));
    const ms = (us: number) => `${Math.floor(us / 1000)}.${String(us % 1000).padStart(3, '0')}`;
    tail += `${tail ? ', ' : ''}ipg/ewma ${ms(ipg)}/${ms(Math.floor(ewma8 / 8))} ms`;
  }
  if (tail) out(tail);
  if (received === 0) return 1;
  if (opts.deadlineUs > 0 && opts.count > 0 && received < opts.count) return 1;
  return 0;
}

/** inet_aton: one to four parts, decimal, octal or hex; the last part fills the remaining bytes. */
export function parseInetAton(text: string): Ipv4 | null {
  const parts = text.split('.');
  if (parts.length > 4 || parts.some((p) => !/^(0[xX][0-9a-fA-F]*|0[0-7]*|[1-9]\d*)$/.test(p))) return null;
  const values = parts.map((p) => (/^0[xX]/.test(p) ? parseInt(p.slice(2) || '0', 16) : p.length > 1 && p.startsWith('0') ? parseInt(p, 8) : Number(p)));
  const last = values.pop()!;
  if (values.some((v) => v > 255) || last >= 2 ** (8 * (4 - values.length))) return null;
  let addr = 0;
  values.forEach((v, i) => (addr += v * 2 ** (8 * (3 - i))));
  return (addr + last) >>> 0;
}

const LOCALHOST = ipv4(127, 0, 0, 1);

/** What the hosts' /etc/hosts knows; nothing else resolves (the lab has no DNS). */
function resolveHost(name: string): Ipv4 | null {
  if (name === 'localhost') return LOCALHOST;
  return parseInetAton(name);
}

function hostName(addr: Ipv4): string | null {
  return addr === LOCALHOST ? 'localhost' : null;
}

function isBroadcast(ns: ProcContext['ns'], dst: Ipv4): boolean {
  if (dst === 0xffffffff) return true;
  for (const dev of ns.devices.values()) {
    for (const a of dev.ipv4) {
      if (a.prefixLen < 31 && inPrefix(dst, a.local, a.prefixLen) && ((dst | prefixMask(a.prefixLen)) >>> 0) === 0xffffffff) return true;
    }
  }
  return false;
}

export const ping: Program = { run, flushesStdout: true, recordsPath: true };
