// print_linkinfo: one device as `ip link` and `ip addr` show it, in text,
// brief or JSON form.
import { formatIpv4, formatMac } from '../../kernel/addr';
import {
  IFF_ALLMULTI, IFF_BROADCAST, IFF_DORMANT, IFF_DYNAMIC, IFF_LOOPBACK, IFF_LOWER_UP, IFF_MASTER, IFF_MULTICAST, IFF_NOARP,
  IFF_NOTRAILERS, IFF_POINTOPOINT, IFF_PROMISC, IFF_RUNNING, IFF_SLAVE, IFF_UP, type Device, type PortFlag, tsoMaxSize,
} from '../../kernel/device';
import { deviceMaxMtu, linkPeer, notifyLink, promiscuity } from '../../kernel/link';
import { portState } from '../../kernel/links/bridge';
import type { NetNs } from '../../kernel/netns';
import type { IpOptions } from './ip';
import { operStateColor, type IpPrinter } from './print';

const FLAG_NAMES: Array<[number, string]> = [
  [IFF_LOOPBACK, 'LOOPBACK'],
  [IFF_BROADCAST, 'BROADCAST'],
  [IFF_POINTOPOINT, 'POINTOPOINT'],
  [IFF_MULTICAST, 'MULTICAST'],
  [IFF_NOARP, 'NOARP'],
  [IFF_ALLMULTI, 'ALLMULTI'],
  [IFF_PROMISC, 'PROMISC'],
  [IFF_MASTER, 'MASTER'],
  [IFF_SLAVE, 'SLAVE'],
  [IFF_DYNAMIC, 'DYNAMIC'],
  [IFF_NOTRAILERS, 'NOTRAILERS'],
  [IFF_UP, 'UP'],
  [IFF_LOWER_UP, 'LOWER_UP'],
  [IFF_DORMANT, 'DORMANT'],
];

/** The namespace name a peer's namespace id resolves to, as iproute2 looks it up in /run/netns. */
export function nsNameFor(viewer: NetNs, other: NetNs): string | null {
  return other.name !== null && other.host === viewer.host && other.host.namespaces.get(other.name) === other ? other.name : null;
}

/** Whether iproute2 reports M-DOWN: the device's link (peer or lower) is in this namespace and down. */
function linkDownHere(dev: Device): boolean {
  const link = linkPeer(dev);
  return link !== null && link.ns === dev.ns && !link.adminUp;
}

export function flagList(dev: Device): string[] {
  const flags = dev.flags;
  const names: string[] = [];
  if (flags & IFF_UP && !(flags & IFF_RUNNING)) names.push('NO-CARRIER');
  for (const [bit, name] of FLAG_NAMES) if (flags & bit) names.push(name);
  if (linkDownHere(dev)) names.push('M-DOWN');
  return names;
}

export function operState(dev: Device): string {
  return dev.operState;
}

/** `@LINK` after the name: the link's name, or its ifindex when it lives in another namespace. */
function linkSuffix(dev: Device): { link: Device; text: string; sameNs: boolean } | null {
  const link = linkPeer(dev);
  if (!link) return null;
  if (link.ns === dev.ns) return { link, text: link.name, sameNs: true };
  return { link, text: `if${link.ifindex}`, sameNs: false };
}

/** `withLinkLayer` is false under -4/-6, where iproute2 leaves out the link/ether line. */
export function printLinkHeader(p: IpPrinter, dev: Device, withMode: boolean, withLinkLayer = true): void {
  notifyLink(dev);
  p.number('any', 'ifindex', '%d: ', dev.ifindex);
  const link = linkSuffix(dev);
  // A peer here is named before the device, one elsewhere numbered.
  if (link && !link.sameNs) p.number('json', 'link_index', '', link.link.ifindex);
  if (link?.sameNs) p.string('json', 'link', '', link.text);
  p.string('json', 'ifname', '', dev.name);
  p.fp(p.paint('ifname', `${dev.name}${link ? `@${link.text}` : ''}: `));
  p.openArray('flags', '<');
  const flags = flagList(dev);
  flags.forEach((f, i) => p.string('any', null, i === 0 ? '%s' : ',%s', f));
  p.closeArray('> ');
  p.number('any', 'mtu', 'mtu %u ', dev.mtu);
  p.string('any', 'qdisc', 'qdisc %s ', dev.qdisc);
  if (dev.master) p.string('any', 'master', 'master %s ', dev.master.name);
  p.string('any', 'operstate', 'state %s ', operState(dev), operStateColor(operState(dev)));
  if (withMode) p.string('any', 'linkmode', 'mode %s ', 'DEFAULT');
  p.string('any', 'group', 'group %s ', groupName(dev.group));
  p.number('any', 'txqlen', 'qlen %u', dev.txqlen);
  if (withLinkLayer) {
    p.nl();
    p.string('any', 'link_type', '    link/%s ', dev.kind.linkType);
    if (dev.kind.linkType !== 'none') {
      p.string('any', 'address', '%s', formatMac(dev.mac), 'mac');
      p.string('any', 'broadcast', ' brd %s', dev.kind.linkType === 'loopback' ? '00:00:00:00:00:00' : 'ff:ff:ff:ff:ff:ff', 'mac');
    }
  }
  if (link && !link.sameNs) {
    const id = dev.ns.idFor(link.link.ns);
    const name = nsNameFor(dev.ns, link.link.ns);
    p.number('json', 'link_netnsid', '', id);
    if (name !== null) p.fp(` link-netns ${name}`);
    else p.fp(` link-netnsid ${id}`);
  }
  // The alias is `ip link`'s alone (print_linkinfo shows it when do_link).
  if (dev.alias !== null && withMode) {
    p.nl();
    p.string('any', 'ifalias', '    alias %s', dev.alias);
  }
}

/** A bridge id as the kernel prints it: priority, then the MAC without zero padding. */
/** The STP bridge id: priority, then the address, in iproute2's unpadded hex; no address until the bridge has had a port or been given one. */
function bridgeId(dev: Device): string {
  const mac = dev.bridge!.portStatesSelected || dev.macSetByUser ? dev.mac : 0;
  return dev.bridge!.settings.priority.toString(16).padStart(4, '0') + '.' + formatMac(mac).split(':').map((b) => parseInt(b, 16).toString(16)).join(':');
}

/** The queue and offload figures every device reports under -d (two queues per CPU-backed veth on two cores). */
function queueDetails(dev: Device, withAddrGenMode: boolean): string {
  const queues = dev.kind.name === 'veth' ? 2 : 1;
  return `${withAddrGenMode ? ' addrgenmode eui64' : ''} numtxqueues ${queues} numrxqueues ${queues} gso_max_size 65536 gso_max_segs 65535 tso_max_size ${tsoMaxSize(dev)} tso_max_segs 65535 gro_max_size 65536`;
}

/** `ip -d link` of a bridge: its settings in print order, its STP identity and timers (none running here). */
const BRIDGE_DETAILS = (dev: Device) => {
  const s = dev.bridge!.settings;
  const id = bridgeId(dev);
  return (
    `bridge forward_delay ${s.forward_delay} hello_time ${s.hello_time} max_age ${s.max_age} ageing_time ${s.ageing_time} stp_state ${s.stp_state} priority ${s.priority} vlan_filtering 0 ` +
    `bridge_id ${id} designated_root ${id} root_port 0 root_path_cost 0 topology_change 0 topology_change_detected 0 hello_timer    0.00 tcn_timer    0.00 topology_change_timer    0.00 gc_timer    0.00 ` +
    `group_fwd_mask ${s.group_fwd_mask ? `0x${s.group_fwd_mask.toString(16)}` : 0} group_address ${formatMac(s.group_address)} ` +
    (['mcast_snooping', 'no_linklocal_learn', 'mcast_vlan_snooping', 'mcast_router', 'mcast_query_use_ifaddr', 'mcast_querier', 'mcast_hash_elasticity', 'mcast_hash_max', 'mcast_last_member_count', 'mcast_startup_query_count',
      'mcast_last_member_interval', 'mcast_membership_interval', 'mcast_querier_interval', 'mcast_query_interval', 'mcast_query_response_interval', 'mcast_startup_query_interval', 'mcast_stats_enabled',
      'mcast_igmp_version', 'mcast_mld_version', 'nf_call_iptables', 'nf_call_ip6tables', 'nf_call_arptables'] as const).map((name) => `${name} ${s[name]}`).join(' ')
  );
};

const PORT_DETAILS = (port: Device, bridge: Device) => {
  const settings = port.brport!;
  const onOff = (flag: PortFlag) => `${flag} ${settings.flags[flag] ? 'on' : 'off'}`;
  const index = bridge.bridge!.ports.indexOf(port) + 1;
  // port_id: the port's priority above its number.
  const portId = (settings.priority << 10) | index;
  return `bridge_slave state ${portState(bridge, port)} priority ${settings.priority} cost ${settings.cost} ${(['hairpin', 'guard', 'root_block', 'fastleave', 'learning', 'flood'] as const).map(onOff).join(' ')} port_id 0x${portId.toString(16)} port_no 0x${index.toString(16)} designated_port ${portId} designated_cost 0 designated_bridge ${bridgeId(bridge)} designated_root ${bridgeId(bridge)} hold_timer    0.00 message_age_timer    0.00 forward_delay_timer    0.00 topology_change_ack 0 config_pending 0 proxy_arp off proxy_arp_wifi off mcast_router ${settings.mcastRouter} mcast_fast_leave ${settings.flags.fastleave ? 'on' : 'off'} ${(['mcast_flood', 'bcast_flood', 'mcast_to_unicast', 'neigh_suppress'] as const).map(onOff).join(' ')} group_fwd_mask 0 group_fwd_mask_str 0x0 ${(['vlan_tunnel', 'isolated', 'locked'] as const).map(onOff).join(' ')}`;
};

function vxlanDetails(dev: Device): string {
  const c = dev.vxlan!;
  const dst = c.group !== null ? ` group ${formatIpv4(c.group)}` : c.remote !== null ? ` remote ${formatIpv4(c.remote)}` : '';
  const local = c.local !== null ? ` local ${formatIpv4(c.local)}` : '';
  const underlay = c.underlay ? ` dev ${c.underlay.name}` : '';
  return `vxlan id ${c.vni}${dst}${local}${underlay} srcport 0 0 dstport ${c.dstPort} ttl auto ageing 300 udpcsum noudp6zerocsumtx noudp6zerocsumrx`;
}

/** The kind's own line under -d (IFLA_INFO_KIND and its data); the lab's NICs are persistent taps. */
function kindDetails(dev: Device): string | null {
  switch (dev.kind.name) {
    case 'veth':
    case 'ifb':
      return dev.kind.name;
    case 'bridge':
      return BRIDGE_DETAILS(dev);
    case 'ether':
    case 'tap':
    case 'tun':
      return `tun type ${dev.kind.name === 'tun' ? 'tun' : 'tap'} pi off vnet_hdr off persist on`;
    case 'macvlan':
    case 'macvtap':
      // A source-mode macvlan lists the senders it accepts (none can be added here).
      return `${dev.kind.name} mode ${dev.macvlanMode} bcqueuelen 1000 usedbcqueuelen 1000${dev.macvlanMode === 'source' ? ' remotes (0)' : ''}`;
    case 'vxlan':
      return vxlanDetails(dev);
    case 'loopback':
      return null;
  }
}

/** `-d`: promiscuity, MTU limits, the kind's own attributes, queues. `forLink` is false for `ip -d addr`. */
export function printLinkDetails(p: IpPrinter, dev: Device, forLink = true): void {
  const maxMtu = dev.kind.name === 'loopback' ? 0 : deviceMaxMtu(dev);
  p.fp(` promiscuity ${promiscuity(dev)}  allmulti ${dev.master ? 1 : 0} minmtu ${dev.kind.minMtu} maxmtu ${maxMtu}`);
  const kindLines: string[] = [];
  const own = kindDetails(dev);
  if (own !== null) kindLines.push(own);
  if (dev.master && forLink) kindLines.push(PORT_DETAILS(dev, dev.master));
  for (const line of kindLines) p.fp(`\n    ${line}`);
  p.fp(queueDetails(dev, forLink));
}

/** print_num under -h: three significant digits ("6.22k"), in powers of 1024 ("6.07Ki") with -iec. */
function humanCount(count: number, iec: boolean): string {
  const base = iec ? 1024 : 1000;
  if (count < base) return String(count);
  const prefixes = 'kMGTPE';
  let power = base;
  let prefix = 0;
  while (Math.floor(count / base) >= power && prefix < prefixes.length - 1) {
    power *= base;
    prefix++;
  }
  const whole = Math.floor(count / power);
  const precision = whole < 10 ? 2 : whole < 100 ? 1 : 0;
  return (count / power).toFixed(precision) + (iec ? `${prefixes[prefix]!.toUpperCase()}i` : prefixes[prefix]);
}

/**
 * `-s` (and `-s -s` for the error breakdown): the RX and TX counter blocks,
 * columns as wide as their widest entry, or the `stats64` object in JSON
 * (without `carrier_changes`, a count the simulator does not keep).
 */
export function printLinkStats(p: IpPrinter, dev: Device, opts: Pick<IpOptions, 'stats' | 'human' | 'iec'>): void {
  const s = dev.stats;
  const detailed = opts.stats > 1;
  if (p.json) {
    p.openObject('stats64');
    const block = (key: string, fields: Array<[string, number]>) => {
      p.openObject(key);
      for (const [name, value] of fields) p.number('json', name, '', value);
      p.closeObject();
    };
    const rxErrors: Array<[string, number]> = [['length_errors', 0], ['crc_errors', 0], ['frame_errors', 0], ['fifo_errors', 0], ['missed_errors', 0]];
    const txErrors: Array<[string, number]> = [['aborted_errors', 0], ['fifo_errors', 0], ['window_errors', 0], ['heartbeat_errors', 0]];
    block('rx', [['bytes', s.rxBytes], ['packets', s.rxPackets], ['errors', 0], ['dropped', s.rxDropped], ['over_errors', 0], ['multicast', 0], ...(detailed ? rxErrors : [])]);
    block('tx', [['bytes', s.txBytes], ['packets', s.txPackets], ['errors', 0], ['dropped', s.txDropped], ['carrier_errors', 0], ['collisions', 0], ...(detailed ? txErrors : [])]);
    p.closeObject();
    return;
  }
  const num = (n: number) => (opts.human ? humanCount(n, opts.iec) : String(n));
  const rx = [s.rxBytes, s.rxPackets, 0, s.rxDropped, 0, 0].map(num);
  const tx = [s.txBytes, s.txPackets, 0, s.txDropped, 0, 0].map(num);
  const rxHead = ['RX:  bytes', 'packets', 'errors', 'dropped', 'missed', 'mcast'];
  const txHead = ['TX:  bytes', 'packets', 'errors', 'dropped', 'carrier', 'collsns'];
  const widths = rxHead.map((h, i) => Math.max(h.length, txHead[i]!.length, rx[i]!.length, tx[i]!.length));
  const cells = (list: string[], from = 0) => list.map((c, i) => c.padStart(widths[i + from]!)).join(' ');
  // The header rows keep room for a seventh column iproute2 prints only when it is non-zero.
  const head = (list: string[]) => `\n    ${cells(list)} ${''.padStart(10)}`;
  const values = (list: string[]) => `\n    ${cells(list)} `;
  const errors = (label: string, names: string[]) => `\n    ${label.padEnd(widths[0]!)} ${cells(names, 1)}\n    ${''.padStart(widths[0]!)} ${cells(names.map(() => num(0)), 1)} `;
  p.fp(head(rxHead) + values(rx));
  if (detailed) p.fp(errors('RX errors:', ['length', 'crc', 'frame', 'fifo', 'overrun']));
  p.fp(head(txHead) + values(tx));
  if (detailed) p.fp(errors('TX errors:', ['aborted', 'fifo', 'window', 'heartbt', 'transns']));
}

/** `ip -br link`: name, state, MAC, flags. */
/** `withLinkLayer` is false for `ip -br addr`, whose JSON leaves out the address and flags. */
export function printLinkBrief(p: IpPrinter, dev: Device, withLinkLayer = true): void {
  notifyLink(dev);
  const link = linkSuffix(dev);
  const name = link ? `${dev.name}@${link.text}` : dev.name;
  if (p.json) {
    if (link && !link.sameNs) p.number('json', 'link_index', '', link.link.ifindex);
    if (link?.sameNs) p.string('json', 'link', '', link.text);
    p.string('json', 'ifname', '', dev.name);
    p.string('json', 'operstate', '', operState(dev));
    if (withLinkLayer) {
      if (dev.kind.linkType !== 'none') p.string('json', 'address', '', formatMac(dev.mac));
      p.openArray('flags');
      for (const f of flagList(dev)) p.string('json', null, '', f);
      p.closeArray();
    }
    return;
  }
  p.fp(p.paint('ifname', name.padEnd(16) + ' '));
  p.fp(p.paint(operStateColor(operState(dev)), operState(dev).padEnd(14) + ' '));
}

export function briefFlags(dev: Device): string {
  return `<${flagList(dev).join(',')}> `;
}

/** rtnl_group_n2a: /etc/iproute2/group names 0 "default"; other groups show as numbers. */
export function groupName(group: number): string {
  return group === 0 ? 'default' : String(group);
}

/** rtnl_group_a2n: "default" or a number; null when neither. */
export function parseGroup(text: string): number | null {
  if (text === 'default') return 0;
  const value = /^(0x[0-9a-f]+|\d+)$/i.test(text) ? Number(text) : NaN;
  return value <= 0xffffffff ? value : null;
}
