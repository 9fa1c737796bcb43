// procps' `sysctl`: read, write and load the namespace's /proc/sys/net keys.
import { readFile } from './fs';
import { program, type ProcContext } from './process';

interface SysctlOptions {
  write: boolean;
  quiet: boolean;
  valuesOnly: boolean;
  namesOnly: boolean;
  binary: boolean;
  ignoreUnknown: boolean;
}

/** Debian ships /etc/sysctl.conf with every line commented out. */
const DEFAULT_CONF = '/etc/sysctl.conf';

function show(ctx: ProcContext, opts: SysctlOptions, key: string, value: string): void {
  if (opts.namesOnly) ctx.stdout.write(`${key}\n`);
  else if (opts.binary) ctx.stdout.write(value);
  else if (opts.valuesOnly) ctx.stdout.write(`${value}\n`);
  else ctx.stdout.write(`${key} = ${value}\n`);
}

function cannotStat(ctx: ProcContext, opts: SysctlOptions, key: string): number {
  if (opts.ignoreUnknown) return 0;
  ctx.stderr.write(`sysctl: cannot stat /proc/sys/${key.replace(/\./g, '/')}: No such file or directory\n`);
  return 1;
}

/** `KEY=VALUE`: sets and echoes the key; 1 for an unknown key or a value the kernel refuses. */
function assign(ctx: ProcContext, opts: SysctlOptions, key: string, value: string): number {
  const sys = ctx.ns.sysctl;
  if (!sys.has(key)) return cannotStat(ctx, opts, key);
  if (!sys.set(key, value).ok) {
    ctx.stderr.write(`sysctl: setting key "${key}": Invalid argument\n`);
    return 1;
  }
  if (!opts.quiet) show(ctx, opts, key, sys.get(key)!);
  return 0;
}

/** A key, or a directory of keys (`net.ipv4.conf.eth0`) shown whole. */
function read(ctx: ProcContext, opts: SysctlOptions, key: string): number {
  const sys = ctx.ns.sysctl;
  if (sys.has(key)) {
    show(ctx, opts, key, sys.get(key)!);
    return 0;
  }
  const below = sys.keys().filter((k) => k.startsWith(key + '.'));
  if (below.length === 0) return cannotStat(ctx, opts, key);
  for (const k of below) show(ctx, opts, k, sys.get(k)!);
  return 0;
}

/** `-p [FILE]`: every `key = value` line of the file, comments (#, ;) and blank lines skipped. */
function load(ctx: ProcContext, opts: SysctlOptions, path: string): number {
  const file = readFile(ctx, path);
  if (!file.ok && path === DEFAULT_CONF) return 0;
  if (!file.ok) {
    ctx.stderr.write(`sysctl: cannot open "${path}": ${file.error}\n`);
    return 1;
  }
  let status = 0;
  for (const raw of file.text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    // A leading `-` means: ignore this key's failures.
    const lenient = line.startsWith('-');
    const key = line.slice(lenient ? 1 : 0, eq).trim().replace(/\//g, '.');
    const r = assign(ctx, { ...opts, ignoreUnknown: opts.ignoreUnknown || lenient }, key, line.slice(eq + 1).trim());
    if (!lenient) status ||= r;
  }
  return status;
}

function sysctlRun(ctx: ProcContext, argv: string[]): number {
  const opts: SysctlOptions = { write: false, quiet: false, valuesOnly: false, namesOnly: false, binary: false, ignoreUnknown: false };
  let all = false;
  let loadFile: string | null = null;
  let pattern: RegExp | null = null;
  const keys: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--all') all = true;
    else if (a === '--pattern' || a === '-r') {
      try {
        pattern = new RegExp(argv[++i] ?? '');
      } catch {
        ctx.stderr.write(`sysctl: unable to parse pattern: ${argv[i] ?? ''}\n`);
        return 255;
      }
    } else if (a === '--load' || a.startsWith('--load=')) loadFile = a.includes('=') ? a.slice(7) : DEFAULT_CONF;
    else if (/^-[wqnNbaAXep]+$/.test(a)) {
      opts.write ||= a.includes('w');
      opts.quiet ||= a.includes('q');
      opts.valuesOnly ||= a.includes('n');
      opts.namesOnly ||= a.includes('N');
      opts.binary ||= a.includes('b');
      opts.ignoreUnknown ||= a.includes('e');
      all ||= /[aAX]/.test(a);
      // -p takes the next word as its file when there is one.
      if (a.includes('p')) loadFile = argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('-') ? argv[++i]! : DEFAULT_CONF;
    } else if (a.startsWith('-')) {
      ctx.stderr.write(`sysctl: invalid option -- '${a.slice(1, 2)}'\n`);
      return 255;
    } else keys.push(a);
  }
  const sys = ctx.ns.sysctl;
  if (loadFile !== null) return load(ctx, opts, loadFile);
  if (all) {
    for (const key of sys.keys()) if (!pattern || pattern.test(key)) show(ctx, opts, key, sys.get(key)!);
    return 0;
  }
  let status = 0;
  for (const raw of keys) {
    const eq = raw.indexOf('=');
    if (eq < 0 && opts.write) {
      ctx.stderr.write('sysctl: command line(0): invalid syntax, continuing...\n');
      return 1;
    }
    const key = (eq < 0 ? raw : raw.slice(0, eq)).replace(/\//g, '.');
    status ||= eq < 0 ? read(ctx, opts, key) : assign(ctx, opts, key, raw.slice(eq + 1));
  }
  return status;
}

export const sysctl = program(sysctlRun);
