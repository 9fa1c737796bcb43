// `awk`: the part of the language people use on `ip` and `ping` output —
// patterns (regex, comparisons, BEGIN/END), fields, NR/NF/FS/OFS, variables,
// arrays and split(), print/printf, if/else, for/while loops, next/exit, and
// the common string functions. Errors read as gawk's, the awk Debian installs.
import { program, type ProcContext } from './process';
import { readFile } from './fs';
import { CONVERSION, formatConversion, formatG } from './format';

type Value = string | number;

type Expr =
  | { kind: 'num'; value: number }
  | { kind: 'str'; value: string }
  | { kind: 'regex'; source: string }
  | { kind: 'var'; name: string }
  | { kind: 'elem'; name: string; key: Expr[] }
  | { kind: 'in'; key: Expr[]; array: string }
  | { kind: 'field'; index: Expr }
  | { kind: 'unary'; op: string; arg: Expr }
  | { kind: 'binary'; op: string; left: Expr; right: Expr }
  | { kind: 'assign'; op: string; target: Expr; value: Expr }
  | { kind: 'incr'; op: '++' | '--'; prefix: boolean; target: Expr }
  | { kind: 'ternary'; test: Expr; then: Expr; otherwise: Expr }
  | { kind: 'call'; name: string; args: Expr[] };

type Stmt =
  | { kind: 'print'; args: Expr[] }
  | { kind: 'printf'; args: Expr[] }
  | { kind: 'expr'; expr: Expr }
  | { kind: 'if'; test: Expr; then: Stmt[]; otherwise: Stmt[] }
  | { kind: 'next' }
  | { kind: 'for'; init: Expr | null; test: Expr | null; step: Expr | null; body: Stmt[] }
  | { kind: 'forIn'; variable: string; array: string; body: Stmt[] }
  | { kind: 'while'; test: Expr; body: Stmt[] }
  | { kind: 'delete'; array: string; key: Expr[] | null }
  | { kind: 'break' }
  | { kind: 'continue' }
  | { kind: 'exit'; code: Expr | null };

interface Rule {
  pattern: 'BEGIN' | 'END' | Expr | null;
  action: Stmt[] | null;
}

class AwkSyntaxError extends Error {
  constructor(readonly at: number) {
    super('syntax error');
  }
}

class AwkFatal extends Error {}

const FUNCTIONS = new Set(['length', 'substr', 'index', 'tolower', 'toupper', 'int', 'sprintf', 'split']);

/** Joins the subscripts of `a[i, j]`. */
const SUBSEP = '\x1c';

/** A loop that runs this often is stopped: the simulated machine has no Ctrl-C for a busy loop. */
const MAX_LOOP_ITERATIONS = 1_000_000;

/** Tokens: numbers, strings, regex literals (where an operand may start), names, $, operators, newlines. */
interface Token {
  type: 'num' | 'str' | 'regex' | 'name' | 'op' | 'nl' | 'eof';
  text: string;
  at: number;
}

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  const operandEnds = (t: Token | undefined) => t !== undefined && (t.type === 'num' || t.type === 'str' || t.type === 'name' || t.type === 'regex' || t.text === ')' || t.text === '++' || t.text === '--');
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === ' ' || c === '\t') {
      i++;
    } else if (c === '\\' && src[i + 1] === '\n') {
      i += 2;
    } else if (c === '#') {
      while (i < src.length && src[i] !== '\n') i++;
    } else if (c === '\n' || c === ';') {
      tokens.push({ type: 'nl', text: c, at: i++ });
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const m = /^(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?)/.exec(src.slice(i))!;
      tokens.push({ type: 'num', text: m[0], at: i });
      i += m[0].length;
    } else if (c === '"') {
      let j = i + 1;
      let text = '';
      while (j < src.length && src[j] !== '"') {
        if (src[j] === '\\' && j + 1 < src.length) {
          const e = src[++j]!;
          text += e === 'n' ? '\n' : e === 't' ? '\t' : e === '\\' ? '\\' : e === '"' ? '"' : e === '/' ? '/' : `\\${e}`;
        } else text += src[j];
        j++;
      }
      if (j >= src.length) throw new AwkSyntaxError(i);
      tokens.push({ type: 'str', text, at: i });
      i = j + 1;
    } else if (c === '/' && !operandEnds(tokens[tokens.length - 1])) {
      let j = i + 1;
      while (j < src.length && src[j] !== '/') j += src[j] === '\\' ? 2 : 1;
      if (j >= src.length) throw new AwkSyntaxError(i);
      tokens.push({ type: 'regex', text: src.slice(i + 1, j).replace(/\\\//g, '/'), at: i });
      i = j + 1;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_]\w*/.exec(src.slice(i))!;
      tokens.push({ type: 'name', text: m[0], at: i });
      i += m[0].length;
    } else {
      const op = ['&&', '||', '==', '!=', '<=', '>=', '!~', '++', '--', '+=', '-=', '*=', '/=', '%=', '^='].find((o) => src.startsWith(o, i)) ?? c;
      if (!'{}()[]$,<>=!~+-*/%^?:&|'.includes(op[0]!)) throw new AwkSyntaxError(i);
      tokens.push({ type: 'op', text: op, at: i });
      i += op.length;
    }
  }
  tokens.push({ type: 'eof', text: '', at: src.length });
  return tokens;
}

class Parser {
  private pos = 0;

  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.pos]!;
  }

  private next(): Token {
    return this.tokens[this.pos++]!;
  }

  private isOp(text: string): boolean {
    const t = this.peek();
    return t.type === 'op' && t.text === text;
  }

  private expect(text: string): void {
    if (!this.isOp(text)) throw new AwkSyntaxError(this.peek().at);
    this.pos++;
  }

  private skipNewlines(): void {
    while (this.peek().type === 'nl') this.pos++;
  }

  program(): Rule[] {
    const rules: Rule[] = [];
    this.skipNewlines();
    while (this.peek().type !== 'eof') {
      let pattern: Rule['pattern'] = null;
      const t = this.peek();
      if (t.type === 'name' && (t.text === 'BEGIN' || t.text === 'END')) {
        this.pos++;
        pattern = t.text;
      } else if (!this.isOp('{')) pattern = this.expr();
      const action = this.isOp('{') ? this.block() : null;
      if (action === null && (pattern === 'BEGIN' || pattern === 'END')) throw new AwkSyntaxError(this.peek().at);
      rules.push({ pattern, action });
      this.skipNewlines();
    }
    return rules;
  }

  private block(): Stmt[] {
    this.expect('{');
    const body: Stmt[] = [];
    this.skipNewlines();
    while (!this.isOp('}')) {
      if (this.peek().type === 'eof') throw new AwkSyntaxError(this.peek().at);
      body.push(this.statement());
      if (this.peek().type === 'nl') this.skipNewlines();
      else if (!this.isOp('}')) throw new AwkSyntaxError(this.peek().at);
    }
    this.pos++;
    return body;
  }

  private statement(): Stmt {
    const t = this.peek();
    if (t.type === 'op' && t.text === '{') return { kind: 'if', test: { kind: 'num', value: 1 }, then: this.block(), otherwise: [] };
    if (t.type === 'name') {
      if (t.text === 'print' || t.text === 'printf') {
        this.pos++;
        const args: Expr[] = [];
        const grouped = this.isOp('(') && this.groupedArgs();
        if (grouped) args.push(...grouped);
        else if (this.peek().type !== 'nl' && !this.isOp('}')) {
          args.push(this.expr(true));
          while (this.isOp(',')) {
            this.pos++;
            args.push(this.expr(true));
          }
        }
        if (this.isOp('>')) throw new AwkFatal('output redirection is not simulated');
        if (t.text === 'printf' && args.length === 0) throw new AwkSyntaxError(this.peek().at);
        return { kind: t.text, args };
      }
      if (t.text === 'next' || t.text === 'break' || t.text === 'continue') {
        this.pos++;
        return { kind: t.text };
      }
      if (t.text === 'delete') {
        this.pos++;
        const name = this.next();
        if (name.type !== 'name') throw new AwkSyntaxError(name.at);
        return { kind: 'delete', array: name.text, key: this.isOp('[') ? this.subscripts() : null };
      }
      if (t.text === 'while') {
        this.pos++;
        this.expect('(');
        const test = this.expr();
        this.expect(')');
        return { kind: 'while', test, body: this.body() };
      }
      if (t.text === 'for') {
        this.pos++;
        this.expect('(');
        const [v, kw, arr, close] = this.tokens.slice(this.pos, this.pos + 4);
        if (v?.type === 'name' && kw?.type === 'name' && kw.text === 'in' && arr?.type === 'name' && close?.text === ')') {
          this.pos += 4;
          return { kind: 'forIn', variable: v.text, array: arr.text, body: this.body() };
        }
        const init = this.peek().text === ';' ? null : this.expr();
        this.expectSemicolon();
        const test = this.peek().text === ';' ? null : this.expr();
        this.expectSemicolon();
        const step = this.isOp(')') ? null : this.expr();
        this.expect(')');
        return { kind: 'for', init, test, step, body: this.body() };
      }
      if (t.text === 'exit') {
        this.pos++;
        return { kind: 'exit', code: this.peek().type === 'nl' || this.isOp('}') ? null : this.expr() };
      }
      if (t.text === 'if') {
        this.pos++;
        this.expect('(');
        const test = this.expr();
        this.expect(')');
        this.skipNewlines();
        const then = this.isOp('{') ? this.block() : [this.statement()];
        const save = this.pos;
        this.skipNewlines();
        if (this.peek().type === 'name' && this.peek().text === 'else') {
          this.pos++;
          this.skipNewlines();
          return { kind: 'if', test, then, otherwise: this.isOp('{') ? this.block() : [this.statement()] };
        }
        this.pos = save;
        return { kind: 'if', test, then, otherwise: [] };
      }
    }
    return { kind: 'expr', expr: this.expr() };
  }

  private expectSemicolon(): void {
    const t = this.next();
    if (t.type !== 'nl' || t.text !== ';') throw new AwkSyntaxError(t.at);
  }

  /** A loop's body: a block or one statement, possibly on the next line. */
  private body(): Stmt[] {
    this.skipNewlines();
    return this.isOp('{') ? this.block() : [this.statement()];
  }

  /** `[expr, expr…]` */
  private subscripts(): Expr[] {
    this.expect('[');
    const key = [this.expr()];
    while (this.isOp(',')) {
      this.pos++;
      key.push(this.expr());
    }
    this.expect(']');
    return key;
  }

  /** `print (a, b)`: a parenthesised list; a single parenthesised expression is left to expr(). */
  private groupedArgs(): Expr[] | null {
    const save = this.pos;
    this.pos++;
    const args = [this.expr()];
    while (this.isOp(',')) {
      this.pos++;
      args.push(this.expr());
    }
    if (this.isOp(')') && args.length > 1) {
      this.pos++;
      if (this.peek().type === 'nl' || this.isOp('}') || this.peek().type === 'eof') return args;
    }
    this.pos = save;
    return null;
  }

  /** `noGreater`: inside print, `>` is redirection, not comparison. */
  expr(noGreater = false): Expr {
    return this.ternary(noGreater);
  }

  private ternary(ng: boolean): Expr {
    const test = this.or(ng);
    if (!this.isOp('?')) return this.assignment(test, ng);
    this.pos++;
    const then = this.ternary(ng);
    this.expect(':');
    return { kind: 'ternary', test, then, otherwise: this.ternary(ng) };
  }

  private assignment(target: Expr, ng: boolean): Expr {
    const t = this.peek();
    if (t.type === 'op' && ['=', '+=', '-=', '*=', '/=', '%=', '^='].includes(t.text)) {
      if (target.kind !== 'var' && target.kind !== 'field' && target.kind !== 'elem') throw new AwkSyntaxError(t.at);
      this.pos++;
      return { kind: 'assign', op: t.text, target, value: this.ternary(ng) };
    }
    return target;
  }

  private or(ng: boolean): Expr {
    let left = this.and(ng);
    while (this.isOp('||')) {
      this.pos++;
      this.skipNewlines();
      left = { kind: 'binary', op: '||', left, right: this.and(ng) };
    }
    return left;
  }

  private and(ng: boolean): Expr {
    let left = this.match(ng);
    while (this.isOp('&&')) {
      this.pos++;
      this.skipNewlines();
      left = { kind: 'binary', op: '&&', left, right: this.match(ng) };
    }
    return left;
  }

  private match(ng: boolean): Expr {
    let left = this.comparison(ng);
    for (;;) {
      if (this.isOp('~') || this.isOp('!~')) {
        const op = this.next().text;
        left = { kind: 'binary', op, left, right: this.comparison(ng) };
      } else if (this.peek().type === 'name' && this.peek().text === 'in') {
        this.pos++;
        const array = this.next();
        if (array.type !== 'name') throw new AwkSyntaxError(array.at);
        left = { kind: 'in', key: [left], array: array.text };
      } else return left;
    }
  }

  private comparison(ng: boolean): Expr {
    const left = this.concat();
    const t = this.peek();
    if (t.type === 'op' && ['<', '<=', '==', '!=', '>=', ...(ng ? [] : ['>'])].includes(t.text)) {
      this.pos++;
      return { kind: 'binary', op: t.text, left, right: this.concat() };
    }
    return left;
  }

  private startsOperand(): boolean {
    const t = this.peek();
    if (t.type === 'num' || t.type === 'str' || t.type === 'regex') return true;
    if (t.type === 'name') return !['in', 'getline'].includes(t.text);
    // A leading + or - continues an addition, never starts a concatenated operand.
    return t.type === 'op' && ['$', '(', '++', '--'].includes(t.text);
  }

  private concat(): Expr {
    let left = this.additive();
    while (this.startsOperand()) left = { kind: 'binary', op: 'concat', left, right: this.additive() };
    return left;
  }

  private additive(): Expr {
    let left = this.multiplicative();
    while (this.isOp('+') || this.isOp('-')) {
      const op = this.next().text;
      left = { kind: 'binary', op, left, right: this.multiplicative() };
    }
    return left;
  }

  private multiplicative(): Expr {
    let left = this.unary();
    while (this.isOp('*') || this.isOp('/') || this.isOp('%')) {
      const op = this.next().text;
      left = { kind: 'binary', op, left, right: this.unary() };
    }
    return left;
  }

  private unary(): Expr {
    if (this.isOp('!') || this.isOp('-') || this.isOp('+')) {
      const op = this.next().text;
      return { kind: 'unary', op, arg: this.unary() };
    }
    return this.power();
  }

  private power(): Expr {
    const base = this.postfix();
    if (this.isOp('^')) {
      this.pos++;
      return { kind: 'binary', op: '^', left: base, right: this.unary() };
    }
    return base;
  }

  private postfix(): Expr {
    if (this.isOp('++') || this.isOp('--')) {
      const op = this.next().text as '++' | '--';
      return { kind: 'incr', op, prefix: true, target: this.primary() };
    }
    const e = this.primary();
    if ((e.kind === 'var' || e.kind === 'field' || e.kind === 'elem') && (this.isOp('++') || this.isOp('--'))) {
      return { kind: 'incr', op: this.next().text as '++' | '--', prefix: false, target: e };
    }
    return e;
  }

  private primary(): Expr {
    const t = this.next();
    if (t.type === 'num') return { kind: 'num', value: Number(t.text) };
    if (t.type === 'str') return { kind: 'str', value: t.text };
    if (t.type === 'regex') return { kind: 'regex', source: t.text };
    if (t.type === 'op' && t.text === '$') return { kind: 'field', index: this.primaryForField() };
    if (t.type === 'op' && t.text === '(') {
      const e = this.expr();
      this.expect(')');
      return e;
    }
    if (t.type === 'name') {
      if (FUNCTIONS.has(t.text)) {
        const args: Expr[] = [];
        if (this.isOp('(')) {
          this.pos++;
          if (!this.isOp(')')) {
            args.push(this.expr());
            while (this.isOp(',')) {
              this.pos++;
              args.push(this.expr());
            }
          }
          this.expect(')');
        } else if (t.text !== 'length') throw new AwkSyntaxError(this.peek().at);
        return { kind: 'call', name: t.text, args };
      }
      if (['print', 'printf', 'if', 'else', 'next', 'exit', 'BEGIN', 'END', 'function', 'getline', 'in', 'for', 'while', 'delete', 'break', 'continue'].includes(t.text)) throw new AwkSyntaxError(t.at);
      if (this.isOp('[')) return { kind: 'elem', name: t.text, key: this.subscripts() };
      return { kind: 'var', name: t.text };
    }
    throw new AwkSyntaxError(t.at);
  }

  /** `$NF`, `$1`, `$(i+1)`, `$i++` binds as `($i)++`. */
  private primaryForField(): Expr {
    if (this.isOp('-')) {
      this.pos++;
      return { kind: 'unary', op: '-', arg: this.primary() };
    }
    return this.primary();
  }
}

/** The number a string starts with, as awk converts it ("10.1.1.1/24" is 10.1). */
function toNumber(v: Value): number {
  if (typeof v === 'number') return v;
  const m = /^\s*[-+]?(\d+\.?\d*([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?)/.exec(v);
  return m ? Number(m[0]) : 0;
}

function toText(v: Value): string {
  if (typeof v === 'string') return v;
  if (Number.isInteger(v)) return String(v);
  return formatG(v, 6);
}

/** A field or input that looks like a number compares as one (awk's strnum). */
function looksNumeric(v: Value): boolean {
  return typeof v === 'number' || /^\s*[-+]?(\d+\.?\d*([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?)\s*$/.test(v);
}

function sprintf(format: string, args: Value[]): string {
  let out = '';
  let n = 0;
  for (let i = 0; i < format.length; i++) {
    const spec = format[i] === '%' ? CONVERSION.exec(format.slice(i + 1)) : null;
    if (!spec) {
      out += format[i];
      continue;
    }
    i += spec[0].length;
    if (spec[4] === '%') {
      out += '%';
      continue;
    }
    const arg = args[n++] ?? '';
    const conv = { flags: spec[1]!, width: Number(spec[2] ?? 0), precision: spec[3] === undefined ? null : Number(spec[3]), conv: spec[4] === 'b' ? 's' : spec[4]! };
    const text = conv.conv === 'c' && typeof arg === 'number' ? String.fromCharCode(arg) : toText(arg);
    out += formatConversion(conv, text, toNumber(arg));
  }
  return out;
}

class NextRecord {}
class BreakLoop {}
class ContinueLoop {}
class ExitProgram {
  constructor(readonly code: number) {}
}

class Interpreter {
  vars = new Map<string, Value>();
  arrays = new Map<string, Map<string, Value>>();
  fields: string[] = [''];
  out = '';

  constructor(fs: string) {
    this.vars.set('FS', fs);
    this.vars.set('OFS', ' ');
    this.vars.set('ORS', '\n');
    this.vars.set('NR', 0);
    this.vars.set('NF', 0);
  }

  setRecord(line: string): void {
    this.fields = [line, ...this.split(line)];
    this.vars.set('NF', this.fields.length - 1);
  }

  private array(name: string): Map<string, Value> {
    let array = this.arrays.get(name);
    if (!array) {
      if (this.vars.has(name)) throw new AwkFatal(`attempt to use scalar \`${name}' as an array`);
      array = new Map();
      this.arrays.set(name, array);
    }
    return array;
  }

  private key(subscripts: Expr[]): string {
    return subscripts.map((k) => toText(this.eval(k))).join(SUBSEP);
  }

  /** Runs a loop body; true when it asked to break out. */
  private loopBody(body: Stmt[]): boolean {
    try {
      this.run(body);
    } catch (e) {
      if (e instanceof BreakLoop) return true;
      if (!(e instanceof ContinueLoop)) throw e;
    }
    return false;
  }

  private split(line: string, fs = toText(this.vars.get('FS') ?? ' ')): string[] {
    if (fs === ' ') return line.split(/[ \t\n]+/).filter((f) => f !== '');
    if (line === '') return [];
    if (fs.length === 1 && fs !== '\\') return line.split(fs);
    return line.split(new RegExp(fs));
  }

  private rebuild(): void {
    this.fields[0] = this.fields.slice(1).join(toText(this.vars.get('OFS')!));
  }

  run(stmts: Stmt[]): void {
    for (const s of stmts) this.exec(s);
  }

  private exec(s: Stmt): void {
    switch (s.kind) {
      case 'print': {
        const parts = s.args.length === 0 ? [this.fields[0]!] : s.args.map((a) => toText(this.eval(a)));
        this.out += parts.join(toText(this.vars.get('OFS')!)) + toText(this.vars.get('ORS')!);
        return;
      }
      case 'printf': {
        const [fmt, ...rest] = s.args.map((a) => this.eval(a));
        this.out += sprintf(toText(fmt!), rest);
        return;
      }
      case 'expr':
        this.eval(s.expr);
        return;
      case 'if':
        this.run(this.truthy(this.eval(s.test)) ? s.then : s.otherwise);
        return;
      case 'next':
        throw new NextRecord();
      case 'break':
        throw new BreakLoop();
      case 'continue':
        throw new ContinueLoop();
      case 'delete':
        if (s.key === null) this.array(s.array).clear();
        else this.array(s.array).delete(this.key(s.key));
        return;
      case 'forIn':
        for (const key of [...this.array(s.array).keys()]) {
          this.vars.set(s.variable, key);
          if (this.loopBody(s.body)) break;
        }
        return;
      case 'while':
      case 'for': {
        if (s.kind === 'for' && s.init) this.eval(s.init);
        for (let n = 0; ; n++) {
          if (s.test && !this.truthy(this.eval(s.test))) break;
          if (n >= MAX_LOOP_ITERATIONS) throw new AwkFatal(`loop stopped after ${MAX_LOOP_ITERATIONS} iterations`);
          if (this.loopBody(s.body)) break;
          if (s.kind === 'for' && s.step) this.eval(s.step);
        }
        return;
      }
      case 'exit':
        throw new ExitProgram(s.code ? toNumber(this.eval(s.code)) : 0);
    }
  }

  truthy(v: Value): boolean {
    return typeof v === 'number' ? v !== 0 : v !== '';
  }

  matches(e: Expr): boolean {
    return this.truthy(this.eval(e));
  }

  private regex(e: Expr): RegExp {
    const source = e.kind === 'regex' ? e.source : toText(this.eval(e));
    return new RegExp(source);
  }

  private get(target: Expr): Value {
    if (target.kind === 'var') return this.vars.get(target.name) ?? '';
    if (target.kind === 'elem') {
      // Referencing an element creates it, as in awk.
      const array = this.array(target.name);
      const key = this.key(target.key);
      if (!array.has(key)) array.set(key, '');
      return array.get(key)!;
    }
    const i = Math.trunc(toNumber(this.eval((target as { index: Expr }).index)));
    if (i < 0) throw new AwkFatal(`attempt to access field ${i}`);
    return this.fields[i] ?? '';
  }

  private set(target: Expr, value: Value): Value {
    if (target.kind === 'elem') {
      this.array(target.name).set(this.key(target.key), value);
      return value;
    }
    if (target.kind === 'var') {
      this.vars.set(target.name, value);
      if (target.name === 'NF') {
        this.fields.length = toNumber(value) + 1;
        for (let i = 1; i < this.fields.length; i++) this.fields[i] ??= '';
        this.rebuild();
      }
      return value;
    }
    const i = Math.trunc(toNumber(this.eval((target as { index: Expr }).index)));
    if (i < 0) throw new AwkFatal(`attempt to access field ${i}`);
    if (i === 0) this.setRecord(toText(value));
    else {
      while (this.fields.length <= i) this.fields.push('');
      this.fields[i] = toText(value);
      this.vars.set('NF', this.fields.length - 1);
      this.rebuild();
    }
    return value;
  }

  eval(e: Expr): Value {
    switch (e.kind) {
      case 'num':
        return e.value;
      case 'str':
        return e.value;
      case 'regex':
        return new RegExp(e.source).test(this.fields[0]!) ? 1 : 0;
      case 'var':
      case 'field':
      case 'elem':
        return this.get(e);
      case 'in':
        return this.array(e.array).has(this.key(e.key)) ? 1 : 0;
      case 'unary': {
        const v = this.eval(e.arg);
        if (e.op === '!') return this.truthy(v) ? 0 : 1;
        return e.op === '-' ? -toNumber(v) : toNumber(v);
      }
      case 'ternary':
        return this.truthy(this.eval(e.test)) ? this.eval(e.then) : this.eval(e.otherwise);
      case 'incr': {
        const old = toNumber(this.get(e.target));
        const now = e.op === '++' ? old + 1 : old - 1;
        this.set(e.target, now);
        return e.prefix ? now : old;
      }
      case 'assign': {
        const value = this.eval(e.value);
        if (e.op === '=') return this.set(e.target, value);
        return this.set(e.target, arithmetic(e.op.slice(0, 1), toNumber(this.get(e.target)), toNumber(value)));
      }
      case 'call':
        return this.call(e.name, e.args);
      case 'binary':
        return this.binary(e);
    }
  }

  private binary(e: Extract<Expr, { kind: 'binary' }>): Value {
    switch (e.op) {
      case '&&':
        return this.truthy(this.eval(e.left)) && this.truthy(this.eval(e.right)) ? 1 : 0;
      case '||':
        return this.truthy(this.eval(e.left)) || this.truthy(this.eval(e.right)) ? 1 : 0;
      case '~':
      case '!~': {
        const hit = this.regex(e.right).test(toText(this.eval(e.left)));
        return hit === (e.op === '~') ? 1 : 0;
      }
      case 'concat':
        return toText(this.eval(e.left)) + toText(this.eval(e.right));
      case '<':
      case '<=':
      case '>':
      case '>=':
      case '==':
      case '!=': {
        const l = this.eval(e.left);
        const r = this.eval(e.right);
        const numeric = looksNumeric(l) && looksNumeric(r) && !(e.left.kind === 'str' || e.right.kind === 'str');
        const cmp = numeric ? toNumber(l) - toNumber(r) : toText(l) < toText(r) ? -1 : toText(l) > toText(r) ? 1 : 0;
        const ok = { '<': cmp < 0, '<=': cmp <= 0, '>': cmp > 0, '>=': cmp >= 0, '==': cmp === 0, '!=': cmp !== 0 }[e.op];
        return ok ? 1 : 0;
      }
      default:
        return arithmetic(e.op, toNumber(this.eval(e.left)), toNumber(this.eval(e.right)));
    }
  }

  private call(name: string, args: Expr[]): Value {
    if (name === 'split') {
      const target = args[1];
      if (args.length < 2 || target?.kind !== 'var') throw new AwkFatal('split: second argument is not an array');
      const separator = args[2] === undefined ? undefined : args[2].kind === 'regex' ? args[2].source : toText(this.eval(args[2]));
      const parts = this.split(toText(this.eval(args[0]!)), separator);
      const array = this.array(target.name);
      array.clear();
      parts.forEach((part, i) => array.set(String(i + 1), part));
      return parts.length;
    }
    if (name === 'length' && args[0]?.kind === 'var' && this.arrays.has(args[0].name)) return this.arrays.get(args[0].name)!.size;
    const v = args.map((a) => this.eval(a));
    switch (name) {
      case 'length':
        return toText(v[0] ?? this.fields[0]!).length;
      case 'substr': {
        const s = toText(v[0] ?? '');
        const start = Math.round(toNumber(v[1] ?? 1));
        const len = v[2] === undefined ? Infinity : Math.round(toNumber(v[2]));
        const from = Math.max(start, 1);
        const to = start + len;
        return to <= from ? '' : s.slice(from - 1, to - 1);
      }
      case 'index':
        return toText(v[0] ?? '').indexOf(toText(v[1] ?? '')) + 1;
      case 'tolower':
        return toText(v[0] ?? '').toLowerCase();
      case 'toupper':
        return toText(v[0] ?? '').toUpperCase();
      case 'int':
        return Math.trunc(toNumber(v[0] ?? 0));
      default:
        return sprintf(toText(v[0] ?? ''), v.slice(1));
    }
  }
}

function arithmetic(op: string, l: number, r: number): number {
  switch (op) {
    case '+':
      return l + r;
    case '-':
      return l - r;
    case '*':
      return l * r;
    case '^':
      return l ** r;
    default:
      if (r === 0) throw new AwkFatal(op === '%' ? 'division by zero attempted in `%\'' : 'division by zero attempted');
      return op === '/' ? l / r : l % r;
  }
}

function unescapeFs(fs: string): string {
  return fs === 't' ? '\t' : fs.replace(/\\t/g, '\t');
}

function syntaxError(ctx: ProcContext, src: string, at: number): number {
  const line = src.split('\n')[0]!;
  const what = at >= src.length ? 'unexpected newline or end of string' : 'syntax error';
  ctx.stderr.write(`awk: cmd. line:1: ${line}\nawk: cmd. line:1: ${' '.repeat(Math.min(at, line.length))}^ ${what}\n`);
  return 1;
}

export const awk = program((ctx, argv) => {
  let fs = ' ';
  const assigns: Array<[string, string]> = [];
  let i = 1;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      i++;
      break;
    }
    if (a === '-F') fs = unescapeFs(argv[++i] ?? ' ');
    else if (a.startsWith('-F')) fs = unescapeFs(a.slice(2));
    else if (a === '-v') {
      const m = /^([A-Za-z_]\w*)=(.*)$/s.exec(argv[++i] ?? '');
      if (!m) {
        ctx.stderr.write(`awk: \`${argv[i] ?? ''}' argument to \`-v' not in \`var=value' form\n`);
        return 2;
      }
      assigns.push([m[1]!, m[2]!]);
    } else if (a.startsWith('-') && a !== '-') {
      ctx.stderr.write(`awk: ${a}: option not simulated by nslab\n`);
      return 2;
    } else break;
  }
  const src = argv[i++];
  if (src === undefined) {
    ctx.stderr.write('Usage: awk [POSIX or GNU style options] -f progfile [--] file ...\nUsage: awk [POSIX or GNU style options] [--] \'program\' file ...\n');
    return 2;
  }
  let rules: Rule[];
  try {
    rules = new Parser(tokenize(src)).program();
  } catch (e) {
    if (e instanceof AwkSyntaxError) return syntaxError(ctx, src, e.at);
    if (e instanceof AwkFatal) {
      ctx.stderr.write(`awk: cmd. line:1: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const awkState = new Interpreter(fs);
  for (const [name, value] of assigns) awkState.vars.set(name, value);
  const flush = () => {
    ctx.stdout.write(awkState.out);
    awkState.out = '';
  };
  let status = 0;
  try {
    for (const rule of rules) if (rule.pattern === 'BEGIN') awkState.run(rule.action!);
    const mains = rules.filter((r) => r.pattern !== 'BEGIN' && r.pattern !== 'END');
    const hasInput = mains.length > 0 || rules.some((r) => r.pattern === 'END');
    if (hasInput) {
      const files = argv.slice(i);
      const sources: string[] = [];
      if (files.length === 0) sources.push(ctx.stdin);
      for (const file of files) {
        if (file === '-') sources.push(ctx.stdin);
        else {
          const r = readFile(ctx, file);
          if (!r.ok) {
            flush();
            ctx.stderr.write(`awk: fatal: cannot open file \`${file}' for reading: ${r.error}\n`);
            return 2;
          }
          sources.push(r.text);
        }
      }
      for (const text of sources) {
        const records = text.split('\n');
        if (records[records.length - 1] === '') records.pop();
        for (const record of records) {
          awkState.vars.set('NR', toNumber(awkState.vars.get('NR')!) + 1);
          awkState.setRecord(record);
          try {
            for (const rule of mains) {
              if (rule.pattern !== null && !awkState.matches(rule.pattern as Expr)) continue;
              if (rule.action) awkState.run(rule.action);
              else awkState.out += awkState.fields[0] + '\n';
            }
          } catch (e) {
            if (!(e instanceof NextRecord)) throw e;
          }
        }
      }
    }
    for (const rule of rules) if (rule.pattern === 'END') awkState.run(rule.action!);
  } catch (e) {
    if (e instanceof ExitProgram) status = e.code;
    else if (e instanceof AwkFatal) {
      flush();
      ctx.stderr.write(`awk: cmd. line:1: (FILENAME=- FNR=${toText(awkState.vars.get('NR')!)}) fatal: ${e.message}\n`);
      return 2;
    } else if (e instanceof SyntaxError) {
      flush();
      ctx.stderr.write(`awk: cmd. line:1: fatal: invalid regular expression: ${e.message}\n`);
      return 2;
    } else throw e;
  }
  flush();
  return status;
});
