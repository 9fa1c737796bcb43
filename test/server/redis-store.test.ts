import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { ClassConflictError, type BusMessage, type ClassBusMessage, type LogEntry } from '../../server/store/types';
import { classRecord, storeContract } from './store-contract';
import { freshRedisStore, REDIS_URL, redisUp } from './redis';

describe.skipIf(!redisUp)('Redis', () => {
  storeContract('redis', freshRedisStore);

  it('trims the stream up to each snapshot into a compressed archive, keeping its last entry', async () => {
    const redis = freshRedisStore();
    const store = await redis.open();
    const raw = new Redis(REDIS_URL);
    const key = (part: string) => `${redis.prefix}lab:{lab1}:${part}`;
    try {
      await store.createLab({ id: 'lab1', title: 't', world: {}, seed: 1, createdAt: '2026-01-01T00:00:00.000Z' });
      const entry = (seq: number): LogEntry => ({ kind: 'advance', seq, at: seq, to: seq });
      for (let seq = 1; seq <= 30; seq++) await store.append('lab1', entry(seq));
      const streamLength = () => raw.xlen(key('log'));
      await store.saveSnapshot('lab1', { seq: 20, engine: 'e', data: '{}' });
      expect(await streamLength()).toBe(10);
      await store.saveSnapshot('lab1', { seq: 30, engine: 'e', data: '{}' });
      expect(await streamLength()).toBe(1);
      expect(await raw.llen(key('archive'))).toBe(2);
      expect(await store.readLog('lab1')).toEqual(Array.from({ length: 30 }, (_, i) => entry(i + 1)));
    } finally {
      raw.disconnect();
      await store.close();
      await redis.destroy();
    }
  });

  describe('bus', () => {
    const cleanups: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    /** Two stores on one prefix, as two server instances hold them. */
    async function twoInstances() {
      const redis = freshRedisStore();
      const first = await redis.open();
      const second = await redis.open();
      cleanups.push(() => redis.destroy(), () => first.close(), () => second.close());
      return [first, second] as const;
    }

    const entry = (seq: number): LogEntry => ({ kind: 'advance', seq, at: seq * 10, to: seq * 10 });
    const record = { id: 'lab1', title: 't', world: {}, seed: 1, createdAt: '2026-01-01T00:00:00.000Z' };

    it('tells every listener of each appended entry, in order, and of what instances publish', async () => {
      const [first, second] = await twoInstances();
      await first.createLab(record);
      const heard: BusMessage[] = [];
      const stop = await second.bus.subscribe('lab1', (m) => heard.push(m));
      await first.append('lab1', entry(1));
      await first.append('lab1', entry(2));
      await first.bus.publish('lab1', { kind: 'participants', from: 'i1', participants: ['p1'] });
      await expect.poll(() => heard.length).toBe(3);
      expect(heard).toEqual([
        { kind: 'entry', entry: entry(1) },
        { kind: 'entry', entry: entry(2) },
        { kind: 'participants', from: 'i1', participants: ['p1'] },
      ]);
      stop();
      await first.append('lab1', entry(3));
      await first.bus.publish('lab1', { kind: 'deleted' });
      // A round trip on the subscribing side's Redis, so anything still in flight would have arrived.
      await second.readLog('lab1');
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(heard.length).toBe(3);
    });

    it('tells every listener of each class written, and of what instances publish about classes; nothing of a refused write', async () => {
      const [first, second] = await twoInstances();
      const heard: ClassBusMessage[] = [];
      await second.bus.subscribeClasses((m) => heard.push(m));
      await first.createClass(classRecord('c1'));
      const locked = { ...classRecord('c1'), locked: true, version: 2 };
      await first.updateClass(locked);
      await expect(first.updateClass({ ...classRecord('c1'), version: 2 })).rejects.toBeInstanceOf(ClassConflictError);
      const message: ClassBusMessage = { kind: 'message', from: 'i1', labs: ['l1'], to: null, message: { type: 'message', from: 'Kim', to: 'class', text: 'hi', at: '2026-01-01T00:00:00.000Z' } };
      await first.bus.publishClass(message);
      await expect.poll(() => heard.length).toBe(3);
      expect(heard).toEqual([{ kind: 'changed', record: classRecord('c1') }, { kind: 'changed', record: locked }, message]);
    });

    it('publishes nothing for a refused append', async () => {
      const [first, second] = await twoInstances();
      await first.createLab(record);
      const heard: BusMessage[] = [];
      await second.bus.subscribe('lab1', (m) => heard.push(m));
      await first.append('lab1', entry(1));
      await expect(first.append('lab1', entry(1))).rejects.toThrow('lab lab1: log is at entry 1; append refused');
      await first.append('lab1', entry(2));
      await expect.poll(() => heard.length).toBe(2);
      expect(heard.map((m) => (m.kind === 'entry' ? m.entry.seq : m.kind))).toEqual([1, 2]);
    });
  });
});
