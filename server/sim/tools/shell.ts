// A small non-interactive bash: runs one command line on a host, with
// pipes, lists, subshells, for loops, redirections, expansions and
// background jobs, in simulated time.
import { destroyNamespace } from '../kernel/link';
import type { NetNs } from '../kernel/netns';
import type { World } from '../kernel/world';
import { isDirectory, normalisePath, readFile, writeFile } from './fs';
import { runProgram, type Output, type Proc, type ProcContext, type Program, type ShellSession } from './process';
import { globToRegex } from './regex';
import { evaluateArithmetic, parseLine, ShellSyntaxError, type Command, type IfClause, type ListItem, type Redirect, type SimpleCommand, type Word } from './shell-parse';
import { printfBuiltin, testBuiltin } from './test-printf';

export interface LineOptions {
  world: World;
  session: ShellSession;
  programs: ReadonlyMap<string, Program>;
  /** Where the shell's standard output goes (the terminal, or a capture for `$(…)`). */
  terminal: Output;
  /** Where the shell's standard error goes; the terminal when absent. */
  errors?: Output;
  interrupted: () => boolean;
  /**
   * The standard input a compound command (`while`, `{ }`, `( )`…) inherits:
   * `read` consumes it line by line; other programs see what is left.
   */
  input?: StdinBuffer;
  /** Interactive terminals let `ip netns exec NS bash` enter a namespace. */
  interactive: boolean;
  /** The shell running the line, which words its errors: Debian's `sh` is dash. Bash when absent. */
  shell?: ShellName;
  /** The line's number in a script read from standard input (1 otherwise), for error messages. */
  lineNo?: number;
  /**
   * Takes over a background job whose output goes nowhere near the terminal
   * (`server > /dev/null 2>&1 &`), so it outlives the line, as on Linux.
   */
  detach?: (job: Proc, wakeAt: number) => void;
}

/** A process's standard input: what it has not consumed yet, and whether its writer is still running. */
interface StdinBuffer {
  text: string;
  pending?: boolean;
}

/** Where one file descriptor of a process goes: the shell's own stdout or stderr, a pipe, a file. */
type Sink = { kind: 'stdout' } | { kind: 'stderr' } | { kind: 'pipe' } | { kind: 'null' } | { kind: 'file'; path: string };

const PROGRAM_DIRS = ['/usr/sbin/', '/usr/bin/', '/sbin/', '/bin/', '/usr/local/bin/', '/usr/local/sbin/'];

export function currentNs(session: ShellSession): NetNs {
  return session.nsStack[session.nsStack.length - 1] ?? session.host.root;
}

function errorsOf(opts: LineOptions): Output {
  return opts.errors ?? opts.terminal;
}

/** Expands a word: variables, `$?`, `$((…))` and `$(…)`; unquoted expansions split on blanks. */
function* expandWord(opts: LineOptions, word: Word): Generator<number, string[], void> {
  const session = opts.session;
  const fields: string[] = [''];
  let sawText = false;
  const append = (text: string, split: boolean) => {
    if (!split) {
      fields[fields.length - 1] += text;
      return;
    }
    const pieces = text.split(/[ \t\n]+/);
    pieces.forEach((piece, i) => {
      if (i > 0 && fields[fields.length - 1] !== '') fields.push('');
      fields[fields.length - 1] += piece;
    });
  };
  for (const part of word) {
    if ('text' in part) {
      append(part.text, false);
      sawText = true;
    } else if ('variable' in part) {
      append(variable(session, part.variable), !part.quoted);
      if (part.quoted) sawText = true;
    } else if ('arithmetic' in part) {
      append(String(evaluateArithmetic(part.arithmetic, (name) => variable(session, name))), false);
      sawText = true;
    } else {
      let captured = '';
      const inner: ShellSession = { ...session, vars: new Map(session.vars), nsStack: [...session.nsStack] };
      yield* runLine({ ...opts, session: inner, terminal: { write: (t) => (captured += t) }, errors: errorsOf(opts) }, part.substitution);
      append(captured.replace(/\n+$/, ''), !part.quoted);
      if (part.quoted) sawText = true;
    }
  }
  return fields.length === 1 && fields[0] === '' && !sawText ? [] : fields.filter((f, i) => f !== '' || i === 0 || sawText);
}

/** `${#name}`, `${name%pat}`, `${name%%pat}`, `${name#pat}`, `${name##pat}`, `${name:-word}` and friends. */
function variable(session: ShellSession, expression: string): string {
  if (expression.startsWith('#') && expression.length > 1) return String(plainVariable(session, expression.slice(1)).length);
  const m = /^([A-Za-z_?][A-Za-z_0-9]*)(%%|%|##|#|:-|:=|:\+|-|\+)(.*)$/s.exec(expression);
  if (!m) return plainVariable(session, expression);
  const [, name, op, arg] = m as unknown as [string, string, string, string];
  const value = plainVariable(session, name);
  const set = session.vars.has(name) || value !== '';
  switch (op) {
    case '%':
    case '%%': {
      const match = new RegExp(`${op === '%' ? '(.*)' : '(.*?)'}(${globToRegex(arg)})$`, 's').exec(value);
      return match ? match[1]! : value;
    }
    case '#':
    case '##': {
      const match = new RegExp(`^(${globToRegex(arg).replace(/\.\*/g, op === '#' ? '.*?' : '.*')})`, 's').exec(value);
      return match ? value.slice(match[1]!.length) : value;
    }
    case ':-':
      return value !== '' ? value : arg;
    case '-':
      return set ? value : arg;
    case ':=':
      if (value === '') session.vars.set(name, arg);
      return value !== '' ? value : arg;
    case ':+':
      return value !== '' ? arg : '';
    default:
      return set ? arg : '';
  }
}

function plainVariable(session: ShellSession, name: string): string {
  if (name === '?') return String(session.lastStatus);
  const positional = session.positional ?? [];
  if (name === '#') return String(positional.length);
  if (name === '@' || name === '*') return positional.join(' ');
  if (/^[1-9]$/.test(name)) return positional[Number(name) - 1] ?? '';
  const value = session.vars.get(name);
  if (value !== undefined) return value;
  if (name === 'HOSTNAME') return session.host.hostname;
  if (name === 'HOME') return '/root';
  if (name === 'USER') return 'root';
  if (name === 'PWD') return '/root';
  if (name === 'SHELL') return '/bin/bash';
  if (name === 'IFS') return ' \t\n';
  return '';
}

class ExitShell {
  constructor(readonly status: number) {}
}

/** Runs one line; yields the simulated times it waits for; returns the exit status. */
export function* runLine(opts: LineOptions, line: string): Proc {
  return yield* runScript(opts, [line]);
}

/** Runs lines one after another until one runs `exit`; returns the last status. */
function* runScript(opts: LineOptions, lines: string[]): Proc {
  let status = 0;
  const timeless = new TimelessIterations(opts.world);
  try {
    for (const [i, line] of lines.entries()) {
      const items = parseReporting(opts, line);
      status = items === null ? 2 : yield* runList(lines.length > 1 ? { ...opts, lineNo: i + 1 } : opts, items);
      opts.session.lastStatus = status;
      if (opts.interrupted()) break;
      if (!timeless.mayContinue(errorsOf(opts), 'script')) {
        status = 1;
        break;
      }
    }
  } catch (e) {
    if (!(e instanceof ExitShell)) throw e;
    status = e.status;
    opts.session.lastStatus = status;
  }
  return status;
}

/** The line parsed, or null once its syntax error is reported as bash does. */
function parseReporting(opts: LineOptions, line: string): ListItem[] | null {
  try {
    return parseLine(line);
  } catch (e) {
    if (!(e instanceof ShellSyntaxError)) throw e;
    errorsOf(opts).write(`bash: -c: line 1: ${e.bashMessage}\n`);
    if (e.bashMessage.startsWith('syntax error near')) errorsOf(opts).write(`bash: -c: line 1: \`${line}'\n`);
    return null;
  }
}

/** Runs a list (`a; b && c || d & e`); background jobs run alongside and are waited for at its end. */
function* runList(opts: LineOptions, items: ListItem[]): Proc {
  const session = opts.session;
  const background: Job[] = [];
  let status = 0;
  let skip: '&&' | '||' | null = null;
  try {
    for (const item of items) {
      const run = skip === null || (skip === '&&' ? status === 0 : status !== 0);
      if (run) {
        if (item.then === '&') {
          // The job is a forked subshell: it expands its words with the variables of this moment, and keeps its own.
          const subshell: ShellSession = { ...session, vars: new Map(session.vars), nsStack: [...session.nsStack] };
          const job = runPipeline({ ...opts, session: subshell }, item.pipeline.commands, item.pipeline.negate);
          background.push({ proc: job, wakeAt: opts.world.now, done: false, detached: opts.detach !== undefined && writesNowhere(item.pipeline.commands) });
          status = 0;
        } else if (isWait(item)) {
          // `wait`: every job this shell started, however its output is redirected.
          yield* withBackground(opts, null, background);
          status = 0;
        } else {
          status = yield* withBackground(opts, runPipeline(opts, item.pipeline.commands, item.pipeline.negate), background);
        }
        session.lastStatus = status;
      }
      skip = item.then === '&&' || item.then === '||' ? item.then : null;
    }
  } finally {
    // Like bash -c whose output is a pipe: the line ends when the jobs writing to it do;
    // jobs whose output goes elsewhere live on.
    yield* withBackground(opts, null, background.filter((job) => !job.detached));
    for (const job of background) if (job.detached && !job.done) opts.detach!(job.proc, job.wakeAt);
  }
  return status;
}

function isWait(item: ListItem): boolean {
  const [command] = item.pipeline.commands;
  return item.pipeline.commands.length === 1 && command!.kind === 'simple' && command!.argv.length === 1 && command!.argv[0]!.length === 1 && 'text' in command!.argv[0]![0]! && command!.argv[0]![0]!.text === 'wait';
}

/** A command line's background job (`cmd &`). */
interface Job {
  proc: Proc;
  wakeAt: number;
  done: boolean;
  /** Its output goes nowhere near the terminal, so the line need not wait for it. */
  detached: boolean;
}

/** Whether no command of a pipeline writes to the terminal: its last stdout and every stderr are redirected. */
function writesNowhere(commands: Command[]): boolean {
  return commands.every((command, i) => {
    const fds: Record<1 | 2, 'terminal' | 'elsewhere'> = { 1: i === commands.length - 1 ? 'terminal' : 'elsewhere', 2: 'terminal' };
    for (const r of command.redirects) {
      if (r.kind === 'dup') fds[r.fd] = fds[r.to];
      else if (r.fd !== 0) fds[r.fd] = 'elsewhere';
    }
    return fds[1] === 'elsewhere' && fds[2] === 'elsewhere';
  });
}

/** Steps the foreground process and the background jobs in simulated-time order. */
function* withBackground(opts: LineOptions, fg: Proc | null, background: Job[]): Generator<number, number, void> {
  let fgWake = opts.world.now;
  let fgStatus = 0;
  let fgDone = fg === null;
  for (;;) {
    const pending = background.filter((job) => !job.done);
    // A foreground command returns when it ends; without one (`wait`), when every job has.
    if (fg !== null ? fgDone : pending.length === 0) return fgStatus;
    let next: { kind: 'fg' } | { kind: 'bg'; job: (typeof background)[number] } = { kind: 'fg' };
    let at = fgDone ? Infinity : fgWake;
    for (const job of pending) if (job.wakeAt < at) (at = job.wakeAt), (next = { kind: 'bg', job });
    if (at > opts.world.now) yield at;
    if (next.kind === 'fg') {
      const r = fg!.next();
      if (r.done) {
        fgDone = true;
        fgStatus = r.value;
      } else fgWake = r.value;
    } else {
      const r = next.job.proc.next();
      if (r.done) next.job.done = true;
      else next.job.wakeAt = r.value;
    }
  }
}

/**
 * Runs a pipeline's commands one after the other, each reading what the one
 * before wrote; a program that streams its input runs alongside its writer.
 */
function* runPipeline(opts: LineOptions, commands: Command[], negate: boolean): Proc {
  let stdin: StdinBuffer = opts.input ?? { text: '' };
  let status = 0;
  for (let i = 0; i < commands.length; i++) {
    const sinkFor = (n: number): Sink => (n === commands.length - 1 ? { kind: 'stdout' } : { kind: 'pipe' });
    const reader = commands[i + 1];
    if (reader && streamsStdin(opts, reader)) {
      const live: StdinBuffer = { text: '', pending: true };
      const writer = runCommand(opts, commands[i]!, stdin, { kind: 'pipe' });
      const result = yield* runAlongside(opts, writer, runCommand(opts, reader, live, sinkFor(i + 1)), (written) => {
        live.text = written.piped;
        live.pending = false;
      });
      i++;
      stdin = { text: result.piped };
      status = result.status;
      continue;
    }
    const result = yield* runCommand(opts, commands[i]!, stdin, sinkFor(i));
    stdin = { text: result.piped };
    status = result.status;
  }
  return negate ? (status === 0 ? 1 : 0) : status;
}

function streamsStdin(opts: LineOptions, command: Command): boolean {
  if (command.kind !== 'simple' || command.argv.length === 0) return false;
  const first = command.argv[0]!;
  if (first.length !== 1 || !('text' in first[0]!)) return false;
  return resolveProgram(opts, first[0].text)?.streamsStdin === true;
}

/** Drives a pipe's writer and reader together on the simulated clock; `onWriterEnd` sees the writer's result. */
function* runAlongside(opts: LineOptions, writer: Generator<number, CommandResult, void>, reader: Generator<number, CommandResult, void>, onWriterEnd: (r: CommandResult) => void): Generator<number, CommandResult, void> {
  let w = writer.next();
  if (w.done) onWriterEnd(w.value);
  let r = reader.next();
  while (!r.done) {
    const wake = Math.min(w.done ? Infinity : w.value, r.value);
    if (wake > opts.world.now) yield wake;
    if (!w.done && w.value <= opts.world.now) {
      w = writer.next();
      if (w.done) onWriterEnd(w.value);
    } else r = reader.next();
  }
  // The reader ended first: the writer finishes on its own (SIGPIPE aside).
  while (!w.done) {
    if (w.value > opts.world.now) yield w.value;
    w = writer.next();
  }
  return r.value;
}

interface CommandResult {
  status: number;
  piped: string;
}

/**
 * A process's standard output and error, buffered as a C program's are on a
 * pipe. A file gets what is written unbuffered (stderr, and the stdout of a
 * program that flushes it) as it is written, the rest when the process exits;
 * a write to /proc or /sys is one write at exit.
 */
class ProcessStreams {
  piped = '';
  private heldStdout = '';
  private files = new Map<string, string>();

  constructor(
    private readonly opts: LineOptions,
    private readonly sinks: { 1: Sink; 2: Sink },
    private readonly flushesStdout: boolean,
  ) {}

  private deliver(sink: Sink, text: string, unbuffered: boolean): void {
    switch (sink.kind) {
      case 'stdout':
        this.opts.terminal.write(text);
        return;
      case 'stderr':
        errorsOf(this.opts).write(text);
        return;
      case 'pipe':
        this.piped += text;
        return;
      case 'null':
        return;
      case 'file':
        if (unbuffered && !isKernelFile(sink.path)) writeFile(makeContext(this.opts, '', DISCARD, DISCARD), sink.path, text, true);
        else this.files.set(sink.path, (this.files.get(sink.path) ?? '') + text);
    }
  }

  /** A C program's stdout on a pipe is fully buffered: it comes out at exit, after what went to stderr meanwhile. */
  private get stdoutHeld(): boolean {
    return !this.flushesStdout && (this.sinks[1].kind === 'stdout' || this.sinks[1].kind === 'stderr' || this.sinks[1].kind === 'pipe');
  }

  readonly stdout: Output = {
    write: (text) => {
      if (this.stdoutHeld) this.heldStdout += text;
      else this.deliver(this.sinks[1], text, this.flushesStdout);
    },
    flush: () => {
      if (this.heldStdout) this.deliver(this.sinks[1], this.heldStdout, true);
      this.heldStdout = '';
      // What a program run in this process (`ip netns exec`) flushes reaches a file now too.
      const sink = this.sinks[1];
      if (sink.kind === 'file' && !isKernelFile(sink.path) && this.files.has(sink.path)) {
        const buffered = this.files.get(sink.path)!;
        this.files.delete(sink.path);
        this.deliver(sink, buffered, true);
      }
    },
  };

  readonly stderr: Output = { write: (text) => this.deliver(this.sinks[2], text, true) };

  /** At exit: held stdout is written out, files are written. Returns a write error, if any. */
  close(ctx: ProcContext): string | null {
    this.stdout.flush!();
    for (const [path, text] of this.files) {
      // Opening the file truncated it already.
      const res = writeFile(ctx, path, text, true);
      if (!res.ok) return res.error;
    }
    return null;
  }
}

function isKernelFile(path: string): boolean {
  return path.startsWith('/proc/') || path.startsWith('/sys/');
}

const DISCARD: Output = { write: () => {} };

function resolveProgram(opts: LineOptions, name: string): Program | undefined {
  const dir = PROGRAM_DIRS.find((d) => name.startsWith(d));
  const base = dir ? name.slice(dir.length) : name;
  if (!dir && name.includes('/')) return undefined;
  return opts.programs.get(base);
}

/** Applies redirections to the command's sinks; returns an error message for a file that cannot be opened. */
function* applyRedirects(opts: LineOptions, redirects: Redirect[], sinks: { 1: Sink; 2: Sink }, stdin: { current: StdinBuffer }): Generator<number, string | null, void> {
  for (const r of redirects) {
    if (r.kind === 'dup') {
      sinks[r.fd] = sinks[r.to];
      continue;
    }
    const path = (yield* expandWord(opts, r.path)).join(' ');
    const ctx = makeContext(opts, '', { write: () => {} }, { write: () => {} });
    if (r.fd === 0) {
      const read = readFile(ctx, path);
      if (!read.ok) return `bash: line 1: ${path}: ${read.error}\n`;
      stdin.current = { text: read.text };
    } else if (path === '/dev/null') sinks[r.fd] = { kind: 'null' };
    else {
      // Redirection targets are opened before the program runs: a file is created or truncated then.
      if (isKernelFile(path)) {
        const probe = readFile(ctx, path);
        if (!probe.ok) return `bash: line 1: ${path}: ${probe.error}\n`;
      } else writeFile(ctx, path, '', r.append);
      sinks[r.fd] = { kind: 'file', path };
    }
  }
  return null;
}

function* runCommand(opts: LineOptions, command: Command, input: StdinBuffer, stdoutSink: Sink): Generator<number, CommandResult, void> {
  const sinks: { 1: Sink; 2: Sink } = { 1: stdoutSink, 2: { kind: 'stderr' } };
  const stdin = { current: input };
  const redirectError = yield* applyRedirects(opts, command.redirects, sinks, stdin);
  if (redirectError) {
    errorsOf(opts).write(redirectError);
    return { status: 1, piped: '' };
  }
  if (command.kind !== 'simple') return yield* runCompound(opts, command, stdin.current, sinks);
  return yield* runSimple(opts, command, stdin.current, sinks);
}

/**
 * A loop or script that runs this many times in a row while no simulated
 * time passes is stopped: nothing else could end an endless one, and a long
 * one would hold the whole lab meanwhile.
 */
const MAX_TIMELESS_ITERATIONS = 10_000;

/** Counts a loop's iterations in a row in which no simulated time passed. */
class TimelessIterations {
  private count = 0;
  private since: number;

  constructor(private readonly world: World) {
    this.since = world.now;
  }

  /** After an iteration: whether the loop may go on; when not, says so on `errors`. */
  mayContinue(errors: Output, what: string): boolean {
    this.count = this.world.now === this.since ? this.count + 1 : 0;
    this.since = this.world.now;
    if (this.count < MAX_TIMELESS_ITERATIONS) return true;
    errors.write(`nslab: ${what} stopped after ${MAX_TIMELESS_ITERATIONS} iterations in which no time passed\n`);
    return false;
  }
}

/** `( … )`, `for … done` and `if … fi`: their own lists, with output sent where the redirections say. */
function* runCompound(opts: LineOptions, command: Exclude<Command, SimpleCommand>, stdin: StdinBuffer, sinks: { 1: Sink; 2: Sink }): Generator<number, CommandResult, void> {
  const streams = new ProcessStreams(opts, sinks, true);
  const inner: LineOptions = { ...opts, terminal: streams.stdout, errors: streams.stderr, input: stdin };
  let status = 0;
  if (command.kind === 'function') {
    (opts.session.functions ??= new Map()).set(command.name, command.body);
  } else if (command.kind === 'subshell') {
    const session = opts.session;
    inner.session = { ...session, vars: new Map(session.vars), nsStack: [...session.nsStack] };
    try {
      status = yield* runList(inner, command.body);
    } catch (e) {
      if (!(e instanceof ExitShell)) throw e;
      status = e.status;
    }
  } else if (command.kind === 'group') {
    status = yield* runList(inner, command.body);
  } else if (command.kind === 'while') {
    const timeless = new TimelessIterations(opts.world);
    for (;;) {
      if (((yield* runList(inner, command.condition)) === 0) === command.until) break;
      status = yield* runList(inner, command.body);
      if (opts.interrupted()) break;
      if (!timeless.mayContinue(streams.stderr, 'loop')) {
        status = 1;
        break;
      }
    }
  } else if (command.kind === 'if') {
    const branch = yield* chooseBranch(inner, command);
    status = branch ? yield* runList(inner, branch) : 0;
  } else {
    const values: string[] = [];
    for (const word of command.words) values.push(...(yield* expandWord(opts, word)));
    const timeless = new TimelessIterations(opts.world);
    for (const value of values) {
      opts.session.vars.set(command.variable, value);
      status = yield* runList(inner, command.body);
      if (opts.interrupted()) break;
      if (!timeless.mayContinue(streams.stderr, 'loop')) {
        status = 1;
        break;
      }
    }
  }
  const ctx = makeContext(opts, stdin.text, streams.stdout, streams.stderr);
  const writeError = streams.close(ctx);
  if (writeError) errorsOf(opts).write(`bash: line 1: ${writeError}\n`);
  return { status, piped: streams.piped };
}

/** The list an `if` runs: the body of the first branch whose condition succeeds, else `else`'s. */
function* chooseBranch(opts: LineOptions, command: IfClause): Generator<number, ListItem[] | null, void> {
  for (const { condition, body } of command.branches) {
    if ((yield* runList(opts, condition)) === 0) return body;
  }
  return command.otherwise;
}

function* runSimple(opts: LineOptions, command: SimpleCommand, stdin: StdinBuffer, sinks: { 1: Sink; 2: Sink }): Generator<number, CommandResult, void> {
  const session = opts.session;
  const argv: string[] = [];
  for (const word of command.argv) argv.push(...(yield* expandWord(opts, word)));
  // NAME=VALUE before a command holds for that command only (what `IFS=: read` relies on).
  const saved = new Map<string, string | undefined>();
  for (const { name, value } of command.assignments) {
    const text = (yield* expandWord(opts, value)).join(' ');
    if (argv.length > 0 && !saved.has(name)) saved.set(name, session.vars.get(name));
    session.vars.set(name, text);
  }
  try {
    return yield* runNamed(opts, argv, stdin, sinks);
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) session.vars.delete(name);
      else session.vars.set(name, value);
    }
  }
}

/** Runs the command a simple command names: a function, a builtin, a child shell or a program. */
function* runNamed(opts: LineOptions, argv: string[], stdin: StdinBuffer, sinks: { 1: Sink; 2: Sink }): Generator<number, CommandResult, void> {
  const session = opts.session;
  const fn = argv[0] === undefined ? undefined : session.functions?.get(argv[0]);
  if (fn) {
    const outer = session.positional;
    session.positional = argv.slice(1);
    try {
      return yield* runCompound(opts, fn, stdin, sinks);
    } finally {
      session.positional = outer;
    }
  }
  // `exec CMD`: CMD replaces the shell, which ends with it.
  const replacesShell = argv[0] === 'exec' && argv.length > 1;
  if (replacesShell) argv.shift();
  const name = argv[0];
  const builtin = name === undefined ? undefined : BUILTINS[name];
  const program = name === undefined || builtin ? undefined : resolveProgram(opts, name);
  // A child shell writes as its commands do, as they run.
  const childShell = name !== undefined && !builtin && shellName(name) !== null;
  const streams = new ProcessStreams(opts, sinks, builtin !== undefined || childShell || (program?.flushesStdout ?? false));
  const ctx = makeContext(opts, stdin, streams.stdout, streams.stderr);
  let status: number;
  if (name === undefined) status = 0;
  else if (builtin) status = builtin(ctx, argv, stdin);
  else if (childShell) status = yield* runChildShell(opts, currentNs(session), argv, stdin, streams.stdout, streams.stderr);
  else if (!program) {
    streams.stderr.write(opts.shell === 'sh' ? `sh: ${opts.lineNo ?? 1}: ${name}: not found\n` : `bash: line ${opts.lineNo ?? 1}: ${name}: command not found\n`);
    status = 127;
  } else status = yield* runProgram(program, ctx, argv);
  const writeError = streams.close(ctx);
  if (writeError) {
    errorsOf(opts).write(`bash: line 1: ${name ?? ''}: ${writeError}\n`);
    status = 1;
  }
  if (replacesShell) throw new ExitShell(status);
  return { status, piped: streams.piped };
}

function makeContext(opts: LineOptions, input: StdinBuffer | string, stdout: Output, stderr: Output): ProcContext {
  const session = opts.session;
  const stdin = typeof input === 'string' ? { text: input } : input;
  return {
    world: opts.world,
    host: session.host,
    ns: currentNs(session),
    session,
    stdin: stdin.text,
    input: () => stdin,
    stdout,
    stderr,
    interrupted: opts.interrupted,
    *exec(ns, argv, interruptAtUs) {
      const inner = interruptAtUs === undefined ? opts : { ...opts, interrupted: () => opts.interrupted() || opts.world.now >= interruptAtUs };
      return yield* execIn(inner, ns, argv, stdin, stdout, stderr);
    },
    canExec: (name) => shellName(name) !== null || execProgram(opts, name) !== undefined,
  };
}

/** What exec(2) finds for a name: a program, or a builtin that also exists as one. */
function execProgram(opts: LineOptions, name: string): Program | undefined {
  return resolveProgram(opts, name) ?? (BUILTIN_PROGRAMS.has(name) ? opts.programs.get(name) : undefined);
}

/** `proc` runs as a process living in `ns`; a namespace whose name was deleted meanwhile goes when the last one ends. */
function* inNamespace(ns: NetNs, proc: Proc): Proc {
  const host = ns.host;
  const pid = ++host.lastPid;
  ns.pids.add(pid);
  try {
    return yield* proc;
  } finally {
    ns.pids.delete(pid);
    if (ns.pids.size === 0 && ns.alive && ns.name !== null && host.namespaces.get(ns.name) !== ns) destroyNamespace(ns);
  }
}

/** `ip netns exec NS PROG ARGS`: runs a program directly (no shell) in another namespace. */
function* execIn(opts: LineOptions, ns: NetNs, argv: string[], stdin: StdinBuffer, stdout: Output, stderr: Output): Proc {
  const session = opts.session;
  const name = argv[0]!;
  if (shellName(name)) return yield* inNamespace(ns, runChildShell(opts, ns, argv, stdin, stdout, stderr));
  const program = execProgram(opts, name);
  if (!program) {
    stderr.write(`exec of "${name}" failed: No such file or directory\n`);
    return 1;
  }
  const inner: ShellSession = { ...session, vars: new Map(session.vars), nsStack: [...session.nsStack, ns] };
  // The program replaces the process: its stdout is its own buffer, flushed when it exits.
  let held = '';
  const flushHeld = () => {
    if (held) stdout.write(held);
    held = '';
    stdout.flush?.();
  };
  const childOut: Output = program.flushesStdout ? { write: (t) => (stdout.write(t), stdout.flush?.()) } : { write: (t) => (held += t), flush: flushHeld };
  const status = yield* inNamespace(ns, runProgram(program, makeContext({ ...opts, session: inner }, stdin, childOut, stderr), argv));
  if (inner.lastTrace) session.lastTrace = inner.lastTrace;
  if (inner.lastPath) session.lastPath = inner.lastPath;
  flushHeld();
  return status;
}

type ShellName = 'bash' | 'sh';

function shellName(program: string): ShellName | null {
  const base = PROGRAM_DIRS.reduce((name, dir) => (name.startsWith(dir) ? name.slice(dir.length) : name), program);
  return base === 'bash' || base === 'sh' ? base : null;
}

/**
 * `bash`/`sh` in namespace `ns`: `-c SCRIPT` runs SCRIPT, a piped standard
 * input is read as a script line by line, and otherwise an interactive
 * terminal enters a nested shell until `exit` (without a terminal it reads
 * end of input and ends). The child has its own variables; its `exit` ends it.
 */
function* runChildShell(opts: LineOptions, ns: NetNs, argv: string[], stdin: StdinBuffer, stdout: Output, stderr: Output): Proc {
  const shell = shellName(argv[0]!)!;
  const session = opts.session;
  const nsStack = ns === currentNs(session) ? [...session.nsStack] : [...session.nsStack, ns];
  const child: LineOptions = {
    ...opts,
    session: { ...session, vars: new Map(session.vars), nsStack, shellDepth: nsStack.length },
    terminal: stdout,
    errors: stderr,
    input: stdin,
    shell,
  };
  const c = argv.indexOf('-c');
  let status = 0;
  if (c >= 0) {
    const script = argv[c + 1];
    if (script === undefined) {
      stderr.write(shell === 'sh' ? 'sh: 0: -c requires an argument\n' : 'bash: -c: option requires an argument\n');
      return 2;
    }
    status = yield* runLine(child, script);
  } else if (stdin.text !== '') {
    const lines = stdin.text.replace(/\n$/, '').split('\n');
    stdin.text = '';
    status = yield* runScript(child, lines);
  } else if (opts.interactive) {
    // A nested interactive shell: its own variables, in `ns`, until `exit`.
    session.outerVars = [...(session.outerVars ?? []), session.vars];
    session.vars = new Map(session.vars);
    session.nsStack.push(ns);
  }
  // What a program run in the child drew stays visible after it.
  if (child.session.lastTrace) session.lastTrace = child.session.lastTrace;
  if (child.session.lastPath) session.lastPath = child.session.lastPath;
  return status;
}

/** Builtins with an external twin (`ip netns exec red echo hi` runs /bin/echo). */
const BUILTIN_PROGRAMS = new Set(['echo', 'true', 'false']);

type Builtin = (ctx: ProcContext, argv: string[], stdin: StdinBuffer) => number;

/** `read [-r] [NAME…]`: one line of input split on blanks, the last name taking the rest; 1 at end of input. */
function readBuiltin(ctx: ProcContext, argv: string[], stdin: StdinBuffer): number {
  const names = argv.slice(1).filter((a) => !a.startsWith('-'));
  const end = stdin.text.indexOf('\n');
  const line = end < 0 ? stdin.text : stdin.text.slice(0, end);
  const atEof = end < 0;
  stdin.text = atEof ? '' : stdin.text.slice(end + 1);
  if (names.length === 0) {
    ctx.session.vars.set('REPLY', line);
    return atEof ? 1 : 0;
  }
  // Fields end at IFS characters: a run of its whitespace, or one of its others with whitespace around.
  const ifs = ctx.session.vars.get('IFS') ?? ' \t\n';
  const escape = (chars: string) => chars.replace(/[\\\]^-]/g, '\\$&');
  const white = escape([...ifs].filter((c) => ' \t\n'.includes(c)).join(''));
  const other = escape([...ifs].filter((c) => !' \t\n'.includes(c)).join(''));
  const ws = white ? `[${white}]*` : '';
  const separator = new RegExp(`^(${other ? `[^${other}${white}]` : white ? `[^${white}]` : '[^]'}*)(${other ? `${ws}[${other}]${ws}|` : ''}${white ? `[${white}]+` : '$^'})`);
  let rest = white ? line.replace(new RegExp(`^[${white}]+`), '') : line;
  names.forEach((name, i) => {
    if (i === names.length - 1) {
      ctx.session.vars.set(name, white ? rest.replace(new RegExp(`[${white}]+$`), '') : rest);
      return;
    }
    const m = separator.exec(rest);
    ctx.session.vars.set(name, m ? m[1]! : rest);
    rest = m ? rest.slice(m[0].length) : '';
  });
  return atEof ? 1 : 0;
}

const BUILTINS: Record<string, Builtin> = {
  exit: (ctx, argv) => {
    const code = argv[1] === undefined ? ctx.session.lastStatus : Number(argv[1]) & 255;
    if (ctx.session.nsStack.length > (ctx.session.shellDepth ?? 0) && argv.length <= 2) {
      ctx.session.nsStack.pop();
      ctx.session.vars = ctx.session.outerVars?.pop() ?? ctx.session.vars;
      return Number.isNaN(code) ? 2 : code;
    }
    if (argv[1] !== undefined && !/^-?\d+$/.test(argv[1])) {
      ctx.stderr.write(`bash: line 1: exit: ${argv[1]}: numeric argument required\n`);
      throw new ExitShell(2);
    }
    throw new ExitShell(code);
  },
  cd: (ctx, argv) => {
    const target = normalisePath(argv[1] ?? '/root', ctx.session.cwd);
    if (!isDirectory(ctx, target)) {
      ctx.stderr.write(`bash: line 1: cd: ${argv[1]}: No such file or directory\n`);
      return 1;
    }
    ctx.session.cwd = target;
    return 0;
  },
  pwd: (ctx) => {
    ctx.stdout.write(ctx.session.cwd + '\n');
    return 0;
  },
  ':': () => 0,
  read: readBuiltin,
  test: testBuiltin,
  '[': testBuiltin,
  printf: printfBuiltin,
};
