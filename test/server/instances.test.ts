// Several server instances sharing one Redis serve the same labs: each
// applies every log entry in stream order, so what one runs the others show,
// and presence, notes and deletion cross over too. Real servers, real
// sockets, the real Redis on 127.0.0.1:6379.
import { describe, expect, it } from 'vitest';
import { CloseCode } from '../../shared/protocol';
import { parseScenario, replay } from '../../server/sim/transcript';
import { buildLab } from '../../server/sim/world-file';
import { loadTemplates } from '../../server/labs/templates';
import { LabClient } from './lab-client';
import type { Running } from './harness';
import { afterThisTest, connect, server } from './per-test';
import { freshRedisStore, redisUp } from './redis';

const SECRET = 'instances-test-secret';

/** `count` instances on one fresh Redis prefix, as separate processes would be. */
async function instances(count: number): Promise<Running[]> {
  const redis = freshRedisStore();
  afterThisTest(() => redis.destroy());
  const running: Running[] = [];
  for (let i = 0; i < count; i++) {
    const s = await server({ secret: SECRET }, await redis.open());
    running.push(s);
  }
  return running;
}


const namespaces = (c: LabClient) => c.state.getMap('namespaces');
const activityLines = (c: LabClient) => c.state.getArray<{ line: string; name: string; exitCode: number }>('activity').toJSON().map((a) => `${a.name}: ${a.line} → ${a.exitCode}`);

describe.skipIf(!redisUp)('several instances on one Redis', () => {
  it('shows a command run on one instance to participants on the other, in the diagram and the activity feed', async () => {
    const [a, b] = await instances(2);
    const { id, token } = await a!.createLab();
    const watcherOnA = await connect(a!, id, await a!.invite(id, token, 'viewer'));
    const typist = await connect(b!, id, await a!.invite(id, token, 'editor', 'Bea'));
    await typist.exec('c1', 'hostA', 'ip netns add red');
    await watcherOnA.until(() => namespaces(watcherOnA).get('hostA/red'), 2000, 'red on instance A');
    expect(namespaces(watcherOnA).get('hostA/red')).toEqual({ host: 'hostA', name: 'red', forwarding: false, routes: [], netfilter: {} });
    await watcherOnA.until(() => activityLines(watcherOnA).length === 1);
    expect(activityLines(watcherOnA)).toEqual(['Bea: ip netns add red → 0']);
  });

  it('keeps one order when both instances take commands at once: nothing lost, nothing twice, every copy the same', async () => {
    const [a, b] = await instances(2);
    const { id, token } = await a!.createLab();
    const onA = await connect(a!, id, await a!.invite(id, token, 'editor', 'Ann'));
    const onB = await connect(b!, id, await a!.invite(id, token, 'editor', 'Bob'));
    const lines = (who: string) => Array.from({ length: 15 }, (_, i) => `ip link add ${who}${i} type bridge`);
    const run = (client: LabClient, who: string) => Promise.all(lines(who).map((line, i) => client.exec(`${who}-${i}`, 'hostA', line)));
    const results = await Promise.all([run(onA, 'a'), run(onB, 'b'), ...lines('h').map((line) => b!.exec(id, token, 'hostA', line))]);
    expect(results.flat().map((r) => ('exit' in r ? r.exit.exitCode : r.exitCode))).toEqual(Array(45).fill(0));

    const log = await a!.store.readLog(id);
    expect(log.map((e) => e.seq)).toEqual(Array.from({ length: 45 }, (_, i) => i + 1));
    const logged = log.map((e) => (e.kind === 'exec' ? e.line : '')).sort();
    expect(logged).toEqual([...lines('a'), ...lines('b'), ...lines('h')].sort());

    const transcriptOf = async (s: Running) => (await s.api('GET', `/api/labs/${id}/transcript`, token)).text;
    const [fromA, fromB] = await Promise.all([transcriptOf(a!), transcriptOf(b!)]);
    expect(fromB).toBe(fromA);
    const scenario = parseScenario(fromA, new Set(['hostA', 'hostB', 'gateway', 'internet']));
    expect(replay(buildLab(loadTemplates().get('classroom')!.world, 1), scenario)).toBe(fromA);
    const bridges = (c: LabClient) => [...c.state.getMap<{ kind: string }>('devices').values()].filter((d) => d.kind === 'bridge').length;
    await onA.until(() => bridges(onA) === 45 && bridges(onB) === 45, 2000, 'every bridge on both');
  });

  it('answers a retry sent to the other instance instead of running it twice', async () => {
    const [a, b] = await instances(2);
    const { id, token } = await a!.createLab();
    const first = await connect(a!, id, token);
    const { output } = await first.exec('once', 'hostA', 'ip netns add blue');
    expect(output).toBe('');
    await first.close();
    const again = await connect(b!, id, token);
    const from = again.messages.length;
    again.send({ type: 'exec', id: 'once', terminal: 't1', host: 'hostA', line: 'ip netns add blue' });
    expect(await again.message('accepted', (m) => m.id === 'once', from)).toEqual({ type: 'accepted', id: 'once', seq: 1 });
    expect(await again.message('exit', (m) => m.id === 'once', from)).toMatchObject({ exitCode: 0 });
    expect((await b!.store.readLog(id)).length).toBe(1);
  });

  it('carries presence and notes between instances', async () => {
    const [a, b] = await instances(2);
    const { id, token } = await a!.createLab();
    const alan = await connect(a!, id, await a!.invite(id, token, 'editor', 'Alan'));
    const grace = await connect(b!, id, await a!.invite(id, token, 'editor', 'Grace'));
    alan.awareness.setLocalState({ color: '#336699', host: 'hostA', ns: 'red', typing: true });
    await grace.until(() => grace.awareness.getStates().get(alan.awareness.clientID), 2000, "Alan's presence on B");
    expect(grace.awareness.getStates().get(alan.awareness.clientID)).toEqual({ name: 'Alan', color: '#336699', host: 'hostA', ns: 'red', typing: true });

    grace.notes.getText('notes').insert(0, 'veth pairs come in twos');
    await alan.until(() => alan.notes.getText('notes').toString() === 'veth pairs come in twos', 2000, "Grace's note on A");

    await alan.close();
    await grace.until(() => !grace.awareness.getStates().has(alan.awareness.clientID), 2000, "Alan's presence gone on B");
  });

  it('keeps a streaming command running while its participant is connected to another instance, and stops it when they leave', async () => {
    const [a, b] = await instances(2);
    const { id, token } = await a!.createLab();
    const pinger = await connect(a!, id, token);
    const watcherOnB = await connect(b!, id, await a!.invite(id, token, 'viewer'));
    pinger.send({ type: 'exec', id: 'p', terminal: 't1', host: 'hostA', line: 'ping 192.168.1.3' });
    await pinger.until(() => pinger.outputOf('p').includes('icmp_seq=1 '));
    await watcherOnB.until(() => watcherOnB.state.getMap('running').size === 1, 2000, 'the ping running on B');
    // Longer than B waits to hear who is connected where: B must not take the ping for an orphan.
    await new Promise((resolve) => setTimeout(resolve, 7000));
    expect(watcherOnB.state.getMap('running').size).toBe(1);
    expect(pinger.outputOf('p')).toContain('icmp_seq=6 ');
    await pinger.close();
    await watcherOnB.until(() => watcherOnB.state.getArray('activity').length === 1, 3000, 'the ping stopped');
    expect(watcherOnB.state.getArray('activity').get(0)).toMatchObject({ line: 'ping 192.168.1.3', interrupted: true, exitCode: 0 });
  }, 20_000);

  it('closes the lab on every instance when it is deleted', async () => {
    const [a, b] = await instances(2);
    const { id, token } = await a!.createLab();
    const onB = await connect(b!, id, await a!.invite(id, token, 'viewer'));
    expect((await a!.api('DELETE', `/api/labs/${id}`, token)).status).toBe(204);
    expect(await onB.closed).toEqual({ code: CloseCode.labDeleted, reason: 'the lab was deleted' });
  });
});
