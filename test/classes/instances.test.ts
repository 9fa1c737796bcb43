// A class on two server instances sharing the real Redis: what the
// instructor changes on one (the lock, the driver, the join code) and the
// messages they send reach the students and dashboards on the other at
// once, over the store's bus, not when the other's cached class expires.
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import type { Dashboard, LabRow } from '../../server/classes/class-service';
import { CloseCode } from '../../shared/protocol';
import type { ServerSettings } from '../../server/net/server';
import type { Running } from '../server/harness';
import { afterThisTest, connect, server } from '../server/per-test';
import { LabClient } from '../server/lab-client';
import { freshRedisStore, redisUp } from '../server/redis';
import { createClass, join, type Created } from './class-calls';
import { DashboardStream } from './dashboard-stream';


/** Instances A and B on one fresh Redis; `onB` changes B's settings. */
async function twoInstances(onB: Partial<ServerSettings> = {}): Promise<[Running, Running]> {
  const redis = freshRedisStore();
  afterThisTest(() => redis.destroy());
  const running: Running[] = [];
  for (const settings of [{}, onB]) {
    const s = await server({ secret: 'class-instances-test', ...settings }, await redis.open());
    running.push(s);
  }
  return running as [Running, Running];
}

async function openStream(s: Running, created: Created): Promise<DashboardStream> {
  const stream = await DashboardStream.open(s.baseUrl, created.id, created.token);
  afterThisTest(async () => stream.close());
  await stream.next((e) => e.event === 'snapshot');
  return stream;
}

/** The ids of the labs `s` holds in memory. */
async function loadedOn(s: Running): Promise<string[]> {
  return (await s.server.labs.loaded()).map((lab) => lab.id);
}

const LAB_IDLE_MS = 300;
const pastIdle = () => new Promise((resolve) => setTimeout(resolve, 3 * LAB_IDLE_MS));

/** A participant who has also been greeted, so the class state has reached them. */
async function greeted(s: Running, lab: string, token: string): Promise<LabClient> {
  const client = await connect(s, lab, token);
  await client.hello();
  return client;
}

describe.skipIf(!redisUp)('a class on two instances', () => {
  it("shows the instructor's changes made on one instance to students and dashboards on the other", async () => {
    const [a, b] = await twoInstances();
    const created = await createClass(a, { mode: 'group', groupSize: 2 });
    const ada = await join(a, created.joinCode.code, 'Ada');
    const alan = await join(b, created.joinCode.code, 'Alan');
    const asInstructor = { authorization: `Bearer ${created.token}` };
    const onA = (method: 'post' | 'delete', path: string) => request(a.server.http)[method](`/api/classes/${created.id}${path}`).set(asInstructor);

    // Both students work on B, which has read the class by then.
    const adaOnB = await greeted(b, ada.lab.id, ada.lab.token);
    const alanOnB = await greeted(b, alan.lab.id, alan.lab.token);
    await adaOnB.exec('a1', 'hostA', 'ip netns add red');
    const stream = await openStream(b, created);

    await onA('post', '/lock').send({ locked: true }).expect(200);
    const members = [{ participant: ada.member, name: 'Ada' }, { participant: alan.member, name: 'Alan' }];
    for (const client of [adaOnB, alanOnB]) expect(await client.message('class', (m) => m.locked)).toEqual({ type: 'class', class: created.id, locked: true, driver: { participant: ada.member, name: 'Ada' }, members });
    await expect(adaOnB.exec('a2', 'hostA', 'ip netns add blue')).rejects.toThrow('read_only: the class is locked');
    expect(((await stream.next((e) => e.event === 'snapshot' && e.data.locked)).data as Dashboard).locked).toBe(true);

    await onA('post', '/lock').send({ locked: false }).expect(200);
    await onA('post', '/driver').send({ member: alan.member }).expect(200);
    const handedOver = { type: 'class', class: created.id, locked: false, driver: { participant: alan.member, name: 'Alan' }, members };
    for (const client of [adaOnB, alanOnB]) expect(await client.message('class', (m) => m.driver?.participant === alan.member)).toEqual(handedOver);
    await alanOnB.exec('n1', 'hostA', 'ip netns add blue');
    await expect(adaOnB.exec('a3', 'hostA', 'ip netns add green')).rejects.toThrow('forbidden: you are navigating: Alan drives this lab');

    await onA('delete', '/join-code').expect(204);
    const revoked = (await stream.next((e) => e.event === 'snapshot' && e.data.joinCode === null)).data as Dashboard;
    const dashboardOnB = await request(b.server.http).get(`/api/classes/${created.id}`).set(asInstructor).expect(200);
    expect(dashboardOnB.body).toMatchObject({ joinCode: null, locked: false });
    expect(revoked.labs.flatMap((row) => row.members.map((m) => [m.name, m.driver]))).toEqual([
      ['Ada', false],
      ['Alan', true],
    ]);
  });

  it('delivers messages sent on one instance to students connected to either, counting them all', async () => {
    const [a, b] = await twoInstances();
    const created = await createClass(a);
    const ada = await join(a, created.joinCode.code, 'Ada');
    const alan = await join(a, created.joinCode.code, 'Alan');
    const asInstructor = { authorization: `Bearer ${created.token}` };
    // The instructor's dashboard on A holds the class's labs there, so A hears who is connected to them on B.
    await request(a.server.http).get(`/api/classes/${created.id}`).set(asInstructor).expect(200);
    const adaOnA = await greeted(a, ada.lab.id, ada.lab.token);
    const alanOnB = await greeted(b, alan.lab.id, alan.lab.token);
    const alansLabOnA = (await a.server.labs.get(alan.lab.id))!;
    await expect.poll(() => alansLabOnA.connectedElsewhere().has(alan.member)).toBe(true);

    const send = (body: object) => request(a.server.http).post(`/api/classes/${created.id}/messages`).set(asInstructor).send(body);
    await send({ text: 'Five minutes left' }).expect(200, { delivered: 2 });
    for (const client of [adaOnA, alanOnB]) expect(await client.message('message')).toEqual({ type: 'message', from: 'Kim', to: 'class', text: 'Five minutes left', at: expect.any(String) });
    await send({ text: 'Check your prefix', to: alan.member }).expect(200, { delivered: 1 });
    expect(await alanOnB.message('message', (m) => m.to === 'you')).toMatchObject({ text: 'Check your prefix' });
    await send({ text: 'Well done', to: ada.member }).expect(200, { delivered: 1 });
    expect(await adaOnA.message('message', (m) => m.to === 'you')).toMatchObject({ text: 'Well done' });
    expect(alanOnB.messages.filter((m) => m.type === 'message').map((m) => m.type === 'message' && m.text)).toEqual(['Five minutes left', 'Check your prefix']);
  });

  it("keeps a dashboard on one instance live for labs whose students all work on the other, past the idle time", async () => {
    const [a, b] = await twoInstances({ idleMs: LAB_IDLE_MS });
    const created = await createClass(a);
    const ada = await join(a, created.joinCode.code, 'Ada');
    const alan = await join(a, created.joinCode.code, 'Alan');
    const adaOnA = await greeted(a, ada.lab.id, ada.lab.token);
    await greeted(a, alan.lab.id, alan.lab.token);
    const stream = await openStream(b, created);

    // Nothing happens in the labs for longer than B keeps an idle lab.
    await pastIdle();
    expect(await loadedOn(b)).toEqual(expect.arrayContaining([ada.lab.id, alan.lab.id]));
    const from = stream.events.length;
    await adaOnA.exec('a1', 'hostA', 'ip netns add red');
    await adaOnA.exec('a2', 'hostA', 'ip netns add blue');
    const row = (await stream.next((e) => e.event === 'lab' && e.data.lab === ada.lab.id && e.data.tasksDone === 1, from)).data as LabRow;
    expect(row.tasks[0]).toMatchObject({ id: 'namespaces', done: true });
    expect(row).toMatchObject({ commands: 2, lastCommand: { name: 'Ada', line: 'ip netns add blue', exitCode: 0 } });
  });

  it("lets the class's labs leave an instance's memory once its last dashboard stream closes and they are idle", async () => {
    const [a, b] = await twoInstances({ idleMs: LAB_IDLE_MS });
    const created = await createClass(a);
    const ada = await join(a, created.joinCode.code, 'Ada');
    await greeted(a, ada.lab.id, ada.lab.token);
    const first = await openStream(b, created);
    const second = await openStream(b, created);

    first.close();
    await pastIdle();
    expect(await loadedOn(b)).toContain(ada.lab.id);
    second.close();
    await expect.poll(() => loadedOn(b), { timeout: 5000 }).not.toContain(ada.lab.id);
    // Ada still works on A, which holds her lab for her.
    expect(await loadedOn(a)).toContain(ada.lab.id);
  });

  it('loads a watched lab again after a store failure closed it, and the dashboard follows it on', async () => {
    const [a, b] = await twoInstances();
    const created = await createClass(a);
    const ada = await join(a, created.joinCode.code, 'Ada');
    const adaOnA = await greeted(a, ada.lab.id, ada.lab.token);
    const stream = await openStream(b, created);
    // B read the class for the stream's first snapshot, so it sends a second: the class as now read.
    await stream.next((e) => e.event === 'snapshot', 1);
    // Commands that pass no check until the last, so the class itself does not change meanwhile.
    await adaOnA.exec('a1', 'hostA', 'ip -br link');
    await stream.next((e) => e.event === 'lab' && e.data.lab === ada.lab.id && e.data.commands === 1);

    // What B does when its store fails the lab: it closes it, to be loaded again from the store.
    (await b.server.labs.get(ada.lab.id))!.close(CloseCode.labUnavailable, 'the lab must be reloaded from the store');
    expect(await loadedOn(b)).not.toContain(ada.lab.id);
    await adaOnA.exec('a2', 'hostA', 'ip netns list');
    // Loaded again, B sends the whole dashboard with what it missed meanwhile, then follows the lab as before.
    await expect.poll(() => loadedOn(b), { timeout: 5000 }).toContain(ada.lab.id);
    const snapshot = (await stream.next((e) => e.event === 'snapshot' && e.data.labs.some((row) => row.commands === 2))).data as Dashboard;
    expect(snapshot.labs.find((row) => row.lab === ada.lab.id)).toMatchObject({ commands: 2, lastCommand: { line: 'ip netns list' } });
    const from = stream.events.length;
    await adaOnA.exec('a3', 'hostA', 'ip netns add red');
    expect((await stream.next((e) => e.event === 'lab' && e.data.lab === ada.lab.id, from)).data).toMatchObject({ checksPassed: 1, commands: 3, lastCommand: { line: 'ip netns add red' } });
  });
});
