// C's printf conversions, shared by awk's printf/sprintf and bash's printf.

/** C's %.Ng: the shorter of %e and %f, trailing zeros dropped. */
export function formatG(v: number, precision: number): string {
  if (v === 0) return '0';
  const exp = Math.floor(Math.log10(Math.abs(v)));
  if (exp < -4 || exp >= precision) {
    const [mant, e] = v.toExponential(Math.max(precision - 1, 0)).split('e');
    const trimmed = mant!.includes('.') ? mant!.replace(/0+$/, '').replace(/\.$/, '') : mant!;
    const en = Number(e);
    return `${trimmed}e${en < 0 ? '-' : '+'}${String(Math.abs(en)).padStart(2, '0')}`;
  }
  const fixed = v.toFixed(Math.max(0, precision - 1 - exp));
  return fixed.includes('.') ? fixed.replace(/0+$/, '').replace(/\.$/, '') : fixed;
}

/** One `%…` conversion: `%[flags][width][.precision]conv`. */
export interface Conversion {
  flags: string;
  width: number;
  precision: number | null;
  conv: string;
}

/** A conversion spec at the start of `text` (just after its `%`), with its length. */
export const CONVERSION = /^([-+ 0#]*)(\d+)?(?:\.(\d*))?([cdiouxXeEfgGsb%])/;

/** Formats one argument, given as text and as the number it reads as. */
export function formatConversion(c: Conversion, text: string, num: number): string {
  const int = Math.trunc(num);
  let body: string;
  switch (c.conv) {
    case 'd':
    case 'i':
      body = String(int);
      break;
    case 'o':
      body = int.toString(8);
      break;
    case 'x':
      body = int.toString(16);
      break;
    case 'X':
      body = int.toString(16).toUpperCase();
      break;
    case 'u':
      body = String(Math.abs(int));
      break;
    case 'c':
      body = text.slice(0, 1);
      break;
    case 'e':
    case 'E':
      body = num.toExponential(c.precision ?? 6).replace(/e([+-])(\d)$/, 'e$10$2');
      if (c.conv === 'E') body = body.toUpperCase();
      break;
    case 'f':
      body = num.toFixed(c.precision ?? 6);
      break;
    case 'g':
    case 'G':
      body = formatG(num, c.precision === null ? 6 : Math.max(c.precision, 1));
      if (c.conv === 'G') body = body.toUpperCase();
      break;
    default:
      body = c.precision !== null ? text.slice(0, c.precision) : text;
  }
  if (c.flags.includes('+') && /[dieEfgG]/.test(c.conv) && !body.startsWith('-')) body = '+' + body;
  else if (c.flags.includes(' ') && /[dieEfgG]/.test(c.conv) && !body.startsWith('-')) body = ' ' + body;
  if (body.length >= c.width) return body;
  if (c.flags.includes('-')) return body.padEnd(c.width);
  if (c.flags.includes('0') && /[dieEfgGxXo]/.test(c.conv)) return body.startsWith('-') ? '-' + body.slice(1).padStart(c.width - 1, '0') : body.padStart(c.width, '0');
  return body.padStart(c.width);
}
