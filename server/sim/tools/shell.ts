// A small non-interactive bash: runs one command line on a host, with
// pipes, lists, redirections and background jobs, in simulated time.
import type { NetNs } from '../kernel/netns';
import type { World } from '../kernel/world';
import { readFile, writeFile } from './fs';
import type { Output, Proc, ProcContext, Program, ShellSession } from './process';
import { parseLine, ShellSyntaxError, type ListItem, type SimpleCommand, type Word } from './shell-parse';

export interface LineOptions {
  world: World;
  session: ShellSession;
  programs: ReadonlyMap<string, Program>;
  /** Where the terminal shows what commands print. */
  terminal: Output;
  interrupted: () => boolean;
  /** Interactive terminals let `ip netns exec NS bash` enter a namespace. */
  interactive: boolean;
}

/** Where one file descriptor of a process goes. */
type Sink = { kind: 'terminal' } | { kind: 'pipe' } | { kind: 'null' } | { kind: 'file'; path: string; append: boolean };

const PROGRAM_DIRS = ['/usr/sbin/', '/usr/bin/', '/sbin/', '/bin/', '/usr/local/bin/', '/usr/local/sbin/'];

export function currentNs(session: ShellSession): NetNs {
  return session.nsStack[session.nsStack.length - 1] ?? session.host.root;
}

function expand(word: Word, session: ShellSession): string {
  return word
    .map((part) => {
      if ('text' in part) return part.text;
      if (part.variable === '?') return String(session.lastStatus);
      if (part.variable === 'HOSTNAME') return session.host.hostname;
      if (part.variable === 'HOME') return '/root';
      if (part.variable === 'USER') return 'root';
      return '';
    })
    .join('');
}

class ExitShell {
  constructor(readonly status: number) {}
}

/** Runs one line; yields the simulated times it waits for; returns the exit status. */
export function* runLine(opts: LineOptions, line: string): Proc {
  let items: ListItem[];
  try {
    items = parseLine(line);
  } catch (e) {
    if (!(e instanceof ShellSyntaxError)) throw e;
    opts.terminal.write(`bash: -c: line 1: ${e.bashMessage}\n`);
    if (e.bashMessage.startsWith('syntax error near')) opts.terminal.write(`bash: -c: line 1: \`${line}'\n`);
    return 2;
  }
  const session = opts.session;
  const background: Array<{ proc: Proc; wakeAt: number; done: boolean }> = [];
  let status = 0;
  let skip: '&&' | '||' | null = null;
  try {
    for (const item of items) {
      const run = skip === null || (skip === '&&' ? status === 0 : status !== 0);
      if (run) {
        if (item.then === '&') {
          background.push({ proc: runPipeline(opts, item.pipeline.commands, item.pipeline.negate), wakeAt: opts.world.now, done: false });
          status = 0;
        } else {
          status = yield* withBackground(opts, runPipeline(opts, item.pipeline.commands, item.pipeline.negate), background);
        }
        session.lastStatus = status;
      }
      skip = item.then === '&&' || item.then === '||' ? item.then : null;
    }
  } catch (e) {
    if (!(e instanceof ExitShell)) throw e;
    status = e.status;
  }
  // Like bash -c whose output is a pipe: the line ends when its background jobs do.
  yield* withBackground(opts, null, background);
  session.lastStatus = status;
  return status;
}

/** Steps the foreground process and the background jobs in simulated-time order. */
function* withBackground(opts: LineOptions, fg: Proc | null, background: Array<{ proc: Proc; wakeAt: number; done: boolean }>): Generator<number, number, void> {
  let fgWake = opts.world.now;
  let fgStatus = 0;
  let fgDone = fg === null;
  for (;;) {
    const pending = background.filter((job) => !job.done);
    if (fgDone && pending.length === 0) return fgStatus;
    let next: { kind: 'fg' } | { kind: 'bg'; job: (typeof background)[number] } = { kind: 'fg' };
    let at = fgDone ? Infinity : fgWake;
    for (const job of pending) if (job.wakeAt < at) (at = job.wakeAt), (next = { kind: 'bg', job });
    if (at > opts.world.now) yield at;
    if (next.kind === 'fg') {
      const r = fg!.next();
      if (r.done) {
        fgDone = true;
        fgStatus = r.value;
        if (background.length === 0) return fgStatus;
      } else fgWake = r.value;
    } else {
      const r = next.job.proc.next();
      if (r.done) next.job.done = true;
      else next.job.wakeAt = r.value;
    }
  }
}

function* runPipeline(opts: LineOptions, commands: SimpleCommand[], negate: boolean): Proc {
  let stdin = '';
  let status = 0;
  for (let i = 0; i < commands.length; i++) {
    const last = i === commands.length - 1;
    const result = yield* runCommand(opts, commands[i]!, stdin, last ? { kind: 'terminal' } : { kind: 'pipe' });
    stdin = result.piped;
    status = result.status;
  }
  return negate ? (status === 0 ? 1 : 0) : status;
}

interface CommandResult {
  status: number;
  piped: string;
}

/** A process's standard output and error, buffered as a C program's are on a pipe. */
class ProcessStreams {
  piped = '';
  private heldStdout = '';
  private files = new Map<string, { text: string; append: boolean }>();

  constructor(
    private readonly opts: LineOptions,
    private readonly sinks: { 1: Sink; 2: Sink },
    private readonly flushesStdout: boolean,
  ) {}

  private deliver(sink: Sink, text: string): void {
    switch (sink.kind) {
      case 'terminal':
        this.opts.terminal.write(text);
        return;
      case 'pipe':
        this.piped += text;
        return;
      case 'null':
        return;
      case 'file': {
        const file = this.files.get(sink.path) ?? { text: '', append: sink.append };
        file.text += text;
        this.files.set(sink.path, file);
      }
    }
  }

  readonly stdout: Output = {
    write: (text) => {
      if (this.flushesStdout || this.sinks[1].kind !== 'terminal') this.deliver(this.sinks[1], text);
      else this.heldStdout += text;
    },
    flush: () => {
      if (this.heldStdout) this.opts.terminal.write(this.heldStdout);
      this.heldStdout = '';
    },
  };

  readonly stderr: Output = { write: (text) => this.deliver(this.sinks[2], text) };

  /** At exit: held stdout reaches the terminal, files are written. Returns a write error, if any. */
  close(ctx: ProcContext): string | null {
    if (this.heldStdout) this.opts.terminal.write(this.heldStdout);
    this.heldStdout = '';
    for (const [path, file] of this.files) {
      const res = writeFile(ctx, path, file.text, file.append);
      if (!res.ok) return res.error;
    }
    return null;
  }
}

function resolveProgram(opts: LineOptions, name: string): Program | undefined {
  const dir = PROGRAM_DIRS.find((d) => name.startsWith(d));
  const base = dir ? name.slice(dir.length) : name;
  if (!dir && name.includes('/')) return undefined;
  return opts.programs.get(base);
}

function* runCommand(opts: LineOptions, command: SimpleCommand, stdin: string, stdoutSink: Sink): Generator<number, CommandResult, void> {
  const session = opts.session;
  const argv = command.argv.map((w) => expand(w, session));
  const sinks: { 1: Sink; 2: Sink } = { 1: stdoutSink, 2: { kind: 'terminal' } };
  for (const r of command.redirects) {
    if (r.kind === 'dup') sinks[r.fd] = sinks[r.to];
    else if (r.fd === 0) {
      const ctx0 = makeContext(opts, '', { write: () => {} }, { write: () => {} });
      const read = readFile(ctx0, r.path);
      if (!read.ok) {
        opts.terminal.write(`bash: line 1: ${r.path}: ${read.error}\n`);
        return { status: 1, piped: '' };
      }
      stdin = read.text;
    } else if (r.path === '/dev/null') sinks[r.fd] = { kind: 'null' };
    else sinks[r.fd] = { kind: 'file', path: r.path, append: r.append };
  }
  const name = argv[0];
  const builtin = name === undefined ? undefined : BUILTINS[name];
  const program = name === undefined || builtin ? undefined : resolveProgram(opts, name);
  const streams = new ProcessStreams(opts, sinks, builtin !== undefined || (program?.flushesStdout ?? false));
  const ctx = makeContext(opts, stdin, streams.stdout, streams.stderr);
  // Redirection targets are opened before the program runs.
  for (const sink of [sinks[1], sinks[2]]) {
    if (sink.kind === 'file' && (sink.path.startsWith('/proc/') || sink.path.startsWith('/sys/'))) {
      const probe = readFile(ctx, sink.path);
      if (!probe.ok) {
        opts.terminal.write(`bash: line 1: ${sink.path}: ${probe.error}\n`);
        return { status: 1, piped: '' };
      }
    }
  }
  let status: number;
  if (name === undefined) status = 0;
  else if (builtin) status = builtin(ctx, argv);
  else if (!program) {
    streams.stderr.write(`bash: line 1: ${name}: command not found\n`);
    status = 127;
  } else status = yield* program.run(ctx, argv);
  const writeError = streams.close(ctx);
  if (writeError) {
    opts.terminal.write(`bash: line 1: ${name ?? ''}: ${writeError}\n`);
    status = 1;
  }
  return { status, piped: streams.piped };
}

function makeContext(opts: LineOptions, stdin: string, stdout: Output, stderr: Output): ProcContext {
  const session = opts.session;
  return {
    world: opts.world,
    host: session.host,
    ns: currentNs(session),
    session,
    stdin,
    stdout,
    stderr,
    interrupted: opts.interrupted,
    *exec(ns, argv) {
      return yield* execIn(opts, ns, argv, stdin, stdout, stderr);
    },
  };
}

/** `ip netns exec NS PROG ARGS`: runs a program directly (no shell) in another namespace. */
function* execIn(opts: LineOptions, ns: NetNs, argv: string[], stdin: string, stdout: Output, stderr: Output): Proc {
  const session = opts.session;
  const name = argv[0]!;
  if (name === 'bash' || name === 'sh' || name === '/bin/bash' || name === '/bin/sh') {
    const c = argv.indexOf('-c');
    if (c >= 0 && argv[c + 1] !== undefined) {
      const inner: ShellSession = { host: session.host, nsStack: [...session.nsStack, ns], lastStatus: session.lastStatus };
      return yield* runLine({ ...opts, session: inner, terminal: { write: (t) => stdout.write(t) } }, argv[c + 1]!);
    }
    // An interactive shell in the namespace until `exit`; without a terminal it reads EOF and ends.
    if (opts.interactive) session.nsStack.push(ns);
    return 0;
  }
  const program = resolveProgram(opts, name) ?? (BUILTIN_PROGRAMS.has(name) ? opts.programs.get(name) : undefined);
  if (!program) {
    stderr.write(`exec of "${name}" failed: No such file or directory\n`);
    return 1;
  }
  const inner: ShellSession = { host: session.host, nsStack: [...session.nsStack, ns], lastStatus: session.lastStatus };
  // The program replaces the process: its stdout is its own buffer, flushed when it exits.
  let held = '';
  const childOut: Output = program.flushesStdout ? { write: (t) => (stdout.write(t), stdout.flush?.()) } : { write: (t) => (held += t) };
  const status = yield* program.run(makeContext({ ...opts, session: inner }, stdin, childOut, stderr), argv);
  if (held) stdout.write(held);
  stdout.flush?.();
  return status;
}

/** Builtins with an external twin (`ip netns exec red echo hi` runs /bin/echo). */
const BUILTIN_PROGRAMS = new Set(['echo', 'true', 'false']);

type Builtin = (ctx: ProcContext, argv: string[]) => number;

const BUILTINS: Record<string, Builtin> = {
  exit: (ctx, argv) => {
    const code = argv[1] === undefined ? ctx.session.lastStatus : Number(argv[1]) & 255;
    if (ctx.session.nsStack.length > 0 && argv.length <= 2) {
      ctx.session.nsStack.pop();
      return Number.isNaN(code) ? 2 : code;
    }
    if (argv[1] !== undefined && !/^-?\d+$/.test(argv[1])) {
      ctx.stderr.write(`bash: line 1: exit: ${argv[1]}: numeric argument required\n`);
      throw new ExitShell(2);
    }
    throw new ExitShell(code);
  },
  cd: () => 0,
  pwd: (ctx) => {
    ctx.stdout.write('/root\n');
    return 0;
  },
  ':': () => 0,
};
