// Parsing command lines and scripts the way bash does for what people type
// and write in labs: words and quotes (with `$'…'`), `;` `&&` `||` `&` `|`
// and newlines, comments, redirections, here-strings and here-documents,
// `( … )`, `{ …; }`, `for … in …` and `for ((…))`, `while`/`until`,
// `if … fi`, `case … esac`, `[[ … ]]`, `(( … ))`, functions, array
// assignments, and expansions: `${…}` in all its forms, `$?`, `$@`,
// `$((…))` and `$(…)`; and the same in Debian's sh (dash), which knows only
// POSIX's part of it.

export type Redirect =
  | { fd: 1 | 2; kind: 'file'; path: Word; append: boolean }
  | { fd: 0; kind: 'file'; path: Word; append: false }
  | { fd: 0; kind: 'string'; text: Word }
  /** `<<EOF` … `EOF`: the lines between, expanded unless the delimiter was quoted. */
  | { fd: 0; kind: 'heredoc'; text: Word }
  | { fd: 1 | 2; kind: 'dup'; to: 1 | 2 };

/** A word keeps its parts so that expansions happen when the command runs. */
export type WordPart =
  | { text: string; quoted: boolean }
  | { variable: string; quoted: boolean }
  | { arithmetic: string }
  | { substitution: string; quoted: boolean }
  /** `<(…)`: the command's output as a file. */
  | { process: string };
export type Word = WordPart[];

/** `NAME=VALUE`, `NAME+=VALUE`, `NAME[SUB]=VALUE` or `NAME=(WORDS…)`. */
export interface Assignment {
  name: string;
  /** The subscript of `NAME[SUB]=`, unexpanded. */
  index?: string;
  append: boolean;
  value: Word;
  array?: Word[];
}

export interface SimpleCommand {
  kind: 'simple';
  /** Leading NAME=VALUE words. */
  assignments: Assignment[];
  argv: Word[];
  redirects: Redirect[];
  /** The line of the script it is on, for error messages. */
  line: number;
}

export interface Subshell {
  kind: 'subshell';
  body: ListItem[];
  redirects: Redirect[];
}

export interface ForLoop {
  kind: 'for';
  variable: string;
  /** null for `for NAME; do`: the positional parameters. */
  words: Word[] | null;
  /** The words as written, which `set -x` shows. */
  written: string;
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

/** `for ((INIT; TEST; STEP))`: empty parts are left out. */
export interface ArithFor {
  kind: 'arith-for';
  init: string;
  test: string;
  step: string;
  body: ListItem[];
  redirects: Redirect[];
}

export interface CaseClause {
  kind: 'case';
  word: Word;
  items: Array<{ patterns: Word[]; body: ListItem[] }>;
  redirects: Redirect[];
}

/** `(( EXPR ))`: true when EXPR is not 0. */
export interface ArithCommand {
  kind: 'arith';
  expression: string;
  redirects: Redirect[];
}

export type CondExpr =
  | { op: '&&' | '||'; left: CondExpr; right: CondExpr }
  | { op: '!'; expr: CondExpr }
  | { op: 'unary'; test: string; arg: Word }
  | { op: 'binary'; test: string; left: Word; right: Word }
  | { op: 'word'; word: Word };

/** `[[ EXPR ]]` */
export interface CondCommand {
  kind: 'cond';
  expr: CondExpr;
  redirects: Redirect[];
}

/** `NAME() COMPOUND` or `function NAME COMPOUND`. */
export interface FunctionDef {
  kind: 'function';
  name: string;
  body: Compound;
  redirects: Redirect[];
}

export type Compound = Subshell | ForLoop | ArithFor | IfClause | WhileLoop | Group | CaseClause | ArithCommand | CondCommand;
export type Command = SimpleCommand | Compound | FunctionDef;

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
  /** The line of the script the error is on, when it is at a token (rather than at the end). */
  line?: number;
  /** The text ended in the middle of a command: more lines of a script may complete it. */
  incomplete = false;

  constructor(
    readonly bashMessage: string,
    /** How Debian's sh (dash) words the same mistake. */
    readonly dashMessage = `Syntax error: ${bashMessage}`,
  ) {
    super(bashMessage);
  }
}

/** An error at the end of the text, which the script's next lines may yet resolve. */
function incomplete(bashMessage: string, dashMessage?: string): ShellSyntaxError {
  const error = new ShellSyntaxError(bashMessage, dashMessage);
  error.incomplete = true;
  return error;
}

/** Which shell reads the line: bash, or Debian's sh (dash), which knows only POSIX syntax. */
export type Dialect = 'bash' | 'sh';

const UNTERMINATED_QUOTE = 'Syntax error: Unterminated quoted string';
const BAD_SUBSTITUTION = 'Bad substitution';
/** The `${…}` forms POSIX (and so dash) has. */
const POSIX_PARAMETER = /^(#?([A-Za-z_][A-Za-z_0-9]*|[0-9]+|[?#@*$!-])|([A-Za-z_][A-Za-z_0-9]*|[0-9]+|[?#@*$!-])(:?[-=?+]|%%?|##?)[\s\S]*)$/;

/** A word (`array` for `NAME=(…)`), an operator, or the text of `((…))`. */
/** A here-document's delimiter, and its text once the lines after the command are read. */
interface Heredoc {
  delimiter: string;
  quoted: boolean;
  stripTabs: boolean;
  body: string;
}

/** A token, with the line of the script it starts on. */
type Token = ({ op: string; heredoc?: Heredoc } | { word: Word; raw: string; array?: Word[] } | { arith: string } | { invalid: ShellSyntaxError }) & { line?: number };

const OPERATORS = ['&&', '||', ';;', '>>', '&>', '2>&1', '1>&2', '>&2', '2>>', '2>', '1>>', '1>', '>', '<<<', '<<-', '<<', '<', '|', '&', ';', '(', ')'];
const OPERATOR_START = new Set(OPERATORS.map((o) => o[0]!));
const WORD_BREAK = new Set([' ', '\t', '\n', ';', '&', '|', '<', '>', '(', ')']);
/** `$NAME`, `$1`, and the special parameters `$?` `$#` `$@` `$*`. */
const VARIABLE = /^\$([?#@*0-9]|[A-Za-z_][A-Za-z_0-9]*)/;
const ANSI_C_ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', e: '\x1b', E: '\x1b', f: '\f', v: '\v', '\\': '\\', "'": "'", '"': '"', '?': '?' };

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
  throw incomplete(`unexpected EOF while looking for matching \`${quote ?? ')'}'`, quote ? UNTERMINATED_QUOTE : 'Syntax error: end of file unexpected (expecting ")")');
}

/** The index of the `}` closing the `${` at line[open], honouring nested `${…}` and quotes. */
function closingBrace(line: string, open: number): number {
  let depth = 0;
  let quote: string | null = null;
  for (let j = open; j < line.length; j++) {
    const c = line[j]!;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"') j++;
      continue;
    }
    if (c === '\\') j++;
    else if (c === "'" || c === '"') quote = c;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return j;
  }
  throw incomplete("unexpected EOF while looking for matching `}'", "Syntax error: Missing '}'");
}

/** Reads a `$…` expansion at line[i]; returns the part and the index after it, or null. */
function dollar(line: string, i: number, quoted: boolean, dialect: Dialect = 'bash'): [WordPart, number] | null {
  if (line.startsWith('$((', i)) {
    const end = balanced(line, i + 1);
    if (line[end - 1] === ')') return [{ arithmetic: line.slice(i + 3, end - 1) }, end + 1];
  }
  if (line.startsWith('$(', i)) {
    const end = balanced(line, i + 1);
    return [{ substitution: line.slice(i + 2, end), quoted }, end + 1];
  }
  if (line.startsWith('${', i)) {
    const end = closingBrace(line, i + 1);
    const expression = line.slice(i + 2, end);
    if (dialect === 'sh' && !POSIX_PARAMETER.test(expression)) throw new ShellSyntaxError('bad substitution', BAD_SUBSTITUTION);
    return [{ variable: expression, quoted }, end + 1];
  }
  const m = VARIABLE.exec(line.slice(i));
  if (!m) return null;
  return [{ variable: m[1]!, quoted }, i + m[0].length];
}

/** The text of `$'…'` starting at line[i]: backslash escapes decoded; and the index after it. */
function ansiC(line: string, i: number): [string, number] {
  let text = '';
  let j = i + 2;
  for (; j < line.length && line[j] !== "'"; j++) {
    if (line[j] !== '\\' || j + 1 >= line.length) {
      text += line[j];
      continue;
    }
    const m = /^(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)/s.exec(line.slice(j + 1))!;
    const e = m[1]!;
    text += e.length > 1 && e.startsWith('x') ? String.fromCharCode(parseInt(e.slice(1), 16)) : /^[0-7]/.test(e) ? String.fromCharCode(parseInt(e, 8)) : (ANSI_C_ESCAPES[e] ?? `\\${e}`);
    j += e.length;
  }
  if (j >= line.length) throw incomplete("unexpected EOF while looking for matching `''", UNTERMINATED_QUOTE);
  return [text, j + 1];
}

function tokenize(line: string, dialect: Dialect = 'bash', atEnd = true): Token[] {
  const tokens: Token[] = [];
  try {
    readTokens(line, dialect, tokens, atEnd);
  } catch (e) {
    // dash finds a bad `${…}` only when its parser reaches it: an earlier error is reported first.
    if (!(e instanceof ShellSyntaxError) || e.dashMessage !== BAD_SUBSTITUTION) throw e;
    tokens.push({ invalid: e });
  }
  return tokens;
}

/** `atEnd`: nothing follows the text, so a here-document it leaves open ends with it (bash warns; dash does not). */
function readTokens(line: string, dialect: Dialect, tokens: Token[], atEnd: boolean): void {
  const bash = dialect === 'bash';
  let i = 0;
  let lineNo = 1;
  const emit = (tok: Token) => tokens.push(Object.assign(tok, { line: lineNo }));
  // Here-documents whose lines start after the current line ends.
  const pending: Heredoc[] = [];
  // Inside `[[ … ]]`, the word after `=~` is a regular expression: its parentheses and bars are its own.
  let inCondition = false;
  while (i < line.length) {
    const c = line[i]!;
    if (c === ' ' || c === '\t' || line.startsWith('\\\n', i)) {
      i += c === '\\' ? 2 : 1;
      continue;
    }
    if (c === '\n') {
      emit({ op: '\n' });
      i++;
      lineNo++;
      for (const heredoc of pending.splice(0)) {
        // The lines up to the delimiter's own line are the document.
        let closed = false;
        while (i < line.length && !closed) {
          const end = line.indexOf('\n', i);
          const text = line.slice(i, end < 0 ? line.length : end);
          i = end < 0 ? line.length : end + 1;
          lineNo++;
          const content = heredoc.stripTabs ? text.replace(/^\t+/, '') : text;
          if (content === heredoc.delimiter) closed = true;
          else heredoc.body += content + '\n';
        }
        if (!closed && !atEnd) throw incomplete(`here-document delimited by end-of-file (wanted \`${heredoc.delimiter}')`);
      }
      continue;
    }
    if (c === '#') {
      while (i < line.length && line[i] !== '\n') i++;
      continue;
    }
    const previous = tokens[tokens.length - 1];
    const regexWord = inCondition && previous !== undefined && 'raw' in previous && previous.raw === '=~';
    if (line.startsWith('((', i) && !regexWord && bash) {
      const inner = balanced(line, i + 1);
      if (line[inner + 1] === ')') {
        emit({ arith: line.slice(i + 2, inner) });
        i = inner + 2;
        continue;
      }
    }
    if (line.startsWith('<(', i) && !regexWord && bash) {
      const end = balanced(line, i + 1);
      emit({ word: [{ process: line.slice(i + 2, end) }], raw: line.slice(i, end + 1) });
      i = end + 1;
      continue;
    }
    const op = !regexWord && OPERATOR_START.has(c) && OPERATORS.find((o) => line.startsWith(o, i) && (!/^[12]/.test(o) || i === 0 || /[\s;&|(]/.test(line[i - 1]!)));
    if (op === '<<' || op === '<<-') {
      const m = /^[ \t]*(?:'([^']*)'|"([^"]*)"|\\?([^\s;&|<>()]+))/.exec(line.slice(i + op.length));
      if (!m) throw new ShellSyntaxError("syntax error near unexpected token `newline'", 'Syntax error: newline unexpected');
      const heredoc: Heredoc = { delimiter: m[1] ?? m[2] ?? m[3]!, quoted: m[3] === undefined || m[0].trimStart().startsWith('\\'), stripTabs: op === '<<-', body: '' };
      pending.push(heredoc);
      emit({ op, heredoc });
      i += op.length + m[0].length;
      continue;
    }
    if (op) {
      emit({ op });
      i += op.length;
      continue;
    }
    const word: Word = [];
    let raw = '';
    let depth = 0;
    const push = (text: string, quoted: boolean) => {
      const last = word[word.length - 1];
      if (last && 'text' in last && last.quoted === quoted) last.text += text;
      else word.push({ text, quoted });
    };
    const arrayStart = (ch: string) => bash && ch === '(' && !regexWord && /^[A-Za-z_][A-Za-z_0-9]*\+?=$/.test(raw);
    const ends = (ch: string) => (regexWord ? depth === 0 && (ch === ' ' || ch === '\t' || ch === '\n') : WORD_BREAK.has(ch) && !arrayStart(ch));
    while (i < line.length && !ends(line[i]!)) {
      const ch = line[i]!;
      const start = i;
      if (ch === "'") {
        const end = line.indexOf("'", i + 1);
        if (end < 0) throw incomplete("unexpected EOF while looking for matching `''", UNTERMINATED_QUOTE);
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
          const exp = line[j] === '$' ? dollar(line, j, true, dialect) : null;
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
        if (j >= line.length) throw incomplete('unexpected EOF while looking for matching `"\'', UNTERMINATED_QUOTE);
        if (text || parts === 0) push(text, true);
        i = j + 1;
      } else if (ch === '\\' && i + 1 < line.length) {
        // Backslash-newline joins lines.
        if (line[i + 1] !== '\n') push(line[i + 1]!, true);
        i += 2;
      } else if (ch === '$' && line[i + 1] === "'" && bash) {
        const [text, next] = ansiC(line, i);
        push(text, true);
        i = next;
      } else if (ch === '$' && dollar(line, i, false, dialect)) {
        const [part, next] = dollar(line, i, false, dialect)!;
        word.push(part);
        i = next;
      } else if (arrayStart(ch)) {
        // NAME=(…): the words of an array.
        const end = balanced(line, i);
        const array = tokenize(line.slice(i + 1, end)).flatMap((t) => ('word' in t ? [t.word] : []));
        emit({ word, raw: line.slice(start - raw.length, end + 1), array });
        i = end + 1;
        raw = '';
        break;
      } else {
        if (ch === '(') depth++;
        if (ch === ')') depth--;
        push(ch, false);
        i++;
      }
      raw += line.slice(start, i);
    }
    if (raw === '') continue;
    emit({ word, raw });
    if (raw === '[[') inCondition = true;
    if (raw === ']]') inCondition = false;
  }
  if (pending.length > 0 && !atEnd) throw incomplete(`here-document delimited by end-of-file (wanted \`${pending[0]!.delimiter}')`);
}

const RESERVED_CLOSERS = ['then', 'elif', 'else', 'fi', 'do', 'done', '}', 'esac'];
/** What may follow `NAME()`: a compound command. */
const COMPOUND_STARTS = ['{', '(', 'if', 'for', 'while', 'until', 'case', '[['];
const COND_UNARY = /^-[a-zA-Z]$/;
const COND_BINARY = new Set(['=', '==', '!=', '=~', '-eq', '-ne', '-lt', '-le', '-gt', '-ge', '-nt', '-ot', '-ef']);

/** A token no rule expects there; `expecting`: what dash says it wanted instead. */
function unexpected(tok: Token | undefined, expecting?: string): ShellSyntaxError {
  if (tok && 'invalid' in tok) return tok.invalid;
  const text = !tok || ('op' in tok && tok.op === '\n') ? 'newline' : 'op' in tok ? tok.op : 'arith' in tok ? `((${tok.arith}))` : tok.raw;
  const error = new ShellSyntaxError(`syntax error near unexpected token \`${text}'`, `Syntax error: ${text === 'newline' ? text : `"${text}"`} unexpected${expecting ? ` (expecting "${expecting}")` : ''}`);
  error.line = tok?.line;
  return error;
}

const endOfFile = (expecting?: string) => incomplete('syntax error: unexpected end of file', `Syntax error: end of file unexpected${expecting ? ` (expecting "${expecting}")` : ''}`);

class Parser {
  private i = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly dialect: Dialect,
  ) {}

  private peek(): Token | undefined {
    const tok = this.tokens[this.i];
    if (tok && 'invalid' in tok) throw tok.invalid;
    return tok;
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

  /** Newlines where a command may start, or between a compound's parts, are only spacing. */
  private skipNewlines(): void {
    while (this.isOp('\n')) this.i++;
  }

  /** A list up to the end, or up to one of the reserved words / `)` that close it. */
  list(closers: string[]): ListItem[] {
    const items: ListItem[] = [];
    for (this.skipNewlines(); !this.done() && !closers.some((c) => this.isWord(c) || this.isOp(c)); this.skipNewlines()) {
      const pipeline = this.pipeline();
      const sep = this.peek();
      if (!sep || closers.some((c) => this.isWord(c) || this.isOp(c))) {
        items.push({ pipeline, then: ';' });
        break;
      }
      if (!('op' in sep) || !['&&', '||', ';', '&', '\n'].includes(sep.op)) throw unexpected(sep);
      this.i++;
      items.push({ pipeline, then: sep.op === '\n' ? ';' : (sep.op as ListItem['then']) });
      if (sep.op === '&&' || sep.op === '||') {
        this.skipNewlines();
        if (this.done()) throw endOfFile();
        if (closers.some((c) => this.isWord(c) || this.isOp(c))) throw unexpected(this.peek());
      }
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
      this.skipNewlines();
      if (this.done()) throw endOfFile();
    }
  }

  /** The body of a compound that must end with `closer`. */
  private closedList(closers: string[], closer: string): ListItem[] {
    const body = this.list(closers);
    if (body.length === 0) throw this.done() ? endOfFile(closer) : unexpected(this.peek());
    if (!this.isWord(closer)) throw this.done() ? endOfFile(closer) : unexpected(this.peek(), closer);
    return body;
  }

  private command(): Command {
    const tok = this.peek();
    if (tok && 'arith' in tok) {
      this.i++;
      return { kind: 'arith', expression: tok.arith, redirects: this.redirects() };
    }
    if (this.isOp('(')) {
      this.i++;
      const body = this.list([')']);
      if (!this.isOp(')')) throw endOfFile(')');
      this.i++;
      if (body.length === 0) throw unexpected({ op: ')' });
      return { kind: 'subshell', body, redirects: this.redirects() };
    }
    if (this.isWord('for')) return this.forLoop();
    if (this.isWord('if')) return this.ifClause();
    if (this.isWord('while') || this.isWord('until')) return this.whileLoop();
    if (this.isWord('case')) return this.caseClause();
    // dash has neither `[[` nor `function`: they are plain words there.
    if (this.isWord('[[') && this.dialect === 'bash') return this.condCommand();
    if (this.isWord('function') && this.dialect === 'bash') return this.functionDef();
    if (this.isWord('{')) {
      this.i++;
      const body = this.closedList(['}'], '}');
      this.i++;
      return { kind: 'group', body, redirects: this.redirects() };
    }
    const next = this.tokens[this.i + 1];
    const after = this.tokens[this.i + 2];
    if (tok && 'word' in tok && next && 'op' in next && next.op === '(' && after && 'op' in after && after.op === ')') return this.functionDef();
    // A reserved word no open compound expects cannot start a command.
    if (RESERVED_CLOSERS.some((w) => this.isWord(w))) throw unexpected(this.peek());
    const command: SimpleCommand = { kind: 'simple', assignments: [], argv: [], redirects: [], line: tok?.line ?? 1 };
    for (;;) {
      const tok = this.peek();
      if (!tok || 'arith' in tok) break;
      if ('word' in tok) {
        const m = /^([A-Za-z_][A-Za-z_0-9]*)(?:\[([^\]]*)\])?(\+?)=/.exec(tok.raw);
        if (m && command.argv.length === 0) {
          const assignment: Assignment = { name: m[1]!, append: m[3] === '+', value: stripPrefix(tok.word, m[0].length), ...(m[2] !== undefined && { index: m[2] }) };
          if (tok.array) assignment.array = tok.array;
          command.assignments.push(assignment);
        } else command.argv.push(tok.array ? [{ text: tok.raw, quoted: true }] : tok.word);
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

  private functionDef(): FunctionDef {
    const keyword = this.isWord('function');
    if (keyword) this.i++;
    const nameTok = this.peek();
    if (!nameTok || !('word' in nameTok)) throw unexpected(nameTok);
    this.i++;
    if (this.isOp('(')) {
      this.i++;
      if (!this.isOp(')')) throw unexpected(this.peek());
      this.i++;
    }
    this.skipNewlines();
    const start = this.peek();
    if (!start) throw endOfFile();
    if (!('arith' in start) && !COMPOUND_STARTS.some((w) => this.isWord(w) || this.isOp(w))) throw unexpected(start);
    const body = this.command() as Compound;
    return { kind: 'function', name: nameTok.raw, body, redirects: [] };
  }

  private forLoop(): ForLoop | ArithFor {
    this.i++;
    const nameTok = this.peek();
    if (nameTok && 'arith' in nameTok) {
      this.i++;
      const parts = nameTok.arith.split(';');
      if (parts.length !== 3) throw new ShellSyntaxError(`syntax error: arithmetic expression required`);
      if (this.isOp(';') || this.isOp('\n')) this.i++;
      this.skipNewlines();
      if (!this.isWord('do')) throw unexpected(this.peek());
      this.i++;
      const body = this.closedList(['done'], 'done');
      this.i++;
      const [init, test, step] = parts.map((p) => p.trim()) as [string, string, string];
      return { kind: 'arith-for', init, test, step, body, redirects: this.redirects() };
    }
    if (!nameTok || !('word' in nameTok) || !/^[A-Za-z_][A-Za-z_0-9]*$/.test(nameTok.raw)) throw unexpected(nameTok);
    this.i++;
    let words: Word[] | null = null;
    const written: string[] = [];
    if (this.isWord('in')) {
      this.i++;
      words = [];
      for (let tok = this.peek(); tok && 'word' in tok; tok = this.peek()) {
        words.push(tok.word);
        written.push(tok.raw);
        this.i++;
      }
    }
    if (this.isOp(';') || this.isOp('\n')) this.i++;
    this.skipNewlines();
    if (!this.isWord('do')) throw this.done() ? endOfFile('do') : unexpected(this.peek(), 'do');
    this.i++;
    const body = this.closedList(['done'], 'done');
    this.i++;
    return { kind: 'for', variable: nameTok.raw, words, written: written.join(' '), body, redirects: this.redirects() };
  }

  private whileLoop(): WhileLoop {
    const until = this.isWord('until');
    this.i++;
    const condition = this.list(['do']);
    if (condition.length === 0 || !this.isWord('do')) throw this.done() ? endOfFile('do') : unexpected(this.peek(), 'do');
    this.i++;
    const body = this.closedList(['done'], 'done');
    this.i++;
    return { kind: 'while', until, condition, body, redirects: this.redirects() };
  }

  private ifClause(): IfClause {
    const branches: IfClause['branches'] = [];
    let otherwise: ListItem[] | null = null;
    do {
      this.i++;
      const condition = this.list(['then']);
      if (condition.length === 0 || !this.isWord('then')) throw this.done() ? endOfFile('then') : unexpected(this.peek(), 'then');
      this.i++;
      const body = this.list(['elif', 'else', 'fi']);
      if (body.length === 0) throw this.done() ? endOfFile('fi') : unexpected(this.peek());
      branches.push({ condition, body });
    } while (this.isWord('elif'));
    if (this.isWord('else')) {
      this.i++;
      otherwise = this.closedList(['fi'], 'fi');
    }
    if (!this.isWord('fi')) throw endOfFile('fi');
    this.i++;
    return { kind: 'if', branches, otherwise, redirects: this.redirects() };
  }

  private caseClause(): CaseClause {
    this.i++;
    const subject = this.peek();
    if (!subject) throw endOfFile();
    if (!('word' in subject)) throw unexpected(subject);
    this.i++;
    this.skipNewlines();
    if (!this.isWord('in')) throw this.done() ? endOfFile() : unexpected(this.peek());
    this.i++;
    const items: CaseClause['items'] = [];
    for (this.skipNewlines(); !this.isWord('esac'); this.skipNewlines()) {
      if (this.done()) throw endOfFile(')');
      if (this.isOp('(')) this.i++;
      const patterns: Word[] = [];
      for (;;) {
        const pattern = this.peek();
        if (!pattern || !('word' in pattern)) throw this.done() ? endOfFile() : unexpected(pattern);
        patterns.push(pattern.word);
        this.i++;
        if (!this.isOp('|')) break;
        this.i++;
      }
      if (!this.isOp(')')) throw unexpected(this.peek());
      this.i++;
      const body = this.list([';;', 'esac']);
      items.push({ patterns, body });
      if (this.isOp(';;')) this.i++;
      else if (!this.isWord('esac')) throw this.done() ? endOfFile() : unexpected(this.peek());
    }
    this.i++;
    return { kind: 'case', word: subject.word, items, redirects: this.redirects() };
  }

  private condCommand(): CondCommand {
    this.i++;
    const expr = this.condOr();
    if (!this.isWord(']]')) {
      const tok = this.peek();
      throw new ShellSyntaxError(tok ? `syntax error in conditional expression: unexpected token \`${'op' in tok ? tok.op : 'raw' in tok ? tok.raw : ''}'` : 'unexpected EOF while looking for `]]\'');
    }
    this.i++;
    return { kind: 'cond', expr, redirects: this.redirects() };
  }

  private condOr(): CondExpr {
    let left = this.condAnd();
    while (this.isOp('||')) {
      this.i++;
      left = { op: '||', left, right: this.condAnd() };
    }
    return left;
  }

  private condAnd(): CondExpr {
    let left = this.condNot();
    while (this.isOp('&&')) {
      this.i++;
      left = { op: '&&', left, right: this.condNot() };
    }
    return left;
  }

  private condNot(): CondExpr {
    if (this.isWord('!')) {
      this.i++;
      return { op: '!', expr: this.condNot() };
    }
    if (this.isOp('(')) {
      this.i++;
      const expr = this.condOr();
      if (!this.isOp(')')) throw new ShellSyntaxError("syntax error in conditional expression: expected `)'");
      this.i++;
      return expr;
    }
    const first = this.condWord();
    const tok = this.peek();
    if (COND_UNARY.test(first.raw) && tok && 'word' in tok && tok.raw !== ']]' && !COND_BINARY.has(tok.raw)) {
      this.i++;
      return { op: 'unary', test: first.raw, arg: tok.word };
    }
    const op = tok && 'op' in tok && (tok.op === '<' || tok.op === '>') ? tok.op : tok && 'word' in tok && COND_BINARY.has(tok.raw) ? tok.raw : null;
    if (op === null) return { op: 'word', word: first.word };
    this.i++;
    const right = this.peek();
    if (!right || !('word' in right) || right.raw === ']]') throw new ShellSyntaxError(`unexpected argument \`${right && 'raw' in right ? right.raw : ''}' to conditional binary operator`);
    this.i++;
    return { op: 'binary', test: op, left: first.word, right: right.word };
  }

  private condWord(): { word: Word; raw: string } {
    const tok = this.peek();
    if (!tok || !('word' in tok) || tok.raw === ']]') throw new ShellSyntaxError(tok ? `syntax error in conditional expression: unexpected token \`${'op' in tok ? tok.op : 'raw' in tok ? tok.raw : ''}'` : "unexpected EOF while looking for `]]'");
    this.i++;
    return tok;
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
    if (op === '<<' || op === '<<-') {
      // The delimiter word was read with the operator; the document, with the lines after.
      this.i++;
      const heredoc = tok.heredoc!;
      return { fd: 0, kind: 'heredoc', text: heredoc.quoted ? [{ text: heredoc.body, quoted: true }] : expansionWord(heredoc.body) };
    }
    if (!['>', '>>', '1>', '1>>', '2>', '2>>', '&>', '<', '<<<'].includes(op)) return null;
    const target = this.tokens[this.i + 1];
    if (!target || !('word' in target)) throw unexpected(target);
    this.i += 2;
    if (op === '<') return { fd: 0, kind: 'file', path: target.word, append: false };
    if (op === '<<<') {
      if (this.dialect === 'sh') throw new ShellSyntaxError('', 'Syntax error: redirection unexpected');
      return { fd: 0, kind: 'string', text: target.word };
    }
    if (op === '&>') {
      // `&>F` is `>F 2>&1`: the caller sees the file redirect; stderr follows it.
      this.tokens.splice(this.i, 0, { op: '2>&1' });
      return { fd: 1, kind: 'file', path: target.word, append: false };
    }
    return { fd: op.startsWith('2') ? 2 : 1, kind: 'file', path: target.word, append: op.endsWith('>>') };
  }
}

/** A word without its first `chars` characters of text (`NAME=` of an assignment, `[KEY]=` of an array element). */
export function stripPrefix(word: Word, chars: number): Word {
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

/**
 * Text expanded as between double quotes (the inside of `$((…))` and
 * `((…))`, the word of `${name:-word}`): its `$…` expansions, unsplit.
 */
export function expansionWord(text: string): Word {
  const word: Word = [];
  let literal = '';
  for (let j = 0; j < text.length; ) {
    if (text[j] === '\\' && j + 1 < text.length && '"\\$`'.includes(text[j + 1]!)) {
      literal += text[j + 1];
      j += 2;
      continue;
    }
    const exp = text[j] === '$' ? dollar(text, j, true) : null;
    if (!exp) {
      literal += text[j++];
      continue;
    }
    if (literal) word.push({ text: literal, quoted: true });
    literal = '';
    word.push(exp[0]);
    j = exp[1];
  }
  if (literal || word.length === 0) word.push({ text: literal, quoted: true });
  return word;
}

/** The words of an array literal `NAME=(…)` given to `declare` or `local`, or null for another word. */
export function arrayLiteral(text: string): { name: string; append: boolean; words: Word[] } | null {
  const m = /^([A-Za-z_][A-Za-z_0-9]*)(\+?)=\((.*)\)$/s.exec(text);
  if (!m) return null;
  return { name: m[1]!, append: m[2] === '+', words: tokenize(m[3]!).flatMap((t) => ('word' in t ? [t.word] : [])) };
}

/** Parses a command line, or a script's complete commands (`atEnd`: nothing follows it). */
export function parseLine(line: string, dialect: Dialect = 'bash', atEnd = true): ListItem[] {
  const parser = new Parser(tokenize(line, dialect, atEnd), dialect);
  const items = parser.list([]);
  if (!parser.done()) throw unexpected(undefined);
  return items;
}

/** A failed arithmetic expansion, worded as bash does: `EXPR: WHAT (error token is "TOKEN")`. */
export class ArithmeticError extends Error {}

/** Where arithmetic reads and assigns shell variables. */
export interface ArithmeticVariables {
  get(name: string): string;
  set(name: string, value: string): void;
}

const ARITH_OPERATORS = ['<<=', '>>=', '**', '++', '--', '<<', '>>', '<=', '>=', '==', '!=', '&&', '||', '+=', '-=', '*=', '/=', '%=', '&=', '^=', '|=', ...'+-*/%<>=!~&^|?:,()'];
const ASSIGNMENTS = new Set(['=', '+=', '-=', '*=', '/=', '%=', '<<=', '>>=', '&=', '^=', '|=']);
const BINARY_LEVELS = [['||'], ['&&'], ['|'], ['^'], ['&'], ['==', '!='], ['<', '>', '<=', '>='], ['<<', '>>'], ['+', '-'], ['*', '/', '%']];

/** A 64-bit two's-complement integer, as bash computes. */
const wrap = (n: bigint) => BigInt.asIntN(64, n);

/** bash's integer arithmetic (`$((…))`, `((…))`, `let`): C operators on 64-bit integers, assignments included. */
export function evaluateArithmetic(expression: string, vars: ArithmeticVariables, depth = 0): bigint {
  const shown = expression.replace(/^\s+/, '');
  const tokens: Array<{ text: string; at: number }> = [];
  for (let i = 0; i < expression.length; ) {
    if (/\s/.test(expression[i]!)) {
      i++;
      continue;
    }
    const m = /^(?:[0-9][0-9A-Za-z_#@]*|[A-Za-z_][A-Za-z_0-9]*)/.exec(expression.slice(i));
    const text = m ? m[0] : ARITH_OPERATORS.find((o) => expression.startsWith(o, i));
    if (!text) throw new ArithmeticError(`${shown}: syntax error: invalid arithmetic operator (error token is "${expression.slice(i)}")`);
    tokens.push({ text, at: i });
    i += text.length;
  }
  let pos = 0;
  // Inside the side not taken of `&&`, `||` and `?:`: parsed, not evaluated.
  let skipping = 0;
  const skip = <T>(run: () => T): T => {
    skipping++;
    try {
      return run();
    } finally {
      skipping--;
    }
  };
  const assign = (name: string, value: bigint) => {
    if (skipping === 0) vars.set(name, String(value));
  };
  const fail = (what: string, from = pos): never => {
    const tok = tokens[Math.min(from, tokens.length - 1)];
    throw new ArithmeticError(`${shown}: ${what} (error token is "${tok ? expression.slice(tok.at) : ''}")`);
  };
  const peek = () => tokens[pos]?.text;
  const isName = (t: string | undefined) => t !== undefined && /^[A-Za-z_]/.test(t);
  const read = (name: string): bigint => {
    const value = vars.get(name).trim();
    if (value === '') return 0n;
    if (depth > 64) fail('expression recursion level exceeded');
    return evaluateArithmetic(value, vars, depth + 1);
  };
  const number = (text: string): bigint => {
    const m = /^(?:0[xX]([0-9a-fA-F]*)|(0[0-7]*)|([1-9][0-9]*)|([0-9]+)#([0-9A-Za-z@_]+))$/.exec(text);
    if (!m) throw new ArithmeticError(`${text}: value too great for base (error token is "${text}")`);
    if (m[1] !== undefined) return m[1] === '' ? 0n : BigInt(`0x${m[1]}`);
    if (m[2] !== undefined) return BigInt(`0o${m[2]}`);
    if (m[3] !== undefined) return BigInt(m[3]);
    const base = Number(m[4]);
    let value = 0n;
    for (const c of m[5]!) {
      const digit = parseInt(c, 36);
      if (base < 2 || base > 64 || digit >= base) throw new ArithmeticError(`${text}: value too great for base (error token is "${text}")`);
      value = value * BigInt(base) + BigInt(digit);
    }
    return value;
  };
  const binary = (op: string, l: bigint, r: bigint, divisorAt: number): bigint => {
    switch (op) {
      case '+':
        return wrap(l + r);
      case '-':
        return wrap(l - r);
      case '*':
        return wrap(l * r);
      case '/':
      case '%':
        if (r === 0n) return skipping ? 0n : fail('division by 0', divisorAt);
        return op === '/' ? wrap(l / r) : l % r;
      case '<<':
        return wrap(l << (r & 63n));
      case '>>':
        return l >> (r & 63n);
      case '&':
        return l & r;
      case '|':
        return l | r;
      case '^':
        return l ^ r;
      case '==':
        return l === r ? 1n : 0n;
      case '!=':
        return l !== r ? 1n : 0n;
      case '<':
        return l < r ? 1n : 0n;
      case '>':
        return l > r ? 1n : 0n;
      case '<=':
        return l <= r ? 1n : 0n;
      default:
        return l >= r ? 1n : 0n;
    }
  };
  const operand = (): bigint => {
    const tok = peek();
    if (tok === undefined) return fail('syntax error: operand expected', pos - 1);
    if (tok === '(') {
      pos++;
      const value = comma();
      if (peek() !== ')') fail("missing `)'");
      pos++;
      return value;
    }
    if (tok === '++' || tok === '--') {
      pos++;
      const name = peek();
      if (!isName(name)) return fail('syntax error: operand expected');
      pos++;
      const value = wrap(read(name!) + (tok === '++' ? 1n : -1n));
      assign(name!, value);
      return value;
    }
    if (['-', '+', '!', '~'].includes(tok)) {
      pos++;
      const value = operand();
      return tok === '-' ? wrap(-value) : tok === '+' ? value : tok === '!' ? (value === 0n ? 1n : 0n) : ~value;
    }
    if (/^[0-9]/.test(tok)) {
      pos++;
      return number(tok);
    }
    if (!isName(tok)) return fail('syntax error: operand expected');
    pos++;
    const after = peek();
    if (after === '++' || after === '--') {
      pos++;
      const value = read(tok);
      assign(tok, wrap(value + (after === '++' ? 1n : -1n)));
      return value;
    }
    return read(tok);
  };
  const power = (): bigint => {
    const base = operand();
    if (peek() !== '**') return base;
    pos++;
    const exponentAt = pos;
    const exponent = power();
    if (exponent < 0n) fail('exponent less than 0', exponentAt);
    return wrap(base ** exponent);
  };
  const level = (n: number): bigint => {
    if (n === BINARY_LEVELS.length) return power();
    let value = level(n + 1);
    for (let op = peek(); op !== undefined && BINARY_LEVELS[n]!.includes(op); op = peek()) {
      pos++;
      if ((op === '&&' && value === 0n) || (op === '||' && value !== 0n)) {
        skip(() => level(n + 1));
        value = op === '&&' ? 0n : 1n;
        continue;
      }
      const rightAt = pos;
      const right = level(n + 1);
      value = op === '&&' || op === '||' ? (right !== 0n ? 1n : 0n) : binary(op, value, right, rightAt);
    }
    return value;
  };
  const ternary = (): bigint => {
    const test = level(0);
    if (peek() !== '?') return test;
    pos++;
    const yes = test !== 0n ? assignment() : skip(assignment);
    if (peek() !== ':') fail("`:' expected for conditional expression");
    pos++;
    const no = test === 0n ? assignment() : skip(assignment);
    return test !== 0n ? yes : no;
  };
  const assignment = (): bigint => {
    const name = peek();
    const op = tokens[pos + 1]?.text;
    if (isName(name) && op !== undefined && ASSIGNMENTS.has(op)) {
      pos += 2;
      const rightAt = pos;
      const right = assignment();
      const value = op === '=' ? right : binary(op.slice(0, -1), read(name!), right, rightAt);
      assign(name!, value);
      return value;
    }
    return ternary();
  };
  const comma = (): bigint => {
    let value = assignment();
    while (peek() === ',') {
      pos++;
      value = assignment();
    }
    return value;
  };
  if (tokens.length === 0) return 0n;
  const value = comma();
  if (pos < tokens.length) fail('syntax error in expression');
  return value;
}
