// `iptables` and `iptables-save` as iptables 1.8.9 (nf_tables) print them:
// the rule commands, listing with counters, and the tool's own errors.
import { formatIpv4, prefixMask } from '../kernel/addr';
import { netfilterOf, TABLE_CHAINS, type AddrMatch, type Chain, type Rule, type RuleTarget, type TableName, userChainReferences } from '../kernel/netfilter';
import { conntrackOf } from '../kernel/netfilter';
import type { NetNs } from '../kernel/netns';
import { program, type ProcContext, type Program } from './process';
import { parseIpv4Loose } from './ip/utils';

const TRY = "Try `iptables -h' or 'iptables --help' for more information.";
const PREFIX = 'iptables v1.8.9 (nf_tables): ';

class IptablesError {
  constructor(
    readonly message: string,
    readonly code: number,
  ) {}
}

function usageError(message: string): never {
  throw new IptablesError(`${PREFIX}${message}\n${TRY}`, 2);
}

type Command = 'A' | 'I' | 'D' | 'R' | 'F' | 'Z' | 'N' | 'X' | 'P' | 'L' | 'S' | 'E';

interface Parsed {
  table: TableName;
  command: Command | null;
  chain: string | null;
  ruleNumber: number | null;
  policy: string | null;
  newName: string | null;
  rule: Rule;
  jump: string | null;
  numeric: boolean;
  verbose: boolean;
  exact: boolean;
  lineNumbers: boolean;
  targetArgs: Record<string, string>;
}

const LONG: Record<string, string> = {
  '--append': '-A', '--insert': '-I', '--delete': '-D', '--replace': '-R', '--flush': '-F', '--zero': '-Z', '--new-chain': '-N',
  '--delete-chain': '-X', '--policy': '-P', '--list': '-L', '--list-rules': '-S', '--rename-chain': '-E', '--table': '-t',
  '--source': '-s', '--destination': '-d', '--in-interface': '-i', '--out-interface': '-o', '--protocol': '-p', '--jump': '-j',
  '--numeric': '-n', '--verbose': '-v', '--exact': '-x', '--match': '-m', '--goto': '-g',
};

function parseAddr(text: string, negate: boolean): AddrMatch {
  const [addrText, maskText] = text.split('/');
  const addr = parseIpv4Loose(addrText!);
  if (addr === null || addrText!.split('.').length !== 4) usageError(`host/network \`${addrText}' not found`);
  let len = 32;
  if (maskText !== undefined) {
    if (/^\d+$/.test(maskText)) {
      len = Number(maskText);
      if (len > 32) usageError(`invalid mask \`${maskText}' specified`);
    } else usageError(`invalid mask \`${maskText}' specified`);
  }
  return { addr: (addr & prefixMask(len)) >>> 0, prefixLen: len, invert: negate };
}

function parse(argv: string[]): Parsed {
  const p: Parsed = {
    table: 'filter', command: null, chain: null, ruleNumber: null, policy: null, newName: null, jump: null,
    numeric: false, verbose: false, exact: false, lineNumbers: false, targetArgs: {},
    rule: { protocol: null, src: null, dst: null, inIface: null, outIface: null, matches: [], target: null, packets: 0, bytes: 0 },
  };
  let negate = false;
  const setCommand = (c: Command) => {
    if (p.command !== null) usageError(`Cannot use -${c} with -${p.command}`);
    p.command = c;
  };
  for (let i = 1; i < argv.length; i++) {
    let a = argv[i]!;
    if (a.startsWith('--') && LONG[a.split('=')[0]!]) a = LONG[a]!;
    // getopt: a required argument is the next word, whatever it looks like.
    const need = (opt: string) => {
      const v = argv[i + 1];
      if (v === undefined) usageError(`option "${opt}" requires an argument`);
      i++;
      return v;
    };
    const optionalChain = () => {
      const next = argv[i + 1];
      if (next !== undefined && !next.startsWith('-') && p.chain === null) {
        p.chain = next;
        i++;
      }
    };
    switch (a) {
      case '!':
        negate = true;
        continue;
      case '-t': {
        const t = need('-t');
        if (!['filter', 'nat', 'mangle', 'raw'].includes(t)) throw new IptablesError(`${PREFIX}table '${t}' does not exist\nPerhaps iptables or your kernel needs to be upgraded.`, 3);
        p.table = t as TableName;
        break;
      }
      case '-A': case '-D': case '-I': case '-R': case '-N': case '-P': case '-E': {
        setCommand(a[1] as Command);
        p.chain = need(a);
        const next = argv[i + 1];
        if ((a === '-D' || a === '-I' || a === '-R') && next !== undefined && /^\d+$/.test(next)) {
          p.ruleNumber = Number(next);
          i++;
        } else if (a === '-P') p.policy = need(a);
        else if (a === '-E') p.newName = need(a);
        break;
      }
      case '-F': case '-Z': case '-X': case '-L': case '-S':
        setCommand(a[1] as Command);
        optionalChain();
        break;
      case '-V': case '--version':
        throw new IptablesError('iptables v1.8.9 (nf_tables)', 0);
      case '-s': p.rule.src = parseAddr(need('-s'), negate); break;
      case '-d': p.rule.dst = parseAddr(need('-d'), negate); break;
      case '-i': p.rule.inIface = { name: need('-i'), invert: negate }; break;
      case '-o': p.rule.outIface = { name: need('-o'), invert: negate }; break;
      case '-p': {
        const proto = need('-p').toLowerCase();
        if (!['tcp', 'udp', 'icmp', 'all', '0', '6', '17', '1'].includes(proto)) usageError(`unknown protocol "${proto}" specified`);
        p.rule.protocol = { name: proto, invert: negate };
        break;
      }
      case '-j': case '-g': {
        const t = argv[i + 1];
        if (t === undefined) usageError(`option "${a}" requires an argument`);
        i++;
        p.jump = t;
        if (a === '-g') p.targetArgs['goto'] = '1';
        break;
      }
      case '-m': need('-m'); break;
      case '--dport': case '--destination-port': case '--sport': case '--source-port': {
        const v = need(a);
        const proto = p.rule.protocol?.name;
        if (proto !== 'tcp' && proto !== 'udp') usageError(`unknown option "${a}"`);
        const [from, to] = v.split(':').map(Number);
        const pm = { from: from!, to: to ?? from!, invert: negate };
        let m = p.rule.matches.find((x) => x.module === proto) as Extract<Rule['matches'][number], { module: 'tcp' | 'udp' }> | undefined;
        if (!m) {
          m = { module: proto, sport: null, dport: null };
          p.rule.matches.push(m);
        }
        if (a.includes('d')) m.dport = pm; else m.sport = pm;
        break;
      }
      case '--icmp-type': {
        const v = need(a);
        if (p.rule.protocol?.name !== 'icmp' && p.rule.protocol?.name !== '1') usageError(`unknown option "${a}"`);
        const parsed = parseIcmpType(v);
        if (!parsed) usageError(`Invalid ICMP type \`${v}'`);
        p.rule.matches.push({ module: 'icmp', type: parsed.type, code: parsed.code, typeName: v, invert: negate });
        break;
      }
      case '--ctstate': case '--state': {
        const given = need(a).split(',');
        const bad = given.find((s) => !CT_STATE_ORDER.includes(s as never));
        if (bad !== undefined) usageError(`Bad ctstate "${bad}"`);
        const states = CT_STATE_ORDER.filter((s) => given.includes(s));
        p.rule.matches.push({ module: a === '--state' ? 'state' : 'conntrack', states, invert: negate });
        break;
      }
      case '--to-source': case '--to-destination': case '--to-ports': case '--reject-with': case '--log-prefix':
        p.targetArgs[a] = need(a);
        break;
      case '-n': p.numeric = true; break;
      case '-v': p.verbose = true; break;
      case '-x': p.exact = true; break;
      case '--line-numbers': p.lineNumbers = true; break;
      default:
        if (/^-[nvxLSFZX]+$/.test(a)) {
          for (const f of a.slice(1)) {
            if (f === 'n') p.numeric = true;
            else if (f === 'v') p.verbose = true;
            else if (f === 'x') p.exact = true;
            else setCommand(f as Command);
          }
          if (/[LSFZX]/.test(a)) optionalChain();
          break;
        }
        if (a.startsWith('-')) usageError(`unknown option "${a}"`);
        throw new IptablesError(`Bad argument \`${a}'\n${TRY}`, 2);
    }
    negate = false;
  }
  return p;
}

/** The order conntrack and state matches print their states in, whatever order they were given. */
const CT_STATE_ORDER = ['INVALID', 'NEW', 'RELATED', 'ESTABLISHED', 'UNTRACKED'] as const;

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

/** `--icmp-type NAME|TYPE[/CODE]` */
function parseIcmpType(text: string): { type: number | null; code: number | null } | null {
  const named = ICMP_TYPES[text];
  if (named) return { type: named[0] === 255 ? null : named[0], code: named[1] };
  const m = /^(\d+)(?:\/(\d+))?$/.exec(text);
  if (!m || Number(m[1]) > 255 || (m[2] !== undefined && Number(m[2]) > 255)) return null;
  return { type: Number(m[1]), code: m[2] === undefined ? null : Number(m[2]) };
}

/** How `iptables -L` names an ICMP type match (without -n). */
function icmpTypeName(type: number, code: number | null): string {
  const found = Object.entries(ICMP_TYPES).find(([, [t, c]]) => t === type && c === code);
  return found ? found[0] : code === null ? `type ${type}` : `type ${type} code ${code}`;
}

const NAT_TARGET_CHAINS: Record<string, string[]> = { MASQUERADE: ['POSTROUTING'], SNAT: ['POSTROUTING', 'INPUT'], DNAT: ['PREROUTING', 'OUTPUT'] };

function resolveTarget(ns: NetNs, p: Parsed): RuleTarget | null {
  const t = p.jump;
  if (t === null) return null;
  if (t === 'ACCEPT' || t === 'DROP' || t === 'RETURN') return { kind: t };
  if (t === 'MASQUERADE') {
    const ports = p.targetArgs['--to-ports']?.split('-').map(Number);
    return { kind: 'MASQUERADE', ports: ports ? { from: ports[0]!, to: ports[1] ?? ports[0]! } : null };
  }
  if (t === 'SNAT' || t === 'DNAT') {
    const to = p.targetArgs[t === 'SNAT' ? '--to-source' : '--to-destination'];
    if (to === undefined) usageError(`${t}: option "--to-${t === 'SNAT' ? 'source' : 'destination'}" must be specified`);
    const [addrText, portText] = to.split(':');
    const addr = parseIpv4Loose(addrText!);
    const [pf, pt] = portText ? portText.split('-').map(Number) : [null, null];
    return { kind: t, to: { addr, addrTo: null, portFrom: pf ?? null, portTo: pt ?? pf ?? null } };
  }
  if (t === 'REJECT') return { kind: 'REJECT', with: p.targetArgs['--reject-with'] ?? 'icmp-port-unreachable' };
  if (t === 'LOG') return { kind: 'LOG', prefix: p.targetArgs['--log-prefix'] ?? null, level: null };
  const table = netfilterOf(ns).table(p.table);
  if (table.chains.has(t) && !TABLE_CHAINS[p.table].includes(t as never)) return { kind: p.targetArgs['goto'] ? 'goto' : 'jump', chain: t };
  usageError(`Chain '${t}' does not exist`);
}

function targetName(t: RuleTarget | null): string {
  if (!t) return '';
  return t.kind === 'jump' || t.kind === 'goto' ? t.chain : t.kind;
}

/** Without -n, iptables names 0.0.0.0/0 `anywhere` (and would resolve hosts, which have no names here). */
function addrText(m: AddrMatch | null, numeric: boolean): string {
  if (!m || m.prefixLen === 0) return `${m?.invert ? '!' : ''}${numeric ? '0.0.0.0/0' : 'anywhere'}`;
  return `${m.invert ? '!' : ''}${formatIpv4(m.addr)}${m.prefixLen === 32 ? '' : `/${m.prefixLen}`}`;
}

const PROTO_NUMBERS: Record<string, string> = { all: '0', icmp: '1', tcp: '6', udp: '17' };
const PROTO_NAMES: Record<string, string> = { '0': 'all', '1': 'icmp', '6': 'tcp', '17': 'udp' };

/** The prot column: numbers under -n (iptables-nft), names otherwise. */
function protoText(rule: Rule, numeric: boolean): string {
  const name = rule.protocol?.name ?? 'all';
  const text = numeric ? (PROTO_NUMBERS[name] ?? name) : (PROTO_NAMES[name] ?? name);
  return (rule.protocol?.invert ? '!' : '') + text;
}

/** Protocol as `-S` and iptables-save spell it. */
function protoSpec(rule: Rule): string {
  const name = rule.protocol?.name ?? 'all';
  return PROTO_NAMES[name] ?? name;
}

function extrasText(rule: Rule, numeric: boolean): string {
  const parts: string[] = [];
  for (const m of rule.matches) {
    if (m.module === 'icmp') {
      parts.push(numeric ? `icmptype ${m.invert ? '!' : ''}${m.type ?? 'any'}${m.code !== null ? ` code ${m.code}` : ''}` : `icmp ${m.invert ? '!' : ''}${m.type === null ? 'any' : icmpTypeName(m.type, m.code)}`);
      continue;
    }
    if (m.module === 'tcp' || m.module === 'udp') {
      if (m.sport) parts.push(`${m.module} spt:${m.sport.invert ? '!' : ''}${m.sport.from === m.sport.to ? m.sport.from : `${m.sport.from}:${m.sport.to}`}`);
      if (m.dport) parts.push(`${m.module} dpt:${m.dport.invert ? '!' : ''}${m.dport.from === m.dport.to ? m.dport.from : `${m.dport.from}:${m.dport.to}`}`);
    } else if (m.module === 'conntrack') parts.push(`ctstate ${m.invert ? '! ' : ''}${m.states.join(',')}`);
    else if (m.module === 'state') parts.push(`state ${m.invert ? '! ' : ''}${m.states.join(',')}`);
  }
  const t = rule.target;
  if (t?.kind === 'SNAT' || t?.kind === 'DNAT') parts.push(`to:${t.to.addr !== null ? formatIpv4(t.to.addr) : ''}${t.to.portFrom !== null ? `:${t.to.portFrom}${t.to.portTo !== t.to.portFrom ? `-${t.to.portTo}` : ''}` : ''}`);
  if (t?.kind === 'MASQUERADE' && t.ports) parts.push(`masq ports: ${t.ports.from}${t.ports.to !== t.ports.from ? `-${t.ports.to}` : ''}`);
  if (t?.kind === 'REJECT') parts.push(`reject-with ${t.with}`);
  return parts.length ? ' ' + parts.join(' ') : '';
}

function human(n: number, exact: boolean, width: number): string {
  if (exact) return String(n).padStart(width);
  let v = n;
  const units = ['', 'K', 'M', 'G', 'T'];
  let u = 0;
  while (v >= 100000 && u < units.length - 1) {
    v = Math.floor(v / 1000);
    u++;
  }
  return (String(v) + units[u]).padStart(width);
}

function listChain(ctx: ProcContext, chain: Chain, table: TableName, p: Parsed, refs: number): void {
  const out = (s: string) => ctx.stdout.write(s + '\n');
  if (chain.policy !== null) {
    out(`Chain ${chain.name} (policy ${chain.policy}${p.verbose ? ` ${human(chain.packets, p.exact, 0).trim()} packets, ${human(chain.bytes, p.exact, 0).trim()} bytes` : ''})`);
  } else out(`Chain ${chain.name} (${refs} references)`);
  const num = p.lineNumbers ? 'num  ' : '';
  if (p.verbose) out(`${num}${p.exact ? '    pkts      bytes' : ' pkts bytes'} target     prot opt in     out     source               destination`);
  else out(`${num}target     prot opt source               destination`);
  // print_firewall: each field with its inversion mark in front, widths as iptables pads them.
  chain.rules.forEach((rule, index) => {
    let line = p.lineNumbers ? `${String(index + 1).padEnd(4)} ` : '';
    if (p.verbose) line += p.exact ? `${String(rule.packets).padStart(8)} ${String(rule.bytes).padStart(8)} ` : `${human(rule.packets, false, 5)} ${human(rule.bytes, false, 5)} `;
    line += `${targetName(rule.target).padEnd(9)} `;
    line += (rule.protocol?.invert ? '!' : ' ') + protoText(rule, p.numeric).replace(/^!/, '').padEnd(5);
    line += '-- ';
    if (p.verbose) {
      const anyIface = p.numeric ? '*' : 'any';
      const iface = (m: Rule['inIface']) => ((m?.invert ? '!' : '') + (m?.name ?? anyIface)).padEnd(6);
      line += ` ${iface(rule.inIface)} ${iface(rule.outIface)} `;
    }
    line += (rule.src?.invert ? '!' : ' ') + addrText(rule.src, p.numeric).replace(/^!/, '').padEnd(19) + ' ';
    line += (rule.dst?.invert ? '!' : ' ') + addrText(rule.dst, p.numeric).replace(/^!/, '').padEnd(19) + ' ';
    out(line + extrasText(rule, p.numeric));
  });
}

export function ruleSpec(rule: Rule): string {
  const parts: string[] = [];
  const neg = (m: { invert: boolean }) => (m.invert ? '! ' : '');
  if (rule.src) parts.push(`${neg(rule.src)}-s ${formatIpv4(rule.src.addr)}/${rule.src.prefixLen}`);
  if (rule.dst) parts.push(`${neg(rule.dst)}-d ${formatIpv4(rule.dst.addr)}/${rule.dst.prefixLen}`);
  if (rule.inIface) parts.push(`${neg(rule.inIface)}-i ${rule.inIface.name}`);
  if (rule.outIface) parts.push(`${neg(rule.outIface)}-o ${rule.outIface.name}`);
  if (rule.protocol && protoSpec(rule) !== 'all') parts.push(`${neg(rule.protocol)}-p ${protoSpec(rule)}`);
  for (const m of rule.matches) {
    if (m.module === 'icmp') {
      parts.push(`-m icmp ${neg(m)}--icmp-type ${m.type ?? 'any'}${m.code !== null ? `/${m.code}` : ''}`);
      continue;
    }
    if (m.module === 'tcp' || m.module === 'udp') {
      parts.push(`-m ${m.module}`);
      if (m.sport) parts.push(`${neg(m.sport)}--sport ${m.sport.from}${m.sport.to !== m.sport.from ? `:${m.sport.to}` : ''}`);
      if (m.dport) parts.push(`${neg(m.dport)}--dport ${m.dport.from}${m.dport.to !== m.dport.from ? `:${m.dport.to}` : ''}`);
    } else if (m.module === 'conntrack') parts.push(`-m conntrack ${neg(m)}--ctstate ${m.states.join(',')}`);
    else if (m.module === 'state') parts.push(`-m state ${neg(m)}--state ${m.states.join(',')}`);
  }
  const t = rule.target;
  if (t) {
    parts.push(`-j ${targetName(t)}`);
    if (t.kind === 'SNAT' || t.kind === 'DNAT') parts.push(`--to-${t.kind === 'SNAT' ? 'source' : 'destination'} ${t.to.addr !== null ? formatIpv4(t.to.addr) : ''}${t.to.portFrom !== null ? `:${t.to.portFrom}${t.to.portTo !== t.to.portFrom ? `-${t.to.portTo}` : ''}` : ''}`);
    if (t.kind === 'MASQUERADE' && t.ports) parts.push(`--to-ports ${t.ports.from}${t.ports.to !== t.ports.from ? `-${t.ports.to}` : ''}`);
    if (t.kind === 'REJECT') parts.push(`--reject-with ${t.with}`);
  }
  return parts.join(' ');
}

function sameRule(a: Rule, b: Rule): boolean {
  return ruleSpec(a) === ruleSpec(b);
}

function run(ctx: ProcContext, argv: string[]): number {
  const ns = ctx.ns;
  let p: Parsed;
  try {
    p = parse(argv);
    return execute(ctx, ns, p);
  } catch (e) {
    if (!(e instanceof IptablesError)) throw e;
    (e.code === 0 ? ctx.stdout : ctx.stderr).write(e.message + '\n');
    return e.code;
  }
}

function execute(ctx: ProcContext, ns: NetNs, p: Parsed): number {
  if (p.command === null) usageError('no command specified');
  const nf = netfilterOf(ns);
  const table = nf.table(p.table);
  const chain = p.chain !== null ? table.chains.get(p.chain) : undefined;
  const noChain = () => new IptablesError('iptables: No chain/target/match by that name.', 1);
  switch (p.command) {
    case 'A':
    case 'I':
    case 'R':
    case 'D': {
      if (!chain) throw noChain();
      if (p.command === 'D' && p.ruleNumber !== null) {
        if (p.ruleNumber < 1 || p.ruleNumber > chain.rules.length) throw p.ruleNumber > chain.rules.length && chain.rules.length > 0 ? new IptablesError('iptables: Index of deletion too big.', 1) : noChain();
        chain.rules.splice(p.ruleNumber - 1, 1);
        return 0;
      }
      const rule = p.rule;
      rule.target = resolveTarget(ns, p);
      if (p.command === 'D') {
        const idx = chain.rules.findIndex((r) => sameRule(r, rule));
        if (idx < 0) throw new IptablesError('iptables: Bad rule (does a matching rule exist in that chain?).', 1);
        chain.rules.splice(idx, 1);
        return 0;
      }
      const allowed = rule.target && NAT_TARGET_CHAINS[rule.target.kind];
      if (allowed && (p.table !== 'nat' || (chain.policy !== null && !allowed.includes(chain.name)))) {
        throw new IptablesError(`${PREFIX} RULE_${p.command === 'A' ? 'APPEND' : p.command === 'I' ? 'INSERT' : 'REPLACE'} failed (Invalid argument): rule in chain ${chain.name}`, 4);
      }
      if (p.command === 'A') chain.rules.push(rule);
      else if (p.command === 'I') {
        const at = (p.ruleNumber ?? 1) - 1;
        if (at > chain.rules.length) throw new IptablesError('iptables: Index of insertion too big.', 1);
        chain.rules.splice(at, 0, rule);
      } else {
        const at = (p.ruleNumber ?? 0) - 1;
        if (at < 0 || at >= chain.rules.length) throw new IptablesError('iptables: Index of replacement too big.', 1);
        chain.rules[at] = rule;
      }
      if (nf.needsConntrack()) conntrackOf(ns);
      return 0;
    }
    case 'F':
    case 'Z': {
      if (p.chain !== null && !chain) throw noChain();
      for (const c of chain ? [chain] : table.chains.values()) {
        if (p.command === 'F') c.rules = [];
        else {
          c.packets = c.bytes = 0;
          for (const r of c.rules) r.packets = r.bytes = 0;
        }
      }
      return 0;
    }
    case 'N':
      if (table.chains.has(p.chain!)) throw new IptablesError('iptables: Chain already exists.', 1);
      table.chains.set(p.chain!, { name: p.chain!, policy: null, rules: [], packets: 0, bytes: 0 });
      return 0;
    case 'X': {
      const doomed = p.chain !== null ? [p.chain] : [...table.chains.values()].filter((c) => c.policy === null).map((c) => c.name);
      for (const name of doomed) {
        const c = table.chains.get(name);
        if (!c || c.policy !== null) throw noChain();
        if (userChainReferences(table, name) > 0) throw new IptablesError('iptables: Too many links.', 1);
        table.chains.delete(name);
      }
      return 0;
    }
    case 'E':
      if (!chain) throw noChain();
      table.chains.delete(chain.name);
      chain.name = p.newName!;
      table.chains.set(chain.name, chain);
      return 0;
    case 'P':
      if (!chain || chain.policy === null) throw new IptablesError(`iptables: Bad built-in chain name.`, 1);
      if (p.policy !== 'ACCEPT' && p.policy !== 'DROP') throw new IptablesError('iptables: Bad policy name. Run `dmesg\' for more information.', 1);
      // Setting a policy gives it a fresh counter.
      chain.policy = p.policy;
      chain.policyCounted = true;
      chain.packets = chain.bytes = 0;
      return 0;
    case 'L': {
      if (p.chain !== null && !chain) throw new IptablesError(`${PREFIX}chain \`${p.chain}' in table \`${p.table}' is incompatible, use 'nft' tool.`, 1);
      const chains = chain ? [chain] : [...table.chains.values()];
      chains.forEach((c, i) => {
        if (i > 0) ctx.stdout.write('\n');
        listChain(ctx, c, p.table, p, userChainReferences(table, c.name));
      });
      return 0;
    }
    case 'S': {
      if (p.chain !== null && !chain) throw new IptablesError(`${PREFIX}chain \`${p.chain}' in table \`${p.table}' is incompatible, use 'nft' tool.`, 1);
      const chains = chain ? [chain] : [...table.chains.values()];
      for (const c of chains) ctx.stdout.write(c.policy !== null ? `-P ${c.name} ${c.policy}\n` : `-N ${c.name}\n`);
      for (const c of chains) for (const r of c.rules) ctx.stdout.write(`-A ${c.name}${ruleSpec(r) ? ' ' + ruleSpec(r) : ''}\n`);
      return 0;
    }
  }
}

export const iptables: Program = program(run);
