// Parsing a command line the way bash does for what people type in labs:
// words and quotes, `;` `&&` `||` `&` `|`, redirections, `( … )`,
// `for … in …; do …; done`, `while`/`until`, `if … then … elif … else … fi`,
// `{ …; }`, variables and `${name%pattern}`-style expansions, `$?`, `$((…))` and `$(…)`.

export type Redirect =
  | { fd: 1 | 2; kind: 'file'; path: Word; append: boolean }
  | { fd: 0; kind: 'file'; path: Word; append: false }
  | { fd: 1 | 2; kind: 'dup'; to: 1 | 2 };

/** A word keeps its parts so that expansions happen when the command runs. */
export type WordPart = { text: string; quoted: boolean } | { variable: string; quoted: boolean } | { arithmetic: string } | { substitution: string; quoted: boolean };
export type Word = WordPart[];

export interface SimpleCommand {
  kind: 'simple';
  /** Leading NAME=VALUE words. */
  assignments: Array<{ name: string; value: Word }>;
  argv: Word[];
  redirects: Redirect[];
}

export interface Subshell {
  kind: 'subshell';
  body: ListItem[];
  redirects: Redirect[];
}

export interface ForLoop {
  kind: 'for';
  variable: string;
  words: Word[];
  body: ListItem[];
  redirects: Redirect[];
}

export interface IfClause {
  kind: 'if';
  /** `if`/`elif` conditions with their `then` lists, tried in order. */
  branches: Array<{ condition: ListItem[]; body: ListItem[] }>;
  otherwise: ListItem[] | null;
  redirects: Redirect[];
}

export interface WhileLoop {
  kind: 'while';
  /** `until`: loop while the condition fails. */
  until: boolean;
  condition: ListItem[];
  body: ListItem[];
  redirects: Redirect[];
}

/** `{ …; }`: a list run in the current shell. */
export interface Group {
  kind: 'group';
  body: ListItem[];
  redirects: Redirect[];
}

/** `NAME() { …; }` or `function NAME { …; }`: defines NAME as a shell function. */
export interface FunctionDefinition {
  kind: 'function';
  name: string;
  body: Subshell | ForLoop | IfClause | WhileLoop | Group;
  redirects: Redirect[];
}

export type Command = SimpleCommand | Subshell | ForLoop | IfClause | WhileLoop | Group | FunctionDefinition;

export interface Pipeline {
  negate: boolean;
  commands: Command[];
}

export interface ListItem {
  pipeline: Pipeline;
  /** How this item connects to the next: `;`, `&&`, `||` or `&` (background). */
  then: ';' | '&&' | '||' | '&';
}

export class ShellSyntaxError extends Error {
  constructor(readonly bashMessage: string) {
    super(bashMessage);
  }
}

type Token = { op: string } | { word: Word; raw: string };

const OPERATORS = ['&&', '||', ';;', '>>', '&>', '2>&1', '1>&2', '>&2', '2>>', '2>', '1>>', '1>', '>', '<', '|', '&', ';', '(', ')'];
const OPERATOR_START = new Set(OPERATORS.map((o) => o[0]!));
const WORD_BREAK = new Set([' ', '\t', '\n', ';', '&', '|', '<', '>', '(', ')']);
const VARIABLE = /^\$(\?|#|@|\*|\{#?[A-Za-z_?][A-Za-z_0-9]*(?:(?:%%|%|##|#|:-|:=|:\+|-|\+)[^}]*)?\}|[A-Za-z_][A-Za-z_0-9]*|[0-9])/;

/** The text inside `$(`…`)` or `$((`…`))`, honouring nesting and quotes. */
function balanced(line: string, open: number): number {
  let depth = 0;
  let quote: string | null = null;
  for (let j = open; j < line.length; j++) {
    const c = line[j]!;
    if (quote) {
      if (c === quote) quote = null;
      continue;
    }
    if (c === "'" || c === '"') quote = c;
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return j;
  }
  throw new ShellSyntaxError("unexpected EOF while looking for matching `)'");
}

/** Reads a `$…` expansion at line[i]; returns the part and the index after it, or null. */
function dollar(line: string, i: number, quoted: boolean): [WordPart, number] | null {
  if (line.startsWith('$((', i)) {
    const end = balanced(line, i + 1);
    return [{ arithmetic: line.slice(i + 3, end - 1) }, end + 1];
  }
  if (line.startsWith('$(', i)) {
    const end = balanced(line, i + 1);
    return [{ substitution: line.slice(i + 2, end), quoted }, end + 1];
  }
  const m = VARIABLE.exec(line.slice(i));
  if (!m) return null;
  return [{ variable: m[1]!.startsWith('{') ? m[1]!.slice(1, -1) : m[1]!, quoted }, i + m[0].length];
}

function tokenize(line: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (c === ' ' || c === '\t' || c === '\n') {
      i++;
      continue;
    }
    if (c === '#') break;
    const op = OPERATOR_START.has(c) && OPERATORS.find((o) => line.startsWith(o, i) && (!/^[12]/.test(o) || i === 0 || /[\s;&|(]/.test(line[i - 1]!)));
    if (op) {
      tokens.push({ op });
      i += op.length;
      continue;
    }
    const word: Word = [];
    let raw = '';
    const push = (text: string, quoted: boolean) => {
      const last = word[word.length - 1];
      if (last && 'text' in last && last.quoted === quoted) last.text += text;
      else word.push({ text, quoted });
    };
    while (i < line.length && !WORD_BREAK.has(line[i]!)) {
      const ch = line[i]!;
      const start = i;
      if (ch === "'") {
        const end = line.indexOf("'", i + 1);
        if (end < 0) throw new ShellSyntaxError("unexpected EOF while looking for matching `''");
        push(line.slice(i + 1, end), true);
        i = end + 1;
      } else if (ch === '"') {
        let j = i + 1;
        let text = '';
        let parts = 0;
        while (j < line.length && line[j] !== '"') {
          if (line[j] === '\\' && j + 1 < line.length && '"\\$`'.includes(line[j + 1]!)) {
            text += line[j + 1];
            j += 2;
            continue;
          }
          const exp = line[j] === '$' ? dollar(line, j, true) : null;
          if (exp) {
            if (text) push(text, true);
            text = '';
            word.push(exp[0]);
            parts++;
            j = exp[1];
          } else {
            text += line[j];
            j++;
          }
        }
        if (j >= line.length) throw new ShellSyntaxError('unexpected EOF while looking for matching `"\'');
        if (text || parts === 0) push(text, true);
        i = j + 1;
      } else if (ch === '\\' && i + 1 < line.length) {
        push(line[i + 1]!, true);
        i += 2;
      } else if (ch === '$' && dollar(line, i, false)) {
        const [part, next] = dollar(line, i, false)!;
        word.push(part);
        i = next;
      } else {
        push(ch, false);
        i++;
      }
      raw += line.slice(start, i);
    }
    tokens.push({ word, raw });
  }
  return tokens;
}

const RESERVED_CLOSERS = ['then', 'elif', 'else', 'fi', 'do', 'done', '}'];

function unexpected(tok: Token | undefined): ShellSyntaxError {
  const text = !tok ? 'newline' : 'op' in tok ? tok.op : tok.raw;
  return new ShellSyntaxError(`syntax error near unexpected token \`${text}'`);
}

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token | undefined {
    return this.tokens[this.i];
  }

  private isWord(text: string): boolean {
    const tok = this.peek();
    return tok !== undefined && 'word' in tok && tok.raw === text;
  }

  private isOp(op: string): boolean {
    return this.isOpAt(this.i, op);
  }

  private isOpAt(at: number, op: string): boolean {
    const tok = this.tokens[at];
    return tok !== undefined && 'op' in tok && tok.op === op;
  }

  done(): boolean {
    return this.i >= this.tokens.length;
  }

  /** A list up to the end, or up to one of the reserved words / `)` that close it. */
  list(closers: string[]): ListItem[] {
    const items: ListItem[] = [];
    while (!this.done() && !closers.some((c) => this.isWord(c) || this.isOp(c))) {
      const pipeline = this.pipeline();
      const sep = this.peek();
      if (!sep || closers.some((c) => this.isWord(c) || this.isOp(c))) {
        items.push({ pipeline, then: ';' });
        break;
      }
      if (!('op' in sep) || !['&&', '||', ';', '&'].includes(sep.op)) throw unexpected(sep);
      this.i++;
      items.push({ pipeline, then: sep.op as ListItem['then'] });
      if ((sep.op === '&&' || sep.op === '||') && (this.done() || closers.some((c) => this.isWord(c) || this.isOp(c)))) throw unexpected(this.peek());
    }
    return items;
  }

  private pipeline(): Pipeline {
    const pipeline: Pipeline = { negate: false, commands: [] };
    if (this.isWord('!')) {
      pipeline.negate = true;
      this.i++;
    }
    for (;;) {
      pipeline.commands.push(this.command());
      if (!this.isOp('|')) return pipeline;
      this.i++;
      if (this.done()) throw unexpected(undefined);
    }
  }

  private command(): Command {
    if (this.isOp('(')) {
      this.i++;
      const body = this.list([')']);
      if (!this.isOp(')')) throw new ShellSyntaxError("syntax error: unexpected end of file");
      this.i++;
      if (body.length === 0) throw unexpected({ op: ')' });
      return { kind: 'subshell', body, redirects: this.redirects() };
    }
    if (this.isWord('function') || this.functionName()) return this.functionDefinition();
    if (this.isWord('for')) return this.forLoop();
    if (this.isWord('if')) return this.ifClause();
    if (this.isWord('while') || this.isWord('until')) return this.whileLoop();
    if (this.isWord('{')) {
      this.i++;
      const body = this.list(['}']);
      if (body.length === 0) throw unexpected(this.peek());
      if (!this.isWord('}')) throw new ShellSyntaxError('syntax error: unexpected end of file');
      this.i++;
      return { kind: 'group', body, redirects: this.redirects() };
    }
    // A reserved word no open compound expects cannot start a command.
    if (RESERVED_CLOSERS.some((w) => this.isWord(w))) throw unexpected(this.peek());
    const command: SimpleCommand = { kind: 'simple', assignments: [], argv: [], redirects: [] };
    for (;;) {
      const tok = this.peek();
      if (!tok) break;
      if ('word' in tok) {
        const m = /^([A-Za-z_][A-Za-z_0-9]*)=/.exec(tok.raw);
        if (m && command.argv.length === 0) command.assignments.push({ name: m[1]!, value: stripPrefix(tok.word, m[0].length) });
        else command.argv.push(tok.word);
        this.i++;
        continue;
      }
      const redirect = this.redirect();
      if (!redirect) break;
      command.redirects.push(redirect);
    }
    if (command.argv.length === 0 && command.redirects.length === 0 && command.assignments.length === 0) throw unexpected(this.peek());
    return command;
  }

  /** Whether the next tokens are `NAME ( )`. */
  private functionName(): boolean {
    const tok = this.peek();
    return tok !== undefined && 'word' in tok && /^[A-Za-z_][A-Za-z_0-9-]*$/.test(tok.raw) && this.isOpAt(this.i + 1, '(') && this.isOpAt(this.i + 2, ')');
  }

  private functionDefinition(): FunctionDefinition {
    if (this.isWord('function')) this.i++;
    const nameTok = this.peek();
    if (!nameTok || !('word' in nameTok)) throw unexpected(nameTok);
    this.i++;
    if (this.isOp('(')) {
      this.i++;
      if (!this.isOp(')')) throw unexpected(this.peek());
      this.i++;
    }
    const body = this.command();
    if (body.kind === 'simple' || body.kind === 'function') throw unexpected(this.peek());
    return { kind: 'function', name: nameTok.raw, body, redirects: this.redirects() };
  }

  private forLoop(): ForLoop {
    this.i++;
    const nameTok = this.peek();
    if (!nameTok || !('word' in nameTok) || !/^[A-Za-z_][A-Za-z_0-9]*$/.test(nameTok.raw)) throw unexpected(nameTok);
    this.i++;
    const words: Word[] = [];
    if (this.isWord('in')) {
      this.i++;
      while (this.peek() && 'word' in this.peek()! && !this.isWord('do')) {
        words.push((this.peek() as { word: Word }).word);
        this.i++;
      }
    }
    if (this.isOp(';')) this.i++;
    if (!this.isWord('do')) throw unexpected(this.peek());
    this.i++;
    const body = this.list(['done']);
    if (!this.isWord('done')) throw new ShellSyntaxError('syntax error: unexpected end of file');
    this.i++;
    return { kind: 'for', variable: nameTok.raw, words, body, redirects: this.redirects() };
  }

  private whileLoop(): WhileLoop {
    const until = this.isWord('until');
    this.i++;
    const condition = this.list(['do']);
    if (condition.length === 0 || !this.isWord('do')) throw unexpected(this.peek());
    this.i++;
    const body = this.list(['done']);
    if (body.length === 0) throw unexpected(this.peek());
    if (!this.isWord('done')) throw new ShellSyntaxError('syntax error: unexpected end of file');
    this.i++;
    return { kind: 'while', until, condition, body, redirects: this.redirects() };
  }

  private ifClause(): IfClause {
    const branches: IfClause['branches'] = [];
    let otherwise: ListItem[] | null = null;
    do {
      this.i++;
      const condition = this.list(['then']);
      if (condition.length === 0 || !this.isWord('then')) throw unexpected(this.peek());
      this.i++;
      const body = this.list(['elif', 'else', 'fi']);
      if (body.length === 0) throw unexpected(this.peek());
      branches.push({ condition, body });
    } while (this.isWord('elif'));
    if (this.isWord('else')) {
      this.i++;
      otherwise = this.list(['fi']);
      if (otherwise.length === 0) throw unexpected(this.peek());
    }
    if (!this.isWord('fi')) throw new ShellSyntaxError('syntax error: unexpected end of file');
    this.i++;
    return { kind: 'if', branches, otherwise, redirects: this.redirects() };
  }

  private redirects(): Redirect[] {
    const out: Redirect[] = [];
    for (let r = this.redirect(); r; r = this.redirect()) out.push(r);
    return out;
  }

  private redirect(): Redirect | null {
    const tok = this.peek();
    if (!tok || !('op' in tok)) return null;
    const op = tok.op;
    if (op === '2>&1') {
      this.i++;
      return { fd: 2, kind: 'dup', to: 1 };
    }
    if (op === '1>&2' || op === '>&2') {
      this.i++;
      return { fd: 1, kind: 'dup', to: 2 };
    }
    if (!['>', '>>', '1>', '1>>', '2>', '2>>', '&>', '<'].includes(op)) return null;
    const target = this.tokens[this.i + 1];
    if (!target || !('word' in target)) throw unexpected(target);
    this.i += 2;
    if (op === '<') return { fd: 0, kind: 'file', path: target.word, append: false };
    if (op === '&>') {
      // `&>F` is `>F 2>&1`: the caller sees the file redirect; stderr follows it.
      this.tokens.splice(this.i, 0, { op: '2>&1' });
      return { fd: 1, kind: 'file', path: target.word, append: false };
    }
    return { fd: op.startsWith('2') ? 2 : 1, kind: 'file', path: target.word, append: op.endsWith('>>') };
  }
}

function stripPrefix(word: Word, chars: number): Word {
  const out: Word = [];
  let skip = chars;
  for (const part of word) {
    if (skip > 0 && 'text' in part) {
      if (part.text.length <= skip) {
        skip -= part.text.length;
        continue;
      }
      out.push({ ...part, text: part.text.slice(skip) });
      skip = 0;
    } else out.push(part);
  }
  return out;
}

export function parseLine(line: string): ListItem[] {
  const parser = new Parser(tokenize(line));
  const items = parser.list([]);
  if (!parser.done()) throw unexpected(undefined);
  return items;
}

/** Integer arithmetic of `$((…))`: + - * / % and parentheses over numbers and variables. */
export function evaluateArithmetic(expr: string, lookup: (name: string) => string): number {
  const tokens = expr.match(/\d+|[A-Za-z_][A-Za-z_0-9]*|[-+*/%()]/g) ?? [];
  let pos = 0;
  const primary = (): number => {
    const tok = tokens[pos++];
    if (tok === '(') {
      const v = sum();
      pos++;
      return v;
    }
    if (tok === '-') return -primary();
    if (tok === '+') return primary();
    if (tok === undefined) throw new ShellSyntaxError(`${expr}: syntax error: operand expected (error token is "${expr}")`);
    if (/^\d+$/.test(tok)) return Number(tok);
    return Number(lookup(tok)) || 0;
  };
  const product = (): number => {
    let v = primary();
    while (tokens[pos] === '*' || tokens[pos] === '/' || tokens[pos] === '%') {
      const op = tokens[pos++];
      const r = primary();
      if ((op === '/' || op === '%') && r === 0) throw new ShellSyntaxError(`${expr}: division by 0 (error token is "${r}")`);
      v = op === '*' ? v * r : op === '/' ? Math.trunc(v / r) : v % r;
    }
    return v;
  };
  const sum = (): number => {
    let v = product();
    while (tokens[pos] === '+' || tokens[pos] === '-') v = tokens[pos++] === '+' ? v + product() : v - product();
    return v;
  };
  return sum();
}
