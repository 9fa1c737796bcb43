// kill -9 of one of two instances in the middle of a session: its
// participants reconnect to the other, which serves the same lab from Redis.
// Nothing acknowledged is lost, nothing runs twice, and a streaming command
// started on the dead instance carries on from the live one.
import { afterEach, describe, expect, it } from 'vitest';
import { parseScenario } from '../../server/sim/transcript';
import { RedisStore } from '../../server/store/redis-store';
import { LabClient } from './lab-client';
import { kill9, killAll, post, startServerProcess } from './processes';
import { REDIS_URL, redisUp, testPrefix } from './redis';

afterEach(killAll);

describe.skipIf(!redisUp)('kill -9 of one of two instances', () => {
  it('moves its participants to the other instance, losing nothing acknowledged and running nothing twice', async () => {
    const prefix = testPrefix();
    const env = { REDIS_URL, REDIS_PREFIX: prefix, NSLAB_SECRET: 'failover-test-secret' };
    try {
      const [doomed, survivor] = await Promise.all([startServerProcess(env), startServerProcess(env)]);
      const { id, token } = (await post(doomed.baseUrl, '/api/labs', null, { template: 'classroom' })).json;
      const editor = async (name: string) => (await post(doomed.baseUrl, `/api/labs/${id}/invites`, token, { role: 'editor', name })).json.token as string;
      const annToken = await editor('Ann');
      const bobToken = await editor('Bob');

      // Ann is on the doomed instance with a ping streaming; Bob is on the survivor.
      let ann = await LabClient.connect(doomed.baseUrl, id, annToken);
      const bob = await LabClient.connect(survivor.baseUrl, id, bobToken);
      await Promise.all([ann.whenSynced(), bob.whenSynced()]);
      ann.send({ type: 'exec', id: 'ping', terminal: 't1', host: 'hostA', line: 'ping 192.168.1.3' });
      await ann.until(() => ann.outputOf('ping').includes('icmp_seq=1 '));

      // Both type as fast as they are answered; the doomed instance dies mid-flight.
      const acknowledged = new Set<string>();
      const sent = new Set<string>();
      let n = 0;
      let stop = false;
      const typist = async (client: () => LabClient, who: string) => {
        while (!stop) {
          const line = `ip link add ${who}${n++} type bridge`;
          const c = client();
          const from = c.messages.length;
          sent.add(line);
          c.send({ type: 'exec', id: line, terminal: 't2', host: 'hostB', line });
          const end = await c.until(() => c.messages.slice(from).find((m) => (m.type === 'exit' || m.type === 'error') && m.id === line), 5000).catch(() => null);
          if (c.messages.slice(from).some((m) => m.type === 'accepted' && m.id === line)) acknowledged.add(line);
          if (!end) return;
        }
      };
      const annTyping = typist(() => ann, 'a');
      const bobTyping = typist(() => bob, 'b');
      await bob.until(() => acknowledged.size >= 20, 20_000, '20 acknowledged commands');
      await kill9(doomed.child);
      await annTyping;
      expect((await ann.closed).code).toBe(1006);

      // Ann reconnects to the survivor and asks again for whatever had no answer, with the same ids.
      ann = await LabClient.connect(survivor.baseUrl, id, annToken);
      await ann.whenSynced();
      const unanswered = [...sent].filter((line) => line.startsWith('ip link add a') && !acknowledged.has(line));
      for (const line of unanswered) {
        const { exit } = await ann.exec(line, 'hostB', line, 't2');
        expect(exit.exitCode).toBe(0);
        acknowledged.add(line);
      }
      // The ping she started on the dead instance goes on here: asking again answers with its output so far, then it streams.
      const from = ann.messages.length;
      ann.send({ type: 'exec', id: 'ping', terminal: 't1', host: 'hostA', line: 'ping 192.168.1.3' });
      expect(await ann.message('accepted', (m) => m.id === 'ping', from)).toEqual({ type: 'accepted', id: 'ping', seq: 1 });
      const seqNow = Number(await ann.until(() => /icmp_seq=(\d+) [^\n]*\n$/.exec(ann.outputOf('ping', from))?.[1], 5000, 'the ping output so far'));
      await ann.until(() => ann.outputOf('ping', from).includes(`icmp_seq=${seqNow + 2} `), 5000, 'the ping streaming from the survivor');
      ann.send({ type: 'interrupt', id: 'ping' });
      expect(await ann.message('exit', (m) => m.id === 'ping', from)).toMatchObject({ exitCode: 0, interrupted: true });

      stop = true;
      await bobTyping;
      await Promise.all([ann.close(), bob.close()]);

      const transcriptFrom = async (baseUrl: string) => (await fetch(`${baseUrl}/api/labs/${id}/transcript`, { headers: { authorization: `Bearer ${token}` } })).text();
      const transcript = await transcriptFrom(survivor.baseUrl);
      // A new instance rebuilds the lab from the stream alone, identical.
      const newcomer = await startServerProcess(env);
      expect(await transcriptFrom(newcomer.baseUrl)).toBe(transcript);
      const scenario = parseScenario(transcript, new Set(['hostA', 'hostB', 'gateway', 'internet']));
      const ran = scenario.flatMap((s) => (s.kind === 'command' ? [s.command] : []));
      expect(new Set(ran).size).toBe(ran.length);
      expect(ran.filter((line) => line !== 'ping 192.168.1.3' && !sent.has(line))).toEqual([]);
      expect([...acknowledged].filter((line) => !ran.includes(line))).toEqual([]);
    } finally {
      const store = await RedisStore.open({ url: REDIS_URL, prefix });
      await store.removeAllKeys();
      await store.close();
    }
  }, 90_000);
});
