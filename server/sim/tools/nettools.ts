// net-tools' `arp` and `route`, and procps' `sysctl`.
import { formatIpv4, formatMac, parseMac, prefixMask } from '../kernel/addr';
import { currentState, neighDelete, neighEntries, neighSet } from '../kernel/neigh';
import { sortedRoutes } from '../kernel/fib';
import { program, type ProcContext } from './process';
import { parseIpv4Loose } from './ip/utils';

const ARP_HEADER = 'Address                  HWtype  HWaddress           Flags Mask            Iface\n';

function arpRun(ctx: ProcContext, argv: string[]): number {
  let bsd = false;
  let device: string | null = null;
  let host: string | null = null;
  const args = argv.slice(1);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-n' || a === '--numeric') continue;
    if (a === '-a' || a === '--all') bsd = true;
    else if (a === '-e') bsd = false;
    else if (a === '-i' || a === '--device') device = args[++i] ?? null;
    else if (a === '-s' || a === '--set') {
      const ip = parseIpv4Loose(args[i + 1] ?? '');
      const mac = parseMac(args[i + 2] ?? '');
      if (ip === null || mac === null) {
        ctx.stderr.write('arp: invalid hardware address\n');
        return 255;
      }
      const dev = ctx.ns.sortedDevices().find((d) => d.ipv4.some((a4) => ((a4.local ^ ip) & prefixMask(a4.prefixLen)) === 0));
      if (!dev) {
        ctx.stderr.write('SIOCSARP: Network is unreachable\n');
        return 255;
      }
      neighSet(dev, ip, mac, 'PERMANENT', 'replace');
      return 0;
    } else if (a === '-d' || a === '--delete') {
      const ip = parseIpv4Loose(args[i + 1] ?? '');
      const entry = ip === null ? undefined : neighEntries(ctx.ns).find((e) => e.ip === ip);
      if (!entry) {
        ctx.stderr.write(`No ARP entry for ${args[i + 1] ?? ''}\n`);
        return 255;
      }
      neighDelete(entry.dev, entry.ip);
      return 0;
    } else if (a.startsWith('-')) {
      ctx.stderr.write(`arp: invalid option -- '${a.slice(1, 2)}'\n`);
      return 255;
    } else host = a;
  }
  const entries = neighEntries(ctx.ns).filter((e) => currentState(e) !== 'NOARP' && (!device || e.dev.name === device) && (!host || formatIpv4(e.ip) === host));
  if (entries.length === 0) {
    if (host !== null || device !== null) ctx.stdout.write(`arp: in ${neighEntries(ctx.ns).length} entries no match found.\n`);
    return 0;
  }
  if (!bsd) ctx.stdout.write(ARP_HEADER);
  for (const e of entries) {
    const state = currentState(e);
    const complete = e.mac !== null && state !== 'INCOMPLETE' && state !== 'FAILED';
    const flags = complete ? (state === 'PERMANENT' ? 'CM' : 'C') : '';
    if (bsd) {
      ctx.stdout.write(`? (${formatIpv4(e.ip)}) at ${complete ? formatMac(e.mac!) + ' [ether]' : '<incomplete>'}${state === 'PERMANENT' ? ' PERM' : ''} on ${e.dev.name}\n`);
      continue;
    }
    const hw = complete ? 'ether'.padEnd(8) + formatMac(e.mac!).padEnd(20) : ''.padEnd(8) + '(incomplete)'.padEnd(20);
    ctx.stdout.write(`${formatIpv4(e.ip).padEnd(25)}${hw}${flags.padEnd(6)}${''.padEnd(15)} ${e.dev.name}\n`);
  }
  return 0;
}

function routeRun(ctx: ProcContext, argv: string[]): number {
  const numeric = argv.slice(1).some((a) => /^-\w*n/.test(a));
  const rest = argv.slice(1).filter((a) => !a.startsWith('-'));
  if (rest.length > 0) {
    ctx.stderr.write('route: only showing the table is simulated; use `ip route add|del`\n');
    return 1;
  }
  ctx.stdout.write('Kernel IP routing table\nDestination     Gateway         Genmask         Flags Metric Ref    Use Iface\n');
  for (const r of sortedRoutes(ctx.ns)) {
    if (r.type !== 'unicast' || !r.dev) continue;
    const dst = r.prefixLen === 0 && !numeric ? 'default' : formatIpv4(r.dst);
    const gw = r.gateway === null ? (numeric ? '0.0.0.0' : '0.0.0.0') : formatIpv4(r.gateway);
    let flags = 'U';
    if (r.gateway !== null) flags += 'G';
    if (r.prefixLen === 32) flags += 'H';
    const line = `${dst.padEnd(15)} ${gw.padEnd(15)} ${formatIpv4(prefixMask(r.prefixLen)).padEnd(15)} ${flags.padEnd(5)} ${String(r.metric).padEnd(6)} ${'0'.padEnd(2)} ${'0'.padStart(7)} ${r.dev.name}\n`;
    ctx.stdout.write(line);
  }
  return 0;
}

function sysctlRun(ctx: ProcContext, argv: string[]): number {
  let write = false;
  let quiet = false;
  let valuesOnly = false;
  let all = false;
  const keys: string[] = [];
  for (const a of argv.slice(1)) {
    if (/^-[wqnaAeNp]+$/.test(a)) {
      if (a.includes('w')) write = true;
      if (a.includes('q')) quiet = true;
      if (a.includes('n')) valuesOnly = true;
      if (a.includes('a') || a.includes('A')) all = true;
    } else if (a.startsWith('-')) {
      ctx.stderr.write(`sysctl: invalid option -- '${a.slice(1, 2)}'\n`);
      return 255;
    } else keys.push(a);
  }
  const sys = ctx.ns.sysctl;
  const show = (key: string, value: string) => ctx.stdout.write(valuesOnly ? `${value}\n` : `${key} = ${value}\n`);
  if (all) {
    for (const key of sys.keys()) show(key, sys.get(key)!);
    return 0;
  }
  let status = 0;
  for (const raw of keys) {
    const eq = raw.indexOf('=');
    if (eq < 0 && write) {
      ctx.stderr.write('sysctl: command line(0): invalid syntax, continuing...\n');
      return 1;
    }
    const key = (eq < 0 ? raw : raw.slice(0, eq)).replace(/\//g, '.');
    if (!sys.has(key)) {
      ctx.stderr.write(`sysctl: cannot stat /proc/sys/${key.replace(/\./g, '/')}: No such file or directory\n`);
      status = 1;
      continue;
    }
    if (eq < 0) {
      show(key, sys.get(key)!);
      continue;
    }
    const value = raw.slice(eq + 1);
    const set = sys.set(key, value);
    if (!set.ok) {
      ctx.stderr.write(`sysctl: setting key "${key}": Invalid argument\n`);
      status = 1;
      continue;
    }
    if (!quiet) show(key, sys.get(key)!);
  }
  return status;
}

export const arp = program(arpRun);
export const route = program(routeRun);
export const sysctl = program(sysctlRun);
