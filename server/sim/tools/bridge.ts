// `bridge` (iproute2): bridge ports and forwarding databases.
import { formatMac, type Mac } from '../kernel/addr';
import type { Device } from '../kernel/device';
import { portForwarding } from '../kernel/links/bridge';
import { flagList } from './ip/linkinfo';
import { matches } from './ip/utils';
import { program, type ProcContext } from './process';

const USAGE = `Usage: bridge [ OPTIONS ] OBJECT { COMMAND | help }
       bridge [ -force ] -batch filename
where  OBJECT := { link | fdb | mdb | vlan | monitor }
       OPTIONS := { -V[ersion] | -s[tatistics] | -d[etails] |
                    -o[neline] | -t[imestamp] | -n[etns] name |
                    -c[ompressvlans] -color -p[retty] -j[son] }
`;

function portLine(port: Device): string {
  const bridge = port.master!;
  // The tool names the link by looking its index up in its own namespace, wherever the peer really is.
  const sameIndex = port.peer ? port.ns.devices.get(port.peer.ifindex) : undefined;
  const peer = port.peer ? (sameIndex ? `@${sameIndex.name}` : `@if${port.peer.ifindex}`) : '';
  const state = portForwarding(bridge, port) ? 'forwarding' : 'disabled';
  return `${port.ifindex}: ${port.name}${peer}: <${flagList(port).join(',')}> mtu ${port.mtu} master ${bridge.name} state ${state} priority ${port.portPriority} cost ${port.portCost} \n`;
}

function findDevice(ctx: ProcContext, name: string): Device | null {
  const dev = ctx.ns.device(name);
  if (!dev) ctx.stderr.write(`Cannot find device "${name}"\n`);
  return dev ?? null;
}

function link(ctx: ProcContext, args: string[]): number {
  const cmd = args[0];
  if (cmd === 'set') {
    let dev: Device | null = null;
    for (let i = 1; i < args.length; i++) {
      const a = args[i]!;
      if (a === 'dev') {
        dev = findDevice(ctx, args[++i] ?? '');
        if (!dev) return 255;
      } else if (a === 'cost' || a === 'priority') {
        const value = Number(args[++i]);
        if (!dev?.master || !Number.isInteger(value)) {
          ctx.stderr.write(`Invalid "${a}" value\n`);
          return 255;
        }
        if (a === 'cost') dev.portCost = value;
        else dev.portPriority = value;
      }
    }
    return 0;
  }
  let only: Device | null = null;
  const rest = cmd === undefined || matches(cmd, 'show') || matches(cmd, 'list') ? args.slice(1) : args;
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === 'dev') {
      only = findDevice(ctx, rest[++i] ?? '');
      if (!only) return 255;
    }
  }
  for (const dev of ctx.ns.sortedDevices()) {
    if (!dev.master || (only && dev !== only)) continue;
    ctx.stdout.write(portLine(dev));
  }
  return 0;
}

/** A device's own address filters ("self"): the multicast groups its stacks joined. */
function selfEntries(dev: Device): Mac[] {
  if (dev.kind.name === 'loopback') return [];
  const groups: Mac[] = [0x333300000001];
  if (dev.adminUp && dev.bridge) groups.push(0x01005e00006a, 0x33330000006a);
  if (dev.adminUp) groups.push(0x01005e000001);
  if (dev.ipv6.some((a) => a.scope === 'link')) groups.push(0x3333ff000000 + (dev.mac % 0x1000000));
  return groups;
}

function fdb(ctx: ProcContext, args: string[]): number {
  let bridge: Device | null = null;
  let only: Device | null = null;
  const rest = args[0] === undefined || matches(args[0], 'show') || matches(args[0], 'list') ? args.slice(1) : args;
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === 'br') {
      bridge = findDevice(ctx, rest[++i] ?? '');
      if (!bridge) return 255;
    } else if (rest[i] === 'dev') {
      only = findDevice(ctx, rest[++i] ?? '');
      if (!only) return 255;
    }
  }
  for (const dev of ctx.ns.sortedDevices()) {
    if (only && dev !== only) continue;
    if (bridge && dev !== bridge && dev.master !== bridge) continue;
    const devText = only ? '' : `dev ${dev.name} `;
    const owner = dev.bridge ? dev : dev.master;
    if (owner?.bridge) {
      const entries = [...owner.bridge.fdb].filter(([, e]) => e.port === dev);
      for (const [mac, e] of entries.filter(([, e]) => !e.local)) ctx.stdout.write(`${formatMac(mac)} ${devText}master ${owner.name} \n`);
      for (const [mac, e] of entries.filter(([, e]) => e.local)) ctx.stdout.write(`${formatMac(mac)} ${devText}master ${owner.name} permanent\n`);
    }
    for (const mac of selfEntries(dev)) ctx.stdout.write(`${formatMac(mac)} ${devText}self permanent\n`);
  }
  return 0;
}

function run(ctx: ProcContext, argv: string[]): number {
  const object = argv[1];
  if (object === undefined || matches(object, 'help')) {
    ctx.stderr.write(USAGE);
    return 255;
  }
  if (matches(object, 'link')) return link(ctx, argv.slice(2));
  if (matches(object, 'fdb')) return fdb(ctx, argv.slice(2));
  ctx.stderr.write(`Object "${object}" is unknown, try "bridge help".\n`);
  return 255;
}

export const bridge = program(run);
