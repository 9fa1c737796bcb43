// What a program gets when it runs: the machine and namespace it runs in,
// its standard streams, and the clock. Programs are generators: they yield
// the simulated time they want to sleep until, and return their exit code.
import type { Host } from '../kernel/host';
import type { NetNs } from '../kernel/netns';
import type { PacketPath } from '../../../shared/protocol';
import { PathRecorder, type TraceEvent } from '../kernel/trace';
import type { World } from '../kernel/world';
import type { FunctionDef } from './shell-parse';

export interface Output {
  write(text: string): void;
  /** fflush(stdout): what the process holds back reaches its destination now. */
  flush?(): void;
}

/** A terminal's state that outlives one command: where `ip netns exec NS bash` took it. */
export interface ShellArray {
  /** `declare -A`: subscripts are strings, kept in insertion order; else numbers, listed in order. */
  associative: boolean;
  items: Map<string, string>;
}

export interface ShellSession {
  host: Host;
  /** Namespaces entered with `ip netns exec NS bash`, innermost last. */
  nsStack: NetNs[];
  /** Namespaces entered before this shell started (a child shell's): its `exit` ends it instead of leaving them. */
  shellDepth?: number;
  /** The variables of the shells a nested interactive shell was started from, innermost last; `exit` brings them back. */
  outerVars?: Map<string, string>[];
  /** `$?` */
  lastStatus: number;
  /** Shell variables set with NAME=VALUE or by `for`. */
  vars: Map<string, string>;
  /** Arrays (`a=(x y)`, `declare -A m`): each element by its subscript. */
  arrays?: Map<string, ShellArray>;
  /** The variables child processes see (`export`). */
  exported?: Set<string>;
  /** The variables that cannot change (`readonly`, `declare -r`). */
  readonly?: Set<string>;
  /** Functions defined with `NAME() { …; }`. */
  functions?: Map<string, FunctionDef>;
  /** `$0` then `$1`, `$2`…: the shell's, or the running function's, arguments. */
  positional?: string[];
  /** Options on with `set`, by long name: errexit, nounset, xtrace, pipefail. */
  options?: Set<string>;
  /** One frame per running function: the values its `local` variables hid (undefined: unset). */
  locals?: Array<Map<string, string | undefined>>;
  /** What `trap … EXIT` runs when the shell ends. */
  exitTrap?: string;
  /** How far `getopts` is into a cluster of options (`-vh`). */
  optionOffset?: number;
  /** Working directory (`cd`). */
  cwd: string;
  /** The packet walk of the last `explain`. */
  lastTrace?: readonly TraceEvent[];
  /**
   * Whether programs that send packets record their path (in `lastPath`).
   * The lab server turns it on to draw paths; it costs such a program up to
   * a fifth of its speed, so scripts and benchmarks leave it off.
   */
  recordPaths?: boolean;
  /** Where the packets of the last `explain`, or recorded program, went. */
  lastPath?: PacketPath;
}

export interface ProcContext {
  world: World;
  host: Host;
  ns: NetNs;
  session: ShellSession;
  /** All of standard input (for a program that streams its input: what it had when it started). */
  readonly stdin: string;
  /** Standard input as it arrives, for programs that stream it: `pending` while the writer upstream still runs. */
  input(): { readonly text: string; readonly pending?: boolean };
  stdout: Output;
  stderr: Output;
  /** True once the user pressed Ctrl-C. */
  interrupted(): boolean;
  /** Runs a program in a given namespace (`ip netns exec`), optionally interrupted at a simulated time (`timeout`). */
  exec(ns: NetNs, argv: string[], interruptAtUs?: number): Generator<number, number, void>;
  /** Whether `exec` finds a program by this name (so a caller can word its own failure). */
  canExec(name: string): boolean;
}

export type Proc = Generator<number, number, void>;

export interface Program {
  run(ctx: ProcContext, argv: string[]): Proc;
  /**
   * Writes its stdout as it goes (ping flushes each line). Other programs
   * hold stdout until they exit when it is a pipe, so their stderr comes first.
   */
  flushesStdout?: boolean;
  /**
   * Runs alongside the program before it in a pipe instead of after it, so
   * it sees its input end when that program does (`sleep 4 | nc …` keeps
   * the connection open four seconds).
   */
  streamsStdin?: boolean;
  /** Sends packets: records their path when the session asks (see runProgram). */
  recordsPath?: boolean;
}

export function program(run: (ctx: ProcContext, argv: string[]) => number, flushesStdout = false): Program {
  return {
    // eslint-disable-next-line require-yield
    *run(ctx, argv) {
      return run(ctx, argv);
    },
    flushesStdout,
  };
}

/** Runs `work` recording where the packets it causes go, into the session's `lastPath` (also when interrupted). */
export function* recordingPath<T>(ctx: ProcContext, work: () => Generator<number, T, void>): Generator<number, T, void> {
  const recorder = new PathRecorder();
  ctx.world.startTracing(recorder);
  try {
    return yield* work();
  } finally {
    ctx.world.stopTracing(recorder);
    ctx.session.lastPath = recorder.path();
  }
}

/** Runs a program, recording its packets' path when it sends packets and the session records paths. */
export function* runProgram(program: Program, ctx: ProcContext, argv: string[]): Proc {
  return program.recordsPath && ctx.session.recordPaths ? yield* recordingPath(ctx, () => program.run(ctx, argv)) : yield* program.run(ctx, argv);
}

/** Text output helper for programs that print line by line. */
export function printer(out: Output): (line: string) => void {
  return (line) => out.write(line + '\n');
}
