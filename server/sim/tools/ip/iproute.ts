// `ip route`: show, add, delete, replace, get and flush routes (iproute2 ip/iproute.c).
import { formatIpv4, inPrefix, prefixMask } from '../../kernel/addr';
import { fail, type KResult } from '../../kernel/errno';
import { addRoute, deleteRoute, fibResolve, fibValidateSource, filterRoutes, linkdownIgnored, sortedRoutes, RT_TABLE_DEFAULT, RT_TABLE_LOCAL, RT_TABLE_MAIN, type AddMode, type Route, type RouteType } from '../../kernel/fib';
import type { Device } from '../../kernel/device';
import type { NetNs } from '../../kernel/netns';
import type { ProcContext } from '../process';
import type { IpOptions } from './ip';
import { IpPrinter } from './print';
import { ipRoute6, isRoute6Command, printAllRoutes6 } from './iproute6';
import { duparg2, fatal, invarg, matches, netlinkError, nextArg, parseIpv4Loose, parseIpv4Prefix } from './utils';

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

const ROUTE_TYPES: RouteType[] = ['unicast', 'local', 'blackhole', 'unreachable', 'prohibit', 'throw'];

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
const PROTO_NUMBERS: Record<string, number> = { kernel: 2, boot: 3, static: 4, dhcp: 16 };
const SCOPE_NUMBERS: Record<string, number> = { global: 0, site: 200, link: 253, host: 254, nowhere: 255 };

/** What a listing's filter already says, so print_route leaves it out. */
export interface RouteFilter {
  dev: boolean;
  proto: boolean;
  scope: boolean;
  /** A single table was asked for (all but `table all`). */
  table: boolean;
}

const NO_FILTER: RouteFilter = { dev: false, proto: false, scope: false, table: false };

/** print_route: -d adds the type, proto and scope that are otherwise left out as defaults. */
export function printRoute(p: IpPrinter, route: Route, opts: Pick<IpOptions, 'details' | 'numeric'>, filter: RouteFilter = NO_FILTER): void {
  const proto = opts.numeric ? String(PROTO_NUMBERS[route.proto] ?? route.proto) : route.proto;
  const scope = opts.numeric ? String(SCOPE_NUMBERS[route.scope] ?? route.scope) : route.scope;
  p.openObject();
  if (route.type !== 'unicast' || opts.details) p.string('any', 'type', '%s ', route.type);
  const dst = dstText(route);
  p.string('any', 'dst', '%s ', dst, dst === 'default' ? null : 'inet');
  if (route.gateway !== null) p.string('any', 'gateway', 'via %s ', formatIpv4(route.gateway), 'inet');
  if (route.dev && !filter.dev) p.string('any', 'dev', 'dev %s ', route.dev.name, 'ifname');
  if ((route.table !== RT_TABLE_MAIN || opts.details) && !filter.table) p.string('any', 'table', 'table %s ', tableName(route.table));
  if ((route.proto !== 'boot' || opts.details) && !filter.proto) p.string('any', 'protocol', 'proto %s ', proto);
  if ((route.scope !== 'global' || opts.details) && !filter.scope) p.string('any', 'scope', 'scope %s ', scope);
  if (route.prefsrc !== null) p.string('any', 'prefsrc', 'src %s ', formatIpv4(route.prefsrc), 'inet');
  if (route.metric !== 0) p.number('any', 'metric', 'metric %u ', route.metric);
  p.openArray('flags');
  if (route.dev && linkdownIgnored(route.dev)) p.string('any', null, '%s ', 'dead');
  if (route.onlink) p.string('any', null, '%s ', 'onlink');
  if (route.dev && route.dev.adminUp && !route.dev.carrier) p.string('any', null, '%s ', 'linkdown');
  p.closeArray();
  p.nl();
  p.closeObject();
}

interface RouteArgs {
  type: RouteType | null;
  dst: { addr: number; prefixLen: number } | null;
  gateway: number | null;
  dev: Device | null;
  devName: string | null;
  metric: number | null;
  proto: string | null;
  scope: Route['scope'] | null;
  prefsrc: number | null;
  /** A table id, or `all` (listings only). */
  table: number | 'all' | null;
  onlink: boolean;
  /** `root P` (within P), `match P` (covering P), `exact P` selectors of `ip route show`. */
  root: { addr: number; prefixLen: number } | null;
  match: { addr: number; prefixLen: number } | null;
}

function parseRouteArgs(ctx: ProcContext, opts: IpOptions, ns: NetNs, args: string[], forShow: boolean): RouteArgs {
  const r: RouteArgs = { type: null, dst: null, gateway: null, dev: null, devName: null, metric: null, proto: null, scope: null, prefsrc: null, table: null, onlink: false, root: null, match: null };
  for (let i = 0; i < args.length; i++) {
    let a = args[i]!;
    if (a === 'src') {
      const v = nextArg(ctx, args, i++);
      const addr = parseIpv4Loose(v);
      if (addr === null) fatal(ctx, `Error: inet address is expected rather than "${v}".`, 1);
      r.prefsrc = addr;
    } else if (a === 'via') {
      let v = nextArg(ctx, args, i++);
      if (v === 'inet') v = nextArg(ctx, args, i++);
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
    } else if (a === 'proto' || a === 'protocol') {
      const v = nextArg(ctx, args, i++);
      if (!['kernel', 'boot', 'static', 'dhcp', 'ra', 'redirect'].includes(v) && !/^\d+$/.test(v)) invarg(ctx, '"protocol" value is invalid\n', v);
      r.proto = v;
    } else if (a === 'table') {
      const v = nextArg(ctx, args, i++);
      const id = parseTableId(v);
      if (id !== null) r.table = id;
      else if (forShow && v === 'all') r.table = 'all';
      else if (forShow) invarg(ctx, 'table id value is invalid\n', v);
      else invarg(ctx, '"table" value is invalid\n', v);
    } else if (forShow && a === 'type') {
      const v = nextArg(ctx, args, i++);
      if (!ROUTE_TYPES.includes(v as RouteType)) invarg(ctx, 'node type value is invalid\n', v);
      r.type = v as RouteType;
    } else if (forShow && (a === 'root' || a === 'match' || a === 'exact')) {
      const v = nextArg(ctx, args, i++);
      const prefix = parseIpv4Prefix(v);
      if (!prefix) fatal(ctx, `Error: ${opts.family ?? 'any valid'} prefix is expected rather than "${v}".`, 1);
      const sel = { addr: prefix.addr, prefixLen: prefix.prefixLen };
      if (a === 'root') r.root = sel;
      else if (a === 'match') r.match = sel;
      else r.dst = sel;
    }
    else if (a === 'dev' || a === 'oif') r.devName = nextArg(ctx, args, i++);
    else if (a === 'onlink') r.onlink = true;
    else if (a === 'tos' || a === 'dsfield' || matches(a, 'mtu') || a === 'expires' || a === 'pref') nextArg(ctx, args, i++);
    else {
      if (a === 'to') a = nextArg(ctx, args, i++);
      if (!/^\d/.test(a) && ROUTE_TYPES.includes(a as RouteType) && !forShow) {
        r.type = a as RouteType;
        a = nextArg(ctx, args, i++);
      }
      if (matches(a, 'help')) fatal(ctx, ROUTE_USAGE);
      if (r.dst !== null) duparg2(ctx, 'to', a);
      const prefix = parseIpv4Prefix(a);
      if (!prefix) fatal(ctx, `Error: ${opts.family ?? 'any valid'} prefix is expected rather than "${a}".`, 1);
      r.dst = { addr: prefix.addr, prefixLen: prefix.prefixLen };
    }
  }
  if (r.devName !== null) {
    const dev = ns.device(r.devName);
    if (!dev) {
      ctx.stderr.write(`Cannot find device "${r.devName}"\n`);
      throw new RouteDone(1);
    }
    r.dev = dev;
  }
  return r;
}

class RouteDone {
  constructor(readonly code: number) {}
}

function routeModify(ctx: ProcContext, opts: IpOptions, ns: NetNs, mode: AddMode | 'delete', args: string[]): number {
  const r = parseRouteArgs(ctx, opts, ns, args, false);
  if (r.dst === null) fatal(ctx, ROUTE_USAGE);
  const table = typeof r.table === 'number' ? r.table : null;
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
      },
      mode,
    );
  }
  return result.ok ? 0 : netlinkError(ctx, result);
}

function routeShow(ctx: ProcContext, opts: IpOptions, ns: NetNs, args: string[]): number {
  const r = parseRouteArgs(ctx, opts, ns, args, true);
  const p = IpPrinter.for(opts);
  const tableMissing = () => {
    ctx.stderr.write('Error: ipv4: FIB table does not exist.\nDump terminated\n');
    return 2;
  };
  if (r.table === RT_TABLE_LOCAL) {
    if (!ns.localTableExists) return tableMissing();
    printLocalTable(p, ns, false);
    ctx.stdout.write(p.finish());
    return 0;
  }
  const tableId = r.table ?? RT_TABLE_MAIN;
  if (tableId !== 'all' && !ns.tables.has(tableId)) return tableMissing();
  const routes = tableId === 'all' ? dumpOrder(ns) : sortedRoutes(ns, tableId);
  const filter: RouteFilter = { dev: r.dev !== null, proto: r.proto !== null, scope: r.scope !== null, table: r.table !== 'all' };
  for (const route of routes) {
    if (!selected(route, r)) continue;
    if (r.gateway !== null && route.gateway !== r.gateway) continue;
    if (r.scope !== null && route.scope !== r.scope) continue;
    if (r.root && !(route.prefixLen >= r.root.prefixLen && inPrefix(route.dst, r.root.addr, r.root.prefixLen))) continue;
    if (r.match && !(route.prefixLen <= r.match.prefixLen && inPrefix(r.match.addr, route.dst, route.prefixLen))) continue;
    if (r.dst && !(route.dst === r.dst.addr && route.prefixLen === r.dst.prefixLen)) continue;
    printRoute(p, route, opts, filter);
  }
  if (r.table === 'all' && ns.localTableExists) printLocalTable(p, ns, true);
  if (r.table === 'all' && opts.family === null) printAllRoutes6(p, ns, r.dev);
  ctx.stdout.write(p.finish());
  return 0;
}

/**
 * Every table's routes as a dump walks them: by hash bucket (the id's low
 * byte), a bucket's newest table first; the local table is printed apart.
 */
function dumpOrder(ns: NetNs): Route[] {
  const ids = [...ns.tables.keys()].map((id, created) => ({ id, created }));
  ids.sort((a, b) => (a.id & 0xff) - (b.id & 0xff) || b.created - a.created);
  return ids.flatMap(({ id }) => sortedRoutes(ns, id));
}

/** The selectors `ip route show` and `flush` share: table (main unless named), type, device and protocol. */
function selected(route: Route, r: RouteArgs): boolean {
  return (
    (r.table === 'all' || route.table === (r.table ?? RT_TABLE_MAIN)) &&
    (r.type === null || route.type === r.type) &&
    (r.dev === null || route.dev === r.dev) &&
    (r.proto === null || route.proto === r.proto)
  );
}

/** The local table as the kernel keeps it: a local entry per address (secondaries take their primary's source) and the subnet broadcasts. */
function printLocalTable(p: IpPrinter, ns: NetNs, annotate: boolean): void {
  const table = annotate ? 'table local ' : '';
  const rows = new Map<string, { key: number; len: number; text: string }>();
  const add = (key: number, len: number, text: string) => {
    if (!rows.has(`${key}/${len}/${text.split(' ')[0]}`)) rows.set(`${key}/${len}/${text.split(' ')[0]}`, { key, len, text });
  };
  for (const dev of ns.sortedDevices()) {
    if (!dev.adminUp) continue;
    for (const a of dev.ipv4) {
      const primary = a.secondary ? dev.ipv4.find((x) => !x.secondary && x.prefixLen === a.prefixLen && inPrefix(a.local, x.local, x.prefixLen)) ?? a : a;
      const net = (a.local & prefixMask(a.prefixLen)) >>> 0;
      const bcast = (net | (~prefixMask(a.prefixLen) >>> 0)) >>> 0;
      const v4 = (addr: number, len = 32) => p.paint('inet', `${formatIpv4(addr)}${len === 32 ? '' : `/${len}`} `);
      const tail = (scope: string) => `dev ${p.paint('ifname', `${dev.name} `)}${table}proto kernel scope ${scope} src ${v4(primary.local)}`;
      if (dev.kind.name === 'loopback' && a.prefixLen < 32) add(net, a.prefixLen, `local ${v4(net, a.prefixLen)}${tail('host')}`);
      add(a.local, 32, `local ${v4(a.local)}${tail('host')}`);
      if (a.broadcast !== null && a.broadcast !== bcast) add(a.broadcast, 32, `broadcast ${v4(a.broadcast)}${tail('link')}`);
      if (a.prefixLen < 31) add(bcast, 32, `broadcast ${v4(bcast)}${tail('link')}${dev.carrier ? '' : 'linkdown '}`);
    }
  }
  for (const row of [...rows.values()].sort((x, y) => x.key - y.key || x.len - y.len)) p.fp(row.text + '\n');
}

function routeGet(ctx: ProcContext, opts: IpOptions, ns: NetNs, args: string[]): number {
  let target: string | null = null;
  let oif: Device | null = null;
  let from: number | null = null;
  let iif: Device | null = null;
  let mark = 0;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === 'oif' || a === 'dev') {
      const name = nextArg(ctx, args, i++);
      oif = ns.device(name) ?? null;
      if (!oif) {
        ctx.stderr.write(`Cannot find device "${name}"\n`);
        return 1;
      }
    } else if (a === 'from') {
      const v = nextArg(ctx, args, i++);
      from = parseIpv4Loose(v);
      if (from === null) fatal(ctx, `Error: inet address is expected rather than "${v}".`, 1);
    } else if (a === 'iif') {
      const name = nextArg(ctx, args, i++);
      iif = ns.device(name) ?? null;
      if (!iif) {
        ctx.stderr.write(`Cannot find device "${name}"\n`);
        return 1;
      }
    } else if (a === 'mark') {
      const v = nextArg(ctx, args, i++);
      mark = parseU32(v) ?? invarg(ctx, 'invalid mark value\n', v);
    } else if (a === 'tos' || a === 'uid' || a === 'ipproto' || a === 'sport' || a === 'dport') nextArg(ctx, args, i++);
    else if (a === 'fibmatch' || a === 'connected') continue;
    else target = a === 'to' ? nextArg(ctx, args, i++) : a;
  }
  if (target === null) {
    ctx.stderr.write('need at least a destination address\n');
    return 1;
  }
  const prefix = parseIpv4Prefix(target, false);
  if (!prefix) fatal(ctx, `Error: ${opts.family ?? 'any valid'} prefix is expected rather than "${target}".`, 1);
  if (prefix.explicitLength && prefix.prefixLen !== 32) ctx.stderr.write(`Warning: /${prefix.prefixLen} as prefix is invalid, only /32 (or none) is supported.\n`);
  const dst = prefix.addr;
  const p = IpPrinter.for(opts);
  p.openObject();
  const print = (type: RouteType | 'broadcast', via: number | null, dev: string, table: number | null, src: number | null, cache: string[]) => {
    if (type !== 'unicast' || opts.details) p.string('any', 'type', '%s ', type);
    p.string('any', 'dst', '%s ', formatIpv4(dst), 'inet');
    if (from !== null) p.string('any', 'from', 'from %s ', formatIpv4(from), 'inet');
    if (via !== null) p.string('any', 'gateway', 'via %s ', formatIpv4(via), 'inet');
    p.string('any', 'dev', 'dev %s ', dev, 'ifname');
    if (table !== null && (table !== RT_TABLE_MAIN || opts.details)) p.string('any', 'table', 'table %s ', tableName(table));
    if (src !== null && from === null) p.string('any', 'prefsrc', 'src %s ', formatIpv4(src), 'inet');
    if (mark !== 0) p.number('any', 'mark', 'mark %u ', mark);
    p.openArray('flags');
    p.closeArray();
    // A route for a packet arriving on `iif` (forwarding) has no socket owner, hence no uid.
    if (!iif) p.number('any', 'uid', 'uid %u ', 0);
    p.fp('\n    cache ');
    p.openArray('cache', cache.length ? `<${cache.join(',')}> ` : '');
    for (const c of cache) p.string('json', null, '', c);
    p.closeArray();
    if (iif) p.string('any', 'iif', 'iif %s ', iif.name, 'ifname');
    p.nl();
  };
  // ip_route_input: a zero source is martian before any lookup, and the source must pass rp_filter; this kernel answers EINVAL for either.
  if (iif && from === null) return netlinkError(ctx, fail('EINVAL'));
  const sourceRejected = (out: Device | null) => iif !== null && from !== null && !fibValidateSource(iif, from, dst, out);
  const looked = fibResolve(ns, dst, oif, { src: from, iif, mark });
  const res = typeof looked === 'string' ? null : looked;
  // The local table's answer (its rule may be gone): one of our own addresses.
  if (res?.type === 'local' && res.route === null) {
    if (sourceRejected(null)) return netlinkError(ctx, fail('EINVAL'));
    const lo = ns.device('lo');
    const src = dst >>> 24 === 127 && !lo?.ipv4.some((a) => a.local === dst) ? (parseIpv4Loose('127.0.0.1') as number) : dst;
    print('local', null, 'lo', null, src, ['local']);
  } else {
    const broadcastOn = dst === 0xffffffff ? ns.sortedDevices().find((d) => d.adminUp && d.kind.name !== 'loopback' && d.ipv4.length > 0) : res?.dev?.ipv4.find((a) => a.prefixLen < 31 && inPrefix(dst, a.local, a.prefixLen) && ((dst | prefixMask(a.prefixLen)) >>> 0) === 0xffffffff) ? res!.dev! : undefined;
    if (broadcastOn) {
      print('broadcast', null, broadcastOn.name, null, res?.prefsrc ?? broadcastOn.ipv4[0]?.local ?? null, ['local', 'brd']);
    } else {
      if (typeof looked === 'string') return netlinkError(ctx, fail(looked));
      const { type, route, dev, nexthop, prefsrc } = looked;
      if (type !== 'unicast' || !dev) return netlinkError(ctx, fail('EINVAL'));
      if (iif && !ns.sysctl.forwardingOn(iif.name)) return netlinkError(ctx, fail('EHOSTUNREACH'));
      if (sourceRejected(dev)) return netlinkError(ctx, fail('EINVAL'));
      // The gateway shows even when it is the destination itself.
      const via = route?.gateway != null && nexthop === route.gateway ? nexthop : null;
      print(type, via, dev.name, route?.table ?? null, prefsrc, []);
    }
  }
  p.closeObject();
  ctx.stdout.write(p.finish());
  return 0;
}

function formatIpv4ToNum(text: string): number {
  return parseIpv4Loose(text)!;
}

function routeFlush(ctx: ProcContext, opts: IpOptions, ns: NetNs, args: string[]): number {
  const r = parseRouteArgs(ctx, opts, ns, args, true);
  if (args.length === 0) {
    ctx.stderr.write('"ip route flush" requires arguments.\n');
    return 1;
  }
  filterRoutes(ns, (route) => !(selected(route, r) && (!r.dst || r.dst.prefixLen === 0 || inPrefix(route.dst, r.dst.addr, r.dst.prefixLen))));
  return 0;
}

export function ipRoute(ctx: ProcContext, opts: IpOptions, args: string[]): number {
  const ns = opts.ns;
  const cmd = args[0];
  const rest = args.slice(1);
  if (isRoute6Command(opts, rest)) {
    const code = ipRoute6(ctx, opts, cmd, rest);
    if (code >= 0) return code;
  }
  try {
    if (cmd === undefined) return routeShow(ctx, opts, ns, []);
    if (matches(cmd, 'add')) return routeModify(ctx, opts, ns, 'add', rest);
    if (matches(cmd, 'change') || cmd === 'chg') return routeModify(ctx, opts, ns, 'change', rest);
    if (matches(cmd, 'replace')) return routeModify(ctx, opts, ns, 'replace', rest);
    if (matches(cmd, 'prepend')) return routeModify(ctx, opts, ns, 'prepend', rest);
    if (matches(cmd, 'append')) return routeModify(ctx, opts, ns, 'append', rest);
    if (matches(cmd, 'test')) return 0;
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
