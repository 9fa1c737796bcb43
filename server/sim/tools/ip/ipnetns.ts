// `ip netns`: named namespaces of one host, listed as /run/netns lists
// them (newest first), with the ids the current namespace gives them.
import { destroyNamespace, createLoopback } from '../../kernel/link';
import { fail } from '../../kernel/errno';
import { NetNs } from '../../kernel/netns';
import type { Proc, ProcContext } from '../process';
import type { IpOptions } from './ip';
import { IpPrinter } from './print';
import { duparg, fatal, invarg, matches, netlinkError, nextArg, parseInteger } from './utils';

const NETNS_USAGE = `Usage:	ip netns list
	ip netns add NAME
	ip netns attach NAME PID
	ip netns set NAME NETNSID
	ip [-all] netns delete [NAME]
	ip netns identify [PID]
	ip netns pids NAME
	ip [-all] netns exec [NAME] cmd ...
	ip netns monitor
	ip netns list-id [target-nsid POSITIVE-INT] [nsid POSITIVE-INT]
NETNSID := auto | POSITIVE-INT
`;

function validName(name: string): boolean {
  return name.length > 0 && !name.includes('/') && name !== '.' && name !== '..';
}

export function addNamespace(ctx: ProcContext, name: string): NetNs | null {
  const host = ctx.host;
  if (host.namespaces.has(name)) return null;
  const ns = new NetNs(host, name, host.world.nextNsSerial());
  createLoopback(ns);
  host.namespaces.set(name, ns);
  return ns;
}

function list(ctx: ProcContext, opts: IpOptions, viewer: NetNs): number {
  const p = IpPrinter.for(opts);
  for (const name of [...ctx.host.namespaces.keys()].reverse()) {
    const id = viewer.nsids.get(ctx.host.namespaces.get(name)!);
    p.openObject();
    p.string('any', 'name', '%s', name);
    if (id !== undefined) p.number('any', 'id', ' (id: %d)', id);
    p.nl();
    p.closeObject();
  }
  ctx.stdout.write(p.finish());
  return 0;
}

/** `ip -all netns exec CMD`: runs in every namespace, newest first, under a heading; always succeeds. */
function* execAll(ctx: ProcContext, argv: string[]): Proc {
  if (argv.length === 0) {
    ctx.stderr.write('No command specified\n');
    return 1;
  }
  for (const name of [...ctx.host.namespaces.keys()].reverse()) {
    ctx.stdout.write(`\nnetns: ${name}\n`);
    ctx.stdout.flush?.();
    yield* ctx.exec(ctx.host.namespaces.get(name)!, argv);
  }
  return 0;
}

function* exec(ctx: ProcContext, args: string[]): Proc {
  const name = args[0];
  if (name === undefined) {
    ctx.stderr.write('No netns name specified\n');
    return 1;
  }
  if (args.length < 2) {
    ctx.stderr.write('No command specified\n');
    return 1;
  }
  const ns = ctx.host.namespaces.get(name);
  if (!ns) {
    ctx.stderr.write(`Cannot open network namespace "${name}": No such file or directory\n`);
    return 255;
  }
  return yield* ctx.exec(ns, args.slice(1));
}

/** `ip netns set NAME NETNSID`: the id the current namespace gives NAME (rtnl_net_newid), `auto` for the lowest free one. */
function setId(ctx: ProcContext, viewer: NetNs, args: string[]): number {
  const [name, value] = args;
  if (name === undefined || value === undefined) {
    ctx.stderr.write(name === undefined ? 'No netns name specified\n' : 'No nsid specified\n');
    return 1;
  }
  const id = value === 'auto' ? null : /^-?\d+$/.test(value) ? Number(value) : invarg(ctx, 'Invalid "netnsid" value\n', value);
  if (id !== null && id < 0) invarg(ctx, '"netnsid" value should be >= 0\n', value);
  const peer = ctx.host.namespaces.get(name);
  if (!peer) {
    ctx.stderr.write(`Cannot open network namespace "${name}": No such file or directory\n`);
    return 1;
  }
  if (viewer.nsids.has(peer)) return netlinkError(ctx, fail('EEXIST', 'Peer netns already has a nsid assigned'));
  if (id === null) viewer.idFor(peer);
  else if ([...viewer.nsids.values()].includes(id)) return netlinkError(ctx, fail('EEXIST', 'The specified nsid is already used'));
  else viewer.nsids.set(peer, id);
  return 0;
}

/**
 * `ip netns list-id [target-nsid T] [nsid N]`: the ids the current namespace
 * (or the one it knows as T) gives its peers; with N, the one peer the
 * current namespace knows by N, and with T too, T's id for it.
 */
function listIds(ctx: ProcContext, opts: IpOptions, viewer: NetNs, args: string[]): number {
  const ids: { 'target-nsid'?: number; nsid?: number } = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a !== 'target-nsid' && a !== 'nsid') fatal(ctx, NETNS_USAGE.trimEnd());
    const v = nextArg(ctx, args, i++);
    if (ids[a] !== undefined) duparg(ctx, a, v);
    const id = parseInteger(v) ?? invarg(ctx, `"${a}" value is invalid`, v);
    if (id < 0) invarg(ctx, `"${a}" value should be >= 0`, v);
    ids[a] = id;
  }
  const byId = (ns: NetNs, id: number) => [...ns.nsids].find(([, known]) => known === id)?.[0];
  const target = ids['target-nsid'] === undefined ? null : byId(viewer, ids['target-nsid']);
  const p = IpPrinter.for(opts);
  const print = (id: number, peer: NetNs, current: number | null) => {
    p.openObject();
    p.number('any', 'nsid', 'nsid %u ', id);
    if (current !== null) p.number('any', 'current-nsid', 'current-nsid %u ', current);
    if (peer.name !== null) p.string('any', 'name', '(iproute2 netns name: %s)', peer.name);
    p.nl();
    p.closeObject();
  };
  if (ids.nsid !== undefined) {
    const peer = byId(viewer, ids.nsid);
    const id = peer && (target ? target.nsids.get(peer) : ids.nsid);
    if (!peer || target === undefined || id === undefined) return netlinkError(ctx, fail('EINVAL', 'Peer netns reference is invalid'));
    print(id, peer, target ? ids.nsid : null);
  } else if (target === undefined) {
    ctx.stderr.write('Error: Invalid target network namespace id.\nDump terminated\n');
    return 1;
  } else {
    for (const [peer, id] of [...(target ?? viewer).nsids].sort((a, b) => a[1] - b[1])) print(id, peer, target ? (viewer.nsids.get(peer) ?? null) : null);
  }
  ctx.stdout.write(p.finish());
  return 0;
}

/** `ip netns delete`: unmounts the name; the namespace goes once no process runs in it. */
function unname(ctx: ProcContext, name: string): void {
  const ns = ctx.host.namespaces.get(name)!;
  ctx.host.namespaces.delete(name);
  if (ns.pids.size === 0) destroyNamespace(ns);
}

/** Checks a namespace name argument as `ip netns add|delete` do; the exit status when it is missing or invalid. */
function nameError(ctx: ProcContext, name: string | undefined): number | null {
  if (name === undefined) {
    ctx.stderr.write('No netns name specified\n');
    return 1;
  }
  if (!validName(name)) {
    ctx.stderr.write(`Invalid netns name "${name}"\n`);
    return 255;
  }
  return null;
}

export function* ipNetns(ctx: ProcContext, opts: IpOptions, args: string[]): Proc {
  const viewer = opts.ns;
  const cmd = args[0];
  const rest = args.slice(1);
  if (cmd === undefined || matches(cmd, 'list') || cmd === 'show' || cmd === 'ls') return list(ctx, opts, viewer);
  if (matches(cmd, 'help')) {
    ctx.stderr.write(NETNS_USAGE);
    return 255;
  }
  if (matches(cmd, 'add')) {
    const name = rest[0];
    const bad = nameError(ctx, name);
    if (bad !== null) return bad;
    if (!addNamespace(ctx, name)) {
      ctx.stderr.write(`Cannot create namespace file "/run/netns/${name}": File exists\n`);
      return 1;
    }
    return 0;
  }
  if (matches(cmd, 'delete') && opts.all && rest.length === 0) {
    for (const name of [...ctx.host.namespaces.keys()]) unname(ctx, name);
    return 0;
  }
  if (matches(cmd, 'delete')) {
    const name = rest[0];
    const bad = nameError(ctx, name);
    if (bad !== null) return bad;
    const ns = ctx.host.namespaces.get(name);
    if (!ns) {
      ctx.stderr.write(`Cannot remove namespace file "/run/netns/${name}": No such file or directory\n`);
      return 1;
    }
    unname(ctx, name);
    return 0;
  }
  if (matches(cmd, 'exec')) return opts.all ? yield* execAll(ctx, rest) : yield* exec(ctx, rest);
  if (matches(cmd, 'identify')) {
    const pid = rest[0];
    if (pid !== undefined) {
      if (!/^\d+$/.test(pid)) {
        ctx.stderr.write(`Specified string '${pid}' is not a pid\n`);
        return 1;
      }
      // The lab runs no processes a pid could name.
      ctx.stderr.write('Cannot open network namespace: No such file or directory\n');
      return 1;
    }
    ctx.stdout.write(`${viewer.name ?? ''}\n`);
    return 0;
  }
  if (matches(cmd, 'set')) return setId(ctx, viewer, rest);
  if (matches(cmd, 'pids')) {
    const name = rest[0];
    if (name === undefined) {
      ctx.stderr.write('No netns name specified\n');
      return 1;
    }
    const ns = ctx.host.namespaces.get(name);
    if (!ns) {
      ctx.stderr.write('Cannot open network namespace: No such file or directory\n');
      return 1;
    }
    for (const pid of [...ns.pids].sort((a, b) => a - b)) ctx.stdout.write(`${pid}\n`);
    return 0;
  }
  if (matches(cmd, 'list-id')) return listIds(ctx, opts, viewer, rest);
  if (matches(cmd, 'attach')) {
    if (rest.length < 2) {
      ctx.stderr.write('No netns name and PID specified\n');
      return 1;
    }
    // The lab runs no processes whose namespace could be named.
    ctx.stderr.write(`Bind /proc/${rest[1]}/ns/net -> /run/netns/${rest[0]} failed: No such file or directory\n`);
    return 1;
  }
  ctx.stderr.write(`Command "${cmd}" is unknown, try "ip netns help".\n`);
  return 255;
}
