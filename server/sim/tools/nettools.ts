// net-tools' `arp`, `route` and `netstat`.
import { formatIpv4, formatMac, maskLength, parseMac, prefixMask, type Ipv4, type Mac } from '../kernel/addr';
import type { Device } from '../kernel/device';
import { currentState, neighDelete, neighEntries, neighSet, nudValid, pneighEntries } from '../kernel/neigh';
import { addRoute, deleteRoute, sortedRoutes, type Route } from '../kernel/fib';
import { STRERROR } from '../kernel/errno';
import type { NetNs } from '../kernel/netns';
import { program, type ProcContext } from './process';
import { parseIpv4Loose } from './ip/utils';

const ARP_HEADER = 'Address                  HWtype  HWaddress           Flags Mask            Iface\n';

const ARP_USAGE = `Usage:
  arp [-vn]  [<HW>] [-i <if>] [-a] [<hostname>]             <-Display ARP cache
  arp [-v]          [-i <if>] -d  <host> [pub]               <-Delete ARP entry
  arp [-vnD] [<HW>] [-i <if>] -f  [<filename>]            <-Add entry from file
  arp [-v]   [<HW>] [-i <if>] -s  <host> <hwaddr> [temp]            <-Add entry
  arp [-v]   [<HW>] [-i <if>] -Ds <host> <if> [netmask <nm>] pub          <-''-

        -a                       display (all) hosts in alternative (BSD) style
        -e                       display (all) hosts in default (Linux) style
        -s, --set                set a new ARP entry
        -d, --delete             delete a specified entry
        -v, --verbose            be verbose
        -n, --numeric            don't resolve names
        -i, --device             specify network interface (e.g. eth0)
        -D, --use-device         read <hwaddr> from given device
        -A, -p, --protocol       specify protocol family
        -f, --file               read new entries from file or from /etc/ethers

  <HW>=Use '-H <hw>' to specify hardware address type. Default: ether
  List of possible hardware types (which support ARP):
    ash (Ash) ether (Ethernet) ax25 (AMPR AX.25)
    netrom (AMPR NET/ROM) rose (AMPR ROSE) arcnet (ARCnet)
    dlci (Frame Relay DLCI) fddi (Fiber Distributed Data Interface) hippi (HIPPI)
    irda (IrLAP) x25 (generic X.25) eui64 (Generic EUI-64)
`;

/** Hardware types net-tools knows; only Ethernet entries exist here. */
const ARP_HW_TYPES = ['ash', 'ether', 'ax25', 'netrom', 'rose', 'arcnet', 'dlci', 'fddi', 'hippi', 'irda', 'x25', 'eui64'];

function arpRun(ctx: ProcContext, argv: string[]): number {
  let bsd = false;
  let verbose = false;
  let hwType = 'ether';
  let device: string | null = null;
  let host: string | null = null;
  const words: string[] = [];
  let action: 'show' | 'set' | 'delete' = 'show';
  const args = argv.slice(1);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--numeric' || a === '--use-device') continue;
    if (a === '--verbose') verbose = true;
    else if (a === '--all') bsd = true;
    else if (a === '--set') action = 'set';
    else if (a === '--delete') action = 'delete';
    else if (a === '--device') device = args[++i] ?? null;
    else if (a === '-H' || a === '-t' || a === '--hw-type') {
      hwType = args[++i] ?? '';
      if (!ARP_HW_TYPES.includes(hwType)) {
        ctx.stderr.write(`arp: ${hwType}: unknown hardware type.\n`);
        return 255;
      }
    } else if (/^-[nvaesdiD]+$/.test(a)) {
      for (const f of a.slice(1)) {
        if (f === 'v') verbose = true;
        else if (f === 'a') bsd = true;
        else if (f === 'e') bsd = false;
        else if (f === 's') action = 'set';
        else if (f === 'd') action = 'delete';
        else if (f === 'i') device = args[++i] ?? null;
      }
    } else if (a.startsWith('-')) {
      ctx.stderr.write(`arp: invalid option -- '${a.slice(1, 2)}'\n${ARP_USAGE}`);
      return 3;
    } else words.push(a);
  }
  if (action === 'set') {
    const ip = parseIpv4Loose(words[0] ?? '');
    if (words[1] === undefined) {
      ctx.stderr.write('arp: need hardware address\n');
      return 255;
    }
    const mac = parseMac(words[1]);
    if (ip === null || mac === null) {
      ctx.stderr.write('arp: invalid hardware address\n');
      return 255;
    }
    const dev = device !== null ? ctx.ns.device(device) : ctx.ns.sortedDevices().find((d) => d.ipv4.some((a4) => ((a4.local ^ ip) & prefixMask(a4.prefixLen)) === 0));
    if (!dev) {
      ctx.stderr.write('SIOCSARP: Network is unreachable\n');
      return 255;
    }
    neighSet(dev, ip, mac, 'PERMANENT', 'replace');
    return 0;
  }
  if (action === 'delete') {
    const ip = parseIpv4Loose(words[0] ?? '');
    const entry = ip === null ? undefined : neighEntries(ctx.ns).find((e) => e.ip === ip && (device === null || e.dev.name === device));
    if (!entry) {
      ctx.stderr.write(`No ARP entry for ${words[0] ?? ''}\n`);
      return 255;
    }
    neighDelete(entry.dev, entry.ip);
    return 0;
  }
  host = words[0] ?? null;
  const all = procNetArp(ctx.ns);
  // Only Ethernet entries exist, so another hardware type matches none.
  const entries = all.filter((e) => hwType === 'ether' && (!device || e.dev.name === device) && (!host || formatIpv4(e.ip) === host));
  if (entries.length === 0) {
    if (host !== null && !bsd) ctx.stdout.write(`${host} (${host}) -- no entry\n`);
    else if (host !== null || device !== null) ctx.stdout.write(`arp: in ${all.length} entries no match found.\n`);
    return 0;
  }
  if (!bsd) ctx.stdout.write(ARP_HEADER);
  for (const e of entries) {
    if (bsd) {
      const hw = e.mac !== null ? `${formatMac(e.mac)} [ether]` : e.published ? '<from_interface>' : '<incomplete>';
      ctx.stdout.write(`? (${formatIpv4(e.ip)}) at ${hw}${e.permanent ? ' PERM' : ''}${e.published ? ' PUB' : ''} on ${e.dev.name}\n`);
      continue;
    }
    const hw = e.mac !== null ? 'ether'.padEnd(8) + formatMac(e.mac).padEnd(20) : e.published ? '*'.padEnd(8) + '<from_interface>'.padEnd(20) : ''.padEnd(8) + '(incomplete)'.padEnd(20);
    const flags = (e.mac !== null ? 'C' : '') + (e.permanent ? 'M' : '') + (e.published ? 'P' : '');
    ctx.stdout.write(`${formatIpv4(e.ip).padEnd(25)}${hw}${flags.padEnd(6)}${''.padEnd(15)} ${e.dev.name}\n`);
  }
  if (verbose && !bsd) ctx.stdout.write(`Entries: ${all.length}\tSkipped: ${all.length - entries.length}\tFound: ${entries.length}\n`);
  return 0;
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
function procNetArp(ns: NetNs): ArpRow[] {
  const rows: ArpRow[] = [];
  for (const e of neighEntries(ns)) {
    if (typeof e.ip === 'string') continue;
    const state = currentState(e);
    if (state === 'NOARP' || state === 'NONE') continue;
    rows.push({ ip: e.ip, dev: e.dev, mac: nudValid(state) ? e.mac : null, permanent: state === 'PERMANENT', published: false });
  }
  for (const e of pneighEntries(ns)) if (typeof e.ip === 'number') rows.push({ ip: e.ip, dev: e.dev, mac: null, permanent: true, published: true });
  return rows;
}

/** /etc/networks on Debian: what `route` prints for these networks without -n. */
const NETWORK_NAMES = new Map<number, string>([
  [0, 'default'],
  [0x7f000000, 'loopback'],
  [0xa9fe0000, 'link-local'],
]);

const ROUTE_INVALID_OPTION_TAIL = `${"    inet (DARPA Internet) inet6 (IPv6) ax25 (AMPR AX.25)\n    netrom (AMPR NET/ROM) rose (AMPR ROSE) ipx (Novell IPX)\n    ddp (Appletalk DDP) x25 (CCITT X.25)\nUsage: route [-nNvee] [-FC] [<AF>]           List kernel routing tables\n       route [-v] [-FC] {add|del|flush} ...  Modify routing table for AF.\n\n       route {-h|--help} [<AF>]              Detailed usage syntax for specified AF.\n       route {-V|--version}                  Display version/author and exit.\n\n        -v, --verbose            be verbose\n        -n, --numeric            don't resolve names\n        -e, --extend             display other/more information\n        -F, --fib                display Forwarding Information Base (default)\n        -C, --cache              display routing cache instead of FIB\n\n  <AF>=Use -4, -6, '-A <af>' or '--<af>'; default: inet\n  List of possible address families (which support routing):\n"}`;

const INET_ROUTE_USAGE = `Usage: inet_route [-vF] del {-host|-net} Target[/prefix] [gw Gw] [metric M] [[dev] If]
       inet_route [-vF] add {-host|-net} Target[/prefix] [gw Gw] [metric M]
                              [netmask N] [mss Mss] [window W] [irtt I]
                              [mod] [dyn] [reinstate] [[dev] If]
       inet_route [-vF] add {-host|-net} Target[/prefix] [metric M] reject
       inet_route [-FC] flush      NOT supported
`;

/**
 * The columns route and netstat -r share: destination, gateway, mask, flags,
 * refcount and interface. Unreachable and prohibit routes are RTF_REJECT,
 * which net-tools prints as `!` with dashes; a route without a device has `*`.
 */
function routeColumns(r: Route, numeric: boolean): { dst: string; gw: string; mask: string; flags: string; ref: string; iface: string } {
  const dst = numeric ? formatIpv4(r.dst) : (NETWORK_NAMES.get(r.dst) ?? formatIpv4(r.dst));
  const mask = formatIpv4(prefixMask(r.prefixLen));
  if (r.type === 'unreachable' || r.type === 'prohibit') return { dst, gw: '-', mask, flags: '!', ref: '-', iface: '-' };
  let flags = 'U';
  if (r.gateway !== null) flags += 'G';
  if (r.prefixLen === 32) flags += 'H';
  return { dst, gw: r.gateway === null ? '0.0.0.0' : formatIpv4(r.gateway), mask, flags, ref: '0', iface: r.dev?.name ?? '*' };
}

function routeList(ctx: ProcContext, numeric: boolean, extended: boolean): number {
  ctx.stdout.write('Kernel IP routing table\n');
  ctx.stdout.write(extended ? 'Destination     Gateway         Genmask         Flags Metric Ref    Use Iface    MSS   Window irtt\n' : 'Destination     Gateway         Genmask         Flags Metric Ref    Use Iface\n');
  // /proc/net/route lists the main table.
  for (const r of sortedRoutes(ctx.ns)) {
    const c = routeColumns(r, numeric);
    const base = `${c.dst.padEnd(15)} ${c.gw.padEnd(15)} ${c.mask.padEnd(15)} ${c.flags.padEnd(5)} ${String(r.metric).padEnd(6)} ${c.ref.padEnd(2)} ${'0'.padStart(7)} `;
    ctx.stdout.write(extended ? `${base}${c.iface.slice(0, 6).padEnd(6)}   0     0      0\n` : `${base}${c.iface}\n`);
  }
  // Reading the table fails until the namespace has a routing table at all.
  return ctx.ns.localTableExists ? 0 : 1;
}

/** `route add|del [-net|-host] TARGET [netmask M] [gw G] [metric N] [[dev] IF]` */
function routeModify(ctx: ProcContext, action: 'add' | 'del', args: string[]): number {
  if (args.length === 0) {
    ctx.stdout.write(INET_ROUTE_USAGE);
    return 0;
  }
  let host = false;
  let target: string | null = null;
  let netmask: number | null = null;
  let gateway: string | null = null;
  let metric = 0;
  let devName: string | null = null;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-net') host = false;
    else if (a === '-host') host = true;
    else if (a === 'netmask') netmask = parseIpv4Loose(args[++i] ?? '');
    else if (a === 'gw' || a === 'gateway') gateway = args[++i] ?? null;
    else if (a === 'metric') metric = Number(args[++i] ?? 0);
    else if (a === 'dev') devName = args[++i] ?? null;
    else if (['mss', 'window', 'irtt'].includes(a)) i++;
    else if (['mod', 'dyn', 'reinstate', 'reject'].includes(a)) continue;
    else if (target === null) target = a;
    else devName = a;
  }
  if (target === null) {
    ctx.stdout.write(INET_ROUTE_USAGE);
    return 0;
  }
  const [addrText, lenText] = target === 'default' ? ['0.0.0.0', '0'] : target.split('/');
  const addr = parseIpv4Loose(addrText!);
  if (addr === null) {
    ctx.stderr.write(`${target}: Host name lookup failure\n`);
    return 6;
  }
  // Without -net, a target is a host route unless a netmask or /prefix says otherwise.
  const prefixLen = target === 'default' ? 0 : lenText !== undefined ? Number(lenText) : netmask !== null && !host ? maskLength(netmask) : 32;
  if (target !== 'default' && lenText !== undefined && prefixLen !== 32 && !args.includes('-net')) {
    ctx.stderr.write(`route: netmask ${(prefixMask(prefixLen) >>> 0).toString(16).padStart(8, '0').match(/../g)!.reverse().join('')} doesn't make sense with host route\n${INET_ROUTE_USAGE}`);
    return 3;
  }
  if ((addr & ~prefixMask(prefixLen)) >>> 0 !== 0) {
    ctx.stderr.write(`route: netmask doesn't match route address\n${INET_ROUTE_USAGE}`);
    return 3;
  }
  let dev = null;
  if (devName !== null) {
    dev = ctx.ns.device(devName) ?? null;
    if (!dev) {
      ctx.stderr.write(`SIOC${action === 'add' ? 'ADD' : 'DEL'}RT: No such device\n`);
      return 7;
    }
  }
  const gw = gateway === null ? null : parseIpv4Loose(gateway);
  if (gateway !== null && gw === null) {
    ctx.stderr.write(`${gateway}: Host name lookup failure\n`);
    return 6;
  }
  const ioctl = action === 'add' ? 'SIOCADDRT' : 'SIOCDELRT';
  const r =
    action === 'add'
      ? addRoute(ctx.ns, { dst: addr, prefixLen, gateway: gw, dev, metric, proto: 'boot' })
      : deleteRoute(ctx.ns, { dst: addr, prefixLen, gateway: gw, dev, metric: args.includes('metric') ? metric : null });
  if (!r.ok) {
    const reason = r.errno === 'EINVAL' && r.extack?.includes('gateway') ? 'Network is unreachable' : STRERROR[r.errno];
    ctx.stderr.write(`${ioctl}: ${reason}\n`);
    return 7;
  }
  return 0;
}

function routeRun(ctx: ProcContext, argv: string[]): number {
  let numeric = false;
  let extended = 0;
  const rest: string[] = [];
  for (const a of argv.slice(1)) {
    if (/^-[nNveFC4]+$/.test(a)) {
      for (const f of a.slice(1)) {
        if (f === 'n') numeric = true;
        if (f === 'e') extended++;
      }
    } else if (a === '--numeric') numeric = true;
    else if (a.startsWith('-') && rest.length === 0) {
      ctx.stderr.write(`route: invalid option -- '${a.slice(1, 2)}'\n`);
      ctx.stdout.write(ROUTE_INVALID_OPTION_TAIL);
      return 0;
    } else rest.push(a);
  }
  if (rest[0] === 'add' || rest[0] === 'del') return routeModify(ctx, rest[0], rest.slice(1));
  return routeList(ctx, numeric, extended >= 2);
}

/** `netstat -r` (the routing table, netstat's columns) and `netstat -i` (interface counters). */
function netstatRun(ctx: ProcContext, argv: string[]): number {
  const flags = argv.slice(1).filter((a) => a.startsWith('-')).join('');
  const numeric = flags.includes('n');
  if (flags.includes('r')) {
    ctx.stdout.write('Kernel IP routing table\nDestination     Gateway         Genmask         Flags   MSS Window  irtt Iface\n');
    for (const r of sortedRoutes(ctx.ns)) {
      const c = routeColumns(r, numeric);
      ctx.stdout.write(`${c.dst.padEnd(15)} ${c.gw.padEnd(15)} ${c.mask.padEnd(15)} ${c.flags.padEnd(5)}${'0'.padStart(6)} ${'0'.padEnd(6)} ${'0'.padStart(5)} ${c.iface}\n`);
    }
    return 0;
  }
  if (flags.includes('i')) {
    ctx.stdout.write('Kernel Interface table\nIface             MTU    RX-OK RX-ERR RX-DRP RX-OVR    TX-OK TX-ERR TX-DRP TX-OVR Flg\n');
    for (const dev of ctx.ns.sortedDevices().filter((d) => d.adminUp).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const s = dev.stats;
      ctx.stdout.write(`${dev.name.padEnd(15)} ${String(dev.mtu).padStart(5)} ${String(s.rxPackets).padStart(8)} ${'0'.padStart(6)} ${String(s.rxDropped).padStart(6)} 0      ${String(s.txPackets).padStart(8)} ${'0'.padStart(6)} ${String(s.txDropped).padStart(6)} ${'0'.padStart(6)} ${dev.kind.name === 'loopback' ? 'LRU' : 'BMRU'}\n`);
    }
    return 0;
  }
  ctx.stderr.write('netstat: only the routing (-r) and interface (-i) tables are simulated; use ss for sockets\n');
  return 1;
}

export const arp = program(arpRun);
export const netstat = program(netstatRun);
export const route = program(routeRun);
