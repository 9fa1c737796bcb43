// POSIX regular expressions as grep and sed read them, turned into JavaScript ones.

/**
 * A basic regular expression (BRE) in ERE/JavaScript syntax: `\( \) \{ \} \| \+ \?`
 * are the operators, their bare forms are literal characters.
 */
export function basicToExtended(pattern: string): string {
  return pattern
    .replace(/\\([|+?(){}])/g, '$1\u0000')
    .replace(/([|+?(){}])(?!\u0000)/g, '\\$1')
    .replace(/\u0000/g, '');
}

/** POSIX bracket classes (`[[:digit:]]`) that JavaScript lacks. */
export function posixClasses(pattern: string): string {
  const classes: Record<string, string> = { digit: '0-9', alpha: 'A-Za-z', alnum: 'A-Za-z0-9', upper: 'A-Z', lower: 'a-z', space: '\\s', blank: ' \\t', punct: '!-\\/:-@\\[-`{-~', xdigit: '0-9A-Fa-f' };
  return pattern.replace(/\[:(\w+):\]/g, (whole, name: string) => classes[name] ?? whole);
}
