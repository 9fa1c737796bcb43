// The timeline (GET /api/labs/:id/timeline) while someone scrubs: every
// step, in any order, is exactly the lab replayed from its world with the
// state document projected after each entry, whether the answer came from
// the scrubbing cursor, a checkpoint or the lab's stored snapshot; and
// going back a step replays only the entries since the checkpoint before it.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { commandsOf, replayHost } from '../../server/labs/history';
import { activityView, LabHost } from '../../server/labs/lab-host';
import { TIMELINE_LIMITS, Timelines, type TimelineLimits } from '../../server/labs/timeline';
import type { LabRecord, LogEntry } from '../../server/store/types';
import type { ActivityEntry } from '../../shared/protocol';
import type { Running } from '../server/harness';
import { connect, server } from '../server/per-test';

afterEach(() => vi.restoreAllMocks());

/** The lab after `step` entries, as the timeline answered before it kept cursors: the whole prefix replayed, the state document's maps. */
function replayed(record: LabRecord, log: LogEntry[], step: number) {
  const host = replayHost(record, log.slice(0, step));
  const doc = host.state.doc;
  const entry = log[step - 1];
  return {
    step,
    steps: log.length,
    hosts: ['hostA', 'hostB', 'gateway', 'internet'],
    entry: entry ? { kind: entry.kind, command: entry.kind === 'exec' ? entry.seq : entry.kind === 'interrupt' ? entry.target : null } : null,
    clockUs: host.now,
    namespaces: doc.getMap('namespaces').toJSON(),
    devices: doc.getMap('devices').toJSON(),
    segments: doc.getMap('segments').toJSON(),
    commands: commandsOf(host).map(activityView),
  };
}

/**
 * A lab with every kind of entry: commands over HTTP, a terminal that enters
 * a namespace, a streaming ping moving the clock, and one stopped with Ctrl-C.
 */
async function busyLab(s: Running): Promise<{ record: LabRecord; log: LogEntry[] }> {
  const { id, token } = await s.createLab();
  const client = await connect(s, id, token);
  for (const line of ['ip netns add red', 'ip link add veth-host type veth peer name veth-red', 'ip link set veth-red netns red', 'ip addr add 10.0.0.1/24 dev veth-host', 'ip link set veth-host up']) {
    await s.exec(id, token, 'hostA', line);
  }
  await client.exec('c1', 'hostA', 'ip netns exec red bash');
  await client.exec('c2', 'hostA', 'ip addr add 10.0.0.2/24 dev veth-red');
  await client.exec('c3', 'hostA', 'ip link set veth-red up');
  await client.exec('c4', 'hostA', 'ping -c 2 10.0.0.1');
  client.send({ type: 'exec', id: 'c5', terminal: 't1', host: 'hostA', line: 'ping 10.0.0.1' });
  await client.message('output', (m) => m.id === 'c5' && m.data.includes('icmp_seq=2'));
  client.send({ type: 'interrupt', id: 'c5' });
  await client.message('exit', (m) => m.id === 'c5');
  await client.exec('c6', 'hostA', 'exit');
  await s.exec(id, token, 'hostB', 'ip -br addr');
  await s.exec(id, token, 'hostA', 'ip netns del red');
  return { record: (await s.store.getLab(id))!, log: await s.store.readLog(id) };
}

/** Forward one by one, back one by one, then jumps all over. */
function scrubbing(steps: number): number[] {
  const forward = Array.from({ length: steps + 1 }, (_, i) => i);
  const jumps = [steps, 0, Math.floor(steps / 2), steps - 1, 1, Math.floor(steps / 3), steps, Math.floor(steps / 2) + 1, 2];
  return [...forward, ...forward.slice().reverse(), ...jumps];
}

const noSnapshot = { readSnapshot: async () => null };

describe('scrubbing a timeline', () => {
  it('answers every step exactly as a whole replay, forward, backward and in jumps', async () => {
    const s = await server();
    const { record, log } = await busyLab(s);
    expect(new Set(log.map((entry) => entry.kind))).toEqual(new Set(['exec', 'advance', 'interrupt']));
    const reference = Array.from({ length: log.length + 1 }, (_, step) => replayed(record, log, step));
    const limits: TimelineLimits[] = [
      TIMELINE_LIMITS,
      // Checkpoints close together, thinned once there are more than 3.
      { checkpointEvery: 2, checkpointsPerLab: 3, checkpointChars: Infinity, labs: 4 },
      // No room for any checkpoint: every step back replays from the world.
      { checkpointEvery: 2, checkpointsPerLab: 16, checkpointChars: 1, labs: 4 },
    ];
    for (const limit of limits) {
      const timelines = new Timelines(noSnapshot, limit);
      for (const step of scrubbing(log.length)) expect(await timelines.step(record, log, step)).toEqual(reference[step]);
    }
  });

  it('keeps a bounded number of labs: a lab dropped is rebuilt exactly', async () => {
    const s = await server();
    const first = await busyLab(s);
    const second = await busyLab(s);
    const timelines = new Timelines(noSnapshot, { ...TIMELINE_LIMITS, checkpointEvery: 3, labs: 1 });
    for (const step of [5, 12, 3, first.log.length]) {
      for (const { record, log } of [first, second]) expect(await timelines.step(record, log, Math.min(step, log.length))).toEqual(replayed(record, log, Math.min(step, log.length)));
    }
  });

  it('starts from the lab’s stored snapshot for the steps after it, and from the world before it', async () => {
    const s = await server({ snapshotEvery: 4 });
    const { record, log } = await busyLab(s);
    const snapshot = (await s.store.readSnapshot(record.id))!;
    expect(snapshot.seq).toBeGreaterThan(4);
    const apply = vi.spyOn(LabHost.prototype, 'apply');
    const timelines = new Timelines(s.store);
    expect(await timelines.step(record, log, log.length)).toEqual(replayed(record, log, log.length));
    // The reference replayed the whole log; the timeline only what followed the snapshot.
    expect(apply).toHaveBeenCalledTimes(log.length + log.length - snapshot.seq);
    apply.mockClear();
    expect(await timelines.step(record, log, 2)).toEqual(replayed(record, log, 2));
    expect(apply).toHaveBeenCalledTimes(2 + 2);
  });

  it('goes back a step by replaying only the entries since the checkpoint before it', async () => {
    const s = await server();
    const { id, token } = await s.createLab();
    for (let i = 0; i < 60; i++) await s.exec(id, token, 'hostA', i % 2 === 0 ? `ip netns add ns${i}` : `ip -br link`);
    const record = (await s.store.getLab(id))!;
    const log = await s.store.readLog(id);
    const timelines = new Timelines(noSnapshot, { ...TIMELINE_LIMITS, checkpointEvery: 25 });
    const apply = vi.spyOn(LabHost.prototype, 'apply');
    await timelines.step(record, log, 60);
    expect(apply).toHaveBeenCalledTimes(60);
    const costs: number[] = [];
    for (const step of [59, 51, 50, 49, 26, 25, 24, 0, 60]) {
      apply.mockClear();
      expect(await timelines.step(record, log, step)).toEqual(replayed(record, log, step));
      costs.push(apply.mock.calls.length - step);
    }
    // Checkpoints at 25 and 50: back from them, or from the world before 25; forward to 60 from 50.
    expect(costs).toEqual([9, 1, 0, 24, 1, 0, 24, 0, 10]);
  });
});

describe('GET /api/labs/:id/timeline', () => {
  it('answers every role of the lab the same', async () => {
    const s = await server();
    const { id, token } = await s.createLab();
    await s.exec(id, token, 'hostA', 'ip netns add red');
    await s.exec(id, token, 'hostA', 'ip netns list');
    const viewer = await s.invite(id, token, 'viewer', 'Vic');
    const owners = await s.api('GET', `/api/labs/${id}/timeline?step=2`, token);
    const viewers = await s.api('GET', `/api/labs/${id}/timeline?step=2`, viewer);
    expect(owners.status).toBe(200);
    expect(viewers).toEqual(owners);
    expect(owners.json).toMatchObject({ step: 2, steps: 2, hosts: ['hostA', 'hostB', 'gateway', 'internet'], entry: { kind: 'exec', command: 2 } });
    const commands = (owners.json as { commands: ActivityEntry[] }).commands;
    expect(commands.map(({ seq, name, host, ns, line, output, exitCode, interrupted, path, drop }) => ({ seq, name, host, ns, line, output, exitCode, interrupted, path, drop }))).toEqual([
      { seq: 1, name: 'owner', host: 'hostA', ns: null, line: 'ip netns add red', output: '', exitCode: 0, interrupted: false, path: null, drop: null },
      { seq: 2, name: 'owner', host: 'hostA', ns: null, line: 'ip netns list', output: 'red\n', exitCode: 0, interrupted: false, path: null, drop: null },
    ]);
    expect((await s.api('GET', `/api/labs/${id}/timeline?step=0`, viewer)).json).toMatchObject({ step: 0, entry: null, commands: [] });
  });

  it('lists the commands as the activity feed shows them, with where their packets went', async () => {
    const s = await server();
    const { id, token } = await s.createLab();
    for (const line of ['ip netns add red', 'ip link add veth-host type veth peer name veth-red', 'ip link set veth-red netns red', 'ip addr add 10.0.0.1/24 dev veth-host', 'ip link set veth-host up']) {
      await s.exec(id, token, 'hostA', line);
    }
    await s.exec(id, token, 'hostA', 'ping -c 1 -W 1 10.0.0.2');
    await s.exec(id, token, 'hostA', 'ip -n red addr add 10.0.0.2/24 dev veth-red');
    await s.exec(id, token, 'hostA', 'ip -n red link set veth-red up');
    await s.exec(id, token, 'hostA', 'ping -c 1 10.0.0.2');
    const activity = (await connect(s, id, token)).state.getArray<ActivityEntry>('activity').toArray();
    const latest = (await s.api('GET', `/api/labs/${id}/timeline`, token)).json as { commands: ActivityEntry[] };
    expect(latest.commands).toEqual(activity);
    // The first ping died on the way (nothing answers ARP yet); the second went to red and back.
    const pings = activity.filter((entry) => entry.line.startsWith('ping'));
    expect(pings.map((entry) => [entry.exitCode, entry.path !== null, entry.drop !== null])).toEqual([[1, true, true], [0, true, false]]);
    // A step shows the path of a command that ended by then.
    const atFirstPing = (await s.api('GET', `/api/labs/${id}/timeline?step=6`, token)).json as { commands: ActivityEntry[] };
    expect(atFirstPing.commands.at(-1)).toEqual(pings[0]);
  });
});
