// `bridge` (iproute2): bridge ports and forwarding databases.
import { formatMac, type Mac } from '../kernel/addr';
import type { Device } from '../kernel/device';
import { portForwarding, setBridgePort, type PortSettings } from '../kernel/links/bridge';
import { STRERROR } from '../kernel/errno';
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

/** The port flags `-d` adds on a second line. */
function portDetails(port: Device): string {
  return `    hairpin ${port.portHairpin ? 'on' : 'off'} guard off root_block off fastleave off learning on flood on mcast_flood on bcast_flood on mcast_router 1 mcast_to_unicast off neigh_suppress off vlan_tunnel off isolated off locked off \n`;
}

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

const LINK_SET_USAGE = `Usage: bridge link set dev DEV [ cost COST ] [ priority PRIO ] [ state STATE ]
                               [ guard {on | off} ]
                               [ hairpin {on | off} ]
                               [ fastleave {on | off} ]
                               [ root_block {on | off} ]
                               [ learning {on | off} ]
                               [ learning_sync {on | off} ]
                               [ flood {on | off} ]
                               [ mcast_router MULTICAST_ROUTER ]
                               [ mcast_flood {on | off} ]
                               [ bcast_flood {on | off} ]
                               [ mcast_to_unicast {on | off} ]
                               [ neigh_suppress {on | off} ]
                               [ vlan_tunnel {on | off} ]
                               [ isolated {on | off} ]
                               [ locked {on | off} ]
                               [ hwmode {vepa | veb} ]
                               [ backup_port DEVICE ] [ nobackup_port ]
                               [ self ] [ master ]
       bridge link show [dev DEV]
`;

/** C's atoi: leading digits after an optional sign, else 0. */
function atoi(text: string): number {
  const m = /^\s*([+-]?\d+)/.exec(text);
  return m ? Number(m[1]) : 0;
}

/**
 * `bridge link set` (brlink_modify): the port settings modelled here. The
 * cost goes to the kernel as a u32 unless 0, the priority as an s16 unless negative.
 */
function linkSet(ctx: ProcContext, args: string[]): number {
  let devName: string | null = null;
  const settings: PortSettings = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a !== 'dev' && a !== 'hairpin' && a !== 'cost' && a !== 'priority') {
      ctx.stderr.write(LINK_SET_USAGE);
      return 255;
    }
    const value = args[++i];
    if (value === undefined) {
      ctx.stderr.write('Command line is not complete. Try option "help"\n');
      return 255;
    }
    if (a === 'dev') devName = value;
    else if (a === 'hairpin') {
      if (value !== 'on' && value !== 'off') {
        ctx.stderr.write(`Error: argument of "hairpin" must be one of "off", "on", not "${value}"\n`);
        return 234;
      }
      settings.hairpin = value === 'on';
    } else if (a === 'cost') {
      const cost = atoi(value) >>> 0;
      if (cost !== 0) settings.cost = cost;
      else delete settings.cost;
    } else {
      const priority = (atoi(value) << 16) >> 16;
      if (priority >= 0) settings.priority = priority;
      else delete settings.priority;
    }
  }
  if (devName === null) {
    ctx.stderr.write('Device is a required argument.\n');
    return 255;
  }
  const dev = ctx.ns.device(devName);
  if (!dev) {
    ctx.stderr.write(`Cannot find bridge device "${devName}"\n`);
    return 255;
  }
  const r = setBridgePort(dev, settings);
  if (!r.ok) {
    ctx.stderr.write(`RTNETLINK answers: ${STRERROR[r.errno]}\n`);
    return 255;
  }
  return 0;
}

interface Options {
  details: boolean;
}

function link(ctx: ProcContext, args: string[], options: Options): number {
  const cmd = args[0];
  if (cmd === 'set') return linkSet(ctx, args.slice(1));
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
    if (options.details) ctx.stdout.write(portDetails(dev));
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
  const options: Options = { details: false };
  let at = 1;
  // bridge.c's main loop: options before the object, -opt or --opt, any prefix.
  for (; at < argv.length && argv[at]!.startsWith('-'); at++) {
    const opt = argv[at]!.startsWith('--') ? argv[at]!.slice(1) : argv[at]!;
    if (matches(opt, '-stats') || matches(opt, '-statistics') || matches(opt, '-oneline')) continue;
    if (matches(opt, '-details')) options.details = true;
    else {
      ctx.stderr.write(`Option "${opt}" is unknown, try "bridge help".\n`);
      return 255;
    }
  }
  const object = argv[at];
  if (object === undefined || matches(object, 'help')) {
    ctx.stderr.write(USAGE);
    return 255;
  }
  if (matches(object, 'link')) return link(ctx, argv.slice(at + 1), options);
  if (matches(object, 'fdb')) return fdb(ctx, argv.slice(at + 1));
  ctx.stderr.write(`Object "${object}" is unknown, try "bridge help".\n`);
  return 255;
}

export const bridge = program(run);
