// `explain CMD…`: runs a command with the packet tracer on and tells, hop by
// hop, what happened to every packet it caused — where it went, which rules
// and routes decided, and where and why it died.
import { dropReason, Tracer, type TraceEvent } from '../kernel/trace';
import { recordingPath, type Proc, type ProcContext, type Program } from './process';

const USAGE = 'usage: explain COMMAND [ARG]...\n  runs COMMAND and explains the path of every packet it sends, e.g. explain ping -c 1 10.0.0.2\n';

/** One readable line per event, with the packet's flow shown whenever it changes, then where each flow ended. */
export function formatTrace(events: readonly TraceEvent[]): string {
  if (events.length === 0) return 'explain: the command sent no packets\n';
  const fates = new Map<string, TraceEvent>();
  for (const e of events) if (e.flow !== null && !e.flow.startsWith('ARP') && (e.step === 'drop' || e.step === 'deliver')) fates.set(e.flow, e);
  let text = '';
  let flow: string | null = null;
  for (const e of events) {
    if (e.flow !== null && e.flow !== flow) {
      flow = e.flow;
      text += `${flow}\n`;
    }
    const mark = e.step === 'drop' ? '✗' : ' ';
    text += `  ${mark} ${e.where.padEnd(16)} ${(e.device ?? '').padEnd(14)} ${e.text}\n`;
  }
  if (fates.size) {
    text += 'in short:\n';
    for (const [flowText, e] of fates) text += `  ${flowText}: ${e.step === 'drop' ? `died at ${e.where}` : `reached ${e.where}`}${e.step === 'drop' ? ` — ${dropReason(e.text)}` : ''}\n`;
  }
  return text;
}

function* run(ctx: ProcContext, argv: string[]): Proc {
  if (argv.length < 2) {
    ctx.stderr.write(USAGE);
    return 2;
  }
  const world = ctx.world;
  const tracer = new Tracer(() => world.now);
  world.startTracing(tracer);
  let status: number;
  try {
    status = yield* recordingPath(ctx, () => ctx.exec(ctx.ns, argv.slice(1)));
  } finally {
    world.stopTracing(tracer);
  }
  ctx.session.lastTrace = tracer.events;
  ctx.stdout.write(`\nexplain: what happened to the packets of \`${argv.slice(1).join(' ')}\`\n`);
  ctx.stdout.write(formatTrace(tracer.events));
  return status;
}

export const explain: Program = { run, flushesStdout: true };
