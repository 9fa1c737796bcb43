// Netfilter: tables of chains of rules, evaluated at the five hooks in
// Linux's priority order, with connection tracking and NAT in between.
import { formatIpv4, inPrefix, prefixMask, type Ipv4 } from './addr';
import type { Device } from './device';
import { Conntrack, invert, packetTuple, setPacketDestination, setPacketSource, type CtInfo, type CtState, type Tuple } from './conntrack';
import { fail, OK, type KResult } from './errno';
import { fibLookup, isLocalAddress, selectSource } from './fib';
import type { NetNs } from './netns';
import { ICMP_DEST_UNREACH, IP_PROTO_NUMBER, type Ipv4Packet } from './packet';
import { icmpSend } from './ipv4';
import { sendReset } from './sockets';

export type Hook = 'PREROUTING' | 'INPUT' | 'FORWARD' | 'OUTPUT' | 'POSTROUTING';
export type TableName = 'filter' | 'nat' | 'mangle' | 'raw';

export const TABLE_CHAINS: Record<TableName, Hook[]> = {
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  raw: ['PREROUTING', 'OUTPUT'],
};

/** Which tables run at each hook, in priority order. */
const HOOK_TABLES: Record<Hook, TableName[]> = {
  PREROUTING: ['raw', 'mangle', 'nat'],
  INPUT: ['mangle', 'filter', 'nat'],
  FORWARD: ['mangle', 'filter'],
  OUTPUT: ['raw', 'mangle', 'nat', 'filter'],
  POSTROUTING: ['mangle', 'nat'],
};

export interface AddrMatch {
  addr: Ipv4;
  prefixLen: number;
  invert: boolean;
}

export interface IfaceMatch {
  name: string;
  invert: boolean;
}

export interface PortMatch {
  from: number;
  to: number;
  invert: boolean;
}

/** TCP header flag bits, FIN first. */
export const TCP_FLAG_BITS: Record<string, number> = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20, ECE: 0x40, CWR: 0x80 };

/** The address types -m addrtype knows, in the order it prints them. */
export const ADDR_TYPES = ['UNSPEC', 'UNICAST', 'LOCAL', 'BROADCAST', 'ANYCAST', 'MULTICAST', 'BLACKHOLE', 'UNREACHABLE', 'PROHIBIT', 'THROW', 'NAT', 'XRESOLVE'];

export type RuleMatch =
  | { module: 'tcp' | 'udp'; sport: PortMatch | null; dport: PortMatch | null; flags?: { mask: number; comp: number; invert: boolean } }
  | { module: 'icmp'; type: number | null; code: number | null; typeName: string; invert: boolean }
  | { module: 'conntrack' | 'state'; states: CtMatchState[]; invert: boolean }
  /** Single ports have from === to; up to 15 ports, a range counting twice. */
  | { module: 'multiport'; ports: { from: number; to: number }[]; which: 'sports' | 'dports' | 'ports'; invert: boolean }
  | { module: 'comment'; comment: string }
  | { module: 'mark'; mark: number; mask: number; invert: boolean }
  | { module: 'addrtype'; src: { types: string[]; invert: boolean } | null; dst: { types: string[]; invert: boolean } | null; limitIface: 'in' | 'out' | null }
  /** random: a probability scaled to 2^31; nth: every `every`th packet, counting from `count`. */
  | { module: 'statistic'; mode: 'random'; probability: number; invert: boolean }
  | { module: 'statistic'; mode: 'nth'; every: number; packet: number; count: number; invert: boolean }
  /** A token bucket: `avg` is the time per packet in 1/10000 s, `credit` what is left, refilled since `lastUs` (-1 before the first packet). */
  | { module: 'limit'; avg: number; burst: number; credit: number; lastUs: number }
  | { module: 'iprange'; src: AddrRange | null; dst: AddrRange | null };

export interface AddrRange {
  from: Ipv4;
  to: Ipv4;
  invert: boolean;
}

export type NatFlag = 'random' | 'random-fully' | 'persistent';

/** What --ctstate tests: the packet's state, or (SNAT, DNAT) whether its flow is translated so. */
export type CtMatchState = CtState | 'SNAT' | 'DNAT';

export interface NatRange {
  addr: Ipv4 | null;
  addrTo: Ipv4 | null;
  portFrom: number | null;
  portTo: number | null;
}

export type RuleTarget =
  | { kind: 'ACCEPT' | 'DROP' | 'RETURN' }
  | { kind: 'jump' | 'goto'; chain: string }
  | { kind: 'REJECT'; with: string }
  /** `flags`: --random, --random-fully, --persistent as given (the ports they pick here are the first free ones). */
  | { kind: 'MASQUERADE'; ports: { from: number; to: number } | null; flags?: NatFlag[] }
  | { kind: 'REDIRECT'; ports: { from: number; to: number } | null; flags?: NatFlag[] }
  | { kind: 'SNAT' | 'DNAT'; to: NatRange; flags?: NatFlag[] }
  | { kind: 'LOG'; prefix: string | null; level: number }
  /** xt_mark_tginfo2: the packet's mark becomes (mark & ~mask) ^ value. */
  | { kind: 'MARK'; value: number; mask: number }
  /** The raw table's CT target, as -j NOTRACK or -j CT [--notrack]. */
  | { kind: 'CT'; notrack: boolean; spelled: 'NOTRACK' | 'CT' };

export interface Rule {
  /** An IP protocol number; 0 is any. */
  protocol: { number: number; invert: boolean } | null;
  src: AddrMatch | null;
  dst: AddrMatch | null;
  inIface: IfaceMatch | null;
  outIface: IfaceMatch | null;
  matches: RuleMatch[];
  target: RuleTarget | null;
  packets: number;
  bytes: number;
}

export interface Chain {
  name: string;
  /** Built-in chains have a policy; user chains have none. */
  policy: 'ACCEPT' | 'DROP' | null;
  /** iptables-nft counts packets on a policy only once it was set with -P. */
  policyCounted?: boolean;
  rules: Rule[];
  packets: number;
  bytes: number;
}

export interface Table {
  name: TableName;
  chains: Map<string, Chain>;
}

const NAT_TARGETS = ['MASQUERADE', 'REDIRECT', 'SNAT', 'DNAT'];

export class Netfilter {
  private readonly tables = new Map<TableName, Table>();

  /** Tables come into being when first used, as with iptables-nft. */
  table(name: TableName): Table {
    let table = this.tables.get(name);
    if (!table) {
      table = { name, chains: new Map() };
      for (const hook of TABLE_CHAINS[name]) table.chains.set(hook, { name: hook, policy: 'ACCEPT', rules: [], packets: 0, bytes: 0 });
      this.tables.set(name, table);
    }
    return table;
  }

  existingTable(name: TableName): Table | undefined {
    return this.tables.get(name);
  }

  /** Puts a whole table in place (iptables-restore's commit). */
  setTable(table: Table): void {
    this.tables.set(table.name, table);
  }

  /**
   * Whether anything needs connection tracking: as with nf_tables, a NAT target or a
   * state match turns it on (nf_ct_netns_get), a nat table on its own does not.
   */
  needsConntrack(): boolean {
    for (const table of this.tables.values()) {
      for (const chain of table.chains.values()) {
        if (chain.rules.some((r) => NAT_TARGETS.includes(r.target?.kind ?? '') || r.matches.some((m) => m.module === 'conntrack' || m.module === 'state'))) return true;
      }
    }
    return false;
  }

  ruleCount(): number {
    let n = 0;
    for (const table of this.tables.values()) for (const chain of table.chains.values()) n += chain.rules.length;
    return n;
  }
}

export function netfilterOf(ns: NetNs): Netfilter {
  if (!ns.netfilter) ns.netfilter = new Netfilter();
  return ns.netfilter;
}

export function conntrackOf(ns: NetNs): Conntrack {
  if (!ns.conntrack) ns.conntrack = new Conntrack(ns.host.world);
  return ns.conntrack;
}

// ---------------------------------------------------------------- matching

function ifaceMatches(m: IfaceMatch, dev: Device | null): boolean {
  const name = dev?.name ?? '';
  const hit = m.name.endsWith('+') ? name.startsWith(m.name.slice(0, -1)) : name === m.name;
  return hit !== m.invert;
}

function addrMatches(m: AddrMatch, addr: Ipv4): boolean {
  return inPrefix(addr, m.addr, m.prefixLen) !== m.invert;
}

function portIn(m: PortMatch, port: number | undefined): boolean {
  return (port !== undefined && port >= m.from && port <= m.to) !== m.invert;
}

function protocolMatches(rule: Rule, p: Ipv4Packet): boolean {
  if (!rule.protocol) return true;
  const { number } = rule.protocol;
  return (number === 0 || number === IP_PROTO_NUMBER[p.protocol]) !== rule.protocol.invert;
}

/** The flag bits of a segment, from tcpdump-style letters (`S.` is SYN and ACK). */
function tcpFlagBits(flags: string): number {
  const letters: Record<string, number> = { F: 0x01, S: 0x02, R: 0x04, P: 0x08, '.': 0x10, U: 0x20 };
  return [...flags].reduce((bits, c) => bits | (letters[c] ?? 0), 0);
}

/**
 * inet_dev_addr_type: what the local table makes of an address (only its
 * local and broadcast routes count; anything else is unicast). Limited to a
 * device (--limit-iface-in/out), a local address counts only on the device
 * that holds it.
 */
function addrType(ns: NetNs, addr: Ipv4, dev: Device | null): string {
  if (addr === 0 || addr === 0xffffffff) return 'BROADCAST';
  if (addr >>> 28 === 0xe) return 'MULTICAST';
  const onDev = (d: Device) => d.ipv4.some((a) => a.local === addr || (d.kind.name === 'loopback' && inPrefix(addr, a.local, a.prefixLen)));
  if (dev ? onDev(dev) : isLocalAddress(ns, addr)) return 'LOCAL';
  for (const d of dev ? [dev] : ns.devices.values()) {
    if (!d.adminUp) continue;
    // fib_add_ifaddr: while its device is up, an address brings the broadcast routes of its subnet.
    const subnetBroadcast = (a: (typeof d.ipv4)[number]) => a.prefixLen < 31 && ((a.local | ~prefixMask(a.prefixLen)) >>> 0) === addr;
    if (d.ipv4.some((a) => a.broadcast === addr || subnetBroadcast(a))) return 'BROADCAST';
  }
  return 'UNICAST';
}

const LIMIT_SCALE = 10_000;

function extensionMatches(m: RuleMatch, p: Ipv4Packet, ns: NetNs, inDev: Device | null, outDev: Device | null): boolean {
  switch (m.module) {
    case 'tcp':
    case 'udp':
      if (p.protocol !== m.module) return false;
      if (m.flags && (((tcpFlagBits(p.ports?.tcpFlags ?? '') & m.flags.mask) === m.flags.comp) === m.flags.invert)) return false;
      return (!m.sport || portIn(m.sport, p.ports?.sport)) && (!m.dport || portIn(m.dport, p.ports?.dport));
    case 'icmp': {
      if (p.protocol !== 'icmp') return false;
      const hit = m.type === null || (p.icmp!.type === m.type && (m.code === null || p.icmp!.code === m.code));
      return hit !== m.invert;
    }
    case 'conntrack':
    case 'state': {
      // Without an entry a packet is INVALID, unless the raw table said not to track it.
      const state = p.untracked ? 'UNTRACKED' : (p.ct?.state ?? 'INVALID');
      const entry = p.ct?.entry;
      const hit = m.states.some((s) => (s === 'SNAT' ? entry?.srcNat === true : s === 'DNAT' ? entry?.dstNat === true : s === state));
      return hit !== m.invert;
    }
    case 'multiport': {
      const ports = m.which === 'sports' ? [p.ports?.sport] : m.which === 'dports' ? [p.ports?.dport] : [p.ports?.sport, p.ports?.dport];
      return ports.some((port) => port !== undefined && m.ports.some((r) => port >= r.from && port <= r.to)) !== m.invert;
    }
    case 'comment':
      return true;
    case 'mark':
      return ((((p.mark ?? 0) & m.mask) >>> 0) === m.mark) !== m.invert;
    case 'addrtype': {
      const dev = m.limitIface === 'in' ? inDev : m.limitIface === 'out' ? outDev : null;
      return [m.src && [m.src, p.src] as const, m.dst && [m.dst, p.dst] as const].every((check) => !check || check[0].types.includes(addrType(ns, check[1], dev)) !== check[0].invert);
    }
    case 'statistic': {
      if (m.mode === 'random') return ((ns.host.world.randomInt(0, 0x7fffffff) < m.probability) !== m.invert);
      m.count = m.count === m.every - 1 ? 0 : m.count + 1;
      return (m.count === 0) !== m.invert;
    }
    case 'iprange':
      return [m.src && ([m.src, p.src] as const), m.dst && ([m.dst, p.dst] as const)].every((check) => !check || (check[1] >= check[0].from && check[1] <= check[0].to) !== check[0].invert);
    case 'limit': {
      // xt_limit: credit builds up with time (capped at the burst) and each packet spends one packet's worth.
      const now = ns.host.world.now;
      const cost = m.avg * (1_000_000 / LIMIT_SCALE);
      // A new rule starts with a full bucket.
      m.credit = m.lastUs < 0 ? m.burst * cost : Math.min(m.burst * cost, m.credit + (now - m.lastUs));
      m.lastUs = now;
      if (m.credit < cost) return false;
      m.credit -= cost;
      return true;
    }
  }
}

export function ruleMatches(ns: NetNs, rule: Rule, p: Ipv4Packet, inDev: Device | null, outDev: Device | null): boolean {
  return (
    protocolMatches(rule, p) &&
    (!rule.src || addrMatches(rule.src, p.src)) &&
    (!rule.dst || addrMatches(rule.dst, p.dst)) &&
    (!rule.inIface || ifaceMatches(rule.inIface, inDev)) &&
    (!rule.outIface || ifaceMatches(rule.outIface, outDev)) &&
    rule.matches.every((m) => extensionMatches(m, p, ns, inDev, outDev))
  );
}

// -------------------------------------------------------------- evaluation

type ChainVerdict =
  | { kind: 'ACCEPT' | 'DROP' | 'CONTINUE' }
  | { kind: 'REJECT'; with: string }
  | { kind: 'NAT'; target: Extract<RuleTarget, { kind: 'MASQUERADE' | 'REDIRECT' | 'SNAT' | 'DNAT' }> };

interface EvalContext {
  ns: NetNs;
  table: Table;
  hook: Hook;
  packet: Ipv4Packet;
  inDev: Device | null;
  outDev: Device | null;
  depth: number;
}

function runChain(ctx: EvalContext, chain: Chain): ChainVerdict {
  if (ctx.depth > 32) return { kind: 'DROP' }; // ELOOP in the kernel; iptables refuses such loops
  const tracer = ctx.ns.host.world.tracer;
  for (let i = 0; i < chain.rules.length; i++) {
    const rule = chain.rules[i]!;
    if (!ruleMatches(ctx.ns, rule, ctx.packet, ctx.inDev, ctx.outDev)) continue;
    rule.packets++;
    rule.bytes += ctx.packet.length;
    const target = rule.target;
    tracer?.note(ctx.ns, ctx.inDev ?? ctx.outDev, 'netfilter', ctx.packet, `${ctx.table.name} ${chain.name}: rule ${i + 1} matched${target ? ` -j ${target.kind === 'jump' || target.kind === 'goto' ? target.chain : target.kind}` : ''}`);
    if (!target) continue;
    switch (target.kind) {
      case 'ACCEPT':
      case 'DROP':
        return { kind: target.kind };
      case 'RETURN':
        return { kind: 'CONTINUE' };
      case 'LOG':
        continue;
      case 'MARK':
        ctx.packet.mark = (((ctx.packet.mark ?? 0) & ~target.mask) ^ target.value) >>> 0;
        continue;
      case 'CT':
        if (target.notrack) ctx.packet.untracked = true;
        continue;
      case 'REJECT':
        return { kind: 'REJECT', with: target.with };
      case 'MASQUERADE':
      case 'REDIRECT':
      case 'SNAT':
      case 'DNAT':
        return { kind: 'NAT', target };
      case 'jump':
      case 'goto': {
        const sub = ctx.table.chains.get(target.chain);
        if (!sub) continue;
        const verdict = runChain({ ...ctx, depth: ctx.depth + 1 }, sub);
        if (verdict.kind !== 'CONTINUE' || target.kind === 'goto') return verdict;
        continue;
      }
    }
  }
  return { kind: 'CONTINUE' };
}

function runBuiltin(ctx: EvalContext): ChainVerdict {
  const chain = ctx.table.chains.get(ctx.hook)!;
  const verdict = runChain(ctx, chain);
  if (verdict.kind !== 'CONTINUE') return verdict;
  if (chain.policyCounted) {
    chain.packets++;
    chain.bytes += ctx.packet.length;
  }
  if (ctx.table.name === 'nat') return { kind: 'ACCEPT' };
  if (chain.policy === 'DROP') {
    ctx.ns.host.world.tracer?.drop(ctx.ns, ctx.inDev ?? ctx.outDev, `${ctx.table.name} ${ctx.hook}: policy DROP`, ctx.packet);
  }
  return { kind: chain.policy === 'DROP' ? 'DROP' : 'ACCEPT' };
}

// ------------------------------------------------------------ conntrack

function ctIn(ns: NetNs, packet: Ipv4Packet): void {
  const ct = conntrackOf(ns);
  const answered = packet.answersFlow;
  if (answered) {
    const dir = answered.dir === 'original' ? 'reply' : 'original';
    packet.ct = { entry: answered.entry, dir, state: 'RELATED', related: packet.protocol === 'icmp', confirmed: true };
    return;
  }
  const tuple = packetTuple(packet);
  if (!tuple) {
    // An ICMP error: related to the flow of the packet it quotes.
    const quoted = packet.icmp?.quoted;
    const inner = quoted && packetTuple(quoted);
    const found = inner && ct.lookup(invert(inner));
    if (found) packet.ct = { entry: found.entry, dir: found.dir, state: 'RELATED', related: true, confirmed: true };
    else packet.ct = undefined;
    return;
  }
  const found = ct.lookup(tuple);
  if (found) {
    const firstReply = found.dir === 'reply' && !found.entry.seenReply;
    ct.refresh(found.entry, found.dir, packet.ports?.tcpFlags);
    // tcp_packet: a flow whose only answer is a reset never was one; its entry goes at once (the packet keeps it for NAT).
    if (firstReply && packet.ports?.tcpFlags?.startsWith('R') && !found.entry.assured) ct.remove(found.entry);
    const state: CtState = found.dir === 'reply' || found.entry.seenReply ? 'ESTABLISHED' : 'NEW';
    packet.ct = { entry: found.entry, dir: found.dir, state, related: false, confirmed: true };
    return;
  }
  // Only requests start flows: a lone echo reply is INVALID.
  if (packet.protocol === 'icmp' && packet.icmp!.type !== 8) {
    packet.ct = undefined;
    return;
  }
  // Only a SYN starts a TCP flow.
  if (packet.protocol === 'tcp' && packet.ports?.tcpFlags !== 'S') {
    packet.ct = undefined;
    return;
  }
  packet.ct = { entry: ct.create(tuple), dir: 'original', state: 'NEW', related: false, confirmed: false };
}

function ctConfirm(ns: NetNs, packet: Ipv4Packet): void {
  const info = packet.ct;
  if (info && !info.confirmed) {
    conntrackOf(ns).confirm(info.entry);
    info.confirmed = true;
  }
}

/** The tuple a packet of this direction must carry once all NAT is applied. */
function natTarget(info: CtInfo): Tuple {
  return info.dir === 'original' ? invert(info.entry.reply) : invert(info.entry.orig);
}

/** Applies an existing binding: destination at PREROUTING/OUTPUT, source at POSTROUTING/INPUT. */
function applyBinding(packet: Ipv4Packet, info: CtInfo, manip: 'src' | 'dst'): void {
  const target = natTarget(info);
  if (info.related) {
    const inner = packet.icmp!.quoted!;
    if (manip === 'dst' && packet.dst !== target.dst) {
      packet.dst = target.dst;
      // The quoted packet travelled the other way: its source is our destination.
      setPacketSource(inner, target.dst, target.dport);
    }
    if (manip === 'src' && inner.dst !== target.src) setPacketDestination(inner, target.src, target.sport);
    return;
  }
  if (manip === 'dst') setPacketDestination(packet, target.dst, target.dport);
  else setPacketSource(packet, target.src, target.sport);
}

/** nf_nat_redirect_ipv4: locally made packets go to 127.0.0.1, others to the first address of the device they came in on. */
function redirectAddress(inDev: Device | null): Ipv4 | null {
  if (!inDev) return 0x7f000001;
  return inDev.ipv4[0]?.local ?? null;
}

function chooseNat(ns: NetNs, packet: Ipv4Packet, info: CtInfo, verdict: Extract<ChainVerdict, { kind: 'NAT' }>, inDev: Device | null, outDev: Device | null): boolean {
  const entry = info.entry;
  const ct = conntrackOf(ns);
  const t = verdict.target;
  if (t.kind === 'DNAT' || t.kind === 'REDIRECT') {
    const addr = t.kind === 'DNAT' ? (t.to.addr ?? entry.orig.dst) : redirectAddress(inDev);
    // A device without an address has nowhere to redirect to: the packet is dropped.
    if (addr === null) return false;
    const port = (t.kind === 'REDIRECT' ? t.ports?.from : t.to.portFrom) ?? entry.orig.dport;
    entry.reply = { ...entry.reply, src: addr, sport: packet.protocol === 'icmp' ? entry.reply.sport : port };
    entry.dstNat = true;
  } else {
    let addr: Ipv4 | null;
    if (t.kind === 'MASQUERADE') {
      const res = outDev ? fibLookup(ns, packet.dst) : null;
      addr = selectSource(ns, outDev, res?.route?.gateway ?? packet.dst);
    } else addr = t.to.addr;
    if (addr === null) return true;
    let port = entry.orig.sport;
    const range = t.kind === 'MASQUERADE' ? t.ports : t.to.portFrom !== null ? { from: t.to.portFrom, to: t.to.portTo ?? t.to.portFrom } : null;
    // A port already inside the range is kept; otherwise the kernel picks one at random, here the first free.
    if (range && packet.protocol !== 'icmp' && (port < range.from || port > range.to)) port = range.from;
    const candidate = (p: number): Tuple => (packet.protocol === 'icmp' ? { ...entry.reply, dst: addr!, dport: p, sport: p } : { ...entry.reply, dst: addr!, dport: p });
    // Keep the port when the reply tuple is free, as nf_nat does; otherwise search (ICMP ids from 0).
    if (ct.taken(candidate(port)) && packet.protocol === 'icmp') port = 0;
    let tries = 0;
    while (ct.taken(candidate(port)) && tries++ < 65536) port = range ? (port >= range.to ? range.from : port + 1) : (port + 1) & 0xffff;
    entry.reply = candidate(port);
    entry.srcNat = true;
  }
  ns.host.world.tracer?.note(ns, outDev, 'nat', packet, `${t.kind}: reply tuple becomes ${formatIpv4(entry.reply.src)}:${entry.reply.sport} > ${formatIpv4(entry.reply.dst)}:${entry.reply.dport}`);
  return true;
}

/** `reject` is a drop that the sender hears about (EPERM for local sockets). */
export interface HookResult {
  verdict: 'accept' | 'drop' | 'reject';
}

const ACCEPT: HookResult = { verdict: 'accept' };
const DROP: HookResult = { verdict: 'drop' };
const REJECTED: HookResult = { verdict: 'reject' };

/** NF_HOOK: runs the tables registered at `hook` on a packet. */
export function netfilterHook(ns: NetNs, hook: Hook, packet: Ipv4Packet, inDev: Device | null, outDev: Device | null): HookResult {
  const nf = ns.netfilter;
  if (!nf) return ACCEPT;
  const tracking = nf.needsConntrack();
  // nf_conntrack_in runs after the raw table; a packet looped back through lo already has its entry.
  let lookedUp = !(tracking && (hook === 'PREROUTING' || hook === 'OUTPUT') && !packet.ct);
  for (const tableName of HOOK_TABLES[hook]) {
    if (!lookedUp && tableName !== 'raw') {
      if (!packet.untracked) ctIn(ns, packet);
      lookedUp = true;
    }
    const table = nf.existingTable(tableName);
    if (tableName === 'nat') {
      if (!tracking || !packet.ct) continue;
      const info = packet.ct;
      const manip = hook === 'PREROUTING' || hook === 'OUTPUT' ? 'dst' : 'src';
      if (info.state === 'NEW' && !info.confirmed && table) {
        const verdict = runBuiltin({ ns, table, hook, packet, inDev, outDev, depth: 0 });
        if (verdict.kind === 'NAT' ? !chooseNat(ns, packet, info, verdict, inDev, outDev) : verdict.kind === 'DROP') return DROP;
      }
      applyBinding(packet, info, manip);
      continue;
    }
    if (!table) continue;
    const verdict = runBuiltin({ ns, table, hook, packet, inDev, outDev, depth: 0 });
    if (verdict.kind === 'DROP') return DROP;
    if (verdict.kind === 'REJECT') {
      if (verdict.with === 'tcp-reset' && packet.protocol === 'tcp') sendReset(ns, packet, true);
      else icmpSend(ns, packet, ICMP_DEST_UNREACH, rejectCode(verdict.with));
      return REJECTED;
    }

  }
  if (tracking && (hook === 'POSTROUTING' || hook === 'INPUT')) ctConfirm(ns, packet);
  return ACCEPT;
}

const REJECT_CODES: Record<string, number> = {
  'icmp-net-unreachable': 0,
  'icmp-host-unreachable': 1,
  'icmp-proto-unreachable': 2,
  'icmp-port-unreachable': 3,
  'icmp-net-prohibited': 9,
  'icmp-host-prohibited': 10,
  'icmp-admin-prohibited': 13,
};

function rejectCode(kind: string): number {
  return REJECT_CODES[kind] ?? 3;
}

// ------------------------------------------------------------ rule edits

export function chainOf(ns: NetNs, table: TableName, chain: string): Chain | undefined {
  return ns.netfilter?.existingTable(table)?.chains.get(chain);
}

export function userChainReferences(table: Table, name: string): number {
  let refs = 0;
  for (const chain of table.chains.values()) {
    for (const rule of chain.rules) if (rule.target && (rule.target.kind === 'jump' || rule.target.kind === 'goto') && rule.target.chain === name) refs++;
  }
  return refs;
}

export function createChain(ns: NetNs, tableName: TableName, name: string): KResult {
  const table = netfilterOf(ns).table(tableName);
  if (table.chains.has(name)) return fail('EEXIST');
  table.chains.set(name, { name, policy: null, rules: [], packets: 0, bytes: 0 });
  return OK;
}

