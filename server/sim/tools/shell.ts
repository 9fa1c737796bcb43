// A small non-interactive bash: runs command lines and scripts on a host,
// with pipes, lists, subshells, loops, case, functions, arrays,
// redirections and here-documents, expansions, `set -euxo pipefail` and
// background jobs, in simulated time; as Debian's dash when run as `sh`.
import { destroyNamespace } from '../kernel/link';
import type { NetNs } from '../kernel/netns';
import type { World } from '../kernel/world';
import { echoEscapes } from './coreutils';
import { isDirectory, listDirectory, normalisePath, readFile, writeFile } from './fs';
import { runProgram, type Output, type Proc, type ProcContext, type Program, type ShellArray, type ShellSession } from './process';
import {
  ArithmeticError,
  arrayLiteral,
  evaluateArithmetic,
  expansionWord,
  parseLine,
  ShellSyntaxError,
  stripPrefix,
  type Assignment,
  type CaseClause,
  type Command,
  type CondExpr,
  type FunctionDef,
  type IfClause,
  type ListItem,
  type Redirect,
  type SimpleCommand,
  type Word,
  type WordPart,
} from './shell-parse';
import { PROGRAM_PATHS } from './registry';
import { binaryTest, printfBuiltin, testBuiltin, unaryTest } from './test-printf';

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
  /** The number of the script line the text being run starts on (1 for a command line). */
  lineNo?: number;
  /** The line of the command running, as errors name it. */
  errorLine?: number;
  /** Where the script comes from, which bash's syntax errors tell: a file or standard input, else `-c`. */
  readsFrom?: 'file' | 'stdin';
  /**
   * Takes over a background job whose output goes nowhere near the terminal
   * (`server > /dev/null 2>&1 &`), so it outlives the line, as on Linux.
   */
  detach?: (job: Proc, wakeAt: number) => void;
  /** In a function or a sourced file, where `return` may end it. */
  returnable?: boolean;
  /** How many functions and sourced files are running, one inside the other. */
  nesting?: number;
  /** How many loops enclose the command (`break` and `continue` need one). */
  loopDepth?: number;
  /** In an `if`/`while` condition, before `&&`/`||` or after `!`: `set -e` does not apply. */
  errexitIgnored?: boolean;
  /** How deep in `$(…)` the command runs: `set -x` marks each level with a `+`. */
  substitutionDepth?: number;
  /** `bash -n`: commands are read, to find syntax errors, and not run. */
  noExec?: boolean;
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

/**
 * Where an error happened, as the shell starts its message: `bash: line N`,
 * or dash's `sh: N`; a script given a name (`bash -c SCRIPT NAME`) goes by it.
 */
function where(opts: LineOptions): string {
  const name = opts.session.positional?.[0] ?? opts.shell ?? 'bash';
  const line = opts.errorLine ?? opts.lineNo ?? 1;
  return opts.shell === 'sh' ? `${name}: ${line}` : `${name}: line ${line}`;
}

/** An expansion that fails (`${x!}`, `$((1/0))`, `set -u`): bash reports it and the shell exits with `status`. */
class ExpansionError extends Error {
  constructor(
    message: string,
    readonly status = 1,
  ) {
    super(message);
  }
}

/** The value of one part of a word: a list for `$@` and `${a[@]}`, whose elements stay separate words when quoted. */
function* expandPart(opts: LineOptions, part: WordPart): Generator<number, string | string[], void> {
  if ('text' in part) return part.text;
  if ('variable' in part) return yield* parameter(opts, part.variable);
  if ('arithmetic' in part) return String(yield* arithmetic(opts, part.arithmetic));
  // `<(…)` is only run where it feeds standard input (`< <(cmd)`); elsewhere only its name is given.
  if ('process' in part) return '/dev/fd/63';
  return (yield* captureOutput(opts, part.substitution)).replace(/\n+$/, '');
}

/** What a command prints, run in a subshell: `$(…)` and `<(…)`. */
function* captureOutput(opts: LineOptions, script: string): Generator<number, string, void> {
  let captured = '';
  const inner = subshellSession(opts.session);
  const depth = (opts.substitutionDepth ?? 0) + 1;
  yield* runLine({ ...opts, session: inner, terminal: { write: (t) => (captured += t) }, errors: errorsOf(opts), substitutionDepth: depth, loopDepth: 0 }, script);
  opts.session.lastStatus = inner.lastStatus;
  return captured;
}

/**
 * Expands a word: variables, `$?`, `$((…))` and `$(…)`; unquoted expansions
 * split on blanks, and a field with an unquoted `*`, `?` or `[` becomes the
 * paths it matches, if any.
 */
function* expandWord(opts: LineOptions, word: Word): Generator<number, string[], void> {
  // Each field with its glob pattern, in which what was quoted is escaped.
  const fields: Array<{ text: string; pattern: string; glob: boolean }> = [{ text: '', pattern: '', glob: false }];
  let sawText = false;
  const add = (text: string, quoted: boolean) => {
    const field = fields[fields.length - 1]!;
    field.text += text;
    field.pattern += quoted ? text.replace(/[*?[\]\\]/g, '\\$&') : text;
    if (!quoted && /[*?[]/.test(text)) field.glob = true;
  };
  const append = (text: string, quoted: boolean, split: boolean) => {
    if (!split) return add(text, quoted);
    text.split(/[ \t\n]+/).forEach((piece, i) => {
      if (i > 0 && fields[fields.length - 1]!.text !== '') fields.push({ text: '', pattern: '', glob: false });
      add(piece, quoted);
    });
  };
  for (const part of word) {
    const value = yield* expandPart(opts, part);
    const quoted = 'quoted' in part && part.quoted;
    if (typeof value === 'string') {
      append(value, quoted, !('text' in part) && !quoted);
      if ('text' in part || quoted || 'arithmetic' in part) sawText = true;
      continue;
    }
    // "$@": each element its own word, the first and last joined to the text around them.
    value.forEach((element, i) => {
      if (i > 0) {
        if (quoted) fields.push({ text: '', pattern: '', glob: false });
        else append(' ', false, true);
      }
      append(element, quoted, !quoted);
      if (quoted) sawText = true;
    });
  }
  if (fields.length === 1 && fields[0]!.text === '' && !sawText) return [];
  const kept = fields.filter((f, i) => f.text !== '' || i === 0 || sawText);
  if (!kept.some((f) => f.glob)) return kept.map((f) => f.text);
  const ctx = makeContext(opts, '', errorsOf(opts), errorsOf(opts));
  return kept.flatMap((f) => (f.glob ? glob(ctx, f.pattern) : null) ?? [f.text]);
}

/** The paths a glob pattern matches, sorted, or null when none does; only directories the simulation knows fully are searched. */
function glob(ctx: ProcContext, pattern: string): string[] | null {
  if (!pattern.startsWith('/')) return null;
  let paths = [''];
  for (const segment of pattern.split('/').slice(1)) {
    if (!/(^|[^\\])[*?[]/.test(segment)) {
      const name = segment.replace(/\\(.)/g, '$1');
      paths = paths.map((path) => `${path}/${name}`);
      continue;
    }
    // A leading dot must be matched by a dot.
    const regex = new RegExp(`^${segment.startsWith('.') ? '' : '(?!\\.)'}${globToRegex(segment)}$`, 's');
    paths = paths.flatMap((path) => (listDirectory(ctx, path || '/') ?? []).filter((name) => regex.test(name)).map((name) => `${path}/${name}`));
  }
  const found = paths.filter((path) => readFile(ctx, path).ok || isDirectory(ctx, path));
  return found.length > 0 ? found : null;
}

/** Expands a word to one string, unsplit: assignments, `case` subjects, `[[ ]]` operands, here-strings. */
function* expandString(opts: LineOptions, word: Word): Generator<number, string, void> {
  let text = '';
  for (const part of word) {
    const value = yield* expandPart(opts, part);
    text += typeof value === 'string' ? value : value.join(' ');
  }
  return text;
}

/** A word as a pattern (`case`, `[[ == ]]`, `${x%…}`): what was quoted matches itself. */
function* expandPattern(opts: LineOptions, word: Word): Generator<number, string, void> {
  let source = '';
  for (const part of word) {
    const value = yield* expandPart(opts, part);
    const text = typeof value === 'string' ? value : value.join(' ');
    source += 'quoted' in part && part.quoted ? escapeRegex(text) : globToRegex(text);
  }
  return source;
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/**
 * A glob pattern (`*`, `?`, `[…]`, `\x`) as a regular expression body, always
 * a valid one: a `[` that opens no class is itself, a class that cannot be
 * (`[z-a]`) matches nothing.
 */
function globToRegex(pattern: string): string {
  return pattern.replace(/\\(.)|\*|\?|\[!?\]?[^\]]*\]|[.+^${}()|/[\]]/gs, (c, escaped: string | undefined) => {
    if (escaped !== undefined) return escapeRegex(escaped);
    if (c === '*') return '.*';
    if (c === '?') return '.';
    if (c.length > 1) {
      const klass = c.replace(/^\[!/, '[^').replace(/\\/g, '\\\\');
      try {
        new RegExp(klass);
        return klass;
      } catch {
        return '(?!)';
      }
    }
    return `\\${c}`;
  });
}

/** Brace expansion, before any other: `veth-{red,blue}`, `{1..5}`, `{01..10..3}`, `{a..e}`; braces must be unquoted. */
function braceExpand(word: Word): Word[] {
  for (const [index, part] of word.entries()) {
    if (!('text' in part) || part.quoted) continue;
    const brace = findBrace(part.text);
    if (!brace) continue;
    const before: Word = [...word.slice(0, index), { text: part.text.slice(0, brace.start), quoted: false }];
    const after: Word = [{ text: part.text.slice(brace.end), quoted: false }, ...word.slice(index + 1)];
    return brace.alternatives.flatMap((alternative) => braceExpand([...before, { text: alternative, quoted: false }, ...after]));
  }
  return [word];
}

/** The first brace expression in unquoted text: where it is and the strings it stands for. */
function findBrace(text: string): { start: number; end: number; alternatives: string[] } | null {
  for (let start = text.indexOf('{'); start >= 0; start = text.indexOf('{', start + 1)) {
    if (start > 0 && text[start - 1] === '$') continue;
    let depth = 0;
    const commas: number[] = [];
    let end = -1;
    for (let j = start; j < text.length && end < 0; j++) {
      if (text[j] === '{') depth++;
      else if (text[j] === '}' && --depth === 0) end = j;
      else if (text[j] === ',' && depth === 1) commas.push(j);
    }
    if (end < 0) return null;
    const inner = text.slice(start + 1, end);
    if (commas.length > 0) {
      const bounds = [start, ...commas, end];
      return { start, end: end + 1, alternatives: bounds.slice(1).map((b, i) => text.slice(bounds[i]! + 1, b)) };
    }
    const sequence = braceSequence(inner);
    if (sequence) return { start, end: end + 1, alternatives: sequence };
  }
  return null;
}

function braceSequence(inner: string): string[] | null {
  const numeric = /^([-+]?\d+)\.\.([-+]?\d+)(?:\.\.([-+]?\d+))?$/.exec(inner);
  const letters = /^([A-Za-z])\.\.([A-Za-z])(?:\.\.([-+]?\d+))?$/.exec(inner);
  const m = numeric ?? letters;
  if (!m) return null;
  const from = numeric ? Number(m[1]) : m[1]!.charCodeAt(0);
  const to = numeric ? Number(m[2]) : m[2]!.charCodeAt(0);
  const step = Math.abs(Number(m[3] ?? 1)) || 1;
  const width = numeric && /^[-+]?0\d/.test(m[1]!) || (numeric && /^[-+]?0\d/.test(m[2]!)) ? Math.max(m[1]!.length, m[2]!.length) : 0;
  const out: string[] = [];
  for (let v = from; from <= to ? v <= to : v >= to; v += from <= to ? step : -step) {
    out.push(numeric ? (v < 0 ? '-' + String(-v).padStart(width - 1, '0') : String(v).padStart(width, '0')) : String.fromCharCode(v));
  }
  return out;
}

/** Words as a command's arguments: brace expansion, then `~`, the other expansions and splitting. */
function* expandWords(opts: LineOptions, words: Word[]): Generator<number, string[], void> {
  const out: string[] = [];
  for (const word of words) for (const expanded of opts.shell === 'sh' ? [word] : braceExpand(word)) out.push(...(yield* expandWord(opts, tilde(opts.session, expanded))));
  return out;
}

/** A word's leading unquoted `~` or `~root`, up to a `/` or its end, as the home directory (every user here is root). */
function tilde(session: ShellSession, word: Word): Word {
  const [first, ...rest] = word;
  if (!first || !('text' in first) || first.quoted) return word;
  const m = /^~(root)?(?=\/|$)/.exec(first.text);
  if (!m || (first.text === m[0] && rest.length > 0)) return word;
  return [{ text: scalar(session, 'HOME'), quoted: true }, { text: first.text.slice(m[0].length), quoted: false }, ...rest];
}

/** `$((…))`: the expression's own expansions first; an error ends the shell as in bash. */
function* arithmetic(opts: LineOptions, expression: string): Generator<number, bigint, void> {
  const text = yield* expandString(opts, expansionWord(expression));
  try {
    return evaluateArithmetic(text, arithmeticVariables(opts.session));
  } catch (e) {
    if (!(e instanceof ArithmeticError)) throw e;
    throw new ExpansionError(e.message);
  }
}

function arithmeticVariables(session: ShellSession) {
  return { get: (name: string) => scalar(session, name), set: (name: string, value: string) => setVariable(session, name, value) };
}

/** `((…))`, `let` and `for ((…))`: like `$((…))`, but an error is only reported, as `NAME: EXPR: …`. */
function* arithmeticCommand(opts: LineOptions, name: string, expression: string): Generator<number, bigint | null, void> {
  const text = yield* expandString(opts, expansionWord(expression));
  try {
    return evaluateArithmetic(text, arithmeticVariables(opts.session));
  } catch (e) {
    if (!(e instanceof ArithmeticError)) throw e;
    errorsOf(opts).write(`${where(opts)}: ${name}: ${e.message}\n`);
    return null;
  }
}

const PARAMETER = /^(!?)(#?)([A-Za-z_][A-Za-z_0-9]*|[0-9]+|[?#@*!])(?:\[([^\]]*)\])?(.*)$/s;

/**
 * `${…}` and `$NAME`: `${#s}`, `${s:1:3}`, `${s%pat}` and `${s#pat}`,
 * `${s/a/b}`, `${s^^}`, `${s:-word}` and friends, arrays (`${a[1]}`,
 * `${a[@]}`, `${#a[@]}`, `${!a[@]}`), `$@`, `$#`, `$1`.
 */
function* parameter(opts: LineOptions, expression: string): Generator<number, string | string[], void> {
  const session = opts.session;
  const bad = () => new ExpansionError(`\${${expression}}: bad substitution`);
  // `${!}` is `$!`, the last background job's process id, which no job here has.
  if (expression === '!') return '';
  const m = PARAMETER.exec(expression);
  if (!m || (m[1] && m[2]) || m[3] === '!') throw bad();
  const [, indirect, length, name, subscript, operation] = m as unknown as [string, string, string, string, string | undefined, string];
  const all = subscript === '@' || subscript === '*' || ((name === '@' || name === '*') && subscript === undefined);
  if (indirect) {
    if (subscript !== '@' && subscript !== '*') throw bad();
    const array = session.arrays?.get(name);
    return array ? arrayEntries(array).map(([key]) => key) : session.vars.has(name) ? ['0'] : [];
  }
  const list = (): string[] => (name === '@' || name === '*' ? (session.positional ?? []).slice(1) : arrayValues(session, name));
  // The subscript is evaluated once: `${a[i++]}` counts once.
  const key = subscript !== undefined && !all ? yield* subscriptKey(opts, name, subscript) : undefined;
  const value = () => (key !== undefined ? (arrayElement(session, name, key) ?? '') : scalar(session, name, opts.shell));
  if (length) {
    if (operation) throw bad();
    return String(all ? list().length : [...value()].length);
  }
  const isSet = all ? list().length > 0 : key !== undefined ? arrayElement(session, name, key) !== undefined : isVariableSet(session, name, opts.shell);
  const op = /^(:?[-=+?]|%%?|##?|\/[/#%]?|\^\^?|,,?|:)?(.*)$/s.exec(operation)!;
  const [, operator, argument] = op as unknown as [string, string | undefined, string];
  if (operator === undefined && argument !== '') throw bad();
  if (!operator && session.options?.has('nounset') && !isSet && name !== '@' && name !== '*') throw new ExpansionError(`${name}: unbound variable`, 127);
  const values = all ? list() : [value()];
  const result = (mapped: string[]): string | string[] => (all && subscript !== '*' && name !== '*' ? mapped : mapped.join(' '));
  const word = () => expandString(opts, expansionWord(argument));
  switch (operator) {
    case undefined:
      return result(values);
    case ':-':
    case '-':
      return (operator === ':-' ? values.join(' ') !== '' : isSet) ? result(values) : yield* word();
    case ':=':
    case '=': {
      if (operator === ':=' ? values.join(' ') !== '' : isSet) return result(values);
      const value = yield* word();
      setVariable(session, name, value);
      return value;
    }
    case ':+':
    case '+':
      return (operator === ':+' ? values.join(' ') !== '' : isSet) ? yield* word() : '';
    case ':?':
    case '?':
      if (operator === ':?' ? values.join(' ') !== '' : isSet) return result(values);
      throw new ExpansionError(`${name}: ${(yield* word()) || 'parameter null or not set'}`, 127);
    case '%':
    case '%%':
    case '#':
    case '##': {
      const pattern = yield* expandPattern(opts, patternWord(argument));
      const longest = operator.length === 2;
      const regex = operator[0] === '%' ? new RegExp(`${longest ? '' : '^(.*)'}(${pattern})$`, 's') : new RegExp(`^(${pattern})`, 's');
      return result(
        values.map((value) => {
          if (operator[0] === '#') {
            const anchored = longest ? regex : new RegExp(`^(${pattern.replace(/\.\*/g, '.*?')})`, 's');
            const match = anchored.exec(value);
            return match ? value.slice(match[1]!.length) : value;
          }
          // The shortest suffix: the longest prefix before it; the longest suffix: try every start.
          if (!longest) {
            const match = regex.exec(value);
            return match ? match[1]! : value;
          }
          for (let start = 0; start <= value.length; start++) if (new RegExp(`^(?:${pattern})$`, 's').test(value.slice(start))) return value.slice(0, start);
          return value;
        }),
      );
    }
    case '/':
    case '//':
    case '/#':
    case '/%': {
      const slash = /^((?:\\.|[^/\\])*)(?:\/(.*))?$/s.exec(argument)!;
      const pattern = yield* expandPattern(opts, patternWord(slash[1]!));
      const replacement = yield* expandString(opts, expansionWord(slash[2] ?? ''));
      const anchored = operator === '/#' ? `^(?:${pattern})` : operator === '/%' ? `(?:${pattern})$` : pattern;
      if (pattern === '') return result(values);
      const regex = new RegExp(anchored, operator === '//' ? 'gs' : 's');
      return result(values.map((value) => value.replace(regex, () => replacement)));
    }
    case '^':
    case '^^':
    case ',':
    case ',,': {
      const change = (text: string) => (operator[0] === '^' ? text.toUpperCase() : text.toLowerCase());
      return result(values.map((value) => (operator.length === 2 ? change(value) : change(value.slice(0, 1)) + value.slice(1))));
    }
    default: {
      // `${s:OFFSET}` and `${s:OFFSET:LENGTH}`: arithmetic, negative counting from the end.
      const [offsetText, lengthText] = splitOffset(argument);
      const offset = Number(yield* arithmetic(opts, offsetText));
      const count = lengthText === undefined ? null : Number(yield* arithmetic(opts, lengthText));
      const slice = <T>(items: T[] | string, from: number): T[] | string => {
        const start = from < 0 ? Math.max(0, items.length + from) : from;
        if (count === null) return items.slice(start);
        const end = count < 0 ? items.length + count : start + count;
        return end < start ? items.slice(0, 0) : items.slice(start, end);
      };
      if (all) return result(slice(list(), name === '@' || name === '*' ? offset - 1 : offset) as string[]);
      return slice(values[0]!, offset) as string;
    }
  }
}

/** `OFFSET:LENGTH` at its top-level colon (`?:` of a conditional expression aside). */
function splitOffset(argument: string): [string, string | undefined] {
  let depth = 0;
  for (let i = 0; i < argument.length; i++) {
    const c = argument[i];
    if (c === '(' || c === '?') depth++;
    else if (c === ')' || (c === ':' && depth > 0)) depth--;
    else if (c === ':' && depth === 0) return [argument.slice(0, i), argument.slice(i + 1)];
  }
  return [argument, undefined];
}

/** A pattern in `${…}`: quotes in it make their text literal. */
function patternWord(text: string): Word {
  const word: Word = [];
  for (const m of text.matchAll(/'([^']*)'|"((?:\\.|[^"\\])*)"|((?:\\.|[^'"])+)/gs)) {
    if (m[1] !== undefined) word.push({ text: m[1], quoted: true });
    else if (m[2] !== undefined) word.push(...expansionWord(m[2]));
    else word.push(...expansionWord(m[3]!.replace(/\\/g, '\\\\')).map((part) => ('text' in part ? { ...part, quoted: false } : part)));
  }
  return word;
}

/** The subscript of `a[SUB]`: an associative array's key as text, an indexed array's as arithmetic. */
function* subscriptKey(opts: LineOptions, name: string, subscript: string): Generator<number, string, void> {
  const array = opts.session.arrays?.get(name);
  if (array?.associative) return yield* expandString(opts, expansionWord(subscript));
  const index = Number(yield* arithmetic(opts, subscript));
  if (index >= 0) return String(index);
  // Negative: from the end; a scalar is an array of one.
  const indices = array ? [...array.items.keys()].map(Number) : opts.session.vars.has(name) ? [0] : [];
  const key = (indices.length ? Math.max(...indices) + 1 : 0) + index;
  if (key < 0) errorsOf(opts).write(`${where(opts)}: ${name}: bad array subscript\n`);
  return String(key);
}


function arrayElement(session: ShellSession, name: string, key: string): string | undefined {
  const array = session.arrays?.get(name);
  if (array) return array.items.get(key);
  return key === '0' ? session.vars.get(name) : undefined;
}

/** An array's values in subscript order; a scalar is an array of one. */
function arrayValues(session: ShellSession, name: string): string[] {
  const array = session.arrays?.get(name);
  if (!array) return session.vars.has(name) ? [session.vars.get(name)!] : [];
  return arrayEntries(array).map(([, value]) => value);
}

/**
 * An array's elements in the order bash lists them: an indexed array's by
 * index; an associative array's as its hash table holds them, by bucket of
 * the key's FNV-1 hash among 1024, the newest first within a bucket.
 */
function arrayEntries(array: ShellArray): Array<[string, string]> {
  const entries = [...array.items];
  if (!array.associative) return entries;
  const bucket = (key: string) => {
    let hash = 2166136261;
    for (const byte of new TextEncoder().encode(key)) hash = (Math.imul(hash, 16777619) ^ byte) >>> 0;
    return hash & 1023;
  };
  return entries.reverse().sort(([a], [b]) => bucket(a) - bucket(b));
}

function isVariableSet(session: ShellSession, name: string, shell: ShellName = 'bash'): boolean {
  if (name === '?' || name === '#' || name === '0') return true;
  if (/^[0-9]+$/.test(name)) return Number(name) < (session.positional?.length ?? 1);
  return session.vars.has(name) || session.arrays?.get(name)?.items.has('0') === true || ENVIRONMENT[name] !== undefined || (shell === 'bash' && (SHELL_VARIABLES[name] !== undefined || name === 'HOSTNAME'));
}

/** What a fresh login shell on the lab's machines has in its environment. */
const ENVIRONMENT: Record<string, string> = { HOME: '/root', USER: 'root', SHELL: '/bin/bash', PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' };
/** What bash itself sets (not exported): who runs it (root), and which bash it is. */
const SHELL_VARIABLES: Record<string, string> = { UID: '0', EUID: '0', BASH_VERSION: '5.2.15(1)-release', OPTIND: '1' };

/** A variable's value as `$NAME` gives it: an array's element 0, a positional parameter, a special one; dash sets fewer. */
function scalar(session: ShellSession, name: string, shell: ShellName = 'bash'): string {
  if (name === '?') return String(session.lastStatus);
  if (name === '#') return String(Math.max(0, (session.positional?.length ?? 1) - 1));
  if (/^[0-9]+$/.test(name)) return session.positional?.[Number(name)] ?? (name === '0' ? 'bash' : '');
  const value = session.vars.get(name) ?? session.arrays?.get(name)?.items.get('0');
  if (value !== undefined) return value;
  if (name === 'PWD') return session.cwd;
  if (ENVIRONMENT[name] !== undefined) return ENVIRONMENT[name];
  // Both shells start with IFS as space, tab and newline.
  if (name === 'IFS') return ' \t\n';
  if (shell === 'sh') return name === 'OPTIND' ? '1' : '';
  if (name === 'HOSTNAME') return session.host.hostname;
  return SHELL_VARIABLES[name] ?? '';
}

/** `NAME=VALUE`: an array's element 0 when NAME is an array; a readonly one cannot change. */
function setVariable(session: ShellSession, name: string, value: string): void {
  if (session.readonly?.has(name)) throw new ExpansionError(`${name}: readonly variable`);
  const array = session.arrays?.get(name);
  if (array) array.items.set('0', value);
  else session.vars.set(name, value);
}

function copyArrays(arrays: ShellSession['arrays']): ShellSession['arrays'] {
  return arrays && new Map([...arrays].map(([name, array]): [string, ShellArray] => [name, { associative: array.associative, items: new Map(array.items) }]));
}

/** The shell state a subshell (`( … )`, `$(…)`, a pipeline's compound) starts with: a copy, so its changes stay in it. */
function subshellSession(session: ShellSession, nsStack = [...session.nsStack]): ShellSession {
  return {
    ...session,
    vars: new Map(session.vars),
    nsStack,
    arrays: copyArrays(session.arrays),
    exported: session.exported && new Set(session.exported),
    readonly: session.readonly && new Set(session.readonly),
    functions: session.functions && new Map(session.functions),
    options: session.options && new Set(session.options),
    locals: session.locals?.map((frame) => new Map(frame)),
    exitTrap: undefined,
  };
}

class ExitShell {
  constructor(readonly status: number) {}
}

/** `break N` / `continue N`: unwinds `levels` enclosing loops. */
class LoopControl {
  constructor(
    readonly kind: 'break' | 'continue',
    public levels: number,
  ) {}
}

/** `return N` from a function. */
class FunctionReturn {
  constructor(readonly status: number) {}
}

/** Runs one line; yields the simulated times it waits for; returns the exit status. */
export function* runLine(opts: LineOptions, line: string): Proc {
  return yield* runShell(opts, line.split('\n'));
}

/** A shell running a script to its end, where it runs its `trap … EXIT`; an interactive terminal's shell does not end here. */
function* runShell(opts: LineOptions, lines: string[]): Proc {
  const status = yield* runScript(opts, lines);
  const trap = opts.session.exitTrap;
  if (trap !== undefined && !opts.interactive) {
    opts.session.exitTrap = undefined;
    yield* runScript(opts, [trap]);
    opts.session.lastStatus = status;
  }
  return status;
}

/**
 * Runs a script's lines: each complete command (which may span lines) is
 * parsed and run in turn, until one runs `exit` or a syntax error ends the
 * script. Returns the last status.
 */
function* runScript(opts: LineOptions, lines: string[]): Proc {
  let status = 0;
  const timeless = new TimelessIterations(opts.world);
  try {
    for (let start = 0; start < lines.length; ) {
      const { items, end } = parseCommand(opts, lines, start);
      if (items === null) {
        status = 2;
        break;
      }
      if (!opts.noExec) status = yield* runList({ ...opts, lineNo: (opts.lineNo ?? 1) + start }, items);
      opts.session.lastStatus = status;
      start = end;
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

/** The next complete command of a script from line `start`: its items and the line after it, or null items once its syntax error is reported. */
function parseCommand(opts: LineOptions, lines: string[], start: number): { items: ListItem[] | null; end: number } {
  for (let end = start + 1; ; end++) {
    const text = lines.slice(start, end).join('\n');
    try {
      return { items: parseLine(text, opts.shell ?? 'bash', end >= lines.length), end };
    } catch (e) {
      if (!(e instanceof ShellSyntaxError)) throw e;
      if (e.incomplete && end < lines.length) continue;
      reportSyntaxError(opts, e, lines.slice(start, end), (opts.lineNo ?? 1) + start);
      return { items: null, end };
    }
  }
}

/**
 * A syntax error as the shell words it, at its token's line, or else the
 * last line (bash notices running out of input on the line after it), with
 * the line shown for an unexpected token.
 */
function reportSyntaxError(opts: LineOptions, e: ShellSyntaxError, lines: string[], firstLine: number): void {
  // A script read from a file or standard input ends with a newline, after which dash notices the end too.
  const endOfInput = e.bashMessage.endsWith('unexpected end of file') && (opts.shell !== 'sh' || opts.readsFrom !== undefined);
  const at = firstLine + (e.line ?? (endOfInput ? lines.length + 1 : lines.length)) - 1;
  const name = opts.session.positional?.[0] ?? opts.shell ?? 'bash';
  if (opts.shell === 'sh') {
    errorsOf(opts).write(`${name}: ${at}: ${e.dashMessage}\n`);
    return;
  }
  const prefix = opts.readsFrom ? `${name}: line ${at}` : `${name}: -c: line ${at}`;
  errorsOf(opts).write(`${prefix}: ${e.bashMessage}\n`);
  if (e.bashMessage.startsWith('syntax error near')) errorsOf(opts).write(`${prefix}: \`${lines[(e.line ?? 1) - 1] ?? ''}'\n`);
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
          // Before `&&`/`||` and after `!`, a failure is a condition's: `set -e` lets it pass.
          const tested = opts.errexitIgnored || item.then === '&&' || item.then === '||' || item.pipeline.negate;
          status = yield* withBackground(opts, runPipeline(tested ? { ...opts, errexitIgnored: true } : opts, item.pipeline.commands, item.pipeline.negate), background);
          if (status !== 0 && !tested && session.options?.has('errexit')) throw new ExitShell(status);
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
 * In a pipeline of several, each command runs in a subshell, as in bash: its
 * variables, `cd` and `exit` stay there. PIPESTATUS gets every status.
 */
function* runPipeline(opts: LineOptions, commands: Command[], negate: boolean): Proc {
  const run = (command: Command, input: StdinBuffer, sink: Sink) => (commands.length === 1 ? runCommand(opts, command, input, sink) : runInSubshell(opts, command, input, sink));
  let stdin: StdinBuffer = opts.input ?? { text: '' };
  const statuses: number[] = [];
  for (let i = 0; i < commands.length; i++) {
    const sinkFor = (n: number): Sink => (n === commands.length - 1 ? { kind: 'stdout' } : { kind: 'pipe' });
    const reader = commands[i + 1];
    if (reader && streamsStdin(opts, reader)) {
      const live: StdinBuffer = { text: '', pending: true };
      const writer = run(commands[i]!, stdin, { kind: 'pipe' });
      const result = yield* runAlongside(opts, writer, run(reader, live, sinkFor(i + 1)), (written) => {
        live.text = written.piped;
        live.pending = false;
        statuses.push(written.status);
      });
      i++;
      stdin = { text: result.piped };
      statuses.push(result.status);
      continue;
    }
    const result = yield* run(commands[i]!, stdin, sinkFor(i));
    stdin = { text: result.piped };
    statuses.push(result.status);
  }
  const session = opts.session;
  (session.arrays ??= new Map()).set('PIPESTATUS', { associative: false, items: new Map(statuses.map((s, i): [string, string] => [String(i), String(s)])) });
  // `set -o pipefail`: the last command that failed decides.
  const status = session.options?.has('pipefail') ? (statuses.filter((s) => s !== 0).pop() ?? 0) : statuses[statuses.length - 1]!;
  return negate ? (status === 0 ? 1 : 0) : status;
}

/** A command of a pipeline, in its own subshell; what a program in it drew stays visible after it. */
function* runInSubshell(opts: LineOptions, command: Command, input: StdinBuffer, sink: Sink): Generator<number, CommandResult, void> {
  const session = subshellSession(opts.session);
  try {
    return yield* runCommand({ ...opts, session }, command, input, sink);
  } catch (e) {
    if (!(e instanceof ExitShell)) throw e;
    return { status: e.status, piped: '' };
  } finally {
    if (session.lastTrace) opts.session.lastTrace = session.lastTrace;
    if (session.lastPath) opts.session.lastPath = session.lastPath;
  }
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
    if (r.kind === 'string' || r.kind === 'heredoc') {
      // A here-string gains a newline; a here-document has its own.
      stdin.current = { text: (yield* expandString(opts, r.text)) + (r.kind === 'string' ? '\n' : '') };
      continue;
    }
    const [source] = r.path;
    if (r.fd === 0 && r.path.length === 1 && 'process' in source!) {
      stdin.current = { text: yield* captureOutput(opts, source.process) };
      continue;
    }
    const path = (yield* expandWord(opts, tilde(opts.session, r.path))).join(' ');
    const ctx = makeContext(opts, '', { write: () => {} }, { write: () => {} });
    if (r.fd === 0) {
      const read = readFile(ctx, path);
      if (!read.ok) return `${where(opts)}: ${path}: ${read.error}\n`;
      stdin.current = { text: read.text };
    } else if (path === '/dev/null') sinks[r.fd] = { kind: 'null' };
    else {
      // Redirection targets are opened before the program runs: a file is created or truncated then.
      if (isKernelFile(path)) {
        const probe = readFile(ctx, path);
        if (!probe.ok) return `${where(opts)}: ${path}: ${probe.error}\n`;
      } else writeFile(ctx, path, '', r.append);
      sinks[r.fd] = { kind: 'file', path };
    }
  }
  return null;
}

function* runCommand(opts: LineOptions, command: Command, input: StdinBuffer, stdoutSink: Sink): Generator<number, CommandResult, void> {
  try {
    const sinks: { 1: Sink; 2: Sink } = { 1: stdoutSink, 2: { kind: 'stderr' } };
    const stdin = { current: input };
    const redirectError = yield* applyRedirects(opts, command.redirects, sinks, stdin);
    if (redirectError) {
      errorsOf(opts).write(redirectError);
      return { status: 1, piped: '' };
    }
    if (command.kind === 'function') {
      opts.session.functions = new Map(opts.session.functions).set(command.name, command);
      return { status: 0, piped: '' };
    }
    if (command.kind !== 'simple') return yield* runCompound(opts, command, stdin.current, sinks);
    return yield* runSimple(opts, command, stdin.current, sinks);
  } catch (e) {
    if (!(e instanceof ExpansionError)) throw e;
    errorsOf(opts).write(`${where(opts)}: ${e.message}\n`);
    throw new ExitShell(e.status);
  }
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

/**
 * Runs a loop: `next` runs the loop's test (and anything before each pass)
 * and says whether to go on; the body may `break` or `continue`. Returns the
 * body's last status.
 */
function* runLoop(opts: LineOptions, body: ListItem[], errors: Output, next: () => Generator<number, boolean, void>, step?: () => Generator<number, void, void>): Generator<number, number, void> {
  const inner: LineOptions = { ...opts, loopDepth: (opts.loopDepth ?? 0) + 1 };
  const timeless = new TimelessIterations(opts.world);
  let status = 0;
  while (yield* next()) {
    try {
      status = yield* runList(inner, body);
    } catch (e) {
      if (!(e instanceof LoopControl)) throw e;
      status = 0;
      // An outer loop's turn: this one ends, and the outer one sees what is left.
      if (e.levels > 1) {
        e.levels--;
        throw e;
      }
      if (e.kind === 'break') break;
    }
    if (step) yield* step();
    if (opts.interrupted()) break;
    if (!timeless.mayContinue(errors, 'loop')) return 1;
  }
  return status;
}

/** Compound commands: their own lists, with output sent where the redirections say. */
function* runCompound(opts: LineOptions, command: Exclude<Command, SimpleCommand | FunctionDef>, stdin: StdinBuffer, sinks: { 1: Sink; 2: Sink }): Generator<number, CommandResult, void> {
  const streams = new ProcessStreams(opts, sinks, true);
  const inner: LineOptions = { ...opts, terminal: streams.stdout, errors: streams.stderr, input: stdin };
  const condition: LineOptions = { ...inner, errexitIgnored: true };
  const session = opts.session;
  let status = 0;
  try {
    switch (command.kind) {
      case 'subshell':
        inner.session = subshellSession(session);
        try {
          status = yield* runList(inner, command.body);
        } catch (e) {
          if (!(e instanceof ExitShell)) throw e;
          status = e.status;
        }
        break;
      case 'group':
        status = yield* runList(inner, command.body);
        break;
      case 'while':
        status = yield* runLoop(inner, command.body, streams.stderr, function* () {
          return ((yield* runList(condition, command.condition)) === 0) !== command.until;
        });
        break;
      case 'if': {
        const branch = yield* chooseBranch(inner, command);
        status = branch ? yield* runList(inner, branch) : 0;
        break;
      }
      case 'for': {
        const values = command.words === null ? (session.positional ?? []).slice(1) : yield* expandWords(opts, command.words);
        let i = 0;
        status = yield* runLoop(inner, command.body, streams.stderr, function* () {
          if (i >= values.length) return false;
          const value = values[i++]!;
          trace(opts, () => `for ${command.variable} in ${command.words === null ? '"$@"' : command.written}`);
          setVariable(session, command.variable, value);
          return true;
        });
        break;
      }
      case 'arith-for': {
        const evaluate = (part: string) => arithmeticCommand(inner, '((', part);
        if (command.init) yield* evaluate(command.init);
        status = yield* runLoop(
          inner,
          command.body,
          streams.stderr,
          function* () {
            return !command.test || ((yield* evaluate(command.test)) ?? 0n) !== 0n;
          },
          function* () {
            if (command.step) yield* evaluate(command.step);
          },
        );
        break;
      }
      case 'case':
        status = yield* runCase(inner, command);
        break;
      case 'arith': {
        trace(opts, () => `(( ${command.expression} ))`);
        const value = yield* arithmeticCommand(inner, '((', command.expression);
        status = value === null || value === 0n ? 1 : 0;
        break;
      }
      case 'cond':
        if (session.options?.has('xtrace')) {
          const shown = yield* conditionText(inner, command.expr);
          trace(opts, () => `[[ ${shown} ]]`);
        }
        status = yield* evaluateCondition(inner, command.expr);
        break;
    }
  } finally {
    const ctx = makeContext(opts, stdin.text, streams.stdout, streams.stderr);
    const writeError = streams.close(ctx);
    if (writeError) errorsOf(opts).write(`${where(opts)}: ${writeError}\n`);
  }
  return { status, piped: streams.piped };
}

/** The list an `if` runs: the body of the first branch whose condition succeeds, else `else`'s. */
function* chooseBranch(opts: LineOptions, command: IfClause): Generator<number, ListItem[] | null, void> {
  for (const { condition, body } of command.branches) {
    if ((yield* runList({ ...opts, errexitIgnored: true }, condition)) === 0) return body;
  }
  return command.otherwise;
}

/** `case WORD in PATTERN|PATTERN) LIST;; … esac`: the first item with a pattern matching WORD. */
function* runCase(opts: LineOptions, command: CaseClause): Generator<number, number, void> {
  const subject = yield* expandString(opts, command.word);
  trace(opts, () => `case ${xtraceQuote(subject)} in`);
  for (const { patterns, body } of command.items) {
    for (const pattern of patterns) {
      if (new RegExp(`^(?:${yield* expandPattern(opts, pattern)})$`, 's').test(subject)) return yield* runList(opts, body);
    }
  }
  return 0;
}

/** `[[ EXPR ]]`: 0 when true, 1 when false, 2 for a bad regular expression. */
function* evaluateCondition(opts: LineOptions, expr: CondExpr): Generator<number, number, void> {
  switch (expr.op) {
    case '&&':
    case '||': {
      const left = yield* evaluateCondition(opts, expr.left);
      if ((left === 0) === (expr.op === '||')) return left;
      return yield* evaluateCondition(opts, expr.right);
    }
    case '!': {
      const value = yield* evaluateCondition(opts, expr.expr);
      return value === 2 ? 2 : 1 - value;
    }
    case 'word':
      return (yield* expandString(opts, expr.word)) !== '' ? 0 : 1;
    case 'unary': {
      const ctx = makeContext(opts, '', errorsOf(opts), errorsOf(opts));
      return unaryTest(ctx, expr.test, yield* expandString(opts, expr.arg)) ? 0 : 1;
    }
    case 'binary': {
      const left = yield* expandString(opts, expr.left);
      if (expr.test === '==' || expr.test === '=' || expr.test === '!=') {
        const matches = new RegExp(`^(?:${yield* expandPattern(opts, expr.right)})$`, 's').test(left);
        return matches === (expr.test !== '!=') ? 0 : 1;
      }
      if (expr.test === '=~') return yield* regexMatch(opts, left, expr.right);
      if (expr.test.startsWith('-') && ['-eq', '-ne', '-lt', '-le', '-gt', '-ge'].includes(expr.test)) {
        // `[[ ]]` evaluates its integer operands as arithmetic.
        const l = yield* arithmetic(opts, yield* expandString(opts, expr.left));
        const r = yield* arithmetic(opts, yield* expandString(opts, expr.right));
        return binaryTest(String(l), expr.test, String(r)) ? 0 : 1;
      }
      return binaryTest(left, expr.test, yield* expandString(opts, expr.right)) ? 0 : 1;
    }
  }
}

/** A `[[ ]]` expression as `set -x` shows it: its words expanded. */
function* conditionText(opts: LineOptions, expr: CondExpr): Generator<number, string, void> {
  switch (expr.op) {
    case '&&':
    case '||':
      return `${yield* conditionText(opts, expr.left)} ${expr.op} ${yield* conditionText(opts, expr.right)}`;
    case '!':
      return `! ${yield* conditionText(opts, expr.expr)}`;
    case 'word':
      return yield* expandString(opts, expr.word);
    case 'unary':
      return `${expr.test} ${yield* expandString(opts, expr.arg)}`;
    case 'binary':
      return `${yield* expandString(opts, expr.left)} ${expr.test} ${yield* expandString(opts, expr.right)}`;
  }
}

/** `[[ S =~ RE ]]`: quoted parts of RE match themselves; BASH_REMATCH gets the match and its groups. */
function* regexMatch(opts: LineOptions, subject: string, word: Word): Generator<number, number, void> {
  let source = '';
  for (const part of word) {
    const value = yield* expandPart(opts, part);
    const text = typeof value === 'string' ? value : value.join(' ');
    source += 'quoted' in part && part.quoted ? escapeRegex(text) : text;
  }
  let regex: RegExp;
  try {
    regex = new RegExp(source);
  } catch {
    return 2;
  }
  const match = regex.exec(subject);
  const arrays = (opts.session.arrays ??= new Map());
  arrays.set('BASH_REMATCH', { associative: false, items: new Map((match ?? []).map((group, i): [string, string] => [String(i), group ?? ''])) });
  return match ? 0 : 1;
}

/** `set -x`: the command as bash shows it, one `+` per level of `$(…)`, on the shell's standard error. */
function trace(opts: LineOptions, text: () => string): void {
  if (!opts.session.options?.has('xtrace')) return;
  errorsOf(opts).write(`${'+'.repeat((opts.substitutionDepth ?? 0) + 1)} ${text()}\n`);
}

/** A word as `set -x` shows it: single-quoted when it holds what the shell would read specially. */
function xtraceQuote(word: string): string {
  if (word !== '' && !/[\s'"\\|&;()<>!{}*[?\]^$`]/.test(word) && !/^[~#]/.test(word)) return word;
  return `'${word.replace(/'/g, "'\\''")}'`;
}

/** Assigns `NAME=VALUE`, `NAME+=VALUE`, `NAME[SUB]=VALUE` and `NAME=(…)`; returns the text `set -x` shows. */
function* assign(opts: LineOptions, assignment: Assignment): Generator<number, string, void> {
  const session = opts.session;
  const { name, index, append } = assignment;
  if (session.readonly?.has(name)) throw new ExpansionError(`${name}: readonly variable`);
  if (assignment.array) {
    const words = assignment.array;
    const existing = session.arrays?.get(name);
    const array: ShellArray = append && existing ? existing : { associative: existing?.associative ?? false, items: new Map() };
    if (append && !existing && session.vars.has(name)) array.items.set('0', session.vars.get(name)!);
    session.vars.delete(name);
    (session.arrays ??= new Map()).set(name, array);
    const shown: string[] = [];
    let next = array.associative ? 0 : Math.max(-1, ...[...array.items.keys()].map(Number)) + 1;
    for (const word of words) {
      const keyed = word[0] && 'text' in word[0] && !word[0].quoted ? /^\[([^\]]*)\]=/.exec(word[0].text) : null;
      if (keyed) {
        const key = array.associative ? keyed[1]! : String(yield* arithmetic(opts, keyed[1]!));
        array.items.set(key, yield* expandString(opts, stripPrefix(word, keyed[0].length)));
        if (!array.associative) next = Number(key) + 1;
        continue;
      }
      for (const value of yield* expandWords(opts, [word])) {
        array.items.set(String(next++), value);
        shown.push(value);
      }
    }
    if (!array.associative) array.items = new Map([...array.items].sort(([a], [b]) => Number(a) - Number(b)));
    return `${name}${append ? '+' : ''}=(${shown.map(xtraceQuote).join(' ')})`;
  }
  const value = yield* expandString(opts, tilde(session, assignment.value));
  if (index !== undefined) {
    const existing = session.arrays?.get(name);
    const array: ShellArray = existing ?? { associative: false, items: new Map(session.vars.has(name) ? [['0', session.vars.get(name)!]] : []) };
    session.vars.delete(name);
    (session.arrays ??= new Map()).set(name, array);
    const key = yield* subscriptKey(opts, name, index);
    array.items.set(key, append ? (array.items.get(key) ?? '') + value : value);
    if (!array.associative) array.items = new Map([...array.items].sort(([a], [b]) => Number(a) - Number(b)));
    return `${name}[${key}]=${xtraceQuote(value)}`;
  }
  setVariable(session, name, append ? scalar(session, name) + value : value);
  return `${name}${append ? '+' : ''}=${xtraceQuote(value)}`;
}

function* runSimple(opts: LineOptions, command: SimpleCommand, stdin: StdinBuffer, sinks: { 1: Sink; 2: Sink }): Generator<number, CommandResult, void> {
  opts = { ...opts, errorLine: (opts.lineNo ?? 1) + command.line - 1 };
  const session = opts.session;
  const argv = yield* expandWords(opts, command.argv);
  if (argv.length === 0) {
    for (const assignment of command.assignments) {
      const shown = yield* assign(opts, assignment);
      trace(opts, () => shown);
    }
    // `x=$(cmd)` ends with cmd's status.
    const status = command.argv.length === 0 && command.assignments.some((a) => a.value.some((p) => 'substitution' in p)) ? session.lastStatus : 0;
    return { status, piped: '' };
  }
  // NAME=VALUE before a command: set, exported, for that command only.
  const hidden = new Map<string, string | undefined>();
  const wasExported = new Set(session.exported ?? []);
  for (const assignment of command.assignments) {
    if (session.readonly?.has(assignment.name)) {
      // The command runs all the same.
      errorsOf(opts).write(`${where(opts)}: ${assignment.name}: readonly variable\n`);
      continue;
    }
    hidden.set(assignment.name, hidden.has(assignment.name) ? hidden.get(assignment.name) : session.vars.get(assignment.name));
    yield* assign(opts, assignment);
    (session.exported ??= new Set()).add(assignment.name);
  }
  trace(opts, () => [...command.assignments.map((a) => `${a.name}=${xtraceQuote(session.vars.get(a.name) ?? '')}`), ...argv.map(xtraceQuote)].join(' '));
  try {
    return yield* runArgv(opts, argv, stdin, sinks);
  } finally {
    for (const [name, value] of hidden) {
      if (value === undefined) session.vars.delete(name);
      else session.vars.set(name, value);
    }
    if (hidden.size > 0) session.exported = wasExported;
  }
}

/** Runs expanded words as a command: a function, a builtin, a child shell or a program. */
function* runArgv(opts: LineOptions, argv: string[], stdin: StdinBuffer, sinks: { 1: Sink; 2: Sink }): Generator<number, CommandResult, void> {
  const session = opts.session;
  // `exec CMD`: CMD replaces the shell, which ends with it.
  const replacesShell = argv[0] === 'exec' && argv.length > 1;
  if (replacesShell) argv.shift();
  // `command NAME ARGS`: NAME as a builtin or program, never a function.
  const bypass = argv[0] === 'command' && argv.length > 1 && !argv[1]!.startsWith('-');
  if (bypass) argv.shift();
  const name = argv[0]!;
  const fn = bypass ? undefined : session.functions?.get(name);
  if (fn) return yield* callFunction(opts, fn, argv, stdin, sinks);
  const builtin = opts.shell === 'sh' ? (Object.hasOwn(DASH_BUILTINS, name) ? DASH_BUILTINS[name] : undefined) : Object.hasOwn(BUILTINS, name) ? BUILTINS[name] : undefined;
  const program = builtin ? undefined : resolveProgram(opts, name);
  // A child shell (also one running a script by its path) writes as its commands do, as they run.
  const childShell = !builtin && shellName(name) !== null;
  const streams = new ProcessStreams(opts, sinks, builtin !== undefined || childShell || (program?.flushesStdout ?? name.includes('/')));
  const ctx = makeContext(opts, stdin, streams.stdout, streams.stderr);
  let status: number;
  try {
    if (builtin) status = builtin(ctx, argv, stdin, opts);
    else if (childShell) status = yield* runChildShell(opts, currentNs(session), argv, stdin, streams.stdout, streams.stderr);
    else if (name === 'env') status = yield* runEnv(opts, argv, stdin, streams.stdout, streams.stderr);
    else if (name === '.' || (name === 'source' && opts.shell !== 'sh')) status = yield* source(opts, ctx, argv);
    // `eval ARGS`: the arguments, joined, read again as commands of this shell.
    else if (name === 'eval') status = tooDeep(opts, 'eval') ? 1 : yield* runScript({ ...opts, terminal: ctx.stdout, errors: ctx.stderr, nesting: (opts.nesting ?? 0) + 1 }, argv.slice(1).join(' ').split('\n'));
    else if (!program && name.includes('/')) {
      const script = scriptInterpreter(ctx, name);
      if (typeof script === 'string') status = yield* runChildShell(opts, currentNs(session), [script, ...argv], stdin, streams.stdout, streams.stderr);
      else {
        streams.stderr.write(`${where(opts)}: ${name}: ${opts.shell === 'sh' && script.status === 127 ? 'not found' : script.error}\n`);
        status = script.status;
      }
    } else if (!program) {
      streams.stderr.write(`${where(opts)}: ${name}: ${opts.shell === 'sh' ? 'not found' : 'command not found'}\n`);
      status = 127;
    } else status = yield* runProgram(program, ctx, argv);
  } finally {
    const writeError = streams.close(ctx);
    if (writeError) {
      errorsOf(opts).write(`${where(opts)}: ${name}: ${writeError}\n`);
      status = 1;
    }
  }
  if (replacesShell) throw new ExitShell(status);
  return { status, piped: streams.piped };
}

/**
 * Functions and sourced files nest at most this deep: bash lets them go on
 * until its stack runs out, which would stop the simulation instead. The
 * message is bash's when FUNCNEST is set.
 */
const MAX_NESTING = 100;

function tooDeep(opts: LineOptions, name: string): boolean {
  if ((opts.nesting ?? 0) < MAX_NESTING) return false;
  errorsOf(opts).write(`${where(opts)}: ${name}: maximum function nesting level exceeded (${MAX_NESTING})\n`);
  return true;
}

/** `source FILE [ARGS…]` and `. FILE`: the file's commands in this shell; `return` ends them. */
function* source(opts: LineOptions, ctx: ProcContext, argv: string[]): Proc {
  const session = opts.session;
  const file = argv[1];
  if (file === undefined) {
    builtinError(ctx, opts, `${argv[0]}: filename argument required\n${argv[0]}: usage: ${argv[0]} filename [arguments]`);
    return 2;
  }
  const read = readFile(ctx, file);
  if (!read.ok) {
    builtinError(ctx, opts, `${file}: ${read.error}`);
    return 1;
  }
  if (tooDeep(opts, file)) return 1;
  const positional = session.positional;
  if (argv.length > 2) session.positional = [positional?.[0] ?? 'bash', ...argv.slice(2)];
  try {
    const lines = read.text.replace(/\n$/, '').split('\n');
    return yield* runScript({ ...opts, terminal: ctx.stdout, errors: ctx.stderr, lineNo: 1, readsFrom: 'file', returnable: true, nesting: (opts.nesting ?? 0) + 1 }, lines);
  } catch (e) {
    if (!(e instanceof FunctionReturn)) throw e;
    return e.status;
  } finally {
    if (argv.length > 2) session.positional = positional;
  }
}

/** Calls a function: its arguments become `$1`…, its `local` variables are restored when it returns. */
function* callFunction(opts: LineOptions, fn: FunctionDef, argv: string[], stdin: StdinBuffer, sinks: { 1: Sink; 2: Sink }): Generator<number, CommandResult, void> {
  const session = opts.session;
  if (tooDeep(opts, fn.name)) return { status: 1, piped: '' };
  const streams = new ProcessStreams(opts, sinks, true);
  const inner: LineOptions = { ...opts, terminal: streams.stdout, errors: streams.stderr, input: stdin, loopDepth: 0, returnable: true, nesting: (opts.nesting ?? 0) + 1 };
  const positional = session.positional;
  const frame = new Map<string, string | undefined>();
  session.positional = [positional?.[0] ?? 'bash', ...argv.slice(1)];
  (session.locals ??= []).push(frame);
  let status: number;
  try {
    status = (yield* runCommand(inner, fn.body, stdin, { kind: 'stdout' })).status;
  } catch (e) {
    if (!(e instanceof FunctionReturn)) throw e;
    status = e.status;
  } finally {
    session.positional = positional;
    session.locals.pop();
    for (const [name, value] of frame) {
      if (value === undefined) session.vars.delete(name);
      else session.vars.set(name, value);
    }
    streams.close(makeContext(opts, stdin, streams.stdout, streams.stderr));
  }
  return { status, piped: streams.piped };
}

/** `env [NAME=VALUE…] [COMMAND…]`: the command with those variables in its environment. */
function* runEnv(opts: LineOptions, argv: string[], stdin: StdinBuffer, stdout: Output, stderr: Output): Proc {
  const session = subshellSession(opts.session);
  let i = 1;
  for (; i < argv.length && /^[A-Za-z_][A-Za-z_0-9]*=/.test(argv[i]!); i++) {
    const [name, ...value] = argv[i]!.split('=');
    session.vars.set(name!, value.join('='));
    (session.exported ??= new Set()).add(name!);
  }
  const command = argv.slice(i);
  if (command.length === 0) {
    stdout.write(environment(session).join('\n') + '\n');
    return 0;
  }
  if (!shellName(command[0]!) && !resolveProgram(opts, command[0]!) && !BUILTIN_PROGRAMS.has(command[0]!)) {
    stderr.write(`env: ‘${command[0]}’: No such file or directory\n`);
    return 127;
  }
  return yield* execIn({ ...opts, session }, currentNs(session), command, stdin, stdout, stderr);
}

/** What a child process finds in its environment: the exported variables. */
function environment(session: ShellSession): string[] {
  const names = new Set([...Object.keys(ENVIRONMENT), ...(session.exported ?? [])]);
  return [...names].filter((name) => isVariableSet(session, name)).map((name) => `${name}=${scalar(session, name)}`);
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

/**
 * The shell that runs an executable script named by its path (`./setup.sh`):
 * its `#!` line's, bash without one; or why it cannot run, with the status.
 */
function scriptInterpreter(ctx: ProcContext, path: string): ShellName | { error: string; status: number } {
  const abs = normalisePath(path, ctx.session.cwd);
  if (isDirectory(ctx, abs)) return { error: 'Is a directory', status: 126 };
  const read = readFile(ctx, abs);
  if (!read.ok) return { error: read.error, status: 127 };
  if (!ctx.host.executables.has(abs)) return { error: 'Permission denied', status: 126 };
  const shebang = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(read.text);
  const interpreter = shebang ? (shebang[1]!.endsWith('/env') ? shebang[2] : shebang[1]) : 'bash';
  return interpreter && shellName(interpreter) === 'sh' ? 'sh' : 'bash';
}

/** `ip netns exec NS PROG ARGS`: runs a program directly (no shell) in another namespace. */
function* execIn(opts: LineOptions, ns: NetNs, argv: string[], stdin: StdinBuffer, stdout: Output, stderr: Output): Proc {
  const session = opts.session;
  const name = argv[0]!;
  if (shellName(name)) return yield* inNamespace(ns, runChildShell(opts, ns, argv, stdin, stdout, stderr));
  const program = resolveProgram(opts, name) ?? (BUILTIN_PROGRAMS.has(name) ? opts.programs.get(name) : undefined);
  const script = !program && name.includes('/') ? scriptInterpreter(makeContext(opts, '', stderr, stderr), name) : null;
  if (typeof script === 'string') return yield* inNamespace(ns, runChildShell(opts, ns, [script, ...argv], stdin, stdout, stderr));
  if (!program) {
    stderr.write(`exec of "${name}" failed: ${script ? script.error : 'No such file or directory'}\n`);
    return 1;
  }
  const inner = subshellSession(session, [...session.nsStack, ns]);
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
 * `bash`/`sh` in namespace `ns`: `-c SCRIPT [NAME ARGS…]` runs SCRIPT, a
 * piped standard input is read as a script line by line, and otherwise an
 * interactive terminal enters a nested shell until `exit` (without a
 * terminal it reads end of input and ends). The child starts with the
 * exported variables only; its `exit` ends it.
 */
function* runChildShell(opts: LineOptions, ns: NetNs, argv: string[], stdin: StdinBuffer, stdout: Output, stderr: Output): Proc {
  const shell = shellName(argv[0]!)!;
  const session = opts.session;
  const nsStack = ns === currentNs(session) ? [...session.nsStack] : [...session.nsStack, ns];
  const exported = new Set(session.exported ?? []);
  // Options first (`-c`, `-e`, `-x`, `-n`, `-o pipefail`, clustered or not), then the operands.
  const options = new Set<string>();
  let command = false;
  let noExec = false;
  let i = 1;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-o' || a === '+o') {
      const option = argv[++i];
      if (option !== undefined && a === '-o') options.add(option);
    } else if (/^-[a-zA-Z]+$/.test(a)) {
      for (const flag of a.slice(1)) {
        if (flag === 'c') command = true;
        else if (flag === 'n') noExec = true;
        else if (SET_LETTERS[flag]) options.add(SET_LETTERS[flag]);
      }
    } else {
      if (a === '--') i++;
      break;
    }
  }
  const operands = argv.slice(i);
  const script = command ? undefined : operands[0];
  const child: LineOptions = {
    ...opts,
    session: {
      host: session.host,
      cwd: session.cwd,
      lastStatus: 0,
      nsStack,
      shellDepth: nsStack.length,
      vars: new Map([...session.vars].filter(([name]) => exported.has(name))),
      exported,
      positional: command ? [operands[1] ?? shell, ...operands.slice(2)] : script !== undefined ? operands : [shell],
      ...(options.size > 0 && { options }),
      ...(session.recordPaths && { recordPaths: true }),
    },
    terminal: stdout,
    errors: stderr,
    input: stdin,
    shell,
    loopDepth: 0,
    substitutionDepth: 0,
    errexitIgnored: false,
    noExec,
  };
  let status = 0;
  if (command) {
    const text = operands[0];
    if (text === undefined) {
      stderr.write(shell === 'sh' ? 'sh: 0: -c requires an argument\n' : 'bash: -c: option requires an argument\n');
      return 2;
    }
    status = yield* runLine({ ...child, interactive: false }, text);
  } else if (script !== undefined) {
    // `bash FILE ARGS…`: the file's lines, with $0 the file and $1… the arguments.
    const read = readFile(makeContext(opts, '', stderr, stderr), script);
    if (!read.ok) {
      stderr.write(shell === 'sh' ? `sh: 0: cannot open ${script}: ${read.error.replace('No such file or directory', 'No such file')}\n` : `${shell}: ${script}: ${read.error}\n`);
      return shell === 'sh' ? 2 : 127;
    }
    status = yield* runShell({ ...child, interactive: false, readsFrom: 'file' }, read.text.replace(/\n$/, '').split('\n'));
  } else if (stdin.text !== '') {
    const lines = stdin.text.replace(/\n$/, '').split('\n');
    stdin.text = '';
    status = yield* runShell({ ...child, interactive: false, readsFrom: 'stdin' }, lines);
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

type Builtin = (ctx: ProcContext, argv: string[], stdin: StdinBuffer, opts: LineOptions) => number;

/** A builtin's error, as the shell words it: `bash: line N: NAME: MESSAGE` (dash: `sh: N: …`). */
function builtinError(ctx: ProcContext, opts: LineOptions, message: string): void {
  ctx.stderr.write(`${where(opts)}: ${message}\n`);
}

/**
 * `read [-r] [-a ARRAY] [NAME…]`: one line of input split at the characters
 * of IFS, the last name taking the rest; 1 at end of input. Without -r a
 * backslash escapes the character after it.
 */
function readBuiltin(ctx: ProcContext, argv: string[], stdin: StdinBuffer): number {
  const session = ctx.session;
  let raw = false;
  let arrayName: string | null = null;
  const names: string[] = [];
  let delimiter = '\n';
  let count = Infinity;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('-') || a === '-') {
      names.push(a);
      continue;
    }
    // Flags cluster (`-ra NAME`); one taking a value takes the rest of the word or the next one.
    for (let j = 1; j < a.length; j++) {
      const flag = a[j]!;
      if (flag === 'r') raw = true;
      else if ('apdtnNu'.includes(flag)) {
        const value = j + 1 < a.length ? a.slice(j + 1) : (argv[++i] ?? '');
        if (flag === 'a') arrayName = value;
        if (flag === 'd') delimiter = value[0] ?? '\0';
        if (flag === 'n' || flag === 'N') count = Number(value);
        break;
      }
    }
  }
  // -p's prompt shows only on a terminal; -t's timeout never runs out on input already there.
  const stop = stdin.text.indexOf(delimiter);
  let line: string;
  let atEof = false;
  if (count < stdin.text.length && (stop < 0 || stop >= count)) {
    line = stdin.text.slice(0, count);
    stdin.text = stdin.text.slice(count);
  } else if (stop < 0) {
    line = stdin.text;
    stdin.text = '';
    atEof = true;
  } else {
    line = stdin.text.slice(0, stop);
    stdin.text = stdin.text.slice(stop + 1);
  }
  if (!raw) line = line.replace(/\\(.)/g, '$1');
  const status = atEof ? 1 : 0;
  if (names.length === 0 && arrayName === null) {
    session.vars.set('REPLY', line);
    return status;
  }
  const ifs = session.vars.get('IFS') ?? ' \t\n';
  const blanks = `[${escapeRegex(ifs.replace(/[^ \t\n]/g, ''))}]*`;
  const separator = new RegExp(`${blanks}(?:[${escapeRegex(ifs.replace(/[ \t\n]/g, ''))}]${blanks}|$)|[${escapeRegex(ifs.replace(/[^ \t\n]/g, ''))}]+`.replace(/\[\]\+/, '(?!)'));
  let rest = line.replace(new RegExp(`^${blanks}`), '');
  const fields: string[] = [];
  const wanted = arrayName !== null ? Infinity : names.length;
  while (rest !== '' && fields.length < wanted - 1) {
    const m = separator.exec(rest);
    if (!m || m.index === rest.length) break;
    fields.push(rest.slice(0, m.index));
    rest = rest.slice(m.index + m[0].length);
  }
  rest = rest.replace(new RegExp(`${blanks}$`), '');
  if (rest !== '' || arrayName === null) fields.push(rest);
  if (arrayName !== null) {
    session.vars.delete(arrayName);
    (session.arrays ??= new Map()).set(arrayName, { associative: false, items: new Map(fields.map((f, i): [string, string] => [String(i), f])) });
    return status;
  }
  names.forEach((name, i) => setVariable(session, name, fields[i] ?? ''));
  return status;
}

/** `local NAME[=VALUE]…`: the variable is the function's own until it returns. */
function localBuiltin(ctx: ProcContext, argv: string[], stdin: StdinBuffer, opts: LineOptions): number {
  const frame = ctx.session.locals?.[ctx.session.locals.length - 1];
  if (!frame) {
    builtinError(ctx, opts, 'local: can only be used in a function');
    return 1;
  }
  for (const arg of argv.slice(1).filter((a) => !a.startsWith('-'))) {
    const name = arg.split('=')[0]!;
    if (!frame.has(name)) frame.set(name, ctx.session.vars.get(name));
  }
  return declareBuiltin(ctx, argv, stdin, opts);
}

/** `declare`/`typeset [-a|-A|-x] NAME[=VALUE]…`, `export NAME[=VALUE]…`, and `local`'s assignments. */
function declareBuiltin(ctx: ProcContext, argv: string[], _stdin: StdinBuffer, opts: LineOptions): number {
  const session = ctx.session;
  const flags = argv.slice(1).filter((a) => /^[-+][aAxirgn]+$/.test(a)).join('');
  const exporting = argv[0] === 'export' || flags.includes('x');
  const readonly = argv[0] === 'readonly' || flags.includes('r');
  let status = 0;
  for (const arg of argv.slice(1).filter((a) => !/^[-+][aAxirgn]+$/.test(a))) {
    const target = /^[A-Za-z_][A-Za-z_0-9]*/.exec(arg)?.[0];
    if (target !== undefined && session.readonly?.has(target) && arg !== target) {
      builtinError(ctx, opts, `${target}: readonly variable`);
      status = 1;
      continue;
    }
    const literal = arrayLiteral(arg);
    const m = /^([A-Za-z_][A-Za-z_0-9]*)(?:(\+?)=(.*))?$/s.exec(arg);
    if (!literal && !m) {
      builtinError(ctx, opts, `${argv[0]}: \`${arg}': not a valid identifier`);
      status = 1;
      continue;
    }
    const name = literal ? literal.name : m![1]!;
    if (flags.includes('A') || flags.includes('a')) {
      if (!session.arrays?.has(name)) (session.arrays ??= new Map()).set(name, { associative: flags.includes('A'), items: new Map() });
      session.vars.delete(name);
    }
    if (literal) {
      // The array literal's words are expanded as an assignment's.
      const run = assign(opts, { name, append: literal.append, value: [], array: literal.words });
      for (let r = run.next(); !r.done; r = run.next());
    } else if (m![3] !== undefined) {
      setVariable(session, name, m![2] ? scalar(session, name) + m![3] : m![3]);
      // bash shows the assignment `export` makes, as its own command.
      if (argv[0] === 'export') trace(opts, () => `${name}=${xtraceQuote(scalar(session, name))}`);
    }
    else if (argv[0] === 'local' && !session.arrays?.has(name)) session.vars.delete(name);
    if (exporting) (session.exported ??= new Set()).add(name);
    if (readonly) (session.readonly ??= new Set()).add(name);
  }
  if (argv[0] === 'export' && argv.length === 1) for (const line of environment(session).sort()) ctx.stdout.write(`declare -x ${line.replace(/=(.*)$/s, '="$1"')}\n`);
  return status;
}

/** `unset [-v|-f] NAME…` and `unset 'a[1]'`. */
function unsetBuiltin(ctx: ProcContext, argv: string[], _stdin: StdinBuffer, opts: LineOptions): number {
  const session = ctx.session;
  const functions = argv.includes('-f');
  let status = 0;
  for (const arg of argv.slice(1).filter((a) => !a.startsWith('-'))) {
    const element = /^([A-Za-z_][A-Za-z_0-9]*)\[(.*)\]$/.exec(arg);
    if (!functions && session.readonly?.has(element ? element[1]! : arg)) {
      builtinError(ctx, opts, `unset: ${arg}: cannot unset: readonly variable`);
      status = 1;
    } else if (element) session.arrays?.get(element[1]!)?.items.delete(element[2]!);
    else if (functions) session.functions?.delete(arg);
    else {
      session.vars.delete(arg);
      session.arrays?.delete(arg);
      session.exported?.delete(arg);
    }
  }
  return status;
}

/** The options `set` and a shell's command line take as letters. */
const SET_LETTERS: Record<string, string> = { e: 'errexit', u: 'nounset', x: 'xtrace' };

/** `set -e`, `set +x`, `set -o pipefail`, `set -euo pipefail`, `set -- ARGS…`. */
function setBuiltin(ctx: ProcContext, argv: string[], _stdin: StdinBuffer, opts: LineOptions): number {
  const session = ctx.session;
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--' || !/^[-+]/.test(arg)) {
      session.positional = [session.positional?.[0] ?? 'bash', ...argv.slice(arg === '--' ? i + 1 : i)];
      return 0;
    }
    const on = arg[0] === '-';
    for (const letter of arg.slice(1)) {
      const option = letter === 'o' ? argv[++i] : SET_LETTERS[letter];
      if (option === 'pipefail' && opts.shell === 'sh') {
        // Special builtin: its error ends dash.
        builtinError(ctx, opts, 'set: Illegal option -o pipefail');
        throw new ExitShell(2);
      }
      if (option === undefined) {
        builtinError(ctx, opts, `set: ${letter === 'o' ? '-o' : `-${letter}`}: invalid option`);
        return 2;
      }
      const options = (session.options ??= new Set());
      if (on) options.add(option);
      else options.delete(option);
    }
  }
  return 0;
}

/** `break [N]` and `continue [N]`: only inside a loop. */
function loopBuiltin(kind: 'break' | 'continue'): Builtin {
  return (ctx, argv, _stdin, opts) => {
    if (!opts.loopDepth) {
      builtinError(ctx, opts, `${kind}: only meaningful in a \`for', \`while', or \`until' loop`);
      return 0;
    }
    throw new LoopControl(kind, Math.min(Math.max(1, Number(argv[1] ?? 1) || 1), opts.loopDepth));
  };
}

/**
 * `getopts OPTSTRING NAME [ARGS…]`: the next option of the arguments (the
 * positional parameters by default) into NAME, its value into OPTARG, and
 * OPTIND to the argument after; 1 once the options end. A leading `:` in
 * OPTSTRING reports bad options in NAME and OPTARG instead of on stderr.
 */
function getoptsBuiltin(ctx: ProcContext, argv: string[]): number {
  const session = ctx.session;
  const [spec, name] = [argv[1], argv[2]];
  if (spec === undefined || name === undefined) {
    // A usage message carries no line.
    ctx.stderr.write('getopts: usage: getopts optstring name [arg ...]\n');
    return 2;
  }
  const args = argv.length > 3 ? argv.slice(3) : (session.positional ?? []).slice(1);
  const silent = spec.startsWith(':');
  let index = Number(scalar(session, 'OPTIND')) || 1;
  let offset = session.optionOffset ?? 1;
  const arg = args[index - 1];
  session.vars.delete('OPTARG');
  const end = (status: number) => {
    setVariable(session, name, '?');
    session.optionOffset = 1;
    return status;
  };
  if (arg === undefined || !arg.startsWith('-') || arg === '-') return end(1);
  if (arg === '--') {
    setVariable(session, 'OPTIND', String(index + 1));
    return end(1);
  }
  const option = arg[offset]!;
  const known = spec.indexOf(option) >= (silent ? 1 : 0) && option !== ':';
  const takesValue = known && spec[spec.indexOf(option) + 1] === ':';
  const next = () => {
    offset = 1;
    index++;
  };
  offset++;
  if (offset >= arg.length) next();
  const program = session.positional?.[0] ?? 'bash';
  if (!known) {
    setVariable(session, name, '?');
    if (silent) setVariable(session, 'OPTARG', option);
    else ctx.stderr.write(`${program}: illegal option -- ${option}\n`);
  } else if (takesValue) {
    // The rest of the cluster, or the next argument.
    const value = offset > 1 ? arg.slice(offset) : args[index - 1];
    if (offset > 1) next();
    else if (value !== undefined) index++;
    if (value === undefined) {
      setVariable(session, name, silent ? ':' : '?');
      if (silent) setVariable(session, 'OPTARG', option);
      else ctx.stderr.write(`${program}: option requires an argument -- ${option}\n`);
    } else {
      setVariable(session, name, option);
      setVariable(session, 'OPTARG', value);
    }
  } else setVariable(session, name, option);
  setVariable(session, 'OPTIND', String(index));
  session.optionOffset = offset;
  return 0;
}

/** `let EXPR…`: 0 when the last one is not 0. */
function letBuiltin(ctx: ProcContext, argv: string[], _stdin: StdinBuffer, opts: LineOptions): number {
  if (argv.length === 1) {
    builtinError(ctx, opts, 'let: expression expected');
    return 1;
  }
  let value = 0n;
  for (const expression of argv.slice(1)) {
    try {
      value = evaluateArithmetic(expression, arithmeticVariables(ctx.session));
    } catch (e) {
      if (!(e instanceof ArithmeticError)) throw e;
      builtinError(ctx, opts, `let: ${e.message}`);
      return 1;
    }
  }
  return value === 0n ? 1 : 0;
}

/** `readarray`/`mapfile [-t] [NAME]`: every line of standard input into an array (MAPFILE by default). */
function readarrayBuiltin(ctx: ProcContext, argv: string[], stdin: StdinBuffer): number {
  const strip = argv.includes('-t');
  const name = argv.slice(1).find((a) => !a.startsWith('-')) ?? 'MAPFILE';
  const lines = stdin.text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  stdin.text = '';
  ctx.session.vars.delete(name);
  (ctx.session.arrays ??= new Map()).set(name, { associative: false, items: new Map(lines.map((line, i): [string, string] => [String(i), strip ? line.replace(/\n$/, '') : line])) });
  return 0;
}

const BASH_KEYWORDS = new Set(['if', 'then', 'else', 'elif', 'fi', 'case', 'esac', 'for', 'select', 'while', 'until', 'do', 'done', 'in', 'function', 'time', '{', '}', '!', '[[', ']]', 'coproc']);
/** bash's builtins, also those the simulation runs as programs (echo, true, kill…). */
const BASH_BUILTINS = new Set(
  ('. : [ alias bg bind break builtin caller cd command compgen complete compopt continue declare dirs disown echo enable eval exec exit export false fc fg ' +
    'getopts hash help history jobs kill let local logout mapfile popd printf pushd pwd read readarray readonly return set shift shopt source suspend test ' +
    'times trap true type typeset ulimit umask unalias unset wait').split(' '),
);

/** What a command name is to the shell: a keyword, a function, a builtin, a program's path, or nothing. */
function commandKind(session: ShellSession, name: string): { kind: 'keyword' | 'function' | 'builtin' } | { kind: 'file'; path: string } | null {
  if (BASH_KEYWORDS.has(name)) return { kind: 'keyword' };
  if (session.functions?.has(name)) return { kind: 'function' };
  if (BASH_BUILTINS.has(name)) return { kind: 'builtin' };
  const path = PROGRAM_PATHS.get(name);
  return path ? { kind: 'file', path } : null;
}

/** `type [-t|-p|-P] NAME…` and `command -v|-V NAME…`. */
function typeBuiltin(ctx: ProcContext, argv: string[], _stdin: StdinBuffer, opts: LineOptions): number {
  const command = argv[0] === 'command';
  const flags = argv.slice(1).filter((a) => /^-[tpPvV]+$/.test(a)).join('');
  let found = 0;
  const names = argv.slice(1).filter((a) => !/^-[tpPvV]+$/.test(a));
  for (const name of names) {
    const kind = commandKind(ctx.session, name);
    if (kind) found++;
    if (command && flags.includes('v')) {
      if (kind) ctx.stdout.write(`${kind.kind === 'file' ? kind.path : name}\n`);
    } else if (flags.includes('t')) {
      if (kind) ctx.stdout.write(`${kind.kind}\n`);
    } else if (/[pP]/.test(flags)) {
      if (kind?.kind === 'file') ctx.stdout.write(`${kind.path}\n`);
    } else if (!kind) builtinError(ctx, opts, `${argv[0]}: ${name}: not found`);
    else ctx.stdout.write(kind.kind === 'file' ? `${name} is ${kind.path}\n` : `${name} is ${kind.kind === 'function' ? 'a function' : `a shell ${kind.kind}`}\n`);
  }
  return command ? (found > 0 ? 0 : 1) : found === names.length ? 0 : 1;
}

const BUILTINS: Record<string, Builtin> = {
  exit: (ctx, argv, _stdin, opts) => {
    const code = argv[1] === undefined ? ctx.session.lastStatus : Number(argv[1]) & 255;
    if (ctx.session.nsStack.length > (ctx.session.shellDepth ?? 0) && argv.length <= 2) {
      ctx.session.nsStack.pop();
      ctx.session.vars = ctx.session.outerVars?.pop() ?? ctx.session.vars;
      return Number.isNaN(code) ? 2 : code;
    }
    if (argv[1] !== undefined && !/^-?\d+$/.test(argv[1])) {
      builtinError(ctx, opts, `exit: ${argv[1]}: numeric argument required`);
      throw new ExitShell(2);
    }
    throw new ExitShell(code);
  },
  cd: (ctx, argv, _stdin, opts) => {
    const target = normalisePath(argv[1] ?? '/root', ctx.session.cwd);
    if (!isDirectory(ctx, target)) {
      builtinError(ctx, opts, `cd: ${argv[1]}: No such file or directory`);
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
  readarray: readarrayBuiltin,
  mapfile: readarrayBuiltin,
  test: (ctx, argv, _stdin, opts) => testBuiltin(ctx, argv, where(opts), opts.shell),
  '[': (ctx, argv, _stdin, opts) => testBuiltin(ctx, argv, where(opts), opts.shell),
  printf: (ctx, argv, _stdin, opts) => printfBuiltin(ctx, argv, where(opts)),
  readonly: declareBuiltin,
  type: typeBuiltin,
  command: typeBuiltin,
  hash: (ctx, argv, _stdin, opts) => {
    const missing = argv.slice(1).filter((name) => !ctx.session.functions?.has(name) && !Object.hasOwn(BUILTINS, name) && !PROGRAM_PATHS.has(name));
    for (const name of missing) builtinError(ctx, opts, `hash: ${name}: not found`);
    return missing.length > 0 ? 1 : 0;
  },
  local: localBuiltin,
  declare: declareBuiltin,
  typeset: declareBuiltin,
  export: declareBuiltin,
  unset: unsetBuiltin,
  set: setBuiltin,
  let: letBuiltin,
  getopts: getoptsBuiltin,
  break: loopBuiltin('break'),
  continue: loopBuiltin('continue'),
  shift: (ctx, argv, _stdin, opts) => {
    const positional = ctx.session.positional ?? ['bash'];
    const count = Number(argv[1] ?? 1);
    if (!/^-?\d+$/.test(argv[1] ?? '1')) {
      builtinError(ctx, opts, `shift: ${argv[1]}: numeric argument required`);
      return 1;
    }
    if (count < 0) {
      builtinError(ctx, opts, `shift: ${argv[1]}: shift count out of range`);
      return 1;
    }
    if (count > positional.length - 1) return 1;
    ctx.session.positional = [positional[0]!, ...positional.slice(1 + count)];
    return 0;
  },
  return: (ctx, argv, _stdin, opts) => {
    if (!opts.returnable) {
      builtinError(ctx, opts, "return: can only `return' from a function or sourced script");
      return 2;
    }
    throw new FunctionReturn(argv[1] === undefined ? ctx.session.lastStatus : Number(argv[1]) & 255);
  },
  /** `trap COMMAND EXIT` (and `trap - EXIT`): signals other than EXIT never reach a simulated shell. */
  trap: (ctx, argv) => {
    if (argv.slice(2).some((s) => s === 'EXIT' || s === '0')) ctx.session.exitTrap = argv[1] === '-' || argv[1] === '' ? undefined : argv[1];
    return 0;
  },
};

/** dash's builtins: POSIX's, `local`, and an `echo` that always reads backslash escapes and knows only -n. */
const DASH_BUILTINS: Record<string, Builtin> = {
  ...Object.fromEntries(Object.entries(BUILTINS).filter(([name]) => !['let', 'declare', 'typeset', 'readarray', 'mapfile'].includes(name))),
  echo: (ctx, argv) => {
    const newline = argv[1] !== '-n';
    const shown = echoEscapes(argv.slice(newline ? 1 : 2).join(' '), true);
    ctx.stdout.write(shown.text + (newline && !shown.stopped ? '\n' : ''));
    return 0;
  },
};
