// npm run bench: a world with 1,000 namespaces, each joined to a bridge by a
// veth. Prints figures; the last line is one JSON object.
import { buildLab, parseWorld } from '../../server/sim/world-file';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const spec = parseWorld(JSON.parse(readFileSync(join(import.meta.dirname, '../../server/templates/classroom.json'), 'utf8')));
const lab = buildLab(spec);
const N = 1000;

const setup = ['ip link add br0 type bridge', 'ip link set br0 up', 'ip addr add 10.0.0.1/16 dev br0'];
for (const line of setup) lab.run('hostA', line);

global.gc?.();
const heapBefore = process.memoryUsage().heapUsed;
const lines: string[] = [];
for (let i = 0; i < N; i++) {
  const a = 2 + Math.floor(i / 250);
  const b = (i % 250) + 1;
  lines.push(`ip netns add ns${i}`, `ip link add v${i} type veth peer name v${i}-br`, `ip link set v${i} netns ns${i}`, `ip link set v${i}-br master br0`, `ip link set v${i}-br up`, `ip -n ns${i} addr add 10.0.${a}.${b}/16 dev v${i}`, `ip -n ns${i} link set v${i} up`, `ip -n ns${i} link set lo up`);
}
const t0 = process.hrtime.bigint();
for (const line of lines) lab.run('hostA', line);
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
global.gc?.();
const bytesPerNamespace = Math.round((process.memoryUsage().heapUsed - heapBefore) / N);
const ipOpsPerSec = Math.round(lines.length / seconds);
console.log(`ip commands: ${lines.length} in ${seconds.toFixed(3)} s (${ipOpsPerSec}/s)`);

// Echo across 3 hops (namespace -> bridge -> namespace) with ARP resolved.
lab.run('hostA', 'ip netns exec ns0 ping -c 1 10.0.2.2');
const pings = 200;
const t1 = process.hrtime.bigint();
const r = lab.run('hostA', `ip netns exec ns0 ping -q -c ${pings} -i 0.001 10.0.2.2`);
const pingEchoUs = Number(process.hrtime.bigint() - t1) / 1e3 / pings;
if (!r.output.includes(`${pings} received`)) throw new Error(`bench ping failed:\n${r.output}`);
console.log(`ping echo: ${pingEchoUs.toFixed(1)} µs per echo (driver and tool included)`);
console.log(`memory: ${bytesPerNamespace} bytes per namespace with its veth and addresses`);
console.log(JSON.stringify({ ipOpsPerSec, pingEchoUs: Number(pingEchoUs.toFixed(1)), bytesPerNamespace }));
