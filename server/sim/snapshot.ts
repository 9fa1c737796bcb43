// Snapshots of a lab's engine: a plain JSON value from which an equal,
// independent engine is built, so a lab loads from its last snapshot instead
// of replaying its whole log, and graders run commands on a disposable clone.
//
// What a snapshot holds: the World's whole object graph — the clock, both
// random streams, the serial and sequence counters, the segments, and every
// host with its files, namespaces, devices of every kind, addresses, routing
// tables and rules, neighbours (states, queued packets, timers), proxy
// entries, sysctls, netfilter tables with their counters, conntrack, sockets
// (listening and connected, TCP states) and device statistics — and the
// pending timers, which are data (server/sim/kernel/world.ts). It is taken
// field by field, not by a list of what matters, so a field added to the
// kernel is captured without changes here; an object of a class not listed
// below makes `snapshotLab` throw rather than lose it. For the same reason a
// snapshot restores only on the engine code that took it: a store keeps it
// with that code's version and replays the log when the version differs.
//
// What it cannot hold: programs. Programs are generators, and they reach into
// the kernel through callbacks. A snapshot leaves out background jobs
// (`python3 -m http.server &`, `nc -l … &`), commands in progress, and every
// callback a program attached: a listener's accept, a TCP connection's events,
// a UDP socket's receivers, ping's and traceroute's ICMP sockets, tcpdump's
// taps, the tracers of `explain` and of recorded paths — also those a program
// left behind when it ended (an interrupted `nc -l` leaves its connection's
// events, which would still close it when the peer does). Only a connection
// in TIME-WAIT is the kernel's alone, as in Linux, so its events do not count.
// When anything was left out, `complete` is false and `leftOut` says what.
//
// Only a complete snapshot stands in for a log: restored, the engine then
// prints and does exactly what the original would have. An incomplete one
// gives the kernel's state without the programs, which is what a disposable
// clone (`cloneLab`) needs: sockets stay bound and in their TCP states, a
// listening port still answers a SYN with SYN-ACK and the connection then
// waits in the table, never accepted; data reaching a connection is
// acknowledged and discarded, a peer's FIN leaves it in CLOSE-WAIT, datagrams
// reaching a bound UDP socket are discarded (no port unreachable), echo
// replies reach no ping, and nothing is printed.
//
// Shell sessions (a terminal's namespace after `ip netns exec NS bash`, its
// variables, directory and `$?`) belong to whoever keeps the terminals; given
// to `snapshotLab`, they are held too and come back bound to the restored
// hosts and namespaces.
import { xoroshiro128plus, xoroshiro128plusFromState } from 'pure-rand/generator/xoroshiro128plus';
import { Conntrack } from './kernel/conntrack';
import { Device } from './kernel/device';
import { DEFAULT_RULES } from './kernel/fib';
import { Host } from './kernel/host';
import { bridgeKind } from './kernel/links/bridge';
import { etherKind, Segment } from './kernel/links/ether';
import { ifbKind } from './kernel/links/ifb';
import { loopbackKind } from './kernel/links/loopback';
import { macvlanKind, macvtapKind } from './kernel/links/macvlan';
import { tapKind, tunKind } from './kernel/links/tuntap';
import { vethKind } from './kernel/links/veth';
import { vxlanKind, vxlanReceive } from './kernel/links/vxlan';
import { Netfilter } from './kernel/netfilter';
import { NetNs } from './kernel/netns';
import { SocketTable, TcpSocket } from './kernel/sockets';
import { SysctlTable } from './kernel/sysctl';
import { World } from './kernel/world';
import { Lab } from './lab';
import type { ShellSession } from './tools/process';

/**
 * A value in a snapshot: a JSON primitive as itself; `[n]` the object at
 * `objects[n]` (objects are shared and cyclic, so each is held once); `{ c }`
 * one of the engine's constants (link kinds, the default rules); `{ k }` a
 * number JSON cannot spell or undefined; `{ f: 0 }` a program's callback,
 * restored as one that does nothing.
 */
export type SnapshotValue = string | number | boolean | null | [number] | { c: string } | { k: Special } | { f: 0 };

/** An object: its kind (a kernel class, `Object`, `Array`, `Map`, `Set`, or `Random` for a generator's state) and contents. */
export type SnapshotObject =
  | ['Object' | ClassName, Record<string, SnapshotValue>]
  | ['Array' | 'Set', SnapshotValue[]]
  | ['Map', Array<[SnapshotValue, SnapshotValue]>]
  | ['Random', number[]];

export interface LabSnapshot {
  format: 1;
  /** Whether nothing was running: only then does the restored engine behave exactly as this one would have. */
  complete: boolean;
  /** What was running and is left out, in words (empty when complete). */
  leftOut: string[];
  /** `objects[0]` is the World, `objects[1]` the array of shell sessions. */
  objects: SnapshotObject[];
}

/** The classes a World is made of, by name. */
const CLASSES = { World, Host, NetNs, Device, Segment, SysctlTable, Netfilter, Conntrack, SocketTable, TcpSocket };
type ClassName = keyof typeof CLASSES;

const CLASS_OF_PROTOTYPE = new Map<object, ClassName>(Object.entries(CLASSES).map(([name, cls]) => [cls.prototype, name as ClassName]));

/** xoroshiro128plus's class is not exported; its prototype is known by an instance. */
const RANDOM_PROTOTYPE = Object.getPrototypeOf(xoroshiro128plus(0)) as object;

/** Objects and functions of the engine's code that the World points at: referred to by name, never copied. */
const CONSTANTS = new Map<unknown, string>([
  ...Object.entries({ loopbackKind, etherKind, vethKind, bridgeKind, ifbKind, macvlanKind, macvtapKind, tunKind, tapKind, vxlanKind, vxlanReceive, DEFAULT_RULES }).map(([name, value]) => [value, name] as [unknown, string]),
  ...DEFAULT_RULES.map((rule, i) => [rule, `DEFAULT_RULES.${i}`] as [unknown, string]),
]);
const CONSTANT_BY_NAME = new Map([...CONSTANTS].map(([value, name]) => [name, value]));

/** A field through which programs hook into the kernel: a snapshot holds it empty, and says what it held. */
interface ProgramHook {
  empty(): unknown;
  /** What the field holds for a program, in words; null when nothing. */
  held(value: never, owner: never): string | null;
}

const PROGRAM_HOOKS: Partial<Record<ClassName, Record<string, ProgramHook>>> = {
  World: { tracer: { empty: () => null, held: (tracer: unknown) => (tracer ? 'a packet tracer (explain, or a command recording its path)' : null) } },
  NetNs: { icmpSockets: { empty: () => new Map(), held: (sockets: Map<number, unknown>) => (sockets.size ? `${sockets.size} ICMP socket(s) of ping or traceroute` : null) } },
  SocketTable: { rawTcp: { empty: () => [], held: (raw: unknown[]) => (raw.length ? `${raw.length} raw TCP socket(s) of traceroute -T` : null) } },
  Device: { taps: { empty: () => [], held: (taps: unknown[]) => (taps.length ? `${taps.length} packet capture(s) (tcpdump)` : null) } },
  Conntrack: { watchers: { empty: () => [], held: (watchers: unknown[]) => (watchers.length ? `${watchers.length} conntrack event listener(s) (conntrack -E)` : null) } },
  TcpSocket: {
    events: {
      empty: () => ({}),
      // In TIME-WAIT a connection is the kernel's alone, as in Linux: nothing its events do reaches the kernel.
      held: (events: object, socket: TcpSocket) => (Object.keys(events).length && socket.state !== 'TIME-WAIT' && socket.state !== 'CLOSED' ? `a TCP connection (${socket.state}) of a program` : null),
    },
  },
};

function doNothing(): void {}

type Special = 'undefined' | 'NaN' | 'Infinity' | '-Infinity' | '-0';
const SPECIAL: Record<Special, { k: Special }> = { undefined: { k: 'undefined' }, NaN: { k: 'NaN' }, Infinity: { k: 'Infinity' }, '-Infinity': { k: '-Infinity' }, '-0': { k: '-0' } };
const SPECIAL_VALUE: Record<Special, unknown> = { undefined, NaN, Infinity, '-Infinity': -Infinity, '-0': -0 };
const PROGRAM_CALLBACK = { f: 0 } as const;

/** Takes a snapshot of the lab's engine, and of terminals' sessions on it; see the header for what `complete` means. */
export function snapshotLab(lab: Lab, sessions: readonly ShellSession[] = []): LabSnapshot {
  const index = new Map<object, number>();
  const pending: object[] = [];
  const leftOut = new Map<string, number>();
  const leave = (what: string) => leftOut.set(what, (leftOut.get(what) ?? 0) + 1);

  const value = (v: unknown): SnapshotValue => {
    if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
    if (typeof v === 'number') {
      if (Object.is(v, -0)) return SPECIAL['-0'];
      return Number.isFinite(v) ? v : SPECIAL[String(v) as Special];
    }
    if (v === undefined) return SPECIAL.undefined;
    const constant = CONSTANTS.get(v);
    if (constant !== undefined) return { c: constant };
    if (typeof v === 'function') {
      leave('a callback of a program (a listener, a socket\'s receiver)');
      return PROGRAM_CALLBACK;
    }
    if (typeof v !== 'object') throw new Error(`snapshot: cannot hold a ${typeof v}`);
    let at = index.get(v);
    if (at === undefined) {
      at = pending.length;
      index.set(v, at);
      pending.push(v);
    }
    return [at];
  };

  const fields = (obj: object, hooks?: Record<string, ProgramHook>): Record<string, SnapshotValue> => {
    const out: Record<string, SnapshotValue> = {};
    for (const key of Object.keys(obj)) {
      const v = (obj as Record<string, unknown>)[key];
      const hook = hooks?.[key];
      if (hook) {
        const held = hook.held(v as never, obj as never);
        if (held) leave(held);
        out[key] = value(hook.empty());
      } else out[key] = value(v);
    }
    return out;
  };

  const encode = (obj: object): SnapshotObject => {
    const proto = Object.getPrototypeOf(obj) as object | null;
    if (proto === Object.prototype || proto === null) return ['Object', fields(obj)];
    if (Array.isArray(obj)) return ['Array', obj.map(value)];
    if (obj instanceof Map) return ['Map', [...obj].map(([k, v]) => [value(k), value(v)])];
    if (obj instanceof Set) return ['Set', [...obj].map(value)];
    if (proto === RANDOM_PROTOTYPE) return ['Random', [...(obj as { getState(): readonly number[] }).getState()]];
    const name = CLASS_OF_PROTOTYPE.get(proto);
    if (!name) throw new Error(`snapshot: cannot hold an object of class ${(obj as { constructor?: { name?: string } }).constructor?.name ?? '?'}`);
    return [name, fields(obj, PROGRAM_HOOKS[name])];
  };

  value(lab.world);
  value([...sessions]);
  // Encoding an object may find new ones, which join the end of `pending`.
  const objects: SnapshotObject[] = [];
  for (let i = 0; i < pending.length; i++) objects.push(encode(pending[i]!));

  const commands = lab.runningCommands();
  const daemons = lab.runningDaemons();
  const described = [...leftOut].map(([what, count]) => (count > 1 ? `${what} ×${count}` : what));
  if (commands) described.unshift(`${commands} running command(s)`);
  if (daemons) described.unshift(`${daemons} background job(s)`);
  return { format: 1, complete: described.length === 0, leftOut: described, objects };
}

/** Builds a new engine, sharing nothing with the snapshot or the engine it was taken from. */
export function restoreLab(snapshot: LabSnapshot): Lab {
  return restoreLabWithSessions(snapshot).lab;
}

/** A new engine and the sessions snapshotted with it, in their order. */
export function restoreLabWithSessions(snapshot: LabSnapshot): { lab: Lab; sessions: ShellSession[] } {
  const { objects } = snapshot;
  if (snapshot.format !== 1) throw new Error(`snapshot: unknown format ${String(snapshot.format)}`);
  const shells: unknown[] = objects.map(([kind, contents]) => {
    switch (kind) {
      case 'Object':
        return {};
      case 'Array':
        return [];
      case 'Map':
        return new Map();
      case 'Set':
        return new Set();
      case 'Random':
        return xoroshiro128plusFromState(contents as number[]);
      default:
        return Object.create(CLASSES[kind].prototype) as object;
    }
  });

  const value = (v: SnapshotValue): unknown => {
    if (v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) return shells[v[0]];
    if ('c' in v) {
      if (!CONSTANT_BY_NAME.has(v.c)) throw new Error(`snapshot: unknown constant ${v.c}`);
      return CONSTANT_BY_NAME.get(v.c);
    }
    if ('f' in v) return doNothing;
    return SPECIAL_VALUE[v.k];
  };

  objects.forEach(([kind, contents], i) => {
    const shell = shells[i];
    if (kind === 'Array') for (const v of contents as SnapshotValue[]) (shell as unknown[]).push(value(v));
    else if (kind === 'Set') for (const v of contents as SnapshotValue[]) (shell as Set<unknown>).add(value(v));
    else if (kind === 'Map') for (const [k, v] of contents as Array<[SnapshotValue, SnapshotValue]>) (shell as Map<unknown, unknown>).set(value(k), value(v));
    else if (kind !== 'Random') for (const [key, v] of Object.entries(contents as Record<string, SnapshotValue>)) (shell as Record<string, unknown>)[key] = value(v);
  });

  const [world, sessions] = shells;
  if (!(world instanceof World) || !Array.isArray(sessions)) throw new Error('snapshot: objects[0] is not a World, or objects[1] not the sessions');
  return { lab: new Lab(world), sessions: sessions as ShellSession[] };
}

/** A disposable copy of the lab's kernel, for running commands without touching the lab (programs left out; see the header). */
export function cloneLab(lab: Lab): Lab {
  return restoreLab(snapshotLab(lab));
}
