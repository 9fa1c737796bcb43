// `sed`: the stream edits people apply to `ip` output — `s///` with flags,
// `p`, `d`, `q`, `=`, line, `$` and /regex/ addresses and ranges, `-n`, `-e`,
// `-E`. Errors read as GNU sed's.
import { readFile } from './fs';
import { program, type ProcContext } from './process';
import { basicToExtended, posixClasses } from './regex';

type Address = { kind: 'line'; line: number } | { kind: 'last' } | { kind: 'regex'; re: RegExp };

interface SedCommand {
  from: Address | null;
  to: Address | null;
  negate: boolean;
  name: 's' | 'p' | 'd' | 'q' | '=';
  substitute?: { re: RegExp; replacement: string; global: boolean; occurrence: number; print: boolean };
  /** Whether a range is open (between its first and last line). */
  active: boolean;
}

class SedError extends Error {}

function compileRegex(source: string, extended: boolean, flags = ''): RegExp {
  const body = posixClasses(extended ? source : basicToExtended(source));
  try {
    return new RegExp(body, flags);
  } catch {
    throw new SedError('unterminated address regex');
  }
}

/** Parses a script into commands; `at` names the -e expression for errors (`-e expression #1, char 3`). */
function parseScript(script: string, extended: boolean, expression: number): SedCommand[] {
  const commands: SedCommand[] = [];
  let i = 0;
  const fail = (message: string): never => {
    throw new SedError(`-e expression #${expression}, char ${i}: ${message}`);
  };
  /** Text up to an unescaped `delim`, with `\delim` unescaped. */
  const delimited = (delim: string): string => {
    let text = '';
    while (i < script.length && script[i] !== delim) {
      if (script[i] === '\\' && script[i + 1] === delim) {
        text += delim;
        i += 2;
      } else if (script[i] === '\\' && i + 1 < script.length) {
        text += script.slice(i, i + 2);
        i += 2;
      } else text += script[i++];
    }
    if (i >= script.length) return fail(`unterminated \`s' command`);
    i++;
    return text;
  };
  const address = (): Address | null => {
    const m = /^\d+/.exec(script.slice(i));
    if (m) {
      i += m[0].length;
      return { kind: 'line', line: Number(m[0]) };
    }
    if (script[i] === '$') {
      i++;
      return { kind: 'last' };
    }
    if (script[i] === '/' || script[i] === '\\') {
      const delim = script[i] === '\\' ? script[++i]! : '/';
      i++;
      let text = '';
      while (i < script.length && script[i] !== delim) {
        if (script[i] === '\\' && i + 1 < script.length) {
          text += script[i + 1] === delim ? delim : script.slice(i, i + 2);
          i += 2;
        } else text += script[i++];
      }
      if (i >= script.length) fail('unterminated address regex');
      i++;
      let flags = '';
      if (script[i] === 'I') {
        flags = 'i';
        i++;
      }
      return { kind: 'regex', re: compileRegex(text, extended, flags) };
    }
    return null;
  };
  while (i < script.length) {
    while (i < script.length && /[\s;]/.test(script[i]!)) i++;
    if (i >= script.length) break;
    const from = address();
    let to: Address | null = null;
    if (from && script[i] === ',') {
      i++;
      to = address() ?? fail('unexpected `,\'');
    }
    while (script[i] === ' ') i++;
    let negate = false;
    if (script[i] === '!') {
      negate = true;
      i++;
    }
    const name = script[i++];
    if (name === undefined) return fail('missing command');
    if (name === 's') {
      const delim = script[i++];
      if (delim === undefined || delim === '\n' || delim === '\\') return fail(`unterminated \`s' command`);
      const pattern = delimited(delim);
      const replacement = delimited(delim);
      let global = false;
      let print = false;
      let occurrence = 1;
      let ignoreCase = false;
      while (i < script.length && !/[;\n}\s]/.test(script[i]!)) {
        const f = script[i]!;
        if (f === 'g') global = true;
        else if (f === 'p') print = true;
        else if (f === 'i' || f === 'I') ignoreCase = true;
        else if (/\d/.test(f)) {
          const m = /^\d+/.exec(script.slice(i))!;
          occurrence = Number(m[0]);
          i += m[0].length - 1;
        } else {
          i++;
          fail('unknown option to `s\'');
        }
        i++;
      }
      const re = compileRegex(pattern, extended, ignoreCase ? 'gi' : 'g');
      commands.push({ from, to, negate, name: 's', substitute: { re, replacement, global, occurrence, print }, active: false });
    } else if (name === 'p' || name === 'd' || name === 'q' || name === '=') {
      commands.push({ from, to, negate, name, active: false });
    } else fail(`unknown command: \`${name}'`);
  }
  return commands;
}

/** The replacement text for one match: `&`, `\1`…`\9`, `\n`, `\t`. */
function expandReplacement(replacement: string, match: RegExpExecArray): string {
  return replacement.replace(/\\([0-9nt&\\])|&/g, (whole, e: string | undefined) => {
    if (e === undefined) return match[0];
    if (e === 'n') return '\n';
    if (e === 't') return '\t';
    if (e === '&' || e === '\\') return e;
    return match[Number(e)] ?? '';
  });
}

function substitute(line: string, s: NonNullable<SedCommand['substitute']>): { text: string; changed: boolean } {
  s.re.lastIndex = 0;
  let out = '';
  let last = 0;
  let count = 0;
  let changed = false;
  for (let m = s.re.exec(line); m; m = s.re.exec(line)) {
    count++;
    if (count >= s.occurrence) {
      out += line.slice(last, m.index) + expandReplacement(s.replacement, m);
      last = m.index + m[0].length;
      changed = true;
      if (!s.global) break;
    }
    if (m[0] === '') s.re.lastIndex++;
  }
  return { text: changed ? out + line.slice(last) : line, changed };
}

function matchesAddress(a: Address, line: string, number: number, isLast: boolean): boolean {
  if (a.kind === 'line') return number === a.line;
  if (a.kind === 'last') return isLast;
  return a.re.test(line);
}

/** Whether a command applies to this line, opening and closing its range as sed does. */
function selects(c: SedCommand, line: string, number: number, isLast: boolean): boolean {
  let hit: boolean;
  if (!c.from) hit = true;
  else if (!c.to) hit = matchesAddress(c.from, line, number, isLast);
  else if (c.active) {
    hit = true;
    const end = c.to.kind === 'line' ? number >= c.to.line : matchesAddress(c.to, line, number, isLast);
    if (end) c.active = false;
  } else if (matchesAddress(c.from, line, number, isLast)) {
    hit = true;
    // A line-number end already passed closes the range at once.
    c.active = !(c.to.kind === 'line' && c.to.line <= number) && !(c.to.kind === 'last' && isLast);
  } else hit = false;
  return hit !== c.negate;
}

export const sed = program((ctx: ProcContext, argv: string[]) => {
  let quiet = false;
  let extended = false;
  const scripts: string[] = [];
  const files: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-e') scripts.push(argv[++i] ?? '');
    else if (a === '-n' || a === '--quiet' || a === '--silent') quiet = true;
    else if (a === '-E' || a === '-r') extended = true;
    else if (/^-[nEr]+$/.test(a)) {
      quiet ||= a.includes('n');
      extended ||= /[Er]/.test(a);
    } else if (a.startsWith('-') && a !== '-') {
      ctx.stderr.write(`sed: invalid option -- '${a[1]}'\nUsage: sed [OPTION]... {script-only-if-no-other-script} [input-file]...\n`);
      return 1;
    } else files.push(a);
  }
  if (scripts.length === 0) {
    const script = files.shift();
    if (script === undefined) {
      ctx.stderr.write('Usage: sed [OPTION]... {script-only-if-no-other-script} [input-file]...\n');
      return 1;
    }
    scripts.push(script);
  }
  let commands: SedCommand[];
  try {
    commands = scripts.flatMap((s, n) => parseScript(s, extended, n + 1));
  } catch (e) {
    if (!(e instanceof SedError)) throw e;
    ctx.stderr.write(`sed: ${e.message}\n`);
    return 1;
  }
  let text = '';
  let status = 0;
  if (files.length === 0) text = ctx.stdin;
  for (const file of files) {
    const r = file === '-' ? { ok: true as const, text: ctx.stdin } : readFile(ctx, file);
    if (r.ok) text += r.text;
    else {
      ctx.stderr.write(`sed: can't read ${file}: ${r.error}\n`);
      status = 2;
    }
  }
  const input = text.split('\n');
  const endsWithNewline = input[input.length - 1] === '';
  if (endsWithNewline) input.pop();
  let out = '';
  for (let n = 0; n < input.length; n++) {
    let line = input[n]!;
    const isLast = n === input.length - 1;
    const newline = isLast && !endsWithNewline ? '' : '\n';
    let deleted = false;
    let quit = false;
    for (const c of commands) {
      if (!selects(c, line, n + 1, isLast)) continue;
      if (c.name === 's') {
        const r = substitute(line, c.substitute!);
        line = r.text;
        if (r.changed && c.substitute!.print) out += line + '\n';
      } else if (c.name === 'p') out += line + '\n';
      else if (c.name === '=') out += `${n + 1}\n`;
      else if (c.name === 'd') {
        deleted = true;
        break;
      } else {
        quit = true;
        break;
      }
    }
    if (!deleted && !quiet) out += line + newline;
    if (quit) break;
  }
  ctx.stdout.write(out);
  return status;
});
