// `explain` tells where each packet of a command went and why it died.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildLab, parseWorld } from '../server/sim/world-file';

const spec = parseWorld(JSON.parse(readFileSync(join(import.meta.dirname, '../server/templates/classroom.json'), 'utf8')));

function seedLessonBlue() {
  const lab = buildLab(spec);
  for (const line of [
    'ip netns add blue',
    'ip link add v-net-0 type bridge',
    'ip link set v-net-0 up',
    'ip link add veth-blue type veth peer name veth-blue-br',
    'ip link set veth-blue netns blue',
    'ip link set veth-blue-br master v-net-0',
    'ip -n blue addr add 192.168.15.2/24 dev veth-blue',
    'ip -n blue link set veth-blue up',
    'ip link set veth-blue-br up',
    'ip addr add 192.168.15.5/24 dev v-net-0',
    'ip -n blue route add default via 192.168.15.5',
  ]) {
    expect(lab.run('hostA', line).exitCode).toBe(0);
  }
  return lab;
}

function summary(output: string): string {
  return output.slice(output.indexOf('in short:'));
}

describe('explain', () => {
  it('says forwarding is off where the request dies', () => {
    const lab = seedLessonBlue();
    const r = lab.run('hostA', 'ip netns exec blue explain ping -c 1 -W 1 192.168.1.3');
    expect(r.exitCode).toBe(1);
    expect(summary(r.output)).toBe('in short:\n  192.168.15.2 > 192.168.1.3 ICMP echo request: died at hostA — not addressed to hostA, and it does not forward (net.ipv4.ip_forward is 0)\n');
  });

  it('follows the reply to where it is lost without a route back', () => {
    const lab = seedLessonBlue();
    lab.run('hostA', 'sysctl -w net.ipv4.ip_forward=1');
    const session = lab.newSession('hostA');
    const r = lab.run('hostA', 'ip netns exec blue explain ping -c 1 -W 1 192.168.1.3', { session });
    expect(summary(r.output)).toBe(
      'in short:\n' +
        '  192.168.15.2 > 192.168.1.3 ICMP echo request: reached hostB\n' +
        '  192.168.1.3 > 192.168.15.2 ICMP echo reply: died at internet — not addressed to internet, and it does not forward (net.ipv4.ip_forward is 0)\n',
    );
    const drops = session.lastTrace!.filter((e) => e.step === 'drop');
    expect(drops.map((e) => [e.where, e.device])).toEqual([['internet', 'eth0']]);
  });

  it('says when a command sent nothing', () => {
    const lab = seedLessonBlue();
    lab.run('hostA', 'ip netns add red');
    const r = lab.run('hostA', 'ip netns exec red explain ping -c 1 10.9.9.9');
    expect(r.output).toBe('ping: connect: Network is unreachable\n\nexplain: what happened to the packets of `ping -c 1 10.9.9.9`\nexplain: the command sent no packets\n');
  });
});
