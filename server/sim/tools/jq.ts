// jq 1.6 as lab scripts use it on `ip -j` output: paths, `.[]`, pipes and
// commas, array and object construction, string interpolation, comparisons
// and arithmetic, `//`, `if`, `select`, `map` and the common builtins; -r,
// -c, -j, -e, -s, -n and --arg; its output formatting and error messages.
import { readFile } from './fs';
import { program } from './process';

/** A JSON value; objects keep their keys in order, as jq does. */
type Json = null | boolean | number | string | Json[] | JsonObject;
type JsonObject = Map<string, Json>;

class JqError extends Error {
  /** `break`-like errors carry the value `error(…)` was given; here only messages. */
}

class JqCompileError extends Error {}

class JsonParseError extends Error {}

const isObject = (v: Json): v is JsonObject => v instanceof Map;

function typeName(v: Json): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (isObject(v)) return 'object';
  return typeof v;
}

/** How jq names a value in an error: `number (5)`, `string ("x")`. */
function described(v: Json): string {
  const text = toJson(v, false);
  return `${typeName(v)} (${text.length > 11 ? text.slice(0, 10) + '...' : text})`;
}

// ---- JSON in and out ----

/** Parses a stream of JSON values; returns each with the input line it ends on, as jq counts lines for errors. */
function parseJsonStream(text: string): Array<{ value: Json; line: number }> {
  const values: Array<{ value: Json; line: number }> = [];
  let i = 0;
  const lineAt = (at: number) => {
    let line = 0;
    for (let j = 0; j < at && j < text.length; j++) if (text[j] === '\n') line++;
    return line;
  };
  const fail = (message: string, at: number): never => {
    if (at > text.length) (message = 'Unfinished JSON term at EOF'), (at = text.length);
    const line = lineAt(at);
    const column = at - (text.lastIndexOf('\n', at - 1) + 1);
    throw new JsonParseError(`${message} at line ${line + 1}, column ${column}`);
  };
  const blank = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const value = (): Json => {
    blank();
    const c = text[i];
    if (c === '{') {
      i++;
      const object: JsonObject = new Map();
      blank();
      if (text[i] === '}') return i++, object;
      for (;;) {
        blank();
        if (text[i] !== '"') fail('Object keys must be strings', i + 1);
        const key = string();
        blank();
        if (text[i] !== ':') fail("Objects must consist of key:value pairs", i + 1);
        i++;
        object.set(key, value());
        blank();
        if (text[i] === ',') i++;
        else if (text[i] === '}') return i++, object;
        else fail("Expected separator between values", i + 1);
      }
    }
    if (c === '[') {
      i++;
      const array: Json[] = [];
      blank();
      if (text[i] === ']') return i++, array;
      for (;;) {
        array.push(value());
        blank();
        if (text[i] === ',') i++;
        else if (text[i] === ']') return i++, array;
        else fail('Expected separator between values', i + 1);
      }
    }
    if (c === '"') return string();
    if (c === ':') return fail("Expected string key before ':'", i + 1);
    if (c === ',') return fail("Expected value before ','", i + 1);
    const m = /^[A-Za-z0-9.+-]+/.exec(text.slice(i));
    if (!m) return fail('Invalid literal', i + 1);
    i += m[0].length;
    const literal = m[0];
    if (literal === 'null') return null;
    if (literal === 'true') return true;
    if (literal === 'false') return false;
    if (/^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(literal)) return Number(literal);
    // A literal is judged when the character after it arrives: that is where the error is.
    return fail('tfn'.includes(literal[0]!) ? 'Invalid literal' : 'Invalid numeric literal', i + 1);
  };
  const string = (): string => {
    let out = '';
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') {
        const e = text[i + 1]!;
        if (e === 'u') {
          out += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
          i += 6;
          continue;
        }
        out += { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', '/': '/', '\\': '\\', '"': '"' }[e] ?? e;
        i += 2;
        continue;
      }
      out += text[i++];
    }
    if (i >= text.length) fail('Unfinished string', i);
    i++;
    return out;
  };
  for (blank(); i < text.length; blank()) {
    const v = value();
    const next = text.indexOf('\n', i);
    values.push({ value: v, line: next < 0 ? lineAt(i) : lineAt(next) + 1 });
  }
  return values;
}

/** A number as jq 1.6 prints it: the shortest digits, in exponent form when very large or small. */
function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return n > 0 ? '1.7976931348623157e+308' : n < 0 ? '-1.7976931348623157e+308' : 'null';
  if (n === 0) return Object.is(n, -0) ? '-0' : '0';
  const [mantissa, exponent] = Math.abs(n).toExponential().split('e') as [string, string];
  const digits = mantissa.replace('.', '');
  const point = Number(exponent) + 1;
  const sign = n < 0 ? '-' : '';
  if (point <= -4 || point > digits.length + 15) {
    const e = point - 1;
    return `${sign}${digits[0]}${digits.length > 1 ? '.' + digits.slice(1) : ''}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return sign + digits + '0'.repeat(point - digits.length);
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

function quote(s: string): string {
  return (
    '"' +
    s.replace(/["\\\u0000-\u001f\u007f]/g, (c) => ({ '"': '\\"', '\\': '\\\\', '\n': '\\n', '\t': '\\t', '\r': '\\r', '\b': '\\b', '\f': '\\f' })[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) +
    '"'
  );
}

/** JSON text: indented by two spaces a level, or compact. */
function toJson(v: Json, pretty: boolean, indent = ''): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'number') return formatNumber(v);
  if (typeof v === 'string') return quote(v);
  const inner = indent + '  ';
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    if (!pretty) return `[${v.map((x) => toJson(x, false)).join(',')}]`;
    return `[\n${v.map((x) => inner + toJson(x, true, inner)).join(',\n')}\n${indent}]`;
  }
  if (v.size === 0) return '{}';
  const entries = [...v];
  if (!pretty) return `{${entries.map(([k, x]) => `${quote(k)}:${toJson(x, false)}`).join(',')}}`;
  return `{\n${entries.map(([k, x]) => `${inner}${quote(k)}: ${toJson(x, true, inner)}`).join(',\n')}\n${indent}}`;
}

// ---- the filter language ----

type Ast =
  | { kind: 'identity' }
  | { kind: 'literal'; value: Json }
  | { kind: 'string'; parts: Array<string | Ast> }
  | { kind: 'index'; target: Ast; key: Ast; optional: boolean }
  | { kind: 'slice'; target: Ast; from: Ast | null; to: Ast | null; optional: boolean }
  | { kind: 'iterate'; target: Ast; optional: boolean }
  | { kind: 'pipe'; left: Ast; right: Ast }
  | { kind: 'comma'; left: Ast; right: Ast }
  | { kind: 'binary'; op: string; left: Ast; right: Ast }
  | { kind: 'neg'; expr: Ast }
  | { kind: 'array'; expr: Ast | null }
  | { kind: 'object'; entries: Array<{ key: Ast; value: Ast }> }
  | { kind: 'if'; branches: Array<{ test: Ast; then: Ast }>; otherwise: Ast | null }
  | { kind: 'call'; name: string; args: Ast[] }
  | { kind: 'variable'; name: string }
  | { kind: 'bind'; source: Ast; name: string; body: Ast }
  | { kind: 'try'; body: Ast };

type Token = { kind: 'punct' | 'ident' | 'field' | 'var' | 'number' | 'keyword'; text: string } | { kind: 'string'; parts: Array<string | Token[]> };

const KEYWORDS = new Set(['if', 'then', 'elif', 'else', 'end', 'and', 'or', 'as', 'try', 'catch', 'def', 'reduce', 'foreach', 'import', 'include', 'label', '__loc__']);

function lex(program: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const readString = (): Token => {
    const parts: Array<string | Token[]> = [];
    let text = '';
    i++;
    while (i < program.length && program[i] !== '"') {
      if (program[i] === '\\' && program[i + 1] === '(') {
        if (text) parts.push(text);
        text = '';
        let depth = 1;
        const start = i + 2;
        let j = start;
        for (; j < program.length && depth > 0; j++) {
          if (program[j] === '(') depth++;
          if (program[j] === ')') depth--;
        }
        parts.push(lex(program.slice(start, j - 1)));
        i = j;
        continue;
      }
      if (program[i] === '\\') {
        const e = program[i + 1]!;
        text += e === 'u' ? String.fromCharCode(parseInt(program.slice(i + 2, i + 6), 16)) : ({ n: '\n', t: '\t', r: '\r', b: '\b', f: '\f' }[e] ?? e);
        i += e === 'u' ? 6 : 2;
        continue;
      }
      text += program[i++];
    }
    if (i >= program.length) throw new JqCompileError('unexpected $end');
    i++;
    if (text || parts.length === 0) parts.push(text);
    return { kind: 'string', parts };
  };
  while (i < program.length) {
    const c = program[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '#') {
      while (i < program.length && program[i] !== '\n') i++;
      continue;
    }
    if (c === '"') {
      tokens.push(readString());
      continue;
    }
    const rest = program.slice(i);
    const m =
      /^\.[A-Za-z_][A-Za-z_0-9]*/.exec(rest) ??
      /^\$[A-Za-z_][A-Za-z_0-9]*/.exec(rest) ??
      /^(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?/.exec(rest) ??
      /^[A-Za-z_][A-Za-z_0-9]*(::[A-Za-z_][A-Za-z_0-9]*)*/.exec(rest) ??
      /^(\?\/\/|\/\/=|\/\/|==|!=|<=|>=|\|=|\+=|-=|\*=|\/=|%=|\.\.|[.[\]{}(),:;|+\-*/%<>=?])/.exec(rest);
    if (!m) throw new JqCompileError('unexpected INVALID_CHARACTER');
    const text = m[0];
    const kind = text.startsWith('.') && text.length > 1 && /[A-Za-z_]/.test(text[1]!) ? 'field' : text.startsWith('$') ? 'var' : /^[\d.]/.test(text) && text !== '.' && text !== '..' ? 'number' : /^[A-Za-z_]/.test(text) ? (KEYWORDS.has(text) ? 'keyword' : 'ident') : 'punct';
    tokens.push({ kind, text });
    i += text.length;
  }
  return tokens;
}

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token | undefined {
    return this.tokens[this.i];
  }

  private is(text: string): boolean {
    const t = this.peek();
    return t !== undefined && t.kind !== 'string' && t.text === text;
  }

  private expect(text: string): void {
    if (!this.is(text)) throw this.unexpected();
    this.i++;
  }

  unexpected(): JqCompileError {
    const t = this.peek();
    if (!t) return new JqCompileError('unexpected $end');
    if (t.kind === 'string') return new JqCompileError('unexpected QQSTRING_START');
    if (t.kind === 'ident') return new JqCompileError(`unexpected IDENT, expecting $end`);
    return new JqCompileError(`unexpected ${t.kind === 'punct' && t.text.length === 1 ? `'${t.text}'` : t.text.toUpperCase()}`);
  }

  program(): Ast {
    const ast = this.pipe();
    if (this.peek()) throw this.unexpected();
    return ast;
  }

  private pipe(): Ast {
    const left = this.comma();
    if (this.is('as')) {
      this.i++;
      const v = this.peek();
      if (!v || v.kind !== 'var') throw this.unexpected();
      this.i++;
      this.expect('|');
      return { kind: 'bind', source: left, name: v.text.slice(1), body: this.pipe() };
    }
    if (this.is('|')) {
      this.i++;
      return { kind: 'pipe', left, right: this.pipe() };
    }
    return left;
  }

  private comma(): Ast {
    let left = this.alternative();
    while (this.is(',')) {
      this.i++;
      left = { kind: 'comma', left, right: this.alternative() };
    }
    return left;
  }

  private alternative(): Ast {
    const left = this.or();
    if (this.is('//')) {
      this.i++;
      return { kind: 'binary', op: '//', left, right: this.alternative() };
    }
    return left;
  }

  private or(): Ast {
    let left = this.and();
    while (this.is('or')) {
      this.i++;
      left = { kind: 'binary', op: 'or', left, right: this.and() };
    }
    return left;
  }

  private and(): Ast {
    let left = this.comparison();
    while (this.is('and')) {
      this.i++;
      left = { kind: 'binary', op: 'and', left, right: this.comparison() };
    }
    return left;
  }

  private comparison(): Ast {
    const left = this.sum();
    const op = ['==', '!=', '<', '<=', '>', '>='].find((o) => this.is(o));
    if (!op) return left;
    this.i++;
    return { kind: 'binary', op, left, right: this.sum() };
  }

  private sum(): Ast {
    let left = this.product();
    for (let op = ['+', '-'].find((o) => this.is(o)); op; op = ['+', '-'].find((o) => this.is(o))) {
      this.i++;
      left = { kind: 'binary', op, left, right: this.product() };
    }
    return left;
  }

  private product(): Ast {
    let left = this.postfix();
    for (let op = ['*', '/', '%'].find((o) => this.is(o)); op; op = ['*', '/', '%'].find((o) => this.is(o))) {
      this.i++;
      left = { kind: 'binary', op, left, right: this.postfix() };
    }
    return left;
  }

  private postfix(): Ast {
    let ast = this.term();
    for (;;) {
      const t = this.peek();
      if (t?.kind === 'field') {
        this.i++;
        ast = { kind: 'index', target: ast, key: { kind: 'literal', value: t.text.slice(1) }, optional: this.optional() };
      } else if (this.is('.') && this.tokens[this.i + 1]?.kind === 'string') {
        this.i++;
        ast = { kind: 'index', target: ast, key: this.term(), optional: this.optional() };
      } else if (this.is('[') || (this.is('.') && this.tokens[this.i + 1] && this.tokens[this.i + 1]!.kind === 'punct' && (this.tokens[this.i + 1] as { text: string }).text === '[')) {
        if (this.is('.')) this.i++;
        ast = this.bracket(ast);
      } else if (this.is('?')) {
        this.i++;
        ast = { kind: 'try', body: ast };
      } else return ast;
    }
  }

  private optional(): boolean {
    if (!this.is('?')) return false;
    this.i++;
    return true;
  }

  /** `[]`, `[EXPR]`, `[FROM:TO]` after a term. */
  private bracket(target: Ast): Ast {
    this.expect('[');
    if (this.is(']')) {
      this.i++;
      return { kind: 'iterate', target, optional: this.optional() };
    }
    const from = this.is(':') ? null : this.pipe();
    if (this.is(':')) {
      this.i++;
      const to = this.is(']') ? null : this.pipe();
      this.expect(']');
      return { kind: 'slice', target, from, to, optional: this.optional() };
    }
    this.expect(']');
    return { kind: 'index', target, key: from!, optional: this.optional() };
  }

  private term(): Ast {
    const t = this.peek();
    if (!t) throw this.unexpected();
    this.i++;
    if (t.kind === 'string') return { kind: 'string', parts: t.parts.map((p) => (typeof p === 'string' ? p : new Parser(p).program())) };
    if (t.kind === 'number') return { kind: 'literal', value: Number(t.text) };
    if (t.kind === 'field') return { kind: 'index', target: { kind: 'identity' }, key: { kind: 'literal', value: t.text.slice(1) }, optional: this.optional() };
    if (t.kind === 'var') return { kind: 'variable', name: t.text.slice(1) };
    if (t.kind === 'ident') {
      if (t.text === 'null' || t.text === 'true' || t.text === 'false') return { kind: 'literal', value: t.text === 'null' ? null : t.text === 'true' };
      const args: Ast[] = [];
      if (this.is('(')) {
        this.i++;
        for (;;) {
          args.push(this.pipe());
          if (this.is(';')) this.i++;
          else break;
        }
        this.expect(')');
      }
      return { kind: 'call', name: t.text, args };
    }
    if (t.kind === 'keyword' && t.text === 'if') return this.ifTerm();
    if (t.kind === 'keyword' && t.text === 'try') return { kind: 'try', body: this.postfix() };
    if (t.kind === 'punct') {
      switch (t.text) {
        case '.':
          if (this.peek()?.kind === 'string') return { kind: 'index', target: { kind: 'identity' }, key: this.term(), optional: this.optional() };
          if (this.is('[')) return this.bracket({ kind: 'identity' });
          return { kind: 'identity' };
        case '..':
          return { kind: 'call', name: 'recurse', args: [] };
        case '(': {
          const inner = this.pipe();
          this.expect(')');
          return inner;
        }
        case '[': {
          if (this.is(']')) {
            this.i++;
            return { kind: 'array', expr: null };
          }
          const expr = this.pipe();
          this.expect(']');
          return { kind: 'array', expr };
        }
        case '{':
          return this.objectTerm();
        case '-':
          return { kind: 'neg', expr: this.postfix() };
      }
    }
    this.i--;
    throw this.unexpected();
  }

  private ifTerm(): Ast {
    const branches: Array<{ test: Ast; then: Ast }> = [];
    let otherwise: Ast | null = null;
    for (;;) {
      const test = this.pipe();
      this.expect('then');
      branches.push({ test, then: this.pipe() });
      if (this.is('elif')) {
        this.i++;
        continue;
      }
      if (this.is('else')) {
        this.i++;
        otherwise = this.pipe();
      }
      this.expect('end');
      return { kind: 'if', branches, otherwise };
    }
  }

  /** `{a, b: .c, "d": 1, (.e): 2, $v}` */
  private objectTerm(): Ast {
    const entries: Array<{ key: Ast; value: Ast }> = [];
    while (!this.is('}')) {
      const t = this.peek();
      if (!t) throw this.unexpected();
      let key: Ast;
      if (t.kind === 'ident' || t.kind === 'keyword') {
        this.i++;
        key = { kind: 'literal', value: t.text };
      } else if (t.kind === 'var') {
        this.i++;
        key = { kind: 'literal', value: t.text.slice(1) };
        if (!this.is(':')) {
          entries.push({ key, value: { kind: 'variable', name: t.text.slice(1) } });
          if (this.is(',')) this.i++;
          continue;
        }
      } else if (t.kind === 'string') {
        key = this.term();
      } else if (this.is('(')) {
        this.i++;
        key = this.pipe();
        this.expect(')');
      } else throw this.unexpected();
      // `{a}` is `{a: .a}`.
      const value: Ast = this.is(':') ? (this.i++, this.objectValue()) : { kind: 'index', target: { kind: 'identity' }, key, optional: false };
      entries.push({ key, value });
      if (this.is(',')) this.i++;
      else if (!this.is('}')) throw this.unexpected();
    }
    this.i++;
    return { kind: 'object', entries };
  }

  /** An object value: no bare commas, but pipes between alternatives. */
  private objectValue(): Ast {
    let left = this.alternative();
    while (this.is('|')) {
      this.i++;
      left = { kind: 'pipe', left, right: this.alternative() };
    }
    return left;
  }
}

// ---- evaluation ----

type Env = ReadonlyMap<string, Json>;

function truthy(v: Json): boolean {
  return v !== null && v !== false;
}

/** jq's order: null < false < true < numbers < strings < arrays < objects. */
function compare(a: Json, b: Json): number {
  const rank = (v: Json) => (v === null ? 0 : v === false ? 1 : v === true ? 2 : typeof v === 'number' ? 3 : typeof v === 'string' ? 4 : Array.isArray(v) ? 5 : 6);
  if (rank(a) !== rank(b)) return rank(a) - rank(b);
  if (typeof a === 'number') return a - (b as number);
  if (typeof a === 'string') return a < (b as string) ? -1 : a > (b as string) ? 1 : 0;
  if (Array.isArray(a)) {
    const other = b as Json[];
    for (let i = 0; i < Math.min(a.length, other.length); i++) {
      const c = compare(a[i]!, other[i]!);
      if (c !== 0) return c;
    }
    return a.length - other.length;
  }
  if (isObject(a)) {
    const other = b as JsonObject;
    const keys = compare([...a.keys()].sort(), [...other.keys()].sort());
    if (keys !== 0) return keys;
    for (const key of [...a.keys()].sort()) {
      const c = compare(a.get(key)!, other.get(key)!);
      if (c !== 0) return c;
    }
  }
  return 0;
}

function index(target: Json, key: Json): Json {
  if (target === null) return null;
  if (typeof key === 'string' && isObject(target)) return target.get(key) ?? null;
  if (typeof key === 'number' && Array.isArray(target)) {
    const i = Math.floor(key);
    return target[i < 0 ? target.length + i : i] ?? null;
  }
  throw new JqError(`Cannot index ${typeName(target)} with ${typeof key === 'string' ? `string "${key}"` : typeName(key)}`);
}

function arithmetic(op: string, a: Json, b: Json): Json {
  if (op === '+') {
    if (a === null) return b;
    if (b === null) return a;
    if (typeof a === 'number' && typeof b === 'number') return a + b;
    if (typeof a === 'string' && typeof b === 'string') return a + b;
    if (Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
    if (isObject(a) && isObject(b)) return new Map([...a, ...b]);
    throw new JqError(`${described(a)} and ${described(b)} cannot be added`);
  }
  if (op === '-') {
    if (typeof a === 'number' && typeof b === 'number') return a - b;
    if (Array.isArray(a) && Array.isArray(b)) return a.filter((x) => !b.some((y) => compare(x, y) === 0));
    throw new JqError(`${described(a)} and ${described(b)} cannot be subtracted`);
  }
  if (op === '*') {
    if (typeof a === 'number' && typeof b === 'number') return a * b;
    if (typeof a === 'string' && typeof b === 'number') return b > 0 ? a.repeat(Math.ceil(b)) : null;
    throw new JqError(`${described(a)} and ${described(b)} cannot be multiplied`);
  }
  if (op === '/') {
    if (typeof a === 'number' && typeof b === 'number') {
      if (b === 0) throw new JqError(`${described(a)} and ${described(b)} cannot be divided because the divisor is zero`);
      return a / b;
    }
    if (typeof a === 'string' && typeof b === 'string') return a.split(b);
    throw new JqError(`${described(a)} and ${described(b)} cannot be divided`);
  }
  if (typeof a === 'number' && typeof b === 'number') {
    if (Math.trunc(b) === 0) throw new JqError(`${described(a)} and ${described(b)} cannot be divided because the divisor is zero`);
    return Math.trunc(a) % Math.trunc(b);
  }
  throw new JqError(`${described(a)} and ${described(b)} cannot be divided`);
}

function length(v: Json): number {
  if (v === null) return 0;
  if (typeof v === 'boolean') throw new JqError(`boolean (${v}) has no length`);
  if (typeof v === 'number') return Math.abs(v);
  if (typeof v === 'string') return [...v].length;
  return Array.isArray(v) ? v.length : v.size;
}

function keys(v: Json, sorted: boolean): Json[] {
  if (isObject(v)) return sorted ? [...v.keys()].sort() : [...v.keys()];
  if (Array.isArray(v)) return v.map((_, i) => i);
  throw new JqError(`${described(v)} has no keys`);
}

/** What `.[]` gives: an array's elements, an object's values. */
function items(v: Json): Json[] {
  if (Array.isArray(v)) return v;
  if (isObject(v)) return [...v.values()];
  throw new JqError(`Cannot iterate over ${v === null ? 'null' : described(v)}`);
}

/** A regular expression from a jq program, or jq's error for one that is not. */
function regex(source: Json, flags: string): RegExp {
  try {
    return new RegExp(String(source), flags);
  } catch {
    throw new JqError(`${String(source)} (at offset 0) is not a valid regex`);
  }
}

function tostring(v: Json): string {
  return typeof v === 'string' ? v : toJson(v, false);
}

/** Every output of a filter on one input. */
function evaluate(ast: Ast, input: Json, env: Env): Json[] {
  switch (ast.kind) {
    case 'identity':
      return [input];
    case 'literal':
      return [ast.value];
    case 'string': {
      let outs = [''];
      for (const part of ast.parts) {
        if (typeof part === 'string') outs = outs.map((s) => s + part);
        else outs = outs.flatMap((s) => evaluate(part, input, env).map((v) => s + tostring(v)));
      }
      return outs;
    }
    case 'index':
      return evaluate(ast.target, input, env).flatMap((target) =>
        evaluate(ast.key, input, env).flatMap((key) => {
          try {
            return [index(target, key)];
          } catch (e) {
            if (ast.optional && e instanceof JqError) return [];
            throw e;
          }
        }),
      );
    case 'slice':
      return evaluate(ast.target, input, env).flatMap((target) => {
        if (target === null) return [null];
        if (typeof target !== 'string' && !Array.isArray(target)) {
          if (ast.optional) return [];
          throw new JqError(`Cannot index ${typeName(target)} with object`);
        }
        const from = ast.from ? (evaluate(ast.from, input, env)[0] as number) : 0;
        const to = ast.to ? (evaluate(ast.to, input, env)[0] as number) : target.length;
        return [target.slice(from, to)];
      });
    case 'iterate':
      return evaluate(ast.target, input, env).flatMap((target) => {
        if (Array.isArray(target)) return target;
        if (isObject(target)) return [...target.values()];
        if (ast.optional) return [];
        throw new JqError(`Cannot iterate over ${target === null ? 'null' : described(target)}`);
      });
    case 'pipe':
      return evaluate(ast.left, input, env).flatMap((v) => evaluate(ast.right, v, env));
    case 'comma':
      return [...evaluate(ast.left, input, env), ...evaluate(ast.right, input, env)];
    case 'neg':
      return evaluate(ast.expr, input, env).map((v) => {
        if (typeof v !== 'number') throw new JqError(`${described(v)} cannot be negated`);
        return -v;
      });
    case 'binary': {
      if (ast.op === '//') {
        let left: Json[];
        try {
          left = evaluate(ast.left, input, env).filter(truthy);
        } catch (e) {
          if (!(e instanceof JqError)) throw e;
          left = [];
        }
        return left.length > 0 ? left : evaluate(ast.right, input, env);
      }
      if (ast.op === 'and' || ast.op === 'or') {
        return evaluate(ast.left, input, env).flatMap((l) => {
          if (ast.op === 'and' && !truthy(l)) return [false];
          if (ast.op === 'or' && truthy(l)) return [true];
          return evaluate(ast.right, input, env).map(truthy);
        });
      }
      return evaluate(ast.right, input, env).flatMap((r) =>
        evaluate(ast.left, input, env).map((l) => {
          switch (ast.op) {
            case '==':
              return compare(l, r) === 0;
            case '!=':
              return compare(l, r) !== 0;
            case '<':
              return compare(l, r) < 0;
            case '<=':
              return compare(l, r) <= 0;
            case '>':
              return compare(l, r) > 0;
            case '>=':
              return compare(l, r) >= 0;
            default:
              return arithmetic(ast.op, l, r);
          }
        }),
      );
    }
    case 'array':
      return [ast.expr ? evaluate(ast.expr, input, env) : []];
    case 'object': {
      let objects: JsonObject[] = [new Map()];
      for (const { key, value } of ast.entries) {
        const next: JsonObject[] = [];
        for (const object of objects) {
          for (const k of evaluate(key, input, env)) {
            if (typeof k !== 'string') throw new JqError(`Object keys must be strings`);
            for (const v of evaluate(value, input, env)) next.push(new Map(object).set(k, v));
          }
        }
        objects = next;
      }
      return objects;
    }
    case 'if': {
      const run = (i: number): Json[] => {
        if (i === ast.branches.length) return ast.otherwise ? evaluate(ast.otherwise, input, env) : [input];
        const { test, then } = ast.branches[i]!;
        return evaluate(test, input, env).flatMap((t) => (truthy(t) ? evaluate(then, input, env) : run(i + 1)));
      };
      return run(0);
    }
    case 'variable': {
      const value = env.get(ast.name);
      if (value === undefined) throw new JqError(`$${ast.name} is not defined`);
      return [value];
    }
    case 'bind':
      return evaluate(ast.source, input, env).flatMap((v) => evaluate(ast.body, input, new Map(env).set(ast.name, v)));
    case 'try':
      try {
        return evaluate(ast.body, input, env);
      } catch (e) {
        if (e instanceof JqError) return [];
        throw e;
      }
    case 'call':
      return call(ast, input, env);
  }
}

/** The builtins, by name and number of arguments. */
const BUILTIN_NAMES = new Set([
  'empty/0', 'not/0', 'length/0', 'utf8bytelength/0', 'keys/0', 'keys_unsorted/0', 'values/0', 'has/1', 'in/1', 'map/1', 'map_values/1', 'select/1', 'add/0', 'any/0', 'all/0', 'any/1', 'all/1',
  'flatten/0', 'range/1', 'range/2', 'floor/0', 'sqrt/0', 'tostring/0', 'tonumber/0', 'type/0', 'sort/0', 'sort_by/1', 'group_by/1', 'unique/0', 'unique_by/1', 'min/0', 'max/0', 'min_by/1', 'max_by/1',
  'reverse/0', 'contains/1', 'inside/1', 'startswith/1', 'endswith/1', 'ltrimstr/1', 'rtrimstr/1', 'split/1', 'join/1', 'ascii_downcase/0', 'ascii_upcase/0', 'test/1', 'test/2', 'to_entries/0',
  'from_entries/0', 'with_entries/1', 'tojson/0', 'fromjson/0', 'first/0', 'last/0', 'first/1', 'last/1', 'nth/1', 'recurse/0', 'env/0', 'objects/0', 'arrays/0', 'strings/0', 'numbers/0',
  'booleans/0', 'nulls/0', 'iterables/0', 'scalars/0', 'error/1', 'null/0', 'true/0', 'false/0', 'limit/2', 'index/1', 'indices/1', 'splits/1', 'sub/2', 'gsub/2', 'tostream/0', 'paths/0', 'isempty/1',
]);

/** Checks before running that every function called exists, as jq's compiler does. */
function checkCalls(ast: Ast): void {
  const visit = (node: unknown): void => {
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node)) return node.forEach(visit);
    const n = node as Ast;
    if (n.kind === 'call' && !BUILTIN_NAMES.has(`${n.name}/${n.args.length}`)) throw new JqCompileError(`${n.name}/${n.args.length} is not defined`);
    for (const value of Object.values(n)) visit(value);
  };
  visit(ast);
}

function call(ast: Extract<Ast, { kind: 'call' }>, input: Json, env: Env): Json[] {
  const arg = (i: number, on: Json = input) => evaluate(ast.args[i]!, on, env);
  const ofType = (t: string) => (typeName(input) === t ? [input] : []);
  const sortedBy = (f: Ast) => {
    if (!Array.isArray(input)) throw new JqError(`Cannot index ${typeName(input)} with number`);
    return input.map((v) => ({ v, k: evaluate(f, v, env) as Json })).sort((a, b) => compare(a.k, b.k));
  };
  const stringInput = (what: string) => {
    if (typeof input !== 'string') throw new JqError(`${described(input)} cannot be ${what}`);
    return input;
  };
  switch (ast.name) {
    case 'empty':
      return [];
    case 'not':
      return [!truthy(input)];
    case 'null':
      return [null];
    case 'true':
    case 'false':
      return [ast.name === 'true'];
    case 'length':
      return [length(input)];
    case 'utf8bytelength':
      if (typeof input !== 'string') throw new JqError(`${described(input)} only strings have UTF-8 byte length`);
      return [new TextEncoder().encode(input).length];
    case 'keys':
    case 'keys_unsorted':
      return [keys(input, ast.name === 'keys')];
    case 'values':
      return input === null ? [] : [input];
    case 'has':
      return arg(0).map((k) => {
        if (isObject(input) && typeof k === 'string') return input.has(k);
        if (Array.isArray(input) && typeof k === 'number') return k >= 0 && k < input.length;
        throw new JqError(`Cannot check whether ${typeName(input)} has a ${typeName(k)} key`);
      });
    case 'in':
      return arg(0).map((o) => call({ kind: 'call', name: 'has', args: [{ kind: 'literal', value: input }] }, o, env)[0]!);
    case 'map':
      return [items(input).flatMap((v) => arg(0, v))];
    case 'map_values':
      if (!isObject(input)) return [Array.isArray(input) ? input.map((v) => arg(0, v)[0] ?? null) : input];
      return [new Map([...input].map(([k, v]) => [k, arg(0, v)[0] ?? null]))];
    case 'select':
      return arg(0).some(truthy) ? arg(0).filter(truthy).map(() => input) : [];
    case 'add':
      return [items(input).reduce<Json>((sum, v) => arithmetic('+', sum, v), null)];
    case 'any':
    case 'all': {
      const test = (v: Json) => (ast.args.length ? arg(0, v).some(truthy) : truthy(v));
      return [ast.name === 'any' ? items(input).some(test) : items(input).every(test)];
    }
    case 'flatten': {
      const flat = (v: Json[]): Json[] => v.flatMap((x) => (Array.isArray(x) ? flat(x) : [x]));
      return [flat(items(input))];
    }
    case 'range': {
      const [from, to] = ast.args.length === 1 ? [0, arg(0)[0] as number] : [arg(0)[0] as number, arg(1)[0] as number];
      const out: Json[] = [];
      for (let n = from; n < to; n++) out.push(n);
      return out;
    }
    case 'floor':
    case 'sqrt':
      if (typeof input !== 'number') throw new JqError(`${described(input)} number required`);
      return [ast.name === 'floor' ? Math.floor(input) : Math.sqrt(input)];
    case 'tostring':
      return [tostring(input)];
    case 'tonumber':
      if (typeof input === 'number') return [input];
      if (typeof input === 'string' && /^\s*-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(input)) return [Number(input)];
      throw new JqError(`Cannot parse '${tostring(input)}' as JSON`);
    case 'type':
      return [typeName(input)];
    case 'sort':
      if (!Array.isArray(input)) throw new JqError(`${described(input)} cannot be sorted, as it is not an array`);
      return [[...input].sort(compare)];
    case 'sort_by':
      return [sortedBy(ast.args[0]!).map((e) => e.v)];
    case 'group_by': {
      const groups: Json[][] = [];
      let last: Json | undefined;
      for (const e of sortedBy(ast.args[0]!)) {
        if (last !== undefined && compare(last, e.k) === 0) groups[groups.length - 1]!.push(e.v);
        else groups.push([e.v]);
        last = e.k;
      }
      return [groups];
    }
    case 'unique':
      return [[...items(input)].sort(compare).filter((v, i, all) => i === 0 || compare(all[i - 1]!, v) !== 0)];
    case 'unique_by':
      return [sortedBy(ast.args[0]!).filter((e, i, all) => i === 0 || compare(all[i - 1]!.k, e.k) !== 0).map((e) => e.v)];
    case 'min':
    case 'max': {
      if (!Array.isArray(input)) throw new JqError(`${described(input)} and ${described(input)} cannot be iterated over`);
      const sorted = [...input].sort(compare);
      return [(ast.name === 'min' ? sorted[0] : sorted[sorted.length - 1]) ?? null];
    }
    case 'min_by':
    case 'max_by': {
      const sorted = sortedBy(ast.args[0]!);
      return [(ast.name === 'min_by' ? sorted[0] : sorted[sorted.length - 1])?.v ?? null];
    }
    case 'reverse':
      if (input === null) return [[]];
      if (!Array.isArray(input)) throw new JqError(`Cannot index ${typeName(input)} with number`);
      return [[...input].reverse()];
    case 'contains':
    case 'inside':
      return arg(0).map((other) => (ast.name === 'contains' ? contains(input, other) : contains(other, input)));
    case 'startswith':
    case 'endswith':
      return arg(0).map((s) => {
        if (typeof input !== 'string' || typeof s !== 'string') throw new JqError(`${ast.name}() requires string inputs`);
        return ast.name === 'startswith' ? input.startsWith(s) : input.endsWith(s);
      });
    case 'ltrimstr':
    case 'rtrimstr':
      return arg(0).map((s) => {
        if (typeof input !== 'string' || typeof s !== 'string') return input;
        if (ast.name === 'ltrimstr') return input.startsWith(s) ? input.slice(s.length) : input;
        return input.endsWith(s) && s !== '' ? input.slice(0, -s.length) : input;
      });
    case 'split':
      return arg(0).map((s) => {
        if (typeof input !== 'string' || typeof s !== 'string') throw new JqError('split input and separator must be strings');
        return input === '' ? [] : input.split(s);
      });
    case 'join':
      return arg(0).map((sep) =>
        items(input)
          .map((v) => {
            if (v === null) return '';
            if (isObject(v) || Array.isArray(v)) throw new JqError(`Cannot join with ${typeName(v)}`);
            return tostring(v);
          })
          .join(tostring(sep)),
      );
    case 'ascii_downcase':
    case 'ascii_upcase':
      if (typeof input !== 'string') throw new JqError('explode input must be a string');
      return [ast.name === 'ascii_downcase' ? input.replace(/[A-Z]/g, (c) => c.toLowerCase()) : input.replace(/[a-z]/g, (c) => c.toUpperCase())];
    case 'test':
      return arg(0).map((re) => {
        if (typeof input !== 'string') throw new JqError(`${described(input)} cannot be matched, as it is not a string`);
        const flags = ast.args.length > 1 ? String(arg(1)[0] ?? '') : '';
        return regex(re, flags.includes('i') ? 'i' : '').test(input);
      });
    case 'sub':
    case 'gsub':
      return arg(0).flatMap((re) =>
        arg(1).map((replacement) => stringInput('matched').replace(regex(re, ast.name === 'gsub' ? 'g' : ''), () => tostring(replacement))),
      );
    case 'to_entries':
      if (!isObject(input)) throw new JqError(`${described(input)} has no keys`);
      return [[...input].map(([key, value]) => new Map<string, Json>([['key', key], ['value', value]]))];
    case 'from_entries':
      return [
        new Map(
          items(input).map((entry) => {
            if (!isObject(entry)) throw new JqError(`Cannot index ${typeName(entry)} with "key"`);
            const key = entry.get('key') ?? entry.get('k') ?? entry.get('name') ?? entry.get('Name') ?? entry.get('Key') ?? entry.get('K') ?? null;
            return [tostring(key), entry.get('value') ?? entry.get('v') ?? entry.get('Value') ?? entry.get('V') ?? null];
          }),
        ),
      ];
    case 'with_entries': {
      const entries = call({ kind: 'call', name: 'to_entries', args: [] }, input, env)[0] as Json[];
      return call({ kind: 'call', name: 'from_entries', args: [] }, entries.flatMap((e) => arg(0, e)), env);
    }
    case 'tojson':
      return [toJson(input, false)];
    case 'fromjson':
      try {
        return parseJsonStream(stringInput('parsed')).map((v) => v.value);
      } catch (e) {
        if (!(e instanceof JsonParseError)) throw e;
        throw new JqError(`${e.message} (while parsing '${input as string}')`);
      }
    case 'first':
    case 'last': {
      const items = ast.args.length ? arg(0) : [index(input, ast.name === 'first' ? 0 : -1)];
      return items.length ? [ast.name === 'first' ? items[0]! : items[items.length - 1]!] : [];
    }
    case 'nth':
      return arg(0).map((n) => index(input, n));
    case 'limit': {
      const n = arg(0)[0] as number;
      return n > 0 ? arg(1).slice(0, n) : [];
    }
    case 'isempty':
      return [arg(0).length === 0];
    case 'index':
    case 'indices':
      return arg(0).map((s) => {
        const found: number[] = [];
        if (typeof input === 'string' && typeof s === 'string' && s !== '') for (let i = input.indexOf(s); i >= 0; i = input.indexOf(s, i + 1)) found.push(i);
        // On an array: where the element (or the run of elements) is.
        if (Array.isArray(input)) {
          const run = Array.isArray(s) ? s : [s];
          for (let i = 0; i + run.length <= input.length && run.length > 0; i++) if (run.every((x, j) => compare(input[i + j]!, x) === 0)) found.push(i);
        }
        return ast.name === 'index' ? (found[0] ?? null) : found;
      });
    case 'splits':
      return arg(0).flatMap((re) => stringInput('split').split(regex(re, '')));
    case 'recurse': {
      const out: Json[] = [];
      const walk = (v: Json) => {
        out.push(v);
        if (Array.isArray(v)) v.forEach(walk);
        else if (isObject(v)) [...v.values()].forEach(walk);
      };
      walk(input);
      return out;
    }
    case 'paths': {
      const out: Json[] = [];
      const walk = (v: Json, path: Json[]) => {
        const children: Array<[Json, Json]> = Array.isArray(v) ? v.map((x, i) => [i, x]) : isObject(v) ? [...v] : [];
        for (const [k, x] of children) {
          out.push([...path, k]);
          walk(x, [...path, k]);
        }
      };
      walk(input, []);
      return out;
    }
    case 'tostream':
      throw new JqError('tostream is not supported');
    case 'env':
      return [new Map<string, Json>()];
    case 'objects':
      return ofType('object');
    case 'arrays':
      return ofType('array');
    case 'strings':
      return ofType('string');
    case 'numbers':
      return ofType('number');
    case 'booleans':
      return ofType('boolean');
    case 'nulls':
      return ofType('null');
    case 'iterables':
      return Array.isArray(input) || isObject(input) ? [input] : [];
    case 'scalars':
      return Array.isArray(input) || isObject(input) ? [] : [input];
    case 'error':
      return arg(0).map((m) => {
        throw new JqError(typeof m === 'string' ? m : `${toJson(m, false)} (not a string)`);
      });
  }
  throw new JqError(`${ast.name}/${ast.args.length} is not defined`);
}

function contains(a: Json, b: Json): boolean {
  if (typeof a === 'string' && typeof b === 'string') return a.includes(b);
  if (Array.isArray(a) && Array.isArray(b)) return b.every((y) => a.some((x) => contains(x, y)));
  if (isObject(a) && isObject(b)) return [...b].every(([k, v]) => a.has(k) && contains(a.get(k)!, v));
  if (typeName(a) !== typeName(b)) throw new JqError(`${described(a)} and ${described(b)} cannot have their containment checked`);
  return compare(a, b) === 0;
}

// ---- the program ----

export const jq = program((ctx, argv) => {
  let raw = false;
  let compact = false;
  let join = false;
  let exitStatus = false;
  let slurp = false;
  let nullInput = false;
  let filter: string | undefined;
  const files: string[] = [];
  const env = new Map<string, Json>();
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--arg' || a === '--argjson') {
      const [name, value] = [argv[i + 1], argv[i + 2]];
      if (name === undefined || value === undefined) {
        ctx.stderr.write(`jq: ${a} takes two parameters (e.g. ${a} varname ${a === '--arg' ? 'value' : 'text'})\nUse jq --help for help with command-line options,\nor see the jq manpage, or online docs  at https://stedolan.github.io/jq\n`);
        return 2;
      }
      env.set(name, a === '--arg' ? value : (parseJsonStream(value)[0]?.value ?? null));
      i += 2;
    } else if (a === '--raw-output') raw = true;
    else if (a === '--compact-output') compact = true;
    else if (a === '--slurp') slurp = true;
    else if (a === '--null-input') nullInput = true;
    else if (/^-[rcjesnaCM]+$/.test(a)) {
      for (const f of a.slice(1)) {
        if (f === 'r') raw = true;
        if (f === 'c') compact = true;
        if (f === 'j') (raw = true), (join = true);
        if (f === 'e') exitStatus = true;
        if (f === 's') slurp = true;
        if (f === 'n') nullInput = true;
      }
    } else if (a.startsWith('-') && a !== '-') {
      ctx.stderr.write(`jq: Unknown option: ${a}\nUse jq --help for help with command-line options,\nor see the jq manpage, or online docs  at https://stedolan.github.io/jq\n`);
      return 2;
    } else if (filter === undefined) filter = a;
    else files.push(a);
  }
  // Without a filter and without a terminal, jq 1.6 copies its input.
  filter ??= '.';
  let ast: Ast;
  try {
    ast = new Parser(lex(filter)).program();
    checkCalls(ast);
  } catch (e) {
    if (!(e instanceof JqCompileError)) throw e;
    const syntax = e.message.startsWith('unexpected');
    ctx.stderr.write(`jq: error: ${syntax ? `syntax error, ${e.message} (Unix shell quoting issues?)` : e.message} at <top-level>, line 1:\n${filter}\njq: 1 compile error\n`);
    return 3;
  }
  let text = ctx.stdin;
  if (files.length > 0) {
    text = '';
    for (const file of files) {
      const read = readFile(ctx, file);
      if (!read.ok) {
        ctx.stderr.write(`jq: error: Could not open ${file}: ${read.error}\n`);
        return 2;
      }
      text += read.text;
    }
  }
  let inputs: Array<{ value: Json; line: number }>;
  let parseError: string | null = null;
  try {
    inputs = nullInput ? [{ value: null, line: 0 }] : parseJsonStream(text);
  } catch (e) {
    if (!(e instanceof JsonParseError)) throw e;
    inputs = [];
    parseError = e.message;
  }
  if (slurp && !nullInput) inputs = [{ value: inputs.map((i) => i.value), line: inputs[inputs.length - 1]?.line ?? 0 }];
  let status = 0;
  let last: Json | undefined;
  for (const { value, line } of inputs) {
    try {
      for (const out of evaluate(ast, value, env)) {
        last = out;
        ctx.stdout.write((raw && typeof out === 'string' ? out : toJson(out, !compact)) + (join ? '' : '\n'));
      }
    } catch (e) {
      if (!(e instanceof JqError)) throw e;
      ctx.stderr.write(`jq: error (at <stdin>:${line}): ${e.message}\n`);
      status = 5;
    }
  }
  if (parseError !== null) {
    ctx.stderr.write(`parse error: ${parseError}\n`);
    return 4;
  }
  if (status === 0 && exitStatus) return last === undefined ? 4 : truthy(last) ? 0 : 1;
  return status;
});
