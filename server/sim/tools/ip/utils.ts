// iproute2's lib/utils.c as the tools need it: prefix matching of keywords,
// address and prefix parsing with iproute2's rules, and its error texts.
import ipaddr from 'ipaddr.js';
import type { Ipv4 } from '../../kernel/addr';
import { STRERROR, type KernelError } from '../../kernel/errno';
import type { NetNs } from '../../kernel/netns';
import type { ProcContext } from '../process';

/** iproute2 matches(): `word` is a prefix of `keyword`. */
export function matches(word: string, keyword: string): boolean {
  return word.length > 0 && word.length <= keyword.length && keyword.startsWith(word);
}

/** Thrown for iproute2's fatal argument errors, which exit(-1) right away. */
export class IpExit extends Error {
  constructor(readonly code: number) {
    super(`ip exited with ${code}`);
  }
}

export function fatal(ctx: ProcContext, message: string, code = 255): never {
  ctx.stderr.write(message + '\n');
  throw new IpExit(code);
}

export function invarg(ctx: ProcContext, msg: string, arg: string): never {
  return fatal(ctx, `Error: argument "${arg}" is wrong: ${msg}`);
}

export function duparg(ctx: ProcContext, key: string, arg: string): never {
  return fatal(ctx, `Error: duplicate "${key}": "${arg}" is the second value.`);
}

export function duparg2(ctx: ProcContext, key: string, arg: string): never {
  return fatal(ctx, `Error: either "${key}" is duplicate, or "${arg}" is a garbage.`);
}

export function incomplete(ctx: ProcContext): never {
  return fatal(ctx, 'Command line is not complete. Try option "help"');
}

/** The argument after position i, or the "not complete" error (NEXT_ARG). */
export function nextArg(ctx: ProcContext, args: string[], i: number): string {
  const value = args[i + 1];
  if (value === undefined) incomplete(ctx);
  return value;
}

/** How rtnl_talk reports a kernel refusal; returns the exit status iproute2 uses. */
export function netlinkError(ctx: ProcContext, err: KernelError, code = 2): number {
  if (err.extack) ctx.stderr.write(`Error: ${err.extack}${err.extack.endsWith('.') ? '' : '.'}\n`);
  else ctx.stderr.write(`RTNETLINK answers: ${STRERROR[err.errno]}\n`);
  return code;
}

/** get_addr_ipv4: one to four dotted decimal parts, the missing ones zero. */
export function parseIpv4Loose(text: string): Ipv4 | null {
  const parts = text.split('.');
  if (parts.length < 1 || parts.length > 4) return null;
  let addr = 0;
  for (let i = 0; i < 4; i++) {
    const part = parts[i];
    let byte = 0;
    if (part !== undefined) {
      if (!/^\d+$/.test(part)) return null;
      byte = Number(part);
      if (byte > 255) return null;
    }
    addr = addr * 256 + byte;
  }
  return addr >>> 0;
}

/** get_integer with base 0: a C int in decimal, hex or octal; null otherwise. */
export function parseInteger(text: string): number | null {
  const m = /^([+-]?)(0x[0-9a-f]+|0[0-7]*|[1-9]\d*)$/i.exec(text);
  if (!m) return null;
  const magnitude = /^0x/i.test(m[2]!) ? parseInt(m[2]!, 16) : m[2]!.length > 1 && m[2]!.startsWith('0') ? parseInt(m[2]!, 8) : Number(m[2]);
  const value = m[1] === '-' ? -magnitude : magnitude;
  return value >= -(2 ** 31) && value < 2 ** 31 ? value : null;
}

export interface ParsedPrefix {
  addr: Ipv4;
  prefixLen: number;
  /** Whether the text gave a length (`/24`). */
  explicitLength: boolean;
}

/** get_prefix for IPv4: ADDR[/LEN]; `default`/`any`/`all` are 0/0. */
export function parseIpv4Prefix(text: string, allowDefault = true): ParsedPrefix | null {
  if (allowDefault && (text === 'default' || text === 'any' || text === 'all')) return { addr: 0, prefixLen: 0, explicitLength: true };
  const slash = text.indexOf('/');
  const addr = parseIpv4Loose(slash < 0 ? text : text.slice(0, slash));
  if (addr === null) return null;
  if (slash < 0) return { addr, prefixLen: 32, explicitLength: false };
  const lenText = text.slice(slash + 1);
  if (!/^\d+$/.test(lenText)) {
    // A dotted netmask is accepted too.
    const mask = parseIpv4Loose(lenText);
    if (mask === null || lenText.split('.').length !== 4) return null;
    for (let len = 0; len <= 32; len++) if ((len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0) === mask) return { addr, prefixLen: len, explicitLength: true };
    return null;
  }
  const prefixLen = Number(lenText);
  if (prefixLen > 32) return null;
  return { addr, prefixLen, explicitLength: true };
}

export function isIpv6Text(text: string): boolean {
  return text.includes(':');
}

/** get_prefix for IPv6: ADDR[/LEN], the address in RFC 5952 form. */
export function parseIpv6Prefix(text: string): { address: string; prefixLen: number } | null {
  const [addr, len, ...rest] = text.split('/');
  if (rest.length || !addr || !ipaddr.IPv6.isValid(addr)) return null;
  if (len !== undefined && (!/^\d+$/.test(len) || Number(len) > 128)) return null;
  return { address: ipaddr.IPv6.parse(addr).toString(), prefixLen: len === undefined ? 128 : Number(len) };
}

/** matches_color: a prefix of `-color`, optionally `=always|auto|never`; null when it is not one. */
export function colorOption(opt: string): boolean | null {
  const eq = opt.indexOf('=');
  const name = eq < 0 ? opt : opt.slice(0, eq);
  const value = eq < 0 ? '' : opt.slice(eq + 1);
  if (!matches(name, '-color')) return null;
  if (value === '' || value === 'always') return true;
  if (value === 'auto' || value === 'never') return false;
  return null;
}

/** netns_switch for `-n NAME`: the named namespace of the host, or iproute2's error. */
export function namedNetns(ctx: ProcContext, name: string | undefined): NetNs {
  const ns = name === undefined ? undefined : ctx.host.namespaces.get(name);
  if (!ns) fatal(ctx, `Cannot open network namespace "${name ?? '(null)'}": No such file or directory`);
  return ns;
}
