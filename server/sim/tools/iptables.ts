// `iptables` and `iptables-save` as iptables 1.8.9 (nf_tables) print them:
// the rule commands, listing with counters, and the tool's own errors.
import { formatIpv4, maskLength, prefixMask } from '../kernel/addr';
import {
  ADDR_TYPES, conntrackOf, netfilterOf, TABLE_CHAINS, TCP_FLAG_BITS, userChainReferences, type AddrMatch, type Chain, type NatRange, type PortMatch, type Rule, type RuleMatch, type RuleTarget,
  type AddrRange, type CtMatchState, type Table, type TableName,
} from '../kernel/netfilter';
import type { NetNs } from '../kernel/netns';
import { readFile } from './fs';
import { parseIpv4Loose } from './ip/utils';
import { program, type ProcContext } from './process';
import { protocolName, protocolNumber, serviceName, servicePort, type ServiceProtocol } from './services';

const TRY = "Try `iptables -h' or 'iptables --help' for more information.";
const PREFIX = 'iptables v1.8.9 (nf_tables): ';
const TABLE_NAMES: TableName[] = ['filter', 'mangle', 'nat', 'raw'];

/** iptables -h: the general help (what loaded extensions would add is left out). */
const HELP = "iptables v1.8.9 (nf_tables)\n\nUsage: iptables -[ACD] chain rule-specification [options]\n       iptables -I chain [rulenum] rule-specification [options]\n       iptables -R chain rulenum rule-specification [options]\n       iptables -D chain rulenum [options]\n       iptables -[LS] [chain [rulenum]] [options]\n       iptables -[FZ] [chain] [options]\n       iptables -[NX] chain\n       iptables -E old-chain-name new-chain-name\n       iptables -P chain target [options]\n       iptables -h (print this help information)\n\nCommands:\nEither long or short options are allowed.\n  --append  -A chain\t\tAppend to chain\n  --check   -C chain\t\tCheck for the existence of a rule\n  --delete  -D chain\t\tDelete matching rule from chain\n  --delete  -D chain rulenum\n\t\t\t\tDelete rule rulenum (1 = first) from chain\n  --insert  -I chain [rulenum]\n\t\t\t\tInsert in chain as rulenum (default 1=first)\n  --replace -R chain rulenum\n\t\t\t\tReplace rule rulenum (1 = first) in chain\n  --list    -L [chain [rulenum]]\n\t\t\t\tList the rules in a chain or all chains\n  --list-rules -S [chain [rulenum]]\n\t\t\t\tPrint the rules in a chain or all chains\n  --flush   -F [chain]\t\tDelete all rules in  chain or all chains\n  --zero    -Z [chain [rulenum]]\n\t\t\t\tZero counters in chain or all chains\n  --new     -N chain\t\tCreate a new user-defined chain\n  --delete-chain\n            -X [chain]\t\tDelete a user-defined chain\n  --policy  -P chain target\n\t\t\t\tChange policy on chain to target\n  --rename-chain\n            -E old-chain new-chain\n\t\t\t\tChange chain name, (moving any references)\n\nOptions:\n    --ipv4\t-4\t\tNothing (line is ignored by ip6tables-restore)\n    --ipv6\t-6\t\tError (line is ignored by iptables-restore)\n[!] --protocol\t-p proto\tprotocol: by number or name, eg. `tcp'\n[!] --source\t-s address[/mask][...]\n\t\t\t\tsource specification\n[!] --destination -d address[/mask][...]\n\t\t\t\tdestination specification\n[!] --in-interface -i input name[+]\n\t\t\t\tnetwork interface name ([+] for wildcard)\n --jump\t-j target\n\t\t\t\ttarget for rule (may load target extension)\n  --goto      -g chain\n\t\t\t       jump to chain with no return\n  --match\t-m match\n\t\t\t\textended match (may load extension)\n  --numeric\t-n\t\tnumeric output of addresses and ports\n[!] --out-interface -o output name[+]\n\t\t\t\tnetwork interface name ([+] for wildcard)\n  --table\t-t table\ttable to manipulate (default: `filter')\n  --verbose\t-v\t\tverbose mode\n  --wait\t-w [seconds]\tmaximum wait to acquire xtables lock before give up\n  --line-numbers\t\tprint line numbers when listing\n  --exact\t-x\t\texpand numbers (display exact values)\n[!] --fragment\t-f\t\tmatch second or further fragments only\n  --modprobe=<command>\t\ttry to insert modules using this command\n  --set-counters -c PKTS BYTES\tset the counter during insert/append\n[!] --version\t-V\t\tprint package version.";

class IptablesError {
  constructor(
    readonly message: string,
    readonly code: number,
  ) {}
}

/** xtables_error(PARAMETER_PROBLEM, …): the message, the hint, exit 2. */
function usageError(message: string): never {
  throw new IptablesError(`${PREFIX}${message}\n${TRY}`, 2);
}

function fail(message: string, code = 1): never {
  throw new IptablesError(message, code);
}

function noChain(): never {
  return fail("iptables: No chain/target/match by that name.");
}

// ------------------------------------------------------------------ names

/** The order conntrack and state matches print their states in, whatever order they were given; only conntrack knows SNAT and DNAT. */
const CT_STATE_ORDER: CtMatchState[] = ['INVALID', 'NEW', 'RELATED', 'ESTABLISHED', 'UNTRACKED', 'SNAT', 'DNAT'];

const ICMP_TYPES: Record<string, [number, number | null]> = {
  any: [255, null],
  'echo-reply': [0, null],
  pong: [0, null],
  'destination-unreachable': [3, null],
  'network-unreachable': [3, 0],
  'host-unreachable': [3, 1],
  'protocol-unreachable': [3, 2],
  'port-unreachable': [3, 3],
  'fragmentation-needed': [3, 4],
  'source-quench': [4, null],
  redirect: [5, null],
  'echo-request': [8, null],
  ping: [8, null],
  'router-advertisement': [9, null],
  'router-solicitation': [10, null],
  'time-exceeded': [11, null],
  'ttl-exceeded': [11, null],
  'ttl-zero-during-transit': [11, 0],
  'parameter-problem': [12, null],
  'timestamp-request': [13, null],
  'timestamp-reply': [14, null],
};

const REJECT_TYPES = ['icmp-net-unreachable', 'icmp-host-unreachable', 'icmp-port-unreachable', 'icmp-proto-unreachable', 'icmp-net-prohibited', 'icmp-host-prohibited', 'icmp-admin-prohibited', 'tcp-reset'];
const REJECT_ALIASES: Record<string, string> = { 'net-unreach': 'icmp-net-unreachable', 'host-unreach': 'icmp-host-unreachable', 'port-unreach': 'icmp-port-unreachable', 'proto-unreach': 'icmp-proto-unreachable', 'net-prohib': 'icmp-net-prohibited', 'host-prohib': 'icmp-host-prohibited', 'admin-prohib': 'icmp-admin-prohibited', 'tcp-rst': 'tcp-reset' };

/** iptables' own protocol names, tried after /etc/protocols. */
const CHAIN_PROTOS: Record<string, number> = { tcp: 6, sctp: 132, udp: 17, udplite: 136, icmp: 1, icmpv6: 58, esp: 50, ah: 51, mh: 135, all: 0 };
const TCP = 6;
const UDP = 17;
const ICMP = 1;

/** xtables_parse_protocol: a number up to 255 or a name, in any case. */
function parseProtocol(text: string): number {
  const name = text.toLowerCase();
  const number = /^\d+$/.test(name) && Number(name) <= 255 ? Number(name) : (protocolNumber(name) ?? CHAIN_PROTOS[name]);
  if (number === undefined) usageError(`unknown protocol "${name}" specified`);
  return number;
}

/** proto_to_name: /etc/protocols first, then iptables' own names (`all` for 0), else the number. */
function protocolText(number: number): string {
  return (number !== 0 ? protocolName(number) : undefined) ?? Object.keys(CHAIN_PROTOS).find((name) => CHAIN_PROTOS[name] === number) ?? String(number);
}

/** syslog levels: the names --log-level takes, and the ones -L prints (nft's). */
const LOG_LEVELS: Record<string, number> = { emerg: 0, panic: 0, alert: 1, crit: 2, error: 3, warning: 4, notice: 5, info: 6, debug: 7 };
const LOG_LEVEL_NAMES = ['emerg', 'alert', 'crit', 'err', 'warn', 'notice', 'info', 'debug'];
const LOG_PREFIX_MAX = 29;
const DEFAULT_BURST = 5;
const COMMENT_MAX = 255;

/** A port number or service name; `any` looks the name up for every protocol, as the tcp and udp matches do. */
function parsePort(text: string, protocol: ServiceProtocol | 'any'): number {
  const byName = (p: ServiceProtocol) => servicePort(text, p);
  const port = /^\d+$/.test(text) ? Number(text) : protocol === 'any' ? (byName('tcp') ?? byName('udp')) : byName(protocol);
  if (port === undefined || port > 65535) usageError(`invalid port/service \`${text}' specified`);
  return port;
}

/** `PORT`, `FROM:TO`, `:TO`, `FROM:` with names allowed. */
function parsePortRange(text: string, protocol: ServiceProtocol | 'any', invert: boolean): PortMatch {
  const [a, b] = text.split(':');
  if (b === undefined) {
    const port = parsePort(a!, protocol);
    return { from: port, to: port, invert };
  }
  const range = { from: a === '' ? 0 : parsePort(a!, protocol), to: b === '' ? 65535 : parsePort(b, protocol), invert };
  if (range.from > range.to) usageError('invalid portrange (min > max)');
  return range;
}

/** multiport's list: up to 15 ports, each `FROM:TO` range counting as two. */
function parsePortList(text: string, protocol: ServiceProtocol): { from: number; to: number }[] {
  const ports = text.split(',').map((item) => {
    const [a, b] = item.split(':');
    const from = parsePort(a!, protocol);
    const to = b === undefined ? from : parsePort(b, protocol);
    if (from > to) usageError('invalid portrange specified');
    return { from, to };
  });
  if (ports.reduce((n, r) => n + (r.from === r.to ? 1 : 2), 0) > 15) usageError('too many ports specified');
  return ports;
}

function parseIcmpType(text: string): { type: number | null; code: number | null } {
  const named = ICMP_TYPES[text.toLowerCase()];
  if (named) return { type: named[0] === 255 ? null : named[0], code: named[1] };
  const m = /^(\d+)(?:\/(\d+))?$/.exec(text);
  if (!m || Number(m[1]) > 255 || (m[2] !== undefined && Number(m[2]) > 255)) usageError(`Unknown ICMP type \`${text}'`);
  return { type: Number(m[1]), code: m[2] === undefined ? null : Number(m[2]) };
}

function icmpTypeName(type: number, code: number | null): string | undefined {
  return Object.entries(ICMP_TYPES).find(([, [t, c]]) => t === type && c === code)?.[0];
}

/** A comma list of states in any case; an error quotes the list from the bad one on. */
function parseStates(text: string, module: 'state' | 'conntrack'): CtMatchState[] {
  const words = text.split(',');
  return words.map((word, i) => {
    const rest = words.slice(i).join(',');
    if (module === 'state' && word === '' && i === words.length - 1 && i > 0) usageError('"--state" requires a list of states with no spaces, e.g. ESTABLISHED,RELATED');
    const state = word.toUpperCase() as CtMatchState;
    if (!CT_STATE_ORDER.includes(state) || (module === 'state' && (state === 'SNAT' || state === 'DNAT'))) usageError(`Bad ${module === 'state' ? 'state' : 'ctstate'} "${rest}"`);
    return state;
  });
}

/** xtables_strtoui with base 0: decimal, 0x hex or 0 octal, up to 2^32-1. */
function parseU32(text: string): number | null {
  const m = /^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*)$/.exec(text);
  if (!m) return null;
  const value = /^0[xX]/.test(text) ? parseInt(text.slice(2), 16) : text.startsWith('0') ? parseInt(text, 8) : Number(text);
  return value <= 0xffffffff ? value : null;
}

/** A `VALUE[/MASK]` mark; the mask defaults to all ones. */
function parseMarkMask(module: string, option: string, text: string): { value: number; mask: number } {
  const [valueText, maskText] = text.split('/');
  const value = parseU32(valueText!);
  const mask = maskText === undefined ? 0xffffffff : parseU32(maskText);
  if (value === null || mask === null) badInteger(module, option);
  return { value, mask };
}

function badInteger(module: string, option: string): never {
  fail(`${PREFIX}${module}: bad integer value for option "${option}", or out of range.\n\n${TRY}`, 2);
}

/** `ADDR[/LEN|/MASK]` as iptables takes it for -s and -d. */
function parseAddr(text: string, invert: boolean): AddrMatch {
  const [addrText, maskText] = text.split('/');
  // xtables reads missing trailing parts as zeros (1.2.3 is 1.2.3.0).
  const addr = parseIpv4Loose(addrText!);
  if (addr === null || addrText === '') usageError(`host/network \`${addrText}' not found`);
  let len = 32;
  if (maskText !== undefined) {
    if (/^\d+$/.test(maskText) && Number(maskText) <= 32) len = Number(maskText);
    else {
      const mask = maskText.split('.').length === 4 ? parseIpv4Loose(maskText) : null;
      len = mask === null ? -1 : maskLength(mask);
      if (len < 0) usageError(`invalid mask \`${maskText}' specified`);
    }
  }
  return { addr: (addr & prefixMask(len)) >>> 0, prefixLen: len, invert };
}

/** `FLAG,FLAG` or ALL or NONE, as --tcp-flags takes its mask and its comparison. */
function parseTcpFlags(text: string): number {
  return text.split(',').reduce((bits, name) => {
    const upper = name.toUpperCase();
    if (upper === 'ALL') return bits | 0x3f;
    if (upper === 'NONE') return bits;
    const bit = TCP_FLAG_BITS[upper];
    if (bit === undefined) usageError(`Unknown TCP flag \`${name}'`);
    return bits | bit;
  }, 0);
}

function tcpFlagNames(bits: number): string {
  const names = Object.keys(TCP_FLAG_BITS).filter((name) => bits & TCP_FLAG_BITS[name]!);
  return names.length ? names.join(',') : 'NONE';
}

const LIMIT_SCALE = 10_000;
/** xt_limit's rate units, longest first, in seconds. */
const RATE_UNITS: [string, number][] = [['day', 86400], ['hour', 3600], ['min', 60], ['sec', 1]];

/** parse_rate: `N[/second|minute|hour|day]` (any prefix of the unit) as the time per packet in 1/10000 s. */
function parseRate(text: string): number {
  const [count, unit] = text.split('/') as [string, string | undefined];
  const seconds = unit === undefined ? 1 : unit === '' ? undefined : { second: 1, minute: 60, hour: 3600, day: 86400 }[['second', 'minute', 'hour', 'day'].find((u) => u.startsWith(unit.toLowerCase())) ?? ''];
  const rate = parseInt(count, 10);
  if (seconds === undefined || !(rate > 0)) usageError(`bad rate "${text}"'`);
  const avg = Math.floor((LIMIT_SCALE * seconds!) / rate);
  if (avg === 0) usageError(`Rate too fast "${text}"`);
  return avg;
}

/** print_rate: in the longest unit the time per packet divides evenly enough. */
function rateText(avg: number): string {
  const scaled = RATE_UNITS.map(([name, seconds]): [string, number] => [name, seconds * LIMIT_SCALE]);
  let i = 1;
  while (i < scaled.length && !(avg > scaled[i]![1] || Math.floor(scaled[i]![1] / avg) < scaled[i]![1] % avg)) i++;
  const [name, mult] = scaled[i - 1]!;
  return `${Math.floor(mult / avg)}/${name}`;
}

/** statistic's probability as the kernel holds it (scaled to 2^31) and prints it back. */
function probabilityText(scaled: number): string {
  return (scaled / 0x80000000).toFixed(11);
}

/** xtables_save_string: bare when only letters, digits, `_` and `-`, else quoted with `"`, `\` and `'` escaped. */
function saveString(text: string): string {
  return /^[A-Za-z0-9_-]+$/.test(text) ? text : `"${text.replace(/["\\']/g, '\\$&')}"`;
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/** Two upper-case hex digits, as -n prints TCP flags. */
function hex2(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0');
}

// ---------------------------------------------------------------- parsing

type Command = 'A' | 'I' | 'D' | 'R' | 'C' | 'F' | 'Z' | 'N' | 'X' | 'P' | 'L' | 'S' | 'E';

interface Parsed {
  table: TableName;
  command: Command | null;
  chain: string | null;
  ruleNumber: number | null;
  policy: string | null;
  newName: string | null;
  rule: Rule;
  /** -s and -d as given: each may list several addresses, one rule per combination. */
  sources: { text: string; invert: boolean } | null;
  destinations: { text: string; invert: boolean } | null;
  jump: string | null;
  gotoChain: boolean;
  numeric: boolean;
  verbose: boolean;
  exact: boolean;
  lineNumbers: boolean;
  zeroAfterList: boolean;
  /** Match modules loaded with -m or for the protocol, in order, and whether each got an option. */
  modules: { name: string; used: boolean }[];
  targetArgs: Record<string, string>;
  /** What iptables warns about while parsing, the rule being made all the same. */
  warnings: string[];
  /** A line of iptables-restore: jumps are checked at its COMMIT. */
  restoring: boolean;
  /** -m statistic's options until they are checked together. */
  statistic: { mode?: string; probability?: number; every?: number; packet?: number; invert: boolean } | null;
}

/** The main long options and the short option each stands for. */
const LONG: Record<string, string> = {
  '--append': '-A', '--insert': '-I', '--delete': '-D', '--replace': '-R', '--check': '-C', '--flush': '-F', '--zero': '-Z', '--new-chain': '-N',
  '--delete-chain': '-X', '--policy': '-P', '--list': '-L', '--list-rules': '-S', '--rename-chain': '-E', '--table': '-t',
  '--source': '-s', '--src': '-s', '--destination': '-d', '--dst': '-d', '--in-interface': '-i', '--out-interface': '-o', '--protocol': '-p',
  '--jump': '-j', '--goto': '-g', '--numeric': '-n', '--verbose': '-v', '--exact': '-x', '--match': '-m', '--version': '-V',
  '--line-numbers': '--line-numbers', '--set-counters': '-c', '--wait': '-w', '--ipv4': '-4', '--help': '-h',
};

/** The long options each match extension adds once loaded, and the name each alias stands for. */
const MATCH_OPTIONS: Record<string, Record<string, string>> = {
  tcp: { '--sport': '--sport', '--source-port': '--sport', '--dport': '--dport', '--destination-port': '--dport', '--syn': '--syn', '--tcp-flags': '--tcp-flags' },
  udp: { '--sport': '--sport', '--source-port': '--sport', '--dport': '--dport', '--destination-port': '--dport' },
  icmp: { '--icmp-type': '--icmp-type' },
  conntrack: { '--ctstate': '--ctstate' },
  state: { '--state': '--state' },
  multiport: { '--sports': '--sports', '--source-ports': '--sports', '--dports': '--dports', '--destination-ports': '--dports', '--ports': '--ports' },
  comment: { '--comment': '--comment' },
  mark: { '--mark': '--mark' },
  addrtype: { '--src-type': '--src-type', '--dst-type': '--dst-type', '--limit-iface-in': '--limit-iface-in', '--limit-iface-out': '--limit-iface-out' },
  statistic: { '--mode': '--mode', '--probability': '--probability', '--every': '--every', '--packet': '--packet' },
  limit: { '--limit': '--limit', '--limit-burst': '--limit-burst' },
  iprange: { '--src-range': '--src-range', '--dst-range': '--dst-range' },
};

/** The long options of each target extension, known once -j names it. */
const TARGET_OPTIONS: Record<string, string[]> = {
  REJECT: ['--reject-with'],
  SNAT: ['--to-source', '--random', '--random-fully', '--persistent'],
  DNAT: ['--to-destination', '--random', '--persistent'],
  MASQUERADE: ['--to-ports', '--random', '--random-fully'],
  REDIRECT: ['--to-ports', '--random'],
  LOG: ['--log-prefix', '--log-level'],
  MARK: ['--set-xmark', '--set-mark', '--and-mark', '--or-mark', '--xor-mark'],
  CT: ['--notrack'],
  NOTRACK: [],
};

const STANDARD_TARGETS = ['ACCEPT', 'DROP', 'RETURN'];

/** Short options taking an argument (the rest of the word or the next one), and those that may take a chain. */
const SHORT_WITH_ARG = 'ACDRINEPopsdjitmgwc';
const SHORT_OPTIONAL_ARG = 'LSFZX';

/** getopt_long: an exact name, or a prefix of exactly one option (aliases of one option count once). */
function resolveLong(name: string, options: Record<string, string>): string | undefined {
  if (options[name] !== undefined) return options[name];
  const meanings = new Set(Object.keys(options).filter((o) => o.startsWith(name)).map((o) => options[o]!));
  return meanings.size === 1 ? [...meanings][0] : undefined;
}

/** Commands that name a chain, and whether they need one. */
const CHAIN_ARG: Record<Command, 'required' | 'optional'> = {
  A: 'required', I: 'required', D: 'required', R: 'required', C: 'required', N: 'required', P: 'required', E: 'required',
  F: 'optional', Z: 'optional', X: 'optional', L: 'optional', S: 'optional',
};

function parseRuleNumber(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1) usageError(`Invalid rule number \`${text}'`);
  return Number(text);
}

/** `restoring`: a line of iptables-restore, whose table the file names. */
function parse(argv: string[], restoring = false): Parsed {
  const p: Parsed = {
    table: 'filter', command: null, chain: null, ruleNumber: null, policy: null, newName: null, sources: null, destinations: null, jump: null,
    gotoChain: false, numeric: false, verbose: false, exact: false, lineNumbers: false, zeroAfterList: false, modules: [], targetArgs: {}, statistic: null, restoring, warnings: [],
    rule: { protocol: null, src: null, dst: null, inIface: null, outIface: null, matches: [], target: null, packets: 0, bytes: 0 },
  };
  const args = argv.slice(1);
  let negate = false;
  const setCommand = (c: Command) => {
    // -L and -Z go together: list, then zero.
    if ((p.command === 'L' && c === 'Z') || (p.command === 'Z' && c === 'L')) {
      p.zeroAfterList = true;
      p.command = 'L';
      return;
    }
    if (p.command !== null) usageError(`Cannot use -${c} with -${p.command}`);
    p.command = c;
  };
  const loadModule = (name: string) => {
    if (!p.modules.some((m) => m.name === name)) p.modules.push({ name, used: false });
  };
  const portMatch = (module: 'tcp' | 'udp') => {
    let m = p.rule.matches.find((x): x is Extract<RuleMatch, { module: 'tcp' | 'udp' }> => x.module === module);
    if (!m) {
      m = { module, sport: null, dport: null };
      p.rule.matches.push(m);
    }
    return m;
  };
  /** The long options known now: the main ones, those of loaded matches, then the target's. */
  const knownOptions = (): Record<string, string> => {
    const known: Record<string, string> = { ...LONG };
    for (const m of p.modules) Object.assign(known, MATCH_OPTIONS[m.name]);
    for (const o of TARGET_OPTIONS[p.jump ?? ''] ?? []) known[o] = o;
    return known;
  };
  /** The match module named after the rule's protocol, which iptables loads when an option is unknown. */
  const protocolModule = (): string | undefined => {
    const name = { [TCP]: 'tcp', [UDP]: 'udp', [ICMP]: 'icmp' }[p.rule.protocol?.number ?? -1];
    return name !== undefined && !p.modules.some((m) => m.name === name) ? name : undefined;
  };
  for (let i = 0; i < args.length; i++) {
    let a = args[i]!;
    let inlineValue: string | undefined;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq > 0) {
        inlineValue = a.slice(eq + 1);
        a = a.slice(0, eq);
      }
      let option = resolveLong(a, knownOptions());
      const implicit = option === undefined ? protocolModule() : undefined;
      if (implicit !== undefined) {
        loadModule(implicit);
        option = resolveLong(a, knownOptions());
      }
      if (option === undefined) usageError(`unknown option "${a}"`);
      a = option;
    } else if (/^-[^-]./.test(a)) {
      // getopt: a cluster of short options; one taking an argument takes the rest of the word.
      const takesArg = SHORT_WITH_ARG.includes(a[1]!) || SHORT_OPTIONAL_ARG.includes(a[1]!);
      args.splice(i + 1, 0, takesArg ? a.slice(2) : `-${a.slice(2)}`);
      a = a.slice(0, 2);
    }
    // getopt: a required argument is the next word, whatever it looks like.
    const need = (opt: string) => {
      if (inlineValue !== undefined) return inlineValue;
      const v = args[i + 1];
      if (v === undefined) usageError(`option "${opt}" requires an argument`);
      i++;
      return v;
    };
    const optional = () => {
      const next = args[i + 1];
      if (next === undefined || next.startsWith('-') || next === '!') return undefined;
      i++;
      return next;
    };
    const takeChain = (c: Command) => {
      setCommand(c);
      const chain = CHAIN_ARG[c] === 'required' ? need(`-${c}`) : optional();
      if (chain !== undefined) p.chain = chain;
      const next = args[i + 1];
      const wordFollows = next !== undefined && !next.startsWith('-') && !next.startsWith('!');
      // -I, -D, -Z, -L and -S take the next word as a rule number unless it is an option; -R needs one.
      if (((c === 'I' || c === 'D' || c === 'Z') && wordFollows) || ((c === 'L' || c === 'S') && p.chain !== null && wordFollows)) {
        i++;
        p.ruleNumber = parseRuleNumber(next!);
      }
      if (c === 'R') {
        if (next === undefined || next.startsWith('-') || next === '!') usageError('-R requires a rule number');
        i++;
        p.ruleNumber = parseRuleNumber(next);
      }
      if (c === 'P') {
        const policy = optional();
        if (policy === undefined) usageError('-P requires a chain and a policy');
        p.policy = policy;
      }
      if (c === 'E') {
        const name = optional();
        if (name === undefined) usageError('-E requires old-chain-name and new-chain-name');
        p.newName = name;
      }
    };
    if (a === '!') {
      if (negate) usageError('multiple consecutive ! not allowed');
      negate = true;
      continue;
    }
    const used = (module: string) => {
      const m = p.modules.find((x) => x.name === module)!;
      m.used = true;
    };
    switch (a) {
      case '-t': {
        if (restoring) fail(`${PREFIX}The -t option cannot be used in iptables-restore.\n\n${TRY}`, 2);
        const t = need('-t');
        if (!TABLE_NAMES.includes(t as TableName)) fail(`${PREFIX}table '${t}' does not exist\nPerhaps iptables or your kernel needs to be upgraded.`, 3);
        p.table = t as TableName;
        break;
      }
      case '-A': case '-D': case '-I': case '-R': case '-C': case '-N': case '-P': case '-E':
      case '-F': case '-Z': case '-X': case '-L': case '-S':
        takeChain(a[1] as Command);
        break;
      case '-V':
        fail('iptables v1.8.9 (nf_tables)', 0);
        break;
      case '-h':
        fail(HELP, 0);
        break;
      case '-s': p.sources = { text: need('-s'), invert: negate }; break;
      case '-d': p.destinations = { text: need('-d'), invert: negate }; break;
      case '-i':
      case '-o': {
        const name = need(a);
        if (name.length > 15) usageError(`interface name \`${name}' must be shorter than IFNAMSIZ (15)`);
        const key = a === '-i' ? 'inIface' : 'outIface';
        if (p.rule[key]) usageError(`multiple ${a} flags not allowed`);
        p.rule[key] = { name, invert: negate };
        break;
      }
      case '-p':
        p.rule.protocol = { number: parseProtocol(need('-p')), invert: negate };
        break;
      case '-j': case '-g':
        if (p.jump !== null) usageError('multiple -j flags not allowed');
        p.jump = need(a);
        p.gotoChain = a === '-g';
        break;
      case '-m': {
        const module = need('-m');
        if (!(module in MATCH_OPTIONS)) fail(`${PREFIX}Couldn't load match \`${module}':No such file or directory\n\n${TRY}`, 2);
        loadModule(module);
        if (module === 'tcp' || module === 'udp') portMatch(module);
        // limit works with its defaults, 3/hour and a burst of 5.
        if (module === 'limit' && !p.rule.matches.some((m) => m.module === 'limit')) p.rule.matches.push({ module: 'limit', avg: (LIMIT_SCALE * 3600) / 3, burst: DEFAULT_BURST, credit: 0, lastUs: -1 });
        break;
      }
      case '--dport': case '--sport': {
        const module = p.modules.find((m) => m.name === 'tcp' || m.name === 'udp')!.name as 'tcp' | 'udp';
        const m = portMatch(module);
        const key = a === '--dport' ? 'dport' : 'sport';
        if (m[key]) usageError(`Only one \`${a === '--dport' ? '--destination-port' : '--source-port'}' allowed`);
        m[key] = parsePortRange(need(a), 'any', negate);
        used(module);
        break;
      }
      case '--syn': case '--tcp-flags': {
        const m = portMatch('tcp');
        if (a === '--syn') m.flags = { mask: 0x17, comp: 0x02, invert: negate };
        else {
          const mask = parseTcpFlags(need(a));
          const comp = args[i + 1];
          if (comp === undefined || comp.startsWith('-') || comp.startsWith('!')) usageError('--tcp-flags requires two args.');
          m.flags = { mask, comp: parseTcpFlags(args[++i]!), invert: negate };
        }
        used('tcp');
        break;
      }
      case '--src-type': case '--dst-type': case '--limit-iface-in': case '--limit-iface-out': {
        let m = p.rule.matches.find((x): x is Extract<RuleMatch, { module: 'addrtype' }> => x.module === 'addrtype');
        if (!m) p.rule.matches.push((m = { module: 'addrtype', src: null, dst: null, limitIface: null }));
        if (a.startsWith('--limit')) {
          const side = a.endsWith('in') ? 'in' : 'out';
          if (m.limitIface !== null && m.limitIface !== side) fail(`${PREFIX}addrtype: option "--limit-iface-${m.limitIface}" cannot be used together with "${a}".\n\n${TRY}`, 2);
          m.limitIface = side;
        } else {
          const side = a === '--src-type' ? 'src' : 'dst';
          if (m[side]) fail(`${PREFIX}addrtype: option "${a}" can only be used once.\n\n${TRY}`, 2);
          const types = need(a).split(',').map((t) => {
            if (!ADDR_TYPES.includes(t.toUpperCase())) usageError(`addrtype: bad type "${t}"`);
            return t.toUpperCase();
          });
          m[side] = { types: ADDR_TYPES.filter((t) => types.includes(t)), invert: negate };
          // A device limit alone is not enough: the match needs a type.
          used('addrtype');
        }
        break;
      }
      case '--mode': case '--probability': case '--every': case '--packet': {
        const draft = (p.statistic ??= { invert: false });
        const value = need(a);
        if (a === '--mode') {
          if (negate) fail(`${PREFIX}statistic: option "--mode" cannot be inverted.\n\n${TRY}`, 2);
          if (value !== 'random' && value !== 'nth') usageError(`Bad mode "${value}"`);
          draft.mode = value;
        } else if (a === '--probability') {
          const probability = Number(value);
          if (value === '' || !(probability >= 0 && probability <= 1)) fail(`${PREFIX}statistic: bad value for option "--probability", or out of range (0-1).\n\n${TRY}`, 2);
          draft.probability = Math.round(0x80000000 * probability);
        } else {
          const n = parseU32(value);
          if (n === null || (a === '--every' && n === 0)) fail(`${PREFIX}statistic: bad value for option "${a}", or out of range (${a === '--every' ? 1 : 0}-4294967295).\n\n${TRY}`, 2);
          draft[a === '--every' ? 'every' : 'packet'] = n!;
        }
        if (negate) draft.invert = true;
        used('statistic');
        break;
      }
      case '--limit': case '--limit-burst': {
        if (negate) fail(`${PREFIX}limit: option "${a}" cannot be inverted.\n\n${TRY}`, 2);
        const m = p.rule.matches.find((x): x is Extract<RuleMatch, { module: 'limit' }> => x.module === 'limit')!;
        const value = need(a);
        if (a === '--limit') m.avg = parseRate(value);
        else {
          const burst = parseU32(value);
          if (burst === null || burst > 10000) fail(`${PREFIX}limit: bad value for option "--limit-burst", or out of range (0-10000).\n\n${TRY}`, 2);
          // A burst of 0 is taken as the default.
          m.burst = burst || DEFAULT_BURST;
        }
        break;
      }
      case '--src-range': case '--dst-range': {
        let m = p.rule.matches.find((x): x is Extract<RuleMatch, { module: 'iprange' }> => x.module === 'iprange');
        if (!m) p.rule.matches.push((m = { module: 'iprange', src: null, dst: null }));
        const text = need(a);
        const [fromText, toText] = text.split('-') as [string, string | undefined];
        const [from, to] = [fromText, toText ?? fromText].map((part) => {
          const addr = part.split('.').length === 4 ? parseIpv4Loose(part) : null;
          if (addr === null) usageError(`iprange: Bad value for "${a}" option: "${part}"`);
          return addr!;
        }) as [number, number];
        if (from > to) p.warnings.push(`xt_iprange: range ${formatIpv4(from)}-${formatIpv4(to)} is reversed and will never match`);
        m[a === '--src-range' ? 'src' : 'dst'] = { from, to, invert: negate };
        used('iprange');
        break;
      }
      case '--notrack': case '--random': case '--random-fully': case '--persistent':
        p.targetArgs[a] = '';
        break;
      case '--dports': case '--sports': case '--ports': {
        const number = p.rule.protocol?.number;
        if (number !== TCP && number !== UDP) usageError("multiport needs `-p tcp', `-p udp', `-p udplite', `-p sctp' or `-p dccp'");
        p.rule.matches.push({ module: 'multiport', ports: parsePortList(need(a), number === TCP ? 'tcp' : 'udp'), which: a.slice(2) as 'dports' | 'sports' | 'ports', invert: negate });
        used('multiport');
        break;
      }
      case '--icmp-type': {
        const t = parseIcmpType(need(a));
        p.rule.matches.push({ module: 'icmp', type: t.type, code: t.code, typeName: args[i]!, invert: negate });
        used('icmp');
        break;
      }
      case '--ctstate': case '--state': {
        const module = a === '--state' ? 'state' : 'conntrack';
        const given = parseStates(need(a), module);
        p.rule.matches.push({ module, states: CT_STATE_ORDER.filter((s) => given.includes(s)), invert: negate });
        used(module);
        break;
      }
      case '--comment':
        p.rule.matches.push({ module: 'comment', comment: need(a).slice(0, COMMENT_MAX) });
        used('comment');
        break;
      case '--mark': {
        const { value, mask } = parseMarkMask('mark', a, need(a));
        p.rule.matches.push({ module: 'mark', mark: value, mask, invert: negate });
        used('mark');
        break;
      }
      case '--set-xmark': case '--set-mark': case '--and-mark': case '--or-mark': case '--xor-mark': {
        const other = Object.keys(p.targetArgs)[0];
        if (other !== undefined) fail(`${PREFIX}MARK: option "${other}" cannot be used together with "${a}".\n\n${TRY}`, 2);
        const value = need(a);
        if (a === '--set-xmark' || a === '--set-mark') parseMarkMask('MARK', a, value);
        else if (parseU32(value) === null) badInteger('MARK', a);
        p.targetArgs[a] = value;
        break;
      }
      case '--log-level': {
        const level = need(a);
        if (!/^[0-7]$/.test(level) && !(level in LOG_LEVELS)) fail(`${PREFIX}log level "${level}" unknown\n\n${TRY}`, 2);
        p.targetArgs[a] = level;
        break;
      }
      case '--to-ports':
        if (p.rule.protocol?.number !== TCP && p.rule.protocol?.number !== UDP) usageError('Need TCP, UDP, SCTP or DCCP with port specification');
        p.targetArgs[a] = need(a);
        break;
      case '--to-source': case '--to-destination': case '--reject-with': case '--log-prefix':
        p.targetArgs[a] = need(a);
        break;
      case '-c': {
        // --set-counters PKTS BYTES (or PKTS,BYTES): the rule starts with these counts.
        const given = need('-c');
        const comma = given.indexOf(',', 1);
        const next = args[i + 1];
        const packets = comma > 0 ? given.slice(0, comma) : given;
        const bytes = comma > 0 ? given.slice(comma + 1) : next !== undefined && !next.startsWith('-') && !next.startsWith('!') ? args[++i] : undefined;
        if (bytes === undefined) usageError('-c requires packet and byte counter');
        if (!/^\d+/.test(packets)) usageError('-c packet counter not numeric');
        if (!/^\d+/.test(bytes!)) usageError('-c byte counter not numeric');
        p.rule.packets = parseInt(packets, 10);
        p.rule.bytes = parseInt(bytes!, 10);
        break;
      }
      case '-w': {
        // --wait [SECONDS]: nf_tables needs no lock, so it only checks the number.
        const seconds = inlineValue ?? (args[i + 1] !== undefined && !args[i + 1]!.startsWith('-') ? args[++i] : undefined);
        if (seconds !== undefined && !/^\d+$/.test(seconds)) usageError('wait seconds not numeric');
        break;
      }
      case '-4': break;
      case '-n': p.numeric = true; break;
      case '-v': p.verbose = true; break;
      case '-x': p.exact = true; break;
      case '--line-numbers': p.lineNumbers = true; break;
      default:
        if (a.startsWith('-')) usageError(`unknown option "${a}"`);
        fail(`Bad argument \`${a}'\n${TRY}`, 2);
    }
    negate = false;
  }
  if (negate) usageError('nothing appropriate following !');
  for (const module of p.modules) {
    if (module.used || module.name === 'tcp' || module.name === 'udp' || module.name === 'limit') continue;
    if (module.name === 'conntrack') usageError('conntrack: At least one option is required');
    if (module.name === 'addrtype') usageError('addrtype: you must specify --src-type or --dst-type');
    if (module.name === 'iprange') usageError("iprange match: You must specify `--src-range' or `--dst-range'");
    if (module.name === 'statistic') usageError('--probability must be specified when using random mode');
    if (module.name === 'multiport') usageError('multiport expection an option');
    const option = Object.keys(MATCH_OPTIONS[module.name]!)[0]!;
    fail(`${PREFIX}${module.name}: option "${option}" must be specified\n\n${TRY}`, 2);
  }
  if (p.statistic) p.rule.matches.push(statisticMatch(p.statistic));
  if (p.jump === 'MARK' && Object.keys(p.targetArgs).length === 0) usageError('MARK: One of the --set-xmark, --{and,or,xor,set}-mark options is required');
  return p;
}

/** -m statistic's options checked together, as the match they make. */
function statisticMatch(d: NonNullable<Parsed['statistic']>): RuleMatch {
  // --mode is mandatory: xtables checks that before the match looks at the rest.
  if (d.mode === undefined) fail(`${PREFIX}statistic: option "--mode" must be specified\n\n${TRY}`, 2);
  if (d.mode === 'random') {
    if (d.probability === undefined) usageError('--probability must be specified when using random mode');
    return { module: 'statistic', mode: 'random', probability: d.probability!, invert: d.invert };
  }
  if (d.every === undefined || d.packet === undefined) {
    if (d.every !== undefined) fail(`${PREFIX}statistic: option "--every" also requires "--packet".\n\n${TRY}`, 2);
    usageError('--every and --packet must be specified when using nth mode');
  }
  if (d.packet! > d.every! - 1) usageError('the --packet p must be 0 <= p <= n-1');
  // The counter starts so that packet number `packet` (from 0) is the first to match.
  return { module: 'statistic', mode: 'nth', every: d.every!, packet: d.packet!, count: d.every! - 1 - d.packet!, invert: d.invert };
}

/** The rules one command stands for: one per -s address for each -d address. */
function expandAddresses(p: Parsed): Rule[] {
  const list = (given: Parsed['sources']) => (given ? given.text.split(',').map((text) => parseAddr(text, given.invert)) : [null]);
  const sources = list(p.sources);
  const destinations = list(p.destinations);
  const several = sources.length > 1 || destinations.length > 1;
  if (several && (p.sources?.invert || p.destinations?.invert)) usageError('! not allowed with multiple source or destination IP addresses');
  if (p.command === 'R' && several) usageError('Replacement rule does not specify a unique address');
  return sources.flatMap((src) => destinations.map((dst) => ({ ...p.rule, src, dst, matches: p.rule.matches.map((m) => ({ ...m })) })));
}

/** Checks a new user chain's name as iptables does. */
function checkChainName(name: string): void {
  if (name.length >= 29) usageError(`chain name \`${name}' too long (must be under 29 chars)`);
  // The empty name is the standard target's.
  if (['', 'ACCEPT', 'DROP', 'QUEUE', 'RETURN', 'REJECT', 'LOG', 'MASQUERADE', 'SNAT', 'DNAT', 'REDIRECT', 'MARK', 'NFQUEUE'].includes(name)) usageError('chain name may not clash with target name');
  if (name.startsWith('-') || name.startsWith('!')) usageError(`chain name not allowed to start with \`${name[0]}'`);
  if (/\s/.test(name)) usageError(`Invalid chain name \`${name}'`);
}

/** The NAT targets' `PORT[-PORT]`: a number or service name, then perhaps a dash and a higher number. */
function parsePortSpan(text: string): { from: number; to: number } {
  const first = /^(\d+)(.*)$/.exec(text);
  if (!first || Number(first[1]) > 65535) {
    const port = servicePort(text, 'tcp');
    if (port === undefined) usageError(`Port \`${text}' not valid`);
    return { from: port, to: port };
  }
  const from = Number(first[1]);
  const rest = first[2]!;
  if (rest === '') return { from, to: from };
  if (rest.startsWith(':')) usageError('Invalid port:port syntax - use dash');
  if (!rest.startsWith('-')) usageError(`Garbage after port value: \`${rest}'`);
  const last = /^(\d+)(.*)$/.exec(rest.slice(1));
  if (!last || Number(last[1]) > 65535) usageError(`Port \`${rest.slice(1)}' not valid`);
  const to = Number(last[1]);
  if (to < from) usageError(`Port range \`${rest.slice(1)}' funky`);
  if (last[2] !== '') usageError(`Garbage after port range: \`${last[2]}'`);
  return { from, to };
}

/** SNAT's and DNAT's `[ADDR[-ADDR]][:PORT[-PORT]]`; ports only with a protocol that has them. */
function parseNatRange(text: string, protocol: number | undefined): NatRange {
  const colon = text.indexOf(':');
  if (colon >= 0 && text.indexOf(':', colon + 1) >= 0) usageError(`Bad IP address "${text}"`);
  let ports: { from: number; to: number } | null = null;
  if (colon >= 0) {
    if (protocol !== TCP && protocol !== UDP) usageError('Need TCP, UDP, SCTP or DCCP with port specification');
    ports = parsePortSpan(text.slice(colon + 1));
  }
  const addrText = colon >= 0 ? text.slice(0, colon) : text;
  const address = (part: string) => {
    const addr = part.split('.').length === 4 ? parseIpv4Loose(part) : null;
    if (addr === null) usageError(`Bad IP address "${part}"`);
    return addr;
  };
  const [fromText, toText] = addrText.split('-');
  return {
    addr: addrText === '' ? null : address(fromText!),
    addrTo: toText === undefined ? null : address(toText),
    portFrom: ports?.from ?? null,
    portTo: ports?.to ?? null,
  };
}

/** Checks target options and builds the rule's target (iptables' target extensions). */
function resolveTarget(table: Table, p: Parsed): RuleTarget | null {
  const t = p.jump;
  if (t === null) return null;
  if (p.table === 'nat' && (t === 'DROP' || t === 'REJECT')) {
    fail(`${PREFIX}\nThe "nat" table is not intended for filtering, the use of ${t} is therefore inhibited.\n\n\n${TRY}`, 2);
  }
  if (STANDARD_TARGETS.includes(t)) return { kind: t as 'ACCEPT' | 'DROP' | 'RETURN' };
  // NAT flags print in this order, however given.
  const flags = (['random', 'random-fully', 'persistent'] as const).filter((f) => `--${f}` in p.targetArgs);
  const withFlags = flags.length ? { flags } : {};
  if (t === 'MASQUERADE' || t === 'REDIRECT') {
    const ports = p.targetArgs['--to-ports'];
    return { kind: t, ports: ports === undefined ? null : parsePortSpan(ports), ...withFlags };
  }
  if (t === 'SNAT' || t === 'DNAT') {
    const option = t === 'SNAT' ? '--to-source' : '--to-destination';
    const to = p.targetArgs[option];
    if (to === undefined) fail(`${PREFIX}${t}: option "${option}" must be specified\n\n${TRY}`, 2);
    return { kind: t, to: parseNatRange(to, p.rule.protocol?.number), ...withFlags };
  }
  if (t === 'REJECT') {
    const given = p.targetArgs['--reject-with'] ?? 'icmp-port-unreachable';
    const kind = REJECT_ALIASES[given] ?? given;
    if (!REJECT_TYPES.includes(kind)) usageError(`unknown reject type "${given}"`);
    // The kernel refuses a TCP reset for anything but TCP.
    if (kind === 'tcp-reset' && p.rule.protocol?.number !== TCP) refused(p, 'Invalid argument');
    return { kind: 'REJECT', with: kind };
  }
  if (t === 'LOG') {
    const level = p.targetArgs['--log-level'];
    const prefix = p.targetArgs['--log-prefix'];
    return { kind: 'LOG', prefix: prefix === undefined ? null : prefix.slice(0, LOG_PREFIX_MAX), level: level === undefined ? 4 : (LOG_LEVELS[level] ?? Number(level)) };
  }
  if (t === 'CT' || t === 'NOTRACK') {
    // The CT target belongs to the raw table.
    if (p.table !== 'raw') refused(p, 'Invalid argument');
    return { kind: 'CT', notrack: t === 'NOTRACK' || '--notrack' in p.targetArgs, spelled: t };
  }
  if (t === 'MARK') {
    const [option, text] = Object.entries(p.targetArgs)[0]!;
    if (option === '--set-xmark' || option === '--set-mark') {
      const { value, mask } = parseMarkMask('MARK', option, text);
      // --set-mark clears the bits it sets as well as the mask's.
      return { kind: 'MARK', value, mask: option === '--set-mark' ? (value | mask) >>> 0 : mask };
    }
    const value = parseU32(text)!;
    if (option === '--and-mark') return { kind: 'MARK', value: 0, mask: ~value >>> 0 };
    return { kind: 'MARK', value, mask: option === '--or-mark' ? value : 0 };
  }
  if (table.chains.has(t) || p.restoring) {
    // nf_tables refuses a jump to a base chain.
    if (TABLE_CHAINS[p.table].includes(t as never)) refused(p, 'Operation not supported');
    return { kind: p.gotoChain ? 'goto' : 'jump', chain: t };
  }
  missingChain(t);
}

function missingChain(name: string): never {
  usageError(`Chain '${name}' does not exist`);
}

const RULE_OPERATION: Partial<Record<Command, string>> = { A: 'APPEND', I: 'INSERT', R: 'REPLACE', D: 'DELETE' };

/** The kernel refused the rule: nf_tables' errno, exit 4. */
function refused(p: Parsed, reason: string): never {
  fail(`${PREFIX} RULE_${RULE_OPERATION[p.command!] ?? 'APPEND'} failed (${reason}): rule in chain ${p.chain}`, 4);
}

// ---------------------------------------------------------------- printing

function targetName(t: RuleTarget | null): string {
  if (!t) return '';
  return t.kind === 'jump' || t.kind === 'goto' ? t.chain : t.kind;
}

/** The target as -S and iptables-save name it: NOTRACK keeps its own name there. */
function savedTargetName(t: RuleTarget): string {
  return t.kind === 'CT' ? t.spelled : targetName(t);
}

/** /etc/networks as Debian 12 ships it: the names getnetbyaddr gives network numbers. */
const NETWORKS = new Map([[0x7f000000, 'loopback'], [0xa9fe0000, 'link-local']]);

/** Without -n, iptables names 0.0.0.0/0 `anywhere` and networks by /etc/networks (it would resolve hosts too, which have no names here). */
function addrText(m: AddrMatch | null, numeric: boolean): string {
  if (!m || m.prefixLen === 0) return numeric ? '0.0.0.0/0' : 'anywhere';
  const name = numeric ? undefined : NETWORKS.get(m.addr);
  return `${name ?? formatIpv4(m.addr)}${m.prefixLen === 32 ? '' : `/${m.prefixLen}`}`;
}

/** The prot column: numbers under -n (iptables-nft), names otherwise. */
function protoText(rule: Rule, numeric: boolean): string {
  const number = rule.protocol?.number ?? 0;
  return numeric ? String(number) : protocolText(number);
}

function portText(port: number, protocol: ServiceProtocol, numeric: boolean): string {
  return numeric ? String(port) : (serviceName(port, protocol) ?? String(port));
}

function rangeText(kind: 'spt' | 'dpt', m: PortMatch, protocol: ServiceProtocol, numeric: boolean): string {
  const single = m.from === m.to;
  const value = single ? portText(m.from, protocol, numeric) : `${portText(m.from, protocol, numeric)}:${portText(m.to, protocol, numeric)}`;
  return `${kind}${single ? '' : 's'}:${m.invert ? '!' : ''}${value}`;
}

/** What -L prints after the addresses: matches, then target options. */
function extrasText(rule: Rule, numeric: boolean): string {
  const parts: string[] = [];
  for (const m of rule.matches) {
    switch (m.module) {
      case 'tcp':
      case 'udp': {
        const ranges = [m.sport && rangeText('spt', m.sport, m.module, numeric), m.dport && rangeText('dpt', m.dport, m.module, numeric)].filter(Boolean);
        const f = m.flags;
        const flags = f && `flags:${f.invert ? '!' : ''}${numeric ? `0x${hex2(f.mask)}/0x${hex2(f.comp)}` : `${tcpFlagNames(f.mask)}/${tcpFlagNames(f.comp)}`}`;
        parts.push([m.module, ...ranges, ...(flags ? [flags] : [])].join(' '));
        break;
      }
      case 'icmp':
      {
        // A type and code with a name (not under -n) print as the name, anything else by number.
        const name = numeric ? undefined : icmpTypeName(m.type ?? 255, m.code);
        const number = `type ${m.type ?? 255}${m.code !== null ? ` code ${m.code}` : ''}`;
        parts.push(name !== undefined ? `icmp ${m.invert ? '!' : ''}${name}` : m.invert ? `icmp !${number}` : `icmp${number}`);
      }
        break;
      case 'conntrack':
      case 'state':
        parts.push(`${m.invert ? '! ' : ''}${m.module === 'state' ? 'state' : 'ctstate'} ${m.states.join(',')}`);
        break;
      case 'multiport': {
        const protocol = rule.protocol?.number === UDP ? 'udp' : 'tcp';
        const ports = m.ports.map((r) => portText(r.from, protocol, numeric) + (r.to !== r.from ? `:${portText(r.to, protocol, numeric)}` : '')).join(',');
        parts.push(`multiport ${m.which} ${m.invert ? ' !' : ''}${ports}`);
        break;
      }
      case 'comment':
        parts.push(`/* ${m.comment} */`);
        break;
      case 'mark':
        parts.push(`mark match ${m.invert ? '! ' : ''}${markText(m.mark, m.mask)}`);
        break;
      case 'addrtype': {
        const side = (name: string, t: { types: string[]; invert: boolean } | null) => (t ? [`${name}-type ${t.invert ? '!' : ''}${t.types.join(',')}`] : []);
        parts.push(['ADDRTYPE match', ...side('src', m.src), ...side('dst', m.dst), ...(m.limitIface ? [`limit-${m.limitIface}`] : [])].join(' '));
        break;
      }
      case 'statistic':
        parts.push(
          m.mode === 'random'
            ? `statistic mode random ${m.invert ? '! ' : ''}probability ${probabilityText(m.probability)}`
            : `statistic mode nth ${m.invert ? '! ' : ''}every ${m.every}${m.packet ? ` packet ${m.packet}` : ''}`,
        );
        break;
      case 'limit':
        parts.push(`limit: avg ${rateText(m.avg)} burst ${m.burst}`);
        break;
      case 'iprange': {
        const range = (name: string, r: AddrRange | null) => (r ? [`${name} IP range ${r.invert ? '! ' : ''}${formatIpv4(r.from)}-${formatIpv4(r.to)}`] : []);
        parts.push([...range('source', m.src), ...range('destination', m.dst)].join(' '));
        break;
      }
    }
  }
  const t = rule.target;
  if (t?.kind === 'SNAT' || t?.kind === 'DNAT') parts.push(`to:${natText(t.to)}`);
  if (t?.kind === 'MASQUERADE' && t.ports) parts.push(`masq ports: ${spanText(t.ports)}`);
  if (t?.kind === 'REDIRECT' && t.ports) parts.push(`redir ports ${spanText(t.ports)}`);
  if (t && 'flags' in t && t.flags) parts.push(...t.flags);
  if (t?.kind === 'REJECT') parts.push(`reject-with ${t.with}`);
  if (t?.kind === 'LOG') {
    const level = numeric ? `flags 0 level ${t.level}` : `level ${LOG_LEVEL_NAMES[t.level]}`;
    parts.push(`LOG ${level}${t.prefix !== null ? ` prefix "${t.prefix}"` : ''}`);
  }
  if (t?.kind === 'MARK') parts.push(`MARK ${markTargetText(t.value, t.mask)}`);
  if (t?.kind === 'CT') parts.push(t.spelled === 'NOTRACK' ? 'NOTRACK' : t.notrack ? 'CT notrack' : 'CT');
  return parts.length ? ' ' + parts.join(' ') : '';
}

function spanText(span: { from: number; to: number }): string {
  return `${span.from}${span.to !== span.from ? `-${span.to}` : ''}`;
}

/** A mark and its mask, the mask left out when it is all ones. */
function markText(mark: number, mask: number): string {
  return mask === 0xffffffff ? hex(mark) : `${hex(mark)}/${hex(mask)}`;
}

/** mark_tg_print: the operation a MARK target's value and mask amount to. */
function markTargetText(value: number, mask: number): string {
  if (value === 0) return `and ${hex(~mask >>> 0)}`;
  if (value === mask) return `or ${hex(value)}`;
  if (mask === 0) return `xor ${hex(value)}`;
  if (mask === 0xffffffff) return `set ${hex(value)}`;
  return `xset ${hex(value)}/${hex(mask)}`;
}

function natText(to: NatRange): string {
  const addr = to.addr === null ? '' : formatIpv4(to.addr) + (to.addrTo !== null ? `-${formatIpv4(to.addrTo)}` : '');
  const ports = to.portFrom === null ? '' : `:${to.portFrom}${to.portTo !== to.portFrom ? `-${to.portTo}` : ''}`;
  return addr + ports;
}

/** xtables_print_num: counters above 99999 in rounded K, M, G, T. */
function human(n: number): string {
  if (n <= 99999) return String(n);
  let v = Math.floor((n + 500) / 1000);
  for (const unit of ['K', 'M', 'G']) {
    if (v <= 9999) return `${v}${unit}`;
    v = Math.floor((v + 500) / 1000);
  }
  return `${v}T`;
}

interface ListOptions {
  numeric: boolean;
  verbose: boolean;
  exact: boolean;
  lineNumbers: boolean;
}

/** print_firewall: one rule as a row of `iptables -L`. */
function ruleRow(rule: Rule, index: number, o: ListOptions): string {
  let line = o.lineNumbers ? `${String(index + 1).padEnd(4)} ` : '';
  if (o.verbose) line += o.exact ? `${String(rule.packets).padStart(8)} ${String(rule.bytes).padStart(8)} ` : `${human(rule.packets).padStart(5)} ${human(rule.bytes).padStart(5)} `;
  line += `${targetName(rule.target).padEnd(9)} `;
  line += (rule.protocol?.invert ? '!' : ' ') + protoText(rule, o.numeric).padEnd(5);
  line += '-- ';
  if (o.verbose) {
    const anyIface = o.numeric ? '*' : 'any';
    const iface = (m: Rule['inIface']) => ((m?.invert ? '!' : '') + (m?.name ?? anyIface)).padEnd(6);
    line += ` ${iface(rule.inIface)} ${iface(rule.outIface)} `;
  }
  line += (rule.src?.invert ? '!' : ' ') + addrText(rule.src, o.numeric).padEnd(19) + ' ';
  line += (rule.dst?.invert ? '!' : ' ') + addrText(rule.dst, o.numeric).padEnd(19) + ' ';
  if (rule.target?.kind === 'goto') line += '[goto] ';
  return line + extrasText(rule, o.numeric);
}

function chainHeader(chain: Chain, refs: number, o: ListOptions): string {
  const counts = o.verbose ? ` ${o.exact ? chain.packets : human(chain.packets)} packets, ${o.exact ? chain.bytes : human(chain.bytes)} bytes` : '';
  const title = chain.policy !== null ? `Chain ${chain.name} (policy ${chain.policy}${counts})` : `Chain ${chain.name} (${refs} references)`;
  const num = o.lineNumbers ? 'num  ' : '';
  const columns = o.verbose ? `${o.exact ? '    pkts      bytes' : ' pkts bytes'} target     prot opt in     out     source               destination` : 'target     prot opt source               destination';
  return `${title}\n${num}${columns}\n`;
}

/** A rule in iptables' own syntax, as -S and iptables-save print it. */
export function ruleSpec(rule: Rule): string {
  return ruleSpecOf(rule, false);
}

/** `counters` adds -S -v's `-c PKTS BYTES` before the target. */
function ruleSpecOf(rule: Rule, counters: boolean): string {
  const parts: string[] = [];
  const neg = (m: { invert: boolean }) => (m.invert ? '! ' : '');
  if (rule.src && rule.src.prefixLen > 0) parts.push(`${neg(rule.src)}-s ${formatIpv4(rule.src.addr)}/${rule.src.prefixLen}`);
  if (rule.dst && rule.dst.prefixLen > 0) parts.push(`${neg(rule.dst)}-d ${formatIpv4(rule.dst.addr)}/${rule.dst.prefixLen}`);
  if (rule.inIface) parts.push(`${neg(rule.inIface)}-i ${rule.inIface.name}`);
  if (rule.outIface) parts.push(`${neg(rule.outIface)}-o ${rule.outIface.name}`);
  if (rule.protocol && rule.protocol.number !== 0) parts.push(`${neg(rule.protocol)}-p ${protocolText(rule.protocol.number)}`);
  for (const m of rule.matches) {
    switch (m.module) {
      case 'tcp':
      case 'udp': {
        const range = (r: PortMatch) => `${r.from === r.to ? r.from : `${r.from}:${r.to}`}`;
        parts.push(`-m ${m.module}`);
        if (m.sport) parts.push(`${neg(m.sport)}--sport ${range(m.sport)}`);
        if (m.dport) parts.push(`${neg(m.dport)}--dport ${range(m.dport)}`);
        if (m.flags) parts.push(`${neg(m.flags)}--tcp-flags ${tcpFlagNames(m.flags.mask)} ${tcpFlagNames(m.flags.comp)}`);
        break;
      }
      case 'icmp':
        parts.push(`-m icmp ${neg(m)}--icmp-type ${m.type ?? 'any'}${m.code !== null ? `/${m.code}` : ''}`);
        break;
      case 'conntrack':
        parts.push(`-m conntrack ${neg(m)}--ctstate ${m.states.join(',')}`);
        break;
      case 'state':
        parts.push(`-m state ${neg(m)}--state ${m.states.join(',')}`);
        break;
      case 'multiport':
        parts.push(`-m multiport ${neg(m)}--${m.which} ${m.ports.map((r) => `${r.from}${r.to !== r.from ? `:${r.to}` : ''}`).join(',')}`);
        break;
      case 'comment':
        parts.push(`-m comment --comment ${saveString(m.comment)}`);
        break;
      case 'mark':
        parts.push(`-m mark ${neg(m)}--mark ${markText(m.mark, m.mask)}`);
        break;
      case 'addrtype': {
        const side = (name: string, t: { types: string[]; invert: boolean } | null) => (t ? [`${neg(t)}--${name}-type ${t.types.join(',')}`] : []);
        parts.push(['-m addrtype', ...side('src', m.src), ...side('dst', m.dst), ...(m.limitIface ? [`--limit-iface-${m.limitIface}`] : [])].join(' '));
        break;
      }
      case 'statistic':
        parts.push(
          m.mode === 'random'
            ? `-m statistic --mode random ${neg(m)}--probability ${probabilityText(m.probability)}`
            : `-m statistic --mode nth ${neg(m)}--every ${m.every} --packet ${m.packet}`,
        );
        break;
      case 'limit':
        parts.push(`-m limit --limit ${rateText(m.avg)}${m.burst !== DEFAULT_BURST ? ` --limit-burst ${m.burst}` : ''}`);
        break;
      case 'iprange': {
        const range = (name: string, r: AddrRange | null) => (r ? [`${neg(r)}--${name}-range ${formatIpv4(r.from)}-${formatIpv4(r.to)}`] : []);
        parts.push(['-m iprange', ...range('src', m.src), ...range('dst', m.dst)].join(' '));
        break;
      }
    }
  }
  if (counters) parts.push(`-c ${rule.packets} ${rule.bytes}`);
  const t = rule.target;
  if (t) {
    parts.push(`${t.kind === 'goto' ? '-g' : '-j'} ${savedTargetName(t)}`);
    if (t.kind === 'SNAT' || t.kind === 'DNAT') parts.push(`--to-${t.kind === 'SNAT' ? 'source' : 'destination'} ${natText(t.to)}`);
    if ((t.kind === 'MASQUERADE' || t.kind === 'REDIRECT') && t.ports) parts.push(`--to-ports ${spanText(t.ports)}`);
    if ('flags' in t && t.flags) parts.push(...t.flags.map((f) => `--${f}`));
    if (t.kind === 'REJECT') parts.push(`--reject-with ${t.with}`);
    if (t.kind === 'LOG') {
      if (t.prefix !== null) parts.push(`--log-prefix ${saveString(t.prefix)}`);
      // warning (4) is the default and goes unsaid.
      if (t.level !== 4) parts.push(`--log-level ${t.level}`);
    }
    if (t.kind === 'MARK') parts.push(`--set-xmark ${hex(t.value)}/${hex(t.mask)}`);
    if (t.kind === 'CT' && t.spelled === 'CT' && t.notrack) parts.push('--notrack');
  }
  return parts.join(' ');
}

function sameRule(a: Rule, b: Rule): boolean {
  return ruleSpecOf(a, false) === ruleSpecOf(b, false);
}

// --------------------------------------------------------------- commands

/** Runs one command on `table` when given (iptables-restore's working copy), else on the namespace's. */
function execute(ctx: ProcContext, ns: NetNs, p: Parsed, given?: Table): number {
  if (p.command === null) usageError('no command specified');
  // Listing looks without creating; everything else brings the table into being.
  const listing = p.command === 'L' || p.command === 'S';
  const nf = netfilterOf(ns);
  const table = given ?? (listing ? (nf.existingTable(p.table) ?? defaultTable(p.table)) : nf.table(p.table));
  const chain = p.chain !== null ? table.chains.get(p.chain) : undefined;
  const incompatible = (): never => fail(`${PREFIX}chain \`${p.chain}' in table \`${p.table}' is incompatible, use 'nft' tool.`);
  const list: ListOptions = { numeric: p.numeric, verbose: p.verbose, exact: p.exact, lineNumbers: p.lineNumbers };
  switch (p.command) {
    case 'A':
    case 'I':
    case 'R':
    case 'C':
    case 'D': {
      if (p.command === 'D' && p.ruleNumber !== null) {
        if (!chain || chain.rules.length === 0) noChain();
        if (p.ruleNumber > chain.rules.length) fail('iptables: Index of deletion too big.');
        chain.rules.splice(p.ruleNumber - 1, 1);
        return 0;
      }
      p.rule.target = resolveTarget(table, p);
      checkPortMatches(p);
      const rules = expandAddresses(p);
      if (p.command === 'D' || p.command === 'C') {
        for (const rule of rules) {
          const index = chain ? chain.rules.findIndex((r) => sameRule(r, rule)) : -1;
          if (index < 0) fail('iptables: Bad rule (does a matching rule exist in that chain?).');
          if (p.command === 'D') chain!.rules.splice(index, 1);
        }
        return 0;
      }
      if (!chain) noChain();
      // Which interfaces a hook can see.
      if (p.rule.outIface && (chain.name === 'INPUT' || chain.name === 'PREROUTING')) fail(`${PREFIX}Can't use -o with ${chain.name}\n\n${TRY}`, 2);
      if (p.rule.inIface && (chain.name === 'OUTPUT' || chain.name === 'POSTROUTING')) fail(`${PREFIX}Can't use -i with ${chain.name}\n\n${TRY}`, 2);
      // addrtype_mt_checkentry_v1: a hook without that device cannot limit to it.
      const addrtype = p.rule.matches.find((m) => m.module === 'addrtype');
      if (addrtype?.limitIface === 'in' && (chain.name === 'OUTPUT' || chain.name === 'POSTROUTING')) refused(p, 'Invalid argument');
      if (addrtype?.limitIface === 'out' && (chain.name === 'PREROUTING' || chain.name === 'INPUT')) refused(p, 'Invalid argument');
      const target = p.rule.target?.kind as string | undefined;
      const natChains = target && { MASQUERADE: ['POSTROUTING'], SNAT: ['POSTROUTING', 'INPUT'], DNAT: ['PREROUTING', 'OUTPUT'], REDIRECT: ['PREROUTING', 'OUTPUT'] }[target];
      if (natChains && (p.table !== 'nat' || (chain.policy !== null && !natChains.includes(chain.name)))) refused(p, 'Invalid argument');
      const before = chain.rules.slice();
      for (const rule of rules) {
        if (p.command === 'A') chain.rules.push(rule);
        else if (p.command === 'I') {
          const at = (p.ruleNumber ?? 1) - 1;
          if (at > chain.rules.length) fail('iptables: Index of insertion too big.');
          chain.rules.splice(at, 0, rule);
        } else {
          const at = p.ruleNumber! - 1;
          if (at >= chain.rules.length) fail('iptables: Index of replacement too big.');
          chain.rules[at] = rule;
        }
      }
      // nf_tables validates the ruleset from its base chains: a loop there fails the whole change.
      if (loopsFromBaseChains(table)) {
        chain.rules = before;
        refused(p, 'Too many links');
      }
      if (nf.needsConntrack()) conntrackOf(ns);
      return 0;
    }
    case 'F':
    case 'Z': {
      if (p.chain !== null && !chain) noChain();
      if (p.command === 'Z' && chain && p.ruleNumber !== null) {
        const rule = chain.rules[p.ruleNumber - 1];
        if (rule) rule.packets = rule.bytes = 0;
        return 0;
      }
      for (const c of chain ? [chain] : table.chains.values()) {
        if (p.command === 'F') c.rules = [];
        else zeroChain(c);
      }
      return 0;
    }
    case 'N':
      checkChainName(p.chain!);
      if (table.chains.has(p.chain!)) fail('iptables: Chain already exists.');
      table.chains.set(p.chain!, { name: p.chain!, policy: null, rules: [], packets: 0, bytes: 0 });
      return 0;
    case 'X': {
      const doomed = p.chain !== null ? [p.chain] : [...table.chains.values()].filter((c) => c.policy === null).map((c) => c.name);
      for (const name of doomed) {
        const c = table.chains.get(name);
        if (!c) noChain();
        if (c.policy !== null || c.rules.length > 0 || userChainReferences(table, name) > 0) fail(`${PREFIX} CHAIN_DEL failed (Device or resource busy): chain ${name}`, 4);
      }
      for (const name of doomed) table.chains.delete(name);
      return 0;
    }
    case 'E': {
      // Only user chains can be renamed.
      if (!chain || chain.policy !== null) noChain();
      if (table.chains.has(p.newName!)) fail('iptables: File exists.');
      renameChain(table, chain, p.newName!);
      return 0;
    }
    case 'P':
      if (!chain || chain.policy === null) fail('iptables: Bad built-in chain name.');
      if (p.policy !== 'ACCEPT' && p.policy !== 'DROP') fail("iptables: Bad policy name. Run `dmesg' for more information.");
      if (p.table === 'nat' && p.policy === 'DROP') fail(`${PREFIX}\nThe "nat" table is not intended for filtering, the use of DROP is therefore inhibited.\n\n\n${TRY}`, 2);
      // Setting a policy gives it a fresh counter.
      chain.policy = p.policy;
      chain.policyCounted = true;
      chain.packets = chain.bytes = 0;
      return 0;
    case 'L': {
      if (p.chain !== null && !chain) incompatible();
      if (chain && p.ruleNumber !== null) {
        const rule = chain.rules[p.ruleNumber - 1];
        if (rule) ctx.stdout.write(ruleRow(rule, p.ruleNumber - 1, { ...list, lineNumbers: false }).trimEnd() + '\n');
        return 0;
      }
      const chains = chain ? [chain] : listOrder(table);
      chains.forEach((c, i) => {
        if (i > 0) ctx.stdout.write('\n');
        ctx.stdout.write(chainHeader(c, userChainReferences(table, c.name), list));
        c.rules.forEach((rule, index) => ctx.stdout.write(ruleRow(rule, index, list) + '\n'));
      });
      if (p.zeroAfterList) {
        for (const c of chains) zeroChain(c);
        ctx.stdout.write(chain ? `Zeroing chain \`${chain.name}'\n` : 'Zeroing all chains\n');
      }
      return 0;
    }
    case 'S': {
      if (p.chain !== null && !chain) incompatible();
      if (chain && p.ruleNumber !== null) {
        const rule = chain.rules[p.ruleNumber - 1];
        if (rule) ctx.stdout.write(`-A ${chain.name}${specSuffix(rule, p.verbose)}\n`);
        return 0;
      }
      const chains = chain ? [chain] : listOrder(table);
      for (const c of chains) ctx.stdout.write(c.policy !== null ? `-P ${c.name} ${c.policy}${p.verbose ? ` -c ${c.packets} ${c.bytes}` : ''}\n` : `-N ${c.name}\n`);
      for (const c of chains) for (const r of c.rules) ctx.stdout.write(`-A ${c.name}${specSuffix(r, p.verbose)}\n`);
      return 0;
    }
  }
}

/** tcp and udp matches need their protocol: iptables says so when ports are given, the kernel refuses the rest. */
function checkPortMatches(p: Parsed): void {
  for (const m of p.rule.matches) {
    if (m.module !== 'tcp' && m.module !== 'udp') continue;
    const number = m.module === 'tcp' ? TCP : UDP;
    if (p.rule.protocol?.number === number && !p.rule.protocol.invert) continue;
    if (m.sport || m.dport) usageError(`${m.module.toUpperCase()} match requires '-p ${m.module}'`);
    refused(p, 'Invalid argument');
  }
}

/** Whether jumps and gotos from the built-in chains can come back round to a chain on their path. */
function loopsFromBaseChains(table: Table): boolean {
  const onPath = new Set<string>();
  const visit = (chain: Chain): boolean => {
    if (onPath.has(chain.name)) return true;
    onPath.add(chain.name);
    for (const r of chain.rules) {
      const next = r.target?.kind === 'jump' || r.target?.kind === 'goto' ? table.chains.get(r.target.chain) : undefined;
      if (next && visit(next)) return true;
    }
    onPath.delete(chain.name);
    return false;
  };
  return [...table.chains.values()].some((c) => c.policy !== null && visit(c));
}

/** What an untouched table looks like: its built-in chains, empty, accepting. */
function defaultTable(name: TableName): Table {
  return { name, chains: new Map(TABLE_CHAINS[name].map((hook) => [hook, { name: hook, policy: 'ACCEPT', rules: [], packets: 0, bytes: 0 }])) };
}

/** Built-in chains in hook order, then user chains by name, as iptables-nft lists them. */
function listOrder(table: Table): Chain[] {
  const chains = [...table.chains.values()];
  return [...chains.filter((c) => c.policy !== null), ...chains.filter((c) => c.policy === null).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))];
}

function zeroChain(chain: Chain): void {
  chain.packets = chain.bytes = 0;
  for (const r of chain.rules) r.packets = r.bytes = 0;
}

function specSuffix(rule: Rule, counters: boolean): string {
  const spec = ruleSpecOf(rule, counters);
  return spec ? ` ${spec}` : '';
}

/** -E: the chain takes its new name and every jump to it follows. */
function renameChain(table: Table, chain: Chain, name: string): void {
  const entries = [...table.chains.entries()].map(([key, c]): [string, Chain] => (c === chain ? [name, c] : [key, c]));
  table.chains.clear();
  for (const [key, c] of entries) table.chains.set(key, c);
  for (const c of table.chains.values()) {
    for (const r of c.rules) if (r.target && (r.target.kind === 'jump' || r.target.kind === 'goto') && r.target.chain === chain.name) r.target.chain = name;
  }
  chain.name = name;
}

function run(ctx: ProcContext, argv: string[]): number {
  try {
    const p = parse(argv);
    for (const warning of p.warnings) ctx.stderr.write(warning + '\n');
    return execute(ctx, ctx.ns, p);
  } catch (e) {
    if (!(e instanceof IptablesError)) throw e;
    (e.code === 0 ? ctx.stdout : ctx.stderr).write(e.message + '\n');
    return e.code;
  }
}

/** iptables-save's long options and the short ones they stand for. */
const SAVE_OPTIONS: Record<string, string> = { '--counters': 'c', '--table': 't', '--modprobe': 'M', '--version': 'V' };

/** iptables-save: every table in use (or the one -t names, in use or not), with chain counters and rules. */
function save(ctx: ProcContext, argv: string[]): number {
  const usage = (message: string): number => {
    ctx.stderr.write(`iptables-save: ${message}\nLook at manual page \`iptables-save.8' for more information.\n`);
    return 1;
  };
  let only: string | undefined;
  let counters = false;
  const args = argv.slice(1);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    let letters: string;
    let inline: string | undefined;
    if (a.startsWith('--')) {
      const [name, value] = a.split(/=(.*)/s) as [string, string | undefined];
      const matches = Object.keys(SAVE_OPTIONS).filter((o) => o.startsWith(name));
      if (matches.length !== 1) return usage(`unrecognized option '${a}'`);
      letters = SAVE_OPTIONS[matches[0]!]!;
      inline = value;
    } else if (a.startsWith('-') && a.length > 1) letters = a.slice(1);
    else {
      ctx.stderr.write('Unknown arguments found on commandline\n');
      return 1;
    }
    // getopt: short options may be clustered, and one taking an argument takes the rest of the word or the next.
    for (let j = 0; j < letters.length; j++) {
      const f = letters[j]!;
      if (f === 'c') counters = true;
      else if (f === 'V') {
        ctx.stdout.write('iptables-save v1.8.9 (nf_tables)\n');
        return 0;
      } else if (f === 't' || f === 'M') {
        const value = inline ?? (letters.slice(j + 1) || args[++i]);
        if (value === undefined) return usage(`option requires an argument -- '${f}'`);
        if (f === 't') only = value;
        break;
      } else return usage(`invalid option -- '${f}'`);
    }
  }
  if (only !== undefined && !TABLE_NAMES.includes(only as TableName)) {
    ctx.stderr.write(`Table \`${only}' does not exist\n`);
    return 1;
  }
  const nf = ctx.ns.netfilter;
  const stamp = 'Thu Jan  1 00:00:00 1970';
  for (const name of TABLE_NAMES) {
    const table = only === name ? (nf?.existingTable(name) ?? defaultTable(name)) : only === undefined ? nf?.existingTable(name) : undefined;
    if (!table) continue;
    ctx.stdout.write(`# Generated by iptables-save v1.8.9 (nf_tables) on ${stamp}\n*${name}\n`);
    for (const c of listOrder(table)) ctx.stdout.write(`:${c.name} ${c.policy ?? '-'} [${c.packets}:${c.bytes}]\n`);
    for (const c of listOrder(table)) for (const r of c.rules) ctx.stdout.write(`${counters ? `[${r.packets}:${r.bytes}] ` : ''}-A ${c.name}${specSuffix(r, false)}\n`);
    ctx.stdout.write(`COMMIT\n# Completed on ${stamp}\n`);
  }
  return 0;
}

const RESTORE_PREFIX = 'iptables-restore v1.8.9 (nf_tables): ';
const RESTORE_TRY = "Try `iptables-restore -h' or 'iptables-restore --help' for more information.";

/** How iptables-restore words an error of one of its lines. */
function restoreError(e: IptablesError, line: number): IptablesError {
  // The kernel refused: its words on a line of their own.
  if (e.code === 4) return new IptablesError(e.message.replace(`${PREFIX} `, `${RESTORE_PREFIX}\nline ${line}: `), 4);
  if (e.message.startsWith('iptables: ')) return new IptablesError(`iptables-restore: line ${line} failed: ${e.message.slice('iptables: '.length)}`, e.code);
  return new IptablesError(e.message.replace(PREFIX, RESTORE_PREFIX).replace(TRY, `Error occurred at line: ${line}\n${RESTORE_TRY}`), e.code);
}

/** iptables-restore's split of a line into words: blanks separate them, quotes group them, a backslash escapes within quotes. */
function restoreWords(line: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote !== null) {
      if (c === '\\' && i + 1 < line.length) word += line[++i];
      else if (c === quote) quote = null;
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      word ??= '';
    } else if (c === ' ' || c === '\t') {
      if (word !== null) words.push(word);
      word = null;
    } else word = (word ?? '') + c;
  }
  if (word !== null) words.push(word);
  return words;
}

/** iptables-restore's long options and the short ones they stand for. */
const RESTORE_OPTIONS: Record<string, string> = { '--noflush': 'n', '--counters': 'c', '--test': 't', '--verbose': 'v', '--wait': 'w' };

/**
 * iptables-restore: tables as iptables-save prints them. Each `*table` block is
 * built on a copy (emptied first unless --noflush) and replaces the table at
 * its COMMIT; a failing line stops the restore, leaving earlier blocks in place.
 */
function restore(ctx: ProcContext, argv: string[]): number {
  let noflush = false;
  let counters = false;
  let test = false;
  let file: string | undefined;
  for (const a of argv.slice(1)) {
    let letters: string;
    if (a.startsWith('--')) {
      const matches = Object.keys(RESTORE_OPTIONS).filter((o) => o.startsWith(a));
      if (matches.length !== 1) {
        ctx.stderr.write(`iptables-restore: unrecognized option '${a}'\nTry \`iptables-restore -h' for more information.\n`);
        return 1;
      }
      letters = RESTORE_OPTIONS[matches[0]!]!;
    } else if (a.startsWith('-') && a.length > 1) letters = a.slice(1);
    else {
      file = a;
      continue;
    }
    for (const f of letters) {
      if (f === 'n') noflush = true;
      else if (f === 'c') counters = true;
      else if (f === 't') test = true;
      else if (f !== 'v' && f !== 'w') {
        ctx.stderr.write(`iptables-restore: invalid option -- '${f}'\nTry \`iptables-restore -h' for more information.\n`);
        return 1;
      }
    }
  }
  let text = ctx.stdin;
  if (file !== undefined) {
    const r = readFile(ctx, file);
    if (!r.ok) {
      ctx.stderr.write(`Can't open ${file}: ${r.error}\n`);
      return 1;
    }
    text = r.text;
  }
  const nf = netfilterOf(ctx.ns);
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  let working: Table | null = null;
  try {
    for (const [index, raw] of lines.entries()) {
      const number = index + 1;
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      try {
        if (line.startsWith('*')) {
          const name = line.slice(1);
          if (!TABLE_NAMES.includes(name as TableName)) usageError(`iptables-restore: line ${number} table name '${name}' invalid`);
          const existing = nf.existingTable(name as TableName);
          working = noflush && existing ? structuredClone(existing) : defaultTable(name as TableName);
        } else if (line === 'COMMIT') {
          if (working) checkJumps(working);
          if (working && !test) nf.setTable(working);
          working = null;
        } else if (working === null) {
          ctx.stderr.write(`iptables-restore: line ${number} failed\n`);
          return 1;
        } else if (line.startsWith(':')) {
          declareChain(working, line, number, counters);
        } else {
          const words = restoreWords(line);
          const counted = /^\[(\d+):(\d+)\]$/.exec(words[0] ?? '');
          const p = parse(['iptables', ...(counted ? words.slice(1) : words)], true);
          for (const warning of p.warnings) ctx.stderr.write(warning + '\n');
          p.table = working.name;
          if (counted && counters) [p.rule.packets, p.rule.bytes] = [Number(counted[1]), Number(counted[2])];
          execute(ctx, ctx.ns, p, working);
        }
      } catch (e) {
        if (e instanceof IptablesError) throw restoreError(e, number);
        throw e;
      }
    }
    if (working !== null) {
      ctx.stderr.write(`iptables-restore: COMMIT expected at line ${lines.length + 1}\n`);
      return 1;
    }
  } catch (e) {
    if (!(e instanceof IptablesError)) throw e;
    ctx.stderr.write(e.message + '\n');
    return e.code;
  }
  if (nf.needsConntrack()) conntrackOf(ctx.ns);
  return 0;
}

/** At a COMMIT, every jump must lead to a chain of the table. */
function checkJumps(table: Table): void {
  for (const chain of table.chains.values()) {
    for (const r of chain.rules) if ((r.target?.kind === 'jump' || r.target?.kind === 'goto') && !table.chains.has(r.target.chain)) missingChain(r.target.chain);
  }
}

/** `:CHAIN POLICY [PKTS:BYTES]`: a built-in chain's policy, or a user chain (policy `-`) to create. */
function declareChain(table: Table, line: string, number: number, counters: boolean): void {
  const [name, policy, count] = line.slice(1).split(/\s+/) as [string, string | undefined, string | undefined];
  if (policy === undefined) usageError(`iptables-restore: line ${number} policy invalid`);
  const chain = table.chains.get(name);
  if (chain?.policy === null || (!chain && policy === '-')) {
    if (!chain) table.chains.set(name, { name, policy: null, rules: [], packets: 0, bytes: 0 });
    return;
  }
  if (!chain) noChain();
  if (policy !== 'ACCEPT' && policy !== 'DROP') fail('iptables: Bad policy name.');
  chain.policy = policy;
  chain.policyCounted = true;
  const m = /^\[(\d+):(\d+)\]$/.exec(count ?? '');
  [chain.packets, chain.bytes] = counters && m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

export const iptables = program(run);
export const iptablesRestore = program(restore);
export const iptablesSave = program(save);

