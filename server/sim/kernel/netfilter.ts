// Netfilter: tables of chains of rules, evaluated at the five hooks in
// Linux's priority order, with connection tracking and NAT in between.
import { formatIpv4, inPrefix, prefixMask, type Ipv4 } from './addr';
import type { Device } from './device';
import { Conntrack, invert, packetTuple, setPacketDestination, setPacketSource, type CtInfo, type CtState, type Tuple } from './conntrack';
import { fail, OK, type KResult } from './errno';
import { selectSource, fibLookup, isLocalAddress } from './fib';
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

export type RuleMatch =
  | { module: 'tcp' | 'udp'; sport: PortMatch | null; dport: PortMatch | null }
  | { module: 'icmp'; type: number | null; code: number | null; typeName: string; invert: boolean }
  | { module: 'conntrack' | 'state'; states: CtMatchState[]; invert: boolean }
  | { module: 'multiport'; ports: number[]; which: 'sports' | 'dports' | 'ports'; invert: boolean }
  | { module: 'comment'; comment: string }
  | { module: 'addrtype'; src: AddrTypeMatch | null; dst: AddrTypeMatch | null; limitIn: boolean; limitOut: boolean }
  | StatisticMatch;

/**
 * xt_statistic. nth: `every` and `count` as the kernel keeps them (every - 1,
 * and a counter that starts at every - 1 - packet, matching as it wraps to 0).
 * random: the probability scaled to 2^31.
 */
export type StatisticMatch =
  | { module: 'statistic'; mode: 'nth'; every: number; packet: number; count: number; invert: boolean }
  | { module: 'statistic'; mode: 'random'; probability: number; invert: boolean };

/** Route types as the addrtype match names them, in the order of their RTN_ numbers. */
export const ADDR_TYPES = ['UNSPEC', 'UNICAST', 'LOCAL', 'BROADCAST', 'ANYCAST', 'MULTICAST', 'BLACKHOLE', 'UNREACHABLE', 'PROHIBIT', 'THROW', 'NAT', 'XRESOLVE'] as const;
export type AddrType = (typeof ADDR_TYPES)[number];

export interface AddrTypeMatch {
  types: AddrType[];
  invert: boolean;
}

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
  | { kind: 'MASQUERADE'; ports: { from: number; to: number } | null }
  | { kind: 'SNAT' | 'DNAT'; to: NatRange }
  | { kind: 'LOG'; prefix: string | null; level: string | null };

export interface Rule {
  protocol: { name: string; invert: boolean } | null;
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

  /** Whether anything needs connection tracking (NAT rules or state matches). */
  needsConntrack(): boolean {
    if (this.tables.has('nat')) return true;
    for (const table of this.tables.values()) {
      for (const chain of table.chains.values()) {
        if (chain.rules.some((r) => r.matches.some((m) => m.module === 'conntrack' || m.module === 'state'))) return true;
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
  const name = rule.protocol.name;
  const hit = name === 'all' || name === '0' || name === p.protocol || name === String(IP_PROTO_NUMBER[p.protocol]);
  return hit !== rule.protocol.invert;
}

/**
 * inet_dev_addr_type: what the local table makes of an address (only its
 * local and broadcast routes count; anything else is unicast). Limited to a
 * device, a local address counts only on the device that holds it.
 */
function addressType(ns: NetNs, addr: Ipv4, dev: Device | null): AddrType {
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

function addrTypeMatches(m: AddrTypeMatch | null, ns: NetNs, addr: Ipv4, dev: Device | null): boolean {
  return m === null || m.types.includes(addressType(ns, addr, dev)) !== m.invert;
}

function extensionMatches(ns: NetNs, m: RuleMatch, p: Ipv4Packet, inDev: Device | null, outDev: Device | null): boolean {
  switch (m.module) {
    case 'tcp':
    case 'udp':
      if (p.protocol !== m.module) return false;
      return (!m.sport || portIn(m.sport, p.ports?.sport)) && (!m.dport || portIn(m.dport, p.ports?.dport));
    case 'icmp': {
      if (p.protocol !== 'icmp') return false;
      const hit = m.type === null || (p.icmp!.type === m.type && (m.code === null || p.icmp!.code === m.code));
      return hit !== m.invert;
    }
    case 'conntrack':
    case 'state': {
      const state = p.ct?.state ?? 'UNTRACKED';
      const entry = p.ct?.entry;
      const hit = m.states.some((s) => (s === 'SNAT' ? entry?.srcNat === true : s === 'DNAT' ? entry?.dstNat === true : s === state));
      return hit !== m.invert;
    }
    case 'multiport': {
      const ports = m.which === 'sports' ? [p.ports?.sport] : m.which === 'dports' ? [p.ports?.dport] : [p.ports?.sport, p.ports?.dport];
      return ports.some((port) => port !== undefined && m.ports.includes(port)) !== m.invert;
    }
    case 'comment':
      return true;
    case 'addrtype': {
      const dev = m.limitIn ? inDev : m.limitOut ? outDev : null;
      return addrTypeMatches(m.src, ns, p.src, dev) && addrTypeMatches(m.dst, ns, p.dst, dev);
    }
    case 'statistic': {
      if (m.mode === 'random') return (ns.host.world.randomInt(0, 0x7fffffff) < m.probability) !== m.invert;
      m.count = m.count === m.every ? 0 : m.count + 1;
      return (m.count === 0) !== m.invert;
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
    rule.matches.every((m) => extensionMatches(ns, m, p, inDev, outDev))
  );
}

// -------------------------------------------------------------- evaluation

type ChainVerdict =
  | { kind: 'ACCEPT' | 'DROP' | 'CONTINUE' }
  | { kind: 'REJECT'; with: string }
  | { kind: 'NAT'; target: Extract<RuleTarget, { kind: 'MASQUERADE' | 'SNAT' | 'DNAT' }> };

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
      case 'REJECT':
        return { kind: 'REJECT', with: target.with };
      case 'MASQUERADE':
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

function chooseNat(ns: NetNs, packet: Ipv4Packet, info: CtInfo, verdict: Extract<ChainVerdict, { kind: 'NAT' }>, outDev: Device | null): void {
  const entry = info.entry;
  const ct = conntrackOf(ns);
  const t = verdict.target;
  if (t.kind === 'DNAT') {
    const addr = t.to.addr ?? entry.orig.dst;
    const port = t.to.portFrom ?? entry.orig.dport;
    entry.reply = { ...entry.reply, src: addr, sport: packet.protocol === 'icmp' ? entry.reply.sport : port };
    entry.dstNat = true;
  } else {
    let addr: Ipv4 | null;
    if (t.kind === 'MASQUERADE') {
      const res = outDev ? fibLookup(ns, packet.dst) : null;
      addr = selectSource(ns, outDev, res?.route?.gateway ?? packet.dst);
    } else addr = t.to.addr;
    if (addr === null) return;
    let port = entry.orig.sport;
    const range = t.kind === 'MASQUERADE' ? t.ports : t.to.portFrom !== null ? { from: t.to.portFrom, to: t.to.portTo ?? t.to.portFrom } : null;
    if (range && packet.protocol !== 'icmp') port = range.from;
    const candidate = (p: number): Tuple => (packet.protocol === 'icmp' ? { ...entry.reply, dst: addr!, dport: p, sport: p } : { ...entry.reply, dst: addr!, dport: p });
    // Keep the port when the reply tuple is free, as nf_nat does; otherwise search (ICMP ids from 0).
    if (ct.taken(candidate(port)) && packet.protocol === 'icmp') port = 0;
    let tries = 0;
    while (ct.taken(candidate(port)) && tries++ < 65536) port = range ? (port >= range.to ? range.from : port + 1) : (port + 1) & 0xffff;
    entry.reply = candidate(port);
    entry.srcNat = true;
  }
  ns.host.world.tracer?.note(ns, outDev, 'nat', packet, `${t.kind}: reply tuple becomes ${formatIpv4(entry.reply.src)}:${entry.reply.sport} > ${formatIpv4(entry.reply.dst)}:${entry.reply.dport}`);
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
  // nf_conntrack_in leaves alone a packet that already has an entry (looped back by lo).
  if (tracking && (hook === 'PREROUTING' || hook === 'OUTPUT') && !packet.ct) ctIn(ns, packet);
  for (const tableName of HOOK_TABLES[hook]) {
    const table = nf.existingTable(tableName);
    if (tableName === 'nat') {
      if (!tracking || !packet.ct) continue;
      const info = packet.ct;
      const manip = hook === 'PREROUTING' || hook === 'OUTPUT' ? 'dst' : 'src';
      if (info.state === 'NEW' && !info.confirmed && table) {
        const verdict = runBuiltin({ ns, table, hook, packet, inDev, outDev, depth: 0 });
        if (verdict.kind === 'NAT') chooseNat(ns, packet, info, verdict, outDev);
        else if (verdict.kind === 'DROP') return DROP;
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

