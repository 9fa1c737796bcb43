// The participants of `npm run bench:load`, in processes of their own: each
// connects to one instance and types commands at a person's pace. In the
// timing process, commands are timed from sending to their exit message
// (cmd), and to the moment a timed participant of the same lab connected to
// another instance sees them in the activity feed (cross-instance); the
// other processes only make the load. Driven over IPC by load.bench.ts.
import * as Y from 'yjs';
import { LabClient } from '../server/lab-client';

export interface LoadPlan {
  /** Instance base URLs; participant j of a lab connects to instance j mod their count. */
  instances: string[];
  labs: Array<{ id: string; tokens: string[] }>;
  /** Mean pause between two commands of one participant. */
  meanPauseMs: number;
  durationMs: number;
  warmupMs: number;
  /** Whether this process's participants are the timed ones. */
  timed: boolean;
  /** Makes this process's bridge names its own: participants of one lab may be in several processes. */
  tag: string;
}

export type LoadRequest = { kind: 'run'; plan: LoadPlan } | { kind: 'exit' };
export interface LoadReply {
  kind: 'done';
  commands: number;
  failed: number;
  cmdMs: number[];
  crossInstanceMs: number[];
}

interface Participant {
  client: LabClient;
  lab: number;
  instance: number;
}

async function run(plan: LoadPlan): Promise<LoadReply> {
  const participants: Participant[] = [];
  for (const [lab, { id, tokens }] of plan.labs.entries()) {
    const joined = await Promise.all(
      tokens.map(async (token, j) => {
        const instance = j % plan.instances.length;
        return { client: await LabClient.connect(plan.instances[instance]!, id, token, { notes: false }), lab, instance };
      }),
    );
    participants.push(...joined);
  }
  await Promise.all(participants.map((p) => p.client.whenSynced()));

  /** Line → when it was sent and on which instance, for the commands measured. */
  const sent = new Map<string, { at: number; instance: number }>();
  const cmdMs: number[] = [];
  const crossInstanceMs: number[] = [];
  let commands = 0;
  let failed = 0;
  const measureFrom = performance.now() + plan.warmupMs;
  const stopAt = measureFrom + plan.durationMs;

  // One watcher per lab and instance: the first timed participant connected there.
  for (const p of plan.timed ? participants : []) {
    if (participants.find((q) => q.lab === p.lab && q.instance === p.instance) !== p) continue;
    p.client.state.getArray<{ line: string }>('activity').observe((event: Y.YArrayEvent<{ line: string }>) => {
      const now = performance.now();
      for (const item of event.changes.added) {
        for (const entry of item.content.getContent() as Array<{ line: string }>) {
          const origin = sent.get(entry.line);
          if (origin && origin.instance !== p.instance) crossInstanceMs.push(now - origin.at);
        }
      }
    });
  }

  let serial = 0;
  const typist = async (p: Participant, index: number) => {
    // Spread the first commands over one mean pause.
    await new Promise((resolve) => setTimeout(resolve, Math.random() * plan.meanPauseMs));
    while (performance.now() < stopAt) {
      // Bridges come and go, so labs stay within their object limits.
      const name = `b${plan.tag}${index}x${serial++}`;
      for (const line of [`ip link add ${name} type bridge`, `ip link del ${name}`]) {
        const at = performance.now();
        const counted = at >= measureFrom && at < stopAt;
        const measured = plan.timed && counted;
        if (measured) sent.set(line, { at, instance: p.instance });
        try {
          await p.client.exec(line, 'hostA', line);
          if (counted) commands++;
          if (measured) cmdMs.push(performance.now() - at);
        } catch {
          failed++;
        }
        // Exponential pauses: a Poisson stream of commands per participant.
        await new Promise((resolve) => setTimeout(resolve, -Math.log(1 - Math.random()) * plan.meanPauseMs));
      }
    }
  };
  await Promise.all(participants.map((p, i) => typist(p, i)));
  await new Promise((resolve) => setTimeout(resolve, 500));
  await Promise.all(participants.map((p) => p.client.close()));
  return { kind: 'done', commands, failed, cmdMs, crossInstanceMs };
}

process.on('message', (request: LoadRequest) => {
  if (request.kind === 'run') void run(request.plan).then((reply) => process.send!(reply));
  else process.exit(0);
});
