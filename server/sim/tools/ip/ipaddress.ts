// `ip address`: add, delete, flush and show addresses (iproute2 ip/ipaddress.c).
import ipaddr from 'ipaddr.js';
import { formatIpv4, prefixMask } from '../../kernel/addr';
import { addIpv4Address, addIpv6Address, deleteIpv4Address, deleteIpv6Address } from '../../kernel/address';
import type { Device, Ipv4Address, Ipv6Address } from '../../kernel/device';
import { fail } from '../../kernel/errno';
import type { NetNs } from '../../kernel/netns';
import type { ProcContext } from '../process';
import { fnmatch } from '../regex';
import type { IpOptions } from './ip';
import { filteredDevices, parseShowFilter, type LinkFilter } from './iplink';
import { printLinkBrief, printLinkDetails, printLinkHeader, printLinkStats } from './linkinfo';
import { IpPrinter } from './print';
import { duparg2, fatal, invarg, isIpv6Text, matches, netlinkError, nextArg, parseIpv4Loose, parseIpv4Prefix, parseIpv6Prefix } from './utils';

const ADDR_USAGE = `Usage: ip address {add|change|replace} IFADDR dev IFNAME [ LIFETIME ]
                                                      [ CONFFLAG-LIST ]
       ip address del IFADDR dev IFNAME [mngtmpaddr]
       ip address {save|flush} [ dev IFNAME ] [ scope SCOPE-ID ]
                            [ to PREFIX ] [ FLAG-LIST ] [ label LABEL ] [up]
       ip address [ show [ dev IFNAME ] [ scope SCOPE-ID ] [ master DEVICE ]
                         [ nomaster ]
                         [ type TYPE ] [ to PREFIX ] [ FLAG-LIST ]
                         [ label LABEL ] [up] [ vrf NAME ] ]
       ip address {showdump|restore}
IFADDR := PREFIX | ADDR peer PREFIX
          [ broadcast ADDR ] [ anycast ADDR ]
          [ label IFNAME ] [ scope SCOPE-ID ] [ metric METRIC ]
SCOPE-ID := [ host | link | global | NUMBER ]
FLAG-LIST := [ FLAG-LIST ] FLAG
FLAG  := [ permanent | dynamic | secondary | primary |
           [-]tentative | [-]deprecated | [-]dadfailed | temporary |
           CONFFLAG-LIST ]
CONFFLAG-LIST := [ CONFFLAG-LIST ] CONFFLAG
CONFFLAG  := [ home | nodad | mngtmpaddr | noprefixroute | autojoin ]
LIFETIME := [ valid_lft LFT ] [ preferred_lft LFT ]
LFT := forever | SECONDS
TYPE := { amt | bareudp | bond | bond_slave | bridge | bridge_slave |
          dsa | dummy | erspan | geneve | gre | gretap | gtp | ifb |
          ip6erspan | ip6gre | ip6gretap | ip6tnl |
          ipip | ipoib | ipvlan | ipvtap |
          macsec | macvlan | macvtap |
          netdevsim | nlmon | rmnet | sit | team | team_slave |
          vcan | veth | vlan | vrf | vti | vxcan | vxlan | wwan |
          xfrm | virt_wifi }`;

type Mode = 'add' | 'change' | 'replace' | 'delete';

function addrModify(ctx: ProcContext, opts: IpOptions, ns: NetNs, mode: Mode, args: string[]): number {
  let local: string | null = null;
  let devName: string | null = null;
  let label: string | null = null;
  let peer: string | null = null;
  let broadcast: number | 'auto' | null | undefined;
  let scope: Ipv4Address['scope'] | undefined;
  let noprefixroute = false;
  let nodad = false;
  let routeMetric = 0;
  const lifetimes: { valid_lft?: number; preferred_lft?: number } = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === 'dev') devName = nextArg(ctx, args, i++);
    else if (a === 'label') label = nextArg(ctx, args, i++);
    else if (matches(a, 'broadcast') || a === 'brd') {
      const v = nextArg(ctx, args, i++);
      const addr = v === '+' || v === '-' ? null : parseIpv4Loose(v);
      if (v !== '+' && v !== '-' && addr === null) fatal(ctx, `Error: ${local === null ? (opts.family ?? 'any valid') : 'inet'} address is expected rather than "${v}".`, 1);
      broadcast = v === '+' ? 'auto' : addr;
    } else if (a === 'scope') {
      const v = nextArg(ctx, args, i++);
      const named = SCOPE_NAMES[/^\d+$/.test(v) ? Number(v) : SCOPE_IDS[v] ?? -1];
      if (named !== 'host' && named !== 'link' && named !== 'global') fatal(ctx, `Error: argument "${v}" is wrong: invalid scope value.`);
      scope = named;
    } else if (a === 'peer' || a === 'remote') peer = nextArg(ctx, args, i++);
    else if (matches(a, 'metric') || matches(a, 'priority') || matches(a, 'preference')) {
      const v = nextArg(ctx, args, i++);
      routeMetric = /^\d+$/.test(v) && Number(v) <= 0xffffffff ? Number(v) : invarg(ctx, '"metric" value is invalid\n', v);
    } else if (matches(a, 'valid_lft') || matches(a, 'preferred_lft')) {
      const which = matches(a, 'valid_lft') ? 'valid_lft' : 'preferred_lft';
      const v = nextArg(ctx, args, i++);
      lifetimes[which] = v === 'forever' ? 0xffffffff : /^\d+$/.test(v) ? Number(v) : invarg(ctx, `${which} value`, v);
    } else if (a === 'anycast' || a === 'proto') nextArg(ctx, args, i++);
    else if (a === 'noprefixroute') noprefixroute = true;
    else if (a === 'nodad') nodad = true;
    else if (['home', 'mngtmpaddr', 'autojoin'].includes(a)) continue;
    else {
      let v = a;
      if (a === 'local') v = nextArg(ctx, args, i++);
      if (matches(v, 'help')) fatal(ctx, ADDR_USAGE);
      if (local !== null) duparg2(ctx, 'local', v);
      local = v;
    }
  }
  if (devName === null) {
    ctx.stderr.write('Not enough information: "dev" argument is required.\n');
    return 1;
  }
  const { valid_lft: valid = 0xffffffff, preferred_lft: preferred = 0xffffffff } = lifetimes;
  if (valid === 0) {
    ctx.stderr.write('valid_lft is zero\n');
    return 1;
  }
  if (valid < preferred) {
    ctx.stderr.write('preferred_lft is greater than valid_lft\n');
    return 1;
  }
  const familyName = opts.family ?? 'any valid';
  const v6 = local !== null && isIpv6Text(local);
  if (local !== null && ((v6 && opts.family === 'inet') || (!v6 && opts.family === 'inet6'))) fatal(ctx, `Error: ${familyName} prefix is expected rather than "${local}".`, 1);
  const prefix = local === null || v6 ? null : parseIpv4Prefix(local, false);
  const prefix6 = local !== null && v6 ? parseIpv6Prefix(local) : null;
  if (local !== null && !prefix && !prefix6) fatal(ctx, `Error: ${familyName} prefix is expected rather than "${local}".`, 1);
  const dev = ns.device(devName);
  if (!dev) {
    ctx.stderr.write(`Cannot find device "${devName}"\n`);
    return 1;
  }
  // Without an address the request reaches the kernel with no family to handle it.
  if (local === null) return netlinkError(ctx, fail('EOPNOTSUPP'));
  if (prefix6) {
    if (mode === 'delete') {
      const r = deleteIpv6Address(dev, prefix6.address, prefix6.prefixLen);
      return r.ok ? 0 : netlinkError(ctx, fail('EADDRNOTAVAIL', 'ipv6: address not found'));
    }
    const r = addIpv6Address(dev, prefix6.address, prefix6.prefixLen, nodad);
    return r.ok || mode !== 'add' ? 0 : netlinkError(ctx, r);
  }
  if (!prefix) return 1;
  if (mode === 'delete') {
    if (!prefix.explicitLength) {
      ctx.stderr.write(
        `Warning: Executing wildcard deletion to stay compatible with old scripts.\n         Explicitly specify the prefix length (${local}/32) to avoid this warning.\n         This special behaviour is likely to disappear in further releases,\n         fix your scripts!\n`,
      );
    }
    const r = deleteIpv4Address(dev, prefix.addr, prefix.explicitLength ? prefix.prefixLen : null);
    return r.ok ? 0 : netlinkError(ctx, fail('EADDRNOTAVAIL', 'ipv4: Address not found'));
  }
  const peerPrefix = peer === null ? null : parseIpv4Prefix(peer, false);
  if (peer !== null && !peerPrefix) fatal(ctx, `Error: ${familyName} prefix is expected rather than "${peer}".`, 1);
  if (peerPrefix) {
    // With a peer, the prefix length given is the peer's; the local address has none of its own.
    prefix.prefixLen = peerPrefix.prefixLen;
  }
  const broadcastAddr = broadcast === 'auto' ? (prefix.prefixLen < 31 ? (prefix.addr | (~prefixMask(prefix.prefixLen) >>> 0)) >>> 0 : null) : broadcast;
  // IFA_LABEL's policy: a name, shorter than IFNAMSIZ.
  if (label !== null && label.length >= 16) return netlinkError(ctx, fail('EINVAL', 'Attribute failed policy validation'));
  const addrOpts = { label: label ?? dev.name, peer: peerPrefix?.addr ?? null, ...(broadcastAddr !== undefined ? { broadcast: broadcastAddr } : {}), ...(scope ? { scope } : {}), noprefixroute, routeMetric, validLft: finite(valid), preferredLft: finite(preferred) };
  const r = addIpv4Address(dev, prefix.addr, prefix.prefixLen, addrOpts, mode !== 'add');
  if (!r.ok) return netlinkError(ctx, r.errno === 'EEXIST' ? fail('EEXIST', 'ipv4: Address already assigned') : r);
  return 0;
}

/** IFA_F_* flags as `show` and `flush` name them; temporary is secondary's IPv6 name. */
const IFA_FLAGS: Record<string, number> = {
  secondary: 0x01,
  temporary: 0x01,
  nodad: 0x02,
  optimistic: 0x04,
  dadfailed: 0x08,
  home: 0x10,
  deprecated: 0x20,
  tentative: 0x40,
  permanent: 0x80,
  mngtmpaddr: 0x100,
  noprefixroute: 0x200,
  autojoin: 0x400,
  'stable-privacy': 0x800,
};

/** INFINITY_LIFE_TIME */
const FOREVER = 0xffffffff;

function finite(seconds: number): number | null {
  return seconds === FOREVER ? null : seconds;
}

/** inet_fill_ifaddr: what is left of the valid and preferred lifetimes, in whole seconds elapsed. */
function remainingLifetimes(a: Ipv4Address, nowUs: number): [number, number] {
  if (!a.lifetime) return [FOREVER, FOREVER];
  const elapsed = Math.floor((nowUs - a.lifetime.sinceUs) / 1_000_000);
  const left = (lft: number) => Math.max(0, lft - elapsed);
  return [left(a.lifetime.valid), a.lifetime.preferred === null ? FOREVER : left(a.lifetime.preferred)];
}

/** rtnl_rtscope_a2n, and back */
const SCOPE_IDS: Record<string, number> = { global: 0, site: 200, link: 253, host: 254, nowhere: 255 };
const SCOPE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(SCOPE_IDS).map(([name, id]) => [id, name]));

type Address = Ipv4Address | Ipv6Address;

/** The address half of iproute2's filter: which addresses `show` and `flush` select. */
interface AddrSelector {
  /** -4/-6, else the family of a `to` prefix. */
  family: IpOptions['family'];
  scope: number | null;
  /** IFA_F bits that must be set (`flags`) among those looked at (`flagmask`). */
  flags: number;
  flagmask: number;
  /** An fnmatch pattern for the label (an IPv6 address's is its device's name). */
  label: string | null;
  to: { family: 'inet' | 'inet6'; bytes: number[]; bits: number } | null;
}

/** Reads one `show`/`flush` address selector word into `sel`, as ipaddr_list_flush_or_save does; false when the word is not one. */
function readSelector(ctx: ProcContext, sel: AddrSelector, word: string, value: () => string): boolean {
  if (word === 'to') {
    const v = value();
    const to = parsePrefixBytes(v, sel.family);
    if (to === undefined) fatal(ctx, `Error: ${sel.family ?? 'any valid'} prefix is expected rather than "${v}".`, 1);
    sel.to = to;
    sel.family ??= to?.family ?? null;
  } else if (word === 'scope') {
    const v = value();
    const scope = /^\d+$/.test(v) && Number(v) <= 255 ? Number(v) : SCOPE_IDS[v];
    if (scope === undefined && v !== 'all') invarg(ctx, 'invalid "scope"\n', v);
    sel.scope = scope ?? null;
  } else if (word === 'label') sel.label = value();
  else if (word === 'dynamic' || word === '-dynamic') sel.flagmask |= IFA_FLAGS.permanent!;
  else if (word === 'primary' || word === '-primary') sel.flagmask |= IFA_FLAGS.secondary!;
  else {
    // get_filter: a flag, or with a leading minus its absence.
    const bit = IFA_FLAGS[word.replace(/^-/, '')];
    if (bit === undefined) return false;
    sel.flagmask |= bit;
    sel.flags = word.startsWith('-') ? sel.flags & ~bit : sel.flags | bit;
  }
  return true;
}

/** get_prefix: the bytes and length of a prefix; null for `default` and the like with no family to match; undefined when invalid. */
function parsePrefixBytes(text: string, family: IpOptions['family']): AddrSelector['to'] | undefined {
  if (family !== 'inet6' && !isIpv6Text(text)) {
    if (family === null && ['default', 'any', 'all'].includes(text)) return null;
    const prefix = parseIpv4Prefix(text);
    return prefix ? { family: 'inet', bytes: ipv4Bytes(prefix.addr), bits: prefix.prefixLen } : undefined;
  }
  if (family === 'inet') return undefined;
  const prefix = parseIpv6Prefix(text);
  return prefix ? { family: 'inet6', bytes: ipaddr.IPv6.parse(prefix.address).toByteArray(), bits: prefix.prefixLen } : undefined;
}

function ipv4Bytes(addr: number): number[] {
  return [addr >>> 24, (addr >>> 16) & 0xff, (addr >>> 8) & 0xff, addr & 0xff];
}

/** print_addrinfo's tests: family, scope, flags, label and prefix. */
function addrSelected(sel: AddrSelector, dev: Device, a: Address): boolean {
  const v4 = 'local' in a;
  if (sel.family !== null && sel.family !== (v4 ? 'inet' : 'inet6')) return false;
  if (sel.scope !== null && sel.scope !== SCOPE_IDS[a.scope]) return false;
  // Every address here is permanent (none comes from autoconfiguration).
  const flags = v4
    ? (a.lifetime ? (remainingLifetimes(a, dev.ns.host.world.now)[1] === 0 ? IFA_FLAGS.deprecated! : 0) : IFA_FLAGS.permanent!) | (a.secondary ? IFA_FLAGS.secondary! : 0) | (a.noprefixroute ? IFA_FLAGS.noprefixroute! : 0)
    : IFA_FLAGS.permanent! | (a.nodad ? IFA_FLAGS.nodad! : 0) | (a.tentative ? IFA_FLAGS.tentative! : 0);
  if ((sel.flags ^ flags) & sel.flagmask) return false;
  if (sel.label !== null && !fnmatch(sel.label, v4 ? a.label : dev.name)) return false;
  if (sel.to) {
    const bytes = v4 ? ipv4Bytes(a.local) : ipaddr.IPv6.parse(a.address).toByteArray();
    if (sel.to.family !== (v4 ? 'inet' : 'inet6')) return false;
    for (let bit = 0; bit < sel.to.bits; bit++) {
      const mask = 0x80 >> bit % 8;
      if ((bytes[bit >> 3]! & mask) !== (sel.to.bytes[bit >> 3]! & mask)) return false;
    }
  }
  return true;
}

/** A device's addresses in dump order (IPv4 before IPv6), those the selector picks. */
function selectedAddresses(sel: AddrSelector, dev: Device): Address[] {
  return [...dev.ipv4, ...dev.ipv6].filter((a) => addrSelected(sel, dev, a));
}

/** print_selected_addrinfo: in JSON an address of the family asked for that the selectors leave out is an empty object. */
function printAddresses(p: IpPrinter, dev: Device, sel: AddrSelector): void {
  p.openArray('addr_info');
  for (const a of [...dev.ipv4, ...dev.ipv6]) {
    if (sel.family !== null && sel.family !== ('local' in a ? 'inet' : 'inet6')) continue;
    p.openObject();
    if (!addrSelected(sel, dev, a)) {
      p.closeObject();
      continue;
    }
    if ('local' in a) {
      p.string('any', 'family', '    %s ', 'inet');
      p.string('any', 'local', '%s', formatIpv4(a.local), 'inet');
      if (a.peer !== null) p.string('any', 'address', ' peer %s', formatIpv4(a.peer), 'inet');
      p.number('any', 'prefixlen', '/%d ', a.prefixLen);
      if (a.broadcast !== null) p.string('any', 'broadcast', 'brd %s ', formatIpv4(a.broadcast), 'inet');
      if (a.routeMetric !== 0) p.number('any', 'metric', 'metric %u ', a.routeMetric);
      p.string('any', 'scope', 'scope %s ', a.scope);
      if (a.secondary) p.bool('any', 'secondary', 'secondary ', true);
      if (a.lifetime && remainingLifetimes(a, dev.ns.host.world.now)[1] === 0) p.bool('any', 'deprecated', 'deprecated ', true);
      if (a.lifetime) p.bool('any', 'dynamic', 'dynamic ', true);
      if (a.noprefixroute) p.bool('any', 'noprefixroute', 'noprefixroute ', true);
      p.string('any', 'label', '%s', a.label);
    } else {
      p.string('any', 'family', '    %s ', 'inet6');
      p.string('any', 'local', '%s', a.address, 'inet6');
      p.number('any', 'prefixlen', '/%d ', a.prefixLen);
      p.string('any', 'scope', 'scope %s ', a.scope);
      if (a.nodad) p.bool('any', 'nodad', 'nodad ', true);
      if (a.tentative) p.bool('any', 'tentative', 'tentative ', true);
    }
    p.nl();
    const [valid, preferred] = 'local' in a ? remainingLifetimes(a, dev.ns.host.world.now) : [FOREVER, FOREVER];
    p.number('any', 'valid_life_time', valid === FOREVER ? '       valid_lft forever' : '       valid_lft %usec', valid);
    p.number('any', 'preferred_life_time', preferred === FOREVER ? ' preferred_lft forever' : ' preferred_lft %usec', preferred);
    p.nl();
    p.closeObject();
  }
  p.closeArray();
}

function printBriefAddresses(p: IpPrinter, dev: Device, sel: AddrSelector): void {
  p.openArray('addr_info');
  for (const a of selectedAddresses(sel, dev)) {
    p.openObject();
    p.string('json', 'local', '', 'local' in a ? formatIpv4(a.local) : a.address);
    p.number('json', 'prefixlen', '', a.prefixLen);
    p.closeObject();
  }
  p.closeArray();
}

function briefAddresses(p: IpPrinter, dev: Device, sel: AddrSelector): string {
  const v4 = (addr: number) => p.paint('inet', formatIpv4(addr));
  return selectedAddresses(sel, dev)
    .map((a) => ('local' in a ? (a.peer !== null ? `${v4(a.local)} peer ${v4(a.peer)}/${a.prefixLen} ` : `${v4(a.local)}/${a.prefixLen} `) : `${p.paint('inet6', a.address)}/${a.prefixLen} `))
    .join('');
}

/** The selectors of `show` and `flush`: the devices' and the addresses'. */
function parseAddrFilter(ctx: ProcContext, opts: IpOptions, ns: NetNs, args: string[]): { filter: LinkFilter; sel: AddrSelector } | number {
  const sel: AddrSelector = { family: opts.family === 'link' ? null : opts.family, scope: null, flags: 0, flagmask: 0, label: null, to: null };
  const filter = parseShowFilter(ctx, ns, args, ADDR_USAGE, (word, value) => readSelector(ctx, sel, word, value));
  return typeof filter === 'number' ? filter : { filter, sel };
}

function addrShow(ctx: ProcContext, opts: IpOptions, ns: NetNs, args: string[]): number {
  const parsed = parseAddrFilter(ctx, opts, ns, args);
  if (typeof parsed === 'number') return parsed;
  const { filter, sel } = parsed;
  const p = IpPrinter.for(opts);
  for (const dev of filteredDevices(ns, filter)) {
    if (opts.family === 'link') {
      // -0: the devices alone, as `ip addr` heads them.
      p.openObject();
      printLinkHeader(p, dev, false);
      p.nl();
      p.closeObject();
      continue;
    }
    // ipaddr_filter: a device shows with an address selected, or, when no family is asked for, with none at all.
    const bare = dev.ipv4.length + dev.ipv6.length === 0;
    if (!(bare && sel.family === null) && selectedAddresses(sel, dev).length === 0) continue;
    if (opts.oneline && !opts.json && !opts.brief) {
      // -o: one line per address, prefixed with the device.
      const addrs = new IpPrinter(false, false, p.color);
      printAddresses(addrs, dev, sel);
      const lines = addrs.finish().split('\n');
      for (let i = 0; i + 1 < lines.length; i += 2) p.fp(`${dev.ifindex}: ${dev.name}${lines[i]!}\\${lines[i + 1]!}\n`);
      continue;
    }
    if (sel.label !== null) {
      // A label selects addresses only: no link lines.
      p.openObject();
      printAddresses(p, dev, sel);
      p.closeObject();
      continue;
    }
    p.openObject();
    if (opts.brief) {
      printLinkBrief(p, dev, false);
      if (!opts.json) p.fp(briefAddresses(p, dev, sel) + '\n');
      else printBriefAddresses(p, dev, sel);
    } else if (opts.family === 'inet6' && filter.dev === null && !opts.json) {
      // With -6 the kernel answers without the IPv4-side attributes (qdisc, group, link-netns).
      const text = new IpPrinter(false, false, p.color);
      printLinkHeader(text, dev, false, false);
      p.fp(text.finish().replace(/qdisc \S+ /, '').replace(/group \S+ /, '').replace(/ link-netns(id)? \S+/, '') + '\n');
      printAddresses(p, dev, sel);
    } else {
      printLinkHeader(p, dev, false, sel.family === null);
      if (opts.details) printLinkDetails(p, dev, false);
      p.nl();
      printAddresses(p, dev, sel);
      if (opts.stats && p.json) printLinkStats(p, dev, opts);
      else if (opts.stats) {
        // The counters follow the addresses, on lines of their own.
        const stats = new IpPrinter(false, false, p.color);
        printLinkStats(stats, dev, opts);
        p.fp(stats.finish().slice(1) + '\n');
      }
    }
    p.closeObject();
  }
  ctx.stdout.write(p.finish());
  return 0;
}

/** ipaddr_flush: deletes the selected addresses, secondaries before primaries, round after round until none is left. */
function addrFlush(ctx: ProcContext, opts: IpOptions, ns: NetNs, args: string[]): number {
  if (args.length === 0) {
    ctx.stderr.write('Flush requires arguments.\n');
    return 1;
  }
  if (opts.family === 'link') {
    ctx.stderr.write('Cannot flush link addresses.\n');
    return 1;
  }
  const parsed = parseAddrFilter(ctx, opts, ns, args);
  if (typeof parsed === 'number') return parsed;
  const { filter, sel } = parsed;
  const devs = filteredDevices(ns, filter);
  const doomed = () => devs.flatMap((dev) => selectedAddresses(sel, dev).map((a) => ({ dev, a })));
  let rounds = 0;
  for (let round = doomed(); round.length > 0; round = doomed()) {
    for (const { dev, a } of [...round].sort((x, y) => Number('local' in y.a && y.a.secondary) - Number('local' in x.a && x.a.secondary))) {
      if ('local' in a) deleteIpv4Address(dev, a.local, a.prefixLen);
      else deleteIpv6Address(dev, a.address, a.prefixLen);
    }
    rounds++;
    if (opts.stats) ctx.stdout.write(`\n*** Round ${rounds}, deleting ${round.length} addresses ***\n`);
    // Flushing primaries alone takes one round: later ones would find promoted secondaries.
    if (sel.flagmask & IFA_FLAGS.secondary! && !(sel.flags & IFA_FLAGS.secondary!)) break;
  }
  if (opts.stats) ctx.stdout.write(rounds === 0 ? 'Nothing to flush.\n' : `*** Flush is complete after ${rounds} round${rounds > 1 ? 's' : ''} ***\n`);
  return 0;
}

export function ipAddress(ctx: ProcContext, opts: IpOptions, args: string[]): number {
  const ns = opts.ns;
  const cmd = args[0];
  if (cmd === undefined) return addrShow(ctx, opts, ns, []);
  const rest = args.slice(1);
  if (matches(cmd, 'add')) return addrModify(ctx, opts, ns, 'add', rest);
  if (matches(cmd, 'change') || cmd === 'chg') return addrModify(ctx, opts, ns, 'change', rest);
  if (matches(cmd, 'replace')) return addrModify(ctx, opts, ns, 'replace', rest);
  if (matches(cmd, 'delete')) return addrModify(ctx, opts, ns, 'delete', rest);
  if (matches(cmd, 'list') || matches(cmd, 'show') || matches(cmd, 'lst')) return addrShow(ctx, opts, ns, rest);
  if (matches(cmd, 'flush')) return addrFlush(ctx, opts, ns, rest);
  if (matches(cmd, 'help')) fatal(ctx, ADDR_USAGE);
  fatal(ctx, `Command "${cmd}" is unknown, try "ip address help".`);
}
