// Snapshots: every golden scenario, cut at several steps, snapshotted, sent
// through JSON, restored, and finished on the restored engine, must print
// what the uninterrupted run prints and end in the same state.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_INTERRUPT_US, THINK_TIME_US, type Lab } from '../server/sim/lab';
import { cloneLab, restoreLab, restoreLabWithSessions, snapshotLab, type LabSnapshot } from '../server/sim/snapshot';
import { formatEntry, parseScenario } from '../server/sim/transcript';
import { buildLab, parseWorld } from '../server/sim/world-file';

const root = join(import.meta.dirname, 'golden');
const world = parseWorld(JSON.parse(readFileSync(join(import.meta.dirname, '../server/templates/classroom.json'), 'utf8')));
const hosts = new Set(Object.keys(world.hosts));

interface Step {
  host: string;
  command: string;
}

/** How many cuts each scenario gets, spread over its steps (every step would take minutes). */
const CUTS_PER_SCENARIO = 5;

/** Scenarios whose background jobs run from their first steps to their end, so that no snapshot of them is complete. */
const JOBS_TO_THE_END = new Set(['netfilter/services-nc', 'netfilter/services-ss', 'lessons/kube-chains', 'lessons/pod-internet', 'lessons/stale-conntrack', 'lessons/svc-udp-lb', 'lessons/docker-publish', 'lessons/curl-redirects', 'lessons/ctstate-dnat']);

const scenarios = readdirSync(root, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((area) =>
    readdirSync(join(root, area.name))
      .filter((f) => f.endsWith('.txt'))
      .sort()
      .map((file) => `${area.name}/${file.replace(/\.txt$/, '')}`),
  );

function steps(name: string): Step[] {
  return parseScenario(readFileSync(join(root, `${name}.txt`), 'utf8'), hosts).flatMap((line) => (line.kind === 'command' ? [{ host: line.host, command: line.command }] : []));
}

/** Runs a step as `replay` does (lab.run: a fresh shell, the pause after it) and gives what the transcript shows for it. */
function run(lab: Lab, step: Step): string {
  const r = lab.run(step.host, step.command);
  return formatEntry(step.host, step.command, r.output, r.exitCode);
}

function macOf(lab: Lab, host: string): string {
  return lab.run(host, "ip -br link show eth0 | awk '{print $3}'").output.trim();
}

function roundTrip(snapshot: LabSnapshot): LabSnapshot {
  return JSON.parse(JSON.stringify(snapshot)) as LabSnapshot;
}

describe('snapshot and restore at cut points of every golden scenario', () => {
  let exercised = 0;

  for (const name of scenarios) {
    it(name, () => {
      const all = steps(name);
      // The first step at or after each spread point where nothing runs (a background job makes a snapshot incomplete).
      const wanted = new Set(Array.from({ length: CUTS_PER_SCENARIO }, (_, j) => Math.max(1, Math.round(((j + 1) * all.length) / (CUTS_PER_SCENARIO + 1)))));
      const lab = buildLab(world);
      const outputs: string[] = [];
      const cuts: Array<{ after: number; snapshot: LabSnapshot }> = [];
      let due = 0;
      all.forEach((step, i) => {
        outputs.push(run(lab, step));
        if (wanted.has(i + 1)) due++;
        if (due === 0) return;
        const snapshot = snapshotLab(lab);
        if (!snapshot.complete) return;
        cuts.push({ after: i + 1, snapshot: roundTrip(snapshot) });
        due = 0;
      });
      expect(cuts.length > 0, `${name}: whether some step has nothing running after it`).toBe(!JOBS_TO_THE_END.has(name));
      const final = JSON.stringify(snapshotLab(lab));

      for (const { after, snapshot } of cuts) {
        const restored = restoreLab(snapshot);
        expect(JSON.stringify(snapshotLab(restored)), `${name}: a restored engine snapshots as the one it came from (cut after step ${after})`).toBe(JSON.stringify(snapshot));
        const rest = all.slice(after).map((step) => run(restored, step));
        expect(rest.join(''), `${name}: steps ${after + 1}..${all.length} after restoring`).toBe(outputs.slice(after).join(''));
        expect(JSON.stringify(snapshotLab(restored)), `${name}: the state after the last step (cut after step ${after})`).toBe(final);
      }
      exercised += cuts.length;
    });
  }

  it('exercised most spread points (after the scenarios above)', () => {
    // A spread point is lost only when background jobs run from it to the next one, or to the end.
    expect(scenarios.length).toBeGreaterThan(100);
    expect(exercised).toBeGreaterThanOrEqual((scenarios.length - JOBS_TO_THE_END.size) * CUTS_PER_SCENARIO * 0.9);
  });
});

describe('snapshots of a lab', () => {
  const seedLesson = steps('public/seed-lesson');

  it('a clone is independent: commands on it leave the original as it was', () => {
    const lab = buildLab(world);
    for (const step of seedLesson.slice(0, 20)) run(lab, step);
    const before = JSON.stringify(snapshotLab(lab));
    const clone = cloneLab(lab);
    expect(run(clone, { host: 'hostA', command: 'ip netns add green' })).toBe('hostA$ ip netns add green\n');
    expect(run(clone, { host: 'hostA', command: 'ip link set v-net-0 down' })).toBe('hostA$ ip link set v-net-0 down\n');
    expect(run(clone, { host: 'hostA', command: 'ip netns exec red ping -c 1 -W 1 192.168.15.2' })).toContain('100% packet loss');
    expect(JSON.stringify(snapshotLab(lab))).toBe(before);
    expect(run(clone, { host: 'hostA', command: 'ip netns' })).toBe('hostA$ ip netns\ngreen\nblue (id: 1)\nred (id: 0)\n');
    expect(run(lab, { host: 'hostA', command: 'ip netns' })).toBe('hostA$ ip netns\nblue (id: 1)\nred (id: 0)\n');
    expect(run(lab, { host: 'hostA', command: 'ip netns exec red ping -c 1 -W 1 192.168.15.2' })).toContain(' 0% packet loss');
  });

  it("a terminal's session comes back bound to the restored namespaces", () => {
    const lab = buildLab(world);
    for (const step of seedLesson.slice(0, 20)) run(lab, step);
    const session = lab.newSession('hostA');
    const interactive = (line: string) => lab.run('hostA', line, { session, interactive: true }).output;
    interactive('ip netns exec red bash');
    interactive('cd /tmp; NAME=red');
    const { lab: restored, sessions } = restoreLabWithSessions(roundTrip(snapshotLab(lab, [session])));
    const [copy] = sessions;
    expect(copy!.host).toBe(restored.world.hosts.get('hostA'));
    expect(copy!.nsStack).toEqual([restored.world.hosts.get('hostA')!.namespaces.get('red')]);
    const line = 'echo $NAME $(pwd); ip -br addr';
    expect(restored.run('hostA', line, { session: copy, interactive: true }).output).toBe(interactive(line));
    expect(interactive(line)).toContain('red /tmp\n');
  });

  it('a running background job makes the snapshot incomplete; its clone keeps the listening socket', () => {
    const lab = buildLab(world);
    expect(snapshotLab(lab)).toMatchObject({ complete: true, leftOut: [] });
    run(lab, { host: 'hostA', command: 'nc -lk -p 5000 > /dev/null 2>&1 &' });
    const snapshot = snapshotLab(lab);
    expect(snapshot.complete).toBe(false);
    expect(snapshot.leftOut).toEqual(['1 background job(s)', "a callback of a program (a listener, a socket's receiver)"]);
    const clone = restoreLab(roundTrip(snapshot));
    // The kernel answers the SYN on the clone too; nobody accepts the connection there.
    const probe = { host: 'hostB', command: 'nc -zv -w 1 192.168.1.2 5000' };
    expect(run(clone, probe)).toBe('hostB$ nc -zv -w 1 192.168.1.2 5000\nConnection to 192.168.1.2 5000 port [tcp/*] succeeded!\n');
    expect(run(clone, { host: 'hostA', command: 'ss -tln' })).toBe(run(lab, { host: 'hostA', command: 'ss -tln' }));
    expect(run(clone, { host: 'hostB', command: 'nc -zv -w 1 192.168.1.2 5001' })).toBe('hostB$ nc -zv -w 1 192.168.1.2 5001\nnc: connect to 192.168.1.2 port 5001 (tcp) failed: Connection refused\n[exit 1]\n');
  });

  it('a clone taken while any command of the service scenarios runs holds what the snapshot says and takes commands', () => {
    let clones = 0;
    for (const name of scenarios.filter((n) => /^netfilter\/(services|tcpdump|nat-dnat)/.test(n))) {
      const lab = buildLab(world);
      for (const step of steps(name)) {
        const command = lab.start(step.host, step.command, { interruptAfterUs: DEFAULT_INTERRUPT_US, session: { ...lab.newSession(step.host), recordPaths: true } });
        if (!command.done) {
          const snapshot = roundTrip(snapshotLab(lab));
          expect(snapshot.complete).toBe(false);
          expect(snapshot.leftOut).toContain('1 running command(s)');
          const clone = restoreLab(snapshot);
          expect(JSON.stringify(snapshotLab(clone).objects), `${name}: ${step.command}`).toBe(JSON.stringify(snapshot.objects));
          expect(clone.run(step.host, 'ip -br addr').exitCode).toBe(0);
          clones++;
        }
        while (!command.done) command.advanceTo(command.wakeAt);
        lab.advance(lab.now + THINK_TIME_US);
      }
    }
    expect(clones).toBeGreaterThan(20);
  });

  it('a command in progress makes the snapshot incomplete', () => {
    const lab = buildLab(world);
    const command = lab.start('hostA', 'ping -c 3 192.168.1.3');
    command.advanceTo(lab.now + 1_500_000);
    const snapshot = snapshotLab(lab);
    expect(snapshot.complete).toBe(false);
    expect(snapshot.leftOut).toEqual(['1 running command(s)', '1 ICMP socket(s) of ping or traceroute']);
    // The clone has the kernel's state (the neighbour the ping resolved) without the ping.
    const clone = cloneLab(lab);
    const neighbours = run(clone, { host: 'hostA', command: 'ip neigh' });
    expect(neighbours).toBe(`hostA$ ip neigh\n192.168.1.3 dev eth0 lladdr ${macOf(clone, 'hostB')} REACHABLE \n`);
    while (!command.done) command.advanceTo(command.wakeAt);
    expect(command.done!.output).toContain('3 packets transmitted, 3 received');
    expect(snapshotLab(lab).complete).toBe(true);
  });
});
