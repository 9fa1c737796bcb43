// Running command lines against a World: the driver that lets programs
// sleep on the simulated clock, and the pause between typed commands.
import type { World } from './kernel/world';
import type { Proc, ShellSession } from './tools/process';
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
  /** Interactive terminals let `ip netns exec NS bash` enter the namespace until `exit`. */
  interactive?: boolean;
  /** Simulated time after which Ctrl-C is pressed, for commands that would run forever. */
  interruptAfterUs?: number;
  /** Receives output as it is produced. */
  onOutput?: (text: string) => void;
}

/** The simulated time that passes between two typed commands. */
export const THINK_TIME_US = 20_000;
/** A command that would run forever (`ping` without `-c`) gets Ctrl-C after this much simulated time. */
export const DEFAULT_INTERRUPT_US = 60_000_000;

/** Moves simulated time forward, letting everything due run on the way. */
interface Clock {
  readonly now: number;
  advance(untilUs: number): void;
}

/** A command in progress: stepped on the simulated clock until it ends. */
export class RunningCommand {
  private output = '';
  private interruptAtUs: number;
  private wakeAtUs: number;
  private result: RunResult | null = null;
  private readonly proc: Proc;
  readonly startedUs: number;

  constructor(
    private readonly world: World,
    private readonly clock: Clock,
    session: ShellSession,
    line: string,
    opts: RunOptions,
    detach: (job: Proc, wakeAt: number) => void,
  ) {
    this.startedUs = world.now;
    this.wakeAtUs = world.now;
    this.interruptAtUs = opts.interruptAfterUs === undefined ? Infinity : world.now + opts.interruptAfterUs;
    this.proc = runLine(
      {
        world,
        detach,
        session,
        programs: PROGRAMS,
        terminal: {
          write: (text) => {
            this.output += text;
            opts.onOutput?.(text);
          },
        },
        interrupted: () => world.now >= this.interruptAtUs,
        interactive: opts.interactive ?? false,
      },
      line,
    );
    this.step();
  }

  /** Runs the command as far as it can go without the clock passing `untilUs`. */
  private step(): void {
    while (!this.result && this.wakeAtUs <= this.world.now) {
      const r = this.proc.next();
      if (r.done) {
        this.result = { output: this.output, exitCode: r.value, startedUs: this.startedUs, endedUs: this.world.now };
        return;
      }
      this.wakeAtUs = Math.min(r.value, this.interruptAtUs);
      if (this.wakeAtUs > this.world.now) return;
    }
  }

  get done(): RunResult | null {
    return this.result;
  }

  /** When the command next needs the clock to reach, or Infinity once it has ended. */
  get wakeAt(): number {
    return this.result ? Infinity : this.wakeAtUs;
  }

  /** Ctrl-C: the command sees it at the next step. */
  interrupt(): void {
    this.interruptAtUs = Math.min(this.interruptAtUs, this.world.now);
    this.wakeAtUs = this.world.now;
    this.step();
  }

  /** Advances the world to `untilUs` (processing network events), stepping the command on the way. */
  advanceTo(untilUs: number): RunResult | null {
    while (!this.result && this.wakeAtUs <= untilUs) {
      this.clock.advance(this.wakeAtUs);
      this.step();
    }
    if (!this.result) this.clock.advance(untilUs);
    return this.result;
  }
}

/** Background jobs that outlived their command line (servers started with `&`). */
interface Daemon {
  proc: Proc;
  wakeAt: number;
}

export class Lab implements Clock {
  private readonly daemons: Daemon[] = [];
  /** Commands started and maybe not ended yet; pruned as they end. */
  private readonly commands = new Set<RunningCommand>();

  constructor(readonly world: World) {}

  get now(): number {
    return this.world.now;
  }

  /** Runs network events and background jobs due up to `untilUs`, in time order. */
  advance(untilUs: number): void {
    for (;;) {
      let next: Daemon | null = null;
      for (const d of this.daemons) if (d.wakeAt <= untilUs && (!next || d.wakeAt < next.wakeAt)) next = d;
      if (!next) break;
      this.world.advance(Math.max(this.world.now, next.wakeAt));
      const step = next.proc.next();
      if (step.done) this.daemons.splice(this.daemons.indexOf(next), 1);
      else next.wakeAt = Math.max(step.value, this.world.now + 1);
    }
    this.world.advance(untilUs);
  }

  newSession(hostName: string): ShellSession {
    const host = this.world.hosts.get(hostName);
    if (!host) throw new Error(`unknown host ${hostName}`);
    return { host, nsStack: [], lastStatus: 0, vars: new Map(), cwd: '/root' };
  }

  /** Starts a command; the caller advances it (`advanceTo`) in step with its own clock. */
  start(hostName: string, line: string, opts: RunOptions = {}): RunningCommand {
    const command = new RunningCommand(this.world, this, opts.session ?? this.newSession(hostName), line, opts, (proc, wakeAt) => this.daemons.push({ proc, wakeAt }));
    this.runningCommands(); // forgets the ended ones, so the set holds no more than what runs
    if (!command.done) this.commands.add(command);
    return command;
  }

  /** How many commands have not ended yet. */
  runningCommands(): number {
    for (const command of this.commands) if (command.done) this.commands.delete(command);
    return this.commands.size;
  }

  /** How many background jobs are still alive. */
  runningDaemons(): number {
    return this.daemons.length;
  }

  /** Runs a command to its end in simulated time, then lets a typing pause pass. */
  run(hostName: string, line: string, opts: RunOptions = {}): RunResult {
    const cmd = this.start(hostName, line, { ...opts, interruptAfterUs: opts.interruptAfterUs ?? DEFAULT_INTERRUPT_US });
    let result = cmd.done;
    while (!result) result = cmd.advanceTo(cmd.wakeAt);
    this.advance(this.world.now + THINK_TIME_US);
    return result;
  }
}
