// npm start: the nslab server, configured from the environment (README.md).
import { resolve } from 'node:path';
import { FileStore } from './store/file-store';
import { RedisStore } from './store/redis-store';
import type { Store } from './store/types';
import { createNslabServer, DEFAULT_SETTINGS, type ServerSettings } from './net/server';

function numberFrom(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number, not "${text}"`);
  return value;
}

async function main(): Promise<void> {
  const port = numberFrom('PORT', 8080);
  const host = process.env.HOST || '0.0.0.0';
  const redisUrl = process.env.REDIS_URL;
  const dataDir = resolve(process.env.DATA_DIR || './data');
  const store: Store = redisUrl ? await RedisStore.open({ url: redisUrl, prefix: process.env.REDIS_PREFIX || 'nslab:' }) : new FileStore(dataDir);
  const settings: Partial<ServerSettings> = {
    secret: process.env.NSLAB_SECRET || null,
    publicUrl: process.env.PUBLIC_URL || null,
    allowedOrigins: process.env.ALLOWED_ORIGINS ? process.env.ALLOWED_ORIGINS.split(',').map((o) => o.trim()) : null,
    maxLabs: numberFrom('MAX_LABS', DEFAULT_SETTINGS.maxLabs),
    maxConnections: numberFrom('MAX_CONNECTIONS', DEFAULT_SETTINGS.maxConnections),
    idleMs: numberFrom('LAB_IDLE_MS', DEFAULT_SETTINGS.idleMs),
    requestsPerSecond: numberFrom('HTTP_REQUESTS_PER_SECOND', DEFAULT_SETTINGS.requestsPerSecond),
    stuckMs: numberFrom('CLASS_STUCK_MINUTES', DEFAULT_SETTINGS.stuckMs / 60_000) * 60_000,
    joinCodeTtlMs: numberFrom('JOIN_CODE_MINUTES', DEFAULT_SETTINGS.joinCodeTtlMs / 60_000) * 60_000,
  };
  const server = await createNslabServer(store, settings);
  const address = await server.listen(port, host);
  console.log(`nslab listening on http://${address.address}:${address.port} (store: ${redisUrl ? `redis ${redisUrl}` : `files in ${dataDir}`})`);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await server.close();
    await store.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((e) => {
  console.error(`nslab: ${(e as Error).message}`);
  process.exit(1);
});
