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

  describe('on a bridge', () => {
    /** red and blue on a bridge started with the given settings. */
    function bridged(settings: string) {
      const lab = buildLab(spec);
      for (const line of [
        'ip netns add red',
        'ip netns add blue',
        `ip link add br0 type bridge ${settings}`,
        'ip link set br0 up',
        'ip link add veth-red type veth peer name veth-red-br',
        'ip link add veth-blue type veth peer name veth-blue-br',
        'ip link set veth-red netns red',
        'ip link set veth-blue netns blue',
        'ip link set veth-red-br master br0 up',
        'ip link set veth-blue-br master br0 up',
        'ip -n red addr add 10.0.0.1/24 dev veth-red',
        'ip -n blue addr add 10.0.0.2/24 dev veth-blue',
        'ip -n red link set veth-red up',
        'ip -n blue link set veth-blue up',
      ]) {
        expect(lab.run('hostA', line).exitCode).toBe(0);
      }
      return lab;
    }

    it('says a port still listening under STP takes nothing in', () => {
      const lab = bridged('stp_state 1 forward_delay 200');
      const r = lab.run('hostA', 'ip netns exec red explain ping -c 1 -W 1 10.0.0.2');
      expect(r.output.slice(r.output.indexOf('explain:'))).toBe(
        'explain: what happened to the packets of `ping -c 1 -W 1 10.0.0.2`\n' +
          '10.0.0.1 > 10.0.0.2 ICMP echo request\n' +
          '    hostA/red        veth-red       route: 10.0.0.2 matches 10.0.0.0/24 dev veth-red\n' +
          '    hostA/red        veth-red       waits for ARP: who has 10.0.0.2?\n' +
          'ARP who-has 10.0.0.2 tell 10.0.0.1\n' +
          '    hostA/red        veth-red       sent\n' +
          '  ✗ hostA            veth-red-br    veth-red-br is listening on br0: it takes in nothing (STP: it forwards once its forward delay has passed)\n',
      );
    });

    it('says isolated ports do not reach each other', () => {
      const lab = bridged('stp_state 0');
      expect(lab.run('hostA', 'ip netns exec red ping -c 1 10.0.0.2').exitCode).toBe(0);
      for (const port of ['veth-red-br', 'veth-blue-br']) expect(lab.run('hostA', `bridge link set dev ${port} isolated on`).exitCode).toBe(0);
      const r = lab.run('hostA', 'ip netns exec red explain ping -c 1 -W 1 10.0.0.2');
      expect(summary(r.output)).toBe('in short:\n  10.0.0.1 > 10.0.0.2 ICMP echo request: died at hostA — not bridged from veth-red-br to veth-blue-br: both ports are isolated\n');
    });
  });
});
