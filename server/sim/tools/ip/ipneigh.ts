// `ip neigh`: show, add, replace, delete and flush neighbour entries.
import { formatIpv4, formatMac, parseMac } from '../../kernel/addr';
import type { Device } from '../../kernel/device';
import { currentState, neighDelete, neighEntries, neighSet, type NudState } from '../../kernel/neigh';
import type { NetNs } from '../../kernel/netns';
import { fail } from '../../kernel/errno';
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
};

function neighModify(ctx: ProcContext, ns: NetNs, mode: 'add' | 'replace' | 'change' | 'delete', args: string[]): number {
  let dst: string | null = null;
  let devName: string | null = null;
  let lladdr: number | null = null;
  let state: NudState = 'PERMANENT';
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
    else if (a === 'router' || a === 'proxy' || a === 'extern_learn') continue;
    else dst = a === 'to' ? nextArg(ctx, args, i++) : a;
  }
  if (dst === null || devName === null) fatal(ctx, 'Device and destination are required arguments.');
  const addr = parseIpv4Loose(dst);
  if (addr === null) fatal(ctx, `Error: any valid address is expected rather than "${dst}".`, 1);
  const dev = ns.device(devName);
  if (!dev) {
    ctx.stderr.write(`Cannot find device "${devName}"\n`);
    return 1;
  }
  if (mode === 'delete') {
    const r = neighDelete(dev, addr);
    return r.ok ? 0 : netlinkError(ctx, r);
  }
  if (lladdr === null && state !== 'NOARP' && state !== 'INCOMPLETE' && state !== 'FAILED') return netlinkError(ctx, fail('EINVAL', 'No link layer address given'));
  const r = neighSet(dev, addr, lladdr, state, mode);
  return r.ok ? 0 : netlinkError(ctx, r);
}

function neighShow(ctx: ProcContext, opts: IpOptions, ns: NetNs, args: string[], flush: boolean): number {
  let dev: Device | null = null;
  let dst: number | null = null;
  let nud: NudState[] | null = null;
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
      if (v === 'all') nud = Object.values(NUD_NAMES);
      else {
        const s = NUD_NAMES[v];
        if (!s) fatal(ctx, `Error: argument "${v}" is wrong: nud state is bad`);
        nud = [...(nud ?? []), s];
      }
    } else if (a === 'proxy' || a === 'unused' || a === 'all') continue;
    else {
      const addr = parseIpv4Loose(a === 'to' ? nextArg(ctx, args, i++) : a);
      if (addr === null) fatal(ctx, `Error: any valid prefix is expected rather than "${a}".`, 1);
      dst = addr;
    }
  }
  if (flush) {
    if (args.length === 0) {
      ctx.stderr.write('Flush requires arguments.\n');
      return 1;
    }
    for (const entry of neighEntries(ns)) {
      if (dev && entry.dev !== dev) continue;
      if (entry.state === 'PERMANENT' || entry.state === 'NOARP') continue;
      neighDelete(entry.dev, entry.ip);
    }
    return 0;
  }
  const p = IpPrinter.for(opts);
  for (const entry of neighEntries(ns)) {
    const state = currentState(entry);
    if (dev && entry.dev !== dev) continue;
    if (dst !== null && entry.ip !== dst) continue;
    if (nud ? !nud.includes(state) : state === 'NOARP') continue;
    p.openObject();
    if (opts.brief) {
      // -br: address, device and lladdr in columns, no state.
      p.string('any', 'dst', '%-39s ', formatIpv4(entry.ip), 'inet');
      p.string('any', 'dev', '%-16s ', entry.dev.name, 'ifname');
      if (entry.mac !== null && state !== 'FAILED' && state !== 'INCOMPLETE') p.string('any', 'lladdr', '%s', formatMac(entry.mac), 'mac');
      p.nl();
      p.closeObject();
      continue;
    }
    p.string('any', 'dst', '%s ', formatIpv4(entry.ip), 'inet');
    if (!dev) p.string('any', 'dev', 'dev %s ', entry.dev.name, 'ifname');
    if (entry.mac !== null && state !== 'FAILED' && state !== 'INCOMPLETE') {
      p.fp('lladdr ');
      p.string('any', 'lladdr', '%s ', formatMac(entry.mac), 'mac');
    }
    p.openArray('state');
    p.string('any', null, '%s ', state);
    p.closeArray();
    p.nl();
    p.closeObject();
  }
  ctx.stdout.write(p.finish());
  return 0;
}

export function ipNeigh(ctx: ProcContext, opts: IpOptions, args: string[]): number {
  const ns = opts.ns;
  const cmd = args[0];
  const rest = args.slice(1);
  if (cmd === undefined) return neighShow(ctx, opts, ns, [], false);
  if (matches(cmd, 'add')) return neighModify(ctx, ns, 'add', rest);
  if (matches(cmd, 'change') || cmd === 'chg') return neighModify(ctx, ns, 'change', rest);
  if (matches(cmd, 'replace')) return neighModify(ctx, ns, 'replace', rest);
  if (matches(cmd, 'delete')) return neighModify(ctx, ns, 'delete', rest);
  if (matches(cmd, 'get')) return neighShow(ctx, opts, ns, rest, false);
  if (matches(cmd, 'show') || matches(cmd, 'list') || matches(cmd, 'lst')) return neighShow(ctx, opts, ns, rest, false);
  if (matches(cmd, 'flush')) return neighShow(ctx, opts, ns, rest, true);
  fatal(ctx, `Command "${cmd}" is unknown, try "ip neigh help".`);
}
