// `ip tuntap` (iproute2 ip/iptuntap.c): persistent tun and tap devices, made
// and removed through the TUNSETIFF ioctl on /dev/net/tun.
import { fail, OK, STRERROR, type KResult } from '../../kernel/errno';
import { createLink, deleteLink, validDeviceName } from '../../kernel/link';
import { tapKind, tunKind } from '../../kernel/links/tuntap';
import type { NetNs } from '../../kernel/netns';
import type { ProcContext } from '../process';
import type { IpOptions } from './ip';
import { duparg2, fatal, invarg, matches, nextArg } from './utils';

const USAGE = `Usage: ip tuntap { add | del | show | list | lst | help } [ dev PHYS_DEV ]
       [ mode { tun | tap } ] [ user USER ] [ group GROUP ]
       [ one_queue ] [ pi ] [ vnet_hdr ] [ multi_queue ] [ name NAME ]

Where: USER  := { STRING | NUMBER }
       GROUP := { STRING | NUMBER }`;

const MODES = { tun: tunKind, tap: tapKind };
type Mode = keyof typeof MODES;

interface TuntapRequest {
  name: string | null;
  mode: Mode | null;
}

function parseArgs(ctx: ProcContext, args: string[]): TuntapRequest {
  const req: TuntapRequest = { name: null, mode: null };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (matches(a, 'mode')) {
      const v = nextArg(ctx, args, i++);
      const mode = matches(v, 'tun') ? 'tun' : matches(v, 'tap') ? 'tap' : null;
      if (mode === null) fatal(ctx, `Unknown tunnel mode "${v}"`);
      if (req.mode !== null && req.mode !== mode) fatal(ctx, 'You managed to ask for more than one tunnel mode.');
      req.mode = mode;
    } else if (a === 'user' || matches(a, 'group')) nextArg(ctx, args, i++);
    else if (['one_queue', 'pi', 'vnet_hdr', 'multi_queue'].some((flag) => matches(a, flag))) continue;
    else if (matches(a, 'dev')) {
      const v = nextArg(ctx, args, i++);
      if (!validDeviceName(v)) invarg(ctx, '"dev" not a valid ifname', v);
      req.name = v;
    } else {
      let v = a;
      if (matches(a, 'name')) v = nextArg(ctx, args, i++);
      else if (matches(a, 'help')) fatal(ctx, USAGE);
      if (req.name !== null) duparg2(ctx, 'name', v);
      if (!validDeviceName(v)) invarg(ctx, '"name" not a valid ifname', v);
      req.name = v;
    }
  }
  return req;
}

/** TUNSETIFF with IFF_TUN_EXCL, then TUNSETPERSIST: a new device, never an existing one. */
function tuntapAdd(ns: NetNs, name: string | null, mode: Mode): KResult {
  if (name !== null && ns.device(name)) return fail('EBUSY');
  const created = createLink(ns, MODES[mode], name ?? `${mode}%d`);
  return created.ok ? OK : created;
}

/**
 * TUNSETIFF attaches to the device, which must be of the mode asked for, and
 * clearing persistence removes it once the descriptor closes. A name nothing
 * has yet gets a device made and removed again (it uses up an ifindex).
 */
function tuntapDel(ns: NetNs, name: string | null, mode: Mode): KResult {
  const existing = name === null ? undefined : ns.device(name);
  if (existing) return existing.kind === MODES[mode] ? deleteLink(existing) : fail('EINVAL');
  const created = createLink(ns, MODES[mode], name ?? `${mode}%d`);
  return created.ok ? deleteLink(created.value) : created;
}

function run(ctx: ProcContext, ns: NetNs, args: string[], action: typeof tuntapAdd): number {
  const req = parseArgs(ctx, args);
  if (req.mode === null) {
    ctx.stderr.write('You failed to specify a tunnel mode\n');
    return 1;
  }
  const r = action(ns, req.name, req.mode);
  if (r.ok) return 0;
  ctx.stderr.write(`ioctl(TUNSETIFF): ${STRERROR[r.errno]}\n`);
  return 1;
}

export function ipTuntap(ctx: ProcContext, opts: IpOptions, args: string[]): number {
  const cmd = args[0];
  const rest = args.slice(1);
  if (cmd !== undefined && matches(cmd, 'add')) return run(ctx, opts.ns, rest, tuntapAdd);
  if (cmd !== undefined && matches(cmd, 'delete')) return run(ctx, opts.ns, rest, tuntapDel);
  if (cmd === undefined || ['show', 'lst', 'list'].some((keyword) => matches(cmd, keyword))) {
    // It reads each device's flags from sysfs, which the lab machines do not have.
    ctx.stderr.write('nslab: ip tuntap show is not simulated\n');
    return 1;
  }
  if (matches(cmd, 'help')) fatal(ctx, USAGE);
  return fatal(ctx, `Command "${cmd}" is unknown, try "ip tuntap help".`);
}
