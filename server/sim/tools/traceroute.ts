// `traceroute` (traceroute 2.1): UDP probes with growing TTL; each router's
// time-exceeded names a hop, the destination's port-unreachable ends the trace.
import { formatIpv4, type Ipv4 } from '../kernel/addr';
import { STRERROR } from '../kernel/errno';
import { isLocalAddress } from '../kernel/fib';
import { ipOutput, routeOutput } from '../kernel/ipv4';
import { ephemeralPort, sockets, udpBind, udpClose, type RawTcpSocket, type UdpSocket } from '../kernel/sockets';
import { ICMP_DEST_UNREACH, ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST, ICMP_PORT_UNREACH, ICMP_TIME_EXCEEDED, type Ipv4Packet } from '../kernel/packet';
import { parseInetAton } from './ping';
import type { Proc, ProcContext, Program } from './process';

const USAGE = `Usage:
  traceroute [ -46dFITnreAUDV ] [ -f first_ttl ] [ -g gate,... ] [ -i device ] [ -m max_ttl ] [ -N squeries ] [ -p port ] [ -t tos ] [ -l flow_label ] [ -w MAX,HERE,NEAR ] [ -q nqueries ] [ -s src_addr ] [ -z sendwait ] [ --fwmark=num ] host [ packetlen ]
Options:
  -4                          Use IPv4
  -6                          Use IPv6
  -d  --debug                 Enable socket level debugging
  -F  --dont-fragment         Do not fragment packets
  -f first_ttl  --first=first_ttl
                              Start from the first_ttl hop (instead from 1)
  -g gate,...  --gateway=gate,...
                              Route packets through the specified gateway
                              (maximum 8 for IPv4 and 127 for IPv6)
  -I  --icmp                  Use ICMP ECHO for tracerouting
  -T  --tcp                   Use TCP SYN for tracerouting (default port is 80)
  -i device  --interface=device
                              Specify a network interface to operate with
  -m max_ttl  --max-hops=max_ttl
                              Set the max number of hops (max TTL to be
                              reached). Default is 30
  -N squeries  --sim-queries=squeries
                              Set the number of probes to be tried
                              simultaneously (default is 16)
  -n                          Do not resolve IP addresses to their domain names
  -p port  --port=port        Set the destination port to use. It is either
                              initial udp port value for "default" method
                              (incremented by each probe, default is 33434), or
                              initial seq for "icmp" (incremented as well,
                              default from 1), or some constant destination
                              port for other methods (with default of 80 for
                              "tcp", 53 for "udp", etc.)
  -t tos  --tos=tos           Set the TOS (IPv4 type of service) or TC (IPv6
                              traffic class) value for outgoing packets
  -l flow_label  --flowlabel=flow_label
                              Use specified flow_label for IPv6 packets
  -w MAX,HERE,NEAR  --wait=MAX,HERE,NEAR
                              Wait for a probe no more than HERE (default 3)
                              times longer than a response from the same hop,
                              or no more than NEAR (default 10) times than some
                              next hop, or MAX (default 5.0) seconds (float
                              point values allowed too)
  -q nqueries  --queries=nqueries
                              Set the number of probes per each hop. Default is
                              3
  -r                          Bypass the normal routing and send directly to a
                              host on an attached network
  -s src_addr  --source=src_addr
                              Use source src_addr for outgoing packets
  -z sendwait  --sendwait=sendwait
                              Minimal time interval between probes (default 0).
                              If the value is more than 10, then it specifies a
                              number in milliseconds, else it is a number of
                              seconds (float point values allowed too)
  -e  --extensions            Show ICMP extensions (if present), including MPLS
  -A  --as-path-lookups       Perform AS path lookups in routing registries and
                              print results directly after the corresponding
                              addresses
  -M name  --module=name      Use specified module (either builtin or external)
                              for traceroute operations. Most methods have
                              their shortcuts (\`-I' means \`-M icmp' etc.)
  -O OPTS,...  --options=OPTS,...
                              Use module-specific option OPTS for the
                              traceroute module. Several OPTS allowed,
                              separated by comma. If OPTS is "help", print info
                              about available options
  --sport=num                 Use source port num for outgoing packets. Implies
                              \`-N 1'
  --fwmark=num                Set firewall mark for outgoing packets
  -U  --udp                   Use UDP to particular port for tracerouting
                              (instead of increasing the port per each probe),
                              default port is 53
  -UL                         Use UDPLITE for tracerouting (default dest port
                              is 53)
  -D  --dccp                  Use DCCP Request for tracerouting (default port
                              is 33434)
  -P prot  --protocol=prot    Use raw packet of protocol prot for tracerouting
  --mtu                       Discover MTU along the path being traced. Implies
                              \`-F -N 1'
  --back                      Guess the number of hops in the backward path and
                              print if it differs
  -V  --version               Print version info and exit
  --help                      Read this help and exit

Arguments:
+     host          The host to traceroute to
      packetlen     The full packet length (default is the length of an IP
                    header plus 40). Can be ignored or increased to a minimal
                    allowed value`;

/** Options taking a value, with the name the "requires an argument" error gives it. */
const ARG_NAMES: Record<string, string> = { f: 'first_ttl', g: 'gate,...', i: 'device', m: 'max_ttl', N: 'squeries', p: 'port', t: 'tos', l: 'flow_label', w: 'MAX,HERE,NEAR', q: 'nqueries', s: 'src_addr', z: 'sendwait', M: 'name', O: 'OPTS,...', P: 'prot' };
const VERSION = 'Modern traceroute for Linux, version 2.1.2\nCopyright (c) 2016  Dmitry Butskoy,   License: GPL v2 or any later';
const MAX_HOPS = 255;
const MAX_PROBES = 10;
const MAX_PACKET_LEN = 65000;
const BASE_PORT = 33434;
const TCP_PORT = 80;
/** IP header and UDP or ICMP header. */
const MIN_PACKET_LEN = 28;

interface Reply {
  from: Ipv4;
  rttUs: number;
  /** `!H`, `!N`, `!P`… for unreachables other than the port (which means arrival). */
  note: string;
  reached: boolean;
}

const UNREACH_NOTES: Record<number, string> = { 0: ' !N', 1: ' !H', 2: ' !P', 9: ' !X', 10: ' !X', 13: ' !X' };

function fail(ctx: ProcContext, message: string): number {
  ctx.stderr.write(message + '\n');
  return 2;
}

function* run(ctx: ProcContext, argv: string[]): Proc {
  let numeric = false;
  let icmpProbes = false;
  let queries = 3;
  let maxTtl = 30;
  let firstTtl = 1;
  let waitUs = 5_000_000;
  let hereFactor = 3;
  let nearFactor = 10;
  let simProbes = 16;
  let port = -1;
  let tcpProbes = false;
  let device: string | null = null;
  let source: string | null = null;
  const positional: Array<{ text: string; argc: number }> = [];
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('-') || a === '-') {
      positional.push({ text: a, argc: i });
      continue;
    }
    if (a === '--help') {
      ctx.stdout.write(USAGE + '\n');
      return 0;
    }
    for (let j = 1; j < a.length; j++) {
      const flag = a[j]!;
      if (flag === 'n') numeric = true;
      else if (flag === 'I') icmpProbes = true;
      else if (flag === 'T') tcpProbes = true;
      else if (flag === 'V') {
        ctx.stderr.write(VERSION + '\n');
        return 0;
      } else if ('46dFreAUD'.includes(flag)) continue;
      else if (ARG_NAMES[flag]) {
        let value = a.slice(j + 1);
        if (value === '') {
          if (i + 1 >= argv.length) return fail(ctx, `Option \`-${flag}' (argc ${i}) requires an argument: \`-${flag} ${ARG_NAMES[flag]}'`);
          value = argv[++i]!;
        }
        // Values are numbered by where they stand, joined to their option or not.
        const at = i;
        const n = Number(value);
        const bad = () => fail(ctx, `Cannot handle \`-${flag}' option with arg \`${value}' (argc ${at})`);
        if (flag === 'q' || flag === 'm' || flag === 'f' || flag === 'p' || flag === 'N' || flag === 'z' || flag === 't') {
          if (!/^\d+(\.\d+)?$/.test(value) || (flag === 'z' && value.includes('.') === false && !/^\d+$/.test(value))) return bad();
          if (flag === 'z' && /^\d+\.\d+\.\d+/.test(value)) return bad();
        }
        if (flag === 'q') queries = n;
        else if (flag === 'i') device = value;
        else if (flag === 's') source = value;
        else if (flag === 'm') maxTtl = n;
        else if (flag === 'f') firstTtl = n;
        else if (flag === 'p') port = n;
        else if (flag === 'N') simProbes = n;
        else if (flag === 'w') {
          const [max, here, near] = value.split(/[,/]/).map(Number);
          if (Number.isNaN(max) || Number.isNaN(here) || Number.isNaN(near)) return bad();
          waitUs = max! * 1e6;
          if (here !== undefined) hereFactor = here;
          if (near !== undefined) nearFactor = near;
        }
        break;
      } else return fail(ctx, `Bad option \`-${flag}' (argc ${i})`);
    }
  }
  const target = positional[0];
  if (!target) {
    ctx.stderr.write(USAGE + '\n');
    return 0;
  }
  if (firstTtl < 1 || firstTtl > maxTtl) return fail(ctx, 'first hop out of range');
  if (maxTtl > MAX_HOPS) return fail(ctx, `max hops cannot be more than ${MAX_HOPS}`);
  if (queries < 1 || queries > MAX_PROBES) return fail(ctx, `no more than ${MAX_PROBES} probes per hop`);
  const extra = positional[2];
  if (extra) return fail(ctx, `Extra arg \`${extra.text}' (position 3, argc ${extra.argc})`);
  const dst = parseInetAton(target.text);
  if (dst === null) {
    ctx.stderr.write(`${target.text}: Temporary failure in name resolution\n`);
    return fail(ctx, `Cannot handle "host" cmdline arg \`${target.text}' on position 1 (argc ${target.argc})`);
  }
  const lengthArg = positional[1];
  if (lengthArg && !/^\d+$/.test(lengthArg.text)) return fail(ctx, `Cannot handle "packetlen" cmdline arg \`${lengthArg.text}' on position 2 (argc ${lengthArg.argc})`);
  const asked = lengthArg ? Number(lengthArg.text) : 60;
  if (asked > MAX_PACKET_LEN) return fail(ctx, `too big packetlen ${asked} specified`);
  // A probe is at least its headers; TCP SYN probes are always 60 bytes with their options.
  const packetLen = tcpProbes ? 60 : Math.max(asked, MIN_PACKET_LEN);
  // UDP probes walk up from port 33434; ICMP probes number their sequence from 1; TCP probes all go to port 80.
  if (port < 0) port = icmpProbes ? 1 : tcpProbes ? TCP_PORT : BASE_PORT;
  ctx.stderr.write(`traceroute to ${target.text} (${formatIpv4(dst)}), ${maxTtl} hops max, ${packetLen} byte packets\n`);
  const ns = ctx.ns;
  const oif = device === null ? null : (ns.device(device) ?? null);
  if (device !== null && !oif) {
    ctx.stderr.write('setsockopt SO_BINDTODEVICE: No such device\n');
    return 1;
  }
  const bindSrc = source === null ? null : parseInetAton(source);
  if (source !== null && (bindSrc === null || !isLocalAddress(ns, bindSrc))) {
    ctx.stderr.write('bind: Cannot assign requested address\n');
    return 1;
  }
  const route = routeOutput(ns, dst, oif);
  if (!route.ok) {
    ctx.stderr.write(`connect: ${STRERROR[route.errno]}\n`);
    return 1;
  }
  const world = ctx.world;
  const sport = ephemeralPort(ns);
  // probes[n] is the n-th probe of the whole trace: hop n / queries + 1.
  const probes: Probe[] = Array.from({ length: maxTtl * queries }, () => ({ sentAt: null, reply: null, done: false }));
  // Each probe sent is known by its number: the UDP destination port, the ICMP echo sequence with -I, the TCP source port with -T.
  const byNumber = new Map<number, Probe>();
  const record = (packet: Ipv4Packet, number: number | undefined) => {
    const icmp = packet.icmp!;
    const probe = number === undefined ? undefined : byNumber.get(number);
    if (!probe || probe.done) return;
    const arrived = (icmp.type === ICMP_DEST_UNREACH && icmp.code === ICMP_PORT_UNREACH) || icmp.type === ICMP_ECHO_REPLY;
    const note = icmp.type === ICMP_DEST_UNREACH && !arrived ? (UNREACH_NOTES[icmp.code] ?? ` !<${icmp.code}>`) : '';
    if (icmp.type === ICMP_TIME_EXCEEDED || icmp.type === ICMP_DEST_UNREACH || icmp.type === ICMP_ECHO_REPLY) {
      probe.reply = { from: packet.src, rttUs: world.now - probe.sentAt! + packet.elapsedUs, note, reached: arrived || note !== '' };
      probe.done = true;
    }
  };
  // With -T the destination answers itself, with a SYN-ACK or a reset to the probe's own source port.
  const markReached = (probe: Probe, packet: Ipv4Packet) => {
    probe.reply = { from: packet.src, rttUs: world.now - probe.sentAt! + packet.elapsedUs, note: '', reached: true };
    probe.done = true;
  };
  const echoId = sport;
  let bound: UdpSocket | null = null;
  const raw: RawTcpSocket = {
    onSegment: (segment) => {
      const probe = segment.src === dst && segment.ports!.sport === port ? byNumber.get(segment.ports!.dport) : undefined;
      if (probe && !probe.done) markReached(probe, segment);
    },
    onError: (error) => record(error, error.icmp!.quoted!.ports!.sport),
  };
  if (tcpProbes) sockets(ns).rawTcp.push(raw);
  else if (icmpProbes) {
    ns.icmpSockets.set(echoId, { id: echoId, onPacket: (packet) => record(packet, packet.icmp!.type === ICMP_ECHO_REPLY ? packet.icmp!.seq : packet.icmp!.quoted?.icmp?.seq) });
  } else {
    const udp = udpBind(ns, 0, sport, 'traceroute', { onError: (packet) => record(packet, packet.icmp!.quoted?.ports?.dport) });
    if (!udp.ok) return 1;
    bound = udp.value;
  }
  const src = bindSrc ?? route.value.src;
  let nextNumber = port;
  const send = (probe: Probe, ttl: number) => {
    // A TCP probe is told apart by its source port, a fresh one each time.
    const number = tcpProbes ? ephemeralPort(ns) : nextNumber++;
    byNumber.set(number, probe);
    probe.sentAt = world.now;
    if (tcpProbes) ipOutput(ns, { src, dst, ttl, protocol: 'tcp', length: packetLen, ports: { sport: number, dport: port, tcpFlags: 'S' }, elapsedUs: 0 }, oif);
    else if (icmpProbes) ipOutput(ns, { src, dst, ttl, protocol: 'icmp', length: packetLen, icmp: { type: ICMP_ECHO_REQUEST, code: 0, id: echoId, seq: number }, elapsedUs: 0 }, oif);
    else ipOutput(ns, { src, dst, ttl, protocol: 'udp', length: packetLen, ports: { sport, dport: number }, elapsedUs: 0 }, oif);
  };
  /**
   * get_timeout: an unanswered probe is given up on after HERE times the
   * round trip of an answered probe of its own hop, else NEAR times that of
   * one further on, else MAX; the round trip counts a millisecond more.
   */
  const timeoutUs = (n: number): number => {
    const hopStart = n - (n % queries);
    const answered = (from: number, to: number) => probes.slice(from, to).find((p) => p.reply && p.reply.rttUs > 0)?.reply;
    const here = hereFactor ? answered(hopStart, hopStart + queries) : undefined;
    const near = nearFactor && !here ? answered(hopStart + queries, probes.length) : undefined;
    const base = here ?? near;
    if (!base) return waitUs;
    return Math.min((base.rttUs + WAIT_PRECISION_US) * (here ? hereFactor : nearFactor), waitUs);
  };
  const printHop = (hop: number) => {
    let line = `${String(hop + 1).padStart(2)} `;
    let last: Ipv4 | null = null;
    for (const p of probes.slice(hop * queries, (hop + 1) * queries)) {
      if (!p.reply) {
        line += ' *';
        continue;
      }
      if (p.reply.from !== last) {
        line += numeric ? ` ${formatIpv4(p.reply.from)}` : ` ${formatIpv4(p.reply.from)} (${formatIpv4(p.reply.from)})`;
        last = p.reply.from;
      }
      line += `  ${(p.reply.rttUs / 1000).toFixed(3)} ms${p.reply.note}`;
    }
    ctx.stdout.write(line + '\n');
    ctx.stdout.flush?.();
  };
  // do_it: up to N probes in flight at once, across hops; results print in order as the first outstanding probe completes or times out; a final answer ends the trace at its hop.
  try {
    let start = (firstTtl - 1) * queries;
    let end = probes.length;
    while (start < end && !ctx.interrupted()) {
      let wakeAt: number | null = null;
      let inFlight = 0;
      for (let n = start; n < end; n++) {
        const probe = probes[n]!;
        if (n === start && !probe.done && probe.sentAt !== null) {
          const expires = probe.sentAt + timeoutUs(n);
          if (expires > world.now) wakeAt = expires;
          else probe.done = true;
        }
        if (probe.done) {
          if (n === start) {
            start++;
            if (start % queries === 0) printHop(start / queries - 1);
          }
          if (probe.reply?.reached) end = (Math.floor(n / queries) + 1) * queries;
          continue;
        }
        if (probe.sentAt === null) send(probe, Math.floor(n / queries) + 1);
        if (++inFlight >= simProbes) break;
      }
      if (wakeAt !== null) yield Math.min(wakeAt, world.nextEventAt());
    }
  } finally {
    if (bound) udpClose(ns, bound);
    ns.icmpSockets.delete(echoId);
    const rawSockets = sockets(ns).rawTcp;
    if (rawSockets.includes(raw)) rawSockets.splice(rawSockets.indexOf(raw), 1);
  }
  return 0;
}

interface Probe {
  sentAt: number | null;
  reply: Reply | null;
  /** Answered or given up on. */
  done: boolean;
}

/** DEF_WAIT_PREC: a millisecond added to a round trip before scaling it into a timeout. */
const WAIT_PRECISION_US = 1000;

export const traceroute: Program = { run, flushesStdout: true, recordsPath: true };
