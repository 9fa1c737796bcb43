// Every program a simulated host has, and where it lives on a Debian 12 PATH.
import { awk } from './awk';
import { bridge } from './bridge';
import { conntrack } from './conntrack';
import { COREUTILS } from './coreutils';
import { explain } from './explain';
import { ifconfig } from './ifconfig';
import { ip } from './ip/ip';
import { jq } from './jq';
import { iptables, iptablesRestore, iptablesSave } from './iptables';
import { arp, netstat, route } from './nettools';
import { curlProgram, httpServer } from './http';
import { nc } from './nc';
import { nsenter } from './nsenter';
import { ping } from './ping';
import { sed } from './sed';
import { ss } from './ss';
import { sysctl } from './sysctl';
import { tcpdump } from './tcpdump';
import { traceroute } from './traceroute';
import { program, type Program } from './process';

const SBIN = '/usr/sbin';
const BIN = '/usr/bin';

const INSTALLED: Array<[string, string, Program]> = [
  ...Object.entries(COREUTILS).map(([name, prog]): [string, string, Program] => [name, BIN, prog]),
  ['awk', BIN, awk],
  ['sed', BIN, sed],
  ['jq', BIN, jq],
  ['ip', SBIN, ip],
  ['ping', BIN, ping],
  ['ping6', BIN, ping],
  ['traceroute', BIN, traceroute],
  ['nc', BIN, nc],
  ['netcat', BIN, nc],
  ['curl', BIN, curlProgram],
  ['python3', BIN, httpServer],
  ['ss', BIN, ss],
  ['tcpdump', BIN, tcpdump],
  ['arp', SBIN, arp],
  ['route', SBIN, route],
  ['netstat', BIN, netstat],
  ['ifconfig', SBIN, ifconfig],
  ['sysctl', SBIN, sysctl],
  ['iptables', SBIN, iptables],
  ['iptables-save', SBIN, iptablesSave],
  ['iptables-restore', SBIN, iptablesRestore],
  ['bridge', SBIN, bridge],
  ['conntrack', SBIN, conntrack],
  ['nsenter', BIN, nsenter],
  ['explain', '/usr/local/bin', explain],
];

/** Full path of each installed program, as `which` prints it. */
export const PROGRAM_PATHS: ReadonlyMap<string, string> = new Map(INSTALLED.map(([name, dir]) => [name, `${dir}/${name}`]));

const which = program((ctx, argv) => {
  let status = argv.length > 1 ? 0 : 1;
  for (const name of argv.slice(1)) {
    const path = PROGRAM_PATHS.get(name) ?? (name === 'which' ? `${BIN}/which` : undefined);
    if (path) ctx.stdout.write(path + '\n');
    else status = 1;
  }
  return status;
});

export const PROGRAMS: ReadonlyMap<string, Program> = new Map<string, Program>([...INSTALLED.map(([name, , prog]): [string, Program] => [name, prog]), ['which', which]]);
