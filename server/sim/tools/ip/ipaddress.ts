// `ip address`: add, delete, flush and show addresses (iproute2 ip/ipaddress.c).
import { formatIpv4, prefixMask } from '../../kernel/addr';
import { addIpv4Address, addIpv6Address, deleteIpv4Address, deleteIpv6Address, flushIpv4Addresses } from '../../kernel/address';
import { parseIpv6Prefix } from './utils';
import type { Device, Ipv4Address } from '../../kernel/device';
import { fail } from '../../kernel/errno';
import type { NetNs } from '../../kernel/netns';
import type { ProcContext } from '../process';
import type { IpOptions } from './ip';
import { filteredDevices, parseShowFilter } from './iplink';
import { printLinkBrief, printLinkDetails, printLinkHeader, printLinkStats } from './linkinfo';
import { IpPrinter } from './print';
import { duparg2, fatal, isIpv6Text, matches, netlinkError, nextArg, parseIpv4Loose, parseIpv4Prefix } from './utils';

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
  let nodad = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === 'dev') devName = nextArg(ctx, args, i++);
    else if (a === 'label') label = nextArg(ctx, args, i++);
    else if (matches(a, 'broadcast') || a === 'brd') {
      const v = nextArg(ctx, args, i++);
      broadcast = v === '+' ? 'auto' : v === '-' ? null : parseIpv4Loose(v);
    } else if (a === 'scope') {
      const v = nextArg(ctx, args, i++);
      if (v !== 'host' && v !== 'link' && v !== 'global') fatal(ctx, `Error: argument "${v}" is wrong: invalid scope value.`);
      scope = v;
    } else if (a === 'peer' || a === 'remote') peer = nextArg(ctx, args, i++);
    else if (a === 'valid_lft' || a === 'preferred_lft' || a === 'metric' || a === 'anycast' || a === 'proto') nextArg(ctx, args, i++);
    else if (a === 'nodad') nodad = true;
    else if (['home', 'mngtmpaddr', 'noprefixroute', 'autojoin'].includes(a)) continue;
    else {
      let v = a;
      if (a === 'local') v = nextArg(ctx, args, i++);
      if (local !== null) duparg2(ctx, 'local', v);
      local = v;
    }
  }
  if (devName === null) {
    ctx.stderr.write('Not enough information: "dev" argument is required.\n');
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
      const r = deleteIpv6Address(dev, prefix6.address);
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
  const addrOpts = { label: label ?? dev.name, peer: peerPrefix?.addr ?? null, ...(broadcastAddr !== undefined ? { broadcast: broadcastAddr } : {}), ...(scope ? { scope } : {}) };
  const r = addIpv4Address(dev, prefix.addr, prefix.prefixLen, addrOpts, mode !== 'add');
  if (!r.ok) return netlinkError(ctx, r.errno === 'EEXIST' ? fail('EEXIST', 'ipv4: Address already assigned') : r);
  return 0;
}

function printAddresses(p: IpPrinter, dev: Device, family: IpOptions['family'], label: string | null = null): void {
  p.openArray('addr_info');
  if (family !== 'inet6') {
    for (const a of dev.ipv4) {
      if (label !== null && a.label !== label) continue;
      p.openObject();
      p.string('any', 'family', '    %s ', 'inet');
      p.string('any', 'local', '%s', formatIpv4(a.local), 'inet');
      if (a.peer !== null) p.string('any', 'address', ' peer %s', formatIpv4(a.peer), 'inet');
      p.number('any', 'prefixlen', '/%d ', a.prefixLen);
      if (a.broadcast !== null) p.string('any', 'broadcast', 'brd %s ', formatIpv4(a.broadcast), 'inet');
      p.string('any', 'scope', 'scope %s ', a.scope);
      if (a.secondary) p.bool('any', 'secondary', 'secondary ', true);
      p.string('any', 'label', '%s', a.label);
      p.nl();
      p.number('any', 'valid_life_time', '       valid_lft forever', 4294967295);
      p.number('any', 'preferred_life_time', ' preferred_lft forever', 4294967295);
      p.nl();
      p.closeObject();
    }
  }
  if (family !== 'inet' && label === null) {
    for (const a of dev.ipv6) {
      p.openObject();
      p.string('any', 'family', '    %s ', 'inet6');
      p.string('any', 'local', '%s', a.address, 'inet6');
      p.number('any', 'prefixlen', '/%d ', a.prefixLen);
      p.string('any', 'scope', 'scope %s ', a.scope);
      if (a.nodad) p.bool('any', 'nodad', 'nodad ', true);
      if (a.tentative) p.bool('any', 'tentative', 'tentative ', true);
      p.nl();
      p.number('any', 'valid_life_time', '       valid_lft forever', 4294967295);
      p.number('any', 'preferred_life_time', ' preferred_lft forever', 4294967295);
      p.nl();
      p.closeObject();
    }
  }
  p.closeArray();
}

function printBriefAddresses(p: IpPrinter, dev: Device, family: IpOptions['family']): void {
  p.openArray('addr_info');
  const all = [...(family !== 'inet6' ? dev.ipv4.map((a) => [formatIpv4(a.local), a.prefixLen] as const) : []), ...(family !== 'inet' ? dev.ipv6.map((a) => [a.address, a.prefixLen] as const) : [])];
  for (const [local, prefixLen] of all) {
    p.openObject();
    p.string('json', 'local', '', local);
    p.number('json', 'prefixlen', '', prefixLen);
    p.closeObject();
  }
  p.closeArray();
}

function briefAddresses(p: IpPrinter, dev: Device, family: IpOptions['family']): string {
  const parts: string[] = [];
  const v4 = (addr: number) => p.paint('inet', formatIpv4(addr));
  if (family !== 'inet6') for (const a of dev.ipv4) parts.push(a.peer !== null ? `${v4(a.local)} peer ${v4(a.peer)}/${a.prefixLen} ` : `${v4(a.local)}/${a.prefixLen} `);
  if (family !== 'inet') for (const a of dev.ipv6) parts.push(`${p.paint('inet6', a.address)}/${a.prefixLen} `);
  return parts.join('');
}

function withScope(dev: Device, scope: string): Device {
  const keep = <T extends { scope: string }>(list: T[]) => list.filter((a) => scope === 'all' || a.scope === scope);
  return Object.assign(Object.create(Object.getPrototypeOf(dev) as object) as Device, dev, { ipv4: keep(dev.ipv4), ipv6: keep(dev.ipv6) });
}

function addrShow(ctx: ProcContext, opts: IpOptions, ns: NetNs, args: string[]): number {
  const filter = parseShowFilter(ctx, ns, args, 'address');
  if (typeof filter === 'number') return filter;
  const p = IpPrinter.for(opts);
  for (const found of filteredDevices(ns, filter)) {
    // A scope selector shows only the addresses of that scope, and devices that have one.
    const dev = filter.scope === null ? found : withScope(found, filter.scope);
    const has = opts.family === 'inet' ? dev.ipv4.length > 0 : opts.family === 'inet6' ? dev.ipv6.length > 0 : filter.scope === null || dev.ipv4.length + dev.ipv6.length > 0;
    if (!has) continue;
    if (opts.family === 'link') {
      // -0: the devices alone, as `ip addr` heads them.
      p.openObject();
      printLinkHeader(p, dev, false);
      p.nl();
      p.closeObject();
      continue;
    }
    if (opts.oneline && !opts.json && !opts.brief) {
      // -o: one line per address, prefixed with the device.
      const addrs = new IpPrinter(false, false, p.color);
      printAddresses(addrs, dev, opts.family, filter.label);
      const lines = addrs.finish().split('\n');
      for (let i = 0; i + 1 < lines.length; i += 2) p.fp(`${dev.ifindex}: ${dev.name}${lines[i]!}\\${lines[i + 1]!}\n`);
      continue;
    }
    if (filter.label !== null) {
      // A label selects addresses only: no link lines.
      if (!opts.json) printAddresses(p, dev, opts.family, filter.label);
      continue;
    }
    p.openObject();
    if (opts.brief) {
      printLinkBrief(p, dev, false);
      if (!opts.json) p.fp(briefAddresses(p, dev, opts.family) + '\n');
      else printBriefAddresses(p, dev, opts.family);
    } else if (opts.family === 'inet6' && filter.dev === null && !opts.json) {
      // With -6 the kernel answers without the IPv4-side attributes (qdisc, group, link-netns).
      const text = new IpPrinter(false, false, p.color);
      printLinkHeader(text, dev, false, false);
      p.fp(text.finish().replace(/qdisc \S+ /, '').replace(/group \S+ /, '').replace(/ link-netns(id)? \S+/, '') + '\n');
      printAddresses(p, dev, opts.family);
    } else {
      printLinkHeader(p, dev, false, opts.family === null);
      if (opts.details) printLinkDetails(p, dev, false);
      p.nl();
      printAddresses(p, dev, opts.family);
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

function addrFlush(ctx: ProcContext, opts: IpOptions, args: string[]): number {
  const ns = opts.ns;
  if (args.length === 0) {
    ctx.stderr.write('Flush requires arguments.\n');
    return 1;
  }
  let devName: string | null = null;
  let scope: string | null = null;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === 'dev') devName = nextArg(ctx, args, i++);
    else if (a === 'scope') scope = nextArg(ctx, args, i++);
    else if (a === 'label' || a === 'to') i++;
    else devName = a;
  }
  const devs = devName === null ? ns.sortedDevices() : [ns.device(devName)];
  if (devs[0] === undefined) {
    ctx.stderr.write(`Device "${devName}" does not exist.\n`);
    return 1;
  }
  for (const dev of devs) {
    if (opts.family !== 'inet6') flushIpv4Addresses(dev!);
    if (opts.family === 'inet') continue;
    // Each address deleted as by hand, its prefix route with it.
    for (const a of dev!.ipv6.filter((x) => x.scope !== 'host' && (scope === null || x.scope === scope))) deleteIpv6Address(dev!, a.address);
  }
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
  if (matches(cmd, 'flush')) return addrFlush(ctx, opts, rest);
  if (matches(cmd, 'help')) fatal(ctx, ADDR_USAGE);
  fatal(ctx, `Command "${cmd}" is unknown, try "ip address help".`);
}
