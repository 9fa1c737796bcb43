// The few files a networking lab reads and writes: /proc/sys/net/* (the
// namespace's sysctls), /proc/net/{dev,arp,route}, /run/netns (the named namespaces), /etc/hostname,
// /dev/null, and scratch files.
import { formatIpv4, formatMac, prefixMask, type Ipv4, type Mac } from '../kernel/addr';
import type { Device } from '../kernel/device';
import { sortedRoutes } from '../kernel/fib';
import { currentState, neighEntries, nudValid, pneighEntries } from '../kernel/neigh';
import type { NetNs } from '../kernel/netns';
import type { ProcContext } from './process';

export type ReadResult = { ok: true; text: string } | { ok: false; error: string };
export type WriteResult = { ok: true } | { ok: false; error: string };

const PROC_SYS = '/proc/sys/';
const RUN_NETNS = '/run/netns/';

export function normalisePath(path: string, cwd = '/root'): string {
  // /var/run is a link to /run.
  const abs = (path.startsWith('/') ? path : `${cwd}/${path}`).replace(/^\/+var\/+run(?=\/|$)/, '/run');
  const parts: string[] = [];
  for (const part of abs.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return '/' + parts.join('/');
}

/** Directories every host has, plus those made with mkdir or mktemp -d. */
const STANDARD_DIRS = ['/', '/root', '/tmp', '/etc', '/proc', '/proc/sys', '/dev', '/var', '/usr', '/home', '/run', '/run/netns'];

export function isDirectory(ctx: ProcContext, path: string): boolean {
  const abs = normalisePath(path, ctx.session.cwd);
  if (abs.startsWith(PROC_SYS)) {
    // A /proc/sys directory is any prefix of a sysctl's path.
    const prefix = abs.slice(PROC_SYS.length).split('/').join('.') + '.';
    return ctx.ns.sysctl.keys().some((key) => key.startsWith(prefix));
  }
  return STANDARD_DIRS.includes(abs) || ctx.host.directories.has(abs);
}

/**
 * The entries of a directory whose whole content the simulation knows, in
 * byte order: /run/netns (the named namespaces), /proc/sys/net/ipv{4,6}/conf
 * (`all`, `default` and a directory per device) and the IPv4 ones within.
 * Null for any other directory, and for what is not a directory.
 */
export function listDirectory(ctx: ProcContext, path: string): string[] | null {
  const abs = normalisePath(path, ctx.session.cwd);
  if (abs === '/run/netns') return [...ctx.host.namespaces.keys()].sort();
  if (!/^\/proc\/sys\/net\/(ipv[46]\/conf|ipv4\/conf\/[^/]+)$/.test(abs) || !isDirectory(ctx, abs)) return null;
  const prefix = abs.slice(PROC_SYS.length).split('/').join('.') + '.';
  // What follows the directory is `SCOPE.PARAM` or `PARAM`; a device's name may hold dots, a parameter's not.
  const entry = (rest: string) => (rest.includes('.') ? rest.slice(0, rest.lastIndexOf('.')) : rest);
  const names = ctx.ns.sysctl.keys().flatMap((key) => (key.startsWith(prefix) ? [entry(key.slice(prefix.length))] : []));
  return [...new Set(names)].sort();
}

export function readFile(ctx: ProcContext, path: string): ReadResult {
  const abs = normalisePath(path, ctx.session.cwd);
  if (abs === '/dev/null') return { ok: true, text: '' };
  if (abs === '/etc/hostname') return { ok: true, text: ctx.host.hostname + '\n' };
  if (abs === '/proc/net/dev') return { ok: true, text: procNetDev(ctx) };
  if (abs === '/proc/net/arp') return { ok: true, text: procNetArpText(ctx.ns) };
  if (abs === '/proc/net/route') return { ok: true, text: procNetRouteText(ctx.ns) };
  // `ip netns add` bind-mounts each named namespace here.
  if (abs.startsWith(RUN_NETNS) && ctx.host.namespaces.has(abs.slice(RUN_NETNS.length))) return { ok: true, text: '' };
  if (abs.startsWith(PROC_SYS)) {
    const key = abs.slice(PROC_SYS.length).split('/').join('.');
    const value = ctx.ns.sysctl.get(key);
    if (value === undefined) return { ok: false, error: 'No such file or directory' };
    return { ok: true, text: value + '\n' };
  }
  const text = ctx.host.files.get(abs);
  if (text === undefined) return { ok: false, error: 'No such file or directory' };
  return { ok: true, text };
}

/** A line of /proc/net/arp: `mac` only when complete; proxy entries are published (ATF_PUBL) and permanent. */
interface ArpRow {
  ip: Ipv4;
  dev: Device;
  mac: Mac | null;
  permanent: boolean;
  published: boolean;
}

/** /proc/net/arp: neighbours, skipping those whose state has nothing but NOARP in it (NOARP, NONE), then proxy entries. */
export function procNetArp(ns: NetNs): ArpRow[] {
  const rows: ArpRow[] = [];
  for (const e of neighEntries(ns)) {
    // /proc/net/arp is the ARP table only: IPv6 neighbours live in the same cache but belong to ndisc.
    if (typeof e.ip === 'string') continue;
    const state = currentState(e);
    if (state === 'NOARP' || state === 'NONE') continue;
    rows.push({ ip: e.ip, dev: e.dev, mac: nudValid(state) ? e.mac : null, permanent: state === 'PERMANENT', published: false });
  }
  for (const e of pneighEntries(ns)) if (typeof e.ip === 'number') rows.push({ ip: e.ip, dev: e.dev, mac: null, permanent: true, published: true });
  return rows;
}

/** /proc/net/arp as arp_seq_show writes it: ATF_COM for a known address, ATF_PERM for a permanent one. */
function procNetArpText(ns: NetNs): string {
  let text = 'IP address       HW type     Flags       HW address            Mask     Device\n';
  for (const row of procNetArp(ns)) {
    const flags = (row.mac !== null ? ATF_COM : 0) | (row.permanent ? ATF_PERM : 0) | (row.published ? ATF_PUBL : 0);
    const hw = row.mac !== null ? formatMac(row.mac) : '00:00:00:00:00:00';
    text += `${formatIpv4(row.ip).padEnd(16)} 0x${'1'.padEnd(10)}0x${flags.toString(16).padEnd(10)}${hw.padEnd(17)}     ${'*'.padEnd(9)}${row.dev.name}\n`;
  }
  return text;
}

const ATF_COM = 0x2;
const ATF_PERM = 0x4;
const ATF_PUBL = 0x8;
const RTF_UP = 0x1;
const RTF_GATEWAY = 0x2;
const RTF_HOST = 0x4;
const RTF_REJECT = 0x200;
/** fib_route_seq_show pads every line to 127 characters. */
const ROUTE_LINE = 127;

/** An address as /proc/net/route shows it: the network-order bytes read as a host-order (little-endian) word, in hex. */
function routeHex(addr: Ipv4): string {
  const bytes = [addr >>> 24, (addr >>> 16) & 0xff, (addr >>> 8) & 0xff, addr & 0xff];
  return bytes.reverse().map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join('');
}

/** /proc/net/route: the main table, nothing at all before the namespace has its first address. */
function procNetRouteText(ns: NetNs): string {
  if (!ns.localTableExists) return '';
  let text = 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT'.padEnd(ROUTE_LINE) + '\n';
  for (const r of sortedRoutes(ns)) {
    const reject = r.type === 'unreachable' || r.type === 'prohibit' ? RTF_REJECT : 0;
    const flags = RTF_UP | reject | (r.gateway !== null ? RTF_GATEWAY : 0) | (r.prefixLen === 32 ? RTF_HOST : 0);
    const fields = [r.dev?.name ?? '*', routeHex(r.dst), routeHex(r.gateway ?? 0), flags.toString(16).toUpperCase().padStart(4, '0'), '0', '0', String(r.metric), routeHex(prefixMask(r.prefixLen)), '0', '0', '0'];
    text += fields.join('\t').padEnd(ROUTE_LINE) + '\n';
  }
  return text;
}

/** /proc/net/dev: the namespace's devices and their counters. */
function procNetDev(ctx: ProcContext): string {
  let text = 'Inter-|   Receive                                                |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n';
  for (const dev of ctx.ns.sortedDevices()) {
    const s = dev.stats;
    const n = (v: number, w: number) => String(v).padStart(w);
    text += `${dev.name.padStart(6)}:${n(s.rxBytes, 8)} ${n(s.rxPackets, 7)} ${n(0, 4)} ${n(s.rxDropped, 4)} ${n(0, 4)} ${n(0, 5)} ${n(0, 10)} ${n(0, 9)} ${n(s.txBytes, 8)} ${n(s.txPackets, 7)} ${n(0, 4)} ${n(s.txDropped, 4)} ${n(0, 4)} ${n(0, 5)} ${n(0, 7)} ${n(0, 10)}\n`;
  }
  return text;
}

export function writeFile(ctx: ProcContext, path: string, text: string, append: boolean): WriteResult {
  const abs = normalisePath(path, ctx.session.cwd);
  if (abs === '/dev/null') return { ok: true };
  if (abs.startsWith(PROC_SYS)) {
    const key = abs.slice(PROC_SYS.length).split('/').join('.');
    if (!ctx.ns.sysctl.has(key)) return { ok: false, error: 'No such file or directory' };
    if (text === '') return { ok: true };
    const set = ctx.ns.sysctl.set(key, text.replace(/\n$/, ''));
    return set.ok ? { ok: true } : { ok: false, error: 'write error: Invalid argument' };
  }
  if (abs.startsWith('/proc/') || abs.startsWith('/sys/')) return { ok: false, error: 'No such file or directory' };
  ctx.host.files.set(abs, (append ? (ctx.host.files.get(abs) ?? '') : '') + text);
  return { ok: true };
}
