// bash's `test` / `[` and `printf` builtins.
import { CONVERSION, formatConversion } from './format';
import { isDirectory, readFile } from './fs';
import type { ProcContext } from './process';

class TestError extends Error {}

const UNARY = new Set(['-z', '-n', '-e', '-f', '-d', '-s', '-r', '-w', '-x']);
const BINARY = new Set(['=', '==', '!=', '<', '>', '-eq', '-ne', '-lt', '-le', '-gt', '-ge']);

/** test's expression grammar: `!`, `( )`, `-a` binding tighter than `-o`, unary and binary primaries. */
class TestExpression {
  private i = 0;

  constructor(
    private readonly ctx: ProcContext,
    private readonly args: string[],
  ) {}

  evaluate(): boolean {
    const value = this.counted(this.args.length);
    if (this.i < this.args.length) throw new TestError(`too many arguments`);
    return value;
  }

  /** Up to four arguments, what they mean depends on how many there are (POSIX's rules, as bash applies them). */
  private counted(n: number): boolean {
    const a = this.args;
    const i = this.i;
    switch (n) {
      case 1:
        this.i++;
        return a[i] !== '';
      case 2:
        if (a[i] === '!') {
          this.i += 2;
          return a[i + 1] === '';
        }
        if (!UNARY.has(a[i]!)) throw new TestError(`${a[i]}: unary operator expected`);
        this.i += 2;
        return unaryTest(this.ctx, a[i]!, a[i + 1]!);
      case 3:
        if (a[i + 1] === '-a' || a[i + 1] === '-o') {
          this.i += 3;
          return a[i + 1] === '-a' ? a[i] !== '' && a[i + 2] !== '' : a[i] !== '' || a[i + 2] !== '';
        }
        if (BINARY.has(a[i + 1]!)) {
          this.i += 3;
          return binaryTest(a[i]!, a[i + 1]!, a[i + 2]!);
        }
        if (a[i] === '!') {
          this.i++;
          return !this.counted(2);
        }
        if (a[i] === '(' && a[i + 2] === ')') {
          this.i += 3;
          return a[i + 1] !== '';
        }
        throw new TestError(`${a[i + 1]}: binary operator expected`);
      case 4:
        if (a[i] === '!') {
          this.i++;
          return !this.counted(3);
        }
        if (a[i] === '(' && a[i + 3] === ')') {
          this.i++;
          const value = this.counted(2);
          this.i++;
          return value;
        }
        return this.or();
      default:
        return this.or();
    }
  }

  private or(): boolean {
    let value = this.and();
    while (this.args[this.i] === '-o') {
      this.i++;
      value = this.and() || value;
    }
    return value;
  }

  private and(): boolean {
    let value = this.not();
    while (this.args[this.i] === '-a') {
      this.i++;
      value = this.not() && value;
    }
    return value;
  }

  private not(): boolean {
    if (this.args[this.i] === '!' && this.i + 1 < this.args.length) {
      this.i++;
      return !this.not();
    }
    return this.primary();
  }

  private primary(): boolean {
    const a = this.args;
    const first = a[this.i]!;
    if (BINARY.has(a[this.i + 1] ?? '') && this.i + 2 < a.length) {
      this.i += 3;
      return binaryTest(first, a[this.i - 2]!, a[this.i - 1]!);
    }
    if (first === '(' && this.i + 1 < a.length) {
      this.i++;
      const value = this.or();
      if (a[this.i] !== ')') throw new TestError(`\`)' expected`);
      this.i++;
      return value;
    }
    if (UNARY.has(first) && this.i + 1 < a.length) {
      this.i += 2;
      return unaryTest(this.ctx, first, a[this.i - 1]!);
    }
    if (first.startsWith('-') && first.length === 2 && this.i + 1 < a.length && this.i === 0) throw new TestError(`${first}: unary operator expected`);
    this.i++;
    return first !== '';
  }
}

/** A unary primary of `test` and `[[ ]]`: -z -n and the file tests. */
export function unaryTest(ctx: ProcContext, op: string, arg: string): boolean {
  const file = readFile(ctx, arg);
  switch (op) {
    case '-z':
      return arg === '';
    case '-n':
      return arg !== '';
    case '-d':
      return isDirectory(ctx, arg);
    case '-f':
      return file.ok;
    case '-s':
      return file.ok && file.text !== '';
    default:
      return file.ok || isDirectory(ctx, arg);
  }
}

/** A binary primary of `test`: string comparisons and integer ones (whose operands must be integers). */
export function binaryTest(left: string, op: string, right: string): boolean {
  if (op === '=' || op === '==') return left === right;
  if (op === '!=') return left !== right;
  if (op === '<') return left < right;
  if (op === '>') return left > right;
  const l = integer(left);
  const r = integer(right);
  return { '-eq': l === r, '-ne': l !== r, '-lt': l < r, '-le': l <= r, '-gt': l > r, '-ge': l >= r }[op]!;
}

function integer(text: string): number {
  if (!/^\s*[-+]?\d+\s*$/.test(text)) throw new TestError(`${text}: integer expression expected`);
  return Number(text);
}

/**
 * `test EXPR` and `[ EXPR ]`: 0 true, 1 false, 2 for a malformed expression;
 * worded as bash's, or as dash's when `sh` runs it. `where` starts an error
 * message (`bash: line 1`).
 */
export function testBuiltin(ctx: ProcContext, argv: string[], where: string, shell: 'bash' | 'sh' = 'bash'): number {
  const name = argv[0]!;
  const fail = (message: string) => {
    ctx.stderr.write(`${where}: ${name}: ${message}\n`);
    return 2;
  };
  let args = argv.slice(1);
  if (name === '[') {
    if (args[args.length - 1] !== ']') return fail(shell === 'sh' ? 'missing ]' : "missing `]'");
    args = args.slice(0, -1);
  }
  // dash's test has no `==`.
  const equals = args.indexOf('==');
  if (shell === 'sh' && equals > 0) return fail(`${args[equals - 1] ? `${args[equals - 1]}: ` : ''}unexpected operator`);
  if (args.length === 0) return 1;
  try {
    return new TestExpression(ctx, args).evaluate() ? 0 : 1;
  } catch (e) {
    if (!(e instanceof TestError)) throw e;
    return fail(e.message);
  }
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', f: '\f', v: '\v', '\\': '\\', '"': '"', "'": "'" };

/** Backslash escapes as printf's format (and %b's argument) understands them. */
function unescape(text: string): string {
  return text.replace(/\\(0[0-7]{0,3}|[0-7]{1,3}|x[0-9a-fA-F]{1,2}|.)/g, (whole, e: string) => {
    if (/^[0-7]/.test(e)) return String.fromCharCode(parseInt(e, 8));
    if (e.startsWith('x')) return String.fromCharCode(parseInt(e.slice(1), 16));
    return ESCAPES[e] ?? whole;
  });
}

/** strtol/strtod as printf applies them: a bad number is reported, and what parsed is used. */
function numberArg(ctx: ProcContext, arg: string, integerOnly: boolean, where: string): { value: number; ok: boolean } {
  if (arg === '') return { value: 0, ok: true };
  if (/^['"]./.test(arg)) return { value: arg.codePointAt(1)!, ok: true };
  const pattern = integerOnly ? /^\s*([-+]?(0x[0-9a-fA-F]+|\d+))/ : /^\s*([-+]?(\d+\.?\d*([eE][-+]?\d+)?|\.\d+))/;
  const m = pattern.exec(arg);
  const value = m ? Number(m[1]!.replace(/^([-+]?)0x/, '$10x')) : 0;
  if (m && m[0].length === arg.length) return { value, ok: true };
  ctx.stderr.write(`${where}: printf: ${arg}: invalid number\n`);
  return { value, ok: false };
}

/** `printf FORMAT [ARGS…]`: the format is reused until the arguments run out. */
export function printfBuiltin(ctx: ProcContext, argv: string[], where: string): number {
  let args = argv.slice(1);
  // `-v NAME`: the output goes to a variable.
  const target = args[0] === '-v' ? args[1] : undefined;
  if (target !== undefined) args = args.slice(2);
  if (args[0] === '--') args = args.slice(1);
  const format = args[0];
  if (format === undefined) {
    ctx.stderr.write('printf: usage: printf [-v var] format [arguments]\n');
    return 2;
  }
  const values = args.slice(1);
  let next = 0;
  let status = 0;
  let out = '';
  do {
    const before = next;
    for (let i = 0; i < format.length; i++) {
      const c = format[i]!;
      if (c === '\\') {
        const m = /^\\(0[0-7]{0,3}|[0-7]{1,3}|x[0-9a-fA-F]{1,2}|.)/.exec(format.slice(i));
        out += unescape(m ? m[0] : '\\');
        i += (m ? m[0].length : 1) - 1;
        continue;
      }
      const spec = c === '%' ? CONVERSION.exec(format.slice(i + 1)) : null;
      if (!spec) {
        out += c;
        continue;
      }
      i += spec[0].length;
      if (spec[4] === '%') {
        out += '%';
        continue;
      }
      const arg = values[next++] ?? '';
      const conv = { flags: spec[1]!, width: Number(spec[2] ?? 0), precision: spec[3] === undefined ? null : Number(spec[3] || 0), conv: spec[4] === 'b' ? 's' : spec[4]! };
      const numeric = /[diouxXeEfgG]/.test(conv.conv);
      const parsed = numeric ? numberArg(ctx, arg, /[diouxX]/.test(conv.conv), where) : { value: 0, ok: true };
      if (!parsed.ok) status = 1;
      out += formatConversion(conv, spec[4] === 'b' ? unescape(arg) : arg, parsed.value);
    }
    if (next === before) break;
  } while (next < values.length);
  if (target !== undefined) ctx.session.vars.set(target, out);
  else ctx.stdout.write(out);
  return status;
}
