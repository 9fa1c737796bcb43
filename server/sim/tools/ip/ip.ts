// `ip`: global options, then an object dispatched through iproute2's table
// with its prefix matching (`ip a`, `ip r`, `ip n`, `ip l`).
import type { NetNs } from '../../kernel/netns';
import type { Proc, ProcContext, Program } from '../process';
import { ipAddress } from './ipaddress';
import { ipLink } from './iplink';
import { ipMaddr } from './ipmaddr';
import { ipNeigh } from './ipneigh';
import { ipNetns } from './ipnetns';
import { ipRoute } from './iproute';
import { ipRule } from './iprule';
import { ipTuntap } from './iptuntap';
import { colorOption, IpExit, matches, namedNetns } from './utils';

export interface IpOptions {
  /** `-4`, `-6`, `-0` (link: devices without their addresses); the last one given wins. */
  family: 'inet' | 'inet6' | 'link' | null;
  /** `-N`: protocols and scopes as numbers. */
  numeric: boolean;
  brief: boolean;
  details: number;
  json: boolean;
  pretty: boolean;
  stats: number;
  /** `-h`: counters in k/M/G (powers of 1024 with `-iec`). */
  human: boolean;
  iec: boolean;
  oneline: boolean;
  /** `-c[olor][=always|auto|never]`; auto is off, as output here is never a terminal's. */
  color: boolean;
  /** `-all`: `ip -all netns exec|delete` act on every named namespace. */
  all: boolean;
  ns: NetNs;
}

export type IpCommand = (ctx: ProcContext, opts: IpOptions, args: string[]) => number | Proc;

const USAGE = `Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }
       ip [ -force ] -batch filename
where  OBJECT := { address | addrlabel | amt | fou | help | ila | ioam | l2tp |
                   link | macsec | maddress | monitor | mptcp | mroute | mrule |
                   neighbor | neighbour | netconf | netns | nexthop | ntable |
                   ntbl | route | rule | sr | tap | tcpmetrics |
                   token | tunnel | tuntap | vrf | xfrm }
       OPTIONS := { -V[ersion] | -s[tatistics] | -d[etails] | -r[esolve] |
                    -h[uman-readable] | -iec | -j[son] | -p[retty] |
                    -f[amily] { inet | inet6 | mpls | bridge | link } |
                    -4 | -6 | -M | -B | -0 |
                    -l[oops] { maximum-addr-flush-attempts } | -br[ief] |
                    -o[neline] | -t[imestamp] | -ts[hort] | -b[atch] [filename] |
                    -rc[vbuf] [size] | -n[etns] name | -N[umeric] | -a[ll] |
                    -c[olor]}
`;

function usage(ctx: ProcContext): number {
  ctx.stderr.write(USAGE);
  return 255;
}

const unsupported: IpCommand = (ctx, _opts, args) => {
  ctx.stderr.write(`ip: this object is not simulated by nslab (${args[0] ?? ''})\n`);
  return 1;
};

/** iproute2's cmds[] in its order: the first keyword the typed word prefixes wins. */
const OBJECTS: Array<[string, IpCommand]> = [
  ['address', ipAddress],
  ['addrlabel', unsupported],
  ['maddress', ipMaddr],
  ['route', ipRoute],
  ['rule', ipRule],
  ['neighbor', ipNeigh],
  ['neighbour', ipNeigh],
  ['ntable', unsupported],
  ['ntbl', unsupported],
  ['link', ipLink],
  ['l2tp', unsupported],
  ['fou', unsupported],
  ['ila', unsupported],
  ['macsec', unsupported],
  ['tunnel', unsupported],
  ['tunl', unsupported],
  ['tuntap', ipTuntap],
  ['tap', ipTuntap],
  ['token', unsupported],
  ['tcpmetrics', unsupported],
  ['tcp_metrics', unsupported],
  ['monitor', unsupported],
  ['xfrm', unsupported],
  ['mroute', unsupported],
  ['mrule', unsupported],
  ['netns', ipNetns],
  ['netconf', unsupported],
  ['vrf', unsupported],
  ['sr', unsupported],
  ['nexthop', unsupported],
  ['mptcp', unsupported],
  ['ioam', unsupported],
  ['help', (ctx) => usage(ctx)],
  ['stats', unsupported],
];

function* runIp(ctx: ProcContext, argv: string[]): Proc {
  const opts: IpOptions = { family: null, numeric: false, brief: false, details: 0, json: false, pretty: false, stats: 0, human: false, iec: false, oneline: false, color: false, all: false, ns: ctx.ns };
  let i = 1;
  try {
    for (; i < argv.length; i++) {
      let opt = argv[i]!;
      if (opt === '--') {
        i++;
        break;
      }
      if (!opt.startsWith('-')) break;
      if (opt.startsWith('--')) opt = opt.slice(1);
      if (matches(opt, '-loops')) i++;
      else if (matches(opt, '-family')) {
        const f = argv[++i];
        if (f === undefined) {
          ctx.stderr.write('Command line is not complete. Try option "help"\n');
          return 255;
        }
        if (f === 'help') return usage(ctx);
        if (f === 'inet' || f === 'inet6' || f === 'link') opts.family = f;
        else if (f !== 'mpls' && f !== 'bridge') {
          ctx.stderr.write(`Error: argument "${f}" is wrong: invalid protocol family\n`);
          return 255;
        }
      } else if (opt === '-4') opts.family = 'inet';
      else if (opt === '-6') opts.family = 'inet6';
      else if (opt === '-0') opts.family = 'link';
      else if (opt === '-M' || opt === '-B') continue;
      else if (matches(opt, '-human') || matches(opt, '-human-readable')) opts.human = true;
      else if (matches(opt, '-iec')) opts.iec = true;
      else if (matches(opt, '-stats') || matches(opt, '-statistics')) opts.stats++;
      else if (matches(opt, '-details')) opts.details++;
      else if (matches(opt, '-resolve')) continue;
      else if (matches(opt, '-oneline')) opts.oneline = true;
      else if (matches(opt, '-timestamp') || matches(opt, '-tshort')) continue;
      else if (matches(opt, '-Version')) {
        ctx.stdout.write('ip utility, iproute2-6.1.0, libbpf 1.1.2\n');
        return 0;
      } else if (matches(opt, '-force')) continue;
      else if (matches(opt, '-batch')) {
        ctx.stderr.write('ip: -batch is not simulated by nslab\n');
        return 1;
      } else if (matches(opt, '-brief')) opts.brief = true;
      else if (matches(opt, '-json')) opts.json = true;
      else if (matches(opt, '-pretty')) opts.pretty = true;
      else if (matches(opt, '-rcvbuf')) i++;
      else if (colorOption(opt) !== null) opts.color = colorOption(opt)!;
      else if (matches(opt, '-help')) return usage(ctx);
      else if (matches(opt, '-netns')) opts.ns = namedNetns(ctx, argv[++i]); else if (matches(opt, '-Numeric')) opts.numeric = true;
      else if (matches(opt, '-all')) opts.all = true;
      else {
        ctx.stderr.write(`Option "${opt}" is unknown, try "ip -help".\n`);
        return 255;
      }
    }
    const object = argv[i];
    if (object === undefined) return usage(ctx);
    const entry = OBJECTS.find(([keyword]) => matches(object, keyword));
    if (!entry) {
      ctx.stderr.write(`Object "${object}" is unknown, try "ip help".\n`);
      return 1;
    }
    const nsCtx: ProcContext = opts.ns === ctx.ns ? ctx : { ...ctx, ns: opts.ns };
    const result = entry[1](nsCtx, opts, argv.slice(i + 1));
    return typeof result === 'number' ? result : yield* result;
  } catch (e) {
    if (e instanceof IpExit) return e.code;
    throw e;
  }
}

export const ip: Program = { run: runIp };
