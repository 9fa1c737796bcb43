// A loaded lab: its engine (LabHost), its room, and the rules that keep them
// consistent with the store. Every change is a log entry made durable
// before it is applied, and changes to one lab happen one at a time.
//
// Several server instances may hold the same lab (a store with a bus: Redis).
// The log is then the one truth: each instance appends with compare-and-append
// and applies every entry in log order, its own and the others' alike, so
// all engines agree. An append that loses the race catches up and tries again.
// Presence and notes cross instances on the bus, and so does who is
// connected where, so a streaming command is only interrupted as orphaned
// when its participant is connected to no instance at all.
import * as Y from 'yjs';
import { CloseCode, type ServerMessage } from '../../shared/protocol';
import { REMOTE, Room, type RoomSocket } from '../collab/room';
import { LabNotFoundError, LogConflictError, type BusMessage, type ExecEntry, type LabBus, type LogEntry, type Store } from '../store/types';
import { ENGINE_VERSION } from './engine-version';
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
  /** Whether the participant is the instructor of the lab's class, which their presence then says to everyone. */
  isInstructor(lab: LiveLab, participant: string): Promise<boolean>;
  /** Whether the lab stays loaded though idle; once it need not, the hooks touch it so it may leave memory again. */
  keepLoaded(lab: LiveLab): boolean;
  /** The lab closed with `code` and left memory. */
  closed(lab: LiveLab, code: number): void;
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
  /** A lab's engine is snapshotted once this many entries were added since the last snapshot, at the first moment nothing runs. */
  snapshotEvery: number;
  presencePerSecond: number;
  /** Called once the lab has closed, to forget it. */
  onClosed(lab: LiveLab): void;
  /** How long a lab with nobody connected and nothing running stays in memory, unless its hooks keep it loaded. */
  idleMs: number;
  /** This server instance, as it names itself on the bus. */
  instanceId: string;
}

/** How often an instance tells the others who is connected to it, and how long that news stays true. */
export const PARTICIPANTS_EVERY_MS = 2000;
const PARTICIPANTS_TTL_MS = 3 * PARTICIPANTS_EVERY_MS;
/** Appends that lose the race to another instance are retried this many times. */
const APPEND_ATTEMPTS = 16;

/** The log moved on under this instance; it has caught up and the change must be made anew. */
class StaleError extends Error {}

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
  /** The simulated time the armed tick moves the clock to. */
  private tickWake = Infinity;
  private idleTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly bus: LabBus | null;
  /** Participants connected to other instances, by instance, with when that was last heard. */
  private readonly remoteParticipants = new Map<string, { participants: Set<string>; heardAt: number }>();
  private readonly loadedAt = Date.now();
  private busTimer: NodeJS.Timeout | null = null;
  /** The entry the lab was last snapshotted (or loaded) at. */
  private snapshotSeq: number;
  private unsubscribe: (() => void) | null = null;

  constructor(
    readonly host: LabHost,
    notes: Y.Doc,
    notesState: { bytes: number; updates: number },
    private readonly options: LiveLabOptions,
  ) {
    this.bus = options.store.bus;
    this.snapshotSeq = host.restoredAt;
    this.notesSinceSnapshot = notesState.updates;
    this.room = new Room(host.state.doc, notes, {
      hosts: new Set(host.hosts),
      notesMaxBytes: options.limits.notesMaxBytes,
      notesBytes: notesState.bytes,
      presencePerSecond: options.presencePerSecond,
      onNotesUpdate: (update) => this.persistNotes(update),
      onPresenceUpdate: (update) => this.publish({ kind: 'presence', from: options.instanceId, update: Buffer.from(update).toString('base64') }),
    });
    host.events = {
      output: (record, text) => this.sessionOf(record)?.commandOutput(record, text),
      exit: (record) => {
        this.sessionOf(record)?.commandExit(record);
        options.hooks?.commandFinished(this, record);
      },
    };
    if (this.bus) {
      this.busTimer = setInterval(() => this.heartbeat(), PARTICIPANTS_EVERY_MS);
      this.busTimer.unref();
    }
    this.armIdle();
  }

  /** Takes the bus subscription Labs opened before reading the log, so the lab is closed with it. */
  listening(unsubscribe: () => void): void {
    if (this.closed) unsubscribe();
    else this.unsubscribe = unsubscribe;
  }

  /** What another instance (or the store, for entries) said about this lab. */
  receive(message: BusMessage): void {
    if (this.closed) return;
    const from = 'from' in message ? message.from : null;
    if (from === this.options.instanceId) return;
    switch (message.kind) {
      case 'entry':
        this.serial(async () => this.follow(message.entry)).catch(() => undefined);
        break;
      case 'reconnected':
        this.serial(async () => this.catchUp()).catch(() => undefined);
        break;
      case 'presence':
        this.room.applyRemotePresence(Buffer.from(message.update, 'base64'));
        break;
      case 'notes':
        this.room.applyRemoteNotes(Buffer.from(message.update, 'base64'));
        break;
      case 'participants':
        this.remoteParticipants.set(message.from, { participants: new Set(message.participants), heardAt: Date.now() });
        break;
      case 'deleted':
        this.close(CloseCode.labDeleted, 'the lab was deleted');
        break;
    }
  }

  private publish(message: BusMessage): void {
    this.bus?.publish(this.id, message).catch(() => undefined);
  }

  /** Tells the other instances who is connected here, and interrupts commands nobody anywhere is connected for. */
  private heartbeat(): void {
    this.publish({ kind: 'participants', from: this.options.instanceId, participants: [...this.participants.keys()] });
    if (this.host.runningCount() > 0 && Date.now() - this.loadedAt >= PARTICIPANTS_TTL_MS) this.interruptOrphans().catch(() => undefined);
  }

  /** Whether the participant is connected to this instance or, as last heard, to another. */
  private isConnected(participant: string): boolean {
    return this.participants.has(participant) || this.connectedElsewhere().has(participant);
  }

  /** Participants connected to other instances, as last heard. */
  connectedElsewhere(): Set<string> {
    const now = Date.now();
    const connected = new Set<string>();
    for (const [instance, heard] of this.remoteParticipants) {
      if (now - heard.heardAt > PARTICIPANTS_TTL_MS) this.remoteParticipants.delete(instance);
      else for (const participant of heard.participants) connected.add(participant);
    }
    return connected;
  }

  /** An entry another instance appended: applied in order, or the gap before it read from the log. */
  private async follow(entry: LogEntry): Promise<void> {
    if (this.closed || entry.seq <= this.host.lastSeq) return;
    if (entry.seq === this.host.lastSeq + 1) {
      this.host.apply(entry);
      this.scheduleTick();
    } else await this.catchUp();
  }

  /** Applies every entry the log holds beyond this copy's. */
  private async catchUp(): Promise<void> {
    if (this.closed) return;
    let entries: LogEntry[];
    try {
      entries = await this.options.store.readLog(this.id, this.host.lastSeq);
    } catch (e) {
      if (e instanceof LabNotFoundError) this.close(CloseCode.labDeleted, 'the lab was deleted');
      throw e;
    }
    for (const entry of entries) if (entry.seq === this.host.lastSeq + 1) this.host.apply(entry);
    this.scheduleTick();
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

  /**
   * Makes an entry durable, then applies it. Throws StaleError when another
   * instance appended first: this copy has then caught up, and the caller
   * decides anew.
   */
  private async commit(entry: LogEntry, beforeApply?: () => void): Promise<void> {
    if (this.closed) throw new LabError('unavailable', 'the lab was closed; reconnect');
    try {
      await this.options.store.append(this.id, entry);
    } catch (e) {
      if (e instanceof LogConflictError) {
        try {
          await this.catchUp();
        } catch {
          // handled below, as any store failure
        }
        if (!this.closed && this.host.lastSeq >= e.lastSeq) throw new StaleError();
      }
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
    this.maybeSnapshot();
  }

  /** Stores a snapshot when enough entries came since the last one; taking it costs about a millisecond, storing it is not waited for. */
  private maybeSnapshot(): void {
    if (this.host.lastSeq - this.snapshotSeq < this.options.snapshotEvery) return;
    const data = this.host.snapshot();
    if (data === null) return;
    const seq = this.host.lastSeq;
    this.snapshotSeq = seq;
    this.options.store.saveSnapshot(this.id, { seq, engine: ENGINE_VERSION, data }).catch((e) => {
      if (!(e instanceof LabNotFoundError)) console.error(`lab ${this.id}: could not store the snapshot at entry ${seq}:`, e);
    });
  }

  /**
   * Runs `attempt` again each time another instance got its entry in first,
   * after a random pause that grows, so instances taking turns do not keep
   * colliding.
   */
  private async retrying<T>(attempt: () => Promise<T>): Promise<T> {
    for (let tries = 1; ; tries++) {
      try {
        return await attempt();
      } catch (e) {
        if (!(e instanceof StaleError)) throw e;
        if (tries >= APPEND_ATTEMPTS) throw new LabError('unavailable', 'the lab is changing too fast on other servers; retry');
      }
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(100, 2 ** tries)));
    }
  }

  /**
   * Runs a command. A repeated client id returns the command it named instead
   * of running it again (`duplicate`). `onAccepted` is called once the entry
   * is durable, before any output.
   */
  exec(request: ExecRequest, onAccepted?: (seq: number) => void): Promise<{ record: CommandRecord; duplicate: boolean }> {
    return this.serial(() => this.retrying(async () => {
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
    }));
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
    return this.serial(() => this.retrying(async () => {
      const record = this.host.byClient(who, cid);
      if (!record || !this.host.isRunning(record.seq)) throw new LabError('not_running', `no running command with id "${cid}"`);
      await this.commit({ kind: 'interrupt', seq: this.host.lastSeq + 1, at: this.host.now, target: record.seq });
    }));
  }

  /** Interrupts running commands whose participant is connected nowhere (after a restart, or a disconnect). */
  interruptOrphans(): Promise<void> {
    return this.serial(() => this.retrying(async () => {
      for (const record of this.host.runningCommands()) {
        if (this.isConnected(record.entry.who) || !this.host.isRunning(record.seq)) continue;
        await this.commit({ kind: 'interrupt', seq: this.host.lastSeq + 1, at: this.host.now, target: record.seq });
      }
    }));
  }

  /**
   * Whether this instance moves the lab's clock: with other instances around,
   * only those with a running command's participant connected do, so the
   * clock is not raced for by every instance holding the lab.
   */
  private drivesClock(): boolean {
    return this.bus === null || this.host.runningCommands().some((record) => this.participants.has(record.entry.who));
  }

  /** Streaming commands follow the real clock: the lab's clock moves to each time one of them waits for. */
  private scheduleTick(): void {
    const wake = this.host.nextWakeAt();
    this.armIdle();
    const drive = wake !== Infinity && !this.closed && this.drivesClock();
    // A tick already due for this simulated time keeps its real deadline: re-arming it on every
    // command would starve a streaming ping while people type.
    if (drive && this.tickTimer && this.tickWake === wake) return;
    if (this.tickTimer) clearTimeout(this.tickTimer);
    this.tickTimer = null;
    if (!drive) return;
    this.tickWake = wake;
    this.tickTimer = setTimeout(
      () => {
        this.tickTimer = null;
        this.serial(async () => {
          const to = this.host.nextWakeAt();
          if (to === Infinity || this.closed) return;
          await this.commit({ kind: 'advance', seq: this.host.lastSeq + 1, at: this.host.now, to });
        }).catch((e) => {
          // A stale tick needs no retry: another instance moved the clock, and catching up scheduled the next tick.
          if (!(e instanceof LabError) && !(e instanceof StaleError)) console.error(`lab ${this.id}: clock tick failed:`, e);
        });
      },
      (wake - this.host.now) / 1000,
    );
  }

  /** A participant's WebSocket joins; a previous connection of theirs is replaced. */
  attach(session: ParticipantSession): void {
    this.participants.get(session.participant)?.replaced();
    this.participants.set(session.participant, session);
    this.heartbeat();
    // A participant back on this instance takes over the clock for their streaming commands.
    this.scheduleTick();
  }

  detach(session: ParticipantSession): void {
    if (this.participants.get(session.participant) !== session) return;
    this.participants.delete(session.participant);
    if (this.bus) this.heartbeat();
    this.interruptOrphans().catch(() => undefined);
    this.armIdle();
  }

  join(socket: RoomSocket, peer: { participant: string; name: string; canWrite: boolean; instructor: boolean }) {
    return this.room.join(socket, { ...peer, notesRefusal: () => this.options.hooks?.notesRefusal(this, peer.participant) ?? null });
  }

  /** Whether the participant is the instructor of the lab's class (never, outside classes). */
  async isInstructor(participant: string): Promise<boolean> {
    return (await this.options.hooks?.isInstructor(this, participant)) ?? false;
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
      this.serial(async () => {
        if (!this.options.hooks?.keepLoaded(this)) this.close(CloseCode.goingAway, 'idle');
      }).catch(() => undefined);
    }, this.options.idleMs);
    this.idleTimer.unref();
  }

  private persistNotes(update: Uint8Array): void {
    const work = async () => {
      const store = this.options.store;
      await store.appendNotes(this.id, update);
      this.publish({ kind: 'notes', from: this.options.instanceId, update: Buffer.from(update).toString('base64') });
      if (++this.notesSinceSnapshot < this.options.notesCompactEvery) return;
      // Other instances append too: merge everything stored before trimming it.
      const stored = await store.readNotes(this.id);
      for (const part of stored.updates) Y.applyUpdate(this.room.notes, part, REMOTE);
      await store.compactNotes(this.id, Y.encodeStateAsUpdate(this.room.notes), stored.updates.length);
      this.notesSinceSnapshot = 0;
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
    if (this.busTimer) clearInterval(this.busTimer);
    this.unsubscribe?.();
    this.host.events = null;
    this.room.close(code, reason);
    this.participants.clear();
    this.options.onClosed(this);
    this.options.hooks?.closed(this, code);
  }
}
