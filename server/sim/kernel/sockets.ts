// Sockets: TCP with its handshake, data and close on the real packet path
// (so NAT, filters and conntrack see every segment), and UDP datagrams.
import { type Ipv4 } from './addr';
import { fail, ok, type Errno, type KResult } from './errno';
import { isLocalAddress } from './fib';
import { ipOutput, routeOutput } from './ipv4';
import type { NetNs } from './netns';
import { ICMP_DEST_UNREACH, type Ipv4Packet } from './packet';
import type { Timer } from './world';

export interface Endpoint {
  addr: Ipv4;
  port: number;
}

export type TcpState = 'SYN-SENT' | 'SYN-RECV' | 'ESTABLISHED' | 'FIN-WAIT-1' | 'FIN-WAIT-2' | 'CLOSE-WAIT' | 'LAST-ACK' | 'TIME-WAIT' | 'CLOSED';

export interface TcpEvents {
  onEstablished?(): void;
  onData?(text: string): void;
  /** The peer closed its side (FIN) or the connection ended. */
  onClose?(): void;
  /** The connection failed: RST (ECONNREFUSED) or an ICMP error. */
  onError?(errno: Errno): void;
}

/** Lengths of the segments Linux sends: SYN with options, ACK with timestamps, bare RST. */
const SYN_BYTES = 60;
const ACK_BYTES = 52;
const RST_BYTES = 40;
const TIME_WAIT_US = 60_000_000;
/** TCP_TIMEOUT_INIT: a SYN waits a second for its answer. */
const SYN_RTO_US = 1_000_000;
/** The timer wheel fires a retransmission a little after it is due (one 4 ms jiffy here), never before. */
const TIMER_SLACK_US = 4_000;
/** net.ipv4.tcp_syn_linear_timeouts: the first retransmissions keep that wait before it starts doubling. */
const SYN_LINEAR_TIMEOUTS = 4;
/** net.ipv4.tcp_syn_retries, to which a connect adds the linear ones. */
const SYN_RETRIES = 6;

export class TcpSocket {
  state: TcpState;
  events: TcpEvents = {};
  private timer: Timer | null = null;
  /** SYNs retransmitted so far while connecting. */
  private synRetries = 0;

  constructor(
    readonly ns: NetNs,
    readonly local: Endpoint,
    readonly remote: Endpoint,
    state: TcpState,
    readonly program: string,
  ) {
    this.state = state;
  }

  get key(): string {
    return socketKey(this.local, this.remote);
  }

  segment(flags: string, payload = ''): void {
    const packet: Ipv4Packet = {
      src: this.local.addr,
      dst: this.remote.addr,
      ttl: Number(this.ns.sysctl.get('net.ipv4.ip_default_ttl')),
      protocol: 'tcp',
      length: (flags === 'S' || flags === 'S.' ? SYN_BYTES : flags.startsWith('R') ? RST_BYTES : ACK_BYTES) + payload.length,
      ports: { sport: this.local.port, dport: this.remote.port, tcpFlags: flags },
      elapsedUs: 0,
    };
    if (payload) packet.payload = payload;
    ipOutput(this.ns, packet);
  }

  send(text: string): void {
    if (this.state === 'ESTABLISHED' || this.state === 'CLOSE-WAIT') this.segment('P.', text);
  }

  /** Our side is done: FIN. */
  close(): void {
    if (this.state === 'ESTABLISHED') {
      this.state = 'FIN-WAIT-1';
      this.segment('F.');
    } else if (this.state === 'CLOSE-WAIT') {
      this.state = 'LAST-ACK';
      this.segment('F.');
    } else if (this.state === 'SYN-SENT' || this.state === 'SYN-RECV') this.drop();
  }

  cancelTimer(): void {
    if (this.timer) this.timer.cancelled = true;
    this.timer = null;
  }

  /** Gone from the table (after TIME-WAIT, a reset, or a failed connect). */
  drop(): void {
    this.cancelTimer();
    this.state = 'CLOSED';
    sockets(this.ns).tcp.delete(this.key);
  }

  /** Sends the SYN and arms its retransmission timer. */
  sendSyn(): void {
    this.segment('S');
    const backoff = Math.max(0, this.synRetries - SYN_LINEAR_TIMEOUTS);
    this.timer = this.ns.host.world.schedule(SYN_RTO_US * 2 ** backoff + TIMER_SLACK_US, { kind: 'syn-retransmit', socket: this });
  }

  /** The SYN went unanswered: again, until the retries run out and connect() fails. */
  synTimeout(): void {
    if (this.state !== 'SYN-SENT') return;
    if (this.synRetries === SYN_RETRIES + SYN_LINEAR_TIMEOUTS) {
      this.drop();
      this.events.onError?.('ETIMEDOUT');
      return;
    }
    this.synRetries++;
    this.sendSyn();
  }

  enterTimeWait(): void {
    this.state = 'TIME-WAIT';
    this.timer = this.ns.host.world.schedule(TIME_WAIT_US, { kind: 'time-wait', socket: this });
  }
}

export interface TcpListener {
  addr: Ipv4;
  port: number;
  backlog: number;
  program: string;
  accept(conn: TcpSocket): void;
}

export interface UdpSocket {
  addr: Ipv4;
  port: number;
  program: string;
  /** Set by connect(): the one peer whose datagrams this socket takes. */
  peer?: Endpoint;
  onDatagram?(text: string, from: Endpoint, to: Endpoint): void;
  /** An ICMP error quoting one of this socket's datagrams. */
  onError?(error: Ipv4Packet): void;
  /** A kernel tunnel socket (encap_rcv) takes whole datagrams, headers and all; a module-level function, as the kernel's state holds no closures. */
  onEncapsulated?(ns: NetNs, packet: Ipv4Packet): void;
}

/** A raw IPPROTO_TCP socket (traceroute -T): a copy of every TCP segment arriving, and of the ICMP errors quoting ours. */
export interface RawTcpSocket {
  onSegment(segment: Ipv4Packet): void;
  onError(error: Ipv4Packet): void;
}

export class SocketTable {
  readonly tcpListeners: TcpListener[] = [];
  readonly tcp = new Map<string, TcpSocket>();
  readonly udp: UdpSocket[] = [];
  readonly rawTcp: RawTcpSocket[] = [];
}

export function sockets(ns: NetNs): SocketTable {
  if (!ns.sockets) ns.sockets = new SocketTable();
  return ns.sockets;
}

function socketKey(local: Endpoint, remote: Endpoint): string {
  return `${local.addr}:${local.port}>${remote.addr}:${remote.port}`;
}

function boundMatches(bound: Ipv4, dst: Ipv4): boolean {
  return bound === 0 || bound === dst;
}

/** A free port from net.ipv4.ip_local_port_range. */
export function ephemeralPort(ns: NetNs): number {
  const table = sockets(ns);
  for (;;) {
    const port = ns.host.world.randomInt(32768, 60999);
    if (![...table.tcp.values()].some((s) => s.local.port === port) && !table.udp.some((u) => u.port === port)) return port;
  }
}

export function tcpListen(ns: NetNs, addr: Ipv4, port: number, backlog: number, program: string, accept: (conn: TcpSocket) => void): KResult<TcpListener> {
  const table = sockets(ns);
  if (table.tcpListeners.some((l) => l.port === port && (l.addr === 0 || addr === 0 || l.addr === addr))) return fail('EADDRINUSE');
  if (addr !== 0 && !isLocalAddress(ns, addr)) return fail('EADDRNOTAVAIL');
  const listener: TcpListener = { addr, port, backlog, program, accept };
  table.tcpListeners.push(listener);
  return ok(listener);
}

export function tcpUnlisten(ns: NetNs, listener: TcpListener): void {
  const table = sockets(ns);
  const index = table.tcpListeners.indexOf(listener);
  if (index >= 0) table.tcpListeners.splice(index, 1);
}

/**
 * connect(): route, source address, then the SYN. The events say how it
 * went — possibly before this returns, since the network answers at once.
 */
export function tcpConnect(ns: NetNs, dst: Ipv4, dport: number, program: string, events: TcpEvents, opts: { sport?: number; src?: Ipv4 } = {}): KResult<TcpSocket> {
  const route = routeOutput(ns, dst);
  if (!route.ok) return route;
  const local: Endpoint = { addr: opts.src ?? route.value.src, port: opts.sport ?? ephemeralPort(ns) };
  const conn = new TcpSocket(ns, local, { addr: dst, port: dport }, 'SYN-SENT', program);
  if (sockets(ns).tcp.has(conn.key)) return fail('EADDRINUSE');
  conn.events = events;
  sockets(ns).tcp.set(conn.key, conn);
  conn.sendSyn();
  return ok(conn);
}

/** A TCP segment delivered to this namespace. */
export function tcpInput(ns: NetNs, packet: Ipv4Packet): void {
  // raw_v4_input: raw sockets see the segment before TCP does.
  for (const raw of ns.sockets?.rawTcp ?? []) raw.onSegment(packet);
  const ports = packet.ports!;
  const flags = ports.tcpFlags ?? '';
  const local = { addr: packet.dst, port: ports.dport };
  const remote = { addr: packet.src, port: ports.sport };
  const table = sockets(ns);
  const conn = table.tcp.get(socketKey(local, remote));
  if (!conn) {
    if (flags.startsWith('R')) return;
    const listener = flags === 'S' ? table.tcpListeners.find((l) => l.port === local.port && boundMatches(l.addr, local.addr)) : undefined;
    if (!listener) {
      sendReset(ns, packet);
      return;
    }
    const accepted = new TcpSocket(ns, local, remote, 'SYN-RECV', listener.program);
    table.tcp.set(accepted.key, accepted);
    accepted.events = { onEstablished: () => listener.accept(accepted) };
    accepted.segment('S.');
    return;
  }
  if (flags.startsWith('R')) {
    const wasConnecting = conn.state === 'SYN-SENT';
    conn.drop();
    if (wasConnecting) conn.events.onError?.('ECONNREFUSED');
    else conn.events.onClose?.();
    return;
  }
  switch (conn.state) {
    case 'SYN-SENT':
      if (flags === 'S.') {
        conn.cancelTimer();
        conn.state = 'ESTABLISHED';
        conn.segment('.');
        conn.events.onEstablished?.();
      }
      return;
    case 'SYN-RECV':
      if (flags === '.') {
        conn.state = 'ESTABLISHED';
        conn.events.onEstablished?.();
      }
      return;
    default:
      break;
  }
  if (packet.payload) {
    conn.segment('.');
    conn.events.onData?.(packet.payload);
  }
  if (flags.startsWith('F')) {
    if (conn.state === 'ESTABLISHED') {
      // The peer is done sending: tcp_fin delays the ACK (pingpong mode), so an application closing at once sends it with its FIN.
      conn.state = 'CLOSE-WAIT';
      conn.events.onClose?.();
      if (conn.state === 'CLOSE-WAIT') conn.segment('.');
    } else if (conn.state === 'FIN-WAIT-1' || conn.state === 'FIN-WAIT-2') {
      conn.segment('.');
      conn.enterTimeWait();
      conn.events.onClose?.();
    }
    return;
  }
  if (flags === '.') {
    if (conn.state === 'FIN-WAIT-1') conn.state = 'FIN-WAIT-2';
    else if (conn.state === 'LAST-ACK') conn.drop();
  }
}

/**
 * What a closed port answers: RST, ACK set when the offending segment had
 * none. REJECT's reset (nf_send_reset) is attached to the offending packet's
 * flow; the stack's own goes through conntrack like any packet.
 */
export function sendReset(ns: NetNs, offending: Ipv4Packet, attached = false): void {
  const ports = offending.ports!;
  const reply: Ipv4Packet = {
    src: offending.dst,
    dst: offending.src,
    ttl: Number(ns.sysctl.get('net.ipv4.ip_default_ttl')),
    protocol: 'tcp',
    length: RST_BYTES,
    ports: { sport: ports.dport, dport: ports.sport, tcpFlags: 'R.' },
    elapsedUs: offending.elapsedUs,
    answersFlow: attached ? offending.ct : undefined,
  };
  ipOutput(ns, reply);
}

/** ICMP errors about our segments reach the socket that sent them. */
export function tcpIcmpError(ns: NetNs, error: Ipv4Packet): void {
  const quoted = error.icmp!.quoted!;
  const { type, code } = error.icmp!;
  for (const raw of ns.sockets?.rawTcp ?? []) raw.onError(error);
  const conn = ns.sockets?.tcp.get(socketKey({ addr: quoted.src, port: quoted.ports!.sport }, { addr: quoted.dst, port: quoted.ports!.dport }));
  if (!conn || conn.state !== 'SYN-SENT' || type !== ICMP_DEST_UNREACH) return;
  conn.drop();
  conn.events.onError?.(icmpErrno(code));
}

/** How the kernel reports an ICMP unreachable code to a socket (icmp_err_convert). */
export function icmpErrno(code: number): Errno {
  switch (code) {
    case 0:
    case 6:
    case 9:
    case 11:
      return 'ENETUNREACH';
    case 2:
      return 'ENOPROTOOPT';
    case 3:
      return 'ECONNREFUSED';
    case 4:
      return 'EMSGSIZE';
    default:
      return 'EHOSTUNREACH';
  }
}

export function udpBind(ns: NetNs, addr: Ipv4, port: number, program: string, handlers: Pick<UdpSocket, 'onDatagram' | 'onError' | 'onEncapsulated'>): KResult<UdpSocket> {
  const table = sockets(ns);
  if (table.udp.some((u) => u.port === port && (u.addr === 0 || addr === 0 || u.addr === addr))) return fail('EADDRINUSE');
  const socket: UdpSocket = { addr, port, program, ...handlers };
  table.udp.push(socket);
  return ok(socket);
}

/** connect() on a UDP socket: bound to the local address `local`, it hears only from `peer` from now on. */
export function udpConnect(socket: UdpSocket, local: Ipv4, peer: Endpoint): void {
  socket.addr = local;
  socket.peer = peer;
}

export function udpClose(ns: NetNs, socket: UdpSocket): void {
  const table = sockets(ns);
  const index = table.udp.indexOf(socket);
  if (index >= 0) table.udp.splice(index, 1);
}

export function udpSend(ns: NetNs, from: Endpoint, to: Endpoint, text: string): void {
  ipOutput(ns, {
    src: from.addr,
    dst: to.addr,
    ttl: Number(ns.sysctl.get('net.ipv4.ip_default_ttl')),
    protocol: 'udp',
    length: 28 + text.length,
    ports: { sport: from.port, dport: to.port },
    payload: text,
    elapsedUs: 0,
  });
}

/** A datagram delivered here; false when no socket wants it (the caller answers port unreachable). */
export function udpInput(ns: NetNs, packet: Ipv4Packet): boolean {
  const ports = packet.ports!;
  const socket = ns.sockets?.udp.find((u) => u.port === ports.dport && boundMatches(u.addr, packet.dst) && (!u.peer || (u.peer.addr === packet.src && u.peer.port === ports.sport)));
  if (!socket) return false;
  if (socket.onEncapsulated) socket.onEncapsulated(ns, packet);
  else socket.onDatagram?.(packet.payload ?? '', { addr: packet.src, port: ports.sport }, { addr: packet.dst, port: ports.dport });
  return true;
}

export function udpIcmpError(ns: NetNs, error: Ipv4Packet): void {
  const quoted = error.icmp!.quoted!;
  ns.sockets?.udp.find((u) => u.port === quoted.ports!.sport)?.onError?.(error);
}
