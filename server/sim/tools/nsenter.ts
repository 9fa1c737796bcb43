// `nsenter` (util-linux 2.38): runs a program in the network namespace of a
// file (/run/netns/NAME, /proc/PID/ns/net) or of a process (-t PID -n); the
// other namespace types are accepted and left as they are.
import type { NetNs } from '../kernel/netns';
import type { Proc, ProcContext, Program } from './process';

const TRY = "Try 'nsenter --help' for more information.";
/** Namespace options, short and long; each takes an optional file, attached (-nFILE, --net=FILE). */
const NAMESPACE_OPTIONS: Record<string, string> = { n: 'net', m: 'mount', u: 'uts', i: 'ipc', p: 'pid', U: 'user', C: 'cgroup', T: 'time' };
/** The order nsenter opens them in (its namespace_files), and the name each has under /proc/PID/ns. */
const OPEN_ORDER: Array<[string, string]> = [['user', 'user'], ['cgroup', 'cgroup'], ['ipc', 'ipc'], ['uts', 'uts'], ['net', 'net'], ['pid', 'pid'], ['mount', 'mnt'], ['time', 'time']];

class NsenterError {
  constructor(
    readonly message: string,
    readonly code = 1,
  ) {}
}

/** The namespace a process runs in: those `ip netns exec` started, and pid 1 in the host's own. */
function namespaceOfPid(ctx: ProcContext, pid: number): NetNs | undefined {
  if (pid === 1) return ctx.host.root;
  return ctx.host.allNamespaces().find((ns) => ns.pids.has(pid));
}

/** What opening a namespace file finds. */
function namespaceOfFile(ctx: ProcContext, path: string): NetNs {
  const named = /^(?:\/var)?\/run\/netns\/([^/]+)$/.exec(path);
  const ns = named ? ctx.host.namespaces.get(named[1]!) : procNamespace(ctx, path);
  if (!ns) throw new NsenterError(`nsenter: cannot open ${path}: No such file or directory`);
  return ns;
}

function procNamespace(ctx: ProcContext, path: string): NetNs | undefined {
  const m = /^\/proc\/(self|\d+)\/ns\/net$/.exec(path);
  if (!m) return undefined;
  return m[1] === 'self' ? ctx.ns : namespaceOfPid(ctx, Number(m[1]));
}

function* run(ctx: ProcContext, argv: string[]): Proc {
  try {
    // The namespaces asked for, each with its file if one was given.
    const wanted = new Map<string, string | null>();
    let target: number | null = null;
    let i = 1;
    // getopt with "+": options stop at the first word that is not one.
    for (; i < argv.length && argv[i]!.startsWith('-') && argv[i] !== '-'; i++) {
      const a = argv[i]!;
      if (a === '--') {
        i++;
        break;
      }
      if (a.startsWith('--')) {
        const [name, value] = a.slice(2).split(/=(.*)/s) as [string, string | undefined];
        if (name === 'target') target = Number(value ?? argv[++i]);
        else if (Object.values(NAMESPACE_OPTIONS).includes(name)) wanted.set(name, value ?? null);
        else throw new NsenterError(`nsenter: unrecognized option '${a}'\n${TRY}`);
        continue;
      }
      const flag = a[1]!;
      const rest = a.slice(2);
      if (flag === 't') target = Number(rest || argv[++i]);
      else if (flag in NAMESPACE_OPTIONS) wanted.set(NAMESPACE_OPTIONS[flag]!, rest || null);
      else throw new NsenterError(`nsenter: invalid option -- '${flag}'\n${TRY}`);
    }
    let ns = ctx.ns;
    for (const [option, procName] of OPEN_ORDER) {
      if (!wanted.has(option)) continue;
      const file = wanted.get(option) ?? (target !== null ? `/proc/${target}/ns/${procName}` : null);
      if (file === null) throw new NsenterError(`nsenter: neither filename nor target pid supplied for ns/${procName}`);
      // Only the network namespace is modelled; the others are entered as they are.
      if (option === 'net') ns = namespaceOfFile(ctx, file);
    }
    // Without a program, the shell.
    const command = argv.length > i ? argv.slice(i) : ['bash'];
    if (!ctx.canExec(command[0]!)) throw new NsenterError(`nsenter: failed to execute ${command[0]}: No such file or directory`, 127);
    return yield* ctx.exec(ns, command);
  } catch (e) {
    if (!(e instanceof NsenterError)) throw e;
    ctx.stderr.write(e.message + '\n');
    return e.code;
  }
}

export const nsenter: Program = { run, flushesStdout: true };
