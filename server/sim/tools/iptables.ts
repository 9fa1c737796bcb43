// `iptables` and `iptables-save` as iptables 1.8.9 (nf_tables) print them:
// the rule commands, listing with counters, and the tool's own errors.
import { formatIpv4, maskLength, prefixMask } from '../kernel/addr';
import {
  ADDR_TYPES, conntrackOf, netfilterOf, TABLE_CHAINS, userChainReferences, type AddrMatch, type AddrType, type AddrTypeMatch, type Chain, type CtMatchState, type StatisticMatch, type NatRange, type PortMatch, type Rule, type RuleMatch, type RuleTarget,
  type Table, type TableName,
} from '../kernel/netfilter';
import type { NetNs } from '../kernel/netns';
import { parseIpv4Loose } from './ip/utils';
import { program, type ProcContext } from './process';
import { serviceName, servicePort } from './services';

const TRY = "Try `iptables -h' or 'iptables --help' for more information.";
const PREFIX = 'iptables v1.8.9 (nf_tables): ';
const TABLE_NAMES: TableName[] = ['filter', 'mangle', 'nat', 'raw'];

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


/** The order conntrack and state matches print their states in, whatever order they were given. */
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

const PROTO_NUMBERS: Record<string, string> = { all: '0', icmp: '1', tcp: '6', udp: '17' };
const PROTO_NAMES: Record<string, string> = { '0': 'all', '1': 'icmp', '6': 'tcp', '17': 'udp' };

function parsePort(text: string): number {
  const port = /^\d+$/.test(text) ? Number(text) : servicePort(text);
  if (port === undefined || port > 65535) usageError(`invalid port/service \`${text}' specified`);
  return port;
}

/** `PORT`, `FROM:TO`, `:TO`, `FROM:` with names allowed. */
function parsePortRange(text: string, invert: boolean): PortMatch {
  const [a, b] = text.split(':');
  if (b === undefined) {
    const port = parsePort(a!);
    return { from: port, to: port, invert };
  }
  const range = { from: a === '' ? 0 : parsePort(a!), to: b === '' ? 65535 : parsePort(b), invert };
  if (range.from > range.to) usageError('invalid portrange (min > max)');
  return range;
}

function parseIcmpType(text: string): { type: number | null; code: number | null } {
  const named = ICMP_TYPES[text];
  if (named) return { type: named[0] === 255 ? null : named[0], code: named[1] };
  const m = /^(\d+)(?:\/(\d+))?$/.exec(text);
  if (!m || Number(m[1]) > 255 || (m[2] !== undefined && Number(m[2]) > 255)) usageError(`Unknown ICMP type \`${text}'`);
  return { type: Number(m[1]), code: m[2] === undefined ? null : Number(m[2]) };
}

function icmpTypeName(type: number, code: number | null): string {
  const found = Object.entries(ICMP_TYPES).find(([, [t, c]]) => t === type && c === code);
  return found ? found[0] : code === null ? `type ${type}` : `type ${type} code ${code}`;
}

/** A comma-separated list of route types, in any case; kept in the kernel's order. */
function parseAddrTypes(text: string): AddrType[] {
  const given = text.split(',').map((name) => {
    const type = ADDR_TYPES.find((t) => t === name.toUpperCase());
    if (!type) usageError(`addrtype: bad type "${name}"`);
    return type;
  });
  return ADDR_TYPES.filter((t) => given.includes(t));
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
  jump: string | null;
  gotoChain: boolean;
  numeric: boolean;
  verbose: boolean;
  exact: boolean;
  lineNumbers: boolean;
  zeroAfterList: boolean;
  /** Match modules loaded with -m, which must then get their options. */
  modules: string[];
  targetArgs: Record<string, string>;
  /** -m statistic's options as given, checked once the line is read. */
  statistic: { mode?: string; modeInverted?: boolean; probability?: number; every?: number; packet?: number; invert: boolean } | null;
}

const LONG: Record<string, string> = {
  '--append': '-A', '--insert': '-I', '--delete': '-D', '--replace': '-R', '--check': '-C', '--flush': '-F', '--zero': '-Z', '--new-chain': '-N',
  '--delete-chain': '-X', '--policy': '-P', '--list': '-L', '--list-rules': '-S', '--rename-chain': '-E', '--table': '-t',
  '--source': '-s', '--src': '-s', '--destination': '-d', '--dst': '-d', '--in-interface': '-i', '--out-interface': '-o', '--protocol': '-p',
  '--jump': '-j', '--goto': '-g', '--numeric': '-n', '--verbose': '-v', '--exact': '-x', '--match': '-m', '--version': '-V',
  '--destination-port': '--dport', '--source-port': '--sport', '--destination-ports': '--dports', '--source-ports': '--sports',
};

/** Commands that name a chain, and whether they need one. */
const CHAIN_ARG: Record<Command, 'required' | 'optional'> = {
  A: 'required', I: 'required', D: 'required', R: 'required', C: 'required', N: 'required', P: 'required', E: 'required',
  F: 'optional', Z: 'optional', X: 'optional', L: 'optional', S: 'optional',
};

function parseRuleNumber(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1) usageError(`Invalid rule number \`${text}'`);
  return Number(text);
}

function parse(argv: string[]): Parsed {
  const p: Parsed = {
    table: 'filter', command: null, chain: null, ruleNumber: null, policy: null, newName: null, jump: null, gotoChain: false,
    numeric: false, verbose: false, exact: false, lineNumbers: false, zeroAfterList: false, modules: [], targetArgs: {}, statistic: null,
    rule: { protocol: null, src: null, dst: null, inIface: null, outIface: null, matches: [], target: null, packets: 0, bytes: 0 },
  };
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
  const protocolModule = (option: string): 'tcp' | 'udp' => {
    const name = p.rule.protocol?.name;
    const module = name === 'tcp' || name === '6' ? 'tcp' : name === 'udp' || name === '17' ? 'udp' : null;
    if (!module) usageError(`unknown option "${option}"`);
    return module;
  };
  const setTable = (t: string) => {
    if (!TABLE_NAMES.includes(t as TableName)) fail(`${PREFIX}table '${t}' does not exist\nPerhaps iptables or your kernel needs to be upgraded.`, 3);
    p.table = t as TableName;
  };
  for (let i = 1; i < argv.length; i++) {
    let a = argv[i]!;
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    let inlineValue: string | undefined;
    if (eq > 0) {
      inlineValue = a.slice(eq + 1);
      a = a.slice(0, eq);
    }
    if (LONG[a]) a = LONG[a]!;
    // getopt: a required argument is the next word, whatever it looks like.
    const need = (opt: string) => {
      if (inlineValue !== undefined) return inlineValue;
      const v = argv[i + 1];
      if (v === undefined) usageError(`option "${opt}" requires an argument`);
      i++;
      return v;
    };
    const optional = () => {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('-') || next === '!') return undefined;
      i++;
      return next;
    };
    // `attached` is what followed the letter in a group of short options (-Ln, -LINPUT).
    const takeChain = (c: Command, attached?: string) => {
      setCommand(c);
      const chain = attached ?? (CHAIN_ARG[c] === 'required' ? need(`-${c}`) : optional());
      if (chain !== undefined) p.chain = chain;
      const next = argv[i + 1];
      const numberFollows = next !== undefined && /^\d+$/.test(next);
      // -I, -D and -Z take a number when one follows; -R needs one; -L and -S take any word as one.
      if (((c === 'I' || c === 'D' || c === 'Z') && numberFollows) || c === 'R' || ((c === 'L' || c === 'S') && p.chain !== null && next !== undefined && !next.startsWith('-'))) {
        if (next === undefined) usageError('-R requires a rule number');
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
      negate = true;
      continue;
    }
    switch (a) {
      case '-t':
        setTable(need('-t'));
        break;
      case '-A': case '-D': case '-I': case '-R': case '-C': case '-N': case '-P': case '-E':
      case '-F': case '-Z': case '-X': case '-L': case '-S':
        takeChain(a[1] as Command);
        break;
      case '-V':
        fail('iptables v1.8.9 (nf_tables)', 0);
        break;
      case '-s': p.rule.src = parseAddr(need('-s'), negate); break;
      case '-d': p.rule.dst = parseAddr(need('-d'), negate); break;
      case '-i':
      case '-o': {
        const name = need(a);
        if (name.length > 15) usageError(`interface name \`${name}' must be shorter than IFNAMSIZ (15)`);
        const key = a === '-i' ? 'inIface' : 'outIface';
        if (p.rule[key]) usageError(`multiple ${a} flags not allowed`);
        p.rule[key] = { name, invert: negate };
        break;
      }
      case '-p': {
        const proto = need('-p').toLowerCase();
        if (!(proto in PROTO_NUMBERS) && !(proto in PROTO_NAMES)) usageError(`unknown protocol "${proto}" specified`);
        p.rule.protocol = { name: PROTO_NAMES[proto] ?? proto, invert: negate };
        break;
      }
      case '-j': case '-g':
        p.jump = need(a);
        p.gotoChain = a === '-g';
        break;
      case '-m': {
        const module = need('-m');
        if (!['tcp', 'udp', 'icmp', 'conntrack', 'state', 'multiport', 'comment', 'addrtype', 'statistic'].includes(module)) fail(`${PREFIX}Couldn't load match \`${module}':No such file or directory\n\n${TRY}`, 2);
        p.modules.push(module);
        // -m tcp/udp is a match of its own, with or without port options.
        if ((module === 'tcp' || module === 'udp') && !p.rule.matches.some((m) => m.module === module)) p.rule.matches.push({ module, sport: null, dport: null });
        break;
      }
      case '--dport': case '--sport': {
        const module = protocolModule(a);
        const range = parsePortRange(need(a), negate);
        let m = p.rule.matches.find((x): x is Extract<RuleMatch, { module: 'tcp' | 'udp' }> => x.module === module);
        if (!m) {
          m = { module, sport: null, dport: null };
          p.rule.matches.push(m);
        }
        if (a === '--dport') m.dport = range;
        else m.sport = range;
        break;
      }
      case '--dports': case '--sports': case '--ports': {
        protocolModule(a);
        const ports = need(a).split(',').map(parsePort);
        p.rule.matches.push({ module: 'multiport', ports, which: a.slice(2) as 'dports' | 'sports' | 'ports', invert: negate });
        break;
      }
      case '--icmp-type': {
        if (p.rule.protocol?.name !== 'icmp') usageError(`unknown option "${a}"`);
        const t = parseIcmpType(need(a));
        p.rule.matches.push({ module: 'icmp', type: t.type, code: t.code, typeName: argv[i]!, invert: negate });
        break;
      }
      case '--ctstate': case '--state': {
        const given = need(a).split(',');
        // SNAT and DNAT are states of the conntrack match only.
        const known = a === '--state' ? CT_STATE_ORDER.filter((s) => s !== 'SNAT' && s !== 'DNAT') : CT_STATE_ORDER;
        const bad = given.find((s) => !known.includes(s as CtMatchState));
        if (bad !== undefined) usageError(`Bad ${a.slice(2)} "${bad}"`);
        p.rule.matches.push({ module: a === '--state' ? 'state' : 'conntrack', states: CT_STATE_ORDER.filter((s) => given.includes(s)), invert: negate });
        break;
      }
      case '--comment':
        p.rule.matches.push({ module: 'comment', comment: need(a) });
        break;
      case '--mode': case '--probability': case '--every': case '--packet': {
        if (!p.modules.includes('statistic')) usageError(`unknown option "${a}"`);
        const st = (p.statistic ??= { invert: false });
        const value = need(a);
        if (a === '--mode') {
          if (negate) fail(`${PREFIX}statistic: option "--mode" cannot be inverted.\n\n${TRY}`, 2);
          if (value !== 'random' && value !== 'nth') usageError(`Bad mode "${value}"`);
          st.mode = value;
        } else if (a === '--probability') {
          const probability = /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(value) ? Number(value) : NaN;
          if (!(probability >= 0 && probability <= 1)) fail(`${PREFIX}statistic: bad value for option "--probability", or out of range (0-1).\n\n${TRY}`, 2);
          st.probability = probability;
        } else {
          const n = /^\d+$/.test(value) ? Number(value) : NaN;
          const least = a === '--every' ? 1 : 0;
          if (!(n >= least && n <= 0xffffffff)) fail(`${PREFIX}statistic: bad value for option "${a}", or out of range (${least}-4294967295).\n\n${TRY}`, 2);
          if (a === '--every') st.every = n;
          else st.packet = n;
        }
        if (negate && a !== '--mode') st.invert = true;
        break;
      }
      case '--src-type': case '--dst-type': case '--limit-iface-in': case '--limit-iface-out': {
        if (!p.modules.includes('addrtype')) usageError(`unknown option "${a}"`);
        let m = p.rule.matches.find((x): x is Extract<RuleMatch, { module: 'addrtype' }> => x.module === 'addrtype');
        if (!m) {
          m = { module: 'addrtype', src: null, dst: null, limitIn: false, limitOut: false };
          p.rule.matches.push(m);
        }
        if (a === '--limit-iface-in') m.limitIn = true;
        else if (a === '--limit-iface-out') m.limitOut = true;
        else {
          const side = a === '--src-type' ? 'src' : 'dst';
          if (m[side]) fail(`${PREFIX}addrtype: option "${a}" can only be used once.\n\n${TRY}`, 2);
          m[side] = { types: parseAddrTypes(need(a)), invert: negate };
        }
        break;
      }
      case '--to-source': case '--to-destination': case '--to-ports': case '--to': case '--reject-with': case '--log-prefix': case '--log-level':
        p.targetArgs[a] = need(a);
        break;
      case '-n': p.numeric = true; break;
      case '-v': p.verbose = true; break;
      case '-x': p.exact = true; break;
      case '--line-numbers': p.lineNumbers = true; break;
      default:
        // A group of short options, as getopt reads it: one that takes an argument takes the rest of the group.
        if (/^-[nvxV]*(?:[LSFZXt].*)?$/.test(a) && a.length > 1) {
          for (let k = 1; k < a.length; k++) {
            const f = a[k]!;
            const rest = a.slice(k + 1);
            if (f === 'n') p.numeric = true;
            else if (f === 'v') p.verbose = true;
            else if (f === 'x') p.exact = true;
            else if (f === 'V') fail('iptables v1.8.9 (nf_tables)', 0);
            else {
              if (f === 't') setTable(rest || need('-t'));
              else takeChain(f as Command, rest || undefined);
              break;
            }
          }
          break;
        }
        if (a.startsWith('-')) usageError(`unknown option "${a}"`);
        fail(`Bad argument \`${a}'\n${TRY}`, 2);
    }
    negate = false;
  }
  for (const module of p.modules) {
    if (module === 'conntrack' && !p.rule.matches.some((m) => m.module === 'conntrack')) usageError('conntrack: At least one option is required');
    if (module === 'statistic') p.rule.matches.push(statisticMatch(p.statistic));
    if (module === 'addrtype' && !p.rule.matches.some((m) => m.module === 'addrtype' && (m.src || m.dst))) usageError('addrtype: you must specify --src-type or --dst-type');
    if (module === 'state' && !p.rule.matches.some((m) => m.module === 'state')) fail(`${PREFIX}state: option "--state" must be specified\n\n${TRY}`, 2);
  }
  // Target options belong to their target.
  const targetOptions: Record<string, string[]> = { '--reject-with': ['REJECT'], '--to-source': ['SNAT'], '--to-destination': ['DNAT'], '--to-ports': ['MASQUERADE', 'REDIRECT'], '--log-prefix': ['LOG'], '--log-level': ['LOG'] };
  for (const option of Object.keys(p.targetArgs)) {
    if (!(targetOptions[option] ?? []).includes(p.jump ?? '')) usageError(`unknown option "${option}"`);
  }
  return p;
}

/** libxt_statistic's final check: the match as the kernel gets it. */
function statisticMatch(st: Parsed['statistic']): StatisticMatch {
  if (!st?.mode) fail(`${PREFIX}statistic: option "--mode" must be specified\n\n${TRY}`, 2);
  const invert = st.invert;
  if (st.mode === 'random') {
    if (st.probability === undefined) usageError('--probability must be specified when using random mode');
    return { module: 'statistic', mode: 'random', probability: Math.round(st.probability * 0x80000000), invert };
  }
  if (st.every === undefined && st.packet === undefined) usageError('--every and --packet must be specified when using nth mode');
  const every = (st.every ?? 1) - 1;
  const packet = st.packet ?? 0;
  if (packet > every) usageError('the --packet p must be 0 <= p <= n-1');
  return { module: 'statistic', mode: 'nth', every, packet, count: every - packet, invert };
}

/** What -L (prefix '') and -S (prefix '--') print for a statistic match. */
function statisticText(m: StatisticMatch, prefix: string): string {
  const inverted = m.invert ? ' !' : '';
  if (m.mode === 'random') return `${prefix}mode random${inverted} ${prefix}probability ${(m.probability / 0x80000000).toFixed(11)}`;
  const packet = m.packet !== 0 || prefix ? ` ${prefix}packet ${m.packet}` : '';
  return `${prefix}mode nth${inverted} ${prefix}every ${m.every + 1}${packet}`;
}

/** Checks a new user chain's name as iptables does. */
function checkChainName(name: string): void {
  if (name.length >= 29) usageError(`chain name \`${name}' too long (must be under 29 chars)`);
  if (['ACCEPT', 'DROP', 'QUEUE', 'RETURN', 'REJECT', 'LOG', 'MASQUERADE', 'SNAT', 'DNAT', 'REDIRECT', 'MARK', 'NFQUEUE'].includes(name)) usageError('chain name may not clash with target name');
  if (name.startsWith('-')) usageError("chain name not allowed to start with `-'");
  if (/\s/.test(name)) usageError(`Invalid chain name \`${name}'`);
}

/** Checks target options and builds the rule's target (iptables' target extensions). */
function resolveTarget(ns: NetNs, p: Parsed): RuleTarget | null {
  const t = p.jump;
  if (t === null) return null;
  if (p.table === 'nat' && (t === 'DROP' || t === 'REJECT')) {
    fail(`${PREFIX}\nThe "nat" table is not intended for filtering, the use of ${t} is therefore inhibited.\n\n\n${TRY}`, 2);
  }
  if (t === 'ACCEPT' || t === 'DROP' || t === 'RETURN') return { kind: t };
  if (t === 'MASQUERADE') {
    const ports = p.targetArgs['--to-ports'];
    if (ports !== undefined && !p.rule.matches.some((m) => m.module === 'tcp' || m.module === 'udp') && !['tcp', 'udp'].includes(p.rule.protocol?.name ?? '')) {
      usageError('Need TCP, UDP, SCTP or DCCP with port specification');
    }
    const range = ports?.split('-').map(Number);
    return { kind: 'MASQUERADE', ports: range ? { from: range[0]!, to: range[1] ?? range[0]! } : null };
  }
  if (t === 'SNAT' || t === 'DNAT') {
    const option = t === 'SNAT' ? '--to-source' : '--to-destination';
    const to = p.targetArgs[option];
    if (to === undefined) fail(`${PREFIX}${t}: option "${option}" must be specified\n\n${TRY}`, 2);
    const [addrText, portText] = to.split(':');
    const [fromText, toText] = addrText!.split('-');
    const addr = parseIpv4Loose(fromText!);
    if (addr === null || fromText!.split('.').length !== 4) usageError(`Bad IP address "${addrText}"`);
    const addrTo = toText === undefined ? null : parseIpv4Loose(toText);
    let portFrom: number | null = null;
    let portTo: number | null = null;
    if (portText !== undefined) {
      const [pf, pt] = portText.split('-');
      for (const port of [pf, pt]) if (port !== undefined && (!/^\d+$/.test(port) || Number(port) > 65535 || Number(port) === 0)) usageError(`Port \`${port}' not valid`);
      // Ports are only translated for a protocol that has them, which the rule's -p must name.
      if (!['tcp', 'udp'].includes(p.rule.protocol?.name ?? '')) usageError('Need TCP, UDP, SCTP or DCCP with port specification');
      portFrom = Number(pf);
      portTo = pt === undefined ? portFrom : Number(pt);
    }
    return { kind: t, to: { addr, addrTo, portFrom, portTo } };
  }
  if (t === 'REJECT') {
    const given = p.targetArgs['--reject-with'] ?? 'icmp-port-unreachable';
    const kind = REJECT_ALIASES[given] ?? given;
    if (!REJECT_TYPES.includes(kind)) usageError(`unknown reject type "${given}"`);
    // The kernel refuses a TCP reset for anything but TCP.
    if (kind === 'tcp-reset' && p.rule.protocol?.name !== 'tcp') fail(`${PREFIX} RULE_APPEND failed (Invalid argument): rule in chain ${p.chain}`, 4);
    return { kind: 'REJECT', with: kind };
  }
  if (t === 'LOG') return { kind: 'LOG', prefix: p.targetArgs['--log-prefix'] ?? null, level: p.targetArgs['--log-level'] ?? null };
  const table = netfilterOf(ns).table(p.table);
  if (table.chains.has(t) && !TABLE_CHAINS[p.table].includes(t as never)) return { kind: p.gotoChain ? 'goto' : 'jump', chain: t };
  usageError(`Chain '${t}' does not exist`);
}

// ---------------------------------------------------------------- printing

function targetName(t: RuleTarget | null): string {
  if (!t) return '';
  return t.kind === 'jump' || t.kind === 'goto' ? t.chain : t.kind;
}

/** Without -n, iptables names 0.0.0.0/0 `anywhere` (and would resolve hosts, which have no names here). */
function addrText(m: AddrMatch | null, numeric: boolean): string {
  if (!m || m.prefixLen === 0) return numeric ? '0.0.0.0/0' : 'anywhere';
  return `${formatIpv4(m.addr)}${m.prefixLen === 32 ? '' : `/${m.prefixLen}`}`;
}

/** The prot column: numbers under -n (iptables-nft), names otherwise. */
function protoText(rule: Rule, numeric: boolean): string {
  const name = rule.protocol?.name ?? 'all';
  return numeric ? (PROTO_NUMBERS[name] ?? name) : name;
}

function portText(port: number, numeric: boolean): string {
  return numeric ? String(port) : (serviceName(port) ?? String(port));
}

function rangeText(kind: 'spt' | 'dpt', m: PortMatch, numeric: boolean): string {
  const single = m.from === m.to;
  const value = single ? portText(m.from, numeric) : `${portText(m.from, numeric)}:${portText(m.to, numeric)}`;
  return `${kind}${single ? '' : 's'}:${m.invert ? '!' : ''}${value}`;
}

/** What -L prints after the addresses: matches, then target options. */
function extrasText(rule: Rule, numeric: boolean): string {
  const parts: string[] = [];
  for (const m of rule.matches) {
    switch (m.module) {
      case 'tcp':
      case 'udp': {
        const ranges = [m.sport && rangeText('spt', m.sport, numeric), m.dport && rangeText('dpt', m.dport, numeric)].filter(Boolean);
        parts.push([m.module, ...ranges].join(' '));
        break;
      }
      case 'icmp':
        if (numeric) parts.push(m.invert ? `icmp !type ${m.type ?? 255}${m.code !== null ? ` code ${m.code}` : ''}` : `icmptype ${m.type ?? 255}${m.code !== null ? ` code ${m.code}` : ''}`);
        else parts.push(`icmp ${m.invert ? '!' : ''}${m.type === null ? 'any' : icmpTypeName(m.type, m.code)}`);
        break;
      case 'conntrack':
        parts.push(`${m.invert ? '! ' : ''}ctstate ${m.states.join(',')}`);
        break;
      case 'state':
        parts.push(`${m.invert ? '! ' : ''}state ${m.states.join(',')}`);
        break;
      case 'multiport':
        parts.push(`multiport ${m.which} ${m.invert ? '! ' : ''}${m.ports.map((port) => portText(port, numeric)).join(',')}`);
        break;
      case 'comment':
        parts.push(`/* ${m.comment} */`);
        break;
      case 'statistic':
        parts.push(`statistic ${statisticText(m, '')}`);
        break;
      case 'addrtype': {
        const side = (name: string, t: AddrTypeMatch | null) => (t ? [`${name} ${t.invert ? '!' : ''}${t.types.join(',')}`] : []);
        const limits = [...(m.limitIn ? ['limit-in'] : []), ...(m.limitOut ? ['limit-out'] : [])];
        parts.push(['ADDRTYPE match', ...side('src-type', m.src), ...side('dst-type', m.dst), ...limits].join(' '));
        break;
      }
    }
  }
  const t = rule.target;
  if (t?.kind === 'SNAT' || t?.kind === 'DNAT') parts.push(`to:${natText(t.to)}`);
  if (t?.kind === 'MASQUERADE' && t.ports) parts.push(`masq ports: ${t.ports.from}${t.ports.to !== t.ports.from ? `-${t.ports.to}` : ''}`);
  if (t?.kind === 'REJECT') parts.push(`reject-with ${t.with}`);
  if (t?.kind === 'LOG') parts.push(`LOG flags 0 level ${t.level ?? 4}${t.prefix !== null ? ` prefix "${t.prefix}"` : ''}`);
  return parts.length ? ' ' + parts.join(' ') : '';
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
  return line + extrasText(rule, o.numeric);
}

function chainHeader(chain: Chain, refs: number, o: ListOptions): string {
  const counts = o.verbose ? ` ${o.exact ? chain.packets : human(chain.packets)} packets, ${o.exact ? chain.bytes : human(chain.bytes)} bytes` : '';
  const title = chain.policy !== null ? `Chain ${chain.name} (policy ${chain.policy}${counts})` : `Chain ${chain.name} (${refs} references)`;
  const num = o.lineNumbers ? 'num  ' : '';
  const columns = o.verbose ? `${o.exact ? '    pkts      bytes' : ' pkts bytes'} target     prot opt in     out     source               destination` : 'target     prot opt source               destination';
  return `${title}\n${num}${columns}\n`;
}

/** xtables_save_string: quoted (with ", \\ and ' escaped) unless all letters, digits, - and _. */
function saveString(value: string): string {
  return /^[-_0-9A-Za-z]+$/.test(value) ? value : `"${value.replace(/["\\']/g, (c) => `\\${c}`)}"`;
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
  if (rule.protocol && rule.protocol.name !== 'all') parts.push(`${neg(rule.protocol)}-p ${rule.protocol.name}`);
  for (const m of rule.matches) {
    switch (m.module) {
      case 'tcp':
      case 'udp': {
        const range = (r: PortMatch) => `${r.from === r.to ? r.from : `${r.from}:${r.to}`}`;
        parts.push(`-m ${m.module}`);
        if (m.sport) parts.push(`${neg(m.sport)}--sport ${range(m.sport)}`);
        if (m.dport) parts.push(`${neg(m.dport)}--dport ${range(m.dport)}`);
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
        parts.push(`-m multiport ${neg(m)}--${m.which} ${m.ports.join(',')}`);
        break;
      case 'comment':
        parts.push(`-m comment --comment ${saveString(m.comment)}`);
        break;
      case 'statistic':
        parts.push(`-m statistic ${statisticText(m, '--')}`);
        break;
      case 'addrtype': {
        const side = (name: string, t: AddrTypeMatch | null) => (t ? [`${neg(t)}--${name} ${t.types.join(',')}`] : []);
        const limits = [...(m.limitIn ? ['--limit-iface-in'] : []), ...(m.limitOut ? ['--limit-iface-out'] : [])];
        parts.push(['-m addrtype', ...side('src-type', m.src), ...side('dst-type', m.dst), ...limits].join(' '));
        break;
      }
    }
  }
  if (counters) parts.push(`-c ${rule.packets} ${rule.bytes}`);
  const t = rule.target;
  if (t) {
    parts.push(`${t.kind === 'goto' ? '-g' : '-j'} ${targetName(t)}`);
    if (t.kind === 'SNAT' || t.kind === 'DNAT') parts.push(`--to-${t.kind === 'SNAT' ? 'source' : 'destination'} ${natText(t.to)}`);
    if (t.kind === 'MASQUERADE' && t.ports) parts.push(`--to-ports ${t.ports.from}${t.ports.to !== t.ports.from ? `-${t.ports.to}` : ''}`);
    if (t.kind === 'REJECT') parts.push(`--reject-with ${t.with}`);
    if (t.kind === 'LOG') {
      if (t.prefix !== null) parts.push(`--log-prefix "${t.prefix}"`);
      if (t.level !== null) parts.push(`--log-level ${t.level}`);
    }
  }
  return parts.join(' ');
}

function sameRule(a: Rule, b: Rule): boolean {
  return ruleSpecOf(a, false) === ruleSpecOf(b, false);
}

// --------------------------------------------------------------- commands

function execute(ctx: ProcContext, ns: NetNs, p: Parsed): number {
  if (p.command === null) usageError('no command specified');
  // Listing looks without creating; everything else brings the table into being.
  const listing = p.command === 'L' || p.command === 'S';
  const nf = netfilterOf(ns);
  const table = listing ? (nf.existingTable(p.table) ?? defaultTable(p.table)) : nf.table(p.table);
  const chain = p.chain !== null ? table.chains.get(p.chain) : undefined;
  const incompatible = (): never => fail(`${PREFIX}chain \`${p.chain}' in table \`${p.table}' is incompatible, use 'nft' tool.`);
  const list: ListOptions = { numeric: p.numeric, verbose: p.verbose, exact: p.exact, lineNumbers: p.lineNumbers };
  switch (p.command) {
    case 'A':
    case 'I':
    case 'R':
    case 'C':
    case 'D': {
      const rule = p.rule;
      if (p.command === 'D' && p.ruleNumber !== null) {
        if (!chain || chain.rules.length === 0) noChain();
        if (p.ruleNumber > chain.rules.length) fail('iptables: Index of deletion too big.');
        chain.rules.splice(p.ruleNumber - 1, 1);
        return 0;
      }
      rule.target = resolveTarget(ns, p);
      if (!chain) noChain();
      // Which interfaces a hook can see.
      if (rule.outIface && (chain.name === 'INPUT' || chain.name === 'PREROUTING')) fail(`${PREFIX}Can't use -o with ${chain.name}\n\n${TRY}`, 2);
      if (rule.inIface && (chain.name === 'OUTPUT' || chain.name === 'POSTROUTING')) fail(`${PREFIX}Can't use -i with ${chain.name}\n\n${TRY}`, 2);
      // The kernel's addrtype check: a hook without that device cannot limit to it.
      const addrtype = rule.matches.find((m) => m.module === 'addrtype');
      const noDevice = addrtype && ((addrtype.limitIn && (chain.name === 'OUTPUT' || chain.name === 'POSTROUTING')) || (addrtype.limitOut && (chain.name === 'PREROUTING' || chain.name === 'INPUT')));
      if (p.command === 'D' || p.command === 'C') {
        const index = chain.rules.findIndex((r) => sameRule(r, rule));
        if (index < 0) fail('iptables: Bad rule (does a matching rule exist in that chain?).');
        if (p.command === 'D') chain.rules.splice(index, 1);
        return 0;
      }
      const natChains = rule.target && { MASQUERADE: ['POSTROUTING'], SNAT: ['POSTROUTING', 'INPUT'], DNAT: ['PREROUTING', 'OUTPUT'] }[rule.target.kind as string];
      if (noDevice || (natChains && (p.table !== 'nat' || (chain.policy !== null && !natChains.includes(chain.name))))) {
        fail(`${PREFIX} RULE_${{ A: 'APPEND', I: 'INSERT', R: 'REPLACE' }[p.command]} failed (Invalid argument): rule in chain ${chain.name}`, 4);
      }
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
      if (!chain) noChain();
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
    return execute(ctx, ctx.ns, parse(argv));
  } catch (e) {
    if (!(e instanceof IptablesError)) throw e;
    (e.code === 0 ? ctx.stdout : ctx.stderr).write(e.message + '\n');
    return e.code;
  }
}

/** iptables-save: every table in use, with chain counters and rules; a table asked for with -t even unused. */
function save(ctx: ProcContext, argv: string[]): number {
  const only = argv.indexOf('-t') >= 0 ? argv[argv.indexOf('-t') + 1] : undefined;
  if (only !== undefined && !TABLE_NAMES.includes(only as TableName)) {
    ctx.stderr.write(`Table \`${only}' does not exist\n`);
    return 1;
  }
  const counters = argv.includes('-c') || argv.includes('--counters');
  const nf = ctx.ns.netfilter;
  const stamp = 'Thu Jan  1 00:00:00 1970';
  for (const name of TABLE_NAMES) {
    if (only !== undefined && only !== name) continue;
    const table = nf?.existingTable(name) ?? (only !== undefined ? defaultTable(name) : undefined);
    if (!table) continue;
    ctx.stdout.write(`# Generated by iptables-save v1.8.9 (nf_tables) on ${stamp}\n*${name}\n`);
    for (const c of listOrder(table)) ctx.stdout.write(`:${c.name} ${c.policy ?? '-'} [${c.packets}:${c.bytes}]\n`);
    for (const c of listOrder(table)) for (const r of c.rules) ctx.stdout.write(`${counters ? `[${r.packets}:${r.bytes}] ` : ''}-A ${c.name}${specSuffix(r, false)}\n`);
    ctx.stdout.write(`COMMIT\n# Completed on ${stamp}\n`);
  }
  return 0;
}

export const iptables = program(run);
export const iptablesSave = program(save);

