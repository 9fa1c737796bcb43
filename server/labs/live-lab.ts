// A loaded lab: its engine (LabHost), its room, and the rules that keep them
// consistent with the store. Every change is a log entry made durable
// before it is applied, and changes to one lab happen one at a time.
import * as Y from 'yjs';
import { CloseCode, type ServerMessage } from '../../shared/protocol';
import { Room, type RoomSocket } from '../collab/room';
import { LabNotFoundError, LogConflictError, type ExecEntry, type LogEntry, type Store } from '../store/types';
import type { CommandRecord, LabHost } from './lab-host';
import type { ParticipantSession } from './participant';

export type LabErrorCode = 'unknown_host' | 'terminal_host' | 'not_running' | 'lab_full' | 'unavailable' | 'not_found' | 'read_only' | 'forbidden';

/** A request the lab refuses, with a message for the person who made it. */
export class LabError extends Error {
  constructor(
    readonly code: LabErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface LabLimits {
  namespaces: number;
  devices: number;
  rules: number;
  /** Log entries a lab may hold: loading replays them all. */
  logEntries: number;
  notesMaxBytes: number;
}

/** What classes add to their labs: rules on who may run commands, and progress after each command. */
export interface LabHooks {
  /** Throws a LabError to refuse a command (a locked class, a navigator). */
  admit(lab: LiveLab, request: ExecRequest): Promise<void>;
  /** A command ended; the state document already shows its effect. */
  commandFinished(lab: LiveLab, record: CommandRecord): void;
  /** Why a participant who may write may not edit the notes just now, or null; answered from what is at hand, without waiting. */
  notesRefusal(lab: LiveLab, participant: string): string | null;
  /** A participant said hello: what else they should know at once (their class's lock and driver). */
  greet(lab: LiveLab, send: (message: ServerMessage) => void): Promise<void>;
}

export interface LiveLabOptions {
  store: Store;
  hooks?: LabHooks;
  limits: LabLimits;
  /** Simulated µs after which a streaming command is interrupted. */
  streamLimitUs: number;
  /** Simulated µs after which an HTTP command is interrupted (as `replay` does). */
  runLimitUs: number;
  notesCompactEvery: number;
  presencePerSecond: number;
  /** Called once the lab has closed, to forget it. */
  onClosed(lab: LiveLab): void;
  /** How long a lab with nobody connected and nothing running stays in memory. */
  idleMs: number;
}

/** A command as a participant asks for it: the log entry it becomes, less what the lab decides (sequence, start time, limit). */
export type ExecRequest = Pick<ExecEntry, 'who' | 'name' | 'terminal' | 'host' | 'line' | 'cid' | 'mode'>;

/** Commands accepted in a lab at its object limit: those that remove or flush something. */
const REMOVES = /\b(del|delete|flush)\b|(^|\s)-[DFX]\b/;

export class LiveLab {
  readonly room: Room;
  private readonly participants = new Map<string, ParticipantSession>();
  private queue: Promise<unknown> = Promise.resolve();
  private notesQueue: Promise<unknown> = Promise.resolve();
  private notesSinceSnapshot: number;
  private tickTimer: NodeJS.Timeout | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    readonly host: LabHost,
    notes: Y.Doc,
    notesState: { bytes: number; updates: number },
    private readonly options: LiveLabOptions,
  ) {
    this.notesSinceSnapshot = notesState.updates;
    this.room = new Room(host.state.doc, notes, {
      hosts: new Set(host.hosts),
      notesMaxBytes: options.limits.notesMaxBytes,
      notesBytes: notesState.bytes,
      presencePerSecond: options.presencePerSecond,
      onNotesUpdate: (update) => this.persistNotes(update),
    });
    host.events = {
      output: (record, text) => this.sessionOf(record)?.commandOutput(record, text),
      exit: (record) => {
        this.sessionOf(record)?.commandExit(record);
        options.hooks?.commandFinished(this, record);
      },
    };
    this.armIdle();
  }

  get id(): string {
    return this.host.record.id;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private sessionOf(record: CommandRecord): ParticipantSession | undefined {
    return record.entry.terminal === null ? undefined : this.participants.get(record.entry.who);
  }

  /** Runs `work` after every change queued before it. */
  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Makes an entry durable, then applies it. */
  private async commit(entry: LogEntry, beforeApply?: () => void): Promise<void> {
    if (this.closed) throw new LabError('unavailable', 'the lab was closed; reconnect');
    try {
      await this.options.store.append(this.id, entry);
    } catch (e) {
      // Whether or not the store kept the entry, this copy of the lab may no
      // longer match the log: drop it, and let the next request load it again.
      this.close(CloseCode.labUnavailable, 'the lab must be reloaded from the store');
      if (e instanceof LabNotFoundError) throw new LabError('not_found', 'the lab was deleted');
      if (e instanceof LogConflictError) throw new LabError('unavailable', 'the lab changed on another server; retry');
      throw new LabError('unavailable', `the lab store failed (${(e as Error).message}); the command may not have run`);
    }
    beforeApply?.();
    this.host.apply(entry);
    this.scheduleTick();
  }

  /**
   * Runs a command. A repeated client id returns the command it named instead
   * of running it again (`duplicate`). `onAccepted` is called once the entry
   * is durable, before any output.
   */
  exec(request: ExecRequest, onAccepted?: (seq: number) => void): Promise<{ record: CommandRecord; duplicate: boolean }> {
    return this.serial(async () => {
      if (request.cid !== null) {
        const existing = this.host.byClient(request.who, request.cid);
        if (existing) return { record: existing, duplicate: true };
      }
      if (!this.host.hosts.includes(request.host)) throw new LabError('unknown_host', `no host "${request.host}" in this lab (it has ${this.host.hosts.join(', ')})`);
      if (request.terminal !== null) {
        const terminalHost = this.host.terminalHost(request.who, request.terminal);
        if (terminalHost !== undefined && terminalHost !== request.host) throw new LabError('terminal_host', `terminal "${request.terminal}" is on ${terminalHost}, not ${request.host}`);
      }
      await this.options.hooks?.admit(this, request);
      this.checkLimits(request.line);
      const entry: ExecEntry = {
        kind: 'exec',
        seq: this.host.lastSeq + 1,
        at: this.host.now,
        who: request.who,
        name: request.name,
        terminal: request.terminal,
        host: request.host,
        line: request.line,
        cid: request.cid,
        mode: request.mode,
        limitUs: request.mode === 'run' ? this.options.runLimitUs : this.options.streamLimitUs,
      };
      await this.commit(entry, () => onAccepted?.(entry.seq));
      return { record: this.host.command(entry.seq)!, duplicate: false };
    });
  }

  private checkLimits(line: string): void {
    const limits = this.options.limits;
    if (this.host.lastSeq >= limits.logEntries) throw new LabError('lab_full', `this lab's history is full (${limits.logEntries} entries); start a new lab`);
    const counts = this.host.counts();
    const full = (['namespaces', 'devices', 'rules'] as const).find((kind) => counts[kind] >= limits[kind]);
    if (full && !REMOVES.test(line)) {
      throw new LabError('lab_full', `this lab holds ${counts[full]} ${full} (limit ${limits[full]}); only commands that delete or flush are accepted until it is under the limit`);
    }
  }

  /** Ctrl-C for a participant's running command. */
  interrupt(who: string, cid: string): Promise<void> {
    return this.serial(async () => {
      const record = this.host.byClient(who, cid);
      if (!record || !this.host.isRunning(record.seq)) throw new LabError('not_running', `no running command with id "${cid}"`);
      await this.commit({ kind: 'interrupt', seq: this.host.lastSeq + 1, at: this.host.now, target: record.seq });
    });
  }

  /** Interrupts running commands whose participant is not connected (after a restart, or a disconnect). */
  interruptOrphans(): Promise<void> {
    return this.serial(async () => {
      for (const record of this.host.runningCommands()) {
        if (this.participants.has(record.entry.who) || !this.host.isRunning(record.seq)) continue;
        await this.commit({ kind: 'interrupt', seq: this.host.lastSeq + 1, at: this.host.now, target: record.seq });
      }
    });
  }

  /** Streaming commands follow the real clock: the lab's clock moves to each time one of them waits for. */
  private scheduleTick(): void {
    if (this.tickTimer) clearTimeout(this.tickTimer);
    this.tickTimer = null;
    const wake = this.host.nextWakeAt();
    this.armIdle();
    if (wake === Infinity || this.closed) return;
    this.tickTimer = setTimeout(
      () => {
        this.tickTimer = null;
        this.serial(async () => {
          const to = this.host.nextWakeAt();
          if (to === Infinity || this.closed) return;
          await this.commit({ kind: 'advance', seq: this.host.lastSeq + 1, at: this.host.now, to });
        }).catch((e) => {
          if (!(e instanceof LabError)) console.error(`lab ${this.id}: clock tick failed:`, e);
        });
      },
      (wake - this.host.now) / 1000,
    );
  }

  /** A participant's WebSocket joins; a previous connection of theirs is replaced. */
  attach(session: ParticipantSession): void {
    this.participants.get(session.participant)?.replaced();
    this.participants.set(session.participant, session);
    this.armIdle();
  }

  detach(session: ParticipantSession): void {
    if (this.participants.get(session.participant) !== session) return;
    this.participants.delete(session.participant);
    this.interruptOrphans().catch(() => undefined);
    this.armIdle();
  }

  join(socket: RoomSocket, peer: { participant: string; name: string; canWrite: boolean }) {
    return this.room.join(socket, { ...peer, notesRefusal: () => this.options.hooks?.notesRefusal(this, peer.participant) ?? null });
  }

  /** Sends a participant who said hello what the lab's hooks add to the welcome. */
  greet(send: (message: ServerMessage) => void): void {
    this.options.hooks?.greet(this, send).catch((e) => console.error(`lab ${this.id}: greeting failed:`, e));
  }

  /** Keeps the lab loaded for another idle period. */
  touch(): void {
    this.armIdle();
  }

  private armIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    if (this.closed || this.participants.size > 0 || this.host.runningCount() > 0) return;
    this.idleTimer = setTimeout(() => {
      this.serial(async () => this.close(CloseCode.goingAway, 'idle')).catch(() => undefined);
    }, this.options.idleMs);
    this.idleTimer.unref();
  }

  private persistNotes(update: Uint8Array): void {
    const work = async () => {
      await this.options.store.appendNotes(this.id, update);
      this.notesSinceSnapshot++;
      if (this.notesSinceSnapshot >= this.options.notesCompactEvery) {
        const merged = this.notesSinceSnapshot;
        await this.options.store.compactNotes(this.id, Y.encodeStateAsUpdate(this.room.notes), merged);
        this.notesSinceSnapshot -= merged;
      }
    };
    this.notesQueue = this.notesQueue.then(work).catch((e) => {
      console.error(`lab ${this.id}: could not store a notes update:`, e);
      this.close(CloseCode.labUnavailable, 'the notes could not be stored');
    });
  }

  /** Waits until queued notes updates are stored. */
  notesStored(): Promise<unknown> {
    return this.notesQueue;
  }

  /** Ends every connection and releases the lab's memory. */
  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    if (this.tickTimer) clearTimeout(this.tickTimer);
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.host.events = null;
    this.room.close(code, reason);
    this.participants.clear();
    this.options.onClosed(this);
  }
}
