// The Redis store: each lab's log is a Stream whose entry ids are `0-SEQ`, so
// the stream order is the log order, and appends go through a Lua
// compare-and-append that only adds entry SEQ when the last one is SEQ-1.
// Several server instances may therefore share one Redis: a stale instance's
// append is refused instead of forking the log.
//
// Keys (PREFIX from the options; `{ID}` keeps one lab's keys in one cluster slot):
//   PREFIXlabs                  set of lab ids
//   PREFIXsecret                the server secret
//   PREFIXlab:{ID}:record       the lab record, JSON
//   PREFIXlab:{ID}:log          stream of log entries, field `e` = JSON
//   PREFIXlab:{ID}:notes        list of Yjs updates
//   PREFIXlab:{ID}:notes-snap   the notes snapshot
//   PREFIXlab:{ID}:engine       the latest engine snapshot, JSON
//   PREFIXlab:{ID}:archive      list of gzipped JSON arrays of the entries trimmed off the stream, oldest first
//   PREFIXlab:{ID}:progress     hash of progress marks: name → ms since the epoch
//   PREFIXlab:{ID}:bus          pub/sub channel of the lab's BusMessages
//   PREFIXclass:ID              a class record, JSON
//   PREFIXclass-code:CODE       the id of the class holding join code CODE
//   PREFIXclasses:bus           pub/sub channel of every class's ClassBusMessages
//
// When a snapshot is saved, the stream's entries up to it move to the archive
// (in one Lua script, so they are always in exactly one of the two) and the
// stream keeps only the entries after it, and always its last entry, which
// the compare-and-append reads. Nothing is lost: readLog reads the archive
// when asked for entries it holds.
//
// Durability is Redis's own: an append is acknowledged once Redis has it, so
// surviving a Redis restart needs `appendonly yes` with `appendfsync always`.
import { gunzipSync, gzipSync } from 'node:zlib';
import { Redis } from 'ioredis';
import { ClassConflictError, JoinCodeTakenError, LabNotFoundError, LogConflictError, type BusMessage, type ClassBusMessage, type ClassRecord, type EngineSnapshot, type LabBus, type LabRecord, type LogEntry, type NotesState, type ProgressMarks, type Store } from './types';

const APPEND = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -2 end
local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
local lastSeq = 0
if #last > 0 then lastSeq = tonumber(string.sub(last[1][1], 3)) end
if lastSeq + 1 ~= tonumber(ARGV[1]) then return lastSeq end
redis.call('XADD', KEYS[2], '0-' .. ARGV[1], 'e', ARGV[2])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return -1`;

const APPEND_NOTES = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -2 end
return redis.call('RPUSH', KEYS[2], ARGV[1])`;

const COMPACT_NOTES = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -2 end
redis.call('SET', KEYS[3], ARGV[1])
redis.call('LTRIM', KEYS[2], ARGV[2], -1)
return 0`;

const DELETE = `
local existed = redis.call('DEL', KEYS[1])
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7])
redis.call('SREM', KEYS[8], ARGV[1])
return existed`;

// Moves entries FIRST..LAST (read by the caller) from the stream to the
// archive, unless the stream changed at its start meanwhile or LAST is its last entry.
const ARCHIVE = `
local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
if #first == 0 or tonumber(string.sub(first[1][1], 3)) ~= tonumber(ARGV[1]) then return 0 end
if tonumber(string.sub(last[1][1], 3)) <= tonumber(ARGV[2]) then return 0 end
redis.call('RPUSH', KEYS[2], ARGV[3])
redis.call('XTRIM', KEYS[1], 'MINID', '0-' .. (tonumber(ARGV[2]) + 1))
return 1`;

// ARGV: name, time, name, time, …; answers every mark as name, time, …
const ADD_PROGRESS_MARKS = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -2 end
for i = 1, #ARGV, 2 do redis.call('HSETNX', KEYS[2], ARGV[i], ARGV[i + 1]) end
return redis.call('HGETALL', KEYS[2])`;

const SAVE_SNAPSHOT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -2 end
redis.call('SET', KEYS[2], ARGV[1])
return 0`;

// Writes a class and moves its join code in one step. The code keys are
// derived here from the records, so (like the set of labs) they are not
// declared keys: this store targets one Redis, not a cluster.
// KEYS[1] the class key; ARGV: record JSON, the stored version it replaces
// (`none` when creating), code key prefix, the classes' channel and the
// message published on it once written.
const WRITE_CLASS = `
local nextRecord = cjson.decode(ARGV[1])
local stored = redis.call('GET', KEYS[1])
local oldCode = nil
if ARGV[2] == 'none' then
  if stored then return 'exists' end
else
  if not stored then return 'missing' end
  local current = cjson.decode(stored)
  if current.version ~= tonumber(ARGV[2]) then return 'conflict' end
  if type(current.joinCode) == 'table' then oldCode = current.joinCode.code end
end
local newCode = nil
if type(nextRecord.joinCode) == 'table' then newCode = nextRecord.joinCode.code end
if newCode then
  local holder = redis.call('GET', ARGV[3] .. newCode)
  if holder and holder ~= nextRecord.id then return 'taken' end
end
if oldCode and oldCode ~= newCode then redis.call('DEL', ARGV[3] .. oldCode) end
if newCode then redis.call('SET', ARGV[3] .. newCode, nextRecord.id) end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 'ok'`;

export interface RedisStoreOptions {
  url: string;
  /** Prepended to every key, so several deployments (or test runs) can share one Redis. */
  prefix?: string;
  connectTimeoutMs?: number;
}

export class RedisStore implements Store {
  readonly bus: LabBus;

  private constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {
    this.bus = new RedisBus(redis, (labId) => this.channel(labId), this.classesChannel());
  }

  /** Connects, and fails plainly when Redis cannot be reached. */
  static async open(options: RedisStoreOptions): Promise<RedisStore> {
    const redis = new Redis(options.url, {
      lazyConnect: true,
      // Fail at once while disconnected rather than queue: callers answer 503.
      enableOfflineQueue: false,
      connectTimeout: options.connectTimeoutMs ?? 2000,
      maxRetriesPerRequest: 0,
    });
    // Reconnection is automatic; errors surface on the commands that fail meanwhile.
    redis.on('error', () => {});
    try {
      await redis.connect();
    } catch (e) {
      redis.disconnect();
      throw new Error(`cannot reach Redis at ${options.url}: ${(e as Error).message}`);
    }
    return new RedisStore(redis, options.prefix ?? 'nslab:');
  }

  private key(labId: string, part: 'record' | 'log' | 'notes' | 'notes-snap' | 'engine' | 'archive' | 'progress'): string {
    return `${this.prefix}lab:{${labId}}:${part}`;
  }

  private channel(labId: string): string {
    return `${this.prefix}lab:{${labId}}:bus`;
  }

  private classesChannel(): string {
    return `${this.prefix}classes:bus`;
  }

  async ping(): Promise<void> {
    await this.redis.ping();
  }

  async secret(candidate: string): Promise<string> {
    const key = `${this.prefix}secret`;
    await this.redis.set(key, candidate, 'NX');
    return (await this.redis.get(key))!;
  }

  async createLab(lab: LabRecord): Promise<void> {
    const created = await this.redis.set(this.key(lab.id, 'record'), JSON.stringify(lab), 'NX');
    if (created !== 'OK') throw new Error(`lab ${lab.id} already exists`);
    await this.redis.sadd(`${this.prefix}labs`, lab.id);
  }

  async getLab(id: string): Promise<LabRecord | null> {
    const text = await this.redis.get(this.key(id, 'record'));
    return text === null ? null : (JSON.parse(text) as LabRecord);
  }

  countLabs(): Promise<number> {
    return this.redis.scard(`${this.prefix}labs`);
  }

  async deleteLab(id: string): Promise<boolean> {
    const keys = [this.key(id, 'record'), this.key(id, 'log'), this.key(id, 'notes'), this.key(id, 'notes-snap'), this.key(id, 'engine'), this.key(id, 'archive'), this.key(id, 'progress'), `${this.prefix}labs`];
    return (await this.redis.eval(DELETE, keys.length, ...keys, id)) === 1;
  }

  async append(labId: string, entry: LogEntry): Promise<void> {
    const published: BusMessage = { kind: 'entry', entry };
    const result = (await this.redis.eval(APPEND, 2, this.key(labId, 'record'), this.key(labId, 'log'), entry.seq, JSON.stringify(entry), this.channel(labId), JSON.stringify(published))) as number;
    if (result === -2) throw new LabNotFoundError(labId);
    if (result !== -1) throw new LogConflictError(labId, result);
  }

  async readLog(labId: string, afterSeq = 0): Promise<LogEntry[]> {
    const log = this.key(labId, 'log');
    const [exists, rows, archived] = settled<[number, StreamRows, number]>(await this.redis.multi().exists(this.key(labId, 'record')).xrange(log, `(0-${afterSeq}`, '+').llen(this.key(labId, 'archive')).exec());
    if (exists === 0) throw new LabNotFoundError(labId);
    const entries = rows.map(parseRow);
    // The stream always holds the newest entry, so an empty answer means there is nothing after `afterSeq`.
    if (archived === 0 || entries.length === 0 || entries[0]!.seq === afterSeq + 1) return entries;
    // Some of what was asked for is archived: read both sides at one moment.
    const [chunks, stream] = settled<[Buffer[], StreamRows]>(await this.redis.multi().lrangeBuffer(this.key(labId, 'archive'), 0, -1).xrange(log, `(0-${afterSeq}`, '+').exec());
    const older = chunks.flatMap((chunk) => JSON.parse(gunzipSync(chunk).toString('utf8')) as LogEntry[]).filter((entry) => entry.seq > afterSeq);
    return [...older, ...stream.map(parseRow)];
  }

  /** Moves the stream's entries up to `throughSeq` into the archive, keeping the stream's last entry. */
  private async archive(labId: string, throughSeq: number): Promise<void> {
    const log = this.key(labId, 'log');
    const [rows, newest] = settled<[StreamRows, StreamRows]>(await this.redis.multi().xrange(log, '-', `0-${throughSeq}`).xrevrange(log, '+', '-', 'COUNT', 1).exec());
    if (rows.length === 0) return;
    const entries = rows.map(parseRow);
    if (entries.at(-1)!.seq === parseRow(newest[0]!).seq) entries.pop();
    if (entries.length === 0) return;
    const chunk = gzipSync(JSON.stringify(entries));
    await this.redis.eval(ARCHIVE, 2, this.key(labId, 'log'), this.key(labId, 'archive'), entries[0]!.seq, entries.at(-1)!.seq, chunk);
  }

  async appendNotes(labId: string, update: Uint8Array): Promise<void> {
    const result = await this.redis.eval(APPEND_NOTES, 2, this.key(labId, 'record'), this.key(labId, 'notes'), Buffer.from(update));
    if (result === -2) throw new LabNotFoundError(labId);
  }

  async readNotes(labId: string): Promise<NotesState> {
    const results = await this.redis.multi().exists(this.key(labId, 'record')).getBuffer(this.key(labId, 'notes-snap')).lrangeBuffer(this.key(labId, 'notes'), 0, -1).exec();
    const [exists, snapshot, updates] = settled<[number, Buffer | null, Buffer[]]>(results);
    if (exists === 0) throw new LabNotFoundError(labId);
    return { snapshot: snapshot && new Uint8Array(snapshot), updates: updates.map((u) => new Uint8Array(u)) };
  }

  async compactNotes(labId: string, snapshot: Uint8Array, merged: number): Promise<void> {
    const keys = [this.key(labId, 'record'), this.key(labId, 'notes'), this.key(labId, 'notes-snap')];
    if ((await this.redis.eval(COMPACT_NOTES, keys.length, ...keys, Buffer.from(snapshot), merged)) === -2) throw new LabNotFoundError(labId);
  }

  /** Saves the snapshot, then trims the stream up to it into the archive. */
  async saveSnapshot(labId: string, snapshot: EngineSnapshot): Promise<void> {
    if ((await this.redis.eval(SAVE_SNAPSHOT, 2, this.key(labId, 'record'), this.key(labId, 'engine'), JSON.stringify(snapshot))) === -2) throw new LabNotFoundError(labId);
    await this.archive(labId, snapshot.seq);
  }

  async readSnapshot(labId: string): Promise<EngineSnapshot | null> {
    const text = await this.redis.get(this.key(labId, 'engine'));
    return text === null ? null : (JSON.parse(text) as EngineSnapshot);
  }

  async addProgressMarks(labId: string, marks: ProgressMarks): Promise<ProgressMarks> {
    const args = Object.entries(marks).flatMap(([name, at]) => [name, String(at)]);
    const result = (await this.redis.eval(ADD_PROGRESS_MARKS, 2, this.key(labId, 'record'), this.key(labId, 'progress'), ...args)) as -2 | string[];
    if (result === -2) throw new LabNotFoundError(labId);
    const kept: ProgressMarks = {};
    for (let i = 0; i < result.length; i += 2) kept[result[i]!] = Number(result[i + 1]);
    return kept;
  }

  private async writeClass(record: ClassRecord, replaces: number | 'none'): Promise<void> {
    const published: ClassBusMessage = { kind: 'changed', record };
    const result = await this.redis.eval(WRITE_CLASS, 1, `${this.prefix}class:${record.id}`, JSON.stringify(record), replaces, `${this.prefix}class-code:`, this.classesChannel(), JSON.stringify(published));
    if (result === 'exists') throw new Error(`class ${record.id} already exists`);
    if (result === 'missing') throw new Error(`class ${record.id} does not exist`);
    if (result === 'conflict') throw new ClassConflictError(record.id);
    if (result === 'taken') throw new JoinCodeTakenError(record.joinCode!.code);
  }

  createClass(record: ClassRecord): Promise<void> {
    return this.writeClass(record, 'none');
  }

  async getClass(id: string): Promise<ClassRecord | null> {
    const text = await this.redis.get(`${this.prefix}class:${id}`);
    return text === null ? null : (JSON.parse(text) as ClassRecord);
  }

  classIdByCode(code: string): Promise<string | null> {
    return this.redis.get(`${this.prefix}class-code:${code}`);
  }

  updateClass(next: ClassRecord): Promise<void> {
    return this.writeClass(next, next.version - 1);
  }

  async close(): Promise<void> {
    await (this.bus as RedisBus).close();
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  /** Removes every key under this store's prefix (for test runs that share a Redis). */
  async removeAllKeys(): Promise<void> {
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.prefix}*`, 'COUNT', 500);
      if (keys.length) await this.redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  }
}

/** What a channel's listeners are told: a lab's messages, or the classes'. */
type Listener = (message: BusMessage | ClassBusMessage) => void;

/**
 * Pub/sub over one extra connection, opened when the first channel is
 * subscribed. Redis resubscribes by itself after a reconnect; listeners are
 * then told, to read what they may have missed.
 */
class RedisBus implements LabBus {
  private subscriber: Redis | null = null;
  private readonly listeners = new Map<string, Set<Listener>>();

  constructor(
    private readonly redis: Redis,
    private readonly channel: (labId: string) => string,
    private readonly classesChannel: string,
  ) {}

  private connection(): Redis {
    if (this.subscriber) return this.subscriber;
    const subscriber = this.redis.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null });
    subscriber.on('error', () => {});
    let connectedBefore = false;
    subscriber.on('ready', () => {
      if (connectedBefore) for (const set of this.listeners.values()) for (const listener of set) listener({ kind: 'reconnected' });
      connectedBefore = true;
    });
    subscriber.on('message', (channel: string, text: string) => {
      const set = this.listeners.get(channel);
      if (!set) return;
      let message: BusMessage | ClassBusMessage;
      try {
        message = JSON.parse(text) as BusMessage | ClassBusMessage;
      } catch {
        console.error(`nslab: ignored a malformed message on ${channel}`);
        return;
      }
      for (const listener of set) listener(message);
    });
    this.subscriber = subscriber;
    return subscriber;
  }

  private async listen(channel: string, listener: Listener): Promise<() => void> {
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
      await this.connection().subscribe(channel);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(channel) === set) {
        this.listeners.delete(channel);
        this.subscriber?.unsubscribe(channel).catch(() => undefined);
      }
    };
  }

  // Each channel carries one kind of message, so its listeners get only that kind.
  subscribe(labId: string, listener: (message: BusMessage) => void): Promise<() => void> {
    return this.listen(this.channel(labId), listener as Listener);
  }

  subscribeClasses(listener: (message: ClassBusMessage) => void): Promise<() => void> {
    return this.listen(this.classesChannel, listener as Listener);
  }

  async publish(labId: string, message: BusMessage): Promise<void> {
    await this.redis.publish(this.channel(labId), JSON.stringify(message));
  }

  async publishClass(message: ClassBusMessage): Promise<void> {
    await this.redis.publish(this.classesChannel, JSON.stringify(message));
  }

  async close(): Promise<void> {
    this.listeners.clear();
    await this.subscriber?.quit().catch(() => this.subscriber?.disconnect());
    this.subscriber = null;
  }
}

type StreamRows = Array<[string, string[]]>;

function parseRow([, fields]: [string, string[]]): LogEntry {
  return JSON.parse(fields[1]!) as LogEntry;
}

/** The replies of a MULTI, or the first error among them. */
function settled<T extends unknown[]>(results: Array<[Error | null, unknown]> | null): T {
  if (!results) throw new Error('Redis transaction aborted');
  for (const [error] of results) if (error) throw error;
  return results.map(([, value]) => value) as T;
}
