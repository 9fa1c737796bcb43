// What a lab store keeps, and the one interface both backends implement
// (test/server/store-contract.ts holds them to it).
//
// A lab is its record (world, seed) plus an append-only log of entries; its
// state is derived by replaying the log on the world. The shared notes
// document is kept as a snapshot plus the updates made since.
import type { ClassState } from '../../shared/protocol';

export interface LabRecord {
  id: string;
  title: string;
  /** The world file, as given (validated again when the lab loads). */
  world: unknown;
  seed: number;
  createdAt: string;
  /** The class the lab belongs to (a student's or a group's lab), if any. */
  classId?: string;
}

interface EntryBase {
  /** Position in the log: 1, 2, 3, … with no gaps. */
  seq: number;
  /** Simulated time (µs) when the entry applies; the lab's clock is exactly here when it does. */
  at: number;
}

/** A command line, accepted and started. */
export interface ExecEntry extends EntryBase {
  kind: 'exec';
  /** Participant id (the token's subject) and display name. */
  who: string;
  name: string;
  /** The participant's terminal, or null for a fresh non-interactive shell (HTTP exec). */
  terminal: string | null;
  host: string;
  line: string;
  /** The client's id for the command, so a retry is answered instead of run again. */
  cid: string | null;
  /** `run`: driven to its end at once in simulated time; `stream`: follows the real clock. */
  mode: 'run' | 'stream';
  /** Simulated µs after which Ctrl-C is pressed for it. */
  limitUs: number;
}

/** Ctrl-C for a running command. */
export interface InterruptEntry extends EntryBase {
  kind: 'interrupt';
  target: number;
}

/** The clock moved on to `to` while streaming commands ran. */
export interface AdvanceEntry extends EntryBase {
  kind: 'advance';
  to: number;
}

export type LogEntry = ExecEntry | InterruptEntry | AdvanceEntry;

export interface NotesState {
  snapshot: Uint8Array | null;
  /** Yjs updates made after the snapshot, oldest first. */
  updates: Uint8Array[];
}

/** The lab's engine after one log entry, so loading replays only the entries after it. */
export interface EngineSnapshot {
  /** The entry it was taken after. */
  seq: number;
  /** The engine code that took it: a snapshot restores only on the same code, so one from other code is ignored and the log replayed. */
  engine: string;
  /** JSON, as the lab host writes it. */
  data: string;
}

/** The append did not happen: the log's last entry is not the one the writer expected. */
export class LogConflictError extends Error {
  constructor(
    readonly labId: string,
    readonly lastSeq: number,
  ) {
    super(`lab ${labId}: log is at entry ${lastSeq}; append refused`);
  }
}

/** The lab does not exist (any more). */
export class LabNotFoundError extends Error {
  constructor(readonly labId: string) {
    super(`lab ${labId} does not exist`);
  }
}

/** The code students join a class with, until it expires. */
export interface JoinCode {
  code: string;
  expiresAt: string;
}

export interface ClassMember {
  /** The student's participant id: the subject of their tokens. */
  id: string;
  name: string;
  /** The lab the student works in: their own, or their group's. */
  labId: string;
  /** The group (1, 2, …) in group mode; null in solo mode. */
  group: number | null;
  /** Types in the lab; in group mode one member of each group drives and the others navigate. */
  driver: boolean;
  joinedAt: string;
}

export interface ClassRecord {
  id: string;
  title: string;
  templateId: string;
  /** `solo`: a lab per student; `group`: up to `groupSize` students share one lab. */
  mode: 'solo' | 'group';
  groupSize: number;
  /** null once revoked. A code belongs to one class at a time. */
  joinCode: JoinCode | null;
  /** Members' commands are refused (the end of the class). */
  locked: boolean;
  members: ClassMember[];
  /** The instructor's participant id. */
  instructor: string;
  createdAt: string;
  /** 1 when created, one more with every update. */
  version: number;
}

/** The class was changed by someone else since it was read: read it again and redo the change. */
export class ClassConflictError extends Error {
  constructor(readonly classId: string) {
    super(`class ${classId} changed meanwhile; update refused`);
  }
}

/** Another class holds this join code. */
export class JoinCodeTakenError extends Error {
  constructor(readonly code: string) {
    super(`join code ${code} is taken`);
  }
}

export interface Store {
  /** Resolves when the backend answers; rejects when it is unreachable. */
  ping(): Promise<void>;
  /** The stored server secret; `candidate` becomes it when none is stored yet. */
  secret(candidate: string): Promise<string>;

  /** Rejects when a lab with this id exists. */
  createLab(lab: LabRecord): Promise<void>;
  getLab(id: string): Promise<LabRecord | null>;
  countLabs(): Promise<number>;
  /** Removes the lab with its log and notes; false when there was none. */
  deleteLab(id: string): Promise<boolean>;

  /**
   * Appends one entry, durably, only if it directly follows the log's last
   * entry (`entry.seq` = last seq + 1). Throws LogConflictError otherwise and
   * LabNotFoundError for a lab that does not exist.
   */
  append(labId: string, entry: LogEntry): Promise<void>;
  /** Entries with seq > afterSeq, in order. */
  readLog(labId: string, afterSeq?: number): Promise<LogEntry[]>;

  appendNotes(labId: string, update: Uint8Array): Promise<void>;
  readNotes(labId: string): Promise<NotesState>;
  /** Replaces the snapshot and drops the first `merged` updates, which it includes. */
  compactNotes(labId: string, snapshot: Uint8Array, merged: number): Promise<void>;

  /** Keeps the lab's latest engine snapshot, replacing the one before; LabNotFoundError for a lab that does not exist. */
  saveSnapshot(labId: string, snapshot: EngineSnapshot): Promise<void>;
  readSnapshot(labId: string): Promise<EngineSnapshot | null>;

  /**
   * How server instances sharing this store hear about each other's changes
   * to a lab; null for a store only one process may use.
   */
  readonly bus: LabBus | null;

  /** Rejects when a class with this id exists, and with JoinCodeTakenError when its join code is another's. */
  createClass(record: ClassRecord): Promise<void>;
  getClass(id: string): Promise<ClassRecord | null>;
  /** The class currently holding this join code. */
  classIdByCode(code: string): Promise<string | null>;
  /**
   * Replaces the class with `next` only if the stored one is at
   * `next.version - 1`, moving its join code with it: ClassConflictError
   * otherwise, JoinCodeTakenError for another class's code, and an error for
   * a class that does not exist.
   */
  updateClass(next: ClassRecord): Promise<void>;

  close(): Promise<void>;
}

/**
 * What instances tell each other about one lab. `entry` is published by the
 * store itself, atomically with the append; the rest by the instances.
 * Delivery is at most once: a listener that sees a gap reads the log.
 */
export type BusMessage =
  | { kind: 'entry'; entry: LogEntry }
  /** A y-protocols awareness update made on instance `from` (base64). */
  | { kind: 'presence'; from: string; update: string }
  /** A notes document update made on instance `from` (base64), already stored. */
  | { kind: 'notes'; from: string; update: string }
  /** Instance `from` has these participants connected; repeated while it holds the lab. */
  | { kind: 'participants'; from: string; participants: string[] }
  /** The lab's class changed on instance `from` (lock, driver, group): what its participants are told. */
  | { kind: 'class'; from: string; state: ClassState }
  | { kind: 'deleted' }
  /** Not published: told to listeners when the bus reconnects, since messages may have been missed. */
  | { kind: 'reconnected' };

export interface LabBus {
  /** Listens to a lab's messages; resolves once listening, with the function that stops it. */
  subscribe(labId: string, listener: (message: BusMessage) => void): Promise<() => void>;
  publish(labId: string, message: BusMessage): Promise<void>;
}
