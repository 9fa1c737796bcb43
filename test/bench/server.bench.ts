// npm run bench:server: the server's fan-out latency against a plain
// y-websocket relay, its connection capacity, and its memory per idle
// connection and per loaded lab. The clients run in a child process
// (server-clients.ts), so memory figures are the server's own. Prints
// figures; the last line is one JSON object.
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
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

const clients = fork(join(import.meta.dirname, 'server-clients.ts'), { execArgv: ['--import', 'tsx'] });
function ask(request: ClientRequest): Promise<ClientReply> {
  return new Promise((resolve) => {
    clients.once('message', (reply: ClientReply) => resolve(reply));
    clients.send(request);
  });
}

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

function heapBytes(): number {
  for (let i = 0; i < 3; i++) global.gc?.();
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
const connected = (await ask({ kind: 'connect', baseUrl, labs: plan })) as Extract<ClientReply, { kind: 'connected' }>;
await settle();
const connections = server.gateway.connectionCount;
const bytesPerConnection = Math.round((heapBytes() - beforeConnections) / connections);
console.log(`connections: ${connections} open at once (${connected.failed} refused); ${bytesPerConnection} bytes per idle connection`);
await ask({ kind: 'disconnect' });

// 3. Fan-out: one participant runs commands at 20/s; 200 others watch the state document.
const fanLab = await createLab();
const fan = (await ask({ kind: 'fanout', baseUrl, lab: fanLab.id, runnerToken: fanLab.token, observerTokens: await invites(fanLab, OBSERVERS), commands: COMMANDS, perSecond: PER_SECOND, relay: false })) as Extract<ClientReply, { kind: 'fanout' }>;
const fanoutP50Ms = round(percentile(fan.latenciesMs, 50));
const fanoutP99Ms = round(percentile(fan.latenciesMs, 99));
console.log(`nslab fan-out to ${OBSERVERS} observers, ${COMMANDS} commands at ${PER_SECOND}/s: p50 ${fanoutP50Ms} ms, p99 ${fanoutP99Ms} ms`);

// 4. Baseline: the same clients on a plain y-websocket relay, the runner writing a comparable update itself.
const relayWss = new WebSocketServer({ noServer: true });
const relayHttp = createServer((_req, res) => res.end());
relayHttp.on('upgrade', (req, socket, head) => relayWss.handleUpgrade(req, socket, head, (ws) => setupWSConnection(ws, req)));
await new Promise<void>((resolve) => relayHttp.listen(0, '127.0.0.1', resolve));
const relayUrl = `http://127.0.0.1:${(relayHttp.address() as AddressInfo).port}`;
const base = (await ask({ kind: 'fanout', baseUrl: relayUrl, lab: 'baseline', runnerToken: 'runner', observerTokens: Array.from({ length: OBSERVERS }, (_, i) => `o${i}`), commands: COMMANDS, perSecond: PER_SECOND, relay: true })) as Extract<ClientReply, { kind: 'fanout' }>;
const baselineP50Ms = round(percentile(base.latenciesMs, 50));
const baselineP99Ms = round(percentile(base.latenciesMs, 99));
console.log(`y-websocket relay, same clients and pace: p50 ${baselineP50Ms} ms, p99 ${baselineP99Ms} ms`);
relayWss.close();
relayHttp.close();

clients.send({ kind: 'exit' } satisfies ClientRequest);
await server.close();
await store.close();
rmSync(dataDir, { recursive: true, force: true });

console.log(JSON.stringify({ observers: OBSERVERS, fanoutP50Ms, fanoutP99Ms, baselineP99Ms, connections, bytesPerConnection, bytesPerLab }));
