import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { evaluateTasks, type TaskEvaluation } from '../../server/classes/checks';
import { loadTemplateFolder, TemplateError, type HostCommand, type LabTemplate } from '../../server/classes/lab-template';
import { loadTemplates } from '../../server/labs/templates';
import type { Lab } from '../../server/sim/lab';
import { buildLab } from '../../server/sim/world-file';

const CLASSROOM_JSON = join(import.meta.dirname, '..', '..', 'server', 'templates', 'classroom.json');

/** A lab and the commands run on it; its clone replays them on a fresh engine. */
class ReplayedLab {
  readonly live: Lab;
  private readonly history: HostCommand[] = [];

  constructor(private readonly template: LabTemplate) {
    this.live = buildLab(template.world);
  }

  run(line: HostCommand): void {
    const result = this.live.run(line.host, line.command);
    expect(result.exitCode, `${line.host}$ ${line.command}\n${result.output}`).toBe(0);
    this.history.push(line);
  }

  clone = (): Lab => {
    const lab = buildLab(this.template.world);
    for (const line of this.history) lab.run(line.host, line.command);
    return lab;
  };

  evaluate(): TaskEvaluation[] {
    return evaluateTasks(this.template, this.live, this.clone);
  }
}

const templates = loadTemplates();
const labTemplates = [...templates.values()].filter((t) => t.tasks.length > 0);

describe('shipped templates', () => {
  it('are all in the folder, the plain world file included', () => {
    expect([...templates.keys()]).toEqual(['classroom', 'docker-bridge', 'pod-routing', 'seed-1-veth', 'seed-2-bridge', 'seed-3-lan', 'seed-4-nat', 'troubleshoot-broken']);
    const classroom = templates.get('classroom')!;
    expect(classroom.title).toBe('Classroom');
    expect(classroom.tasks).toEqual([]);
    expect(classroom.world.hosts.gateway!.setup).toEqual(['iptables -t nat -A POSTROUTING -o eth1 -j MASQUERADE']);
  });

  it.each(labTemplates.map((t) => [t.id, t] as const))('%s has instructions in English and Korean', (_, template) => {
    expect(template.instructions.en).toMatch(/^# /);
    expect(template.instructions.ko).toMatch(/^# .*[가-힣]/);
  });

  it.each(labTemplates.map((t) => [t.id, t] as const))('%s: no task is done at the start, every check passes after the solution', (_, template) => {
    const lab = new ReplayedLab(template);
    expect(lab.evaluate().filter((task) => task.done)).toEqual([]);
    for (const line of template.solution) lab.run(line);
    for (const task of lab.evaluate()) expect(task, task.id).toEqual({ ...task, done: true, checks: task.checks.map((c) => ({ description: c.description, passed: true })) });
  });

  it('the troubleshooting lab starts with every check failing', () => {
    const lab = new ReplayedLab(templates.get('troubleshoot-broken')!);
    expect(lab.evaluate().flatMap((task) => task.checks.filter((c) => c.passed))).toEqual([]);
  });

  it('a template that continues another starts where that one ends', () => {
    const seed4 = templates.get('seed-4-nat')!;
    expect(seed4.world.hosts.hostB!.setup).toEqual(['ip route add 192.168.15.0/24 via 192.168.1.2']);
    expect(seed4.world.hosts.hostA!.setup.at(-1)).toBe('ip netns exec blue python3 -m http.server 8080 > /dev/null 2>&1 &');
    // seed-1's solution, seed-2's, seed-3's lines on hostA, then seed-4's own setup.
    expect(seed4.world.hosts.hostA!.setup).toHaveLength(9 + 16 + 2 + 1);
  });
});

let dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true });
  dirs = [];
});

/** A folder holding the classroom world and the given files. */
function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'nslab-templates-'));
  dirs.push(dir);
  copyFileSync(CLASSROOM_JSON, join(dir, 'classroom.json'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const INSTRUCTIONS = { en: '# Lab', ko: '# 실습' };

describe('check kinds', () => {
  // hostA: red on bridge br0, routed and masqueraded to the LAN; a TCP listener on hostA's port 8080.
  const setup = [
    'ip netns add red',
    'ip link add br0 type bridge',
    'ip addr add 10.0.0.254/24 dev br0',
    'ip link set br0 up',
    'ip link add veth-red type veth peer name veth-red-br',
    'ip link set veth-red netns red',
    'ip link set veth-red-br master br0',
    'ip link set veth-red-br up',
    'ip -n red addr add 10.0.0.1/24 dev veth-red',
    'ip -n red link set veth-red up',
    'ip -n red route add default via 10.0.0.254',
    'sysctl -w net.ipv4.ip_forward=1',
    'iptables -t nat -A POSTROUTING -s 10.0.0.0/24 -o eth0 -j MASQUERADE',
    'nc -lk -p 8080 > /dev/null 2>&1 &',
  ];
  const task = (id: string, checks: object[]) => ({ id, title: `The ${id} checks`, checks: checks.map((c, i) => ({ ...c, hint: `${id} hint ${i}` })) });
  const tasks = [
    task('reachable', [
      { reachable: { from: 'hostA/red', to: '192.168.1.3' } },
      { reachable: { from: 'hostA/red', to: '192.168.1.99' } },
      { reachable: { from: 'hostB', to: '192.168.1.2', port: 8080 } },
      { reachable: { from: 'hostB', to: '192.168.1.2', port: 8081 } },
      { reachable: { from: 'hostA/blue', to: '10.0.0.254' } },
    ]),
    task('interface', [
      { interface: { on: 'hostA', name: 'veth-red-br', type: 'veth', up: true, master: 'br0' } },
      { interface: { on: 'hostA/red', name: 'lo', up: false } },
      { interface: { on: 'hostA/red', name: 'lo', up: true } },
      { interface: { on: 'hostA/red', name: 'veth-red', type: 'bridge' } },
      { interface: { on: 'hostA', name: 'veth-red-br', master: 'br1' } },
      { interface: { on: 'hostA/blue', name: 'lo' } },
    ]),
    task('address', [
      { address: { on: 'hostA/red', address: '10.0.0.1/24', dev: 'veth-red' } },
      { address: { on: 'hostA', address: '10.0.0.254' } },
      { address: { on: 'hostA/red', address: '10.0.0.1/16' } },
      { address: { on: 'hostA', address: '10.0.0.1', dev: 'br0' } },
    ]),
    task('route', [
      { route: { on: 'hostA/red', to: 'default', via: '10.0.0.254', dev: 'veth-red' } },
      { route: { on: 'hostA', to: '10.0.0.0/24', dev: 'br0' } },
      { route: { on: 'hostA', to: '10.0.0.0/24', via: '192.168.1.1' } },
      { route: { on: 'hostA/red', to: '10.0.0.0/16' } },
    ]),
    task('sysctl', [
      { sysctl: { on: 'hostA', key: 'net.ipv4.ip_forward', value: 1 } },
      { sysctl: { on: 'hostA/red', key: 'net.ipv4.ip_forward', value: '1' } },
    ]),
    task('iptables', [
      { iptables: { on: 'hostA', table: 'nat', chain: 'POSTROUTING', rule: '-s 10.0.0.0/24 -j MASQUERADE' } },
      { iptables: { on: 'hostA', table: 'nat', chain: 'POSTROUTING', rule: '-s 10.0.0.0/24 ! -o eth0 -j MASQUERADE' } },
      { iptables: { on: 'hostA', chain: 'POSTROUTING', rule: '-j MASQUERADE' } },
    ]),
    task('output', [
      { output: { on: 'hostA/red', command: 'ip route', matches: '^default via 10\\.0\\.0\\.254 ' }, description: 'red routes through br0' },
      { output: { on: 'hostA', command: 'ip netns', matches: '^blue' } },
    ]),
  ];
  const template = () => loadTemplateFolder(folder({ 'kinds.yaml': stringify({ title: 'Kinds', world: 'classroom.json', setup: { hostA: setup }, instructions: INSTRUCTIONS, tasks, solution: ['hostA$ true'] }) })).get('kinds')!;

  it('each passes and fails with its description, and a failing check shows its hint', () => {
    const passed = (description: string) => ({ description, passed: true });
    const failed = (description: string, hint: string) => ({ description, passed: false, hint });
    const progress = new ReplayedLab(template()).evaluate();
    expect(progress).toEqual([
      {
        id: 'reachable',
        title: 'The reachable checks',
        done: false,
        checks: [
          passed('hostA/red can ping 192.168.1.3'),
          failed('hostA/red can ping 192.168.1.99', 'reachable hint 1'),
          passed('hostB connects to 192.168.1.2 on TCP port 8080'),
          failed('hostB connects to 192.168.1.2 on TCP port 8081', 'reachable hint 3'),
          failed('hostA/blue can ping 10.0.0.254', 'reachable hint 4'),
        ],
      },
      {
        id: 'interface',
        title: 'The interface checks',
        done: false,
        checks: [
          passed('hostA: interface veth-red-br (veth) is up and is a port of br0'),
          passed('hostA/red: interface lo is down'),
          failed('hostA/red: interface lo is up', 'interface hint 2'),
          failed('hostA/red: interface veth-red (bridge) exists', 'interface hint 3'),
          failed('hostA: interface veth-red-br is a port of br1', 'interface hint 4'),
          failed('hostA/blue: interface lo exists', 'interface hint 5'),
        ],
      },
      {
        id: 'address',
        title: 'The address checks',
        done: false,
        checks: [
          passed('hostA/red: address 10.0.0.1/24 on veth-red'),
          passed('hostA: address 10.0.0.254'),
          failed('hostA/red: address 10.0.0.1/16', 'address hint 2'),
          failed('hostA: address 10.0.0.1 on br0', 'address hint 3'),
        ],
      },
      {
        id: 'route',
        title: 'The route checks',
        done: false,
        checks: [
          passed('hostA/red: route default via 10.0.0.254 dev veth-red'),
          passed('hostA: route to 10.0.0.0/24 dev br0'),
          failed('hostA: route to 10.0.0.0/24 via 192.168.1.1', 'route hint 2'),
          failed('hostA/red: route to 10.0.0.0/16', 'route hint 3'),
        ],
      },
      {
        id: 'sysctl',
        title: 'The sysctl checks',
        done: false,
        checks: [passed('hostA: net.ipv4.ip_forward = 1'), failed('hostA/red: net.ipv4.ip_forward = 1', 'sysctl hint 1')],
      },
      {
        id: 'iptables',
        title: 'The iptables checks',
        done: false,
        checks: [
          passed('hostA: iptables -t nat has -A POSTROUTING -s 10.0.0.0/24 -j MASQUERADE'),
          failed('hostA: iptables -t nat has -A POSTROUTING -s 10.0.0.0/24 ! -o eth0 -j MASQUERADE', 'iptables hint 1'),
          failed('hostA: iptables -t filter has -A POSTROUTING -j MASQUERADE', 'iptables hint 2'),
        ],
      },
      {
        id: 'output',
        title: 'The output checks',
        done: false,
        checks: [passed('red routes through br0'), failed('hostA: output of "ip netns" matches /^blue/', 'output hint 1')],
      },
    ]);
  });

  it('a task is done when all its checks pass', () => {
    const lab = new ReplayedLab(template());
    lab.run({ host: 'hostA', command: 'ip netns add blue' });
    expect(lab.evaluate().find((t) => t.id === 'output')!.checks.every((c) => c.passed)).toBe(true);
    expect(lab.evaluate().find((t) => t.id === 'output')!.done).toBe(true);
  });

  it('reads kernel state from the live engine, and clones only for checks that run commands', () => {
    const kinds = template();
    const stateOnly = { ...kinds, tasks: kinds.tasks.filter((t) => t.id !== 'reachable' && t.id !== 'output') };
    const live = buildLab(stateOnly.world);
    const now = live.now;
    expect(evaluateTasks(stateOnly, live, () => expect.unreachable('cloned')).map((t) => t.id)).toEqual(['interface', 'address', 'route', 'sysctl', 'iptables']);
    expect(live.now).toBe(now);
  });
});

describe('malformed template files', () => {
  const valid = {
    title: 'A lab',
    world: 'classroom.json',
    instructions: INSTRUCTIONS,
    tasks: [{ id: 'red', title: 'Make red', checks: [{ interface: { on: 'hostA/red', name: 'lo' } }] }],
    solution: ['hostA$ ip netns add red'],
  };
  const withCheck = (check: object) => ({ ...valid, tasks: [{ ...valid.tasks[0], checks: [check] }] });
  const cases: Array<[string, Record<string, string>, string]> = [
    ['YAML syntax', { 'bad.yaml': 'title: one\ntitle: two\n' }, 'bad.yaml: Map keys must be unique at line 2, column 1'],
    ['a missing field', { 'bad.yaml': stringify({ ...valid, instructions: { en: '# Lab' } }) }, 'bad.yaml: instructions.ko: Invalid input: expected string, received undefined'],
    ['an unknown field', { 'bad.yaml': stringify(withCheck({ reachable: { form: 'hostA', to: '192.168.1.3' } })) }, 'bad.yaml: tasks[0].checks[0].reachable.form: unknown field'],
    ['a check of two kinds', { 'bad.yaml': stringify(withCheck({ sysctl: { on: 'hostA', key: 'k', value: 1 }, route: { on: 'hostA', to: 'default' } })) }, 'bad.yaml: tasks[0].checks[0]: must have exactly one of reachable, interface, address, route, sysctl, iptables, output'],
    ['a bad address', { 'bad.yaml': stringify(withCheck({ reachable: { from: 'hostA', to: '192.168.1.300' } })) }, 'bad.yaml: tasks[0].checks[0].reachable.to: must be an IPv4 address, like 192.168.15.2'],
    ['a bad prefix', { 'bad.yaml': stringify(withCheck({ route: { on: 'hostA', to: '10.0.0.0/33' } })) }, 'bad.yaml: tasks[0].checks[0].route.to: must be an IPv4 address with an optional /prefix, like 192.168.15.0/24'],
    ['a bad regular expression', { 'bad.yaml': stringify(withCheck({ output: { on: 'hostA', command: 'ip netns', matches: '(red' } })) }, 'bad.yaml: tasks[0].checks[0].output.matches: must be a JavaScript regular expression'],
    ['an unknown host in a check', { 'bad.yaml': stringify(withCheck({ reachable: { from: 'hostC/red', to: '192.168.1.3' } })) }, 'bad.yaml: tasks[0].checks[0].reachable.from: no host "hostC" in the world (it has hostA, hostB, gateway, internet)'],
    ['an unknown table', { 'bad.yaml': stringify(withCheck({ iptables: { on: 'hostA', table: 'nta', chain: 'INPUT', rule: '-j DROP' } })) }, 'bad.yaml: tasks[0].checks[0].iptables.table: Invalid option: expected one of "filter"|"nat"|"mangle"|"raw"'],
    ['a duplicate task id', { 'bad.yaml': stringify({ ...valid, tasks: [valid.tasks[0], valid.tasks[0]] }) }, 'bad.yaml: tasks[1].id: duplicate task id "red"'],
    ['no tasks', { 'bad.yaml': stringify({ ...valid, tasks: [] }) }, 'bad.yaml: tasks: Too small: expected array to have >=1 items'],
    ['a solution line without a host', { 'bad.yaml': stringify({ ...valid, solution: ['ip netns add red'] }) }, 'bad.yaml: solution[0]: must be HOST$ COMMAND, like "hostA$ ip netns add red"'],
    ['a solution on an unknown host', { 'bad.yaml': stringify({ ...valid, solution: ['hostC$ ip netns add red'] }) }, 'bad.yaml: solution[0]: no host "hostC" in the world (it has hostA, hostB, gateway, internet)'],
    ['both a world and continues', { 'bad.yaml': stringify({ ...valid, continues: 'classroom' }) }, 'bad.yaml: (top level): must have exactly one of world, continues'],
    ['a missing world file', { 'bad.yaml': stringify({ ...valid, world: 'nope.json' }) }, 'bad.yaml: world: no file "nope.json" in the folder'],
    ['a world path outside the folder', { 'bad.yaml': stringify({ ...valid, world: '../classroom.json' }) }, 'bad.yaml: world: must name a world file in the same folder'],
    ['a template as the world', { 'a.yaml': stringify(valid), 'bad.yaml': stringify({ ...valid, world: 'a.yaml' }) }, 'bad.yaml: world: a.yaml is a template, not a world file (use continues)'],
    ['a bad inline world', { 'bad.yaml': stringify({ ...valid, world: { name: 'w', segments: ['lan'], hosts: { a: { interfaces: { eth0: { segment: 'nope' } } } } } }) }, 'bad.yaml: world.hosts.a.interfaces.eth0.segment: unknown segment "nope"'],
    ['an inline world that is not an object', { 'bad.yaml': stringify({ ...valid, world: { name: 'w' } }) }, 'bad.yaml: world.segments: Invalid input: expected array, received undefined'],
    ['a bad world file beside the template', { 'bad.json': '{"name":"w","segments":["lan"],"hosts":{"a":{"routes":"default"}}}' }, 'bad.json: hosts.a.routes: Invalid input: expected array, received string'],
    ['a setup line that fails', { 'bad.yaml': stringify({ ...valid, setup: { hostA: ['ip netns add red', 'ip link set nope up'] } }) }, 'bad.yaml: setup.hostA[1]: Cannot find device "nope"'],
    ['setup on an unknown host', { 'bad.yaml': stringify({ ...valid, setup: { hostC: ['true'] } }) }, 'bad.yaml: setup.hostC: no host "hostC" in the world (it has hostA, hostB, gateway, internet)'],
    ['continuing an unknown template', { 'bad.yaml': stringify({ ...valid, world: undefined, continues: 'nope' }) }, 'bad.yaml: continues: no template "nope" in the folder'],
    ['continuing in a cycle', { 'a.yaml': stringify({ ...valid, world: undefined, continues: 'b' }), 'b.yaml': stringify({ ...valid, world: undefined, continues: 'a' }) }, 'b.yaml: continues: "a" leads back to this template'],
    [
      'an earlier solution that fails where it continues',
      { 'a.yaml': stringify({ ...valid, solution: ['hostA$ ip netns add red', 'hostA$ ip netns add red'] }), 'b.yaml': stringify({ ...valid, world: undefined, continues: 'a' }) },
      'b.yaml: continues: a\'s solution[1] (hostA$ ip netns add red): Cannot create namespace file "/run/netns/red": File exists',
    ],
    ['two files for one id', { 'bad.json': '{}', 'bad.yaml': stringify(valid) }, 'bad.yaml: template "bad" is also bad.json'],
  ];

  it.each(cases)('%s', (_, files, message) => {
    // An Error argument asserts the whole message, not a part of it.
    expect(() => loadTemplateFolder(folder(files))).toThrow(new TemplateError(message));
  });
});
