// print_linkinfo: one device as `ip link` and `ip addr` show it, in text,
// brief or JSON form.
import { formatMac } from '../../kernel/addr';
import {
  IFF_ALLMULTI, IFF_BROADCAST, IFF_DORMANT, IFF_LOOPBACK, IFF_LOWER_UP, IFF_MASTER, IFF_MULTICAST, IFF_NOARP,
  IFF_POINTOPOINT, IFF_PROMISC, IFF_RUNNING, IFF_SLAVE, IFF_UP, type Device,
} from '../../kernel/device';
import { notifyLink } from '../../kernel/link';
import type { NetNs } from '../../kernel/netns';
import type { IpPrinter } from './print';

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
  [IFF_UP, 'UP'],
  [IFF_LOWER_UP, 'LOWER_UP'],
  [IFF_DORMANT, 'DORMANT'],
];

/** The namespace name a peer's namespace id resolves to, as iproute2 looks it up in /run/netns. */
export function nsNameFor(viewer: NetNs, other: NetNs): string | null {
  return other.name !== null && other.host === viewer.host && other.host.namespaces.get(other.name) === other ? other.name : null;
}

/** Whether the kernel reports M-DOWN: the peer is in this namespace and down. */
function peerDownHere(dev: Device): boolean {
  return dev.peer !== null && dev.peer.ns === dev.ns && !dev.peer.adminUp;
}

export function flagList(dev: Device): string[] {
  const flags = dev.flags;
  const names: string[] = [];
  if (flags & IFF_UP && !(flags & IFF_RUNNING)) names.push('NO-CARRIER');
  for (const [bit, name] of FLAG_NAMES) if (flags & bit) names.push(name);
  if (peerDownHere(dev)) names.push('M-DOWN');
  return names;
}

export function operState(dev: Device): string {
  return dev.operState;
}

function linkSuffix(dev: Device): { text: string; sameNs: boolean } | null {
  if (!dev.peer) return null;
  if (dev.peer.ns === dev.ns) return { text: dev.peer.name, sameNs: true };
  return { text: `if${dev.peer.ifindex}`, sameNs: false };
}

/** `withLinkLayer` is false under -4/-6, where iproute2 leaves out the link/ether line. */
export function printLinkHeader(p: IpPrinter, dev: Device, withMode: boolean, withLinkLayer = true): void {
  notifyLink(dev);
  p.number('any', 'ifindex', '%d: ', dev.ifindex);
  const link = linkSuffix(dev);
  if (link && !link.sameNs) p.number('json', 'link_index', '', dev.peer!.ifindex);
  p.string('any', 'ifname', '%s', dev.name);
  if (link) {
    if (link.sameNs) p.string('any', 'link', '@%s', link.text);
    else p.fp(`@${link.text}`);
  }
  p.fp(': ');
  p.openArray('flags', '<');
  const flags = flagList(dev);
  flags.forEach((f, i) => p.string('any', null, i === 0 ? '%s' : ',%s', f));
  p.closeArray('> ');
  p.number('any', 'mtu', 'mtu %u ', dev.mtu);
  p.string('any', 'qdisc', 'qdisc %s ', dev.qdisc);
  if (dev.master) p.string('any', 'master', 'master %s ', dev.master.name);
  p.string('any', 'operstate', 'state %s ', operState(dev));
  if (withMode) p.string('any', 'linkmode', 'mode %s ', 'DEFAULT');
  p.string('any', 'group', 'group %s ', 'default');
  p.number('any', 'txqlen', 'qlen %u', dev.txqlen);
  if (!withLinkLayer) return;
  p.nl();
  p.string('any', 'link_type', '    link/%s ', dev.kind.linkType);
  p.string('any', 'address', '%s', formatMac(dev.mac));
  p.string('any', 'broadcast', ' brd %s', dev.kind.linkType === 'loopback' ? '00:00:00:00:00:00' : 'ff:ff:ff:ff:ff:ff');
  if (dev.peer && dev.peer.ns !== dev.ns) {
    const id = dev.ns.idFor(dev.peer.ns);
    const name = nsNameFor(dev.ns, dev.peer.ns);
    p.number('json', 'link_netnsid', '', id);
    if (name !== null) p.fp(` link-netns ${name}`);
    else p.fp(` link-netnsid ${id}`);
  }
  if (dev.alias !== null) {
    p.nl();
    p.string('any', 'ifalias', '    alias %s', dev.alias);
  }
}

export function printLinkDetails(p: IpPrinter, dev: Device): void {
  p.number('any', 'promiscuity', ' promiscuity %u', dev.promisc);
  p.number('any', 'allmulti', ' allmulti %u', 0);
  p.number('any', 'min_mtu', ' minmtu %u', dev.kind.minMtu);
  p.number('any', 'max_mtu', ' maxmtu %u', dev.kind.maxMtu);
  if (dev.kind.name === 'veth' || dev.kind.name === 'bridge' || dev.kind.name === 'dummy') {
    p.openObject('linkinfo');
    p.string('any', 'info_kind', ' \n    %s ', dev.kind.name);
    p.closeObject();
  }
  if (dev.master) {
    p.fp(' \n    bridge_slave ');
  }
}

/** `ip -br link`: name, state, MAC, flags. */
export function printLinkBrief(p: IpPrinter, dev: Device): void {
  notifyLink(dev);
  const link = linkSuffix(dev);
  const name = link ? `${dev.name}@${link.text}` : dev.name;
  if (p.json) {
    p.string('json', 'ifname', '', dev.name);
    if (link?.sameNs) p.string('json', 'link', '', link.text);
    p.string('json', 'operstate', '', operState(dev));
    p.string('json', 'address', '', formatMac(dev.mac));
    p.openArray('flags');
    for (const f of flagList(dev)) p.string('json', null, '', f);
    p.closeArray();
    return;
  }
  p.fp(name.padEnd(16) + ' ');
  p.fp(operState(dev).padEnd(14) + ' ');
}

export function briefFlags(dev: Device): string {
  return `<${flagList(dev).join(',')}> `;
}
