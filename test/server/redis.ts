// The real Redis on 127.0.0.1:6379 for the tests that need it. When it cannot
// be reached the tests say so; under CI (CI=true) they fail instead of skipping.
import { randomBytes } from 'node:crypto';
import { RedisStore } from '../../server/store/redis-store';

export const REDIS_URL = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379';

async function reachable(): Promise<boolean> {
  try {
    const store = await RedisStore.open({ url: REDIS_URL, connectTimeoutMs: 1000 });
    await store.close();
    return true;
  } catch (e) {
    const message = `Redis at ${REDIS_URL} is unreachable (${(e as Error).message})`;
    if (process.env.CI === 'true') throw new Error(`${message}; CI must run the Redis tests`);
    console.warn(`SKIPPING Redis tests: ${message}. Start it with: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no`);
    return false;
  }
}

export const redisUp = await reachable();

/** A key prefix of its own for each test, so runs never see each other's keys. */
export function testPrefix(): string {
  return `nslab-test:${randomBytes(6).toString('hex')}:`;
}

/** A Redis store under a fresh prefix: how to open it, and how to remove every key it wrote. */
export function freshRedisStore(): { prefix: string; open(): Promise<RedisStore>; destroy(): Promise<void> } {
  const prefix = testPrefix();
  return {
    prefix,
    open: () => RedisStore.open({ url: REDIS_URL, prefix }),
    destroy: async () => {
      const store = await RedisStore.open({ url: REDIS_URL, prefix });
      await store.removeAllKeys();
      await store.close();
    },
  };
}
