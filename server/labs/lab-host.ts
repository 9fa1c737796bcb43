// One lab in memory: the engine built from the lab's world, driven by its log.
//
// Everything that changes the simulation is a log entry, and `apply` is the
// only way in, used alike for live entries (just made durable) and for
// entries replayed when the lab loads. Commands are stepped by one scheduler
// on the lab's single simulated clock, so several commands running at once
// (a streaming ping while someone types `ip link`) interleave the same way on
// every replay.
import type { ActivityEntry, PacketPath, TerminalState } from '../../shared/protocol';
import { THINK_TIME_US, type Lab, type RunningCommand } from '../sim/lab';
import { currentNs } from '../sim/tools/shell';
import type { ShellSession } from '../sim/tools/process';
import { restoreLabWithSessions, snapshotLab, type LabSnapshot } from '../sim/snapshot';
import { formatEntry } from '../sim/transcript';
import { buildLab, parseWorld, type WorldSpec } from '../sim/world-file';
import type { ExecEntry, LabRecord, LogEntry } from '../store/types';
import { countObjects, type ObjectCounts } from './projection';
import { StateDoc } from './state-doc';

export interface CommandRecord {
  seq: number;
  entry: ExecEntry;
  /** Namespace of the terminal when the command started, and when it ended. */
  nsBefore: string | null;
  nsAfter: string | null;
  startUs: number;
  endUs: number | null;
  output: string;
  exitCode: number | null;
  interrupted: boolean;
  /** Where the command's packets went, once it has ended. */
  packets: PacketPath;
}

export interface LabEvents {
  output(record: CommandRecord, text: string): void;
  exit(record: CommandRecord): void;
}

/** What `snapshot` writes: the engine with the terminals' sessions, and what the lab host adds. */
interface SavedHost {
  engine: LabSnapshot;
  /** Terminal keys and histories, in the order of the sessions held in `engine`. */
  terminals: Array<{ key: string; history: string[] }>;
  records: CommandRecord[];
  lastSeq: number;
  /** The state document (Y.encodeStateAsUpdate), base64; null from a host without one, which restores only as such. */
  state: string | null;
}

interface Terminal {
  session: ShellSession;
  history: string[];
}

interface RunningRecord {
  record: CommandRecord;
  command: RunningCommand;
  session: ShellSession;
}

/** A command that sent no packets, or has not ended. */
const NO_PACKETS: PacketPath = { path: null, drop: null };

const ENGINE_FAILURE = 'nslab: the simulator failed on this command\n';

export class LabHost {
  readonly spec: WorldSpec;
  readonly engine: Lab;
  /** The state document, unless the host was built without one (a disposable copy). */
  private readonly projection: StateDoc | null;
  /** The snapshot this host was restored from, if any: with `log`, all it takes to build it again. */
  readonly base: string | undefined;
  /** The entry that snapshot was taken at; 0 when built from the world. */
  readonly restoredAt: number = 0;
  /** Every entry applied since (entries restoredAt+1 … lastSeq), in order. */
  readonly log: LogEntry[] = [];
  lastSeq = 0;
  events: LabEvents | null = null;
  private readonly running = new Map<number, RunningRecord>();
  private readonly records = new Map<number, CommandRecord>();
  private readonly byClientId = new Map<string, CommandRecord>();
  private readonly terminals = new Map<string, Terminal>();
  private finishedSinceUpdate: CommandRecord[] = [];

  /**
   * The lab as its world starts, or as `saved` (from `snapshot`) left it;
   * without a state document unless `projected` (disposable copies need none).
   */
  constructor(
    readonly record: LabRecord,
    options: { saved?: string; projected?: boolean } = {},
  ) {
    this.spec = parseWorld(record.world);
    const projected = options.projected ?? true;
    this.base = options.saved;
    if (options.saved === undefined) {
      this.engine = buildLab(this.spec, record.seed);
      this.projection = projected ? new StateDoc(record.title, this.spec.name) : null;
      this.projection?.update(this.engine.world, [], []);
      return;
    }
    const host = JSON.parse(options.saved) as SavedHost;
    const { lab, sessions } = restoreLabWithSessions(host.engine);
    this.engine = lab;
    if (projected && host.state === null) throw new Error(`lab ${record.id}: this snapshot was taken without a state document`);
    this.projection = projected ? new StateDoc(record.title, this.spec.name, Buffer.from(host.state!, 'base64')) : null;
    this.lastSeq = this.restoredAt = host.lastSeq;
    host.terminals.forEach(({ key, history }, i) => this.terminals.set(key, { session: sessions[i]!, history }));
    for (const record of host.records) {
      this.records.set(record.seq, record);
      if (record.entry.cid !== null) this.byClientId.set(`${record.entry.who}\n${record.entry.cid}`, record);
    }
  }

  get state(): StateDoc {
    if (!this.projection) throw new Error(`lab ${this.record.id}: this copy has no state document`);
    return this.projection;
  }

  /**
   * Everything the log has built so far, as JSON, when nothing is running
   * and the engine can be captured whole (no background job); null otherwise.
   */
  snapshot(): string | null {
    if (this.running.size > 0) return null;
    const terminals = [...this.terminals];
    const engine = snapshotLab(
      this.engine,
      terminals.map(([, t]) => t.session),
    );
    if (!engine.complete) return null;
    const saved: SavedHost = {
      engine,
      terminals: terminals.map(([key, t]) => ({ key, history: t.history })),
      records: [...this.records.values()],
      lastSeq: this.lastSeq,
      state: this.projection && Buffer.from(this.projection.encode()).toString('base64'),
    };
    return JSON.stringify(saved);
  }

  get now(): number {
    return this.engine.world.now;
  }

  get hosts(): string[] {
    return [...this.engine.world.hosts.keys()];
  }

  counts(): ObjectCounts {
    return countObjects(this.engine.world);
  }

  /** When the earliest running command next needs the clock, or Infinity. */
  nextWakeAt(): number {
    let next = Infinity;
    for (const { command } of this.running.values()) next = Math.min(next, command.wakeAt);
    return next;
  }

  runningCount(): number {
    return this.running.size;
  }

  runningCommands(): CommandRecord[] {
    return [...this.running.values()].map(({ record }) => record);
  }

  command(seq: number): CommandRecord | undefined {
    return this.records.get(seq);
  }

  /** The command a participant sent with this client id, if any. */
  byClient(participant: string, cid: string): CommandRecord | undefined {
    return this.byClientId.get(`${participant}\n${cid}`);
  }

  isRunning(seq: number): boolean {
    return this.running.has(seq);
  }

  /** The host a participant's terminal lives on, if the terminal exists. */
  terminalHost(participant: string, terminal: string): string | undefined {
    return this.terminals.get(`${participant}\n${terminal}`)?.session.host.name;
  }

  terminalsOf(participant: string): TerminalState[] {
    const prefix = `${participant}\n`;
    return [...this.terminals]
      .filter(([key]) => key.startsWith(prefix))
      .map(([key, t]) => ({ terminal: key.slice(prefix.length), host: t.session.host.name, ns: currentNs(t.session).name, history: [...t.history] }));
  }

  apply(entry: LogEntry): void {
    // Entries apply at their recorded time. A newer engine may have finished
    // an earlier command later than the one that wrote the log; the clock
    // never runs backwards, so such an entry applies at once.
    this.advanceTo(Math.max(entry.at, this.now));
    if (entry.kind === 'exec') this.start(entry);
    else if (entry.kind === 'interrupt') this.interrupt(entry.target);
    else this.advanceTo(entry.to);
    this.lastSeq = entry.seq;
    this.log.push(entry);
    this.updateState();
  }

  private start(entry: ExecEntry): void {
    let session: ShellSession;
    let nsBefore: string | null = null;
    if (entry.terminal === null) session = this.newSession(entry.host);
    else {
      const key = `${entry.who}\n${entry.terminal}`;
      let terminal = this.terminals.get(key);
      if (!terminal) {
        terminal = { session: this.newSession(entry.host), history: [] };
        this.terminals.set(key, terminal);
      }
      terminal.history.push(entry.line);
      session = terminal.session;
      nsBefore = currentNs(session).name;
    }
    const record: CommandRecord = { seq: entry.seq, entry, nsBefore, nsAfter: null, startUs: this.now, endUs: null, output: '', exitCode: null, interrupted: false, packets: NO_PACKETS };
    session.lastPath = undefined;
    this.records.set(record.seq, record);
    if (entry.cid !== null) this.byClientId.set(`${entry.who}\n${entry.cid}`, record);
    const onOutput = (text: string) => {
      record.output += text;
      this.events?.output(record, text);
    };
    let command: RunningCommand;
    try {
      command = this.engine.start(entry.host, entry.line, { session, interactive: entry.terminal !== null, interruptAfterUs: entry.limitUs, onOutput });
    } catch (e) {
      this.failed(record, e);
      return;
    }
    const running = { record, command, session };
    this.running.set(entry.seq, running);
    this.settle(running);
    if (entry.mode === 'run') {
      while (this.running.has(entry.seq)) this.advanceTo(command.wakeAt);
    }
  }

  /** A shell whose packets' paths are drawn on the diagram. */
  private newSession(host: string): ShellSession {
    return { ...this.engine.newSession(host), recordPaths: true };
  }

  private interrupt(target: number): void {
    const running = this.running.get(target);
    if (!running) return;
    running.record.interrupted = true;
    try {
      running.command.interrupt();
    } catch (e) {
      this.running.delete(target);
      this.failed(running.record, e);
      return;
    }
    this.settle(running);
  }

  /**
   * Moves the clock to `target`, stepping every running command at the
   * simulated times it asked for, in the order they started.
   */
  private advanceTo(target: number): void {
    // The engine's clock also runs network events and background jobs on the way.
    const clock = this.engine;
    for (;;) {
      const next = this.nextWakeAt();
      if (next > target) break;
      clock.advance(Math.max(next, clock.now));
      for (const running of [...this.running.values()]) {
        if (running.command.wakeAt > clock.now) continue;
        try {
          running.command.advanceTo(clock.now);
        } catch (e) {
          this.running.delete(running.record.seq);
          this.failed(running.record, e);
          continue;
        }
        this.settle(running);
      }
    }
    clock.advance(target);
  }

  /** Records a command's end once the engine reports it. */
  private settle(running: RunningRecord): void {
    const result = running.command.done;
    if (!result) return;
    this.running.delete(running.record.seq);
    running.record.packets = running.session.lastPath ?? NO_PACKETS;
    this.finish(running.record, result.exitCode);
  }

  private failed(record: CommandRecord, error: unknown): void {
    console.error(`lab ${this.record.id}: command ${record.seq} (${JSON.stringify(record.entry.line)}) failed in the simulator:`, error);
    record.output += ENGINE_FAILURE;
    this.events?.output(record, ENGINE_FAILURE);
    this.finish(record, 1);
  }

  private finish(record: CommandRecord, exitCode: number): void {
    record.exitCode = exitCode;
    record.endUs = this.now;
    this.finishedSinceUpdate.push(record);
    // The pause a person takes before typing the next command, as in `replay`.
    if (this.running.size === 0) this.engine.advance(this.now + THINK_TIME_US);
    const terminal = record.entry.terminal === null ? undefined : this.terminals.get(`${record.entry.who}\n${record.entry.terminal}`);
    record.nsAfter = terminal ? currentNs(terminal.session).name : null;
  }

  /** Projects the engine into the state document, then reports finished commands, so a client told of an exit already has its effect. */
  private updateState(): void {
    const finished = this.finishedSinceUpdate;
    this.finishedSinceUpdate = [];
    if (this.projection) {
      const running = [...this.running.values()].map(({ record }) => activityView(record));
      this.projection.update(this.engine.world, running, finished.map(activityView));
    }
    for (const record of finished) this.events?.exit(record);
  }

  /** Every finished command with its output, in the order they started (docs/API.md). */
  transcript(): string {
    return [...this.records.values()]
      .filter((r) => r.exitCode !== null)
      .map((r) => formatEntry(r.entry.host, r.entry.line, r.output.replace(/\n+$/, '\n'), r.exitCode!))
      .join('');
  }
}

/** A command as activity entries and the timeline show it. */
export function activityView(record: CommandRecord): ActivityEntry {
  const { entry } = record;
  return {
    seq: record.seq,
    participant: entry.who,
    name: entry.name,
    host: entry.host,
    ns: record.nsBefore,
    line: entry.line,
    startUs: record.startUs,
    endUs: record.endUs,
    exitCode: record.exitCode,
    interrupted: record.interrupted,
    output: record.output,
    ...record.packets,
  };
}
