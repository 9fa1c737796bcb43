// Disposable copies of a lab's engine, on which checks run commands: a copy
// taken from a spare built in the background and caught up must answer
// exactly as a copy replayed from the whole log, and the lab is never touched.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EngineCopies, replayHost } from '../../server/labs/history';
import { LabHost } from '../../server/labs/lab-host';
import { loadTemplates } from '../../server/labs/templates';
import type { LabRecord, LogEntry } from '../../server/store/types';

const lesson = readFileSync(join(import.meta.dirname, '..', 'golden', 'public', 'seed-lesson.txt'), 'utf8')
  .split('\n')
  .map((line) => /^([A-Za-z0-9_-]+)\$ (.*)$/.exec(line))
  .filter((m) => m !== null);

const PROBES = ['ip -br addr', 'ip neigh', 'ip netns exec blue ip route', 'iptables -t nat -S', 'ip netns exec blue ping -c 1 -W 1 198.51.100.53'];

describe('engine copies', () => {
  it('answers as a full replay at every point of the seed lesson, leaving the lab as it was', async () => {
    const record: LabRecord = { id: 'copies', title: 'Copies', world: loadTemplates().get('classroom')!.world, seed: 1, createdAt: '2026-01-01T00:00:00.000Z' };
    const live = replayHost(record, []);
    const copies = new EngineCopies();
    for (const [i, m] of lesson.entries()) {
      const entry: LogEntry = { kind: 'exec', seq: i + 1, at: live.now, who: 'p1', name: 'Ada', terminal: 't1', host: m[1]!, line: m[2]!, cid: `c${i}`, mode: 'run', limitUs: 60_000_000 };
      live.apply(entry);
      if (i % 6 !== 5) continue;
      const before = JSON.stringify(live.state.doc.toJSON());
      const copy = copies.take(live);
      const fresh = replayHost(record, live.log, false).engine;
      for (const probe of PROBES) expect(copy.run('hostA', probe).output, `${probe} after entry ${i + 1}`).toBe(fresh.run('hostA', probe).output);
      expect(JSON.stringify(live.state.doc.toJSON())).toBe(before);
      // Let the spare copy be built before the next one is taken.
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    copies.dispose();
  });

  it('copies a lab loaded from a snapshot, from that snapshot and the entries after it', () => {
    const record: LabRecord = { id: 'copies', title: 'Copies', world: loadTemplates().get('classroom')!.world, seed: 1, createdAt: '2026-01-01T00:00:00.000Z' };
    const entries: LogEntry[] = [];
    const original = replayHost(record, []);
    const entryAt = (i: number): LogEntry => ({ kind: 'exec', seq: i + 1, at: original.now, who: 'p1', name: 'Ada', terminal: 't1', host: lesson[i]![1]!, line: lesson[i]![2]!, cid: `c${i}`, mode: 'run', limitUs: 60_000_000 });
    for (let i = 0; i < 12; i++) {
      entries.push(entryAt(i));
      original.apply(entries[i]!);
    }
    const loaded = new LabHost(record, { saved: original.snapshot()! });
    for (let i = 12; i < 24; i++) {
      entries.push(entryAt(i));
      original.apply(entries[i]!);
      loaded.apply(entries[i]!);
    }
    expect(loaded.restoredAt).toBe(12);
    const copies = new EngineCopies();
    const copy = copies.take(loaded);
    const fresh = replayHost(record, entries, false).engine;
    for (const probe of PROBES) expect(copy.run('hostA', probe).output, probe).toBe(fresh.run('hostA', probe).output);
    copies.dispose();
  });
});
