// A class's dashboard is the same after a restart of the server on the same
// store, and on a second instance sharing the same Redis: the same tasks
// done at the same times, last commands, error streaks and stuck labs.
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import type { Dashboard } from '../../server/classes/class-service';
import { FileStore } from '../../server/store/file-store';
import type { Store } from '../../server/store/types';
import { startServer, tempDir, type Running } from '../server/harness';
import { afterThisTest } from '../server/per-test';
import { freshRedisStore, redisUp } from '../server/redis';
import { createClass, join, SOLUTION, type Created } from './class-calls';


/** Short enough to wait for; labs snapshotted often, so a restart restores from a snapshot and replays the rest. */
const SETTINGS = { stuckMs: 1500, snapshotEvery: 4 };

async function start(store: Store): Promise<Running> {
  const s = await startServer(SETTINGS, store);
  let stopped = false;
  afterThisTest(async () => {
    if (!stopped) await s.stop();
  });
  return {
    ...s,
    stop: async (andStore) => {
      stopped = true;
      await s.stop(andStore);
    },
  };
}

async function dashboard(s: Running, created: Created): Promise<Dashboard> {
  return (await request(s.server.http).get(`/api/classes/${created.id}`).set('authorization', `Bearer ${created.token}`).expect(200)).body as Dashboard;
}

async function results(s: Running, created: Created): Promise<string> {
  return (await request(s.server.http).get(`/api/classes/${created.id}/results.csv`).set('authorization', `Bearer ${created.token}`).expect(200)).text;
}

/**
 * Four students: Ada solves every task with a typo on the way; Alan does two
 * tasks and ends on two failing commands; Grace solves every task, then the
 * instructor breaks her cable; Hugo does nothing. Answers once every lab
 * with tasks left is stuck.
 */
async function runClass(s: Running): Promise<Created> {
  const created = await createClass(s);
  const ada = await join(s, created.joinCode.code, 'Ada');
  const alan = await join(s, created.joinCode.code, 'Alan');
  const grace = await join(s, created.joinCode.code, 'Grace');
  await join(s, created.joinCode.code, 'Hugo');
  const run = async (lab: { id: string; token: string }, lines: string[]) => {
    for (const line of lines) await s.exec(lab.id, lab.token, 'hostA', line);
  };
  await run(ada.lab, [...SOLUTION.slice(0, 4), 'ip linek set veth-blue netns blue', ...SOLUTION.slice(4)]);
  await run(alan.lab, [...SOLUTION.slice(0, 5), 'ip -n red addr add 192.168.15.1/33 dev veth-red', 'ip -n red addr add 192.168.15.1/24 dev veth-rde']);
  await run(grace.lab, SOLUTION);
  // The instructor looks before breaking it: her lab is seen done.
  expect((await dashboard(s, created)).labs[2]!.tasksDone).toBe(4);
  await request(s.server.http)
    .post(`/api/classes/${created.id}/labs/${grace.lab.id}/faults`)
    .set('authorization', `Bearer ${created.token}`)
    .send({ fault: 'link_down', host: 'hostA', ns: 'red', device: 'veth-red' })
    .expect(200);
  await new Promise((resolve) => setTimeout(resolve, SETTINGS.stuckMs + 100));
  return created;
}

/** What each row says, to show the class is worth comparing. */
function summary(d: Dashboard) {
  return d.labs.map((row) => ({
    name: row.members[0]!.name,
    done: row.tasks.map((t) => (t.done ? 'done' : t.doneAt === null ? '' : 'was done')).join(','),
    errorStreak: row.errorStreak,
    last: row.lastCommand && `${row.lastCommand.line} → ${row.lastCommand.exitCode}`,
    stuck: row.stuck,
  }));
}

const EXPECTED = [
  { name: 'Ada', done: 'done,done,done,done', errorStreak: 0, last: 'ip -n blue link set veth-blue up → 0', stuck: false },
  { name: 'Alan', done: 'done,done,,', errorStreak: 2, last: 'ip -n red addr add 192.168.15.1/24 dev veth-rde → 1', stuck: true },
  { name: 'Grace', done: 'done,done,done,was done', errorStreak: 0, last: 'ip -n blue link set veth-blue up → 0', stuck: true },
  { name: 'Hugo', done: ',,,', errorStreak: 0, last: null, stuck: true },
];

describe('class progress across restarts', () => {
  it('is the same after a restart on the file store', async () => {
    const temp = tempDir();
    afterThisTest(async () => temp.remove());
    const first = await start(new FileStore(temp.dir));
    const created = await runClass(first);
    const before = await dashboard(first, created);
    expect(summary(before)).toEqual(EXPECTED);
    const csv = await results(first, created);
    await first.stop();

    const second = await start(new FileStore(temp.dir));
    expect(await dashboard(second, created)).toEqual(before);
    expect(await results(second, created)).toBe(csv);
  });

  it.skipIf(!redisUp)('is the same on a second instance on the same Redis, and after both restart', async () => {
    const redis = freshRedisStore();
    afterThisTest(() => redis.destroy());
    const first = await start(await redis.open());
    const created = await runClass(first);
    const before = await dashboard(first, created);
    expect(summary(before)).toEqual(EXPECTED);

    const other = await start(await redis.open());
    expect(await dashboard(other, created)).toEqual(before);
    await first.stop();
    await other.stop();

    const restarted = await start(await redis.open());
    expect(await dashboard(restarted, created)).toEqual(before);
  });
});
