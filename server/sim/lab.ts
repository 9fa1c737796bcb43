// Running command lines against a World: the driver that lets programs
// sleep on the simulated clock, and the pause between typed commands.
import type { World } from './kernel/world';
import type { ShellSession } from './tools/process';
import { PROGRAMS } from './tools/registry';
import { runLine } from './tools/shell';

export interface RunResult {
  /** What the terminal showed: stdout and stderr in the order a pipe sees them. */
  output: string;
  exitCode: number;
  /** Simulated time when the command started and ended, in microseconds. */
  startedUs: number;
  endedUs: number;
}

export interface RunOptions {
  /** Terminal state to keep between commands; a fresh `bash -c` when absent. */
  session?: ShellSession;
  interactive?: boolean;
  /** Simulated time after which Ctrl-C is pressed (a command without an end). */
  interruptAfterUs?: number;
  /** Receives output as it is produced. */
  onOutput?: (text: string) => void;
}

/** The simulated time that passes between two typed commands. */
export const THINK_TIME_US = 20_000;
const DEFAULT_INTERRUPT_US = 60_000_000;

export class Lab {
  constructor(readonly world: World) {}

  run(hostName: string, line: string, opts: RunOptions = {}): RunResult {
    const world = this.world;
    const host = world.hosts.get(hostName);
    if (!host) throw new Error(`unknown host ${hostName}`);
    const session = opts.session ?? { host, nsStack: [], lastStatus: 0 };
    const startedUs = world.now;
    const interruptAt = startedUs + (opts.interruptAfterUs ?? DEFAULT_INTERRUPT_US);
    let output = '';
    const proc = runLine(
      {
        world,
        session,
        programs: PROGRAMS,
        terminal: {
          write: (text) => {
            output += text;
            opts.onOutput?.(text);
          },
        },
        interrupted: () => world.now >= interruptAt,
        interactive: opts.interactive ?? false,
      },
      line,
    );
    let step = proc.next();
    while (!step.done) {
      world.advance(Math.min(step.value, interruptAt));
      step = proc.next();
    }
    const endedUs = world.now;
    world.advance(world.now + THINK_TIME_US);
    return { output, exitCode: step.value, startedUs, endedUs };
  }
}
