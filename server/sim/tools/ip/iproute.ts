// `ip route`: show, add, delete, replace, get and flush routes (iproute2 ip/iproute.c).
import { compareIpv6, formatIpv4, inPrefix, ipv6InPrefix, IPV6_ANY, isLoopback, isMulticast, parseIpv6, prefixMask, type Ipv6 } from '../../kernel/addr';
import { LOOPBACK_ADDRESS } from '../../kernel/address';
import { fail, type Errno, type KResult } from '../../kernel/errno';
import { pmtuException } from '../../kernel/ipv4';
import { addRoute, deleteRoute, fibLookup, fibResolve, firstHop, fibValidateSource, filterRoutes, isLocalAddress, linkdownIgnored, localTableRoutes, sortedRoutes, RT_TABLE_DEFAULT, RT_TABLE_LOCAL, RT_TABLE_MAIN, type AddMode, type Route, type RouteMetric, type RouteType } from '../../kernel/fib';
import { IFF_MULTICAST, type Device } from '../../kernel/device';
import { inputMartian, redirectable } from '../../kernel/ipv4';
import { addRoute6, deleteRoute6, dumpRoutes6, fib6Lookup, flushRoutes6, selectSource6, type Route6, type Route6Type } from '../../kernel/ipv6';
import type { NetNs } from '../../kernel/netns';
import type { ProcContext } from '../process';
import type { IpOptions } from './ip';
import { IpPrinter } from './print';
import { duparg2, fatal, invarg, isIpv6Text, matches, netlinkError, nextArg, parseIpv4Loose, parseIpv4Prefix, parseIpv6Prefix, type ParsedPrefix } from './utils';

const ROUTE_USAGE = `Usage: ip route { list | flush } SELECTOR
       ip route save SELECTOR
       ip route restore
       ip route showdump
       ip route get [ ROUTE_GET_FLAGS ] ADDRESS
                            [ from ADDRESS iif STRING ]
                            [ oif STRING ] [ tos TOS ]
                            [ mark NUMBER ] [ vrf NAME ]
                            [ uid NUMBER ] [ ipproto PROTOCOL ]
                            [ sport NUMBER ] [ dport NUMBER ]
       ip route { add | del | change | append | replace } ROUTE
SELECTOR := [ root PREFIX ] [ match PREFIX ] [ exact PREFIX ]
            [ table TABLE_ID ] [ vrf NAME ] [ proto RTPROTO ]
            [ type TYPE ] [ scope SCOPE ]
ROUTE := NODE_SPEC [ INFO_SPEC ]
NODE_SPEC := [ TYPE ] PREFIX [ tos TOS ]
             [ table TABLE_ID ] [ proto RTPROTO ]
             [ scope SCOPE ] [ metric METRIC ]
             [ ttl-propagate { enabled | disabled } ]
INFO_SPEC := { NH | nhid ID } OPTIONS FLAGS [ nexthop NH ]...
NH := [ encap ENCAPTYPE ENCAPHDR ] [ via [ FAMILY ] ADDRESS ]
      [ dev STRING ] [ weight NUMBER ] NHFLAGS
FAMILY := [ inet | inet6 | mpls | bridge | link ]
OPTIONS := FLAGS [ mtu NUMBER ] [ advmss NUMBER ] [ as [ to ] ADDRESS ]
           [ rtt TIME ] [ rttvar TIME ] [ reordering NUMBER ]
           [ window NUMBER ] [ cwnd NUMBER ] [ initcwnd NUMBER ]
           [ ssthresh NUMBER ] [ realms REALM ] [ src ADDRESS ]
           [ rto_min TIME ] [ hoplimit NUMBER ] [ initrwnd NUMBER ]
           [ features FEATURES ] [ quickack BOOL ] [ congctl NAME ]
           [ pref PREF ] [ expires TIME ] [ fastopen_no_cookie BOOL ]
TYPE := { unicast | local | broadcast | multicast | throw |
          unreachable | prohibit | blackhole | nat }
TABLE_ID := [ local | main | default | all | NUMBER ]
SCOPE := [ host | link | global | NUMBER ]
NHFLAGS := [ onlink | pervasive ]
RTPROTO := [ kernel | boot | static | NUMBER ]
PREF := [ low | medium | high ]
TIME := NUMBER[s|ms]
BOOL := [1|0]
FEATURES := ecn
ENCAPTYPE := [ mpls | ip | ip6 | seg6 | seg6local | rpl | ioam6 | xfrm ]
ENCAPHDR := [ MPLSLABEL | SEG6HDR | SEG6LOCAL | IOAM6HDR | XFRMINFO ]
SEG6HDR := [ mode SEGMODE ] segs ADDR1,ADDRi,ADDRn [hmac HMACKEYID] [cleanup]
SEGMODE := [ encap | encap.red | inline | l2encap | l2encap.red ]
SEG6LOCAL := action ACTION [ OPTIONS ] [ count ]
ACTION := { End | End.X | End.T | End.DX2 | End.DX6 | End.DX4 |
            End.DT6 | End.DT4 | End.DT46 | End.B6 | End.B6.Encaps |
            End.BM | End.S | End.AS | End.AM | End.BPF }
OPTIONS := OPTION [ OPTIONS ]
OPTION := { flavors FLAVORS | srh SEG6HDR | nh4 ADDR | nh6 ADDR | iif DEV | oif DEV |
            table TABLEID | vrftable TABLEID | endpoint PROGNAME }
FLAVORS := { FLAVOR[,FLAVOR] }
FLAVOR := { psp | usp | usd | next-csid }
IOAM6HDR := trace prealloc type IOAM6_TRACE_TYPE ns IOAM6_NAMESPACE size IOAM6_TRACE_SIZE
XFRMINFO := if_id IF_ID [ link_dev LINK ]
ROUTE_GET_FLAGS := [ fibmatch ]`;

/** The types a route can be added with. */
const ROUTE_TYPES: RouteType[] = ['unicast', 'local', 'broadcast', 'blackhole', 'unreachable', 'prohibit', 'throw'];
/** rtnl_rtntype_a2n: the types a listing can select. */
const LISTED_TYPES: RouteType[] = [...ROUTE_TYPES, 'anycast', 'multicast', 'nat', 'xresolve'];

const TABLE_NAMES: Record<number, string> = { [RT_TABLE_DEFAULT]: 'default', [RT_TABLE_MAIN]: 'main', [RT_TABLE_LOCAL]: 'local' };

/** rtnl_rttable_n2a */
export function tableName(id: number): string {
  return TABLE_NAMES[id] ?? String(id);
}

/** get_u32 with base 0: decimal, hex or octal; null when not a 32-bit number. */
export function parseU32(text: string): number | null {
  const value = /^0x[0-9a-f]+$/i.test(text) ? parseInt(text, 16) : /^0[0-7]*$/.test(text) ? parseInt(text, 8) : /^[1-9]\d*$/.test(text) ? Number(text) : NaN;
  return value <= 0xffffffff ? value : null;
}

/** rtnl_rttable_a2n: a name from rt_tables or a number. */
export function parseTableId(text: string): number | null {
  for (const [id, name] of Object.entries(TABLE_NAMES)) if (name === text) return Number(id);
  return parseU32(text);
}

function dstText(route: { dst: number; prefixLen: number }): string {
  if (route.prefixLen === 0 && route.dst === 0) return 'default';
  return route.prefixLen === 32 ? formatIpv4(route.dst) : `${formatIpv4(route.dst)}/${route.prefixLen}`;
}

/** rtnetlink numbers for `-N`. */
/** /etc/iproute2/rt_protos: route protocols by name, for `-N` and for reading them. */
const PROTO_NUMBERS: Record<string, number> = {
  unspec: 0, redirect: 1, kernel: 2, boot: 3, static: 4, gated: 8, ra: 9, mrt: 10, zebra: 11, bird: 12, dnrouted: 13, xorp: 14, ntk: 15, dhcp: 16,
  keepalived: 18, babel: 42, openr: 99, bgp: 186, isis: 187, ospf: 188, rip: 189, eigrp: 192,
};
const PROTO_NAMES: Record<number, string> = Object.fromEntries(Object.entries(PROTO_NUMBERS).map(([name, id]) => [id, name]));
const SCOPE_NUMBERS: Record<string, number> = { global: 0, site: 200, link: 253, host: 254, nowhere: 255 };
const TYPE_NUMBERS: Record<RouteType, number> = { unicast: 1, local: 2, broadcast: 3, anycast: 4, multicast: 5, blackhole: 6, unreachable: 7, prohibit: 8, throw: 9, nat: 10, xresolve: 11 };

/** What a listing's filter already says, so print_route leaves it out. */
export interface RouteFilter {
  dev: boolean;
  proto: boolean;
  scope: boolean;
  /** A single table was asked for (all but `table all`). */
  table: boolean;
  metric: boolean;
  /** A single gateway or preferred source was asked for (a whole address, not a shorter prefix). */
  via: boolean;
  src: boolean;
}

const NO_FILTER: RouteFilter = { dev: false, proto: false, scope: false, table: false, metric: false, via: false, src: false };

/** print_route: -d adds the type, proto and scope that are otherwise left out as defaults. */
export function printRoute(p: IpPrinter, route: Route, opts: Pick<IpOptions, 'details' | 'numeric' | 'oneline'>, filter: RouteFilter = NO_FILTER): void {
  const proto = opts.numeric ? String(PROTO_NUMBERS[route.proto] ?? route.proto) : route.proto;
  const scope = opts.numeric ? String(SCOPE_NUMBERS[route.scope] ?? route.scope) : route.scope;
  p.openObject();
  if (route.type !== 'unicast' || opts.details) p.string('any', 'type', '%s ', opts.numeric ? String(TYPE_NUMBERS[route.type]) : route.type);
  const dst = dstText(route);
  p.string('any', 'dst', '%s ', dst, dst === 'default' ? null : 'inet');
  if (route.gateway !== null && !filter.via) p.string('any', 'gateway', 'via %s ', formatIpv4(route.gateway), 'inet');
  if (route.dev && !filter.dev) p.string('any', 'dev', 'dev %s ', route.dev.name, 'ifname');
  if ((route.table !== RT_TABLE_MAIN || opts.details) && !filter.table) p.string('any', 'table', 'table %s ', tableName(route.table));
  if ((route.proto !== 'boot' || opts.details) && !filter.proto) p.string('any', 'protocol', 'proto %s ', proto);
  if ((route.scope !== 'global' || opts.details) && !filter.scope) p.string('any', 'scope', 'scope %s ', scope);
  if (route.prefsrc !== null && !filter.src) p.string('any', 'prefsrc', 'src %s ', formatIpv4(route.prefsrc), 'inet');
  if (route.metric !== 0 && !filter.metric) p.number('any', 'metric', 'metric %u ', route.metric);
  p.openArray('flags');
  // A host-scope route's nexthop (scope nowhere) is never marked for the state of its link.
  const linkState = route.dev && route.scope !== 'host' ? route.dev : null;
  if (linkState && linkdownIgnored(linkState)) p.string('any', null, '%s ', 'dead');
  if (route.onlink) p.string('any', null, '%s ', 'onlink');
  if (linkState && linkState.adminUp && !linkState.carrier) p.string('any', null, '%s ', 'linkdown');
  p.closeArray();
  printMetrics(p, route.metrics);
  if (route.nexthops) {
    // print_rta_multipath: a line per nexthop, each its own object in JSON.
    p.openArray('nexthops');
    for (const nh of route.nexthops) {
      p.openObject();
      p.fp(`${opts.oneline ? '\\' : '\n'}\tnexthop `);
      if (nh.gateway !== null) p.string('any', 'gateway', 'via %s ', formatIpv4(nh.gateway), 'inet');
      p.string('any', 'dev', 'dev %s ', nh.dev.name, 'ifname');
      p.number('any', 'weight', 'weight %u ', nh.weight);
      // A nexthop whose device went down stays, dead; one without carrier is linkdown.
      p.openArray('flags');
      if (!nh.dev.adminUp || linkdownIgnored(nh.dev)) p.string('any', null, '%s ', 'dead');
      if (!nh.dev.adminUp || !nh.dev.carrier) p.string('any', null, '%s ', 'linkdown');
      p.closeArray();
      p.closeObject();
    }
    p.closeArray();
  }
  p.nl();
  p.closeObject();
}

/** The metrics `ip route add` takes as plain numbers, with the names iproute2 reports bad values under. */
const ROUTE_METRICS: Record<string, string> = { mtu: 'mtu', window: 'window', ssthresh: 'ssthresh', cwnd: 'cwnd', advmss: 'mss', reordering: 'reordering', hoplimit: 'hoplimit', initcwnd: 'initcwnd', initrwnd: 'initrwnd' };
/** RTAX order, which they are listed in. */
const METRIC_ORDER = ['mtu', 'window', 'ssthresh', 'cwnd', 'advmss', 'reordering', 'hoplimit', 'initcwnd', 'initrwnd'];

/** print_rta_metrics: `NAME [lock ]VALUE` each. */
function printMetrics(p: IpPrinter, metrics: RouteMetric[] = []): void {
  if (metrics.length === 0) return;
  p.openArray('metrics');
  p.openObject();
  for (const m of metrics) {
    p.fp(`${m.name} ${m.lock ? 'lock ' : ''}`);
    p.number('any', m.name, '%u ', m.value);
  }
  p.closeObject();
  p.closeArray();
}

/** An IPv6 route as listed: the kernel's, with the table it is in (the local table's have types of their own). */
type Ipv6Route = Omit<Route6, 'type'> & { type: Route6Type | 'local' | 'multicast'; table: number };

/**
 * The local table as addrconf fills it: a local route for each usable
 * address (a tentative one has none yet), then ff00::/8 on every multicast
 * device addrconf configured.
 */
function localRoutes6(ns: NetNs): Ipv6Route[] {
  const locals: Ipv6Route[] = [];
  const multicast: Ipv6Route[] = [];
  for (const dev of ns.sortedDevices()) {
    if (!dev.adminUp) continue;
    for (const a of dev.ipv6) if (!a.tentative) locals.push({ type: 'local', dst: a.address, prefixLen: 128, gateway: null, dev, proto: 'kernel', metric: 0, table: RT_TABLE_LOCAL });
    if (dev.ipv6Ready && dev.flags & IFF_MULTICAST) multicast.push({ type: 'multicast', dst: 'ff00::', prefixLen: 8, gateway: null, dev, proto: 'kernel', metric: 256, table: RT_TABLE_LOCAL });
  }
  locals.sort((x, y) => compareIpv6(x.dst, y.dst));
  return [...locals, ...multicast];
}

/** The IPv6 routes of `table` (main, local or all), each table dumped whole, main before local. */
function ipv6Routes(ns: NetNs, table: number | 'all'): Ipv6Route[] {
  const main = table === RT_TABLE_MAIN || table === 'all' ? dumpRoutes6(ns).map((r) => ({ ...r, table: RT_TABLE_MAIN })) : [];
  return [...main, ...(table === RT_TABLE_LOCAL || table === 'all' ? localRoutes6(ns) : [])];
}

/** Whether an IPv6 route passes the selectors; IPv4 prefixes (via, src, root, match, exact) select none. */
function ipv6Selected(route: Ipv6Route, r: RouteSelector): boolean {
  // Their scope is global (universe); they have no preferred source.
  if (r.none || r.src || (r.scope !== null && r.scope !== 0)) return false;
  const v6 = (prefix: Prefix | Prefix6 | null) => (prefix && 'address' in prefix ? prefix : null);
  const [root, match, exact, via] = [v6(r.root), v6(r.match), v6(r.exact), v6(r.via)];
  if ((r.root && !root) || (r.match && !match) || (r.exact && !exact) || (r.via && !via)) return false;
  if ((r.type !== null && route.type !== r.type) || (r.dev !== null && route.dev !== r.dev) || (r.proto !== null && r.proto !== (PROTO_NUMBERS[route.proto] ?? Number(route.proto))) || (r.metric !== null && route.metric !== r.metric)) return false;
  if (root && !(route.prefixLen >= root.prefixLen && ipv6InPrefix(route.dst, root.address, root.prefixLen))) return false;
  if (match && !(route.prefixLen <= match.prefixLen && ipv6InPrefix(match.address, route.dst, route.prefixLen))) return false;
  if (exact && !(route.prefixLen === exact.prefixLen && ipv6InPrefix(route.dst, exact.address, exact.prefixLen))) return false;
  return !via || (route.gateway !== null && ipv6InPrefix(route.gateway, via.address, via.prefixLen));
}

function printIpv6Route(p: IpPrinter, route: Ipv6Route, opts: Pick<IpOptions, 'details' | 'numeric'>, filter: RouteFilter): void {
  p.openObject();
  if (route.type !== 'unicast' || opts.details) p.string('any', 'type', '%s ', route.type);
  p.string('any', 'dst', '%s ', route.prefixLen === 0 ? 'default' : route.prefixLen === 128 ? route.dst : `${route.dst}/${route.prefixLen}`, 'inet6');
  if (route.gateway !== null && !filter.via) p.string('any', 'gateway', 'via %s ', route.gateway, 'inet6');
  if (route.dev && !filter.dev) p.string('any', 'dev', 'dev %s ', route.dev.name, 'ifname');
  if (route.table !== RT_TABLE_MAIN && !filter.table) p.string('any', 'table', 'table %s ', tableName(route.table));
  if (!filter.proto && (route.proto !== 'boot' || opts.details)) p.string('any', 'protocol', 'proto %s ', opts.numeric ? String(PROTO_NUMBERS[route.proto] ?? route.proto) : route.proto);
  // IPv6 routes are all of universe scope, shown only with -d.
  if (opts.details && !filter.scope) p.string('any', 'scope', 'scope %s ', opts.numeric ? '0' : 'global');
  if (!filter.metric) p.number('any', 'metric', 'metric %u ', route.metric);
  p.openArray('flags');
  if (route.dev?.adminUp && !route.dev.carrier) p.string('any', null, '%s ', 'linkdown');
  p.closeArray();
  p.string('any', 'pref', 'pref %s', 'medium');
  p.nl();
  p.closeObject();
}

type Prefix = { addr: number; prefixLen: number };
/** An IPv6 prefix a listing selects by. */
type Prefix6 = { address: Ipv6; prefixLen: number };

interface RouteArgs {
  type: RouteType | null;
  dst: Prefix | null;
  gateway: number | null;
  dev: Device | null;
  devName: string | null;
  metric: number | null;
  proto: string | null;
  scope: Route['scope'] | null;
  prefsrc: number | null;
  table: number | null;
  onlink: boolean;
  metrics: RouteMetric[];
  /** `nexthop via G [dev D] [weight W]`, one or more. */
  nexthops: Array<{ gateway: number | null; dev: Device | null; weight: number }> | null;
  /** An IPv6 destination and gateway, for a route of that family. */
  dst6: { address: string; prefixLen: number } | null;
  gateway6: string | null;
}

/** The words for the zero-length prefix of either family. */
const ANY_PREFIX = ['default', 'any', 'all'];

/** iproute_modify's arguments: the route to add, change or delete. */
function parseRouteArgs(ctx: ProcContext, opts: IpOptions, ns: NetNs, args: string[]): RouteArgs {
  const r: RouteArgs = { type: null, dst: null, gateway: null, dev: null, devName: null, metric: null, proto: null, scope: null, prefsrc: null, table: null, onlink: false, metrics: [], nexthops: null, dst6: null, gateway6: null };
  const v6 = (text: string) => opts.family === 'inet6' || r.dst6 !== null || isIpv6Text(text);
  let anyFamilyDefault = false;
  for (let i = 0; i < args.length; i++) {
    let a = args[i]!;
    if (matches(a, 'nexthop')) {
      // The nexthops take the rest of the line.
      r.nexthops = parseNexthops(ctx, ns, args.slice(i));
      break;
    }
    if (a === 'src') {
      const v = nextArg(ctx, args, i++);
      const addr = parseIpv4Loose(v);
      if (addr === null) fatal(ctx, `Error: inet address is expected rather than "${v}".`, 1);
      r.prefsrc = addr;
    } else if (a === 'via') {
      let v = nextArg(ctx, args, i++);
      if (v === 'inet' || v === 'inet6') v = nextArg(ctx, args, i++);
      if (v6(v)) {
        r.gateway6 = parseIpv6(v) ?? fatal(ctx, `Error: inet6 address is expected rather than "${v}".`, 1);
        continue;
      }
      const addr = parseIpv4Loose(v);
      if (addr === null) fatal(ctx, `Error: inet address is expected rather than "${v}".`, 1);
      r.gateway = addr;
    } else if (matches(a, 'metric') || matches(a, 'priority') || a === 'preference') {
      const v = nextArg(ctx, args, i++);
      if (!/^\d+$/.test(v)) invarg(ctx, '"metric" value is invalid\n', v);
      r.metric = Number(v);
    } else if (a === 'scope') {
      const v = nextArg(ctx, args, i++);
      if (v !== 'host' && v !== 'link' && v !== 'global') invarg(ctx, 'invalid "scope" value\n', v);
      r.scope = v;
    } else if (matches(a, 'protocol')) {
      const v = nextArg(ctx, args, i++);
      if (!(v in PROTO_NUMBERS) && !(/^\d+$/.test(v) && Number(v) <= 255)) invarg(ctx, '"protocol" value is invalid\n', v);
      // Kept as the name rtnl_rtprot_n2a shows.
      r.proto = PROTO_NAMES[Number(v)] ?? v;
    } else if (matches(a, 'table')) {
      const v = nextArg(ctx, args, i++);
      r.table = parseTableId(v) ?? invarg(ctx, '"table" value is invalid\n', v);
    } else if (a === 'dev' || a === 'oif') r.devName = nextArg(ctx, args, i++);
    else if (a === 'onlink') r.onlink = true;
    else if (a in ROUTE_METRICS) {
      let v = nextArg(ctx, args, i++);
      const lock = v === 'lock';
      if (lock) v = nextArg(ctx, args, i++);
      const value = parseU32(v);
      if (value === null) invarg(ctx, `"${ROUTE_METRICS[a]}" value is invalid\n`, v);
      r.metrics = [...r.metrics.filter((m) => m.name !== a), { name: a, value, lock }].sort((x, y) => METRIC_ORDER.indexOf(x.name) - METRIC_ORDER.indexOf(y.name));
    } else if (a === 'tos' || a === 'dsfield' || a === 'expires' || a === 'pref') nextArg(ctx, args, i++);
    else {
      if (a === 'to') a = nextArg(ctx, args, i++);
      if (!/^\d/.test(a) && ROUTE_TYPES.includes(a as RouteType)) {
        r.type = a as RouteType;
        a = nextArg(ctx, args, i++);
      }
      if (matches(a, 'help')) fatal(ctx, ROUTE_USAGE);
      if (r.dst !== null || r.dst6 !== null) duparg2(ctx, 'to', a);
      if (v6(a)) {
        const prefix6 = ANY_PREFIX.includes(a) ? { address: IPV6_ANY, prefixLen: 0 } : parseIpv6Prefix(a);
        if (!prefix6) fatal(ctx, `Error: ${opts.family ?? 'any valid'} prefix is expected rather than "${a}".`, 1);
        r.dst6 = prefix6;
        continue;
      }
      const prefix = parseIpv4Prefix(a);
      if (!prefix) fatal(ctx, `Error: ${opts.family ?? 'any valid'} prefix is expected rather than "${a}".`, 1);
      r.dst = { addr: prefix.addr, prefixLen: prefix.prefixLen };
      anyFamilyDefault = ANY_PREFIX.includes(a);
    }
  }
  // `default` names no family: an IPv6 gateway makes the route IPv6.
  if (anyFamilyDefault && r.gateway6 !== null) {
    r.dst = null;
    r.dst6 = { address: IPV6_ANY, prefixLen: 0 };
  }
  if (r.devName !== null) r.dev = deviceNamed(ctx, ns, r.devName);
  return r;
}

/** An IPv6 route added, changed or deleted by hand (ip6_route_add, ip6_route_del). */
function ipv6RouteModify(ctx: ProcContext, ns: NetNs, mode: AddMode | 'delete', r: RouteArgs, dst: { address: Ipv6; prefixLen: number }): number {
  const type = r.type ?? 'unicast';
  if (!ROUTE6_TYPES.includes(type as Route6Type)) return netlinkError(ctx, fail('EINVAL'));
  const result =
    mode === 'delete'
      ? deleteRoute6(ns, { type: r.type as Route6Type | null, dst: dst.address, prefixLen: dst.prefixLen, gateway: r.gateway6, dev: r.dev, metric: r.metric })
      : addRoute6(ns, { type: type as Route6Type, dst: dst.address, prefixLen: dst.prefixLen, gateway: r.gateway6, dev: r.dev, proto: r.proto ?? 'boot', metric: r.metric }, mode);
  return result.ok ? 0 : netlinkError(ctx, result);
}

/** The route types the lab's IPv6 table holds. */
const ROUTE6_TYPES: Route6Type[] = ['unicast', 'blackhole', 'unreachable', 'prohibit'];

/** parse_nexthops: `nexthop` groups of via, dev and weight, to the end of the line. */
function parseNexthops(ctx: ProcContext, ns: NetNs, args: string[]): NonNullable<RouteArgs['nexthops']> {
  const hops: NonNullable<RouteArgs['nexthops']> = [];
  let i = 0;
  while (i < args.length) {
    if (args[i] !== 'nexthop') fatal(ctx, `Error: "nexthop" or end of line is expected instead of "${args[i]}"`);
    if (i + 1 >= args.length) fatal(ctx, 'Error: unexpected end of line after "nexthop"');
    const hop = { gateway: null as number | null, dev: null as Device | null, weight: 1 };
    for (i++; i < args.length; i++) {
      const a = args[i]!;
      if (a === 'via') {
        let v = nextArg(ctx, args, i++);
        if (v === 'inet') v = nextArg(ctx, args, i++);
        hop.gateway = parseIpv4Loose(v) ?? fatal(ctx, `Error: inet address is expected rather than "${v}".`, 1);
      } else if (a === 'dev') hop.dev = deviceNamed(ctx, ns, nextArg(ctx, args, i++));
      else if (a === 'weight') {
        const v = nextArg(ctx, args, i++);
        const weight = parseU32(v);
        if (weight === null || weight === 0 || weight > 256) invarg(ctx, '"weight" is invalid\n', v);
        hop.weight = weight;
      } else break;
    }
    hops.push(hop);
  }
  return hops;
}

/** The device a name stands for, or iproute2's nodev(): "Cannot find device", exit 1. */
function deviceNamed(ctx: ProcContext, ns: NetNs, name: string): Device {
  const dev = ns.device(name);
  if (!dev) {
    ctx.stderr.write(`Cannot find device "${name}"\n`);
    throw new RouteDone(1);
  }
  return dev;
}

/** The selectors of `ip route show` and `flush` (iproute2's route filter). */
interface RouteSelector {
  /** A table id, or `all`. */
  table: number | 'all';
  type: RouteType | null;
  dev: Device | null;
  proto: number | null;
  scope: number | null;
  metric: number | null;
  /** The gateways and preferred sources selected. */
  via: Prefix | Prefix6 | null;
  src: Prefix | Prefix6 | null;
  /** `root P` (within P), `match P` (covering P), a bare prefix (exactly P); of either family. */
  root: Prefix | Prefix6 | null;
  match: Prefix | Prefix6 | null;
  exact: Prefix | Prefix6 | null;
  /** `cache`, `cached`, `cloned`: the route cache, which IPv4 no longer has. */
  cloned: boolean;
  /** A selector no route of the lab has (a source prefix, an input device, a mark, a realm, a TOS). */
  none: boolean;
}

/** iproute_list_flush_or_save's parser: keywords by prefix, in its order, so `t` is table and `m` metric. */
function parseRouteSelectors(ctx: ProcContext, opts: IpOptions, ns: NetNs, args: string[]): RouteSelector {
  const sel: RouteSelector = { table: RT_TABLE_MAIN, type: null, dev: null, proto: null, scope: null, metric: null, via: null, src: null, root: null, match: null, exact: null, cloned: false, none: false };
  const prefixArg = (v: string): Prefix | Prefix6 => {
    if (opts.family === 'inet6' || (opts.family !== 'inet' && isIpv6Text(v))) {
      const prefix6 = ANY_PREFIX.includes(v) ? { address: IPV6_ANY, prefixLen: 0 } : parseIpv6Prefix(v);
      if (!prefix6) fatal(ctx, `Error: ${opts.family ?? 'any valid'} prefix is expected rather than "${v}".`, 1);
      return prefix6;
    }
    const prefix = parseIpv4Prefix(v);
    if (!prefix) fatal(ctx, `Error: ${opts.family ?? 'any valid'} prefix is expected rather than "${v}".`, 1);
    return { addr: prefix.addr, prefixLen: prefix.prefixLen };
  };
  let devName: string | null = null;
  let iifName: string | null = null;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = () => nextArg(ctx, args, i++);
    if (matches(a, 'table')) {
      const v = value();
      const id = parseTableId(v);
      if (id !== null) sel.table = id;
      else if (v === 'all') sel.table = 'all';
      else if (v === 'cache') sel.cloned = true;
      else if (v === 'help') fatal(ctx, ROUTE_USAGE);
      else invarg(ctx, 'table id value is invalid\n', v);
    } else if (matches(a, 'vrf')) invarg(ctx, 'Invalid VRF\n', value());
    else if (matches(a, 'cached') || matches(a, 'cloned')) sel.cloned = true;
    else if (a === 'tos' || matches(a, 'dsfield')) {
      const v = value();
      const tos = parseU32(v);
      if (tos === null || tos > 255) invarg(ctx, 'TOS value is invalid\n', v);
      sel.none ||= tos !== 0;
    } else if (matches(a, 'protocol')) {
      const v = value();
      const proto = v === 'all' ? null : (PROTO_NUMBERS[v] ?? (/^\d+$/.test(v) && Number(v) <= 255 ? Number(v) : invarg(ctx, 'invalid "protocol"\n', v)));
      sel.proto = proto;
    } else if (matches(a, 'scope')) {
      const v = value();
      const scope = v === 'all' ? null : (SCOPE_NUMBERS[v] ?? (/^\d+$/.test(v) && Number(v) <= 255 ? Number(v) : invarg(ctx, 'invalid "scope"\n', v)));
      sel.scope = scope;
    } else if (matches(a, 'type')) {
      const v = value();
      if (!LISTED_TYPES.includes(v as RouteType)) invarg(ctx, 'node type value is invalid\n', v);
      sel.type = v as RouteType;
    } else if (a === 'dev' || a === 'oif') devName = value();
    else if (a === 'iif') iifName = value();
    else if (a === 'mark') {
      const v = value();
      const mark = parseU32(v) ?? invarg(ctx, 'invalid mark value', v);
      sel.none ||= mark !== 0;
    } else if (matches(a, 'metric') || matches(a, 'priority') || a === 'preference') {
      const v = value();
      sel.metric = parseU32(v) ?? invarg(ctx, '"metric" value is invalid\n', v);
    } else if (a === 'via') {
      let v = value();
      if (['inet', 'inet6', 'link', 'mpls', 'bridge'].includes(v)) v = value();
      sel.via = prefixArg(v);
    } else if (a === 'src') sel.src = prefixArg(value());
    else if (matches(a, 'realms')) {
      const v = value();
      sel.none ||= /[1-9]/.test(v);
    } else if (matches(a, 'from')) {
      // Routes here have no source prefix: only `from match` (covering) selects them.
      let v = value();
      const kind = matches(v, 'root') ? 'root' : matches(v, 'match') ? 'match' : 'exact';
      if (kind !== 'exact' || matches(v, 'exact')) v = value();
      sel.none ||= kind !== 'match' && prefixArg(v).prefixLen > 0;
    } else {
      let v = a;
      if (matches(v, 'to')) v = value();
      if (matches(v, 'root')) sel.root = prefixArg(value());
      else if (matches(v, 'match')) sel.match = prefixArg(value());
      else {
        if (matches(v, 'exact')) v = value();
        sel.exact = prefixArg(v);
      }
    }
  }
  // Devices are looked up once all is read, the input device first.
  if (iifName !== null) {
    deviceNamed(ctx, ns, iifName);
    sel.none = true;
  }
  if (devName !== null) sel.dev = deviceNamed(ctx, ns, devName);
  return sel;
}

class RouteDone {
  constructor(readonly code: number) {}
}

function routeModify(ctx: ProcContext, opts: IpOptions, ns: NetNs, mode: AddMode | 'delete', args: string[]): number {
  const r = parseRouteArgs(ctx, opts, ns, args);
  if (r.dst6) return ipv6RouteModify(ctx, ns, mode, r, r.dst6);
  if (r.dst === null) fatal(ctx, ROUTE_USAGE);
  // Table 0 is main; local, broadcast, anycast and nat routes go to the local table unless one is named.
  const table = r.table === 0 ? RT_TABLE_MAIN : typeof r.table === 'number' ? r.table : r.type !== null && ['local', 'broadcast', 'anycast', 'nat'].includes(r.type) ? RT_TABLE_LOCAL : null;
  let result: KResult;
  if (mode === 'delete') {
    result = deleteRoute(ns, { dst: r.dst.addr, prefixLen: r.dst.prefixLen, gateway: r.gateway, dev: r.dev, metric: r.metric, proto: r.proto, type: r.type, table });
  } else {
    result = addRoute(
      ns,
      {
        type: r.type ?? 'unicast',
        dst: r.dst.addr,
        prefixLen: r.dst.prefixLen,
        gateway: r.gateway,
        dev: r.dev,
        proto: r.proto ?? 'boot',
        ...(r.scope ? { scope: r.scope } : {}),
        prefsrc: r.prefsrc,
        metric: r.metric ?? 0,
        onlink: r.onlink,
        table: table ?? RT_TABLE_MAIN,
        metrics: r.metrics,
        ...(r.nexthops ? { nexthops: r.nexthops } : {}),
      },
      mode,
    );
  }
  return result.ok ? 0 : netlinkError(ctx, result);
}

/** Without a family, naming one table asks for IPv4's; all tables are dumped for both families. */
function withIpv6(opts: IpOptions, r: RouteSelector): boolean {
  return opts.family === 'inet6' || (opts.family === null && r.table === 'all');
}

function routeShow(ctx: ProcContext, opts: IpOptions, ns: NetNs, args: string[]): number {
  const p = IpPrinter.for(opts);
  if (args.length > 0 && matches(args[0]!, 'cache') && opts.family !== 'inet6') {
    printRouteExceptions(ctx, p, ns);
    ctx.stdout.write(p.finish());
    return 0;
  }
  const r = parseRouteSelectors(ctx, opts, ns, args);
  const tableMissing = () => {
    ctx.stderr.write('Error: ipv4: FIB table does not exist.\nDump terminated\n');
    return 2;
  };
  const filter: RouteFilter = {
    dev: r.dev !== null,
    proto: r.proto !== null,
    scope: r.scope !== null,
    table: r.table !== 'all',
    metric: r.metric !== null,
    // A whole address, not a shorter prefix, is left out of what is listed.
    via: r.via !== null && r.via.prefixLen === ('address' in r.via ? 128 : 32),
    src: r.src !== null && r.src.prefixLen === ('address' in r.src ? 128 : 32),
  };
  if (r.cloned) {
    // IPv4 has had no route cache since Linux 3.6; IPv6's clones are not modelled.
    ctx.stdout.write(p.finish());
    return 0;
  }
  if (opts.family !== 'inet6') {
    const tableId = r.table;
    if (tableId === RT_TABLE_LOCAL ? !ns.localTableExists : tableId !== 'all' && !ns.tables.has(tableId)) return tableMissing();
    const local = tableId === RT_TABLE_LOCAL || tableId === 'all' ? localTableRoutes(ns) : [];
    // The local table's id hashes last, so a dump of every table ends with it.
    const routes = tableId === 'all' ? [...dumpOrder(ns), ...local] : tableId === RT_TABLE_LOCAL ? local : sortedRoutes(ns, tableId);
    for (const route of routes) if (selected(route, r)) printRoute(p, route, opts, filter);
  }
  if (withIpv6(opts, r)) for (const route of ipv6Routes(ns, r.table)) if (ipv6Selected(route, r)) printIpv6Route(p, route, opts, filter);
  ctx.stdout.write(p.finish());
  return 0;
}

/** `ip route show cache`: the route exceptions (learned path MTUs), each with the route it hangs on. */
function printRouteExceptions(ctx: ProcContext, p: IpPrinter, ns: NetNs): void {
  for (const dst of [...ns.pmtuExceptions.keys()].sort((a, b) => a - b)) {
    const exception = pmtuException(ns, dst);
    const route = exception && fibLookup(ns, dst);
    if (!exception || !route?.dev) continue;
    p.openObject();
    p.string('any', 'dst', '%s ', formatIpv4(dst), 'inet');
    if (route.route?.gateway != null) p.string('any', 'gateway', 'via %s ', formatIpv4(route.route.gateway), 'inet');
    p.string('any', 'dev', 'dev %s ', route.dev.name, 'ifname');
    p.fp('\n    cache ');
    p.number('any', 'expires', 'expires %usec ', Math.floor((exception.expiresUs - ctx.world.now) / 1e6));
    p.number('any', 'mtu', 'mtu %u ', exception.mtu);
    p.nl();
    p.closeObject();
  }
}

/**
 * Every table's routes as a dump walks them: by hash bucket (the id's low
 * byte), a bucket's newest table first; the local table is printed apart.
 */
function dumpOrder(ns: NetNs): Route[] {
  const ids = [...ns.tables.keys()].map((id, created) => ({ id, created })).filter(({ id }) => id !== RT_TABLE_LOCAL);
  ids.sort((a, b) => (a.id & 0xff) - (b.id & 0xff) || b.created - a.created);
  return ids.flatMap(({ id }) => sortedRoutes(ns, id));
}

/** filter_nlmsg: whether a route passes the selectors of `ip route show` and `flush`. */
function selected(route: Route, r: RouteSelector): boolean {
  // An IPv6 prefix selects no IPv4 route.
  const within = (addr: number | null, prefix: Prefix | Prefix6 | null) => prefix === null || (addr !== null && 'addr' in prefix && inPrefix(addr, prefix.addr, prefix.prefixLen));
  return (
    !r.none &&
    (r.table === 'all' || route.table === r.table) &&
    (r.type === null || route.type === r.type) &&
    (r.dev === null || route.dev === r.dev) &&
    (r.proto === null || (PROTO_NUMBERS[route.proto] ?? Number(route.proto)) === r.proto) &&
    (r.scope === null || SCOPE_NUMBERS[route.scope] === r.scope) &&
    (r.metric === null || route.metric === r.metric) &&
    within(route.gateway, r.via) &&
    within(route.prefsrc, r.src) &&
    // root: within the prefix; match: covering it; a bare prefix (exact): both.
    (r.root === null || (route.prefixLen >= r.root.prefixLen && within(route.dst, r.root))) &&
    (r.match === null || ('addr' in r.match && route.prefixLen <= r.match.prefixLen && inPrefix(r.match.addr, route.dst, route.prefixLen))) &&
    (r.exact === null || (route.prefixLen === r.exact.prefixLen && within(route.dst, r.exact)))
  );
}

/** inet_proto_a2n: the protocols /etc/protocols names, or a number. */
const IP_PROTOCOLS = ['ip', 'icmp', 'igmp', 'tcp', 'udp', 'ipv6', 'gre', 'esp', 'ah', 'ipv6-icmp', 'icmpv6', 'sctp', 'udplite', 'raw'];

function routeGet(ctx: ProcContext, opts: IpOptions, ns: NetNs, args: string[]): number {
  // The family the first address sets (get_prefix is told it for the next).
  let family = opts.family;
  /** An address of the family the first one set; an IPv6 one as text. */
  const prefixArg = (v: string): ParsedPrefix | { address: string; prefixLen: number; explicitLength: boolean } => {
    if (matches(v, 'help')) fatal(ctx, ROUTE_USAGE);
    const v6 = family === 'inet6' || (family === null && isIpv6Text(v));
    const prefix = v6 ? parseIpv6Prefix(v) : isIpv6Text(v) ? null : parseIpv4Prefix(v, false);
    if (!prefix) fatal(ctx, `Error: ${family ?? 'any valid'} prefix is expected rather than "${v}".`, 1);
    family = v6 ? 'inet6' : 'inet';
    return 'address' in prefix ? { ...prefix, explicitLength: v.includes('/') } : prefix;
  };
  let dst: number | string | null = null;
  let from: ReturnType<typeof prefixArg> | null = null;
  let oifName: string | null = null;
  let iifName: string | null = null;
  let mark = 0;
  let uid = 0;
  let fibmatch = false;
  let connected = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === 'tos' || matches(a, 'dsfield')) nextArg(ctx, args, i++);
    else if (matches(a, 'from')) from = prefixArg(nextArg(ctx, args, i++));
    else if (matches(a, 'iif')) iifName = nextArg(ctx, args, i++);
    else if (matches(a, 'mark')) {
      const v = nextArg(ctx, args, i++);
      mark = parseU32(v) ?? invarg(ctx, 'invalid mark value', v);
    } else if (matches(a, 'oif') || a === 'dev') oifName = nextArg(ctx, args, i++);
    else if (matches(a, 'notify')) continue;
    else if (matches(a, 'connected')) connected = true;
    else if (matches(a, 'uid')) {
      const v = nextArg(ctx, args, i++);
      uid = parseU32(v) ?? invarg(ctx, 'invalid UID\n', v);
    } else if (matches(a, 'fibmatch')) fibmatch = true;
    else if (matches(a, 'sport') || matches(a, 'dport')) {
      const v = nextArg(ctx, args, i++);
      const port = parseU32(v);
      if (port === null || port > 0xffff) invarg(ctx, `invalid ${matches(a, 'sport') ? 'sport' : 'dport'}\n`, v);
    } else if (matches(a, 'ipproto')) {
      const v = nextArg(ctx, args, i++);
      if (!IP_PROTOCOLS.includes(v.toLowerCase()) && !(/^\d+$/.test(v) && Number(v) <= 255)) invarg(ctx, 'Invalid "ipproto" value\n', v);
    } else {
      const prefix = prefixArg(a === 'to' ? nextArg(ctx, args, i++) : a);
      const full = 'address' in prefix ? 128 : 32;
      if (prefix.explicitLength && prefix.prefixLen !== full) ctx.stderr.write(`Warning: /${prefix.prefixLen} as prefix is invalid, only /${full} (or none) is supported.\n`);
      dst = 'address' in prefix ? prefix.address : prefix.addr;
    }
  }
  if (dst === null) {
    ctx.stderr.write('need at least a destination address\n');
    return 1;
  }
  const device = (name: string | null) => {
    if (name === null) return null;
    const dev = ns.device(name);
    if (!dev) {
      ctx.stderr.write(`Cannot find device "${name}"\n`);
      throw new RouteDone(1);
    }
    return dev;
  };
  const iif = device(iifName);
  const oif = device(oifName);
  if (typeof dst === 'string') return ipv6RouteGet(ctx, opts, ns, dst, from && 'address' in from ? from.address : null, oif, fibmatch);
  // Past the first address, every one is of its family.
  const source = from && 'addr' in from ? from : null;
  if (source?.explicitLength && source.prefixLen !== 32) return netlinkError(ctx, fail('EINVAL', 'ipv4: Invalid values in header for route get request'));
  const answer = resolveRoute(ns, dst, source?.addr ?? null, iif, oif, mark);
  if (typeof answer === 'string') return netlinkError(ctx, fail(answer));
  const p = IpPrinter.for(opts);
  if (fibmatch) {
    // RTM_F_FIB_MATCH: the table entry itself.
    if (!answer.route) return netlinkError(ctx, fail('ENETUNREACH'));
    printRoute(p, answer.route.table === RT_TABLE_LOCAL ? { ...answer.route, table: localTableId(ns) } : answer.route, opts);
    ctx.stdout.write(p.finish());
    return 0;
  }
  // `connected` asks again from the source the first answer chose: the same route, printed twice.
  for (let n = connected && from === null ? 2 : 1; n > 0; n--) {
    const { type, via, dev, table, src, cache } = answer;
    p.openObject();
    if (type !== 'unicast' || opts.details) p.string('any', 'type', '%s ', type);
    p.string('any', 'dst', '%s ', formatIpv4(dst), 'inet');
    if (source !== null) p.string('any', 'from', 'from %s ', formatIpv4(source.addr), 'inet');
    if (via !== null) p.string('any', 'gateway', 'via %s ', formatIpv4(via), 'inet');
    p.string('any', 'dev', 'dev %s ', dev.name, 'ifname');
    if (table !== null && (table !== RT_TABLE_MAIN || opts.details)) p.string('any', 'table', 'table %s ', tableName(table));
    // An input route has no preferred source; an output one shows it unless a source was given.
    if (src !== null && from === null && !iif) p.string('any', 'prefsrc', 'src %s ', formatIpv4(src), 'inet');
    p.openArray('flags');
    // RTCF_MULTICAST shares its bit with RTM_F_OFFLOAD_FAILED, which is how iproute2 names it.
    if (type === 'multicast') p.string('any', null, '%s ', 'rt_offload_failed');
    p.closeArray();
    if (mark !== 0) p.number('any', 'mark', mark >= 16 ? 'mark 0x%x ' : 'mark %u ', mark);
    // A route for a packet arriving on `iif` (forwarding) has no socket owner, hence no uid.
    if (!iif) p.number('any', 'uid', 'uid %u ', uid);
    p.fp(opts.oneline ? '\\    cache ' : '\n    cache ');
    p.openArray('cache', cache.length ? `<${cache.join(',')}> ` : '');
    for (const c of cache) p.string('json', null, '', c);
    p.closeArray();
    printMetrics(p, answer.route?.metrics);
    // A learned path MTU: the route exception's remaining life, in whole seconds, and its MTU.
    const exception = type === 'unicast' ? pmtuException(ns, dst) : undefined;
    if (exception) {
      p.number('any', 'expires', 'expires %usec ', Math.floor((exception.expiresUs - ctx.world.now) / 1e6));
      p.number('any', 'mtu', 'mtu %u ', exception.mtu);
    }
    if (iif) p.string('any', 'iif', 'iif %s ', iif.name, 'ifname');
    p.nl();
    p.closeObject();
  }
  ctx.stdout.write(p.finish());
  return 0;
}

/**
 * `ip -6 route get`: the route a packet from this host takes (ip6_route_output),
 * with the source it would choose; our own addresses and multicast groups
 * are the local table's.
 */
function ipv6RouteGet(ctx: ProcContext, opts: IpOptions, ns: NetNs, dst: Ipv6, from: Ipv6 | null, oif: Device | null, fibmatch: boolean): number {
  const res = fib6Lookup(ns, dst, oif);
  if (typeof res === 'string') return netlinkError(ctx, fail(res));
  const route: Ipv6Route | undefined = res.route ? { ...res.route, table: RT_TABLE_MAIN } : localRoutes6(ns).find((r) => r.type === res.type && (r.type === 'multicast' ? r.dev === res.dev : r.dst === dst));
  const p = IpPrinter.for(opts);
  if (fibmatch) {
    if (!route) return netlinkError(ctx, fail('ENETUNREACH'));
    printIpv6Route(p, route, opts, NO_FILTER);
    ctx.stdout.write(p.finish());
    return 0;
  }
  const local = res.type !== 'unicast';
  p.openObject();
  if (local) p.string('any', 'type', '%s ', res.type);
  p.string('any', 'dst', '%s ', dst, 'inet6');
  p.string('any', 'from', 'from %s ', from ?? IPV6_ANY, 'inet6');
  if (res.route?.gateway) p.string('any', 'gateway', 'via %s ', res.route.gateway, 'inet6');
  p.string('any', 'dev', 'dev %s ', res.dev.name, 'ifname');
  if (local) p.string('any', 'table', 'table %s ', tableName(RT_TABLE_LOCAL));
  const proto = local ? 'kernel' : (res.route?.proto ?? 'boot');
  if (proto !== 'boot') p.string('any', 'protocol', 'proto %s ', proto);
  const src = res.type === 'local' ? dst : (from ?? selectSource6(ns, res.dev, dst));
  if (src !== null) p.string('any', 'prefsrc', 'src %s ', src, 'inet6');
  p.number('any', 'metric', 'metric %u ', route?.metric ?? 0);
  p.openArray('flags');
  p.closeArray();
  p.string('any', 'pref', 'pref %s', 'medium');
  p.nl();
  p.closeObject();
  ctx.stdout.write(p.finish());
  return 0;
}

/** The table a lookup reports the local table's routes as: merged into main until policy rules first change (fib_unmerge). */
function localTableId(ns: NetNs): number {
  return ns.customRules ? RT_TABLE_LOCAL : RT_TABLE_MAIN;
}

interface RouteAnswer {
  type: RouteType;
  /** The table entry the answer came from (none for a device forced by oif). */
  route: Route | null;
  via: number | null;
  dev: Device;
  table: number | null;
  src: number | null;
  /** The RTCF flags `cache <...>` shows. */
  cache: string[];
}

/** ip_route_output_key (or ip_route_input with `iif`): the route a packet to `dst` is given, or the errno. */
function resolveRoute(ns: NetNs, dst: number, from: number | null, iif: Device | null, oif: Device | null, mark: number): RouteAnswer | Errno {
  if (iif) {
    // ip_route_input: a multicast group not joined here, or a martian, is refused.
    if ((isMulticast(dst) && dst !== ALL_HOSTS) || inputMartian(iif, from ?? 0, dst)) return 'EINVAL';
  } else if (from !== null && from !== 0) {
    // An output route's source must be a broadcast-free unicast address of ours.
    if (isMulticast(from) || from === 0xffffffff || from >>> 24 === 0) return 'EINVAL';
    if (!isLocalAddress(ns, from)) return 'ENETUNREACH';
  }
  const lo = ns.device('lo')!;
  // No destination: the packet loops back to us.
  if (dst === 0 && !iif) return { type: 'local', route: null, via: null, dev: lo, table: null, src: from || LOOPBACK_ADDRESS, cache: ['local'] };
  const sourceRejected = (out: Device | null) => iif !== null && from !== null && !fibValidateSource(iif, from, dst, out);
  const looked = fibResolve(ns, dst, oif, { src: from, iif, mark });
  const res = typeof looked === 'string' ? null : looked;
  if (res?.type === 'local') {
    // One of our own addresses, from the local table (whose rule may be gone) or a local route elsewhere.
    if (sourceRejected(null)) return 'EINVAL';
    const route = res.route ?? localTableRoutes(ns).filter((r) => r.type === 'local' && inPrefix(dst, r.dst, r.prefixLen)).sort((x, y) => y.prefixLen - x.prefixLen)[0] ?? null;
    return { type: 'local', route, via: null, dev: lo, table: localTableId(ns), src: res.prefsrc, cache: ['local'] };
  }
  const broadcastOn = dst === 0xffffffff ? ns.sortedDevices().find((d) => d.adminUp && d.kind.name !== 'loopback' && d.ipv4.length > 0) : res?.dev?.ipv4.find((a) => a.prefixLen < 31 && inPrefix(dst, a.local, a.prefixLen) && ((dst | prefixMask(a.prefixLen)) >>> 0) === 0xffffffff) ? res!.dev! : undefined;
  const broadcastRoute = localTableRoutes(ns).find((r) => r.type === 'broadcast' && r.dst === dst) ?? null;
  // A broadcast coming in is delivered here, by lo.
  if (broadcastOn) return { type: 'broadcast', route: broadcastRoute, via: null, dev: iif ? lo : broadcastOn, table: localTableId(ns), src: res?.prefsrc ?? broadcastOn.ipv4[0]?.local ?? null, cache: ['local', 'brd'] };
  if (typeof looked === 'string') return looked;
  const { type, route, dev, nexthop, prefsrc } = looked;
  if (type !== 'unicast' || !dev) return 'EINVAL';
  if (iif && !ns.sysctl.forwardingOn(iif.name)) return 'EHOSTUNREACH';
  if (sourceRejected(dev)) return 'EINVAL';
  // __mkroute_output: a loopback source never leaves by another device.
  if (!iif && from !== null && isLoopback(from) && dev.kind.name !== 'loopback') return 'EINVAL';
  if (isMulticast(dst) && !iif) {
    // __mkroute_output: a multicast route has no gateway; it is also local when the device has joined the group (all-hosts, on every up device).
    return { type: 'multicast', route, via: null, dev, table: route?.table ?? null, src: prefsrc, cache: dst === ALL_HOSTS ? ['local', 'mc'] : ['mc'] };
  }
  // The gateway shows even when it is the destination itself.
  const gateway = route ? firstHop(route).gateway : null;
  const via = gateway !== null && nexthop === gateway ? nexthop : null;
  const redirect = iif === dev && from !== null && redirectable(dev, from);
  return { type, route, via, dev, table: route?.table ?? null, src: prefsrc, cache: redirect ? ['redirect'] : [] };
}

const ALL_HOSTS = 0xe0000001;

function routeFlush(ctx: ProcContext, opts: IpOptions, ns: NetNs, args: string[]): number {
  if (args.length === 0) {
    ctx.stderr.write('"ip route flush" requires arguments.\n');
    return 1;
  }
  const r = parseRouteSelectors(ctx, opts, ns, args);
  if (r.cloned) {
    // iproute_flush_cache: writing to /proc/sys/net/ipv4/route/flush empties the routing cache, learned path MTUs included (rt_cache_flush).
    if (opts.family !== 'inet6') ns.pmtuExceptions.clear();
    if (opts.stats && opts.family !== 'inet6') ctx.stdout.write('*** IPv4 routing cache is flushed.\n');
    return 0;
  }
  if (opts.family !== 'inet6') filterRoutes(ns, (route) => !selected(route, r));
  if (withIpv6(opts, r)) {
    // Only the main table's routes can go; the local table's follow the addresses.
    if (r.table === RT_TABLE_MAIN || r.table === 'all') flushRoutes6(ns, (route) => ipv6Selected({ ...route, table: RT_TABLE_MAIN }, r));
  }
  return 0;
}

export function ipRoute(ctx: ProcContext, opts: IpOptions, args: string[]): number {
  const ns = opts.ns;
  const cmd = args[0];
  const rest = args.slice(1);
  try {
    if (cmd === undefined) return routeShow(ctx, opts, ns, []);
    if (matches(cmd, 'add')) return routeModify(ctx, opts, ns, 'add', rest);
    if (matches(cmd, 'change') || cmd === 'chg') return routeModify(ctx, opts, ns, 'change', rest);
    if (matches(cmd, 'replace')) return routeModify(ctx, opts, ns, 'replace', rest);
    if (matches(cmd, 'prepend')) return routeModify(ctx, opts, ns, 'prepend', rest);
    if (matches(cmd, 'append')) return routeModify(ctx, opts, ns, 'append', rest);
    if (matches(cmd, 'test')) return routeModify(ctx, opts, ns, 'test', rest);
    if (matches(cmd, 'delete')) return routeModify(ctx, opts, ns, 'delete', rest);
    if (matches(cmd, 'list') || matches(cmd, 'show') || matches(cmd, 'lst')) return routeShow(ctx, opts, ns, rest);
    if (matches(cmd, 'get')) return routeGet(ctx, opts, ns, rest);
    if (matches(cmd, 'flush')) return routeFlush(ctx, opts, ns, rest);
    if (matches(cmd, 'help')) fatal(ctx, ROUTE_USAGE);
    fatal(ctx, `Command "${cmd}" is unknown, try "ip route help".`);
  } catch (e) {
    if (e instanceof RouteDone) return e.code;
    throw e;
  }
}
