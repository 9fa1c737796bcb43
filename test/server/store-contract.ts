// The contract every store backend passes: run by file-store.test.ts and
// redis-store.test.ts against the real backends.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ClassConflictError, JoinCodeTakenError, LabNotFoundError, LogConflictError, type ClassRecord, type ExecEntry, type LabRecord, type Store } from '../../server/store/types';

export interface StoreHarness {
  /** A store over the harness's backing data; a second call sees what the first wrote. */
  open(): Promise<Store>;
  /** Removes the backing data. */
  destroy(): Promise<void>;
}

export function labRecord(id: string): LabRecord {
  return { id, title: `Lab ${id}`, world: { name: 'w', segments: [], hosts: {} }, seed: 7, createdAt: '2026-01-01T00:00:00.000Z' };
}

export function execEntry(seq: number, line = `echo ${seq}`): ExecEntry {
  return { kind: 'exec', seq, at: seq * 20_000, who: 'p1', name: 'Ada', terminal: null, host: 'hostA', line, cid: `c${seq}`, mode: 'run', limitUs: 60_000_000 };
}

export function classRecord(id: string, code: string | null = `CODE${id}`): ClassRecord {
  return {
    id,
    title: `Class ${id}`,
    templateId: 'classroom',
    mode: 'solo',
    groupSize: 1,
    joinCode: code === null ? null : { code, expiresAt: '2026-01-01T01:00:00.000Z' },
    locked: false,
    members: [],
    instructor: 'i1',
    createdAt: '2026-01-01T00:00:00.000Z',
    version: 1,
  };
}

export function storeContract(name: string, makeHarness: () => StoreHarness): void {
  describe(`${name} store contract`, () => {
    let harness: StoreHarness;
    let store: Store;

    beforeEach(async () => {
      harness = makeHarness();
      store = await harness.open();
    });

    afterEach(async () => {
      await store.close();
      await harness.destroy();
    });

    it('answers ping', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });

    it('creates, reads and counts labs, refusing a duplicate id', async () => {
      expect(await store.countLabs()).toBe(0);
      await store.createLab(labRecord('a1'));
      await store.createLab(labRecord('b2'));
      expect(await store.getLab('a1')).toEqual(labRecord('a1'));
      expect(await store.getLab('zz')).toBeNull();
      expect(await store.countLabs()).toBe(2);
      await expect(store.createLab({ ...labRecord('a1'), title: 'other' })).rejects.toThrow('lab a1 already exists');
      expect(await store.getLab('a1')).toEqual(labRecord('a1'));
    });

    it('appends entries in order and reads them back, whole or after a seq', async () => {
      await store.createLab(labRecord('a1'));
      const entries = [execEntry(1), { kind: 'advance', seq: 2, at: 40_000, to: 1_040_000 } as const, { kind: 'interrupt', seq: 3, at: 1_040_000, target: 1 } as const];
      for (const e of entries) await store.append('a1', e);
      expect(await store.readLog('a1')).toEqual(entries);
      expect(await store.readLog('a1', 2)).toEqual(entries.slice(2));
      expect(await store.readLog('a1', 3)).toEqual([]);
    });

    it('refuses an append that does not follow the last entry, naming the last seq', async () => {
      await store.createLab(labRecord('a1'));
      await store.append('a1', execEntry(1));
      const gap = store.append('a1', execEntry(3));
      await expect(gap).rejects.toBeInstanceOf(LogConflictError);
      await expect(gap).rejects.toMatchObject({ lastSeq: 1 });
      await expect(store.append('a1', execEntry(1, 'again'))).rejects.toMatchObject({ lastSeq: 1 });
      expect(await store.readLog('a1')).toEqual([execEntry(1)]);
    });

    it('lets exactly one of two racing appends of the same seq win', async () => {
      await store.createLab(labRecord('a1'));
      const results = await Promise.allSettled([store.append('a1', execEntry(1, 'first')), store.append('a1', execEntry(1, 'second'))]);
      expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
      const log = await store.readLog('a1');
      expect(log).toHaveLength(1);
      expect(log[0]!.kind === 'exec' && ['first', 'second'].includes(log[0]!.line)).toBe(true);
    });

    it('refuses appends and reads for a lab that does not exist', async () => {
      await expect(store.append('nope', execEntry(1))).rejects.toBeInstanceOf(LabNotFoundError);
      await expect(store.readLog('nope')).rejects.toBeInstanceOf(LabNotFoundError);
      await expect(store.appendNotes('nope', new Uint8Array([1]))).rejects.toBeInstanceOf(LabNotFoundError);
      await expect(store.readNotes('nope')).rejects.toBeInstanceOf(LabNotFoundError);
      await expect(store.compactNotes('nope', new Uint8Array([1]), 0)).rejects.toBeInstanceOf(LabNotFoundError);
    });

    it('keeps notes updates and compacts them into a snapshot', async () => {
      await store.createLab(labRecord('a1'));
      expect(await store.readNotes('a1')).toEqual({ snapshot: null, updates: [] });
      const updates = [new Uint8Array([1, 2, 3]), new Uint8Array([0, 10, 255]), new Uint8Array([4])];
      for (const u of updates) await store.appendNotes('a1', u);
      expect(await store.readNotes('a1')).toEqual({ snapshot: null, updates });
      await store.compactNotes('a1', new Uint8Array([9, 9]), 2);
      expect(await store.readNotes('a1')).toEqual({ snapshot: new Uint8Array([9, 9]), updates: [updates[2]] });
      await store.compactNotes('a1', new Uint8Array([8]), 1);
      expect(await store.readNotes('a1')).toEqual({ snapshot: new Uint8Array([8]), updates: [] });
    });

    it('keeps the latest engine snapshot of a lab', async () => {
      await store.createLab(labRecord('a1'));
      expect(await store.readSnapshot('a1')).toBeNull();
      await store.saveSnapshot('a1', { seq: 3, engine: 'e1', data: '{"x":1}' });
      await store.saveSnapshot('a1', { seq: 7, engine: 'e1', data: '{"x":2}' });
      expect(await store.readSnapshot('a1')).toEqual({ seq: 7, engine: 'e1', data: '{"x":2}' });
      await expect(store.saveSnapshot('nope', { seq: 1, engine: 'e1', data: '{}' })).rejects.toBeInstanceOf(LabNotFoundError);
    });

    it('still gives every entry, and refuses conflicting appends, after snapshots', async () => {
      await store.createLab(labRecord('a1'));
      for (let seq = 1; seq <= 10; seq++) await store.append('a1', execEntry(seq));
      await store.saveSnapshot('a1', { seq: 4, engine: 'e1', data: '{}' });
      await store.saveSnapshot('a1', { seq: 10, engine: 'e1', data: '{}' });
      const all = Array.from({ length: 10 }, (_, i) => execEntry(i + 1));
      expect(await store.readLog('a1')).toEqual(all);
      expect(await store.readLog('a1', 3)).toEqual(all.slice(3));
      expect(await store.readLog('a1', 9)).toEqual(all.slice(9));
      expect(await store.readLog('a1', 10)).toEqual([]);
      await expect(store.append('a1', execEntry(10))).rejects.toMatchObject({ lastSeq: 10 });
      await store.append('a1', execEntry(11));
      expect(await store.readLog('a1', 8)).toEqual([...all.slice(8), execEntry(11)]);
    });

    it('keeps the first time given for each progress mark, answering with all of them', async () => {
      await store.createLab(labRecord('a1'));
      await store.createLab(labRecord('b2'));
      expect(await store.addProgressMarks('a1', {})).toEqual({});
      expect(await store.addProgressMarks('a1', { 'task:one': 1_700_000_000_001, 'checks:2': 1_700_000_000_002 })).toEqual({ 'task:one': 1_700_000_000_001, 'checks:2': 1_700_000_000_002 });
      expect(await store.addProgressMarks('a1', { 'task:one': 1_800_000_000_000, 'task:two': 1_700_000_000_003, constructor: 5 })).toEqual({
        'task:one': 1_700_000_000_001,
        'checks:2': 1_700_000_000_002,
        'task:two': 1_700_000_000_003,
        constructor: 5,
      });
      expect(await store.addProgressMarks('b2', {})).toEqual({});
      const racing = await Promise.all([store.addProgressMarks('b2', { 'checks:1': 10 }), store.addProgressMarks('b2', { 'checks:1': 20 })]);
      expect(racing[1]).toEqual(racing[0]);
      expect([10, 20]).toContain(racing[0]!['checks:1']);
      await expect(store.addProgressMarks('nope', {})).rejects.toBeInstanceOf(LabNotFoundError);
    });

    it('deletes a lab with its log, notes, snapshot and progress marks; a new lab under that id starts empty', async () => {
      await store.createLab(labRecord('a1'));
      await store.append('a1', execEntry(1));
      await store.appendNotes('a1', new Uint8Array([1]));
      await store.saveSnapshot('a1', { seq: 1, engine: 'e1', data: '{}' });
      await store.addProgressMarks('a1', { 'task:one': 1 });
      expect(await store.deleteLab('a1')).toBe(true);
      expect(await store.deleteLab('a1')).toBe(false);
      expect(await store.getLab('a1')).toBeNull();
      expect(await store.countLabs()).toBe(0);
      await expect(store.append('a1', execEntry(2))).rejects.toBeInstanceOf(LabNotFoundError);
      await store.createLab(labRecord('a1'));
      expect(await store.readLog('a1')).toEqual([]);
      expect(await store.readNotes('a1')).toEqual({ snapshot: null, updates: [] });
      expect(await store.readSnapshot('a1')).toBeNull();
      expect(await store.addProgressMarks('a1', {})).toEqual({});
      await store.append('a1', execEntry(1, 'fresh'));
      expect(await store.readLog('a1')).toEqual([execEntry(1, 'fresh')]);
    });

    it('keeps the first secret it is given', async () => {
      expect(await store.secret('s3cret')).toBe('s3cret');
      expect(await store.secret('other')).toBe('s3cret');
    });

    it('creates and reads classes, finding them by join code', async () => {
      await store.createClass(classRecord('c1'));
      expect(await store.getClass('c1')).toEqual(classRecord('c1'));
      expect(await store.getClass('zz')).toBeNull();
      expect(await store.classIdByCode('CODEc1')).toBe('c1');
      expect(await store.classIdByCode('NOPE')).toBeNull();
      await expect(store.createClass({ ...classRecord('c1'), title: 'other' })).rejects.toThrow('class c1 already exists');
      await expect(store.createClass(classRecord('c2', 'CODEc1'))).rejects.toBeInstanceOf(JoinCodeTakenError);
      expect(await store.getClass('c2')).toBeNull();
    });

    it('updates a class only from the version it replaces, moving its join code', async () => {
      await store.createClass(classRecord('c1'));
      await store.createClass(classRecord('c2'));
      const member = { id: 's1', name: 'Ada', labId: 'l1', group: null, driver: true, joinedAt: '2026-01-01T00:01:00.000Z' };
      const v2 = { ...classRecord('c1', 'NEW1'), members: [member], version: 2 };
      await store.updateClass(v2);
      expect(await store.getClass('c1')).toEqual(v2);
      expect(await store.classIdByCode('NEW1')).toBe('c1');
      expect(await store.classIdByCode('CODEc1')).toBeNull();
      await expect(store.updateClass({ ...v2, locked: true })).rejects.toBeInstanceOf(ClassConflictError);
      await expect(store.updateClass({ ...v2, joinCode: { code: 'CODEc2', expiresAt: v2.joinCode!.expiresAt }, version: 3 })).rejects.toBeInstanceOf(JoinCodeTakenError);
      await expect(store.updateClass({ ...classRecord('c9'), version: 2 })).rejects.toThrow('class c9 does not exist');
      const revoked = { ...v2, joinCode: null, locked: true, version: 3 };
      await store.updateClass(revoked);
      expect(await store.classIdByCode('NEW1')).toBeNull();
      expect(await store.getClass('c1')).toEqual(revoked);
    });

    it('lets exactly one of two racing class updates win', async () => {
      await store.createClass(classRecord('c1'));
      const results = await Promise.allSettled([store.updateClass({ ...classRecord('c1'), title: 'a', version: 2 }), store.updateClass({ ...classRecord('c1'), title: 'b', version: 2 })]);
      expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
      expect(['a', 'b']).toContain((await store.getClass('c1'))!.title);
    });

    it('gives a reopened store everything written before', async () => {
      await store.createLab(labRecord('a1'));
      for (let seq = 1; seq <= 5; seq++) await store.append('a1', execEntry(seq));
      await store.appendNotes('a1', new Uint8Array([5, 6]));
      await store.addProgressMarks('a1', { 'task:one': 1_700_000_000_001 });
      await store.secret('kept');
      await store.createClass(classRecord('c1'));
      await store.close();
      store = await harness.open();
      expect(await store.getLab('a1')).toEqual(labRecord('a1'));
      expect(await store.readLog('a1')).toEqual([1, 2, 3, 4, 5].map((seq) => execEntry(seq)));
      expect(await store.readNotes('a1')).toEqual({ snapshot: null, updates: [new Uint8Array([5, 6])] });
      expect(await store.addProgressMarks('a1', {})).toEqual({ 'task:one': 1_700_000_000_001 });
      expect(await store.secret('new')).toBe('kept');
      expect(await store.getClass('c1')).toEqual(classRecord('c1'));
      expect(await store.classIdByCode('CODEc1')).toBe('c1');
      await store.append('a1', execEntry(6));
      await expect(store.append('a1', execEntry(6))).rejects.toMatchObject({ lastSeq: 6 });
    });
  });
}
