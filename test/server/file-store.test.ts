import { mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DataDirInUseError, FileStore } from '../../server/store/file-store';
import { execEntry, labRecord, storeContract } from './store-contract';

storeContract('file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nslab-store-'));
  return {
    open: async () => new FileStore(dir),
    destroy: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

describe('file store crash safety', () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'nslab-store-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('cuts off a log line torn by a crash and appends after the last whole entry', async () => {
    const dir = tempDir();
    const store = new FileStore(dir);
    await store.createLab(labRecord('a1'));
    await store.append('a1', execEntry(1));
    await store.close();
    const logPath = join(dir, 'labs', 'a1', 'log.jsonl');
    appendFileSync(logPath, JSON.stringify(execEntry(2)).slice(0, 30));

    const reopened = new FileStore(dir);
    expect(await reopened.readLog('a1')).toEqual([execEntry(1)]);
    await reopened.append('a1', execEntry(2, 'after the tear'));
    expect(readFileSync(logPath, 'utf8')).toBe(JSON.stringify(execEntry(1)) + '\n' + JSON.stringify(execEntry(2, 'after the tear')) + '\n');
    await reopened.close();
  });

  it('drops a torn notes update', async () => {
    const dir = tempDir();
    const store = new FileStore(dir);
    await store.createLab(labRecord('a1'));
    await store.appendNotes('a1', new Uint8Array([1, 2]));
    appendFileSync(join(dir, 'labs', 'a1', 'notes.jsonl'), 'AAE');
    expect(await store.readNotes('a1')).toEqual({ snapshot: null, updates: [new Uint8Array([1, 2])] });
    await store.close();
  });

  it('refuses a directory that a live process owns, and takes over from a dead one', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'lock'), String(process.ppid));
    expect(() => new FileStore(dir)).toThrow(new DataDirInUseError(`${dir} is in use by process ${process.ppid}`));
    writeFileSync(join(dir, 'lock'), '2147483646');
    const store = new FileStore(dir);
    expect(readFileSync(join(dir, 'lock'), 'utf8')).toBe(String(process.pid));
    await store.close();
  });
});
