// `ip link`: add, delete, set and show devices (iproute2 ip/iplink.c).
import { isMulticastMac, parseMac } from '../../kernel/addr';
import { IFF_ALLMULTI, IFF_DYNAMIC, IFF_MULTICAST, IFF_NOARP, IFF_NOTRAILERS, IFF_PROMISC, MACVLAN_MODES, type Device, type LinkKind, type MacvlanMode, type VxlanConfig } from '../../kernel/device';
import { fail, type KernelError, type KResult } from '../../kernel/errno';
import {
  createLink, createMacvlan, createVethPair, createVxlan, deleteLink, LINK_KINDS, moveLink, releaseFromMaster, renameLink, setLinkAddress, setLinkDown,
  setLinkMaster, setLinkMtu, setLinkUp,
} from '../../kernel/link';
import { VXLAN_IANA_PORT, VXLAN_KERNEL_DEFAULT_PORT } from '../../kernel/links/vxlan';
import { setBridgePort, setBridgeSettings, type BridgeChange } from '../../kernel/links/bridge';
import { parseBridgeArgs, parseBridgeSlaveArgs } from './iplink-bridge';
import type { NetNs } from '../../kernel/netns';
import type { ProcContext } from '../process';
import type { IpOptions } from './ip';
import { parseU32 } from './iproute';
import { briefFlags, parseGroup, printLinkBrief, printLinkDetails, printLinkHeader, printLinkStats } from './linkinfo';
import { IpPrinter } from './print';
import { duparg, duparg2, fatal, invarg, IpExit, matches, netlinkError, nextArg, parseInteger, parseIpv4Loose } from './utils';
import { formatMac } from '../../kernel/addr';

const LINK_USAGE = `Usage: ip link add [link DEV | parentdev NAME] [ name ] NAME
		    [ txqueuelen PACKETS ]
		    [ address LLADDR ]
		    [ broadcast LLADDR ]
		    [ mtu MTU ] [index IDX ]
		    [ numtxqueues QUEUE_COUNT ]
		    [ numrxqueues QUEUE_COUNT ]
		    [ netns { PID | NAME } ]
		    type TYPE [ ARGS ]

	ip link delete { DEVICE | dev DEVICE | group DEVGROUP } type TYPE [ ARGS ]

	ip link set { DEVICE | dev DEVICE | group DEVGROUP }
			[ { up | down } ]
			[ type TYPE ARGS ]
		[ arp { on | off } ]
		[ dynamic { on | off } ]
		[ multicast { on | off } ]
		[ allmulticast { on | off } ]
		[ promisc { on | off } ]
		[ trailers { on | off } ]
		[ carrier { on | off } ]
		[ txqueuelen PACKETS ]
		[ name NEWNAME ]
		[ address LLADDR ]
		[ broadcast LLADDR ]
		[ mtu MTU ]
		[ netns { PID | NAME } ]
		[ link-netns NAME | link-netnsid ID ]
		[ alias NAME ]
		[ vf NUM [ mac LLADDR ]
			 [ vlan VLANID [ qos VLAN-QOS ] [ proto VLAN-PROTO ] ]
			 [ rate TXRATE ]
			 [ max_tx_rate TXRATE ]
			 [ min_tx_rate TXRATE ]
			 [ spoofchk { on | off} ]
			 [ query_rss { on | off} ]
			 [ state { auto | enable | disable} ]
			 [ trust { on | off} ]
			 [ node_guid EUI64 ]
			 [ port_guid EUI64 ] ]
		[ { xdp | xdpgeneric | xdpdrv | xdpoffload } { off |
			  object FILE [ { section | program } NAME ] [ verbose ] |
			  pinned FILE } ]
		[ master DEVICE ][ vrf NAME ]
		[ nomaster ]
		[ addrgenmode { eui64 | none | stable_secret | random } ]
		[ protodown { on | off } ]
		[ protodown_reason PREASON { on | off } ]
		[ gso_max_size BYTES ] | [ gso_max_segs PACKETS ]
		[ gro_max_size BYTES ]

	ip link show [ DEVICE | group GROUP ] [up] [master DEV] [vrf NAME] [type TYPE]
		[nomaster]

	ip link xstats type TYPE [ ARGS ]

	ip link afstats [ dev DEVICE ]
	ip link property add dev DEVICE [ altname NAME .. ]
	ip link property del dev DEVICE [ altname NAME .. ]

	ip link help [ TYPE ]

TYPE := { amt | bareudp | bond | bond_slave | bridge | bridge_slave |
          dsa | dummy | erspan | geneve | gre | gretap | gtp | ifb |
          ip6erspan | ip6gre | ip6gretap | ip6tnl |
          ipip | ipoib | ipvlan | ipvtap |
          macsec | macvlan | macvtap |
          netdevsim | nlmon | rmnet | sit | team | team_slave |
          vcan | veth | vlan | vrf | vti | vxcan | vxlan | wwan |
          xfrm | virt_wifi }
`;

function usage(ctx: ProcContext): never {
  return fatal(ctx, LINK_USAGE.trimEnd());
}

/** What iplink_parse collected from the arguments. */
interface LinkRequest {
  dev: string | null;
  name: string | null;
  /** `link DEV`: the device a new one stacks on. */
  link: string | null;
  up: boolean | null;
  mtu: number | null;
  address: number | null;
  netns: NetNs | null;
  master: Device | null | 'none';
  txqlen: number | null;
  group: number | null;
  /** `index IDX`: the ifindex a new device asks for. */
  index: number | null;
  /** Flags turned on and off (`arp off` turns IFF_NOARP on). */
  flagsOn: number;
  flagsOff: number;
  /** What the kernel answers a `carrier` or `protodown` change with: none of the lab's drivers implements them. */
  refused: KernelError | null;
  alias: string | null;
  type: string | null;
  /** Arguments after `type TYPE`. */
  typeArgs: string[];
}

function parseLinkArgs(ctx: ProcContext, ns: NetNs, args: string[]): LinkRequest {
  const req: LinkRequest = { dev: null, name: null, link: null, up: null, mtu: null, address: null, netns: null, master: null, txqlen: null, group: null, index: null, refused: null, flagsOn: 0, flagsOff: 0, alias: null, type: null, typeArgs: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === 'up') req.up = true;
    else if (a === 'down') req.up = false;
    else if (a === 'name') {
      const v = nextArg(ctx, args, i++);
      if (req.name !== null) duparg(ctx, 'name', v);
      if (v.length >= 16 || v.length === 0 || /[/:\s]/.test(v)) invarg(ctx, '"name" not a valid ifname', v);
      req.name = v;
    } else if (matches(a, 'address')) {
      const v = nextArg(ctx, args, i++);
      const mac = parseMac(v);
      if (mac === null) {
        const bad = v.split(':').find((byte) => !/^[0-9a-fA-F]{1,2}$/.test(byte));
        if (bad !== undefined) fatal(ctx, `"${bad}" is invalid lladdr.`, 1);
        fatal(ctx, `Invalid address length ${v.split(':').length} - must be 6 bytes`, 1);
      }
      req.address = mac;
    } else if (matches(a, 'txqueuelen') || a === 'qlen' || matches(a, 'txqlen')) {
      const v = nextArg(ctx, args, i++);
      req.txqlen = parseInteger(v) ?? invarg(ctx, 'Invalid "txqueuelen" value\n', v);
    } else if (a === 'mtu') {
      const v = nextArg(ctx, args, i++);
      if (req.mtu !== null) duparg(ctx, 'mtu', v);
      req.mtu = parseInteger(v) ?? invarg(ctx, 'Invalid "mtu" value\n', v);
    } else if (a === 'netns') {
      const v = nextArg(ctx, args, i++);
      if (req.netns !== null) duparg(ctx, 'netns', v);
      // A name in /run/netns, else the namespace of a process: the lab's only one is init (pid 1), in the root.
      const pid = ctx.host.namespaces.has(v) ? null : parseInteger(v);
      if (pid === null) req.netns = ctx.host.namespaces.get(v) ?? invarg(ctx, 'Invalid "netns" value\n', v);
      else if (pid === 1) req.netns = ctx.host.root;
      else throw new IpExit(netlinkError(ctx, fail('ESRCH')));
    } else if (a === 'index') {
      const v = nextArg(ctx, args, i++);
      const index = parseInteger(v);
      if (index === null || index < 0) invarg(ctx, 'Invalid "index" value\n', v);
      req.index = index;
    } else if (matches(a, 'master')) {
      const v = nextArg(ctx, args, i++);
      const master = ns.device(v);
      if (!master) invarg(ctx, 'Device does not exist\n', v);
      req.master = master;
    } else if (matches(a, 'nomaster')) req.master = 'none';
    else if (a === 'group') {
      const v = nextArg(ctx, args, i++);
      req.group = parseGroup(v) ?? invarg(ctx, 'Invalid "group" value\n', v);
    } else if (a in FLAG_SWITCHES || ['carrier', 'protodown'].includes(a)) {
      const v = nextArg(ctx, args, i++);
      if (v !== 'on' && v !== 'off') fatal(ctx, `Error: argument of "${a}" must be "on" or "off", not "${v}"`, 1);
      const sw = FLAG_SWITCHES[a];
      if (a === 'carrier') req.refused = fail('EOPNOTSUPP');
      else if (a === 'protodown') req.refused = fail('EOPNOTSUPP', 'Protodown not supported by device');
      else if (sw) {
        // `arp on` clears IFF_NOARP: the switch and the flag are opposites.
        const set = (v === 'on') !== sw.inverted;
        if (set) (req.flagsOn |= sw.flag), (req.flagsOff &= ~sw.flag);
        else (req.flagsOff |= sw.flag), (req.flagsOn &= ~sw.flag);
      }
    } else if (matches(a, 'alias')) {
      const v = nextArg(ctx, args, i++);
      if (v.length >= 256) invarg(ctx, 'alias too long\n', v);
      req.alias = v;
    }
    else if (a === 'link') req.link = nextArg(ctx, args, i++);
    else if (a === 'type') {
      req.type = nextArg(ctx, args, i++);
      req.typeArgs = args.slice(i + 1);
      break;
    } else {
      let v = a;
      if (a === 'dev') v = nextArg(ctx, args, i++);
      else if (matches(a, 'help')) usage(ctx);
      if (req.dev !== null) duparg2(ctx, 'dev', v);
      if (/[/\s]/.test(v) || v === '' || v.length >= 128) invarg(ctx, '"dev" not a valid ifname', v);
      req.dev = v;
    }
  }
  return req;
}

const FLAG_SWITCHES: Record<string, { flag: number; inverted: boolean }> = {
  arp: { flag: IFF_NOARP, inverted: true },
  multicast: { flag: IFF_MULTICAST, inverted: false },
  allmulticast: { flag: IFF_ALLMULTI, inverted: false },
  promisc: { flag: IFF_PROMISC, inverted: false },
  dynamic: { flag: IFF_DYNAMIC, inverted: false },
  trailers: { flag: IFF_NOTRAILERS, inverted: true },
};

/** The kernel's `%d` naming for devices created without a name; `reserved` is a name about to be taken. */
function freeName(ns: NetNs, pattern: string, reserved: string | null = null): string {
  for (let n = 0; ; n++) if (!ns.byName.has(pattern + n) && pattern + n !== reserved) return pattern + n;
}

function policyCheck(name: string | null): KResult {
  if (name !== null && name.length >= 16) return fail('EINVAL', 'Attribute failed policy validation');
  return { ok: true };
}

/** Types iproute2 parses arguments for (its link_util modules) that the lab kernel has no module for: the kernel refuses them whatever they say. */
const UNMODELLED_TYPES = new Set([
  'amt', 'bareudp', 'bond', 'bond_slave', 'bridge_slave', 'dsa', 'dummy', 'erspan', 'geneve', 'gre', 'gretap', 'gtp', 'ip6erspan', 'ip6gre',
  'ip6gretap', 'ip6tnl', 'ipip', 'ipoib', 'ipvlan', 'ipvtap', 'macsec', 'netdevsim', 'nlmon', 'rmnet', 'sit', 'team', 'team_slave', 'vcan',
  'vrf', 'vti', 'vxcan', 'wwan', 'xfrm', 'virt_wifi',
]);

const VLAN_USAGE = `Usage: ... vlan id VLANID
		[ protocol VLANPROTO ]
		[ reorder_hdr { on | off } ]
		[ gvrp { on | off } ]
		[ mvrp { on | off } ]
		[ loose_binding { on | off } ]
		[ bridge_binding { on | off } ]
		[ ingress-qos-map QOS-MAP ]
		[ egress-qos-map QOS-MAP ]

VLANID := 0-4095
VLANPROTO: [ 802.1Q | 802.1ad ]
QOS-MAP := [ QOS-MAP ] QOS-MAPPING
QOS-MAPPING := FROM:TO`;

/** vlan_parse_opt's keywords: each takes a value (the qos maps take the rest). Only their names are checked, as the kernel refuses vlans anyway. */
function checkVlanArgs(ctx: ProcContext, args: string[]): void {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === 'ingress-qos-map' || a === 'egress-qos-map') return;
    if (!['protocol', 'id', 'reorder_hdr', 'gvrp', 'mvrp', 'loose_binding', 'bridge_binding'].includes(a)) {
      fatal(ctx, `${matches(a, 'help') ? '' : `vlan: unknown command "${a}"?\n`}${VLAN_USAGE}`, 1);
    }
    nextArg(ctx, args, i++);
  }
}

const macvlanUsage = (type: string) => `Usage: ... ${type} mode MODE [flag MODE_FLAG] MODE_OPTS [bcqueuelen BC_QUEUE_LEN]

MODE: private | vepa | bridge | passthru | source
MODE_FLAG: null | nopromisc | nodst
MODE_OPTS: for mode "source":
	macaddr { { add | del } <macaddr> | set [ <macaddr> [ <macaddr>  ... ] ] | flush }
BC_QUEUE_LEN: Length of the rx queue for broadcast/multicast: [0-4294967295]`;

/**
 * iplink_macvlan.c: `mode MODE` (the kernel's default is vepa) and the mode
 * flags, checked against their mode; the flags change no behaviour modelled here.
 */
function parseMacvlanArgs(ctx: ProcContext, type: string, args: string[]): MacvlanMode {
  let mode: MacvlanMode = 'vepa';
  const flags = new Set<'nopromisc' | 'nodst'>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (matches(a, 'help')) fatal(ctx, macvlanUsage(type), 1);
    if (matches(a, 'nopromisc')) flags.add('nopromisc');
    else if (matches(a, 'nodst')) flags.add('nodst');
    else if (a !== 'mode') fatal(ctx, `${type}: unknown option "${a}"?\n${macvlanUsage(type)}`, 1);
    else {
      const v = nextArg(ctx, args, i++);
      const known = MACVLAN_MODES.find((m) => m === v);
      if (!known) fatal(ctx, `Error: argument of "mode" must be "private", "vepa", "bridge", "passthru" or "source", not "${v}"`, 1);
      mode = known;
    }
  }
  if (flags.has('nopromisc') && mode !== 'passthru') fatal(ctx, `${type}: nopromisc flag only valid in passthru mode\n${macvlanUsage(type)}`, 1);
  if (flags.has('nodst') && mode !== 'source') fatal(ctx, `${type}: nodst flag only valid in source mode\n${macvlanUsage(type)}`, 1);
  return mode;
}

function isMulticastIpv4(addr: number): boolean {
  return addr >>> 28 === 0xe;
}

const VXLAN_USAGE = `Usage: ... vxlan id VNI
		[ { group | remote } IP_ADDRESS ]
		[ local ADDR ]
		[ ttl TTL ]
		[ tos TOS ]
		[ df DF ]
		[ flowlabel LABEL ]
		[ dev PHYS_DEV ]
		[ dstport PORT ]
		[ srcport MIN MAX ]
		[ [no]learning ]
		[ [no]proxy ]
		[ [no]rsc ]
		[ [no]l2miss ]
		[ [no]l3miss ]
		[ ageing SECONDS ]
		[ maxaddress NUMBER ]
		[ [no]udpcsum ]
		[ [no]udp6zerocsumtx ]
		[ [no]udp6zerocsumrx ]
		[ [no]remcsumtx ] [ [no]remcsumrx ]
		[ [no]external ] [ gbp ] [ gpe ]
		[ [no]vnifilter ]

Where:	VNI	:= 0-16777215
	ADDR	:= { IP_ADDRESS | any }
	TOS	:= { NUMBER | inherit }
	TTL	:= { 1..255 | auto | inherit }
	DF	:= { unset | set | inherit }
	LABEL := 0-1048575`;

const DSTPORT_WARNING = `vxlan: destination port not specified
Will use Linux kernel default (non-standard value)
Use 'dstport ${VXLAN_IANA_PORT}' to get the IANA assigned value
Use 'dstport 0' to get default and quiet this message
`;

/** iplink_vxlan.c: the VNI, where frames go (`remote` or multicast `group`), `local`, the underlay `dev` and the UDP port. */
function parseVxlanArgs(ctx: ProcContext, ns: NetNs, args: string[]): VxlanConfig {
  let vni: number | null = null;
  let dstPort: number | null = null;
  const config: Omit<VxlanConfig, 'vni' | 'dstPort'> = { remote: null, group: null, local: null, underlay: null };
  const address = (v: string, what: string, multicast: boolean) => {
    const addr = parseIpv4Loose(v);
    if (addr === null || isMulticastIpv4(addr) !== multicast) invarg(ctx, `invalid ${what} address`, v);
    return addr;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === 'id' || a === 'vni') {
      const v = nextArg(ctx, args, i++);
      vni = parseU32(v);
      if (vni === null || vni >= 2 ** 24) invarg(ctx, 'invalid id', v);
    } else if (a === 'remote') config.remote = address(nextArg(ctx, args, i++), 'remote', false);
    else if (a === 'group') config.group = address(nextArg(ctx, args, i++), 'group', true);
    else if (a === 'local') config.local = address(nextArg(ctx, args, i++), 'local', false);
    else if (a === 'dev') {
      const v = nextArg(ctx, args, i++);
      config.underlay = ns.device(v) ?? fatal(ctx, `Cannot find device "${v}"`);
    } else if (a === 'dstport') {
      const v = nextArg(ctx, args, i++);
      dstPort = parseU32(v);
      if (dstPort === null || dstPort > 0xffff) invarg(ctx, 'dstport', v);
    } else if (matches(a, 'help')) fatal(ctx, VXLAN_USAGE, 1);
    else fatal(ctx, `vxlan: unknown command "${a}"?\n${VXLAN_USAGE}`, 1);
  }
  if (vni === null) fatal(ctx, 'vxlan: missing virtual network identifier', 1);
  if (config.remote !== null && config.group !== null) fatal(ctx, 'vxlan: both group and remote cannot be specified', 1);
  if (dstPort === null) ctx.stderr.write(DSTPORT_WARNING);
  // Port 0 asks for the kernel's default.
  return { ...config, vni, dstPort: dstPort || VXLAN_KERNEL_DEFAULT_PORT };
}

function linkAdd(ctx: ProcContext, ns: NetNs, args: string[]): number {
  const req = parseLinkArgs(ctx, ns, args);
  if (req.type === null) {
    ctx.stderr.write('Not enough information: "type" argument is required\n');
    return 1;
  }
  const kind = LINK_KINDS[req.type];
  const name = req.name ?? req.dev;
  let peerReq: LinkRequest | null = null;
  let macvlanMode: MacvlanMode = 'vepa';
  let vxlan: VxlanConfig | null = null;
  let bridgeChange: BridgeChange | null = null;
  if (req.type === 'veth') {
    if (req.typeArgs.length && req.typeArgs[0] !== 'peer') fatal(ctx, "Usage: ip link <options> type veth [peer <options>]\nTo get <options> type 'ip link add help'", 1);
    peerReq = parseLinkArgs(ctx, ns, req.typeArgs.slice(1));
    if (peerReq.type !== null) duparg(ctx, 'type', peerReq.type);
  } else if (req.type === 'macvlan' || req.type === 'macvtap') macvlanMode = parseMacvlanArgs(ctx, req.type, req.typeArgs);
  else if (req.type === 'vxlan') vxlan = parseVxlanArgs(ctx, ns, req.typeArgs);
  else if (req.type === 'vlan') checkVlanArgs(ctx, req.typeArgs);
  else if (req.type === 'bridge') bridgeChange = parseBridgeArgs(ctx, req.typeArgs);
  else if (req.typeArgs.length && !UNMODELLED_TYPES.has(req.type)) {
    if (matches(req.typeArgs[0]!, 'help')) usage(ctx);
    ctx.stderr.write(`Garbage instead of arguments "${req.typeArgs[0]} ...". Try "ip link help".\n`);
    return 1;
  }
  const link = req.link === null ? null : ns.device(req.link);
  if (link === undefined) {
    ctx.stderr.write(`Cannot find device "${req.link}"\n`);
    return 1;
  }
  // tun registers a kind only to point users at /dev/net/tun (`ip tuntap`).
  if (req.type === 'tun') return netlinkError(ctx, fail('EOPNOTSUPP', 'tun/tap creation via rtnetlink is not supported.'));
  if (!kind) return netlinkError(ctx, fail('EOPNOTSUPP', 'Unknown device type'));
  const targetNs = req.netns ?? ns;
  const peerName = peerReq ? peerReq.name ?? peerReq.dev : null;
  for (const n of [name, peerName]) {
    const check = policyCheck(n);
    if (!check.ok) return netlinkError(ctx, check);
  }
  // __rtnl_newlink looks the device up by index when given one, else by name: found, it exists already.
  if (req.index !== null ? targetNs.devices.has(req.index) : name !== null && targetNs.byName.has(name)) return netlinkError(ctx, fail('EEXIST'));
  for (const r of [req, peerReq]) {
    const invalid = r && newLinkInvalid(kind, r);
    if (invalid) return netlinkError(ctx, invalid);
  }
  const newName = name ?? freeName(targetNs, req.type);
  let created: KResult<Device>;
  if (req.type === 'veth') {
    // The peer is made where the command runs unless told otherwise.
    const pNs = peerReq?.netns ?? ns;
    const sameNs = pNs === targetNs;
    // Unnamed, the peer steps over the name the device asked for.
    const pName = peerName ?? freeName(pNs, 'veth', sameNs ? name : null);
    const devName = name ?? freeName(targetNs, 'veth', sameNs ? pName : null);
    created = createVethPair(targetNs, devName, pName, pNs, req.index, peerReq?.index ?? null);
  } else if (req.type === 'macvlan' || req.type === 'macvtap') {
    // Without a lower device there is nothing to stack on.
    created = link ? createMacvlan(targetNs, kind, newName, link, macvlanMode) : fail('EINVAL');
  } else if (vxlan) {
    created = createVxlan(targetNs, newName, vxlan);
  } else {
    created = createLink(targetNs, kind, newName, req.index);
  }
  if (!created.ok) return netlinkError(ctx, created);
  if (bridgeChange) {
    // br_dev_newlink: settings the bridge refuses unregister it again, its index spent.
    const settled = setBridgeSettings(created.value, bridgeChange);
    if (!settled.ok) {
      deleteLink(created.value);
      return netlinkError(ctx, settled);
    }
  }
  // The peer's own options (address, mtu, …) apply to the peer; an alias is for `set` alone.
  const peerStatus = peerReq ? applySet(ctx, created.value.peer!, { ...peerReq, name: null, netns: null, alias: null }) : 0;
  return peerStatus || applySet(ctx, created.value, { ...req, name: null, netns: null, alias: null, type: null });
}

/**
 * What a new device's attributes are refused with before it is made: veth_validate
 * wants an MTU within 68..65535 and a unicast address, answering without a message;
 * rtnl_create_link holds other devices to their MTU bounds.
 */
function newLinkInvalid(kind: LinkKind, req: LinkRequest): KernelError | null {
  if (kind.name === 'veth') {
    if (req.mtu !== null && (req.mtu < kind.minMtu || req.mtu > kind.maxMtu)) return fail('EINVAL');
    if (req.address !== null && (req.address === 0 || isMulticastMac(req.address))) return fail('EADDRNOTAVAIL');
    return null;
  }
  if (req.mtu !== null && req.mtu < kind.minMtu) return fail('EINVAL', 'mtu less than device minimum');
  if (req.mtu !== null && req.mtu > kind.maxMtu) return fail('EINVAL', 'mtu greater than device maximum');
  return null;
}

/** do_setlink's order: namespace, address, mtu, name, master, flags. */
function applySet(ctx: ProcContext, dev: Device, req: LinkRequest): number {
  const steps: Array<() => KResult> = [];
  if (req.netns) steps.push(() => moveLink(dev, req.netns!));
  if (req.address !== null) steps.push(() => setLinkAddress(dev, req.address!));
  if (req.mtu !== null) steps.push(() => setLinkMtu(dev, req.mtu!));
  if (req.name !== null) steps.push(() => policyCheck(req.name).ok ? renameLink(dev, req.name!) : policyCheck(req.name));
  if (req.master === 'none') steps.push(() => (releaseFromMaster(dev), { ok: true }));
  else if (req.master) steps.push(() => setLinkMaster(dev, req.master as Device));
  if (req.txqlen !== null) steps.push(() => ((dev.txqlen = req.txqlen!), { ok: true }));
  if (req.group !== null) steps.push(() => ((dev.group = req.group!), { ok: true }));
  if (req.alias !== null) steps.push(() => ((dev.alias = req.alias || null), { ok: true }));
  if (req.flagsOn || req.flagsOff) {
    steps.push(() => {
      dev.userFlagsOn = (dev.userFlagsOn | req.flagsOn) & ~req.flagsOff;
      dev.userFlagsOff = (dev.userFlagsOff | req.flagsOff) & ~req.flagsOn;
      return { ok: true };
    });
  }
  if (req.up !== null) steps.push(() => ((req.up ? setLinkUp(dev) : setLinkDown(dev)), { ok: true }));
  if (req.type === 'bridge_slave') {
    const change = parseBridgeSlaveArgs(ctx, req.typeArgs);
    steps.push(() => setBridgePort(dev, change));
  } else if (req.type === 'bridge') {
    const change = parseBridgeArgs(ctx, req.typeArgs);
    steps.push(() => (dev.bridge ? setBridgeSettings(dev, change) : fail('EOPNOTSUPP')));
  }
  if (req.refused) steps.push(() => req.refused!);
  for (const step of steps) {
    const r = step();
    if (!r.ok) return netlinkError(ctx, r);
  }
  return 0;
}

function linkSet(ctx: ProcContext, ns: NetNs, args: string[]): number {
  const req = parseLinkArgs(ctx, ns, args);
  if (req.dev === null && req.group !== null) {
    // `group N` without a device changes every device of that group.
    const group = req.group;
    req.group = null;
    for (const dev of ns.sortedDevices().filter((d) => d.group === group)) {
      const status = applySet(ctx, dev, req);
      if (status !== 0) return status;
    }
    return 0;
  }
  if (req.dev === null) fatal(ctx, 'Not enough information: "dev" argument is required.');
  const dev = ns.device(req.dev);
  if (!dev) {
    ctx.stderr.write(`Cannot find device "${req.dev}"\n`);
    return 1;
  }
  if (req.netns && (dev.kind.name === 'loopback' || dev.kind.name === 'bridge')) return netlinkError(ctx, fail('EINVAL', 'The interface netns is immutable'));
  return applySet(ctx, dev, req);
}

function linkDelete(ctx: ProcContext, ns: NetNs, args: string[]): number {
  const req = parseLinkArgs(ctx, ns, args);
  if (req.dev === null) fatal(ctx, 'Not enough information: "dev" argument is required.');
  const dev = ns.device(req.dev);
  if (!dev) {
    ctx.stderr.write(`Cannot find device "${req.dev}"\n`);
    return 1;
  }
  const r = deleteLink(dev);
  return r.ok ? 0 : netlinkError(ctx, r);
}

export interface LinkFilter {
  dev: string | null;
  up: boolean;
  /** A master's ports, or (`nomaster`) the devices without one. */
  master: Device | 'none' | null;
  type: string | null;
  group: number | null;
}

/**
 * Parses the `show` selectors `ip link show` and `ip addr show` share; `selector`
 * takes the words only `ip addr` knows (given a way to read the word's value),
 * answering whether it used the word.
 */
export function parseShowFilter(ctx: ProcContext, ns: NetNs, args: string[], usage: string, selector?: (word: string, value: () => string) => boolean): LinkFilter | number {
  const filter: LinkFilter = { dev: null, up: false, master: null, type: null, group: null };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === 'up') filter.up = true;
    else if (a === 'master') {
      const v = nextArg(ctx, args, i++);
      const master = ns.device(v);
      if (!master) invarg(ctx, 'Device does not exist\n', v);
      filter.master = master;
    } else if (a === 'nomaster') filter.master = 'none';
    else if (a === 'group') {
      const v = nextArg(ctx, args, i++);
      filter.group = parseGroup(v) ?? invarg(ctx, 'Invalid "group" value\n', v);
    } else if (a === 'type') filter.type = nextArg(ctx, args, i++);
    else if (selector?.(a, () => nextArg(ctx, args, i++))) continue;
    else {
      let v = a;
      if (a === 'dev') v = nextArg(ctx, args, i++);
      else if (matches(a, 'help')) fatal(ctx, usage);
      if (filter.dev !== null) duparg2(ctx, 'dev', v);
      filter.dev = v;
    }
  }
  if (filter.dev !== null && !ns.device(filter.dev)) {
    ctx.stderr.write(`Device "${filter.dev}" does not exist.\n`);
    return 1;
  }
  return filter;
}

/** IFLA_INFO_KIND, what `type TYPE` matches: tun and tap devices, the lab's NICs among them, are all the tun driver's. */
function infoKind(dev: Device): string {
  return dev.kind.name === 'tap' || dev.kind.name === 'ether' ? 'tun' : dev.kind.name;
}

export function filteredDevices(ns: NetNs, filter: LinkFilter): Device[] {
  return ns
    .sortedDevices()
    .filter((d) => filter.dev === null || d.name === filter.dev)
    .filter((d) => !filter.up || d.adminUp)
    .filter((d) => !filter.master || d.master === (filter.master === 'none' ? null : filter.master))
    .filter((d) => filter.group === null || d.group === filter.group)
    .filter((d) => !filter.type || infoKind(d) === filter.type || (filter.type === 'bridge_slave' && d.master !== null));
}

function linkShow(ctx: ProcContext, opts: IpOptions, ns: NetNs, args: string[]): number {
  const filter = parseShowFilter(ctx, ns, args, LINK_USAGE.trimEnd());
  if (typeof filter === 'number') return filter;
  const p = IpPrinter.for(opts);
  for (const dev of filteredDevices(ns, filter)) {
    p.openObject();
    if (opts.brief) {
      printLinkBrief(p, dev);
      if (!opts.json) p.fp(`${dev.kind.linkType === 'none' ? '' : p.paint('mac', `${formatMac(dev.mac)} `)}${briefFlags(dev)}\n`);
    } else if (opts.oneline && !opts.json) {
      // -o: one record per line, its line breaks shown as backslashes.
      const record = new IpPrinter(false, false, p.color);
      printLinkHeader(record, dev, true);
      if (opts.details) printLinkDetails(record, dev);
      if (opts.stats) printLinkStats(record, dev, opts);
      p.fp(record.finish().replace(/\n/g, '\\') + '\n');
    } else {
      printLinkHeader(p, dev, true);
      if (opts.details) printLinkDetails(p, dev);
      if (opts.stats) printLinkStats(p, dev, opts);
      p.nl();
    }
    p.closeObject();
  }
  ctx.stdout.write(p.finish());
  return 0;
}

export function ipLink(ctx: ProcContext, opts: IpOptions, args: string[]): number {
  const ns = opts.ns;
  const cmd = args[0];
  if (cmd === undefined) return linkShow(ctx, opts, ns, []);
  const rest = args.slice(1);
  if (matches(cmd, 'add')) return linkAdd(ctx, ns, rest);
  if (matches(cmd, 'set') || matches(cmd, 'change')) return linkSet(ctx, ns, rest);
  if (matches(cmd, 'replace')) return linkSet(ctx, ns, rest);
  if (matches(cmd, 'delete')) return linkDelete(ctx, ns, rest);
  if (matches(cmd, 'show') || matches(cmd, 'lst') || matches(cmd, 'list')) return linkShow(ctx, opts, ns, rest);
  if (matches(cmd, 'help')) usage(ctx);
  ctx.stderr.write(`Command "${cmd}" is unknown, try "ip link help".\n`);
  return 255;
}
