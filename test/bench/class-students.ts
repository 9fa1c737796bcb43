// The client side of `npm run bench:class`, in its own process so the
// server's memory figure holds the server alone: an instructor watching the
// dashboard's event stream and students typing the seed lesson, each in their
// own lab. Started by class.bench.ts, which sends the plan and gets the
// latencies back.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LabRow } from '../../server/classes/class-service';
import { DashboardStream } from '../classes/dashboard-stream';
import { LabClient } from '../server/lab-client';

export interface StudentsPlan {
  baseUrl: string;
  students: number;
  /** Pause between one command's end and the next, ms: uniform in [min, max]. */
  pauseMs: [number, number];
  template: string;
}

export interface StudentsResult {
  /** Per command: from sending it to the dashboard showing it, less the real time the command itself ran. */
  latenciesMs: number[];
  /** Per command: from sending it to its being durable in the log (`accepted`). */
  acceptedMs: number[];
  /** Per command: from its `exit` reaching the student to the dashboard showing it. */
  afterExitMs: number[];
  commands: number;
  failed: string[];
}

const LESSON = readFileSync(join(import.meta.dirname, '..', 'golden', 'public', 'seed-lesson.txt'), 'utf8')
  .split('\n')
  .map((line) => /^([A-Za-z0-9_-]+)\$ (.*)$/.exec(line))
  .filter((m) => m !== null)
  .map((m) => ({ host: m[1]!, line: m[2]! }));

/** A small seeded generator, so every run spreads the students the same way. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function post<T>(baseUrl: string, path: string, body: unknown): Promise<T> {
  const res = await fetch(baseUrl + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

async function run(plan: StudentsPlan): Promise<StudentsResult> {
  const created = await post<{ id: string; token: string; joinCode: { code: string } }>(plan.baseUrl, '/api/classes', { template: plan.template, name: 'Instructor' });
  const joined = [];
  for (let i = 0; i < plan.students; i++) joined.push(await post<{ lab: { id: string; token: string } }>(plan.baseUrl, '/api/classes/join', { code: created.joinCode.code, name: `Student ${i + 1}` }));

  // The dashboard: when each lab's row first shows a command as its last.
  const waiting = new Map<string, (at: number) => void>();
  const shownEarly = new Map<string, number>();
  const dashboard = await DashboardStream.open(plan.baseUrl, created.id, created.token);
  dashboard.onEvent = (event) => {
    if (event.event !== 'lab') return;
    const row = event.data as LabRow;
    const key = `${row.lab}#${row.lastCommand?.seq}`;
    const wake = waiting.get(key);
    if (wake) wake(performance.now());
    else shownEarly.set(key, performance.now());
    waiting.delete(key);
  };

  const latenciesMs: number[] = [];
  const acceptedMs: number[] = [];
  const afterExitMs: number[] = [];
  const failed: string[] = [];
  const rand = random(42);
  const student = async ({ lab }: { lab: { id: string; token: string } }, index: number) => {
    const client = await LabClient.connect(plan.baseUrl, lab.id, lab.token, { notes: false });
    await client.whenSynced();
    await sleep(rand() * plan.pauseMs[1]);
    for (const [n, { host, line }] of LESSON.entries()) {
      const id = `s${index}c${n}`;
      const from = client.messages.length;
      const sentAt = performance.now();
      client.send({ type: 'exec', id, terminal: host, host, line });
      const accepted = await client.until(() => client.messages.slice(from).find((m) => (m.type === 'accepted' || m.type === 'error') && m.id === id), 30_000, `${id} accepted`);
      acceptedMs.push(performance.now() - sentAt);
      if (accepted.type !== 'accepted') {
        failed.push(`${id} ${line}: ${accepted.type === 'error' ? accepted.message : ''}`);
        continue;
      }
      const key = `${lab.id}#${accepted.seq}`;
      const shown = shownEarly.has(key) ? Promise.resolve(shownEarly.get(key)!) : new Promise<number>((resolve) => waiting.set(key, resolve));
      const exit = await client.message('exit', (m) => m.id === id, from);
      const exitAt = performance.now();
      const shownAt = await Promise.race([shown, sleep(10_000).then(() => null)]);
      if (shownAt === null) failed.push(`${id} ${line}: never shown on the dashboard`);
      // A command that follows the real clock (ping -c 2) takes its simulated time in real time too.
      else {
        latenciesMs.push(shownAt - sentAt - (exit.endedUs - exit.startedUs) / 1000);
        afterExitMs.push(Math.max(0, shownAt - exitAt));
      }
      await sleep(plan.pauseMs[0] + rand() * (plan.pauseMs[1] - plan.pauseMs[0]));
    }
    await client.close();
  };
  await Promise.all(joined.map(student));
  dashboard.close();
  return { latenciesMs, acceptedMs, afterExitMs, commands: plan.students * LESSON.length, failed };
}

process.once('message', (plan: StudentsPlan) => {
  run(plan).then(
    (result) => process.send!(result, () => process.exit(0)),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
});
