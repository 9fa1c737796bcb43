// `ip neigh`: show, add, replace, delete and flush neighbour entries, proxy ones included.
import { formatIpv4, formatMac, parseIpv6, parseMac, type Ipv4, type Ipv6 } from '../../kernel/addr';
import type { Device } from '../../kernel/device';
import {
  currentState,
  neighDelete,
  neighEntries,
  neighSet,
  nudInTimer,
  nudValid,
  pneighAdd,
  pneighDelete,
  pneighEntries,
  type NeighEntry,
  type NudState,
} from '../../kernel/neigh';
import type { NetNs } from '../../kernel/netns';
import type { KResult } from '../../kernel/errno';
import type { ProcContext } from '../process';
import type { IpOptions } from './ip';
import { IpPrinter } from './print';
import { fatal, matches, netlinkError, nextArg, parseIpv4Loose } from './utils';

const NUD_NAMES: Record<string, NudState> = {
  permanent: 'PERMANENT',
  reachable: 'REACHABLE',
  stale: 'STALE',
  delay: 'DELAY',
  probe: 'PROBE',
  failed: 'FAILED',
  incomplete: 'INCOMPLETE',
  noarp: 'NOARP',
  none: 'NONE',
};

const ALL_STATES = new Set(Object.values(NUD_NAMES));
/** Without `nud`, show leaves out NOARP and NONE entries, and flush leaves PERMANENT and NOARP ones alone. */
const SHOWN_BY_DEFAULT = new Set([...ALL_STATES].filter((s) => s !== 'NOARP' && s !== 'NONE'));
const FLUSHED_BY_DEFAULT = new Set([...ALL_STATES].filter((s) => s !== 'NOARP' && s !== 'PERMANENT'));

/** What neighbour and proxy entries share: where they are. */
type Located = Pick<NeighEntry, 'dev' | 'ip'>;

/** USER_HZ: `ip -s` shows clock ticks divided by it, whole seconds. */
function secondsSince(sinceUs: number, nowUs: number): number {
  return Math.floor((nowUs - sinceUs) / 1_000_000);
}

function neighModify(ctx: ProcContext, opts: IpOptions, mode: 'add' | 'replace' | 'change' | 'delete', args: string[]): number {
  const ns = opts.ns;
  let router = false;
  let dst: string | null = null;
  let devName: string | null = null;
  let lladdr: number | null = null;
  let state: NudState = 'PERMANENT';
  let proxy = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === 'lladdr') {
      const v = nextArg(ctx, args, i++);
      const mac = parseMac(v);
      if (mac === null) fatal(ctx, `"${v.split(':').find((x) => !/^[0-9a-fA-F]{1,2}$/.test(x)) ?? v}" is invalid lladdr.`, 1);
      lladdr = mac;
    } else if (a === 'nud') {
      const v = nextArg(ctx, args, i++);
      const s = NUD_NAMES[v];
      if (!s) fatal(ctx, `Error: argument "${v}" is wrong: nud state is bad`);
      state = s;
    } else if (a === 'dev') devName = nextArg(ctx, args, i++);
    else if (a === 'proxy') {
      proxy = true;
      dst = nextArg(ctx, args, i++);
    } else if (a === 'router') router = true;
    else if (a === 'extern_learn') continue;
    else dst = a === 'to' ? nextArg(ctx, args, i++) : a;
  }
  if (dst === null || devName === null) fatal(ctx, 'Device and destination are required arguments.');
  // get_addr: -4 and -6 take only their family's addresses.
  const addr = (opts.family !== 'inet6' ? parseIpv4Loose(dst) : null) ?? (opts.family !== 'inet' ? parseIpv6(dst) : null);
  if (addr === null) fatal(ctx, `Error: ${opts.family ?? 'any valid'} address is expected rather than "${dst}".`, 1);
  const dev = ns.device(devName);
  if (!dev) {
    ctx.stderr.write(`Cannot find device "${devName}"\n`);
    return 1;
  }
  let r: KResult;
  if (proxy) r = mode === 'delete' ? pneighDelete(dev, addr) : pneighAdd(dev, addr);
  else r = mode === 'delete' ? neighDelete(dev, addr) : neighSet(dev, addr, lladdr, state, mode, router);
  return r.ok ? 0 : netlinkError(ctx, r);
}

function neighShow(ctx: ProcContext, opts: IpOptions, ns: NetNs, args: string[], flush: boolean): number {
  let dev: Device | null = null;
  let dst: Ipv4 | Ipv6 | null = null;
  let nud: Set<NudState> | null = null;
  let proxy = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === 'dev') {
      const name = nextArg(ctx, args, i++);
      dev = ns.device(name) ?? null;
      if (!dev) {
        ctx.stderr.write(`Cannot find device "${name}"\n`);
        return 1;
      }
    } else if (a === 'nud') {
      const v = nextArg(ctx, args, i++);
      if (v === 'all') nud = ALL_STATES;
      else {
        const s = NUD_NAMES[v];
        if (!s) fatal(ctx, `Error: argument "${v}" is wrong: nud state is bad`);
        nud = new Set([...(nud ?? []), s]);
      }
    } else if (a === 'proxy') proxy = true;
    else if (a === 'unused' || a === 'all') continue;
    else {
      const text = a === 'to' ? nextArg(ctx, args, i++) : a;
      const addr = parseIpv4Loose(text) ?? parseIpv6(text);
      if (addr === null) fatal(ctx, `Error: any valid prefix is expected rather than "${a}".`, 1);
      dst = addr;
    }
  }
  // -4 and -6 keep to their family's table.
  const family = (entry: Located) => opts.family === null || opts.family === (typeof entry.ip === 'string' ? 'inet6' : 'inet');
  const selected = (entry: Located) => family(entry) && (!dev || entry.dev === dev) && (dst === null || entry.ip === dst);
  if (flush) {
    if (args.length === 0) {
      ctx.stderr.write('Flush requires arguments.\n');
      return 1;
    }
    const states = nud ?? FLUSHED_BY_DEFAULT;
    for (const entry of neighEntries(ns)) if (selected(entry) && states.has(currentState(entry))) neighDelete(entry.dev, entry.ip);
    return 0;
  }
  const p = IpPrinter.for(opts);
  if (proxy) {
    for (const entry of pneighEntries(ns)) {
      if (!selected(entry)) continue;
      p.openObject();
      printDstDev(p, entry, !dev);
      p.null('proxy', 'proxy ');
      p.nl();
      p.closeObject();
    }
  } else {
    const states = nud ?? SHOWN_BY_DEFAULT;
    for (const entry of neighEntries(ns)) {
      const state = currentState(entry);
      if (!selected(entry) || !states.has(state)) continue;
      p.openObject();
      printNeighbour(p, opts, entry, state, !dev);
      p.closeObject();
    }
  }
  ctx.stdout.write(p.finish());
  return 0;
}

function addressText(ip: Ipv4 | Ipv6): string {
  return typeof ip === 'string' ? ip : formatIpv4(ip);
}

function printDstDev(p: IpPrinter, entry: Located, withDev: boolean): void {
  p.string('any', 'dst', '%s ', addressText(entry.ip), typeof entry.ip === 'string' ? 'inet6' : 'inet');
  if (withDev) p.string('any', 'dev', 'dev %s ', entry.dev.name, 'ifname');
}

/** print_neighbor: the address is there only in a valid state, the state only when not NONE. */
function printNeighbour(p: IpPrinter, opts: IpOptions, entry: NeighEntry, state: NudState, withDev: boolean): void {
  const lladdr = entry.mac !== null && nudValid(state) ? formatMac(entry.mac) : null;
  if (opts.brief) {
    // -br: address, device and lladdr in columns, no state.
    p.string('any', 'dst', '%-39s ', addressText(entry.ip), typeof entry.ip === 'string' ? 'inet6' : 'inet');
    p.string('any', 'dev', '%-16s ', entry.dev.name, 'ifname');
    if (lladdr !== null) p.string('any', 'lladdr', '%s', lladdr, 'mac');
    p.nl();
    return;
  }
  printDstDev(p, entry, withDev);
  if (lladdr !== null) {
    p.fp('lladdr ');
    p.string('any', 'lladdr', '%s ', lladdr, 'mac');
  }
  if (entry.router) p.null('router', 'router ');
  if (opts.stats) {
    const now = entry.dev.ns.host.world.now;
    if (nudInTimer(state)) p.number('any', 'refcnt', ' ref %u', 1);
    p.number('any', 'used', ' used %u', secondsSince(entry.usedUs, now));
    p.number('any', 'confirmed', '/%u', secondsSince(entry.confirmedUs, now));
    p.number('any', 'updated', '/%u', secondsSince(entry.updatedUs, now));
    p.number('any', 'probes', 'probes %u ', entry.probes);
  }
  if (state !== 'NONE') {
    p.openArray('state');
    p.string('any', null, '%s ', state);
    p.closeArray();
  }
  p.nl();
}

export function ipNeigh(ctx: ProcContext, opts: IpOptions, args: string[]): number {
  const ns = opts.ns;
  const cmd = args[0];
  const rest = args.slice(1);
  if (cmd === undefined) return neighShow(ctx, opts, ns, [], false);
  if (matches(cmd, 'add')) return neighModify(ctx, opts, 'add', rest);
  if (matches(cmd, 'change') || cmd === 'chg') return neighModify(ctx, opts, 'change', rest);
  if (matches(cmd, 'replace')) return neighModify(ctx, opts, 'replace', rest);
  if (matches(cmd, 'delete')) return neighModify(ctx, opts, 'delete', rest);
  if (matches(cmd, 'get')) return neighShow(ctx, opts, ns, rest, false);
  if (matches(cmd, 'show') || matches(cmd, 'list') || matches(cmd, 'lst')) return neighShow(ctx, opts, ns, rest, false);
  if (matches(cmd, 'flush')) return neighShow(ctx, opts, ns, rest, true);
  fatal(ctx, `Command "${cmd}" is unknown, try "ip neigh help".`);
}
