// Labs survive a restart identical (same outputs, same state document, same
// notes and terminals) and leave memory when idle, on both stores.
import * as Y from 'yjs';
import { afterEach, describe, expect, it } from 'vitest';
import { FileStore } from '../../server/store/file-store';
import type { Store } from '../../server/store/types';
import { LabClient } from './lab-client';
import { startServer, tempDir, type Running } from './harness';
import { freshRedisStore, redisUp } from './redis';

interface Backend {
  name: string;
  skip: boolean;
  /** Opens the backend's store; each call of `fresh` gives a new, empty backing. */
  fresh(): { open(): Promise<Store>; destroy(): Promise<void> };
}

const backends: Backend[] = [
  {
    name: 'file',
    skip: false,
    fresh: () => {
      const dir = tempDir();
      return { open: async () => new FileStore(dir.dir), destroy: async () => dir.remove() };
    },
  },
  {
    name: 'redis',
    skip: !redisUp,
    fresh: freshRedisStore,
  },
];

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serverDoc(s: Running, id: string): Promise<Uint8Array> {
  return Y.encodeStateAsUpdate((await s.server.labs.get(id))!.host.state.doc);
}

for (const backend of backends) {
  describe.skipIf(backend.skip)(`${backend.name} store: restart and idle`, () => {
    async function setup() {
      const backing = backend.fresh();
      cleanups.push(() => backing.destroy());
      const start = async (settings: Parameters<typeof startServer>[0] = {}) => {
        const store = await backing.open();
        const running = await startServer(settings, store);
        let stopped = false;
        const stop = async () => {
          if (stopped) return;
          stopped = true;
          await running.stop(false);
          await store.close();
        };
        cleanups.push(stop);
        return { ...running, stop };
      };
      return { start };
    }

    it.each([
      ['from its whole log', 100],
      ['from a snapshot and the entries after it', 3],
    ])('brings a lab back identical after a restart, %s', async (_, snapshotEvery) => {
      const { start } = await setup();
      const first = await start({ snapshotEvery });
      const { id, token } = await first.createLab();
      await first.exec(id, token, 'hostA', 'ip netns add red');
      await first.exec(id, token, 'hostA', 'ip link add veth-red type veth peer name veth-host');
      await first.exec(id, token, 'hostA', 'ip link set veth-red netns red');
      const client = await LabClient.connect(first.baseUrl, id, token);
      await client.whenSynced();
      await client.exec('c1', 'hostA', 'ip netns exec red bash');
      await client.exec('c2', 'hostA', 'ip addr add 10.0.0.2/24 dev veth-red');
      await client.exec('c2b', 'hostA', 'ip link set lo up');
      client.send({ type: 'exec', id: 'c3', terminal: 't1', host: 'hostA', line: 'ping 127.0.0.1' });
      await client.until(() => client.outputOf('c3').includes('icmp_seq=2 '));
      client.send({ type: 'interrupt', id: 'c3' });
      await client.message('exit', (m) => m.id === 'c3');
      client.notes.getMap('positions').set('hostA/red', { x: 5, y: 6 });
      await first.exec(id, token, 'gateway', 'iptables -A FORWARD -i eth0 -j ACCEPT');
      await (await first.server.labs.get(id))!.notesStored();

      const transcript = (await first.api('GET', `/api/labs/${id}/transcript`, token)).text;
      const doc = await serverDoc(first, id);
      const welcome = await client.hello();
      const clientState = client.state.getMap('namespaces').toJSON();
      await first.stop();
      await client.closed;

      const second = await start({ snapshotEvery });
      expect((await second.api('GET', `/api/labs/${id}/transcript`, token)).text).toBe(transcript);
      const snapshot = await second.store.readSnapshot(id);
      const restoredAt = (await second.server.labs.get(id))!.host.restoredAt;
      if (snapshotEvery === 100) expect([snapshot, restoredAt]).toEqual([null, 0]);
      else {
        // Taken after the ping ended at the latest (nothing may run), and followed by the iptables entry.
        const logLength = (await second.store.readLog(id)).length;
        expect(snapshot!.seq).toBeGreaterThanOrEqual(6);
        expect(snapshot!.seq).toBeLessThan(logLength);
        expect(restoredAt).toBe(snapshot!.seq);
      }
      expect(await serverDoc(second, id)).toEqual(doc);
      const back = await LabClient.connect(second.baseUrl, id, token);
      await back.whenSynced();
      expect(await back.hello()).toEqual(welcome);
      expect(back.state.getMap('namespaces').toJSON()).toEqual(clientState);
      expect(back.notes.getMap('positions').toJSON()).toEqual({ 'hostA/red': { x: 5, y: 6 } });
      // The terminal is still inside `red`.
      expect((await back.exec('c4', 'hostA', 'ip -br addr show dev veth-red')).output).toBe('veth-red@if3     DOWN           10.0.0.2/24 \n');
      await back.close();

      // A client holding the old document reconnects to the rebuilt one without duplicates.
      const third = await LabClient.connect(second.baseUrl, id, token);
      Y.applyUpdate(third.state, doc);
      await third.whenSynced();
      expect(third.state.getArray('activity').toJSON()).toEqual((await second.server.labs.get(id))!.host.state.doc.getArray('activity').toJSON());
      expect(third.messages.filter((m) => m.type === 'error')).toEqual([]);
      await third.close();
    });

    it('unloads an idle lab and loads it again on demand', async () => {
      const { start } = await setup();
      const s = await start({ idleMs: 100 });
      const { id, token } = await s.createLab();
      await s.exec(id, token, 'hostB', 'ip netns add blue');
      const client = await LabClient.connect(s.baseUrl, id, token);
      await client.whenSynced();
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect((await s.server.labs.loaded()).map((lab) => lab.id)).toEqual([id]);
      await client.close();
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await s.server.labs.loaded()).toEqual([]);
      expect(await s.exec(id, token, 'hostB', 'ip netns list')).toEqual({ output: 'blue\n', exitCode: 0 });
      expect((await s.server.labs.loaded()).map((lab) => lab.id)).toEqual([id]);
    });
  });
}
