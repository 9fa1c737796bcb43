// `ip maddr`: the multicast addresses each device listens to. They follow from
// the device's state as the kernel joins them: all-nodes (ff02::1, ff01::1)
// from registration, 224.0.0.1 while up, a solicited-node group per IPv6
// address, and on Ethernet-like devices their link-layer mappings, plus
// addresses added by hand.
import { formatMac, parseMac, solicitedNode, type Mac } from '../../kernel/addr';
import type { Device } from '../../kernel/device';
import type { ProcContext } from '../process';
import type { IpOptions } from './ip';
import { IpPrinter } from './print';
import { fatal, matches, nextArg } from './utils';

const ALL_NODES_MAC: Mac = 0x333300000001;
const ALL_SYSTEMS_MAC: Mac = 0x01005e000001;

const USAGE = `Usage: ip maddr [ add | del ] MULTIADDR dev STRING
       ip maddr show [ dev STRING ]
`;

interface Memberships {
  link: Array<{ mac: Mac; isStatic: boolean }>;
  inet: string[];
  inet6: string[];
}

function memberships(dev: Device): Memberships {
  const solicited = dev.kind.name === 'loopback' ? [] : [...dev.ipv6].sort((a, b) => b.seq - a.seq).map((a) => solicitedNode(a.address));
  const link: Memberships['link'] = [];
  if (dev.kind.linkType === 'ether') {
    link.push({ mac: ALL_NODES_MAC, isStatic: false });
    if (dev.adminUp) link.push({ mac: ALL_SYSTEMS_MAC, isStatic: false });
    for (const s of [...solicited].reverse()) link.push({ mac: s.mac, isStatic: false });
    for (const mac of dev.staticMulticast) link.push({ mac, isStatic: true });
  }
  return { link, inet: dev.adminUp ? ['224.0.0.1'] : [], inet6: [...solicited.map((s) => s.group), 'ff02::1', 'ff01::1'] };
}

function show(ctx: ProcContext, opts: IpOptions, args: string[]): number {
  let devName: string | null = null;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === 'dev') devName = nextArg(ctx, args, i++);
    else if (matches(a, 'help')) fatal(ctx, USAGE.trimEnd());
    else devName = a;
  }
  const p = IpPrinter.for(opts);
  for (const dev of opts.ns.sortedDevices()) {
    if (devName !== null && dev.name !== devName) continue;
    const m = memberships(dev);
    p.openObject();
    p.number('any', 'ifindex', '%d:', dev.ifindex);
    p.string('json', 'ifname', '', dev.name);
    // iproute2 paints the tab with the name.
    p.fp(p.paint('ifname', `\t${dev.name}`));
    p.nl();
    p.openArray('maddr');
    if (opts.family === null) {
      for (const { mac, isStatic } of m.link) {
        p.openObject();
        p.fp('\tlink  ');
        p.string('any', 'link', '%s', formatMac(mac), 'mac');
        if (isStatic) p.string('any', 'features', ' %s', 'static');
        p.nl();
        p.closeObject();
      }
    }
    const groups: Array<['inet' | 'inet6', string]> = [...(opts.family !== 'inet6' ? m.inet.map((g) => ['inet', g] as ['inet', string]) : []), ...(opts.family !== 'inet' ? m.inet6.map((g) => ['inet6', g] as ['inet6', string]) : [])];
    for (const [family, group] of groups) {
      p.openObject();
      p.string('any', 'family', '\t%-5s ', family);
      p.string('any', 'address', '%s', group, family);
      p.nl();
      p.closeObject();
    }
    p.closeArray();
    p.closeObject();
  }
  ctx.stdout.write(p.finish());
  return 0;
}

/** `ip maddr add|del LLADDR dev DEV`: a static link-layer membership (SIOCADDMULTI). */
function modify(ctx: ProcContext, opts: IpOptions, add: boolean, args: string[]): number {
  let devName: string | null = null;
  let addr: string | null = null;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === 'dev') devName = nextArg(ctx, args, i++);
    else addr = a === 'address' ? nextArg(ctx, args, i++) : a;
  }
  if (devName === null || addr === null) fatal(ctx, 'Not enough information: "dev" is required.', 1);
  const mac = parseMac(addr);
  if (mac === null) fatal(ctx, `Invalid "address": ${addr}`, 1);
  const dev = opts.ns.device(devName);
  if (!dev) {
    ctx.stderr.write('ioctl: No such device\n');
    return 1;
  }
  const at = dev.staticMulticast.indexOf(mac);
  if (add) {
    if (at < 0) dev.staticMulticast.push(mac);
    return 0;
  }
  if (at < 0) {
    ctx.stderr.write('ioctl: No such file or directory\n');
    return 1;
  }
  dev.staticMulticast.splice(at, 1);
  return 0;
}

export function ipMaddr(ctx: ProcContext, opts: IpOptions, args: string[]): number {
  const cmd = args[0];
  if (cmd === undefined || matches(cmd, 'list') || matches(cmd, 'show') || matches(cmd, 'lst')) return show(ctx, opts, args.slice(1));
  if (matches(cmd, 'add')) return modify(ctx, opts, true, args.slice(1));
  if (matches(cmd, 'delete')) return modify(ctx, opts, false, args.slice(1));
  if (matches(cmd, 'help')) fatal(ctx, USAGE.trimEnd());
  ctx.stderr.write(`Command "${cmd}" is unknown, try "ip maddr help".\n`);
  return 255;
}
