// `bridge` (iproute2 6.1): bridge ports (`link`), forwarding databases
// (`fdb`), and VLANs (`vlan`) as a kernel without VLAN filtering has them.
import { formatMac, isMulticastMac, parseMac, type Mac } from '../kernel/addr';
import { isPortFlag, PORT_STATES, type Device, type FdbEntry, type PortFlag } from '../kernel/device';
import { fail, OK, type KResult } from '../kernel/errno';
import { addDeviceAddress, deleteDeviceAddress } from '../kernel/link';
import { fdbAdd, fdbDelete, fdbEntries, portState, setBridgePort, type PortChange } from '../kernel/links/bridge';
import type { NetNs } from '../kernel/netns';
import { IpPrinter } from './ip/print';
import { flagList } from './ip/linkinfo';
import { colorOption, fatal, invarg, IpExit, matches, namedNetns, netlinkError, nextArg } from './ip/utils';
import { program, type ProcContext } from './process';

const USAGE = `Usage: bridge [ OPTIONS ] OBJECT { COMMAND | help }
       bridge [ -force ] -batch filename
where  OBJECT := { link | fdb | mdb | vlan | monitor }
       OPTIONS := { -V[ersion] | -s[tatistics] | -d[etails] |
                    -o[neline] | -t[imestamp] | -n[etns] name |
                    -c[ompressvlans] -color -p[retty] -j[son] }
`;

const LINK_USAGE = `Usage: bridge link set dev DEV [ cost COST ] [ priority PRIO ] [ state STATE ]
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

interface BridgeOptions {
  stats: boolean;
  details: boolean;
  json: boolean;
  pretty: boolean;
  color: boolean;
}

/** The tool's failures (rtnl_talk's and its own) all exit with 255. */
const FAILED = 255;

// --- link ---

/** `@LINK` after a port's name: the tool looks the peer's index up in its own namespace, wherever the peer really is. */
function linkName(port: Device): string | null {
  if (!port.peer) return null;
  return port.ns.devices.get(port.peer.ifindex)?.name ?? `if${port.peer.ifindex}`;
}

/** The `-d` line of a port: its on/off settings, in print_protinfo's order. */
const DETAIL_FLAGS: Array<PortFlag | 'mcast_router'> = ['hairpin', 'guard', 'root_block', 'fastleave', 'learning', 'flood', 'mcast_flood', 'bcast_flood', 'mcast_router', 'mcast_to_unicast', 'neigh_suppress', 'vlan_tunnel', 'isolated', 'locked'];

function printPort(p: IpPrinter, port: Device, details: boolean): void {
  const bridge = port.master!;
  const settings = port.brport!;
  p.openObject();
  p.number('any', 'ifindex', '%d: ', port.ifindex);
  const link = linkName(port);
  if (link !== null) p.string('json', 'link', '', link);
  p.string('json', 'ifname', '', port.name);
  p.string('text', null, '%s: ', link === null ? port.name : `${port.name}@${link}`, 'ifname');
  p.openArray('flags', '<');
  p.fp(flagList(port).join(','));
  for (const flag of flagList(port)) p.string('json', null, '', flag);
  p.closeArray('> ');
  p.number('any', 'mtu', 'mtu %u ', port.mtu);
  p.string('any', 'master', 'master %s ', bridge.name);
  p.string('any', 'state', 'state %s ', portState(bridge, port));
  p.number('any', 'priority', 'priority %u ', settings.priority);
  p.number('any', 'cost', 'cost %u ', settings.cost);
  if (details) {
    p.fp('\n    ');
    for (const flag of DETAIL_FLAGS) {
      if (flag === 'mcast_router') p.number('any', flag, 'mcast_router %u ', settings.mcastRouter);
      else p.bool('any', flag, `${flag} ${settings.flags[flag] ? 'on' : 'off'} `, settings.flags[flag]);
    }
  }
  p.nl();
  p.closeObject();
}

function linkShow(ctx: ProcContext, opts: BridgeOptions, args: string[]): number {
  let only: Device | undefined;
  for (let i = 0; i < args.length; i++) {
    if (args[i] !== 'dev') continue;
    const name = nextArg(ctx, args, i++);
    if (only) fatal(ctx, `Error: duplicate "dev": "${name}" is the second value.`);
    only = ctx.ns.device(name);
    if (!only) fatal(ctx, `Cannot find device "${name}"`);
  }
  const p = IpPrinter.for(opts);
  for (const dev of ctx.ns.sortedDevices()) if (dev.master?.bridge && (!only || dev === only)) printPort(p, dev, opts.details);
  ctx.stdout.write(p.finish());
  return 0;
}

/** brlink_modify: the change asked for, then the kernel's answer for the device's bridge (`master`) or the device itself (`self`). */
function linkSet(ctx: ProcContext, args: string[]): number {
  let name: string | null = null;
  const change: PortChange = { flags: {} };
  let self = false;
  let master = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === 'dev') name = nextArg(ctx, args, i++);
    else if (isPortFlag(a) || a === 'learning_sync') {
      const value = nextArg(ctx, args, i++);
      if (value !== 'on' && value !== 'off') fatal(ctx, `Error: argument of "${a}" must be one of "off", "on", not "${value}"`, 234);
      // learning_sync is for switch hardware: a bridge of veths takes it and shows nothing.
      if (isPortFlag(a)) change.flags[a] = value === 'on';
    } else if (a === 'cost') {
      // atoi; iproute2 sends only a cost above zero.
      const cost = atoi(nextArg(ctx, args, i++));
      if (cost > 0) change.cost = cost;
    } else if (a === 'priority') {
      const priority = atoi(nextArg(ctx, args, i++));
      if (priority >= 0) change.priority = priority & 0xffff;
    } else if (a === 'state') {
      const value = nextArg(ctx, args, i++);
      const state = /^[+-]?\d+$/.test(value) ? Number(value) : PORT_STATES.indexOf(value as (typeof PORT_STATES)[number]);
      if (state < 0 && !/^[+-]?\d+$/.test(value)) fatal(ctx, 'Error: invalid STP port state');
      change.state = state & 0xff;
    } else if (a === 'mcast_router') change.mcastRouter = atoi(nextArg(ctx, args, i++)) & 0xff;
    else if (a === 'hwmode') {
      const mode = nextArg(ctx, args, i++);
      if (mode !== 'vepa' && mode !== 'veb') fatal(ctx, 'Mode argument must be "vepa" or "veb".');
      self = true;
    } else if (a === 'self') self = true;
    else if (a === 'master') master = true;
    else {
      ctx.stderr.write(LINK_USAGE);
      return FAILED;
    }
  }
  if (name === null) fatal(ctx, 'Device is a required argument.');
  const dev = ctx.ns.device(name);
  if (!dev) fatal(ctx, `Cannot find bridge device "${name}"`);
  // rtnl_bridge_setlink: the master's handler unless only `self` was asked for, then the device's own (none here but the bridge's).
  let result: KResult = OK;
  if (!self || master) result = dev.master?.bridge ? setBridgePort(dev, change) : fail('EOPNOTSUPP');
  if (result.ok && self && !dev.bridge) result = fail('EOPNOTSUPP');
  if (!result.ok) return netlinkError(ctx, result, FAILED);
  return 0;
}

/** C's atoi: leading blanks, a sign and digits; 0 when there are none. */
function atoi(text: string): number {
  const m = /^\s*([+-]?\d+)/.exec(text);
  return m ? Number(m[1]) | 0 : 0;
}

function link(ctx: ProcContext, opts: BridgeOptions, args: string[]): number {
  const cmd = args[0];
  if (cmd === undefined) return linkShow(ctx, opts, []);
  if (matches(cmd, 'set') || matches(cmd, 'change')) return linkSet(ctx, args.slice(1));
  if (matches(cmd, 'show') || matches(cmd, 'lst') || matches(cmd, 'list')) return linkShow(ctx, opts, args.slice(1));
  if (matches(cmd, 'help')) {
    ctx.stderr.write(LINK_USAGE);
    return FAILED;
  }
  ctx.stderr.write(`Command "${cmd}" is unknown, try "bridge link help".\n`);
  return FAILED;
}

// --- fdb ---

const FDB_USAGE = `Usage: bridge fdb { add | append | del | replace } ADDR dev DEV
              [ self ] [ master ] [ use ] [ router ] [ extern_learn ]
              [ sticky ] [ local | static | dynamic ] [ vlan VID ]
              { [ dst IPADDR ] [ port PORT] [ vni VNI ] | [ nhid NHID ] }
	      [ via DEV ] [ src_vni VNI ]
       bridge fdb [ show [ br BRDEV ] [ brport DEV ] [ vlan VID ]
              [ state STATE ] [ dynamic ] ]
       bridge fdb get [ to ] LLADDR [ br BRDEV ] { brport | dev } DEV
              [ vlan VID ] [ vni VNI ] [ self ] [ master ] [ dynamic ]
       bridge fdb flush dev DEV [ brport DEV ] [ vlan VID ]
              [ self ] [ master ] [ [no]permanent | [no]static | [no]dynamic ]
              [ [no]added_by_user ] [ [no]extern_learn ] [ [no]sticky ]
              [ [no]offloaded ]
`;

/** NUD states as the fdb reports them: local entries and a device's own filters are permanent, static ones NOARP, learned ones reachable. */
const NUD_PERMANENT = 0x80;
const NUD_NOARP = 0x40;
const NUD_REACHABLE = 0x02;
const NUD_STALE = 0x04;

function nudOf(kind: FdbEntry['kind']): number {
  return kind === 'local' ? NUD_PERMANENT : kind === 'static' ? NUD_NOARP : NUD_REACHABLE;
}

/** state_n2a */
function stateText(nud: number): string {
  if (nud & NUD_PERMANENT) return 'permanent';
  if (nud & NUD_NOARP) return 'static';
  if (nud & NUD_STALE) return 'stale';
  return '';
}

/** state_a2n: a name or a number; null when it is neither. */
function parseState(text: string): number | null {
  if (matches(text, 'permanent')) return NUD_PERMANENT;
  if (matches(text, 'static') || matches(text, 'temp')) return NUD_NOARP;
  if (matches(text, 'stale')) return NUD_STALE;
  if (matches(text, 'reachable') || matches(text, 'dynamic')) return NUD_REACHABLE;
  if (text === 'all') return ~0;
  return /^(0x[0-9a-f]+|\d+)$/i.test(text) ? Number(text) : null;
}

/** A device's own address filters (`self`): what the user added, then the multicast groups its stacks joined. */
function selfEntries(dev: Device): Mac[] {
  if (dev.kind.name === 'loopback') return [];
  const added = dev.addedAddresses;
  const groups: Mac[] = [0x333300000001];
  if (dev.adminUp && dev.bridge) groups.push(0x01005e00006a, 0x33330000006a);
  if (dev.adminUp) groups.push(0x01005e000001);
  if (dev.ipv6.some((a) => a.scope === 'link')) groups.push(0x3333ff000000 + (dev.mac % 0x1000000));
  return [...added.filter((mac) => !isMulticastMac(mac)), ...groups, ...added.filter((mac) => isMulticastMac(mac))];
}

interface FdbLine {
  mac: Mac;
  dev: Device;
  nud: number;
  /** The bridge, for its entries; null for the device's own filters (`self`). */
  master: Device | null;
  entry: FdbEntry | null;
}

/** rtnl_fdb_dump: device by device, a port's entries in its bridge first, then the device's own. */
function fdbLines(ns: NetNs): FdbLine[] {
  const lines: FdbLine[] = [];
  for (const dev of ns.sortedDevices()) {
    const owner = dev.bridge ? dev : dev.master?.bridge ? dev.master : null;
    if (owner) {
      for (const [mac, entry] of fdbEntries(owner)) if (entry.port === dev) lines.push({ mac, dev, nud: nudOf(entry.kind), master: owner, entry });
    }
    for (const mac of selfEntries(dev)) lines.push({ mac, dev, nud: NUD_PERMANENT, master: null, entry: null });
  }
  return lines;
}

function fdbShow(ctx: ProcContext, opts: BridgeOptions, args: string[]): number {
  let only: string | null = null;
  let bridgeName: string | null = null;
  let state = 0;
  let vlan = 0;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === 'brport' || a === 'dev') only = nextArg(ctx, args, i++);
    else if (a === 'br') bridgeName = nextArg(ctx, args, i++);
    else if (a === 'vlan') {
      const value = nextArg(ctx, args, i++);
      if (vlan) fatal(ctx, `Error: duplicate "vlan": "${value}" is the second value.`);
      vlan = atoi(value);
    } else if (a === 'state') {
      const value = nextArg(ctx, args, i++);
      const nud = parseState(value);
      if (nud === null) invarg(ctx, 'invalid state', value);
      state |= nud;
    } else if (a === 'dynamic') state |= NUD_REACHABLE;
    else if (matches(a, 'help')) {
      ctx.stderr.write(FDB_USAGE);
      return FAILED;
    }
  }
  let bridge: Device | undefined;
  if (bridgeName !== null) {
    bridge = ctx.ns.device(bridgeName);
    if (!bridge) fatal(ctx, `Cannot find bridge device "${bridgeName}"`);
  }
  let filter: Device | undefined;
  if (only !== null) {
    filter = ctx.ns.device(only);
    if (!filter) fatal(ctx, `Cannot find device "${only}"`);
  }
  const p = IpPrinter.for(opts);
  for (const line of fdbLines(ctx.ns)) {
    if (bridge && line.dev !== bridge && line.dev.master !== bridge) continue;
    if (bridge && !bridge.bridge) continue;
    if (filter && line.dev !== filter) continue;
    if (state && !(line.nud & state)) continue;
    // Entries here carry no VLAN: a VLAN filter matches none of them.
    if (vlan) continue;
    p.openObject();
    p.string('any', 'mac', '%s ', formatMac(line.mac), 'mac');
    if (!filter) p.string('any', 'ifname', 'dev %s ', line.dev.name, 'ifname');
    if (opts.stats && line.entry) {
      const now = ctx.world.now;
      p.number('any', 'used', 'used %d', Math.floor((now - line.entry.usedUs) / 1e6));
      p.number('any', 'updated', '/%d ', Math.floor((now - line.entry.updatedUs) / 1e6));
    }
    p.openArray('flags');
    if (line.master === null) p.string('any', null, '%s ', 'self');
    p.closeArray();
    if (line.master) p.string('any', 'master', 'master %s ', line.master.name);
    p.string('any', 'state', '%s\n', stateText(line.nud));
    p.closeObject();
  }
  ctx.stdout.write(p.finish());
  return 0;
}

/** fdb_modify for add, append, replace and del: to the bridge of a port (`master`), or to the device's own filters (`self`, the default). */
function fdbModify(ctx: ProcContext, command: 'add' | 'append' | 'replace' | 'del', args: string[]): number {
  let name: string | null = null;
  let address: string | null = null;
  let self = false;
  let master = false;
  let nud = NUD_NOARP;
  let vlan = -1;
  for (let i = 0; i < args.length; i++) {
    let a = args[i]!;
    if (a === 'dev') name = nextArg(ctx, args, i++);
    else if (a === 'self') self = true;
    else if (matches(a, 'master')) master = true;
    else if (matches(a, 'local') || matches(a, 'permanent')) nud |= NUD_PERMANENT;
    else if (matches(a, 'temp') || matches(a, 'static')) nud |= NUD_REACHABLE;
    else if (matches(a, 'dynamic')) nud = (nud | NUD_REACHABLE) & ~NUD_NOARP;
    else if (matches(a, 'vlan')) {
      if (vlan >= 0) fatal(ctx, `Error: either "vlan" is duplicate, or "${a}" is a garbage.`);
      vlan = atoi(nextArg(ctx, args, i++));
    } else {
      if (a === 'to') a = nextArg(ctx, args, i++);
      if (matches(a, 'help')) {
        ctx.stderr.write(FDB_USAGE);
        return FAILED;
      }
      if (address !== null) fatal(ctx, `Error: either "to" is duplicate, or "${a}" is a garbage.`);
      address = a;
    }
  }
  if (name === null || address === null) fatal(ctx, 'Device and address are required arguments.');
  if (!self && !master) self = true;
  if (!(nud & (NUD_PERMANENT | NUD_REACHABLE))) nud |= NUD_PERMANENT;
  const mac = /^([0-9a-f]{1,2}:){5}[0-9a-f]{1,2}/i.test(address) ? parseMac(address.split(':').map((b) => b.padStart(2, '0')).join(':').slice(0, 17)) : null;
  if (mac === null) fatal(ctx, `Invalid mac address ${address}`);
  const dev = ctx.ns.device(name);
  if (!dev) fatal(ctx, `Cannot find device "${name}"`);
  const kind: FdbEntry['kind'] = nud & NUD_PERMANENT ? 'local' : nud & NUD_NOARP ? 'static' : 'dynamic';
  const result = fdbChange(dev, mac, { command, kind, vlan, master, self });
  if (!result.ok) return netlinkError(ctx, result, FAILED);
  return 0;
}

/** rtnl_fdb_add and rtnl_fdb_del: the port's bridge first when asked (`master`), then the device itself (`self`). */
function fdbChange(dev: Device, mac: Mac, request: { command: 'add' | 'append' | 'replace' | 'del'; kind: FdbEntry['kind']; vlan: number; master: boolean; self: boolean }): KResult {
  const { command, kind, vlan, master, self } = request;
  if (master) {
    if (!dev.master?.bridge) return fail('EOPNOTSUPP');
    const result = command === 'del' ? fdbDelete(dev.master, dev, mac) : fdbAdd(dev.master, dev, mac, kind, command === 'add');
    if (!result.ok) return result;
  }
  if (!self) return OK;
  if (dev.bridge) return command === 'del' ? fdbDelete(dev, dev, mac) : fdbAdd(dev, dev, mac, kind, command === 'add');
  // ndo_dflt_fdb_add: only permanent addresses, and no VLAN.
  if (command !== 'del' && (kind !== 'local' || vlan > 0)) return fail('EINVAL');
  return command === 'del' ? deleteDeviceAddress(dev, mac) : addDeviceAddress(dev, mac, command === 'add');
}

function fdb(ctx: ProcContext, opts: BridgeOptions, args: string[]): number {
  const cmd = args[0];
  if (cmd === undefined) return fdbShow(ctx, opts, []);
  if (matches(cmd, 'add')) return fdbModify(ctx, 'add', args.slice(1));
  if (matches(cmd, 'append')) return fdbModify(ctx, 'append', args.slice(1));
  if (matches(cmd, 'replace')) return fdbModify(ctx, 'replace', args.slice(1));
  if (matches(cmd, 'delete')) return fdbModify(ctx, 'del', args.slice(1));
  if (matches(cmd, 'show') || matches(cmd, 'lst') || matches(cmd, 'list')) return fdbShow(ctx, opts, args.slice(1));
  // This kernel has no bulk delete.
  if (matches(cmd, 'flush')) return netlinkError(ctx, fail('EOPNOTSUPP'), FAILED);
  if (matches(cmd, 'help')) {
    ctx.stderr.write(FDB_USAGE);
    return FAILED;
  }
  ctx.stderr.write(`Command "${cmd}" is unknown, try "bridge fdb help".\n`);
  return FAILED;
}

// --- vlan ---

/** Without VLAN filtering in the kernel, no port reports VLANs and none can be added. */
function vlan(ctx: ProcContext, opts: BridgeOptions, args: string[]): number {
  const cmd = args[0];
  if (cmd === undefined || matches(cmd, 'show') || matches(cmd, 'list') || matches(cmd, 'lst')) {
    for (let i = 1; i < args.length; i++) {
      if (args[i] !== 'dev') continue;
      const name = nextArg(ctx, args, i++);
      if (!ctx.ns.device(name)) fatal(ctx, `Cannot find device "${name}"`);
    }
    if (!opts.json) ctx.stdout.write('port              vlan-id\n');
    else ctx.stdout.write(IpPrinter.for(opts).finish());
    return 0;
  }
  if (matches(cmd, 'add') || matches(cmd, 'delete') || matches(cmd, 'set')) return netlinkError(ctx, fail('EOPNOTSUPP'), FAILED);
  ctx.stderr.write(`Command "${cmd}" is unknown, try "bridge vlan help".\n`);
  return FAILED;
}

const OBJECTS: Array<[string, (ctx: ProcContext, opts: BridgeOptions, args: string[]) => number]> = [
  ['link', link],
  ['fdb', fdb],
  ['vlan', vlan],
];

function run(ctx: ProcContext, argv: string[]): number {
  const opts: BridgeOptions = { stats: false, details: false, json: false, pretty: false, color: false };
  let ns = ctx.ns;
  let i = 1;
  try {
    for (; i < argv.length; i++) {
      let opt = argv[i]!;
      if (opt === '--') {
        i++;
        break;
      }
      if (!opt.startsWith('-')) break;
      if (opt.startsWith('--')) opt = opt.slice(1);
      if (matches(opt, '-help')) {
        ctx.stderr.write(USAGE);
        return FAILED;
      } else if (matches(opt, '-Version')) {
        ctx.stdout.write('bridge utility, 6.1.0\n');
        return 0;
      } else if (matches(opt, '-stats') || matches(opt, '-statistics')) opts.stats = true;
      else if (matches(opt, '-details')) opts.details = true;
      else if (matches(opt, '-oneline') || matches(opt, '-timestamp') || matches(opt, '-force') || opt === '-4' || opt === '-6') continue;
      else if (matches(opt, '-netns')) ns = namedNetns(ctx, argv[++i]); else if (colorOption(opt) !== null) opts.color = colorOption(opt)!;
      else if (matches(opt, '-compressvlans')) continue;
      else if (matches(opt, '-json')) opts.json = true;
      else if (matches(opt, '-pretty')) opts.pretty = true;
      else fatal(ctx, `Option "${opt}" is unknown, try "bridge help".`);
    }
    const object = argv[i];
    if (object === undefined || matches(object, 'help')) {
      ctx.stderr.write(USAGE);
      return FAILED;
    }
    const entry = OBJECTS.find(([keyword]) => matches(object, keyword));
    if (!entry) {
      ctx.stderr.write(`Object "${object}" is unknown, try "bridge help".\n`);
      return FAILED;
    }
    return entry[1](ns === ctx.ns ? ctx : { ...ctx, ns }, opts, argv.slice(i + 1));
  } catch (e) {
    if (e instanceof IpExit) return e.code;
    throw e;
  }
}

export const bridge = program(run);
