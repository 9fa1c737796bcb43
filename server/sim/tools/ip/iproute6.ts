// `ip -6 route` (and `ip route` given IPv6 addresses): show, add, delete and
// get IPv6 routes, in the formats iproute2 prints for the inet6 family.
import { compareIpv6, IPV6_ANY, type Ipv6 } from '../../kernel/addr';
import { IFF_MULTICAST, type Device } from '../../kernel/device';
import { fail } from '../../kernel/errno';
import { addRoute6, deleteRoute6, dumpRoutes6, fib6Lookup, flushRoutes6, selectSource6, type Route6, type Route6Type } from '../../kernel/ipv6';
import type { NetNs } from '../../kernel/netns';
import type { ProcContext } from '../process';
import type { IpOptions } from './ip';
import type { RouteFilter } from './iproute';
import { IpPrinter } from './print';
import { fatal, invarg, matches, netlinkError, nextArg, parseIpv6Prefix } from './utils';

const TYPES: Route6Type[] = ['unicast', 'blackhole', 'unreachable', 'prohibit'];

interface Route6Args {
  /** The type named (the listing's `type` selector, or a route's own); null when none was. */
  type: Route6Type | null;
  /** `get … from ADDRESS`. */
  from: Ipv6 | null;
  dst: { address: Ipv6; prefixLen: number } | null;
  gateway: Ipv6 | null;
  dev: Device | null;
  metric: number | null;
  proto: string | null;
  table: string | null;
}

/** A route as listed: the local table's have types of their own, and say their table when several are listed. */
type ListedRoute = Omit<Route6, 'type'> & { type: Route6Type | 'local' | 'multicast'; localTable?: boolean };

class Done {
  constructor(readonly code: number) {}
}

function parseArgs(ctx: ProcContext, ns: NetNs, args: string[], forShow: boolean): Route6Args {
  const r: Route6Args = { type: null, from: null, dst: null, gateway: null, dev: null, metric: null, proto: null, table: null };
  for (let i = 0; i < args.length; i++) {
    let a = args[i]!;
    if (a === 'via') {
      let v = nextArg(ctx, args, i++);
      if (v === 'inet6') v = nextArg(ctx, args, i++);
      const gw = parseIpv6Prefix(v);
      if (!gw || v.includes('/')) fatal(ctx, `Error: inet6 address is expected rather than "${v}".`, 1);
      r.gateway = gw.address;
    } else if (a === 'from') {
      const v = nextArg(ctx, args, i++);
      const from = parseIpv6Prefix(v);
      if (!from) fatal(ctx, `Error: inet6 prefix is expected rather than "${v}".`, 1);
      r.from = from.address;
    } else if (a === 'dev' || a === 'oif') {
      const name = nextArg(ctx, args, i++);
      r.dev = ns.device(name) ?? null;
      if (!r.dev) {
        ctx.stderr.write(`Cannot find device "${name}"\n`);
        throw new Done(1);
      }
    } else if (matches(a, 'metric') || matches(a, 'priority') || a === 'preference') {
      const v = nextArg(ctx, args, i++);
      if (!/^\d+$/.test(v)) invarg(ctx, '"metric" value is invalid\n', v);
      r.metric = Number(v);
    } else if (a === 'proto' || a === 'protocol') r.proto = nextArg(ctx, args, i++);
    else if (a === 'table') r.table = nextArg(ctx, args, i++);
    else if (a === 'onlink' || a === 'pref' || a === 'src' || a === 'scope' || matches(a, 'mtu') || a === 'expires') {
      if (a !== 'onlink') nextArg(ctx, args, i++);
    } else {
      if (a === 'to') a = nextArg(ctx, args, i++);
      if (!forShow && TYPES.includes(a as Route6Type)) {
        r.type = a as Route6Type;
        a = nextArg(ctx, args, i++);
      }
      const prefix = a === 'default' || a === 'all' ? { address: IPV6_ANY, prefixLen: 0 } : parseIpv6Prefix(a);
      if (!prefix) fatal(ctx, `Error: inet6 prefix is expected rather than "${a}".`, 1);
      r.dst = prefix;
    }
  }
  return r;
}

function dstText(route: { dst: Ipv6; prefixLen: number }): string {
  if (route.prefixLen === 0) return 'default';
  return route.prefixLen === 128 ? route.dst : `${route.dst}/${route.prefixLen}`;
}

/** print_route for inet6: the type unless unicast, the device, the protocol unless boot, the metric and the preference; what the listing selected on is left out. */
function printRoute6(p: IpPrinter, route: ListedRoute, filter: Pick<RouteFilter, 'dev' | 'proto' | 'table'>): void {
  p.openObject();
  if (route.type !== 'unicast') p.string('any', 'type', '%s ', route.type);
  const dst = dstText(route);
  p.string('any', 'dst', '%s ', dst, dst === 'default' ? null : 'inet6');
  if (route.gateway !== null) p.string('any', 'gateway', 'via %s ', route.gateway, 'inet6');
  if (route.dev && !filter.dev) p.string('any', 'dev', 'dev %s ', route.dev.name, 'ifname');
  if (route.localTable && !filter.table) p.string('any', 'table', 'table %s ', 'local');
  if (route.proto !== 'boot' && !filter.proto) p.string('any', 'protocol', 'proto %s ', route.proto);
  p.number('any', 'metric', 'metric %u ', route.metric);
  p.openArray('flags');
  if (route.dev && route.dev.adminUp && !route.dev.carrier) p.string('any', null, '%s ', 'linkdown');
  p.closeArray();
  p.string('any', 'pref', 'pref %s', 'medium');
  p.nl();
  p.closeObject();
}

/**
 * The local table: a local route for each usable address (::1 on lo, the
 * others on their device), then ff00::/8 on every running multicast device.
 */
function localRoutes(ns: NetNs): ListedRoute[] {
  const locals: ListedRoute[] = [];
  const multicast: ListedRoute[] = [];
  for (const dev of ns.sortedDevices()) {
    if (!dev.adminUp) continue;
    for (const a of dev.ipv6) if (!a.tentative) locals.push({ type: 'local', dst: a.address, prefixLen: 128, gateway: null, dev, proto: 'kernel', metric: 0, localTable: true });
    if (dev.flags & IFF_MULTICAST) multicast.push({ type: 'multicast', dst: 'ff00::', prefixLen: 8, gateway: null, dev, proto: 'kernel', metric: 256, localTable: true });
  }
  locals.sort((a, b) => compareIpv6(a.dst, b.dst));
  return [...locals, ...multicast];
}

/** The routes of a table (main unless named; `all`: main, then local). */
function tableRoutes(ns: NetNs, table: string | null): ListedRoute[] {
  if (table === 'local') return localRoutes(ns);
  return table === 'all' ? [...dumpRoutes6(ns), ...localRoutes(ns)] : dumpRoutes6(ns);
}

function show(ctx: ProcContext, opts: IpOptions, ns: NetNs, args: string[]): number {
  const r = parseArgs(ctx, ns, args, true);
  const p = IpPrinter.for(opts);
  printRoutes6(p, ns, r);
  ctx.stdout.write(p.finish());
  return 0;
}

function printRoutes6(p: IpPrinter, ns: NetNs, r: Pick<Route6Args, 'table' | 'dev' | 'dst' | 'proto'>): void {
  for (const route of tableRoutes(ns, r.table)) {
    if (r.dev && route.dev !== r.dev) continue;
    if (r.dst && !(route.dst === r.dst.address && route.prefixLen === r.dst.prefixLen)) continue;
    if (r.proto && route.proto !== r.proto) continue;
    printRoute6(p, route, { dev: r.dev !== null, proto: r.proto !== null, table: r.table !== 'all' });
  }
}

/** `ip route show table all` without a family: the IPv6 tables follow the IPv4 ones. */
export function printAllRoutes6(p: IpPrinter, ns: NetNs, dev: Device | null): void {
  printRoutes6(p, ns, { table: 'all', dev, dst: null, proto: null });
}

function modify(ctx: ProcContext, ns: NetNs, mode: 'add' | 'replace' | 'delete', args: string[]): number {
  const r = parseArgs(ctx, ns, args, false);
  if (r.dst === null) fatal(ctx, 'Usage: ip route { add | del | change | append | replace } ROUTE');
  const res =
    mode === 'delete'
      ? deleteRoute6(ns, { type: r.type, dst: r.dst.address, prefixLen: r.dst.prefixLen, gateway: r.gateway, dev: r.dev, metric: r.metric })
      : addRoute6(ns, { type: r.type ?? 'unicast', dst: r.dst.address, prefixLen: r.dst.prefixLen, gateway: r.gateway, dev: r.dev, proto: r.proto ?? 'boot', metric: r.metric }, mode === 'replace');
  return res.ok ? 0 : netlinkError(ctx, res);
}

/** `ip -6 route get`: the route a packet from this host takes, with its source; our own addresses through lo in the local table. */
function get(ctx: ProcContext, opts: IpOptions, ns: NetNs, args: string[]): number {
  const r = parseArgs(ctx, ns, args, true);
  if (r.dst === null) {
    ctx.stderr.write('need at least a destination address\n');
    return 1;
  }
  const dst = r.dst.address;
  const res = fib6Lookup(ns, dst, r.dev);
  if (typeof res === 'string') return netlinkError(ctx, fail(res));
  const p = IpPrinter.for(opts);
  p.openObject();
  // The local table answers for our own addresses and for multicast.
  const localTable = res.type !== 'unicast';
  if (localTable) p.string('any', 'type', '%s ', res.type);
  p.string('any', 'dst', '%s ', dst, 'inet6');
  p.string('any', 'from', 'from %s ', r.from ?? IPV6_ANY, 'inet6');
  if (res.route?.gateway) p.string('any', 'gateway', 'via %s ', res.route.gateway, 'inet6');
  p.string('any', 'dev', 'dev %s ', res.dev.name, 'ifname');
  if (localTable) p.string('any', 'table', 'table %s ', 'local');
  const proto = localTable ? 'kernel' : (res.route?.proto ?? 'boot');
  if (proto !== 'boot') p.string('any', 'protocol', 'proto %s ', proto);
  const src = res.type === 'local' ? dst : (r.from ?? selectSource6(ns, res.dev, dst));
  if (src !== null) p.string('any', 'prefsrc', 'src %s ', src, 'inet6');
  p.number('any', 'metric', 'metric %u ', res.route?.metric ?? (res.type === 'multicast' ? 256 : 0));
  p.openArray('flags');
  p.closeArray();
  p.string('any', 'pref', 'pref %s', 'medium');
  p.nl();
  p.closeObject();
  ctx.stdout.write(p.finish());
  return 0;
}

/** Whether an `ip route` command is about IPv6: -6, or an IPv6 address among its arguments. */
export function isRoute6Command(opts: IpOptions, args: string[]): boolean {
  return opts.family === 'inet6' || args.some((a) => parseIpv6Prefix(a) !== null);
}

export function ipRoute6(ctx: ProcContext, opts: IpOptions, cmd: string | undefined, args: string[]): number {
  const ns = opts.ns;
  try {
    if (cmd === undefined || matches(cmd, 'list') || matches(cmd, 'show') || matches(cmd, 'lst')) return show(ctx, opts, ns, args);
    if (matches(cmd, 'add')) return modify(ctx, ns, 'add', args);
    if (matches(cmd, 'replace')) return modify(ctx, ns, 'replace', args);
    if (matches(cmd, 'delete')) return modify(ctx, ns, 'delete', args);
    if (matches(cmd, 'get')) return get(ctx, opts, ns, args);
    if (matches(cmd, 'flush')) {
      const r = parseArgs(ctx, ns, args, true);
      flushRoutes6(ns, (route) => (r.dev === null || route.dev === r.dev) && (r.dst === null || (route.dst === r.dst.address && route.prefixLen === r.dst.prefixLen)));
      return 0;
    }
    return -1;
  } catch (e) {
    if (e instanceof Done) return e.code;
    throw e;
  }
}
