// npm run bench:server: the server's fan-out latency against a plain
// y-websocket relay, its connection capacity, and its memory per idle
// connection and per loaded lab. The clients run in child processes
// (server-clients.ts): memory figures are the server's own, and the
// observers, each standing for a browser of its own, are spread over as
// many processes as the machine has cores. Prints figures; the last line is
// one JSON object.
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setupWSConnection } from '@y/websocket-server/utils';
import { WebSocketServer } from 'ws';
import { createNslabServer, DEFAULT_SETTINGS } from '../../server/net/server';
import { FileStore } from '../../server/store/file-store';
import type { ClientReply, ClientRequest } from './server-clients';

const OBSERVERS = 200;
const COMMANDS = 200;
const PER_SECOND = 20;
const CONNECTIONS = 2000;
const LABS_FOR_CONNECTIONS = 10;
const LABS_FOR_SIZE = 20;

const dataDir = mkdtempSync(join(tmpdir(), 'nslab-bench-'));
const store = new FileStore(dataDir);
const server = await createNslabServer(store, {
  requestsPerSecond: 1_000_000,
  maxConnections: CONNECTIONS + 500,
  // Each fan-out command adds a veth pair to the lab.
  limits: { ...DEFAULT_SETTINGS.limits, devices: 2 * COMMANDS + 100 },
});
const { port } = await server.listen(0);
const baseUrl = `http://127.0.0.1:${port}`;

/** Client processes, one per core; each phase starts its own, so none inherits another's garbage. */
class ClientProcesses {
  private readonly children = Array.from({ length: Math.max(2, availableParallelism()) }, () => fork(join(import.meta.dirname, 'server-clients.ts'), { execArgv: ['--expose-gc', '--import', 'tsx'] }));

  get count(): number {
    return this.children.length;
  }

  ask<K extends ClientReply['kind']>(k: number, request: ClientRequest, kind: K): Promise<Extract<ClientReply, { kind: K }>> {
    return new Promise((resolve, reject) => {
      this.children[k]!.once('message', (reply: ClientReply) => (reply.kind === kind ? resolve(reply as Extract<ClientReply, { kind: K }>) : reject(new Error(`client process ${k}: expected ${kind}, got ${reply.kind}`))));
      this.children[k]!.send(request);
    });
  }

  all<T>(work: (k: number) => Promise<T>): Promise<T[]> {
    return Promise.all(this.children.map((_, k) => work(k)));
  }

  exit(): Promise<unknown> {
    return this.all((k) => new Promise((resolve) => {
      this.children[k]!.once('exit', resolve);
      this.children[k]!.send({ kind: 'exit' } satisfies ClientRequest);
    }));
  }
}
/** The k-th of `n` shares of `items`, dealt round-robin. */
const share = <T>(items: T[], k: number, n: number) => items.filter((_, i) => i % n === k);

async function api<T>(method: string, path: string, token: string | null, body?: unknown): Promise<T> {
  const res = await fetch(baseUrl + path, { method, headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}
const createLab = () => api<{ id: string; token: string }>('POST', '/api/labs', null, { template: 'classroom' });
const invite = async (lab: { id: string; token: string }) => (await api<{ token: string }>('POST', `/api/labs/${lab.id}/invites`, lab.token, { role: 'viewer' })).token;
const invites = (lab: { id: string; token: string }, n: number) => Promise.all(Array.from({ length: n }, () => invite(lab)));

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
const round = (ms: number) => Math.round(ms * 100) / 100;

/** Waits for idle HTTP keep-alive sockets (the bench's own API calls) to close, so memory read next is the server's steady state. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 6000));

function collectGarbage(): void {
  for (let i = 0; i < 3; i++) global.gc?.();
}

function heapBytes(): number {
  collectGarbage();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.external;
}

// Memory first, on a fresh process; latency after.
// 1. Memory of a loaded classroom lab.
const sizeLabs = await Promise.all(Array.from({ length: LABS_FOR_SIZE }, createLab));
await settle();
const beforeLabs = heapBytes();
for (const lab of sizeLabs) await server.labs.get(lab.id);
const bytesPerLab = Math.round((heapBytes() - beforeLabs) / LABS_FOR_SIZE);
console.log(`memory: ${bytesPerLab} bytes per loaded classroom lab`);

// 2. Idle connections: 2,000 participants over 10 labs, each synced and then quiet.
const connectLabs = await Promise.all(Array.from({ length: LABS_FOR_CONNECTIONS }, createLab));
for (const lab of connectLabs) await server.labs.get(lab.id);
const plan = await Promise.all(connectLabs.map(async (lab) => ({ lab: lab.id, tokens: await invites(lab, CONNECTIONS / LABS_FOR_CONNECTIONS) })));
await settle();
const beforeConnections = heapBytes();
const holders = new ClientProcesses();
const connected = await holders.all((k) => holders.ask(k, { kind: 'connect', baseUrl, labs: share(plan, k, holders.count) }, 'connected'));
await settle();
const connections = server.gateway.connectionCount;
const bytesPerConnection = Math.round((heapBytes() - beforeConnections) / connections);
console.log(`connections: ${connections} open at once (${connected.reduce((n, c) => n + c.failed, 0)} refused); ${bytesPerConnection} bytes per idle connection`);
await holders.all((k) => holders.ask(k, { kind: 'disconnect' }, 'disconnected'));
await holders.exit();

/**
 * One runner sends COMMANDS at PER_SECOND while the observers, spread over
 * the client processes, watch for each command's device. A command's latency
 * is from its sending to the moment the last observer holds its device.
 */
async function fanout(target: { baseUrl: string; lab: string; runnerToken: string; observerTokens: string[]; relay: boolean }): Promise<number[]> {
  const clients = new ClientProcesses();
  await clients.all((k) => clients.ask(k, { kind: 'observe', baseUrl: target.baseUrl, lab: target.lab, tokens: share(target.observerTokens, k, clients.count), commands: COMMANDS }, 'observing'));
  // The earlier phases' garbage is collected now, not while commands are timed.
  collectGarbage();
  const { sentAt } = await clients.ask(0, { kind: 'run', baseUrl: target.baseUrl, lab: target.lab, token: target.runnerToken, commands: COMMANDS, perSecond: PER_SECOND, relay: target.relay }, 'ran');
  const seen = await clients.all((k) => clients.ask(k, { kind: 'report' }, 'seen'));
  await clients.exit();
  return sentAt.map((at, i) => {
    const last = Math.max(...seen.map((s) => s.lastSeenAt[i]!));
    if (Number.isNaN(last)) throw new Error(`command ${i} did not reach every observer`);
    return last - at;
  });
}

// 3. Fan-out: one participant runs commands at 20/s; 200 others watch the state document.
const fanLab = await createLab();
const fan = await fanout({ baseUrl, lab: fanLab.id, runnerToken: fanLab.token, observerTokens: await invites(fanLab, OBSERVERS), relay: false });
const fanoutP50Ms = round(percentile(fan, 50));
const fanoutP99Ms = round(percentile(fan, 99));
console.log(`nslab fan-out to ${OBSERVERS} observers, ${COMMANDS} commands at ${PER_SECOND}/s: p50 ${fanoutP50Ms} ms, p99 ${fanoutP99Ms} ms`);

// 4. Baseline: the same clients on a plain y-websocket relay, the runner writing a comparable update itself.
const relayWss = new WebSocketServer({ noServer: true });
const relayHttp = createServer((_req, res) => res.end());
relayHttp.on('upgrade', (req, socket, head) => relayWss.handleUpgrade(req, socket, head, (ws) => setupWSConnection(ws, req)));
await new Promise<void>((resolve) => relayHttp.listen(0, '127.0.0.1', resolve));
const relayUrl = `http://127.0.0.1:${(relayHttp.address() as AddressInfo).port}`;
const base = await fanout({ baseUrl: relayUrl, lab: 'baseline', runnerToken: 'runner', observerTokens: Array.from({ length: OBSERVERS }, (_, i) => `o${i}`), relay: true });
const baselineP50Ms = round(percentile(base, 50));
const baselineP99Ms = round(percentile(base, 99));
console.log(`y-websocket relay, same clients and pace: p50 ${baselineP50Ms} ms, p99 ${baselineP99Ms} ms`);
relayWss.close();
relayHttp.close();

await server.close();
await store.close();
rmSync(dataDir, { recursive: true, force: true });

console.log(JSON.stringify({ observers: OBSERVERS, fanoutP50Ms, fanoutP99Ms, baselineP99Ms, connections, bytesPerConnection, bytesPerLab }));
process.exit(0);
