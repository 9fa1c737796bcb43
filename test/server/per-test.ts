// What a test starts (servers, participants, streams, stores) is stopped
// after it, whatever its outcome, the last started first.
import { afterEach } from 'vitest';
import type { Store } from '../../server/store/types';
import { startServer, type Running } from './harness';
import { LabClient } from './lab-client';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Runs `cleanup` once the current test has ended. */
export function afterThisTest(cleanup: () => unknown): void {
  cleanups.push(cleanup);
}

/** A server on a fresh file store, or on `store`; stopped after the test. */
export async function server(settings: Parameters<typeof startServer>[0] = {}, store?: Store): Promise<Running> {
  const running = await startServer(settings, store);
  afterThisTest(() => running.stop());
  return running;
}

/** A participant connected to `lab` on `s` with both documents synced; disconnected after the test. */
export async function connect(s: Running, lab: string, token: string, options: { origin?: string } = {}): Promise<LabClient> {
  const client = await LabClient.connect(s.baseUrl, lab, token, options);
  afterThisTest(() => client.close());
  await client.whenSynced();
  return client;
}
