import { startServer } from '../server/harness';
import { LabClient } from '../server/lab-client';
import { RedisStore } from '../../server/store/redis-store';
const store = await RedisStore.open({ url: 'redis://127.0.0.1:6379', prefix: 'zz-lat:' });
const s = await startServer({}, store);
const { id, token } = await s.createLab();
const c = await LabClient.connect(s.baseUrl, id, token, { notes: false });
await c.whenSynced();
const times: number[] = [];
for (let i = 0; i < 60; i++) {
  const t = performance.now();
  await new Promise((r) => setTimeout(r, 50)); const t0 = performance.now(); await c.exec(`x${i}`, 'hostA', `ip link add b${i} type bridge`);
  times.push(performance.now() - t0);
}
times.sort((a, b) => a - b);
console.log('p50', times[30].toFixed(2), 'p90', times[54].toFixed(2), 'max', times[59].toFixed(2));
await c.close(); await s.stop(false); await store.removeAllKeys(); await store.close();
