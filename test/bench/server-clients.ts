// The client side of `npm run bench:server`, in its own process so the
// server's memory figures hold the server alone. Driven over IPC by
// server.bench.ts; answers each request with one message.
import * as Y from 'yjs';
import { LabClient } from '../server/lab-client';

export type ClientRequest =
  | { kind: 'fanout'; baseUrl: string; lab: string; runnerToken: string; observerTokens: string[]; commands: number; perSecond: number; relay: boolean }
  | { kind: 'connect'; baseUrl: string; labs: Array<{ lab: string; tokens: string[] }> }
  | { kind: 'disconnect' }
  | { kind: 'exit' };

export type ClientReply = { kind: 'fanout'; latenciesMs: number[] } | { kind: 'connected'; connections: number; failed: number } | { kind: 'disconnected' };

/**
 * What the server writes for one `ip link add vN type veth peer name vN-peer`:
 * the two devices, an activity entry and the clock, in one transaction. The
 * baseline's runner writes the same itself.
 */
function writeComparableUpdate(doc: Y.Doc, i: number): void {
  const veth = (name: string, peer: string, ifindex: number) => ({ ns: 'hostA', name, ifindex, kind: 'veth', up: false, carrier: false, operState: 'DOWN', mac: '6a:1f:00:00:00:01', mtu: 1500, ipv4: [], ipv6: [], master: null, peer: { ns: 'hostA', name: peer }, segment: null });
  doc.transact(() => {
    doc.getMap('devices').set(`hostA#${2 * i + 3}`, veth(`v${i}-peer`, `v${i}`, 2 * i + 3));
    doc.getMap('devices').set(`hostA#${2 * i + 4}`, veth(`v${i}`, `v${i}-peer`, 2 * i + 4));
    doc.getArray('activity').push([{ seq: i + 1, participant: 'p', name: 'owner', host: 'hostA', ns: null, line: `ip link add v${i} type veth peer name v${i}-peer`, startUs: i * 20_000, endUs: i * 20_000, exitCode: 0, interrupted: false, output: '' }]);
    doc.getMap('lab').set('clockUs', (i + 1) * 20_000);
  });
}

/** Resolves when a device named `name` arrives in the observer's state document. */
function deviceArrives(doc: Y.Doc, name: string): Promise<void> {
  const devices = doc.getMap<{ name: string }>('devices');
  return new Promise((resolve) => {
    const check = (event: Y.YMapEvent<{ name: string }>) => {
      for (const key of event.keysChanged) {
        if (devices.get(key)?.name === name) {
          devices.unobserve(check);
          resolve();
        }
      }
    };
    devices.observe(check);
  });
}

async function fanout(request: Extract<ClientRequest, { kind: 'fanout' }>): Promise<number[]> {
  const connect = (token: string) => LabClient.connect(request.baseUrl, request.lab, token, { notes: false });
  const observers = await Promise.all(request.observerTokens.map(connect));
  const runner = await connect(request.runnerToken);
  await Promise.all([...observers, runner].map((c) => c.whenSynced()));
  const latencies: number[] = [];
  const intervalMs = 1000 / request.perSecond;
  const started = performance.now();
  for (let i = 0; i < request.commands; i++) {
    // Keep the pace: command i leaves at started + i × interval, whatever the earlier ones took.
    const wait = started + i * intervalMs - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const name = `v${i}`;
    const sentAt = performance.now();
    const seen = Promise.all(observers.map((observer) => deviceArrives(observer.state, name)));
    if (request.relay) writeComparableUpdate(runner.state, i);
    else runner.send({ type: 'exec', id: `c${i}`, terminal: 't1', host: 'hostA', line: `ip link add ${name} type veth peer name ${name}-peer` });
    await seen;
    latencies.push(performance.now() - sentAt);
  }
  await Promise.all([...observers, runner].map((c) => c.close()));
  return latencies;
}

const held: LabClient[] = [];

async function connectMany(request: Extract<ClientRequest, { kind: 'connect' }>): Promise<{ connections: number; failed: number }> {
  let failed = 0;
  for (const { lab, tokens } of request.labs) {
    // A few at a time, as participants arrive.
    for (let i = 0; i < tokens.length; i += 50) {
      const batch = await Promise.allSettled(tokens.slice(i, i + 50).map((token) => LabClient.connect(request.baseUrl, lab, token, { notes: false })));
      for (const result of batch) {
        if (result.status === 'fulfilled') held.push(result.value);
        else failed++;
      }
    }
  }
  await Promise.all(held.map((c) => c.whenSynced()));
  return { connections: held.length, failed };
}

process.on('message', (request: ClientRequest) => {
  const reply = (message: ClientReply) => process.send!(message);
  if (request.kind === 'fanout') void fanout(request).then((latenciesMs) => reply({ kind: 'fanout', latenciesMs }));
  else if (request.kind === 'connect') void connectMany(request).then((r) => reply({ kind: 'connected', ...r }));
  else if (request.kind === 'disconnect') void Promise.all(held.splice(0).map((c) => c.close())).then(() => reply({ kind: 'disconnected' }));
  else process.exit(0);
});
