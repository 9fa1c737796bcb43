// The client side of `npm run bench:server`, in processes of their own so
// the server's memory figures hold the server alone, and so the observers'
// work (a Yjs document each, as each would be a browser of its own) is not
// one thread's queue. Driven over IPC by server.bench.ts; answers each
// request with one message. Times are `performance.timeOrigin + now()`:
// milliseconds on the machine's clock, comparable between processes.
import * as Y from 'yjs';
import { LabClient } from '../server/lab-client';

export type ClientRequest =
  | { kind: 'observe'; baseUrl: string; lab: string; tokens: string[]; commands: number }
  | { kind: 'run'; baseUrl: string; lab: string; token: string; commands: number; perSecond: number; relay: boolean }
  | { kind: 'report' }
  | { kind: 'connect'; baseUrl: string; labs: Array<{ lab: string; tokens: string[] }> }
  | { kind: 'disconnect' }
  | { kind: 'exit' };

export type ClientReply =
  | { kind: 'observing' }
  | { kind: 'ran'; sentAt: number[] }
  | { kind: 'seen'; lastSeenAt: number[] }
  | { kind: 'connected'; connections: number; failed: number }
  | { kind: 'disconnected' };

const now = () => performance.timeOrigin + performance.now();

/** The device command `i` of the fan-out adds; observers watch for it. */
const deviceName = (i: number) => `v${i}`;

/**
 * What the server writes for one `ip link add vN type veth peer name vN-peer`:
 * the two devices, an activity entry and the clock. The baseline's runner
 * writes the same itself, in one transaction.
 */
function writeComparableUpdate(doc: Y.Doc, i: number): void {
  const veth = (name: string, peer: string, ifindex: number) => ({ ns: 'hostA', name, ifindex, kind: 'veth', up: false, carrier: false, operState: 'DOWN', mac: '6a:1f:00:00:00:01', mtu: 1500, ipv4: [], ipv6: [], master: null, peer: { ns: 'hostA', name: peer }, segment: null });
  doc.getMap('devices').set(`hostA#${2 * i + 3}`, veth(`${deviceName(i)}-peer`, deviceName(i), 2 * i + 3));
  doc.getMap('devices').set(`hostA#${2 * i + 4}`, veth(deviceName(i), `${deviceName(i)}-peer`, 2 * i + 4));
  doc.getArray('activity').push([{ seq: i + 1, participant: 'p', name: 'owner', host: 'hostA', ns: null, line: `ip link add v${i} type veth peer name v${i}-peer`, startUs: i * 20_000, endUs: i * 20_000, exitCode: 0, interrupted: false, output: '' }]);
  doc.getMap('lab').set('clockUs', (i + 1) * 20_000);
}

let observers: LabClient[] = [];
/** Per command: how many of this process's observers hold its device, and when the last of them got it. */
let seenCount: number[] = [];
let lastSeenAt: number[] = [];

async function observe(request: Extract<ClientRequest, { kind: 'observe' }>): Promise<void> {
  observers = await Promise.all(request.tokens.map((token) => LabClient.connect(request.baseUrl, request.lab, token, { notes: false })));
  await Promise.all(observers.map((c) => c.whenSynced()));
  seenCount = new Array<number>(request.commands).fill(0);
  lastSeenAt = new Array<number>(request.commands).fill(Number.NaN);
  const commandOf = new Map(Array.from({ length: request.commands }, (_, i) => [deviceName(i), i]));
  for (const observer of observers) {
    const devices = observer.state.getMap<{ name: string }>('devices');
    devices.observe((event) => {
      for (const key of event.keysChanged) {
        const i = commandOf.get(devices.get(key)?.name ?? '');
        if (i !== undefined && ++seenCount[i]! === observers.length) lastSeenAt[i] = now();
      }
    });
  }
  // Connecting's garbage is collected now, not while commands are timed.
  global.gc?.();
}

/** Sends `commands` at `perSecond`, on schedule whatever the earlier ones took. */
async function run(request: Extract<ClientRequest, { kind: 'run' }>): Promise<number[]> {
  const runner = await LabClient.connect(request.baseUrl, request.lab, request.token, { notes: false });
  await runner.whenSynced();
  const sentAt: number[] = [];
  const intervalMs = 1000 / request.perSecond;
  const started = performance.now();
  for (let i = 0; i < request.commands; i++) {
    const wait = started + i * intervalMs - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    sentAt.push(now());
    if (request.relay) runner.writeState((doc) => writeComparableUpdate(doc, i));
    else runner.send({ type: 'exec', id: `c${i}`, terminal: 't1', host: 'hostA', line: `ip link add ${deviceName(i)} type veth peer name ${deviceName(i)}-peer` });
  }
  // Give the last command time to reach everyone before the runner leaves.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  await runner.close();
  return sentAt;
}

async function report(): Promise<number[]> {
  await Promise.all(observers.map((c) => c.close()));
  observers = [];
  return lastSeenAt;
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
  if (request.kind === 'observe') void observe(request).then(() => reply({ kind: 'observing' }));
  else if (request.kind === 'run') void run(request).then((sentAt) => reply({ kind: 'ran', sentAt }));
  else if (request.kind === 'report') void report().then((seen) => reply({ kind: 'seen', lastSeenAt: seen }));
  else if (request.kind === 'connect') void connectMany(request).then((r) => reply({ kind: 'connected', ...r }));
  else if (request.kind === 'disconnect') void Promise.all(held.splice(0).map((c) => c.close())).then(() => reply({ kind: 'disconnected' }));
  else process.exit(0);
});
