// The text tools people pipe `ip` and `ping` into, and a few basics.
import { formatIpv4 } from '../kernel/addr';
import { isDirectory, listDirectory, normalisePath, readFile, writeFile } from './fs';
import { program, type Program, type ProcContext } from './process';
import { formatConversion } from './format';
import { basicToExtended, posixClasses } from './regex';

function inputOf(ctx: ProcContext, files: string[], tool: string): { text: string; status: number } {
  if (files.length === 0) return { text: ctx.stdin, status: 0 };
  let text = '';
  let status = 0;
  for (const file of files) {
    if (file === '-') {
      text += ctx.stdin;
      continue;
    }
    const r = readFile(ctx, file);
    if (r.ok) text += r.text;
    else {
      ctx.stderr.write(`${tool}: ${file}: ${r.error}\n`);
      status = tool === 'grep' ? 2 : 1;
    }
  }
  return { text, status };
}

function lines(text: string): string[] {
  if (text === '') return [];
  const all = text.split('\n');
  if (all[all.length - 1] === '') all.pop();
  return all;
}

/** `-n 3`, `-n3`, `-3`, `--lines=3` */
function countOption(argv: string[], tool: string, ctx: ProcContext): { count: number; files: string[]; fromStart: boolean } | null {
  let count = 10;
  let fromStart = false;
  const files: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    let value: string | undefined;
    if (a === '-n') value = argv[++i];
    else if (a.startsWith('-n')) value = a.slice(2);
    else if (a.startsWith('--lines=')) value = a.slice(8);
    else if (/^-\d+$/.test(a)) value = a.slice(1);
    else if (a.startsWith('-') && a !== '-') {
      ctx.stderr.write(`${tool}: invalid option -- '${a.slice(1, 2)}'\nTry '${tool} --help' for more information.\n`);
      return null;
    } else {
      files.push(a);
      continue;
    }
    if (value === undefined) {
      ctx.stderr.write(`${tool}: option requires an argument -- 'n'\nTry '${tool} --help' for more information.\n`);
      return null;
    }
    if (value.startsWith('+')) fromStart = true;
    const n = Number(value.replace(/^[+-]/, ''));
    if (!Number.isInteger(n)) {
      ctx.stderr.write(`${tool}: invalid number of lines: ‘${value}’\n`);
      return null;
    }
    count = n;
  }
  return { count, files, fromStart };
}

const ECHO_ESCAPES: Record<string, string> = { a: '\x07', b: '\b', e: '\x1b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' };

/**
 * The backslash escapes of bash's `echo -e`, or of dash's echo (octal also
 * without a leading 0, but neither `\e` nor `\x`): the text up to a `\c`,
 * which ends the output there, its newline included.
 */
export function echoEscapes(text: string, dash = false): { text: string; stopped: boolean } {
  const pattern = dash ? /\\(0[0-7]{0,3}|[1-7][0-7]{0,2}|[abcfnrtv\\])/g : /\\(0[0-7]{0,3}|x[0-9a-fA-F]{1,2}|[abcefnrtv\\])/g;
  let out = '';
  let last = 0;
  for (const m of text.matchAll(pattern)) {
    const e = m[1]!;
    out += text.slice(last, m.index);
    last = m.index + m[0].length;
    if (e === 'c') return { text: out, stopped: true };
    out += /^[0-7]/.test(e) ? String.fromCharCode(parseInt(e, 8) || 0) : e.startsWith('x') ? String.fromCharCode(parseInt(e.slice(1), 16)) : ECHO_ESCAPES[e]!;
  }
  return { text: out + text.slice(last), stopped: false };
}

const echo = program((ctx, argv) => {
  let args = argv.slice(1);
  let newline = true;
  let escapes = false;
  while (args.length && /^-[neE]+$/.test(args[0]!)) {
    for (const f of args[0]!.slice(1)) {
      if (f === 'n') newline = false;
      if (f === 'e') escapes = true;
      if (f === 'E') escapes = false;
    }
    args = args.slice(1);
  }
  let text = args.join(' ');
  if (escapes) {
    const escaped = echoEscapes(text);
    text = escaped.text;
    if (escaped.stopped) newline = false;
  }
  ctx.stdout.write(text + (newline ? '\n' : ''));
  return 0;
}, true);

/** cat's -v rendering of a control character: ^X, and ^? for DEL. */
function caret(c: string): string {
  const code = c.charCodeAt(0);
  return code === 127 ? '^?' : `^${String.fromCharCode(code + 64)}`;
}

/** `cat [-AETvn] FILE…`: -A is -vET, showing tabs as ^I, line ends as $ and other control characters as ^X. */
const cat = program((ctx, argv) => {
  const flags = new Set(argv.slice(1).filter((a) => /^-[AETvn]+$/.test(a)).flatMap((a) => [...a.slice(1)]));
  if (flags.has('A')) ['v', 'E', 'T'].forEach((f) => flags.add(f));
  const { text, status } = inputOf(ctx, argv.slice(1).filter((a) => !a.startsWith('-') || a === '-'), 'cat');
  let out = text;
  if (flags.has('v')) out = out.replace(/[\x00-\x08\x0b-\x1f\x7f]/g, caret);
  if (flags.has('T')) out = out.replace(/\t/g, '^I');
  if (flags.has('E')) out = out.replace(/\n/g, '$\n');
  if (flags.has('n')) {
    const lines = out.split('\n');
    const last = lines.pop();
    out = lines.map((l, i) => `${String(i + 1).padStart(6)}\t${l}\n`).join('') + (last ? `${String(lines.length + 1).padStart(6)}\t${last}` : '');
  }
  ctx.stdout.write(out);
  return status;
});

const grep = program((ctx, argv) => {
  let invert = false;
  let ignoreCase = false;
  let countOnly = false;
  let quiet = false;
  let fixed = false;
  let wholeWord = false;
  let extended = false;
  let onlyMatching = false;
  let numbered = false;
  // Each -e adds patterns (one per line); a line matches if any does.
  const given: string[] = [];
  let before = 0;
  let after = 0;
  let pattern: string | undefined;
  const files: string[] = [];
  // After `--` every word is a pattern or file, as `grep -- -A` needs.
  let optionsEnded = false;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    const context = optionsEnded ? null : /^-([ABC])(\d*)$/.exec(a);
    if (optionsEnded) {
      if (given.length === 0 && pattern === undefined) pattern = a;
      else files.push(a);
    } else if (a === '--') optionsEnded = true;
    else if (context) {
      const count = context[2] || argv[++i];
      if (count === undefined || !/^\d+$/.test(count)) {
        ctx.stderr.write(`grep: ${count ?? ''}: invalid context length argument\n`);
        return 2;
      }
      if (context[1] !== 'A') before = Number(count);
      if (context[1] !== 'B') after = Number(count);
    } else if (a === '-e') given.push(argv[++i] ?? '');
    else if (/^-[vicqFwEon]+$/.test(a)) {
      for (const f of a.slice(1)) {
        if (f === 'v') invert = true;
        if (f === 'i') ignoreCase = true;
        if (f === 'c') countOnly = true;
        if (f === 'q') quiet = true;
        if (f === 'F') fixed = true;
        if (f === 'w') wholeWord = true;
        if (f === 'E') extended = true;
        if (f === 'o') onlyMatching = true;
        if (f === 'n') numbered = true;
      }
    } else if (a.startsWith('-') && a.length > 1) {
      ctx.stderr.write(`grep: invalid option -- '${a[1]}'\nUsage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information.\n`);
      return 2;
    } else if (given.length === 0 && pattern === undefined) pattern = a;
    else files.push(a);
  }
  if (pattern !== undefined) given.push(pattern);
  if (given.length === 0) {
    ctx.stderr.write("Usage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information.\n");
    return 2;
  }
  const one = (text: string) => {
    const converted = fixed ? text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : posixClasses(text);
    return !fixed && !extended ? basicToExtended(converted) : converted;
  };
  let source = given.flatMap((p) => p.split('\n')).map((p) => `(?:${one(p)})`).join('|');
  if (wholeWord) source = `\\b(?:${source})\\b`;
  let re: RegExp;
  try {
    re = new RegExp(source, ignoreCase ? 'i' : '');
  } catch {
    ctx.stderr.write('grep: Unmatched ( or \\(\n');
    return 2;
  }
  const input = inputOf(ctx, files, 'grep');
  const all = lines(input.text);
  const matched = all.map((line, i) => ({ line, number: i + 1 })).filter(({ line }) => re.test(line) !== invert);
  const prefix = (n: number, separator = ':') => (numbered ? `${n}${separator}` : '');
  if (countOnly) ctx.stdout.write(`${matched.length}\n`);
  else if (quiet) {
    // -q prints nothing.
  } else if (onlyMatching && !invert) {
    const global = new RegExp(re.source, re.flags + 'g');
    for (const { line, number } of matched) for (const m of line.matchAll(global)) if (m[0] !== '') ctx.stdout.write(prefix(number) + m[0] + '\n');
  } else if (!onlyMatching && (before > 0 || after > 0)) {
    // -A/-B/-C: each match with the lines around it; `--` between groups that do not touch.
    const matching = new Set(matched.map(({ number }) => number));
    let printed = 0;
    for (const { number } of matched) {
      const from = Math.max(1, number - before);
      if (printed > 0 && from > printed + 1) ctx.stdout.write('--\n');
      for (let n = Math.max(from, printed + 1); n <= Math.min(all.length, number + after); n++) ctx.stdout.write(prefix(n, matching.has(n) ? ':' : '-') + all[n - 1] + '\n');
      printed = Math.max(printed, Math.min(all.length, number + after));
    }
  } else if (!onlyMatching) for (const { line, number } of matched) ctx.stdout.write(prefix(number) + line + '\n');
  if (input.status) return input.status;
  return matched.length > 0 ? 0 : 1;
});

const head = program((ctx, argv) => {
  const opt = countOption(argv, 'head', ctx);
  if (!opt) return 1;
  const input = inputOf(ctx, opt.files, 'head');
  const all = lines(input.text);
  const out = opt.count >= 0 ? all.slice(0, opt.count) : all;
  for (const l of out) ctx.stdout.write(l + '\n');
  return input.status;
});

const tail = program((ctx, argv) => {
  const opt = countOption(argv, 'tail', ctx);
  if (!opt) return 1;
  const input = inputOf(ctx, opt.files, 'tail');
  const all = lines(input.text);
  const out = opt.fromStart ? all.slice(Math.max(0, opt.count - 1)) : opt.count === 0 ? [] : all.slice(-opt.count);
  for (const l of out) ctx.stdout.write(l + '\n');
  return input.status;
});

const wc = program((ctx, argv) => {
  const flags = argv.slice(1).filter((a) => a.startsWith('-')).join('');
  const files = argv.slice(1).filter((a) => !a.startsWith('-'));
  const input = inputOf(ctx, files, 'wc');
  const text = input.text;
  const counts: number[] = [];
  const nl = (text.match(/\n/g) ?? []).length;
  const words = text.split(/\s+/).filter(Boolean).length;
  if (flags === '') {
    const width = Math.max(String(text.length).length, files.length ? 1 : 7);
    ctx.stdout.write([nl, words, text.length].map((n) => String(n).padStart(width)).join(' ') + (files[0] ? ` ${files[0]}` : '') + '\n');
    return input.status;
  }
  if (flags.includes('l')) counts.push(nl);
  if (flags.includes('w')) counts.push(words);
  if (flags.includes('c')) counts.push(text.length);
  ctx.stdout.write(counts.join(' ') + (files[0] ? ` ${files[0]}` : '') + '\n');
  return input.status;
});

/** `sort [-rnu] [-t SEP] [-k N[,M]] [FILE…]` */
/** `sort -V`: runs of digits compare as numbers, the text between them as text. */
function versionCompare(a: string, b: string): number {
  const pa = a.match(/\d+|\D+/g) ?? [];
  const pb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const [x, y] = [pa[i]!, pb[i]!];
    const numbers = /^\d/.test(x) && /^\d/.test(y);
    const c = numbers ? Number(x) - Number(y) : x < y ? -1 : x > y ? 1 : 0;
    if (c !== 0) return c;
  }
  return pa.length - pb.length;
}

const sort = program((ctx, argv) => {
  let reverse = false;
  let numeric = false;
  let unique = false;
  let version = false;
  let separator: string | null = null;
  let key: [number, number] | null = null;
  const files: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (flag: string) => (a.length > 2 ? a.slice(2) : argv[++i] ?? '').replace(new RegExp(`^${flag}`), '');
    if (a.startsWith('-k')) {
      const m = /^(\d+)(?:\.\d+)?[a-z]*(?:,(\d+))?/.exec(value('-k'));
      if (!m) {
        ctx.stderr.write(`sort: invalid number at field start: invalid count at start of ‘${a.slice(2)}’\n`);
        return 2;
      }
      key = [Number(m[1]), m[2] === undefined ? Infinity : Number(m[2])];
    } else if (a.startsWith('-t')) separator = value('-t');
    else if (/^-[rnuV]+$/.test(a)) {
      reverse ||= a.includes('r');
      numeric ||= a.includes('n');
      unique ||= a.includes('u');
      version ||= a.includes('V');
    } else files.push(a);
  }
  const input = inputOf(ctx, files, 'sort');
  const keyOf = (line: string): string => {
    if (!key) return line;
    const fields = separator !== null ? line.split(separator) : line.split(/(?<=\S)(?=\s)/);
    return fields.slice(key[0] - 1, key[1]).join(separator ?? '').replace(separator === null ? /^\s+/ : /^$/, '');
  };
  const compare = (a: string, b: string): number => {
    const ka = keyOf(a);
    const kb = keyOf(b);
    const primary = numeric ? (parseFloat(ka) || 0) - (parseFloat(kb) || 0) : version ? versionCompare(ka, kb) : ka < kb ? -1 : ka > kb ? 1 : 0;
    return primary;
  };
  let all = lines(input.text).sort((a, b) => compare(a, b) || (a < b ? -1 : a > b ? 1 : 0));
  if (reverse) all.reverse();
  if (unique) all = all.filter((l, i) => i === 0 || compare(all[i - 1]!, l) !== 0);
  for (const l of all) ctx.stdout.write(l + '\n');
  return input.status ? 2 : 0;
});

/** `uniq [-c] [-d] [-u]`: adjacent repeated lines collapsed. */
const uniq = program((ctx, argv) => {
  const flags = argv.slice(1).filter((a) => /^-[cdu]+$/.test(a)).join('');
  const files = argv.slice(1).filter((a) => !/^-[cdu]+$/.test(a));
  const input = inputOf(ctx, files.slice(0, 1), 'uniq');
  const runs: Array<{ line: string; count: number }> = [];
  for (const line of lines(input.text)) {
    const last = runs[runs.length - 1];
    if (last && last.line === line) last.count++;
    else runs.push({ line, count: 1 });
  }
  for (const { line, count } of runs) {
    if (flags.includes('d') && count < 2) continue;
    if (flags.includes('u') && count > 1) continue;
    ctx.stdout.write(flags.includes('c') ? `${String(count).padStart(7)} ${line}\n` : `${line}\n`);
  }
  return input.status;
});

/** `xargs [-n N] [-I REPLACE] [COMMAND [ARGS…]]`: runs COMMAND with the words (or lines) read from input. */
const xargs: Program = {
  *run(ctx, argv) {
    let perCommand = Infinity;
    let replace: string | null = null;
    let i = 1;
    for (; i < argv.length && argv[i]!.startsWith('-'); i++) {
      const a = argv[i]!;
      if (a === '-n') perCommand = Number(argv[++i]);
      else if (a.startsWith('-n')) perCommand = Number(a.slice(2));
      else if (a === '-I') replace = argv[++i] ?? '';
      else if (a.startsWith('-I')) replace = a.slice(2);
      else if (a === '-r' || a === '--no-run-if-empty') continue;
      else {
        ctx.stderr.write(`xargs: invalid option -- '${a.slice(1)}'\nUsage: xargs [OPTION]... COMMAND [INITIAL-ARGS]...\nTry 'xargs --help' for more information.\n`);
        return 1;
      }
    }
    if (!(perCommand > 0)) {
      ctx.stderr.write(`xargs: value ${argv[i - 1]} for -n option should be >= 1\n`);
      return 1;
    }
    const command = argv.length > i ? argv.slice(i) : ['echo'];
    const runs: string[][] = [];
    if (replace !== null) {
      for (const line of lines(ctx.stdin)) {
        const item = line.trim();
        if (item !== '') runs.push(command.map((arg) => arg.split(replace!).join(item)));
      }
    } else {
      const words = ctx.stdin.split(/\s+/).filter((w) => w !== '');
      if (words.length === 0) runs.push(command);
      for (let at = 0; at < words.length; at += perCommand === Infinity ? words.length : perCommand) runs.push([...command, ...words.slice(at, at + perCommand)]);
    }
    let status = 0;
    for (const run of runs) {
      const code = yield* ctx.exec(ctx.ns, run);
      if (code === 127 || code === 126) return code;
      if (code === 255) {
        ctx.stderr.write(`xargs: ${run[0]}: exited with status 255; aborting\n`);
        return 124;
      }
      if (code !== 0) status = 123;
      if (ctx.interrupted()) return 130;
    }
    return status;
  },
  flushesStdout: true,
};

/** `1,3-5,7-` as a set of 1-based positions. */
function parseList(list: string): ((n: number) => boolean) | null {
  const ranges: Array<[number, number]> = [];
  for (const part of list.split(',')) {
    const m = /^(\d*)(-?)(\d*)$/.exec(part);
    if (!m || (m[1] === '' && m[3] === '') || (m[2] === '' && m[3] !== '')) return null;
    const from = m[1] === '' ? 1 : Number(m[1]);
    const to = m[2] === '' ? from : m[3] === '' ? Infinity : Number(m[3]);
    ranges.push([from, to]);
  }
  return (n) => ranges.some(([a, b]) => n >= a && n <= b);
}

const cut = program((ctx, argv) => {
  let delimiter = '\t';
  let fields: string | null = null;
  let chars: string | null = null;
  const files: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-d') delimiter = argv[++i] ?? '';
    else if (a.startsWith('-d')) delimiter = a.slice(2);
    else if (a === '-f') fields = argv[++i] ?? '';
    else if (a.startsWith('-f')) fields = a.slice(2);
    else if (a === '-c') chars = argv[++i] ?? '';
    else if (a.startsWith('-c')) chars = a.slice(2);
    else files.push(a);
  }
  const list = fields ?? chars;
  if (list === null) {
    ctx.stderr.write("cut: you must specify a list of bytes, characters, or fields\nTry 'cut --help' for more information.\n");
    return 1;
  }
  const pick = parseList(list);
  if (!pick) {
    ctx.stderr.write(`cut: invalid field value ‘${list}’\nTry 'cut --help' for more information.\n`);
    return 1;
  }
  const input = inputOf(ctx, files, 'cut');
  for (const line of lines(input.text)) {
    if (chars !== null) ctx.stdout.write([...line].filter((_, i) => pick(i + 1)).join('') + '\n');
    else if (!line.includes(delimiter)) ctx.stdout.write(line + '\n');
    else ctx.stdout.write(line.split(delimiter).filter((_, i) => pick(i + 1)).join(delimiter) + '\n');
  }
  return input.status;
});

/** `mktemp [-d]`: a fresh /tmp/tmp.XXXXXXXXXX file or directory. */
const mktemp = program((ctx, argv) => {
  const letters = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  let name = '/tmp/tmp.';
  for (let i = 0; i < 10; i++) name += letters[ctx.world.randomInt(0, letters.length - 1)];
  if (argv.includes('-d')) ctx.host.directories.add(name);
  else ctx.host.files.set(name, '');
  ctx.stdout.write(name + '\n');
  return 0;
});

const mkdir = program((ctx, argv) => {
  let status = 0;
  const parents = argv.includes('-p');
  for (const arg of argv.slice(1).filter((a) => !a.startsWith('-'))) {
    const path = normalisePath(arg, ctx.session.cwd);
    const parent = path.slice(0, path.lastIndexOf('/')) || '/';
    if (isDirectory(ctx, path) || ctx.host.files.has(path)) {
      if (!parents) {
        ctx.stderr.write(`mkdir: cannot create directory ‘${arg}’: File exists\n`);
        status = 1;
      }
    } else if (parents) {
      // -p makes the missing parents too.
      for (let at = path.indexOf('/', 1); at > 0; at = path.indexOf('/', at + 1)) if (!isDirectory(ctx, path.slice(0, at))) ctx.host.directories.add(path.slice(0, at));
      ctx.host.directories.add(path);
    } else if (!isDirectory(ctx, parent)) {
      ctx.stderr.write(`mkdir: cannot create directory ‘${arg}’: No such file or directory\n`);
      status = 1;
    } else ctx.host.directories.add(path);
  }
  return status;
});

/**
 * hostname (Debian's): the name, `-s` its first label, `-I` every address of
 * the up, non-loopback interfaces in getifaddrs order (IPv4 first, IPv6
 * link-local left out), each followed by a space.
 */
const hostname = program((ctx, argv) => {
  const option = argv[1];
  if (option === '-I' || option === '--all-ip-addresses') {
    const devices = ctx.ns.sortedDevices().filter((d) => d.adminUp && d.kind.name !== 'loopback');
    const addresses = [...devices.flatMap((d) => d.ipv4.map((a) => formatIpv4(a.local))), ...devices.flatMap((d) => d.ipv6.filter((a) => a.scope !== 'link').map((a) => a.address))];
    ctx.stdout.write(addresses.map((a) => a + ' ').join('') + '\n');
    return 0;
  }
  const name = ctx.host.hostname;
  ctx.stdout.write((option === '-s' || option === '--short' ? name.split('.')[0]! : name) + '\n');
  return 0;
});

const sleep: Program = {
  *run(ctx, argv) {
    const seconds = Number(argv[1]);
    if (argv.length < 2 || !Number.isFinite(seconds) || seconds < 0) {
      ctx.stderr.write(argv.length < 2 ? "sleep: missing operand\nTry 'sleep --help' for more information.\n" : `sleep: invalid time interval ‘${argv[1]}’\nTry 'sleep --help' for more information.\n`);
      return 1;
    }
    const until = ctx.world.now + Math.round(seconds * 1e6);
    while (ctx.world.now < until && !ctx.interrupted()) yield until;
    return ctx.interrupted() ? 130 : 0;
  },
};

/** `timeout DURATION CMD…`: Ctrl-C for CMD after DURATION seconds; 124 when it came to that. */
const timeout: Program = {
  *run(ctx, argv) {
    const seconds = Number(argv[1]?.replace(/s$/, ''));
    if (argv.length < 3 || !Number.isFinite(seconds)) {
      ctx.stderr.write(argv.length < 2 ? "timeout: missing operand\nTry 'timeout --help' for more information.\n" : `timeout: invalid time interval ‘${argv[1]}’\nTry 'timeout --help' for more information.\n`);
      return 125;
    }
    if (!ctx.canExec(argv[2]!)) {
      ctx.stderr.write(`timeout: failed to run command ‘${argv[2]}’: No such file or directory\n`);
      return 127;
    }
    const deadline = ctx.world.now + Math.round(seconds * 1e6);
    const status = yield* ctx.exec(ctx.ns, argv.slice(2), deadline);
    return ctx.world.now >= deadline ? 124 : status;
  },
  flushesStdout: true,
};

/** `rm [-f] [-r] PATH…`: files, and directories with what is in them under -r. */
const rm = program((ctx, argv) => {
  const flags = argv.slice(1).filter((a) => /^-[a-zA-Z]+$/.test(a)).join('');
  const force = flags.includes('f');
  const recursive = /[rR]/.test(flags);
  let status = 0;
  for (const arg of argv.slice(1).filter((a) => !/^-[a-zA-Z]+$/.test(a))) {
    const path = normalisePath(arg, ctx.session.cwd);
    if (ctx.host.directories.has(path)) {
      if (!recursive) {
        ctx.stderr.write(`rm: cannot remove '${arg}': Is a directory\n`);
        status = 1;
        continue;
      }
      for (const dir of [...ctx.host.directories]) if (dir === path || dir.startsWith(path + '/')) ctx.host.directories.delete(dir);
      for (const file of [...ctx.host.files.keys()]) if (file.startsWith(path + '/')) ctx.host.files.delete(file);
    } else if (ctx.host.files.delete(path)) ctx.host.executables.delete(path);
    else if (!force) {
      ctx.stderr.write(`rm: cannot remove '${arg}': No such file or directory\n`);
      status = 1;
    }
  }
  return status;
});

/** `seq [-s SEP] [-w] [-f FORMAT] [FIRST [STEP]] LAST` */
const seq = program((ctx, argv) => {
  let separator = '\n';
  let equalWidth = false;
  let format: string | null = null;
  const operands: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-s') separator = argv[++i] ?? '';
    else if (a.startsWith('-s') && a.length > 2) separator = a.slice(2);
    else if (a === '-f') format = argv[++i] ?? '';
    else if (a.startsWith('-f') && a.length > 2) format = a.slice(2);
    else if (a === '-w') equalWidth = true;
    else operands.push(a);
  }
  const usage = (message: string) => {
    ctx.stderr.write(`seq: ${message}\nTry 'seq --help' for more information.\n`);
    return 1;
  };
  if (operands.length === 0) return usage('missing operand');
  if (operands.length > 3) return usage(`extra operand ‘${operands[3]}’`);
  const numbers = operands.map(Number);
  const bad = operands.find((o, i) => o.trim() === '' || !Number.isFinite(numbers[i]));
  if (bad !== undefined) return usage(`invalid floating point argument: ‘${bad}’`);
  const [first, step, last] = numbers.length === 1 ? [1, 1, numbers[0]!] : numbers.length === 2 ? [numbers[0]!, 1, numbers[1]!] : [numbers[0]!, numbers[1]!, numbers[2]!];
  if (step === 0) return usage(`invalid Zero increment value: ‘${operands[1]}’`);
  const decimals = Math.max(...operands.map((o) => (o.includes('.') ? o.length - o.indexOf('.') - 1 : 0)));
  // -f: one printf conversion of a floating point number (%g, %f, %e) in the text.
  const spec = format === null ? null : /%([-+ 0#]*)(\d+)?(?:\.(\d*))?([eEfgG])/.exec(format);
  if (format !== null && (!spec || /%[^%]/.test(format.replace(spec[0], '').replace(/%%/g, '')))) {
    ctx.stderr.write(`seq: format ‘${format}’ has ${spec ? 'too many % directives' : 'no % directive'}\n`);
    return 1;
  }
  const values: string[] = [];
  for (let n = first; step > 0 ? n <= last + 1e-9 : n >= last - 1e-9; n += step) {
    if (!spec) values.push(n.toFixed(decimals));
    else {
      const conversion = { flags: spec[1]!, width: Number(spec[2] ?? 0), precision: spec[3] === undefined ? null : Number(spec[3] || 0), conv: spec[4]! };
      values.push(format!.replace(spec[0], () => formatConversion(conversion, String(n), n)).replace(/%%/g, '%'));
    }
  }
  const width = Math.max(...values.map((v) => v.length), 0);
  const shown = equalWidth ? values.map((v) => (v.startsWith('-') ? '-' + v.slice(1).padStart(width - 1, '0') : v.padStart(width, '0'))) : values;
  if (shown.length > 0) ctx.stdout.write(shown.join(separator) + '\n');
  return 0;
});

/** tr's SET syntax: ranges (a-z), backslash escapes and [:classes:]. */
function expandSet(set: string): string[] {
  const classes: Record<string, string> = { lower: 'a-z', upper: 'A-Z', digit: '0-9', alpha: 'a-zA-Z', alnum: 'a-zA-Z0-9', space: ' \t\n\r\v\f', blank: ' \t', punct: '!-/:-@[-`{-~' };
  const source = set.replace(/\[:(\w+):\]/g, (whole, name: string) => classes[name] ?? whole);
  const chars: string[] = [];
  const escapes: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', v: '\v', f: '\f' };
  const items: string[] = [];
  for (let i = 0; i < source.length; i++) {
    if (source[i] === '\\' && i + 1 < source.length) items.push(escapes[source[++i]!] ?? source[i]!);
    else items.push(source[i]!);
  }
  for (let i = 0; i < items.length; i++) {
    if (items[i + 1] === '-' && i + 2 < items.length) {
      for (let c = items[i]!.charCodeAt(0); c <= items[i + 2]!.charCodeAt(0); c++) chars.push(String.fromCharCode(c));
      i += 2;
    } else chars.push(items[i]!);
  }
  return chars;
}

/** `tr SET1 SET2`, `tr -d SET`, `tr -s SET`. */
const tr = program((ctx, argv) => {
  const flags = argv.slice(1).filter((a) => /^-[dsc]+$/.test(a)).join('');
  const sets = argv.slice(1).filter((a) => !/^-[dsc]+$/.test(a));
  const remove = flags.includes('d');
  const squeeze = flags.includes('s');
  const complement = flags.includes('c');
  const need = remove || (squeeze && sets.length === 1) ? 1 : 2;
  if (sets.length < need) {
    ctx.stderr.write(sets.length === 0 ? "tr: missing operand\nTry 'tr --help' for more information.\n" : `tr: missing operand after ‘${sets[0]}’\nTwo strings must be given when translating.\nTry 'tr --help' for more information.\n`);
    return 1;
  }
  const from = expandSet(sets[0]!);
  const to = sets[1] === undefined ? [] : expandSet(sets[1]);
  let out = '';
  for (const c of ctx.stdin) {
    // -c: the characters not in the first set, all mapped to the last of the second.
    const at = complement ? (from.includes(c) ? -1 : Math.max(0, to.length - 1)) : from.indexOf(c);
    if (remove && at >= 0) continue;
    const mapped = !remove && to.length > 0 && at >= 0 ? to[Math.min(at, to.length - 1)]! : c;
    const squeezeSet = remove || to.length === 0 ? from : to;
    if (squeeze && out.endsWith(mapped) && squeezeSet.includes(mapped)) continue;
    out += mapped;
  }
  ctx.stdout.write(out);
  return 0;
});

/** `tee [-a] FILE…`: standard input to standard output and to each file. */
const tee = program((ctx, argv) => {
  const append = argv.slice(1).some((a) => /^-[a-z]*a/.test(a) || a === '--append');
  let status = 0;
  for (const file of argv.slice(1).filter((a) => !a.startsWith('-') || a === '-')) {
    const written = writeFile(ctx, file, ctx.stdin, append);
    if (!written.ok) {
      ctx.stderr.write(`tee: ${file}: ${written.error}\n`);
      status = 1;
    }
  }
  ctx.stdout.write(ctx.stdin);
  return status;
});

/**
 * `ls [PATH…]`: one name a line, as when its output is not a terminal. A
 * directory the simulation knows fully is listed whole, another shows what
 * was made in it (mkdir, files written).
 */
const ls = program((ctx, argv) => {
  const paths = argv.slice(1).filter((a) => !a.startsWith('-'));
  let status = 0;
  const files: string[] = [];
  const dirs: Array<[string, string[]]> = [];
  for (const path of paths.length ? paths : ['.']) {
    const abs = normalisePath(path, ctx.session.cwd);
    if (isDirectory(ctx, abs)) {
      const known = [...ctx.host.directories, ...ctx.host.files.keys()].filter((p) => p.startsWith(abs === '/' ? '/' : abs + '/') && !p.slice(abs.length + 1).includes('/'));
      dirs.push([path, listDirectory(ctx, abs) ?? known.map((p) => p.slice(abs.length + 1)).sort()]);
    } else if (readFile(ctx, abs).ok) files.push(path);
    else {
      ctx.stderr.write(`ls: cannot access '${path}': No such file or directory\n`);
      status = 2;
    }
  }
  const blocks = [...(files.length ? [files.sort().join('\n') + '\n'] : []), ...dirs.map(([path, names]) => (paths.length > 1 || files.length ? `${path}:\n` : '') + names.map((n) => n + '\n').join(''))];
  ctx.stdout.write(blocks.join('\n'));
  return status;
});

/** `basename NAME [SUFFIX]` */
const basename = program((ctx, argv) => {
  const [name, suffix] = argv.slice(1);
  if (name === undefined) {
    ctx.stderr.write("basename: missing operand\nTry 'basename --help' for more information.\n");
    return 1;
  }
  const trimmed = name.replace(/\/+$/, '');
  let base = trimmed === '' ? (name === '' ? '' : '/') : trimmed.slice(trimmed.lastIndexOf('/') + 1);
  if (suffix && base !== suffix && base.endsWith(suffix)) base = base.slice(0, -suffix.length);
  ctx.stdout.write(base + '\n');
  return 0;
});

/** `dirname NAME…` */
const dirname = program((ctx, argv) => {
  const names = argv.slice(1);
  if (names.length === 0) {
    ctx.stderr.write("dirname: missing operand\nTry 'dirname --help' for more information.\n");
    return 1;
  }
  for (const name of names) {
    const trimmed = name.replace(/\/+$/, '');
    const slash = trimmed.lastIndexOf('/');
    ctx.stdout.write((slash < 0 ? (name.startsWith('/') ? '/' : '.') : trimmed.slice(0, slash).replace(/\/+$/, '') || '/') + '\n');
  }
  return 0;
});

/** `chmod MODE FILE…`: of the permissions, only whether a file may be executed matters here. */
const chmod = program((ctx, argv) => {
  const [mode, ...files] = argv.slice(1).filter((a) => a !== '-R' && a !== '-v');
  if (mode === undefined || files.length === 0) {
    ctx.stderr.write(`chmod: missing operand${mode === undefined ? '' : ` after ‘${mode}’`}\nTry 'chmod --help' for more information.\n`);
    return 1;
  }
  // Octal: any execute bit; symbolic (`+x`, `u+x,go-w`, `a=rx`): what its clauses say of x.
  const octal = /^[0-7]{1,4}$/.test(mode) ? (parseInt(mode, 8) & 0o111) !== 0 : null;
  const clauses = octal === null ? mode.split(',').map((c) => /^[ugoa]*([-+=])([rwxXst]*)$/.exec(c)) : [];
  if (clauses.some((c) => c === null)) {
    ctx.stderr.write(`chmod: invalid mode: ‘${mode}’\nTry 'chmod --help' for more information.\n`);
    return 1;
  }
  let status = 0;
  for (const file of files) {
    const path = normalisePath(file, ctx.session.cwd);
    if (!ctx.host.files.has(path) && !isDirectory(ctx, path) && !readFile(ctx, path).ok) {
      ctx.stderr.write(`chmod: cannot access '${file}': No such file or directory\n`);
      status = 1;
      continue;
    }
    let executable = octal ?? ctx.host.executables.has(path);
    for (const [, op, perms] of clauses as RegExpExecArray[]) {
      if (op === '=') executable = perms!.includes('x');
      else if (perms!.includes('x')) executable = op === '+';
    }
    if (executable) ctx.host.executables.add(path);
    else ctx.host.executables.delete(path);
  }
  return status;
});

/** `paste [-s] [-d LIST] [FILE…]`: lines of the inputs side by side, or (-s) each input's lines on one line. */
const paste = program((ctx, argv) => {
  let serial = false;
  let delimiters = '\t';
  const files: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    const m = /^-(s?)(?:d(.*))?(s?)$/.exec(a);
    if (m && a !== '-') {
      serial ||= m[1] === 's' || m[3] === 's';
      if (m[2] !== undefined) delimiters = m[2] || (argv[++i] ?? '');
    } else files.push(a);
  }
  const delimiter = (n: number) => delimiters[n % delimiters.length] ?? '';
  const names = files.length ? files : ['-'];
  // The `-`s read standard input's lines in turn.
  const stdinLines = lines(ctx.stdin);
  const dashes = names.filter((f) => f === '-').length;
  let dash = 0;
  let status = 0;
  const inputs = names.map((file) => {
    if (file === '-') {
      const k = dash++;
      return serial ? stdinLines : stdinLines.filter((_, n) => n % dashes === k);
    }
    const read = inputOf(ctx, [file], 'paste');
    status ||= read.status;
    return lines(read.text);
  });
  if (serial) for (const input of inputs) ctx.stdout.write(input.map((line, n) => (n > 0 ? delimiter(n - 1) : '') + line).join('') + '\n');
  else {
    const rows = Math.max(...inputs.map((input) => input.length));
    for (let r = 0; r < rows; r++) ctx.stdout.write(inputs.map((input, c) => (c > 0 ? delimiter(c - 1) : '') + (input[r] ?? '')).join('') + '\n');
  }
  return status;
});

/** `nl`: non-empty lines numbered, right-aligned in six columns and a tab. */
const nl = program((ctx, argv) => {
  const input = inputOf(ctx, argv.slice(1).filter((a) => !a.startsWith('-') || a === '-'), 'nl');
  let n = 0;
  for (const line of lines(input.text)) ctx.stdout.write(line === '' ? '       \n' : `${String(++n).padStart(6)}\t${line}\n`);
  return input.status;
});

/** `rev`: each line backwards. */
const rev = program((ctx, argv) => {
  const input = inputOf(ctx, argv.slice(1), 'rev');
  for (const line of lines(input.text)) ctx.stdout.write([...line].reverse().join('') + '\n');
  return input.status;
});

/** `column -t [-s SEPS] [-o SEP]`: a table, each column as wide as its widest cell and two spaces; empty lines dropped. */
const column = program((ctx, argv) => {
  let table = false;
  let separators: string | null = null;
  let output = '  ';
  const files: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-t') table = true;
    else if (a === '-s') separators = argv[++i] ?? '';
    else if (a.startsWith('-s')) separators = a.slice(2);
    else if (a === '-o') output = argv[++i] ?? '';
    else if (a.startsWith('-o')) output = a.slice(2);
    else files.push(a);
  }
  const input = inputOf(ctx, files, 'column');
  const rows = lines(input.text).filter((l) => l.trim() !== '');
  if (!table) {
    for (const row of rows) ctx.stdout.write(row + '\n');
    return input.status;
  }
  const split = separators === null ? (l: string) => l.trim().split(/[ \t]+/) : (l: string) => l.split(new RegExp(`[${separators!.replace(/[\]\\^-]/g, '\\$&')}]+`));
  const cells = rows.map(split);
  const columns = Math.max(...cells.map((c) => c.length));
  const widths = Array.from({ length: columns }, (_, i) => Math.max(...cells.map((c) => [...(c[i] ?? '')].length)));
  // Every cell but those of the last column is padded, even at the end of a shorter row.
  for (const row of cells) ctx.stdout.write(row.map((cell, i) => (i === columns - 1 ? cell : cell + ' '.repeat(widths[i]! - [...cell].length) + output)).join('') + '\n');
  return input.status;
});

/** `expr`: integer arithmetic, comparisons and `length`; prints the value, and fails when it is 0 or empty. */
const expr = program((ctx, argv) => {
  const args = argv.slice(1);
  const fail = (message: string, status = 2) => {
    ctx.stderr.write(`expr: ${message}\n`);
    return status;
  };
  if (args.length === 0) return fail("missing operand\nTry 'expr --help' for more information.");
  let pos = 0;
  const integer = (v: string) => /^-?\d+$/.test(v);
  const levels = [['|'], ['&'], ['<', '<=', '=', '==', '!=', '>=', '>'], ['+', '-'], ['*', '/', '%']];
  const primary = (): string => {
    const tok = args[pos++];
    if (tok === undefined) throw new Error('syntax error: missing argument after ‘' + args[pos - 2] + '’');
    if (tok === '(') {
      const v = level(0);
      if (args[pos++] !== ')') throw new Error('syntax error: expecting ‘)’');
      return v;
    }
    if (tok === 'length') return String([...(args[pos++] ?? '')].length);
    return tok;
  };
  const level = (n: number): string => {
    if (n === levels.length) return primary();
    let left = level(n + 1);
    while (args[pos] !== undefined && levels[n]!.includes(args[pos]!)) {
      const op = args[pos++]!;
      const right = level(n + 1);
      if (op === '|') left = left !== '' && left !== '0' ? left : right !== '' && right !== '0' ? right : '0';
      else if (op === '&') left = left !== '' && left !== '0' && right !== '' && right !== '0' ? left : '0';
      else if (n === 2) {
        const c = integer(left) && integer(right) ? Number(left) - Number(right) : left < right ? -1 : left > right ? 1 : 0;
        left = ({ '<': c < 0, '<=': c <= 0, '=': c === 0, '==': c === 0, '!=': c !== 0, '>=': c >= 0, '>': c > 0 } as Record<string, boolean>)[op] ? '1' : '0';
      } else {
        if (!integer(left) || !integer(right)) throw new Error('non-integer argument');
        const [l, r] = [BigInt(left), BigInt(right)];
        if ((op === '/' || op === '%') && r === 0n) throw new Error('division by zero');
        left = String(op === '+' ? l + r : op === '-' ? l - r : op === '*' ? l * r : op === '/' ? l / r : l % r);
      }
    }
    return left;
  };
  let value: string;
  try {
    value = level(0);
    if (pos < args.length) throw new Error(`syntax error: unexpected argument ‘${args[pos]}’`);
  } catch (e) {
    return fail((e as Error).message);
  }
  ctx.stdout.write(value + '\n');
  return value === '' || value === '0' ? 1 : 0;
});

/** `id [-u|-g|-G] [-n] [USER]` and `whoami`: everyone is root here. */
const id = program((ctx, argv) => {
  const flags = argv.slice(1).filter((a) => a.startsWith('-')).join('');
  const bad = /[^-ugGnr]/.exec(flags);
  if (bad) {
    ctx.stderr.write(`id: invalid option -- '${bad[0]}'\nTry 'id --help' for more information.\n`);
    return 1;
  }
  const user = argv.slice(1).find((a) => !a.startsWith('-'));
  if (user !== undefined && user !== 'root' && user !== '0') {
    ctx.stderr.write(`id: ‘${user}’: no such user\n`);
    return 1;
  }
  const named = flags.includes('n');
  ctx.stdout.write(/[ugG]/.test(flags) ? (named ? 'root\n' : '0\n') : 'uid=0(root) gid=0(root) groups=0(root)\n');
  return 0;
});

export const COREUTILS: Record<string, Program> = {
  id,
  whoami: program((ctx) => (ctx.stdout.write('root\n'), 0)),
  paste,
  nl,
  rev,
  column,
  expr,
  chmod,
  tee,
  ls,
  basename,
  dirname,
  echo,
  cat,
  grep,
  head,
  tail,
  wc,
  sort,
  cut,
  uniq,
  xargs,
  seq,
  tr,
  hostname,
  sleep,
  mktemp,
  mkdir,
  rm,
  timeout,
  true: program(() => 0),
  false: program(() => 1),
};
