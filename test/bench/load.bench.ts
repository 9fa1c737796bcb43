// npm run bench:load: real server processes on the local Redis, 100 labs of
// 20 participants typing at a person's pace, first on one instance and then
// on two (participants of each lab spread over both). Two participants of
// each lab are timed, in a client process of their own; all 2,000 type.
// Prints figures; the last two lines are JSON objects, one instance first,
// two instances last.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { RedisStore } from '../../server/store/redis-store';
import type { LoadPlan, LoadReply, LoadRequest } from './load-clients';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const LABS = 100;
const PARTICIPANTS = 20;
/** A participant types a command every 10 s on average. */
const MEAN_PAUSE_MS = 10_000;
const WARMUP_MS = 5_000;
const DURATION_MS = 30_000;
/** Processes for the participants who only make the load. */
const LOAD_PROCESSES = 2;
/** Participants of each lab who are timed: one on each of two instances. */
const TIMED_PER_LAB = 2;
const ROOT = join(import.meta.dirname, '..', '..');

interface Instance {
  child: ChildProcess;
  baseUrl: string;
}

function startInstance(prefix: string): Promise<Instance> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', REDIS_URL, REDIS_PREFIX: prefix, NSLAB_SECRET: 'bench-load-secret', HTTP_REQUESTS_PER_SECOND: '1000000', MAX_CONNECTIONS: '10000' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`instance exited with ${code} before listening`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const match = /^nslab listening on (http:\/\/\S+) /.exec(line);
      if (match) resolve({ child, baseUrl: match[1]! });
    });
  });
}

function rssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : 0;
}

async function api<T>(baseUrl: string, method: string, path: string, token: string | null, body?: unknown): Promise<T> {
  const res = await fetch(baseUrl + path, { method, headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! : NaN;
}
const round = (ms: number) => Math.round(ms * 100) / 100;

async function measure(instanceCount: number): Promise<Record<string, number>> {
  const prefix = `nslab-bench-load:${randomBytes(4).toString('hex')}:`;
  const instances = await Promise.all(Array.from({ length: instanceCount }, () => startInstance(prefix)));
  const first = instances[0]!.baseUrl;
  const labs: LoadPlan['labs'] = [];
  for (let i = 0; i < LABS; i++) {
    const lab = await api<{ id: string; token: string }>(first, 'POST', '/api/labs', null, { template: 'classroom' });
    const tokens = await Promise.all(Array.from({ length: PARTICIPANTS }, async (_, j) => (await api<{ token: string }>(first, 'POST', `/api/labs/${lab.id}/invites`, lab.token, { role: 'editor', name: `p${j}` })).token));
    labs.push({ id: lab.id, tokens });
  }

  const peakRss = instances.map(() => 0);
  const sampler = setInterval(() => instances.forEach((instance, i) => (peakRss[i] = Math.max(peakRss[i]!, rssBytes(instance.child.pid!)))), 1000);
  // The timed participants, the first TIMED_PER_LAB of each lab (one per instance), run in a process of
  // their own, as each would in a browser of their own: the 1,800 others' Yjs documents and their garbage
  // collection, in the load processes, would otherwise be counted as the servers' latency.
  const timedShare = labs.map((lab) => ({ id: lab.id, tokens: lab.tokens.slice(0, TIMED_PER_LAB) }));
  const loadShares = Array.from({ length: LOAD_PROCESSES }, (_, k) => labs.filter((_, i) => i % LOAD_PROCESSES === k).map((lab) => ({ id: lab.id, tokens: lab.tokens.slice(TIMED_PER_LAB) })));
  const shares = [{ labs: timedShare, timed: true }, ...loadShares.map((share) => ({ labs: share, timed: false }))];
  const replies = await Promise.all(
    shares.map(({ labs: share, timed }, k) => {
      const clients = fork(join(import.meta.dirname, 'load-clients.ts'), { execArgv: ['--import', 'tsx'] });
      return new Promise<LoadReply>((resolve) => {
        clients.once('message', (message: LoadReply) => {
          clients.send({ kind: 'exit' } satisfies LoadRequest);
          resolve(message);
        });
        const plan: LoadPlan = { instances: instances.map((i) => i.baseUrl), labs: share, meanPauseMs: MEAN_PAUSE_MS, durationMs: DURATION_MS, warmupMs: WARMUP_MS, timed, tag: String.fromCharCode(97 + k) };
        clients.send({ kind: 'run', plan } satisfies LoadRequest);
      });
    }),
  );
  const reply: LoadReply = {
    kind: 'done',
    commands: replies.reduce((n, r) => n + r.commands, 0),
    failed: replies.reduce((n, r) => n + r.failed, 0),
    cmdMs: replies.flatMap((r) => r.cmdMs),
    crossInstanceMs: replies.flatMap((r) => r.crossInstanceMs),
  };
  clearInterval(sampler);
  for (const instance of instances) instance.child.kill('SIGTERM');
  await Promise.all(instances.map((instance) => new Promise((resolve) => instance.child.once('exit', resolve))));
  const store = await RedisStore.open({ url: REDIS_URL, prefix });
  await store.removeAllKeys();
  await store.close();

  const result: Record<string, number> = {
    instances: instanceCount,
    labs: LABS,
    clients: LABS * PARTICIPANTS,
    cmdP50Ms: round(percentile(reply.cmdMs, 50)),
    cmdP99Ms: round(percentile(reply.cmdMs, 99)),
  };
  if (instanceCount > 1) result.crossInstanceP99Ms = round(percentile(reply.crossInstanceMs, 99));
  result.rssMBPerInstance = Math.round(peakRss.reduce((a, b) => a + b, 0) / instanceCount / 2 ** 20);
  console.log(
    `${instanceCount} instance(s): ${reply.commands} commands in ${DURATION_MS / 1000} s (${reply.failed} failed); timed participants' commands (${reply.cmdMs.length}) p50 ${result.cmdP50Ms} ms, p99 ${result.cmdP99Ms} ms` +
      (instanceCount > 1 ? `; seen on the other instance p50 ${round(percentile(reply.crossInstanceMs, 50))} ms, p99 ${result.crossInstanceP99Ms} ms over ${reply.crossInstanceMs.length}` : '') +
      `; peak RSS per instance ${result.rssMBPerInstance} MB`,
  );
  return result;
}

const single = await measure(1);
const double = await measure(2);
console.log(JSON.stringify(single));
console.log(JSON.stringify(double));
process.exit(0);
