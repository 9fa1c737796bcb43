// `ip rule`: list, add, delete and flush routing policy rules (iproute2 ip/iprule.c).
import { formatIpv4, inPrefix } from '../../kernel/addr';
import { addRule, deleteRule, RT_TABLE_MAIN, type FibRule, type RuleAction } from '../../kernel/fib';
import type { NetNs } from '../../kernel/netns';
import type { ProcContext } from '../process';
import type { IpCommand, IpOptions } from './ip';
import { parseTableId, parseU32, tableName } from './iproute';
import { IpPrinter } from './print';
import { fatal, invarg, matches, netlinkError, nextArg, parseIpv4Prefix } from './utils';

const RULE_USAGE = `Usage: ip rule { add | del } SELECTOR ACTION
       ip rule { flush | save | restore }
       ip rule [ list [ SELECTOR ]]
SELECTOR := [ not ] [ from PREFIX ] [ to PREFIX ] [ tos TOS ]
            [ fwmark FWMARK[/MASK] ]
            [ iif STRING ] [ oif STRING ] [ pref NUMBER ] [ l3mdev ]
            [ uidrange NUMBER-NUMBER ]
            [ ipproto PROTOCOL ]
            [ sport [ NUMBER | NUMBER-NUMBER ]
            [ dport [ NUMBER | NUMBER-NUMBER ] ]
ACTION := [ table TABLE_ID ]
          [ protocol PROTO ]
          [ nat ADDRESS ]
          [ realms [SRCREALM/]DSTREALM ]
          [ goto NUMBER ]
          SUPPRESSOR
SUPPRESSOR := [ suppress_prefixlength NUMBER ]
              [ suppress_ifgroup DEVGROUP ]
TABLE_ID := [ local | main | default | NUMBER ]`;

/** The rule types rtnl_rtntype_a2n knows that a rule can take as its action. */
const RULE_TYPES: Record<string, RuleAction> = { unicast: 'lookup', blackhole: 'blackhole', unreachable: 'unreachable', prohibit: 'prohibit' };

/** get_prefix; `family` names the one asked for in its error (add and del ask for none, listings for inet). */
function parsePrefix(ctx: ProcContext, family: string, text: string): FibRule['src'] {
  const prefix = parseIpv4Prefix(text);
  if (!prefix) fatal(ctx, `Error: ${family} prefix is expected rather than "${text}".`, 1);
  // 0/0 is no selector at all: `from all`.
  return prefix.prefixLen === 0 ? null : { addr: prefix.addr, prefixLen: prefix.prefixLen };
}

/** The attributes a command line gives; for `del` only these are compared. */
function parseRule(ctx: ProcContext, opts: IpOptions, args: string[]): Partial<FibRule> {
  const rule: Partial<FibRule> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === 'not') rule.invert = true;
    else if (a === 'from' || a === 'to') {
      // `all` gives no prefix, so del compares none either.
      const prefix = parsePrefix(ctx, opts.family ?? 'any valid', nextArg(ctx, args, i++));
      if (prefix) rule[a === 'from' ? 'src' : 'dst'] = prefix;
    } else if (matches(a, 'preference') || matches(a, 'order') || matches(a, 'priority')) {
      const v = nextArg(ctx, args, i++);
      rule.pref = parseU32(v) ?? invarg(ctx, 'preference value is invalid\n', v);
    } else if (a === 'tos' || matches(a, 'dsfield')) {
      const v = nextArg(ctx, args, i++);
      const tos = parseU32(v);
      rule.tos = tos !== null && tos <= 0xff ? tos : invarg(ctx, 'TOS value is invalid\n', v);
    } else if (a === 'fwmark') {
      const [mark, mask] = nextArg(ctx, args, i++).split('/') as [string, string | undefined];
      rule.fwmark = parseU32(mark) ?? invarg(ctx, 'fwmark value is invalid\n', mark);
      if (mask !== undefined) rule.fwmask = parseU32(mask) ?? invarg(ctx, 'fwmask value is invalid\n', mask);
    } else if (matches(a, 'table') || a === 'lookup') {
      const v = nextArg(ctx, args, i++);
      rule.table = parseTableId(v) ?? invarg(ctx, 'invalid table ID\n', v);
    } else if (a === 'dev' || a === 'iif') rule.iif = nextArg(ctx, args, i++);
    else if (a === 'oif') rule.oif = nextArg(ctx, args, i++);
    else {
      const type = a === 'type' ? nextArg(ctx, args, i++) : a;
      if (matches(type, 'help')) fatal(ctx, RULE_USAGE);
      const action = RULE_TYPES[type];
      if (action === undefined) invarg(ctx, 'Failed to parse rule type', type);
      rule.action = action;
    }
  }
  return rule;
}

function ruleAdd(ctx: ProcContext, opts: IpOptions, ns: NetNs, args: string[]): number {
  const given = parseRule(ctx, opts, args);
  const action = given.action ?? 'lookup';
  addRule(ns, {
    invert: given.invert ?? false,
    src: given.src ?? null,
    dst: given.dst ?? null,
    tos: given.tos ?? 0,
    fwmark: given.fwmark ?? null,
    fwmask: given.fwmask ?? null,
    iif: given.iif ?? null,
    oif: given.oif ?? null,
    action,
    // iproute2 asks for the main table when a lookup names none.
    table: given.table ?? (action === 'lookup' ? RT_TABLE_MAIN : 0),
    pref: given.pref ?? null,
  });
  return 0;
}

function ruleDelete(ctx: ProcContext, opts: IpOptions, ns: NetNs, args: string[]): number {
  const result = deleteRule(ns, parseRule(ctx, opts, args));
  return result.ok ? 0 : netlinkError(ctx, result);
}

/** The selectors of `ip rule list` and `flush` (filter_nlmsg): a rule's prefixes must lie within the ones asked for. */
function listFilter(ctx: ProcContext, opts: IpOptions, args: string[]): (rule: FibRule) => boolean {
  const family = opts.family ?? 'inet';
  const want: Partial<FibRule> = {};
  let src: FibRule['src'] | undefined;
  let dst: FibRule['src'] | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (matches(a, 'preference') || matches(a, 'order') || matches(a, 'priority')) {
      const v = nextArg(ctx, args, i++);
      want.pref = parseU32(v) ?? invarg(ctx, 'preference value is invalid\n', v);
    } else if (a === 'not') want.invert = true;
    else if (a === 'fwmark') {
      const v = nextArg(ctx, args, i++);
      want.fwmark = parseU32(v.split('/')[0]!) ?? invarg(ctx, 'fwmark value is invalid\n', v);
    } else if (a === 'dev' || a === 'iif') want.iif = nextArg(ctx, args, i++);
    else if (a === 'oif') want.oif = nextArg(ctx, args, i++);
    else if (matches(a, 'lookup') || matches(a, 'table')) {
      const v = nextArg(ctx, args, i++);
      want.table = parseTableId(v) ?? invarg(ctx, 'table id value is invalid\n', v);
    } else if (matches(a, 'from') || matches(a, 'src')) src = parsePrefix(ctx, family, nextArg(ctx, args, i++));
    else dst = parsePrefix(ctx, family, matches(a, 'dst') || matches(a, 'to') ? nextArg(ctx, args, i++) : a);
  }
  const within = (have: FibRule['src'], asked: FibRule['src'] | undefined) =>
    !asked || (have !== null && have.prefixLen >= asked.prefixLen && inPrefix(have.addr, asked.addr, asked.prefixLen));
  return (rule) =>
    (want.pref === undefined || rule.pref === want.pref) &&
    (!want.invert || rule.invert) &&
    (want.fwmark === undefined || rule.fwmark === want.fwmark) &&
    (want.iif === undefined || rule.iif === want.iif) &&
    (want.oif === undefined || rule.oif === want.oif) &&
    (!want.table || rule.table === want.table) &&
    within(rule.src, src) &&
    within(rule.dst, dst);
}

/** print_rule */
function printRule(p: IpPrinter, rule: FibRule): void {
  const hex = (n: number) => `0x${n.toString(16)}`;
  const prefix = (key: 'src' | 'dst', word: string, sel: FibRule['src']) => {
    if (!sel) return;
    p.string('any', key, `${word} %s`, formatIpv4(sel.addr));
    if (sel.prefixLen !== 32) p.number('any', `${key}len`, '/%u', sel.prefixLen);
    p.fp(' ');
  };
  p.openObject();
  p.number('any', 'priority', '%u:\t', rule.pref);
  if (rule.invert) p.null('not', 'not ');
  if (rule.src) prefix('src', 'from', rule.src);
  else p.string('any', 'src', 'from %s ', 'all');
  prefix('dst', 'to', rule.dst);
  if (rule.tos) p.string('any', 'tos', 'tos %s ', hex(rule.tos));
  if (rule.fwmark !== null || rule.fwmask !== null) {
    p.string('any', 'fwmark', 'fwmark %s', hex(rule.fwmark ?? 0));
    if (rule.fwmask !== null && rule.fwmask !== 0xffffffff) p.string('any', 'fwmask', '/%s', hex(rule.fwmask));
    p.fp(' ');
  }
  if (rule.iif !== null) p.string('any', 'iif', 'iif %s ', rule.iif);
  if (rule.oif !== null) p.string('any', 'oif', 'oif %s ', rule.oif);
  if (rule.action === 'lookup') p.string('any', 'table', 'lookup %s ', tableName(rule.table));
  else p.string('any', 'action', '%s', rule.action);
  p.nl();
  p.closeObject();
}

function ruleList(ctx: ProcContext, opts: IpOptions, ns: NetNs, args: string[]): number {
  const shown = listFilter(ctx, opts, args);
  const p = IpPrinter.for(opts);
  for (const rule of ns.rules) if (shown(rule)) printRule(p, rule);
  ctx.stdout.write(p.finish());
  return 0;
}

/** iproute2 deletes every selected rule it dumps with a priority attribute, which the kernel leaves out for 0. */
function ruleFlush(ctx: ProcContext, opts: IpOptions, ns: NetNs, args: string[]): number {
  const selected = listFilter(ctx, opts, args);
  for (const rule of ns.rules.filter((r) => r.pref !== 0 && selected(r))) deleteRule(ns, rule);
  return 0;
}

export const ipRule: IpCommand = (ctx, opts, args) => {
  const ns = opts.ns;
  const cmd = args[0];
  const rest = args.slice(1);
  if (cmd === undefined || matches(cmd, 'list') || matches(cmd, 'lst') || matches(cmd, 'show')) return ruleList(ctx, opts, ns, rest);
  if (matches(cmd, 'flush')) return ruleFlush(ctx, opts, ns, rest);
  const modify = matches(cmd, 'add') ? 'add' : matches(cmd, 'delete') ? 'del' : null;
  if (modify !== null && rest.length === 0) {
    ctx.stderr.write(`"ip rule ${modify}" requires arguments.\n`);
    return 1;
  }
  if (modify === 'add') return ruleAdd(ctx, opts, ns, rest);
  if (modify === 'del') return ruleDelete(ctx, opts, ns, rest);
  if (matches(cmd, 'help')) fatal(ctx, RULE_USAGE);
  return fatal(ctx, `Command "${cmd}" is unknown, try "ip rule help".`);
};
