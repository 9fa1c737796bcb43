// net-tools `ifconfig`: interfaces as the classic tool shows them, and the
// few settings people still make with it (address, netmask, up/down, mtu).
import { formatIpv4, formatMac, maskLength, prefixMask, type Ipv4 } from '../kernel/addr';
import { addIpv4Address, deleteIpv4Address } from '../kernel/address';
import {
  IFF_ALLMULTI, IFF_BROADCAST, IFF_LOOPBACK, IFF_MASTER, IFF_MULTICAST, IFF_NOARP, IFF_POINTOPOINT, IFF_PROMISC, IFF_RUNNING,
  IFF_SLAVE, IFF_UP, type Device, type Ipv4Address,
} from '../kernel/device';
import { setLinkDown, setLinkMtu, setLinkUp } from '../kernel/link';
import { parseInetAton } from './ping';
import { program, type ProcContext } from './process';

const FLAG_NAMES: Array<[number, string]> = [
  [IFF_UP, 'UP'],
  [IFF_BROADCAST, 'BROADCAST'],
  [IFF_LOOPBACK, 'LOOPBACK'],
  [IFF_POINTOPOINT, 'POINTOPOINT'],
  [IFF_RUNNING, 'RUNNING'],
  [IFF_NOARP, 'NOARP'],
  [IFF_PROMISC, 'PROMISC'],
  [IFF_ALLMULTI, 'ALLMULTI'],
  [IFF_MASTER, 'MASTER'],
  [IFF_SLAVE, 'SLAVE'],
  [IFF_MULTICAST, 'MULTICAST'],
];

/** net-tools scales byte counts by 1000 with one decimal. */
function scaled(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

function header(name: string, dev: Device): string {
  const flags = dev.flags;
  const names = FLAG_NAMES.filter(([bit]) => flags & bit).map(([, n]) => n);
  return `${name}: flags=${flags & 0xffff}<${names.join(',')}>  mtu ${dev.mtu}\n`;
}

function inetLine(dev: Device, a: Ipv4Address): string {
  const bcast = dev.flags & IFF_BROADCAST ? `  broadcast ${formatIpv4(a.broadcast ?? 0)}` : '';
  return `        inet ${formatIpv4(a.local)}  netmask ${formatIpv4(prefixMask(a.prefixLen))}${bcast}\n`;
}

const SCOPE_IDS = { global: '0x0<global>', link: '0x20<link>', host: '0x10<host>' } as const;

function describe(dev: Device): string {
  let text = header(dev.name, dev);
  const primary = dev.ipv4.find((a) => a.label === dev.name);
  if (primary) text += inetLine(dev, primary);
  for (const a of dev.ipv6) text += `        inet6 ${a.address}  prefixlen ${a.prefixLen}  scopeid ${SCOPE_IDS[a.scope]}\n`;
  text += dev.kind.linkType === 'loopback' ? `        loop  txqueuelen ${dev.txqlen}  (Local Loopback)\n` : `        ether ${formatMac(dev.mac)}  txqueuelen ${dev.txqlen}  (Ethernet)\n`;
  const s = dev.stats;
  text += `        RX packets ${s.rxPackets}  bytes ${s.rxBytes} (${scaled(s.rxBytes)})\n`;
  text += `        RX errors 0  dropped ${s.rxDropped}  overruns 0  frame 0\n`;
  text += `        TX packets ${s.txPackets}  bytes ${s.txBytes} (${scaled(s.txBytes)})\n`;
  text += `        TX errors 0  dropped ${s.txDropped} overruns 0  carrier 0  collisions 0\n\n`;
  return text;
}

/** An address labelled NAME:N shows as an interface of its own. */
function describeAlias(dev: Device, a: Ipv4Address): string {
  return header(a.label, dev) + inetLine(dev, a) + `        ether ${formatMac(dev.mac)}  txqueuelen ${dev.txqlen}  (Ethernet)\n\n`;
}

function shortFlags(dev: Device): string {
  const f = dev.flags;
  let out = '';
  if (f & IFF_BROADCAST) out += 'B';
  if (f & IFF_LOOPBACK) out += 'L';
  if (f & IFF_MULTICAST) out += 'M';
  if (f & IFF_NOARP) out += 'O';
  if (f & IFF_PROMISC) out += 'P';
  if (f & IFF_RUNNING) out += 'R';
  if (f & IFF_UP) out += 'U';
  return out;
}

function shortLine(dev: Device): string {
  const s = dev.stats;
  return `${dev.name.padEnd(15)} ${String(dev.mtu).padStart(5)} ${String(s.rxPackets).padStart(8)} ${'0'.padStart(6)} ${String(s.rxDropped).padStart(6)} 0      ${String(s.txPackets).padStart(8)} ${'0'.padStart(6)} ${String(s.txDropped).padStart(6)} ${'0'.padStart(6)} ${shortFlags(dev)}\n`;
}

function byName(a: Device, b: Device): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** The classful netmask ifconfig assumes when none is given. */
function classfulLength(addr: Ipv4): number {
  const first = addr >>> 24;
  return first < 128 ? 8 : first < 192 ? 16 : 24;
}

/** herror: glibc answers a malformed dotted number at once, and any other name only after DNS, which the lab never answers. */
export function hostLookupError(name: string): string {
  return `${name}: ${/^[\d.]+$/.test(name) ? 'Unknown host' : 'Host name lookup failure'}`;
}

/** SIOCSIFADDR: a new address for the label takes the classful mask; 0.0.0.0 removes it. */
function setAddress(dev: Device, label: string, addr: Ipv4): void {
  const old = dev.ipv4.find((x) => x.label === label);
  if (old?.local === addr) return;
  if (old) deleteIpv4Address(dev, old.local, old.prefixLen);
  if (addr === 0) return;
  const len = classfulLength(addr);
  addIpv4Address(dev, addr, len, { label, broadcast: dev.flags & IFF_BROADCAST && len < 31 ? (addr | ~prefixMask(len)) >>> 0 : null });
}

/** SIOCSIFNETMASK: the broadcast follows the mask only while it was the one the old mask implied. */
function setNetmask(dev: Device, label: string, len: number): string | null {
  const old = dev.ipv4.find((x) => x.label === label);
  if (!old) return 'Cannot assign requested address';
  if (len < 0) return 'Invalid argument';
  if (old.prefixLen === len) return null;
  const implied = old.broadcast === (old.local | ~prefixMask(old.prefixLen)) >>> 0;
  const broadcast = dev.flags & IFF_BROADCAST && len < 31 && implied ? (old.local | ~prefixMask(len)) >>> 0 : old.broadcast;
  deleteIpv4Address(dev, old.local, old.prefixLen);
  addIpv4Address(dev, old.local, len, { label, broadcast });
  return null;
}

/**
 * ifconfig IFACE SETTINGS: each setting is its own ioctl, made in order; a
 * failure is reported and the rest still tried. A missing device fails each
 * (`dev` null), and an address brings the interface up.
 */
function configure(ctx: ProcContext, dev: Device | null, label: string, args: string[]): number {
  let status = 0;
  const ioctlError = (ioctl: string, reason: string) => {
    ctx.stderr.write(`${ioctl}: ${reason}\n`);
    status |= 1;
  };
  const setFlags = (up: boolean) => {
    if (!dev) {
      ctx.stderr.write(`${label}: ERROR while getting interface flags: No such device\n`);
      status = -1;
    } else if (up) setLinkUp(dev);
    else setLinkDown(dev);
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === 'up' || a === 'down') setFlags(a === 'up');
    else if (a === 'mtu') {
      const mtu = parseInt(args[++i] ?? '', 10);
      if (!dev) ioctlError('SIOCSIFMTU', 'No such device');
      else if (!setLinkMtu(dev, Number.isNaN(mtu) ? 0 : mtu).ok) ioctlError('SIOCSIFMTU', 'Invalid argument');
    } else if (a === 'netmask') {
      const text = args[++i] ?? '';
      const mask = parseInetAton(text);
      if (mask === null) {
        ctx.stderr.write(hostLookupError(text) + '\n');
        status |= 1;
      } else if (!dev) ioctlError('SIOCSIFNETMASK', 'No such device');
      else {
        const error = setNetmask(dev, label, maskLength(mask));
        if (error) ioctlError('SIOCSIFNETMASK', error);
      }
    } else if (a === 'broadcast') {
      const brd = parseInetAton(args[++i] ?? '');
      const own = dev?.ipv4.find((x) => x.label === label);
      if (own && brd !== null) own.broadcast = brd;
    } else {
      const [addrText, lenText] = a.split('/');
      const addr = parseInetAton(addrText!);
      if (addr === null) {
        ctx.stderr.write(`${hostLookupError(a)}\nifconfig: \`--help' gives usage information.\n`);
        return 1;
      }
      if (!dev) ioctlError('SIOCSIFADDR', 'No such device');
      else {
        setAddress(dev, label, addr);
        if (lenText !== undefined) setNetmask(dev, label, Number(lenText));
      }
      setFlags(true);
    }
  }
  return status & 0xff;
}

function run(ctx: ProcContext, argv: string[]): number {
  const args = argv.slice(1);
  const all = args[0] === '-a';
  const short = args[0] === '-s';
  const rest = args.filter((a) => a !== '-a' && a !== '-s' && a !== '-v');
  const devices = ctx.ns.sortedDevices().sort(byName);
  if (rest.length === 0) {
    const shown = devices.filter((d) => all || d.adminUp);
    if (short) {
      ctx.stdout.write('Iface      MTU    RX-OK RX-ERR RX-DRP RX-OVR    TX-OK TX-ERR TX-DRP TX-OVR Flg\n');
      for (const dev of shown) ctx.stdout.write(shortLine(dev));
      return 0;
    }
    for (const dev of shown) {
      ctx.stdout.write(describe(dev));
      for (const a of dev.ipv4) if (a.label !== dev.name && a.label.startsWith(dev.name + ':')) ctx.stdout.write(describeAlias(dev, a));
    }
    return 0;
  }
  const name = rest[0]!;
  const [base] = name.split(':');
  const dev = ctx.ns.device(base!);
  if (rest.length > 1) return configure(ctx, dev ?? null, name, rest.slice(1));
  if (!dev) {
    ctx.stderr.write(`${name}: error fetching interface information: Device not found\n`);
    return 1;
  }
  if (short) {
    ctx.stdout.write('Iface      MTU    RX-OK RX-ERR RX-DRP RX-OVR    TX-OK TX-ERR TX-DRP TX-OVR Flg\n' + shortLine(dev));
    return 0;
  }
  if (name !== dev.name) {
    const alias = dev.ipv4.find((a) => a.label === name);
    if (!alias) {
      ctx.stderr.write(`${name}: error fetching interface information: Device not found\n`);
      return 1;
    }
    ctx.stdout.write(describeAlias(dev, alias));
    return 0;
  }
  ctx.stdout.write(describe(dev));
  return 0;
}

export const ifconfig = program(run);
