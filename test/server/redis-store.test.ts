import { describe } from 'vitest';
import { RedisStore } from '../../server/store/redis-store';
import { storeContract } from './store-contract';
import { REDIS_URL, redisUp, testPrefix } from './redis';

describe.skipIf(!redisUp)('Redis', () => {
  storeContract('redis', () => {
    const prefix = testPrefix();
    return {
      open: () => RedisStore.open({ url: REDIS_URL, prefix }),
      destroy: async () => {
        const store = await RedisStore.open({ url: REDIS_URL, prefix });
        await store.removeAllKeys();
        await store.close();
      },
    };
  });
});
