// `ip neigh`: show, add, replace, delete and flush neighbour entries, proxy ones included.
import { formatIpv4, formatMac, inPrefix, ipv6InPrefix, parseIpv6, parseMac, type Ipv4, type Ipv6 } from '../../kernel/addr';
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
  type NeighFlags,
  type NudState,
} from '../../kernel/neigh';
import type { NetNs } from '../../kernel/netns';
import { fail, type KResult } from '../../kernel/errno';
import type { ProcContext } from '../process';
import type { IpOptions } from './ip';
import { IpPrinter } from './print';
import { duparg, duparg2, fatal, invarg, IpExit, isIpv6Text, matches, netlinkError, nextArg, parseIpv4Loose, parseIpv4Prefix, parseIpv6Prefix } from './utils';

const NEIGH_USAGE = `Usage: ip neigh { add | del | change | replace }
                { ADDR [ lladdr LLADDR ] [ nud STATE ] proxy ADDR }
                [ dev DEV ] [ router ] [ use ] [ managed ] [ extern_learn ]
                [ protocol PROTO ]

\tip neigh { show | flush } [ proxy ] [ to PREFIX ] [ dev DEV ] [ nud STATE ]
\t\t\t\t  [ vrf NAME ] [ nomaster ]
\tip neigh get { ADDR | proxy ADDR } dev DEV

STATE := { delay | failed | incomplete | noarp | none |
           permanent | probe | reachable | stale }`;

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

/** get_addr: an address of the family -4 or -6 asks for, else of either. */
function parseNeighAddress(opts: IpOptions, text: string): Ipv4 | Ipv6 | null {
  return (opts.family !== 'inet6' ? parseIpv4Loose(text) : null) ?? (opts.family !== 'inet' ? parseIpv6(text) : null);
}

function neighModify(ctx: ProcContext, opts: IpOptions, mode: 'add' | 'replace' | 'change' | 'delete', args: string[]): number {
  const ns = opts.ns;
  let dst: string | null = null;
  let devName: string | null = null;
  let lladdr: number | 'short' | null = null;
  let state: NudState = 'PERMANENT';
  let proxy = false;
  const flags: NeighFlags = { router: false, externLearned: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (matches(a, 'lladdr')) {
      const v = nextArg(ctx, args, i++);
      const bad = v.split(':').find((x) => !/^[0-9a-fA-F]{1,2}$/.test(x));
      if (bad !== undefined) fatal(ctx, `"${bad}" is invalid lladdr.`, 1);
      // ll_addr_a2n takes any number of bytes; the kernel wants at least the device's six.
      lladdr = parseMac(v.split(':').slice(0, 6).join(':')) ?? 'short';
    } else if (a === 'nud') {
      const v = nextArg(ctx, args, i++);
      const s = NUD_NAMES[v];
      if (!s) fatal(ctx, `Error: argument "${v}" is wrong: nud state is bad`);
      state = s;
    } else if (matches(a, 'proxy')) {
      proxy = true;
      dst = nextArg(ctx, args, i++);
    } else if (a === 'dev') devName = nextArg(ctx, args, i++);
    else if (matches(a, 'router')) flags.router = true;
    else if (matches(a, 'extern_learn')) flags.externLearned = true;
    else {
      let v = a === 'to' ? nextArg(ctx, args, i++) : a;
      // ipneigh_modify skips `help` to the word after it.
      if (matches(v, 'help')) v = nextArg(ctx, args, i++);
      if (dst !== null) duparg2(ctx, 'to', v);
      dst = v;
    }
  }
  if (dst === null || devName === null) fatal(ctx, 'Device and destination are required arguments.');
  const addr = parseNeighAddress(opts, dst);
  if (addr === null) fatal(ctx, `Error: ${opts.family ?? 'any valid'} address is expected rather than "${dst}".`, 1);
  const dev = ns.device(devName);
  if (!dev) {
    ctx.stderr.write(`Cannot find device "${devName}"\n`);
    return 1;
  }
  if (lladdr === 'short') return netlinkError(ctx, fail('EINVAL', 'Invalid link address'));
  let r: KResult;
  if (proxy) r = mode === 'delete' ? pneighDelete(dev, addr) : pneighAdd(dev, addr);
  else r = mode === 'delete' ? neighDelete(dev, addr) : neighSet(dev, addr, lladdr, state, mode, flags);
  return r.ok ? 0 : netlinkError(ctx, r);
}

/** The selectors of `show` and `flush` (do_show_or_flush). */
interface NeighFilter {
  dev: Device | null;
  to: NeighPrefix | null;
  /** The states selected; null for the default of show or flush. */
  nud: Set<NudState> | null;
  unused: boolean;
  proxy: boolean;
}

/** A `to` prefix, of either family. */
type NeighPrefix = { family: 'inet'; addr: Ipv4; prefixLen: number } | { family: 'inet6'; addr: Ipv6; prefixLen: number };

function parseNeighPrefix(opts: IpOptions, text: string): NeighPrefix | null {
  if (isIpv6Text(text)) {
    const prefix = opts.family === 'inet' ? null : parseIpv6Prefix(text);
    return prefix && { family: 'inet6', addr: prefix.address, prefixLen: prefix.prefixLen };
  }
  const prefix = opts.family === 'inet6' ? null : parseIpv4Prefix(text);
  return prefix && { family: 'inet', addr: prefix.addr, prefixLen: prefix.prefixLen };
}

function parseNeighFilter(ctx: ProcContext, opts: IpOptions, ns: NetNs, args: string[]): NeighFilter {
  const filter: NeighFilter = { dev: null, to: null, nud: null, unused: false, proxy: false };
  let devName: string | null = null;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === 'dev') {
      const v = nextArg(ctx, args, i++);
      if (devName !== null) duparg(ctx, 'dev', v);
      devName = v;
    } else if (a === 'unused') filter.unused = true;
    else if (a === 'nud') {
      const v = nextArg(ctx, args, i++);
      const s = v === 'all' ? ALL_STATES : NUD_NAMES[v] ? [NUD_NAMES[v]!] : invarg(ctx, 'nud state is bad', v);
      filter.nud = new Set([...(filter.nud ?? []), ...s]);
    } else if (a === 'proxy') filter.proxy = true;
    else {
      const v = a === 'to' ? nextArg(ctx, args, i++) : a;
      if (matches(v, 'help')) fatal(ctx, NEIGH_USAGE);
      const prefix = parseNeighPrefix(opts, v);
      if (!prefix) fatal(ctx, `Error: ${opts.family ?? 'any valid'} prefix is expected rather than "${v}".`, 1);
      filter.to = prefix;
    }
  }
  if (devName !== null) {
    filter.dev = ns.device(devName) ?? null;
    if (!filter.dev) {
      ctx.stderr.write(`Cannot find device "${devName}"\n`);
      throw new IpExit(1);
    }
  }
  return filter;
}

/** -4 and -6 keep to their family's entries, as a `to` prefix does to its own. */
function located(filter: NeighFilter, opts: IpOptions, entry: Located): boolean {
  const family = typeof entry.ip === 'string' ? 'inet6' : 'inet';
  if (opts.family !== null && opts.family !== family) return false;
  return (!filter.dev || entry.dev === filter.dev) && (filter.to === null || inNeighPrefix(entry.ip, filter.to));
}

function inNeighPrefix(ip: Ipv4 | Ipv6, to: NeighPrefix): boolean {
  if (to.family === 'inet6') return typeof ip === 'string' && ipv6InPrefix(ip, to.addr, to.prefixLen);
  return typeof ip === 'number' && inPrefix(ip, to.addr, to.prefixLen);
}

/** Entries a timer holds (refcnt above zero) are not `unused`; externally learned ones pass any state selector. */
function neighSelected(filter: NeighFilter, opts: IpOptions, entry: NeighEntry, states: Set<NudState>): boolean {
  const state = currentState(entry);
  return located(filter, opts, entry) && (states.has(state) || entry.externLearned) && !(filter.unused && nudInTimer(state));
}

function neighShow(ctx: ProcContext, opts: IpOptions, ns: NetNs, args: string[]): number {
  const filter = parseNeighFilter(ctx, opts, ns, args);
  const p = IpPrinter.for(opts);
  if (filter.proxy) {
    for (const entry of pneighEntries(ns)) {
      if (!located(filter, opts, entry)) continue;
      p.openObject();
      printDstDev(p, entry, !filter.dev);
      p.null('proxy', 'proxy ');
      p.nl();
      p.closeObject();
    }
  } else {
    for (const entry of neighEntries(ns)) {
      if (!neighSelected(filter, opts, entry, filter.nud ?? SHOWN_BY_DEFAULT)) continue;
      p.openObject();
      printNeighbour(p, opts, entry, currentState(entry), !filter.dev);
      p.closeObject();
    }
  }
  ctx.stdout.write(p.finish());
  return 0;
}

/** Deletes the selected entries round after round (a failed entry is flushed in the first only); -s counts the rounds. */
function neighFlush(ctx: ProcContext, opts: IpOptions, ns: NetNs, args: string[]): number {
  if (args.length === 0) {
    ctx.stderr.write('Flush requires arguments.\n');
    return 1;
  }
  const filter = parseNeighFilter(ctx, opts, ns, args);
  const states = new Set(filter.nud ?? FLUSHED_BY_DEFAULT);
  let rounds = 0;
  for (;;) {
    const doomed = neighEntries(ns).filter((entry) => neighSelected(filter, opts, entry, states));
    if (doomed.length === 0) break;
    for (const entry of doomed) neighDelete(entry.dev, entry.ip);
    rounds++;
    if (opts.stats) ctx.stdout.write(`\n*** Round ${rounds}, deleting ${doomed.length} entries ***\n`);
    states.delete('FAILED');
  }
  if (opts.stats) ctx.stdout.write(rounds === 0 ? 'Nothing to flush.\n' : `*** Flush is complete after ${rounds} round${rounds > 1 ? 's' : ''} ***\n`);
  return 0;
}

/** `ip neigh get ADDR dev DEV`: one entry, asked of the kernel. */
function neighGet(ctx: ProcContext, opts: IpOptions, ns: NetNs, args: string[]): number {
  let devName: string | null = null;
  let dst: Ipv4 | Ipv6 | null = null;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === 'dev') devName = nextArg(ctx, args, i++);
    else {
      const v = a === 'to' ? nextArg(ctx, args, i++) : a;
      if (matches(v, 'help')) fatal(ctx, NEIGH_USAGE);
      if (dst !== null) duparg2(ctx, 'to', v);
      dst = parseNeighAddress(opts, v) ?? fatal(ctx, `Error: ${opts.family ?? 'any valid'} address is expected rather than "${v}".`, 1);
    }
  }
  if (devName === null || dst === null) {
    ctx.stderr.write('Device and address are required arguments.\n');
    return 1;
  }
  const dev = ns.device(devName);
  if (!dev) {
    ctx.stderr.write(`Cannot find device "${devName}"\n`);
    return 1;
  }
  const entry = neighEntries(ns).find((e) => e.dev === dev && e.ip === dst);
  if (!entry) return netlinkError(ctx, fail('ENOENT', 'Neighbour entry not found'));
  // ipneigh_get starts no JSON output: -j changes nothing.
  const p = IpPrinter.for({ ...opts, json: false, pretty: false });
  p.openObject();
  printNeighbour(p, opts, entry, currentState(entry), true);
  p.closeObject();
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
    if (withDev) p.string('any', 'dev', '%-16s ', entry.dev.name, 'ifname');
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
  if (entry.externLearned) p.null('extern_learn', 'extern_learn ');
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
  if (cmd === undefined) return neighShow(ctx, opts, ns, []);
  if (matches(cmd, 'add')) return neighModify(ctx, opts, 'add', rest);
  if (matches(cmd, 'change') || cmd === 'chg') return neighModify(ctx, opts, 'change', rest);
  if (matches(cmd, 'replace')) return neighModify(ctx, opts, 'replace', rest);
  if (matches(cmd, 'delete')) return neighModify(ctx, opts, 'delete', rest);
  if (matches(cmd, 'get')) return neighGet(ctx, opts, ns, rest);
  if (matches(cmd, 'show') || matches(cmd, 'list') || matches(cmd, 'lst')) return neighShow(ctx, opts, ns, rest);
  if (matches(cmd, 'flush')) return neighFlush(ctx, opts, ns, rest);
  if (matches(cmd, 'help')) fatal(ctx, NEIGH_USAGE);
  fatal(ctx, `Command "${cmd}" is unknown, try "ip neigh help".`);
}
