// Every program a simulated host has on its PATH.
import { COREUTILS } from './coreutils';
import { ip } from './ip/ip';
import { iptables } from './iptables';
import { arp, route, sysctl } from './nettools';
import { ping } from './ping';
import type { Program } from './process';

export const PROGRAMS: ReadonlyMap<string, Program> = new Map<string, Program>([
  ...Object.entries(COREUTILS),
  ['ip', ip],
  ['ping', ping],
  ['arp', arp],
  ['route', route],
  ['sysctl', sysctl],
  ['iptables', iptables],
]);
