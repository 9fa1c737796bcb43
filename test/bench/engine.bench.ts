// npm run bench: the engine's speed and size on a world with 1,000
// namespaces, each joined to a bridge by a veth, and the cost of a snapshot
// of that world. Prints figures; the last line is one JSON object. Run on one
// core (the engine is single-threaded).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { restoreLab, snapshotLab } from '../../server/sim/snapshot';
import { buildLab, parseWorld } from '../../server/sim/world-file';

const spec = parseWorld(JSON.parse(readFileSync(join(import.meta.dirname, '../../server/templates/classroom.json'), 'utf8')));
const lab = buildLab(spec);
const N = 1000;
const gc = (globalThis as { gc?: () => void }).gc;

function seconds(since: bigint): number {
  return Number(process.hrtime.bigint() - since) / 1e9;
}

for (const line of ['ip link add br0 type bridge', 'ip link set br0 up', 'ip addr add 10.0.0.1/16 dev br0']) lab.run('hostA', line);

// Build the world: 8 ip commands per namespace.
gc?.();
const heapBefore = process.memoryUsage().heapUsed;
const setup: string[] = [];
for (let i = 0; i < N; i++) {
  const addr = `10.0.${2 + Math.floor(i / 250)}.${(i % 250) + 1}`;
  setup.push(`ip netns add ns${i}`, `ip link add v${i} type veth peer name v${i}-br`, `ip link set v${i} netns ns${i}`, `ip link set v${i}-br master br0`, `ip link set v${i}-br up`, `ip -n ns${i} addr add ${addr}/16 dev v${i}`, `ip -n ns${i} link set v${i} up`, `ip -n ns${i} link set lo up`);
}
let t = process.hrtime.bigint();
for (const line of setup) lab.run('hostA', line);
const setupSeconds = seconds(t);
gc?.();
const bytesPerNamespace = Math.round((process.memoryUsage().heapUsed - heapBefore) / N);
console.log(`built ${N} namespaces with ${setup.length} ip commands in ${setupSeconds.toFixed(3)} s (${Math.round(setup.length / setupSeconds)}/s, cold)`);
console.log(`memory: ${bytesPerNamespace} bytes per namespace with its veth, addresses and routes`);

// Steady state: address, route and link changes spread over the namespaces, parsing included.
const churn = (i: number): string[] => {
  const ns = `ns${i % N}`;
  const dev = `v${i % N}`;
  return [`ip -n ${ns} addr add 172.16.0.1/24 dev ${dev}`, `ip -n ${ns} route add 10.99.0.0/16 via 172.16.0.254`, `ip -n ${ns} route del 10.99.0.0/16`, `ip -n ${ns} addr del 172.16.0.1/24 dev ${dev}`, `ip -n ${ns} link set ${dev} mtu 1400`, `ip -n ${ns} link set ${dev} mtu 1500`];
};
for (let i = 0; i < 2000; i++) for (const line of churn(i)) lab.run('hostA', line);
const OPS = 60_000;
t = process.hrtime.bigint();
for (let i = 0; i < OPS / 6; i++) for (const line of churn(i)) lab.run('hostA', line);
const ipOpsPerSec = Math.round(OPS / seconds(t));
console.log(`ip commands: ${OPS} in steady state, ${ipOpsPerSec}/s`);

// One echo across 3 hops (namespace veth -> bridge -> namespace veth) with ARP resolved.
lab.run('hostA', 'ip netns exec ns0 ping -c 1 10.0.2.2');
const PINGS = 10_000;
const samples: number[] = [];
for (let round = 0; round < 5; round++) {
  t = process.hrtime.bigint();
  const r = lab.run('hostA', `ip netns exec ns0 ping -q -c ${PINGS} -i 0.001 10.0.2.2`);
  samples.push((seconds(t) * 1e6) / PINGS);
  if (!r.output.includes(`${PINGS} received`)) throw new Error(`bench ping failed:\n${r.output}`);
}
// The median of five runs: the first ones still pay for compilation.
const pingEchoUs = samples.sort((a, b) => a - b)[2]!;
console.log(`ping echo: ${pingEchoUs.toFixed(1)} µs per request and reply (ping's own loop included)`);

// One echo across 4 hops (namespace -> hostA -> gateway -> internet) through two MASQUERADEs
// and a FORWARD chain of 50 rules on hostA, ARP resolved and flows tracked.
const nat = buildLab(spec);
for (const line of [
  'ip netns add blue',
  'ip link add veth-blue type veth peer name veth-blue-br',
  'ip link set veth-blue netns blue',
  'ip addr add 192.168.15.1/24 dev veth-blue-br',
  'ip link set veth-blue-br up',
  'ip -n blue addr add 192.168.15.2/24 dev veth-blue',
  'ip -n blue link set veth-blue up',
  'ip -n blue route add default via 192.168.15.1',
  'sysctl -w net.ipv4.ip_forward=1',
  'iptables -t nat -A POSTROUTING -s 192.168.15.0/24 -o eth0 -j MASQUERADE',
  ...Array.from({ length: 49 }, (_, i) => `iptables -A FORWARD -s 10.${i}.0.0/16 -p tcp --dport ${1000 + i} -j DROP`),
  'iptables -A FORWARD -j ACCEPT',
]) {
  if (nat.run('hostA', line).exitCode !== 0) throw new Error(`bench setup failed: ${line}`);
}
nat.run('hostA', 'ip netns exec blue ping -c 1 198.51.100.53');
const natSamples: number[] = [];
for (let round = 0; round < 5; round++) {
  t = process.hrtime.bigint();
  const r = nat.run('hostA', `ip netns exec blue ping -q -c ${PINGS} -i 0.001 -e 77 198.51.100.53`);
  natSamples.push((seconds(t) * 1e6) / PINGS);
  if (!r.output.includes(`${PINGS} received`)) throw new Error(`bench NAT ping failed:\n${r.output}`);
}
const natEchoUs = natSamples.sort((a, b) => a - b)[2]!;
console.log(`NAT echo: ${natEchoUs.toFixed(1)} µs per request and reply across 4 hops, 2 MASQUERADEs, 50 FORWARD rules`);

// A snapshot of the 1,000-namespace world through JSON, as a store would keep it, and its restore.
const snapshotSamples: number[] = [];
const restoreSamples: number[] = [];
let snapshotText = '';
for (let round = 0; round < 5; round++) {
  t = process.hrtime.bigint();
  snapshotText = JSON.stringify(snapshotLab(lab));
  snapshotSamples.push(seconds(t) * 1e3);
  t = process.hrtime.bigint();
  restoreLab(JSON.parse(snapshotText));
  restoreSamples.push(seconds(t) * 1e3);
}
const snapshotMs = Number(snapshotSamples.sort((a, b) => a - b)[2]!.toFixed(1));
const restoreMs = Number(restoreSamples.sort((a, b) => a - b)[2]!.toFixed(1));
const snapshotBytes = snapshotText.length;
console.log(`snapshot of the ${N}-namespace world: ${snapshotBytes} bytes of JSON, taken in ${snapshotMs} ms, restored in ${restoreMs} ms`);

console.log(JSON.stringify({ ipOpsPerSec, pingEchoUs: Number(pingEchoUs.toFixed(1)), bytesPerNamespace, natEchoUs: Number(natEchoUs.toFixed(1)), snapshotBytes, snapshotMs, restoreMs }));
