// `nc` (netcat-openbsd): TCP and UDP clients, port scans (-z) and listeners
// (-l, -k), with the messages and exit codes of Debian 12's netcat.
import { formatIpv4, type Ipv4 } from '../kernel/addr';
import { STRERROR, type Errno } from '../kernel/errno';
import { routeOutput } from '../kernel/ipv4';
import { ICMP_DEST_UNREACH, ICMP_PORT_UNREACH } from '../kernel/packet';
import { ephemeralPort, tcpConnect, tcpListen, tcpUnlisten, udpBind, udpClose, udpConnect, udpSend, type TcpSocket } from '../kernel/sockets';
import { parseIpv4Loose } from './ip/utils';
import type { Proc, ProcContext, Program } from './process';
import { serviceName } from './services';

const USAGE = `usage: nc [-46CDdFhklNnrStUuvZz] [-I length] [-i interval] [-M ttl]
	  [-m minttl] [-O length] [-P proxy_username] [-p source_port]
	  [-q seconds] [-s sourceaddr] [-T keyword] [-V rtable] [-W recvlimit]
	  [-w timeout] [-X proxy_protocol] [-x proxy_address[:port]]
	  [destination] [port]
`;

/** How often a waiting nc looks at the clock (simulated). */
const POLL_US = 10_000;
/** UDP_SCAN_TIMEOUT: how long nc -zu waits for a port to say it is unreachable, without -w. */
const UDP_SCAN_SECONDS = 3;

interface NcOptions {
  listen: boolean;
  keep: boolean;
  udp: boolean;
  scan: boolean;
  verbose: boolean;
  shutdownOnEof: boolean;
  timeoutUs: number | null;
  sourcePort: number | null;
  sourceAddr: Ipv4 | null;
  positional: string[];
}

class NcError {
  constructor(
    readonly message: string,
    readonly code = 1,
  ) {}
}

function parse(argv: string[]): NcOptions {
  const o: NcOptions = { listen: false, keep: false, udp: false, scan: false, verbose: false, shutdownOnEof: false, timeoutUs: null, sourcePort: null, sourceAddr: null, positional: [] };
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('-') || a === '-') {
      o.positional.push(a);
      continue;
    }
    for (let j = 1; j < a.length; j++) {
      const f = a[j]!;
      if ('pswqIiMmOPTVWXx'.includes(f)) {
        const value = a.slice(j + 1) || argv[++i];
        if (value === undefined) throw new NcError(`nc: option requires an argument -- '${f}'\n${USAGE}`);
        if (f === 'p') o.sourcePort = Number(value);
        else if (f === 's') {
          o.sourceAddr = parseIpv4Loose(value);
          if (o.sourceAddr === null) throw new NcError(`nc: getaddrinfo: Name or service not known`);
        } else if (f === 'w') o.timeoutUs = Number(value) * 1e6;
        break;
      }
      if (f === 'l') o.listen = true;
      else if (f === 'k') o.keep = true;
      else if (f === 'u') o.udp = true;
      else if (f === 'z') o.scan = true;
      else if (f === 'v') o.verbose = true;
      else if (f === 'N') o.shutdownOnEof = true;
      else if ('46CDdFhnrStUZ'.includes(f)) continue;
      else throw new NcError(`nc: invalid option -- '${f}'\n${USAGE}`);
    }
  }
  return o;
}

function portLabel(port: number, udp: boolean): string {
  return `[${udp ? 'udp' : 'tcp'}/${serviceName(port, udp ? 'udp' : 'tcp') ?? '*'}]`;
}

/** strtonum(text, 1, 65535) as nc reports it. */
function port(text: string): number {
  const value = /^\s*[+-]?\d+$/.test(text) ? Number(text) : NaN;
  const problem = Number.isNaN(value) ? 'invalid' : value < 1 ? 'too small' : value > 65535 ? 'too large' : null;
  if (problem) throw new NcError(`nc: port number ${problem}: ${text}`);
  return value;
}

/** `80`, `79-81` (a range given backwards is turned round); the high end is checked first. */
function parsePorts(text: string): number[] {
  const dash = /^\d/.test(text) ? text.indexOf('-') : -1;
  const hi = port(dash < 0 ? text : text.slice(dash + 1));
  const lo = dash < 0 ? hi : port(text.slice(0, dash));
  const ports: number[] = [];
  for (let p = Math.min(lo, hi); p <= Math.max(lo, hi); p++) ports.push(p);
  return ports;
}

type ConnectOutcome = { ok: true; conn: TcpSocket } | { ok: false; errno: Errno | 'timeout' };

/** Connects and waits, on the simulated clock, for the handshake or its failure. */
function* connect(ctx: ProcContext, dst: Ipv4, port: number, o: NcOptions): Generator<number, ConnectOutcome, void> {
  let outcome: ConnectOutcome | null = null;
  let conn: TcpSocket | null = null;
  const started = tcpConnect(
    ctx.ns,
    dst,
    port,
    'nc',
    { onEstablished: () => (outcome = { ok: true, conn: conn! }), onError: (errno) => (outcome = { ok: false, errno }) },
    { ...(o.sourcePort !== null ? { sport: o.sourcePort } : {}), ...(o.sourceAddr !== null ? { src: o.sourceAddr } : {}) },
  );
  if (!started.ok) return { ok: false, errno: started.errno };
  conn = started.value;
  if (outcome !== null && (outcome as ConnectOutcome).ok) outcome = { ok: true, conn };
  // Without -w, a connect waits until the kernel gives up retrying the SYN (ETIMEDOUT).
  const deadline = o.timeoutUs === null ? Infinity : ctx.world.now + o.timeoutUs;
  while (!outcome && ctx.world.now < deadline && !ctx.interrupted()) yield Math.min(deadline, ctx.world.now + POLL_US);
  if (!outcome) {
    conn.drop();
    return { ok: false, errno: 'timeout' };
  }
  return outcome as ConnectOutcome;
}

function failure(host: string, port: number, proto: string, errno: Errno | 'timeout'): string {
  return errno === 'timeout' ? `nc: connect to ${host} port ${port} (${proto}) timed out: Operation now in progress\n` : `nc: connect to ${host} port ${port} (${proto}) failed: ${STRERROR[errno]}\n`;
}

function* tcpClient(ctx: ProcContext, host: string, dst: Ipv4, ports: number[], o: NcOptions): Proc {
  let anyOk = false;
  for (const port of ports) {
    const outcome = yield* connect(ctx, dst, port, o);
    if (!outcome.ok) {
      if (o.verbose) ctx.stderr.write(failure(host, port, 'tcp', outcome.errno));
      continue;
    }
    anyOk = true;
    if (o.verbose) ctx.stderr.write(`Connection to ${host} ${port} port ${portLabel(port, false)} succeeded!\n`);
    const conn = outcome.conn;
    if (o.scan) {
      conn.close();
      continue;
    }
    yield* converse(ctx, conn, o);
  }
  return anyOk ? 0 : 1;
}

/** Sends stdin, prints what arrives, until the peer closes, -w passes idle, or Ctrl-C. */
function* converse(ctx: ProcContext, conn: TcpSocket, o: NcOptions): Generator<number, void, void> {
  let closed = false;
  let lastActivity = ctx.world.now;
  conn.events = {
    onData: (text) => {
      ctx.stdout.write(text);
      lastActivity = ctx.world.now;
    },
    onClose: () => (closed = true),
    onError: () => (closed = true),
  };
  // Input ends when the program writing into the pipe does (`sleep 4 | nc …`).
  while (ctx.input().pending && !closed && !ctx.interrupted()) yield ctx.world.now + POLL_US;
  if (!closed && ctx.input().text) conn.send(ctx.input().text);
  if (!closed && o.shutdownOnEof) conn.close();
  while (!closed && !ctx.interrupted() && (o.timeoutUs === null || ctx.world.now - lastActivity < o.timeoutUs)) yield ctx.world.now + POLL_US;
  if (conn.state !== 'CLOSED' && conn.state !== 'TIME-WAIT') conn.close();
}

function* tcpServer(ctx: ProcContext, bindAddr: Ipv4, port: number, o: NcOptions): Proc {
  let active: TcpSocket | null = null;
  let served = 0;
  const listening = tcpListen(ctx.ns, bindAddr, port, 1, 'nc', (conn) => {
    if (active) {
      conn.close();
      return;
    }
    active = conn;
    if (o.verbose) ctx.stderr.write(`Connection received on ${formatIpv4(conn.remote.addr)} ${conn.remote.port}\n`);
    if (ctx.input().text) conn.send(ctx.input().text);
    conn.events = {
      onData: (text) => ctx.stdout.write(text),
      onClose: () => {
        conn.close();
        active = null;
        served++;
      },
    };
  });
  if (!listening.ok) {
    ctx.stderr.write(`nc: ${STRERROR[listening.errno]}\n`);
    return 1;
  }
  if (o.verbose) ctx.stderr.write(`Listening on ${formatIpv4(bindAddr)} ${port}\n`);
  try {
    while (!ctx.interrupted() && (o.keep || served === 0)) yield ctx.world.now + POLL_US;
  } finally {
    tcpUnlisten(ctx.ns, listening.value);
  }
  return ctx.interrupted() ? 130 : 0;
}

function* udpServer(ctx: ProcContext, bindAddr: Ipv4, port: number, o: NcOptions): Proc {
  // Like a TCP accept, the first datagram's sender becomes the only peer: nc connect()s the socket to it, unless -k keeps it open to all.
  const bound = udpBind(ctx.ns, bindAddr, port, 'nc', {
    onDatagram: (text, from, to) => {
      if (!bound.ok) return;
      if (!o.keep && !bound.value.peer) udpConnect(bound.value, to.addr, from);
      ctx.stdout.write(text);
    },
  });
  if (!bound.ok) {
    ctx.stderr.write(`nc: ${STRERROR[bound.errno]}\n`);
    return 1;
  }
  if (o.verbose) ctx.stderr.write(`Bound on ${formatIpv4(bindAddr)} ${port}\n`);
  try {
    while (!ctx.interrupted()) yield ctx.world.now + POLL_US;
  } finally {
    udpClose(ctx.ns, bound.value);
  }
  return 130;
}

/** UDP "connects" always work; a scan writes a few bytes and fails only if the port says unreachable. */
function* udpClient(ctx: ProcContext, host: string, dst: Ipv4, ports: number[], o: NcOptions): Proc {
  let anyOk = false;
  for (const port of ports) {
    const route = routeOutput(ctx.ns, dst);
    if (!route.ok) {
      if (o.verbose) ctx.stderr.write(failure(host, port, 'udp', route.errno));
      continue;
    }
    let refused = false;
    const from = { addr: o.sourceAddr ?? route.value.src, port: o.sourcePort ?? ephemeralPort(ctx.ns) };
    const bound = udpBind(ctx.ns, 0, from.port, 'nc', {
      onDatagram: (text) => ctx.stdout.write(text),
      onError: (error) => {
        if (error.icmp!.type === ICMP_DEST_UNREACH && error.icmp!.code === ICMP_PORT_UNREACH) refused = true;
      },
    });
    if (!bound.ok) return 1;
    try {
      if (o.scan) {
        // Debian's udptest: two writes at once, then one a second for the timeout (3 s without -w); an ICMP
        // error that came back in between (on a quiet LAN, even before the second) makes the next write fail.
        // An error arriving after the last write goes unnoticed.
        let failed = false;
        const write = () => {
          if (refused) failed = true;
          else udpSend(ctx.ns, from, { addr: dst, port }, 'X');
        };
        write();
        write();
        const seconds = o.timeoutUs === null ? UDP_SCAN_SECONDS : Math.floor(o.timeoutUs / 1_000_000);
        for (let i = 0; i < seconds && !failed; i++) {
          yield ctx.world.now + 1_000_000;
          write();
        }
        if (failed) continue;
        anyOk = true;
        if (o.verbose) ctx.stderr.write(`Connection to ${host} ${port} port ${portLabel(port, true)} succeeded!\n`);
        continue;
      }
      anyOk = true;
      while (ctx.input().pending && !ctx.interrupted()) yield ctx.world.now + POLL_US;
      if (ctx.input().text) udpSend(ctx.ns, from, { addr: dst, port }, ctx.input().text);
      const deadline = o.timeoutUs === null ? Infinity : ctx.world.now + o.timeoutUs;
      while (!ctx.interrupted() && ctx.world.now < deadline) yield Math.min(deadline, ctx.world.now + POLL_US);
    } finally {
      udpClose(ctx.ns, bound.value);
    }
  }
  return anyOk ? 0 : 1;
}

function* run(ctx: ProcContext, argv: string[]): Proc {
  let o: NcOptions;
  try {
    o = parse(argv);
    if (o.listen) {
      const port = o.sourcePort ?? (o.positional.length ? Number(o.positional[o.positional.length - 1]) : NaN);
      if (!Number.isInteger(port)) throw new NcError(`nc: missing port number`);
      const bindAddr = o.sourceAddr ?? (o.positional.length > 1 ? parseIpv4Loose(o.positional[0]!) : 0) ?? 0;
      return o.udp ? yield* udpServer(ctx, bindAddr, port, o) : yield* tcpServer(ctx, bindAddr, port, o);
    }
    const [host, portText, ...morePorts] = o.positional;
    if (host === undefined) throw new NcError(USAGE.trimEnd());
    if (portText === undefined) throw new NcError('nc: missing port number');
    const dst = parseIpv4Loose(host);
    if (dst === null || host.split('.').length !== 4) throw new NcError(`nc: getaddrinfo for host "${host}" port ${portText}: Temporary failure in name resolution`);
    // Each further argument is another port or range, tried in turn.
    const ports = [portText, ...morePorts].flatMap(parsePorts);
    return o.udp ? yield* udpClient(ctx, host, dst, ports, o) : yield* tcpClient(ctx, host, dst, ports, o);
  } catch (e) {
    if (!(e instanceof NcError)) throw e;
    ctx.stderr.write(e.message + '\n');
    return e.code;
  }
}

// nc writes what it receives with write(2), unbuffered.
export const nc: Program = { run, streamsStdin: true, recordsPath: true, flushesStdout: true };
