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

/** A glob pattern (`*`, `?`, `[…]`) as a regular expression body. */
export function globToRegex(pattern: string): string {
  return pattern.replace(/[.+^${}()|\\]|\*|\?|\[[^\]]*\]/g, (c) => (c === '*' ? '.*' : c === '?' ? '.' : c.startsWith('[') ? c.replace(/^\[!/, '[^') : `\\${c}`));
}

/** fnmatch(3) without flags: whether the whole of `text` matches the glob `pattern`. */
export function fnmatch(pattern: string, text: string): boolean {
  return new RegExp(`^${globToRegex(pattern)}$`, 's').test(text);
}
