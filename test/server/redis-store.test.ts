import { describe } from 'vitest';
import { storeContract } from './store-contract';
import { freshRedisStore, redisUp } from './redis';

describe.skipIf(!redisUp)('Redis', () => {
  storeContract('redis', freshRedisStore);
});
