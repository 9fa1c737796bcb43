// Parsing a command line the way bash does for what people type in labs:
// words and quotes, `;` `&&` `||` `&` `|`, redirections, `$?`.

export type Redirect =
  | { fd: 1 | 2; kind: 'file'; path: string; append: boolean }
  | { fd: 0; kind: 'file'; path: string; append: false }
  | { fd: 1 | 2; kind: 'dup'; to: 1 | 2 };

export interface SimpleCommand {
  argv: Word[];
  redirects: Redirect[];
}

/** A word keeps its parts so that `$?` is expanded when the command runs. */
export type Word = Array<{ text: string } | { variable: string }>;

export interface Pipeline {
  negate: boolean;
  commands: SimpleCommand[];
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

const OPERATORS = ['&&', '||', ';;', '>>', '&>', '2>&1', '1>&2', '>&2', '2>>', '2>', '1>>', '1>', '>', '<', '|', '&', ';'];

function tokenize(line: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    if (c === '#') break;
    const op = OPERATORS.find((o) => line.startsWith(o, i) && (!/^[12]/.test(o) || i === 0 || /[\s;&|]/.test(line[i - 1]!)));
    if (op) {
      tokens.push({ op });
      i += op.length;
      continue;
    }
    const word: Word = [];
    let raw = '';
    const push = (text: string) => {
      const last = word[word.length - 1];
      if (last && 'text' in last) last.text += text;
      else word.push({ text });
    };
    while (i < line.length && !/[\s;&|<>]/.test(line[i]!)) {
      const ch = line[i]!;
      if (ch === "'") {
        const end = line.indexOf("'", i + 1);
        if (end < 0) throw new ShellSyntaxError("unexpected EOF while looking for matching `''");
        push(line.slice(i + 1, end));
        raw += line.slice(i, end + 1);
        i = end + 1;
      } else if (ch === '"') {
        let j = i + 1;
        let text = '';
        while (j < line.length && line[j] !== '"') {
          if (line[j] === '\\' && j + 1 < line.length && '"\\$`'.includes(line[j + 1]!)) {
            text += line[j + 1];
            j += 2;
          } else if (line[j] === '$' && (line[j + 1] === '?' || /[A-Za-z_{]/.test(line[j + 1] ?? ''))) {
            if (text) push(text);
            text = '';
            const m = /^\$(\?|\{[A-Za-z_?][A-Za-z_0-9]*\}|[A-Za-z_][A-Za-z_0-9]*)/.exec(line.slice(j))!;
            word.push({ variable: m[1]!.replace(/[{}]/g, '') });
            j += m[0].length;
          } else {
            text += line[j];
            j++;
          }
        }
        if (j >= line.length) throw new ShellSyntaxError('unexpected EOF while looking for matching `"\'');
        if (text || word.length === 0) push(text);
        raw += line.slice(i, j + 1);
        i = j + 1;
      } else if (ch === '\\' && i + 1 < line.length) {
        push(line[i + 1]!);
        raw += line.slice(i, i + 2);
        i += 2;
      } else if (ch === '$' && (line[i + 1] === '?' || /[A-Za-z_{]/.test(line[i + 1] ?? ''))) {
        const m = /^\$(\?|\{[A-Za-z_?][A-Za-z_0-9]*\}|[A-Za-z_][A-Za-z_0-9]*)/.exec(line.slice(i));
        if (!m) {
          push(ch);
          raw += ch;
          i++;
          continue;
        }
        word.push({ variable: m[1]!.replace(/[{}]/g, '') });
        raw += m[0];
        i += m[0].length;
      } else {
        push(ch);
        raw += ch;
        i++;
      }
    }
    tokens.push({ word, raw });
  }
  return tokens;
}

function unexpected(tok: string): ShellSyntaxError {
  return new ShellSyntaxError(`syntax error near unexpected token \`${tok}'`);
}

export function parseLine(line: string): ListItem[] {
  const tokens = tokenize(line);
  const items: ListItem[] = [];
  let i = 0;
  while (i < tokens.length) {
    const pipeline: Pipeline = { negate: false, commands: [] };
    const first = tokens[i]!;
    if ('word' in first && first.raw === '!') {
      pipeline.negate = true;
      i++;
    }
    for (;;) {
      const command: SimpleCommand = { argv: [], redirects: [] };
      while (i < tokens.length) {
        const tok = tokens[i]!;
        if ('word' in tok) {
          command.argv.push(tok.word);
          i++;
          continue;
        }
        const op = tok.op;
        if (op === '2>&1') command.redirects.push({ fd: 2, kind: 'dup', to: 1 });
        else if (op === '1>&2' || op === '>&2') command.redirects.push({ fd: 1, kind: 'dup', to: 2 });
        else if (['>', '>>', '1>', '1>>', '2>', '2>>', '&>', '<'].includes(op)) {
          const target = tokens[i + 1];
          if (!target || !('word' in target)) throw unexpected(target ? (target as { op: string }).op : 'newline');
          const path = target.word.map((p) => ('text' in p ? p.text : '')).join('');
          if (op === '<') command.redirects.push({ fd: 0, kind: 'file', path, append: false });
          else if (op === '&>') {
            command.redirects.push({ fd: 1, kind: 'file', path, append: false });
            command.redirects.push({ fd: 2, kind: 'dup', to: 1 });
          } else command.redirects.push({ fd: op.startsWith('2') ? 2 : 1, kind: 'file', path, append: op.endsWith('>>') });
          i++;
        } else break;
        i++;
      }
      if (command.argv.length === 0 && command.redirects.length === 0) {
        const tok = tokens[i];
        throw unexpected(tok ? (tok as { op: string }).op : 'newline');
      }
      pipeline.commands.push(command);
      const next = tokens[i];
      if (next && 'op' in next && next.op === '|') {
        i++;
        if (i >= tokens.length) throw unexpected('newline');
        continue;
      }
      break;
    }
    const sep = tokens[i];
    if (!sep) {
      items.push({ pipeline, then: ';' });
      break;
    }
    const op = (sep as { op: string }).op;
    if (op !== ';' && op !== '&&' && op !== '||' && op !== '&') throw unexpected(op);
    items.push({ pipeline, then: op });
    i++;
    if ((op === '&&' || op === '||') && i >= tokens.length) throw unexpected('newline');
  }
  return items;
}
