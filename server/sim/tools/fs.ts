// The few files a networking lab reads and writes: /proc/sys/net/* (the
// namespace's sysctls), /run/netns (the named namespaces), /etc/hostname,
// /dev/null, and scratch files.
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
