// The embedded store: plain files under one directory, needing nothing
// installed. Crash safety comes from two rules: whole files are replaced by
// writing a temporary file, syncing it and renaming it over the old one; logs
// are appended a line at a time and synced before the append resolves. A line
// torn by a crash (no final newline) was never acknowledged and is cut off
// when the log is next read.
//
//   DATA_DIR/lock                 pid of the process that owns the directory
//   DATA_DIR/secret               the server secret
//   DATA_DIR/labs/ID/lab.json     the lab record
//   DATA_DIR/labs/ID/log.jsonl    one log entry per line
//   DATA_DIR/labs/ID/notes.jsonl  one base64 Yjs update per line
//   DATA_DIR/labs/ID/notes.bin    the notes snapshot
//   DATA_DIR/labs/ID/engine.json  the latest engine snapshot
//   DATA_DIR/labs/ID/progress.json  the progress marks
//   DATA_DIR/classes/ID.json      a class record (join codes are indexed in memory from these)
import { randomBytes } from 'node:crypto';
import { constants, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { ClassConflictError, JoinCodeTakenError, LabNotFoundError, LogConflictError, type ClassRecord, type EngineSnapshot, type LabRecord, type LogEntry, type NotesState, type ProgressMarks, type Store } from './types';

const LAB_ID = /^[A-Za-z0-9_-]{1,64}$/;

export class DataDirInUseError extends Error {}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Replaces `path` with `data` so that a crash leaves either the old or the new file. */
async function writeFileAtomic(path: string, data: string | Uint8Array, dir: string): Promise<void> {
  const tmp = join(dir, `.tmp-${randomBytes(6).toString('hex')}`);
  const handle = await open(tmp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, path);
  await syncDir(dir);
}

async function appendSynced(path: string, line: string): Promise<void> {
  const handle = await open(path, 'a');
  try {
    await handle.write(line);
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

/** Complete lines of a line file, and the length of the torn tail after the last newline. */
async function readLines(path: string): Promise<{ lines: string[]; goodBytes: number; tornBytes: number }> {
  const text = await readFile(path, 'utf8');
  const end = text.lastIndexOf('\n') + 1;
  const goodBytes = Buffer.byteLength(text.slice(0, end));
  return { lines: end === 0 ? [] : text.slice(0, end - 1).split('\n'), goodBytes, tornBytes: Buffer.byteLength(text) - goodBytes };
}

function isMissing(e: unknown): boolean {
  return (e as NodeJS.ErrnoException).code === 'ENOENT';
}

export class FileStore implements Store {
  private readonly labsDir: string;
  private readonly classesDir: string;
  private readonly lockPath: string;
  /** Join code → class id, read from the class files at first use. */
  private codes: Map<string, string> | null = null;
  /** Writes to one lab run one after another, so appends never interleave. */
  private readonly chains = new Map<string, Promise<unknown>>();
  /** Last seq of each lab's log, once read. This process alone writes the directory. */
  private readonly lastSeq = new Map<string, number>();
  /** The lock makes this process the directory's only user: there is nobody to tell. */
  readonly bus = null;

  constructor(readonly dir: string) {
    this.labsDir = join(dir, 'labs');
    this.classesDir = join(dir, 'classes');
    this.lockPath = join(dir, 'lock');
    mkdirSync(this.labsDir, { recursive: true });
    mkdirSync(this.classesDir, { recursive: true });
    this.takeLock();
    // Left by a crash in the middle of creating or deleting a lab.
    for (const name of readdirSync(this.labsDir)) if (name.startsWith('.')) rmSync(join(this.labsDir, name), { recursive: true, force: true });
  }

  /** One process per directory: two writers would interleave their logs. */
  private takeLock(): void {
    if (existsSync(this.lockPath)) {
      const pid = Number(readFileSync(this.lockPath, 'utf8'));
      if (pid !== process.pid && Number.isInteger(pid) && pid > 0 && processAlive(pid)) {
        throw new DataDirInUseError(`${this.dir} is in use by process ${pid}`);
      }
    }
    writeFileSync(this.lockPath, String(process.pid));
  }

  private serial<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.chains.get(key) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.catch(() => undefined);
    this.chains.set(key, settled);
    void settled.then(() => {
      if (this.chains.get(key) === settled) this.chains.delete(key);
    });
    return next;
  }

  private labDir(id: string): string {
    if (!LAB_ID.test(id)) throw new LabNotFoundError(id);
    return join(this.labsDir, id);
  }

  async ping(): Promise<void> {
    const handle = await open(this.labsDir, constants.O_RDONLY);
    await handle.close();
  }

  async secret(candidate: string): Promise<string> {
    const path = join(this.dir, 'secret');
    try {
      return (await readFile(path, 'utf8')).trim();
    } catch (e) {
      if (!isMissing(e)) throw e;
    }
    await writeFileAtomic(path, candidate, this.dir);
    return candidate;
  }

  async createLab(lab: LabRecord): Promise<void> {
    const dir = this.labDir(lab.id);
    if (existsSync(dir)) throw new Error(`lab ${lab.id} already exists`);
    const staging = join(this.labsDir, `.tmp-${lab.id}-${randomBytes(4).toString('hex')}`);
    await mkdir(staging);
    for (const [file, data] of [['lab.json', JSON.stringify(lab)], ['log.jsonl', ''], ['notes.jsonl', '']] as const) {
      const handle = await open(join(staging, file), 'w');
      await handle.writeFile(data);
      await handle.sync();
      await handle.close();
    }
    await syncDir(staging);
    await rename(staging, dir);
    await syncDir(this.labsDir);
    this.lastSeq.set(lab.id, 0);
  }

  async getLab(id: string): Promise<LabRecord | null> {
    if (!LAB_ID.test(id)) return null;
    try {
      return JSON.parse(await readFile(join(this.labDir(id), 'lab.json'), 'utf8')) as LabRecord;
    } catch (e) {
      if (isMissing(e)) return null;
      throw e;
    }
  }

  async countLabs(): Promise<number> {
    return (await readdir(this.labsDir)).filter((name) => !name.startsWith('.')).length;
  }

  deleteLab(id: string): Promise<boolean> {
    if (!LAB_ID.test(id)) return Promise.resolve(false);
    return this.serial(id, async () => {
      const dir = this.labDir(id);
      const trash = join(this.labsDir, `.deleted-${id}-${randomBytes(4).toString('hex')}`);
      try {
        await rename(dir, trash);
      } catch (e) {
        if (isMissing(e)) return false;
        throw e;
      }
      await syncDir(this.labsDir);
      this.lastSeq.delete(id);
      await rm(trash, { recursive: true, force: true });
      return true;
    });
  }

  append(labId: string, entry: LogEntry): Promise<void> {
    return this.serial(labId, async () => {
      const last = await this.lastSeqOf(labId);
      if (entry.seq !== last + 1) throw new LogConflictError(labId, last);
      await appendSynced(join(this.labDir(labId), 'log.jsonl'), JSON.stringify(entry) + '\n');
      this.lastSeq.set(labId, entry.seq);
    });
  }

  private async lastSeqOf(labId: string): Promise<number> {
    const known = this.lastSeq.get(labId);
    if (known !== undefined) return known;
    const entries = await this.readLogRepaired(labId);
    const last = entries.length === 0 ? 0 : entries[entries.length - 1]!.seq;
    this.lastSeq.set(labId, last);
    return last;
  }

  /** Reads the whole log, cutting off a line torn by a crash. */
  private async readLogRepaired(labId: string): Promise<LogEntry[]> {
    const path = join(this.labDir(labId), 'log.jsonl');
    let read;
    try {
      read = await readLines(path);
    } catch (e) {
      if (isMissing(e)) throw new LabNotFoundError(labId);
      throw e;
    }
    if (read.tornBytes > 0) await truncate(path, read.goodBytes);
    return read.lines.map((line, i) => {
      const entry = JSON.parse(line) as LogEntry;
      if (entry.seq !== i + 1) throw new Error(`lab ${labId}: log line ${i + 1} holds entry ${entry.seq}`);
      return entry;
    });
  }

  readLog(labId: string, afterSeq = 0): Promise<LogEntry[]> {
    return this.serial(labId, async () => (await this.readLogRepaired(labId)).slice(afterSeq));
  }

  appendNotes(labId: string, update: Uint8Array): Promise<void> {
    return this.serial(`${labId}/notes`, async () => {
      const dir = this.labDir(labId);
      if (!existsSync(join(dir, 'lab.json'))) throw new LabNotFoundError(labId);
      await appendSynced(join(dir, 'notes.jsonl'), Buffer.from(update).toString('base64') + '\n');
    });
  }

  readNotes(labId: string): Promise<NotesState> {
    return this.serial(`${labId}/notes`, async () => {
      const dir = this.labDir(labId);
      let snapshot: Uint8Array | null = null;
      try {
        snapshot = new Uint8Array(await readFile(join(dir, 'notes.bin')));
      } catch (e) {
        if (!isMissing(e)) throw e;
      }
      let read;
      try {
        read = await readLines(join(dir, 'notes.jsonl'));
      } catch (e) {
        if (isMissing(e)) throw new LabNotFoundError(labId);
        throw e;
      }
      if (read.tornBytes > 0) await truncate(join(dir, 'notes.jsonl'), read.goodBytes);
      return { snapshot, updates: read.lines.map((line) => new Uint8Array(Buffer.from(line, 'base64'))) };
    });
  }

  compactNotes(labId: string, snapshot: Uint8Array, merged: number): Promise<void> {
    return this.serial(`${labId}/notes`, async () => {
      const dir = this.labDir(labId);
      if (!existsSync(join(dir, 'lab.json'))) throw new LabNotFoundError(labId);
      // A crash between the two writes leaves updates that the snapshot also
      // holds; applying a Yjs update twice changes nothing.
      await writeFileAtomic(join(dir, 'notes.bin'), snapshot, dir);
      const { lines } = await readLines(join(dir, 'notes.jsonl'));
      const rest = lines.slice(merged);
      await writeFileAtomic(join(dir, 'notes.jsonl'), rest.length ? rest.join('\n') + '\n' : '', dir);
    });
  }

  saveSnapshot(labId: string, snapshot: EngineSnapshot): Promise<void> {
    return this.serial(`${labId}/engine`, async () => {
      const dir = this.labDir(labId);
      if (!existsSync(join(dir, 'lab.json'))) throw new LabNotFoundError(labId);
      await writeFileAtomic(join(dir, 'engine.json'), JSON.stringify(snapshot), dir);
    });
  }

  readSnapshot(labId: string): Promise<EngineSnapshot | null> {
    return this.serial(`${labId}/engine`, async () => {
      try {
        return JSON.parse(await readFile(join(this.labDir(labId), 'engine.json'), 'utf8')) as EngineSnapshot;
      } catch (e) {
        if (isMissing(e)) return null;
        throw e;
      }
    });
  }

  addProgressMarks(labId: string, marks: ProgressMarks): Promise<ProgressMarks> {
    return this.serial(`${labId}/progress`, async () => {
      const dir = this.labDir(labId);
      if (!existsSync(join(dir, 'lab.json'))) throw new LabNotFoundError(labId);
      const path = join(dir, 'progress.json');
      let kept: ProgressMarks = {};
      try {
        kept = JSON.parse(await readFile(path, 'utf8')) as ProgressMarks;
      } catch (e) {
        if (!isMissing(e)) throw e;
      }
      const added = Object.entries(marks).filter(([name]) => !Object.hasOwn(kept, name));
      if (added.length === 0) return kept;
      kept = { ...kept, ...Object.fromEntries(added) };
      await writeFileAtomic(path, JSON.stringify(kept), dir);
      return kept;
    });
  }

  private classPath(id: string): string {
    if (!LAB_ID.test(id)) throw new Error(`class ${id} does not exist`);
    return join(this.classesDir, `${id}.json`);
  }

  private async codeIndex(): Promise<Map<string, string>> {
    if (!this.codes) {
      const codes = new Map<string, string>();
      for (const name of await readdir(this.classesDir)) {
        if (name.startsWith('.')) continue;
        const record = JSON.parse(await readFile(join(this.classesDir, name), 'utf8')) as ClassRecord;
        if (record.joinCode) codes.set(record.joinCode.code, record.id);
      }
      this.codes = codes;
    }
    return this.codes;
  }

  /** Writes a class whose code no other class holds; every class write goes through here, one at a time. */
  private writeClass(record: ClassRecord, check: (stored: ClassRecord | null) => void): Promise<void> {
    return this.serial('classes', async () => {
      const codes = await this.codeIndex();
      check(await this.getClass(record.id));
      const code = record.joinCode?.code;
      if (code !== undefined && (codes.get(code) ?? record.id) !== record.id) throw new JoinCodeTakenError(code);
      await writeFileAtomic(this.classPath(record.id), JSON.stringify(record), this.classesDir);
      for (const [held, id] of codes) if (id === record.id) codes.delete(held);
      if (code !== undefined) codes.set(code, record.id);
    });
  }

  createClass(record: ClassRecord): Promise<void> {
    return this.writeClass(record, (stored) => {
      if (stored) throw new Error(`class ${record.id} already exists`);
    });
  }

  async getClass(id: string): Promise<ClassRecord | null> {
    if (!LAB_ID.test(id)) return null;
    try {
      return JSON.parse(await readFile(this.classPath(id), 'utf8')) as ClassRecord;
    } catch (e) {
      if (isMissing(e)) return null;
      throw e;
    }
  }

  async classIdByCode(code: string): Promise<string | null> {
    return (await this.codeIndex()).get(code) ?? null;
  }

  updateClass(next: ClassRecord): Promise<void> {
    return this.writeClass(next, (stored) => {
      if (!stored) throw new Error(`class ${next.id} does not exist`);
      if (stored.version !== next.version - 1) throw new ClassConflictError(next.id);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.chains.values());
    if (existsSync(this.lockPath) && readFileSync(this.lockPath, 'utf8') === String(process.pid)) rmSync(this.lockPath);
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
