// kill -9 of a real server process at a moment when commands are in flight
// loses nothing that was acknowledged (an HTTP 200, or an `accepted` on the
// socket), and the lab comes back consistent.
import { afterEach, describe, expect, it } from 'vitest';
import { parseScenario, replay } from '../../server/sim/transcript';
import { buildLab } from '../../server/sim/world-file';
import { loadTemplates } from '../../server/labs/templates';
import { RedisStore } from '../../server/store/redis-store';
import { LabClient } from './lab-client';
import { tempDir } from './harness';
import { kill9, killAll, post, startServerProcess } from './processes';
import { REDIS_URL, redisUp, testPrefix } from './redis';

afterEach(killAll);

async function crashRounds(env: Record<string, string>): Promise<void> {
  let { child, baseUrl } = await startServerProcess(env);
  const { id, token } = (await post(baseUrl, '/api/labs', null, { template: 'classroom' })).json;
  /** Command line → the output acknowledged for it. */
  const acknowledged = new Map<string, string>();
  const sent = new Set<string>();
  let n = 0;

  for (let round = 0; round < 3; round++) {
    const client = await LabClient.connect(baseUrl, id, token);
    let stop = false;
    const httpWorker = async (worker: number) => {
      while (!stop) {
        const line = `echo http-${round}-${worker}-${n++}`;
        sent.add(line);
        try {
          const res = await post(baseUrl, `/api/labs/${id}/exec`, token, { host: 'hostA', command: line });
          if (res.status === 200) acknowledged.set(line, res.json.output);
        } catch {
          return; // the server is gone
        }
      }
    };
    const socketWorker = async () => {
      while (!stop) {
        const line = `ip link add d${n++} type bridge`;
        const from = client.messages.length;
        sent.add(line);
        client.send({ type: 'exec', id: line, terminal: 't1', host: 'hostB', line });
        const answer = await client.until(() => client.messages.slice(from).find((m) => m.type === 'exit' || m.type === 'error'), 5000).catch(() => null);
        if (client.messages.slice(from).some((m) => m.type === 'accepted')) acknowledged.set(line, '');
        if (!answer) return;
      }
    };
    const workers = [httpWorker(1), httpWorker(2), httpWorker(3), socketWorker()];
    // Let a different number of commands through each round, then kill mid-flight.
    const target = acknowledged.size + 10 + round * 7;
    const deadline = Date.now() + 20_000;
    while (acknowledged.size < target && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    await kill9(child);
    stop = true;
    await Promise.all(workers);
    await client.closed;

    ({ child, baseUrl } = await startServerProcess(env));
    const res = await fetch(`${baseUrl}/api/labs/${id}/transcript`, { headers: { authorization: `Bearer ${token}` } });
    const transcript = await res.text();
    const world = loadTemplates().get('classroom')!.world;
    const scenario = parseScenario(transcript, new Set(['hostA', 'hostB', 'gateway', 'internet']));
    // Consistent: the transcript is what replaying its commands gives.
    expect(replay(buildLab(world, 1), scenario)).toBe(transcript);
    const ran = scenario.flatMap((s) => (s.kind === 'command' ? [s.command] : []));
    // Nothing ran twice, nothing ran that was not sent, and everything acknowledged is there with its output.
    expect(new Set(ran).size).toBe(ran.length);
    expect(ran.filter((line) => !sent.has(line))).toEqual([]);
    const missing = [...acknowledged.keys()].filter((line) => !ran.includes(line));
    expect(missing).toEqual([]);
    for (const [line, output] of acknowledged) {
      if (line.startsWith('echo ')) expect(transcript).toContain(`hostA$ ${line}\n${output}`);
    }
    expect(acknowledged.size).toBeGreaterThanOrEqual(target);
  }
  await kill9(child);
}

describe('kill -9 of a real server process', () => {
  it('loses nothing acknowledged, with the file store', async () => {
    const dir = tempDir();
    try {
      await crashRounds({ DATA_DIR: dir.dir });
    } finally {
      dir.remove();
    }
  }, 120_000);

  it.skipIf(!redisUp)('loses nothing acknowledged, with the Redis store', async () => {
    const prefix = testPrefix();
    try {
      await crashRounds({ REDIS_URL, REDIS_PREFIX: prefix, NSLAB_SECRET: 'crash-test-secret' });
    } finally {
      const store = await RedisStore.open({ url: REDIS_URL, prefix });
      await store.removeAllKeys();
      await store.close();
    }
  }, 120_000);
});
