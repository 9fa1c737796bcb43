// One printing path for text and JSON, as iproute2's print_* helpers:
// each value names its JSON key and its text format together.
type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export type PrintMode = 'any' | 'text' | 'json';

/** iproute2's attribute colours (color.c), for `ip -c`. */
export type Color = 'ifname' | 'mac' | 'inet' | 'inet6' | 'up' | 'down';
const SGR: Record<Color, number> = { ifname: 36, mac: 33, inet: 35, inet6: 34, up: 32, down: 31 };

/** The colour iproute2 gives an operational state: only UP and DOWN have one. */
export function operStateColor(state: string): Color | null {
  return state === 'UP' ? 'up' : state === 'DOWN' ? 'down' : null;
}

export class IpPrinter {
  private text = '';
  private readonly stack: Array<JsonValue[] | { [key: string]: JsonValue }> = [];
  private root: JsonValue[] | null = null;

  /** The printer an `ip` command's options ask for; colour never applies to JSON. */
  static for(opts: { json: boolean; pretty: boolean; color: boolean }): IpPrinter {
    return new IpPrinter(opts.json, opts.pretty, opts.color && !opts.json);
  }

  constructor(
    readonly json: boolean,
    readonly pretty = false,
    readonly color = false,
  ) {
    if (json) {
      this.root = [];
      this.stack.push(this.root);
    }
  }

  private put(key: string | null, value: JsonValue): void {
    const top = this.stack[this.stack.length - 1]!;
    if (Array.isArray(top)) top.push(value);
    else top[key ?? ''] = value;
  }

  /** Text-only literal output. */
  fp(text: string): void {
    if (!this.json) this.text += text;
  }

  /** `text` wrapped in `color`'s escape codes when colour is on. */
  paint(color: Color | null, text: string): string {
    return this.color && color !== null ? `\x1b[${SGR[color]}m${text}\x1b[0m` : text;
  }

  /** As print_color_string: the colour covers the value and what follows it in `fmt`. */
  string(mode: PrintMode, key: string | null, fmt: string, value: string, color: Color | null = null): void {
    if (this.json ? mode !== 'text' : mode !== 'json') {
      if (this.json) this.put(key, value);
      else {
        const spec = /%(-?)(\d*)s/.exec(fmt)!;
        const width = Number(spec[2] || 0);
        const padded = spec[1] ? value.padEnd(width) : value.padStart(width);
        this.text += fmt.slice(0, spec.index) + this.paint(color, padded + fmt.slice(spec.index + spec[0].length));
      }
    }
  }

  number(mode: PrintMode, key: string | null, fmt: string, value: number): void {
    if (this.json ? mode !== 'text' : mode !== 'json') {
      if (this.json) this.put(key, value);
      else this.text += fmt.replace(/%([dusx])/, (_, conv: string) => value.toString(conv === 'x' ? 16 : 10));
    }
  }

  bool(mode: PrintMode, key: string, fmt: string, value: boolean): void {
    if (this.json ? mode !== 'text' : mode !== 'json') {
      if (this.json) this.put(key, value);
      else this.text += fmt;
    }
  }

  null(key: string, fmt: string): void {
    if (this.json) this.put(key, null);
    else this.text += fmt;
  }

  openObject(key: string | null = null): void {
    if (!this.json) return;
    const obj: { [key: string]: JsonValue } = {};
    this.put(key, obj);
    this.stack.push(obj);
  }

  closeObject(): void {
    if (this.json) this.stack.pop();
  }

  openArray(key: string | null, textOpen = ''): void {
    if (!this.json) {
      this.text += textOpen;
      return;
    }
    const arr: JsonValue[] = [];
    this.put(key, arr);
    this.stack.push(arr);
  }

  closeArray(textClose = ''): void {
    if (!this.json) this.text += textClose;
    else this.stack.pop();
  }

  nl(): void {
    if (!this.json) this.text += '\n';
  }

  finish(): string {
    if (!this.json) return this.text;
    return (this.pretty ? prettyJson(this.root!, 0) : JSON.stringify(this.root)) + '\n';
  }
}

/** iproute2's json_writer pretty layout: `[ {` … `},{` … `} ]`. */
function prettyJson(value: JsonValue, depth: number): string {
  const pad = (n: number) => '    '.repeat(n);
  if (Array.isArray(value)) {
    if (value.length === 0) return '[ ]';
    const parts = value.map((v) => prettyJson(v, depth + 1));
    const scalar = value.every((v) => v === null || typeof v !== 'object');
    if (scalar) return `[ ${parts.join(',')} ]`;
    return `[ ${parts.join(',')} ]`;
  }
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value);
    if (keys.length === 0) return '{}';
    const body = keys.map((k) => `${pad(depth + 1)}${JSON.stringify(k)}: ${prettyJson(value[k]!, depth + 1)}`).join(',\n');
    return `{\n${body}\n${pad(depth)}}`;
  }
  return JSON.stringify(value);
}
