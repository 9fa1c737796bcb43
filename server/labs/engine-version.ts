// Which engine code this process runs: a hash of the simulator's sources. An
// engine snapshot restores only on the code that took it (server/sim/snapshot.ts),
// so snapshots are stored with this and ignored by any other version.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const SIM_DIR = join(import.meta.dirname, '..', 'sim');

function sourcesHash(): string {
  const hash = createHash('sha256');
  const files = readdirSync(SIM_DIR, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .sort();
  for (const file of files) hash.update(file).update('\0').update(readFileSync(join(SIM_DIR, file))).update('\0');
  return hash.digest('hex').slice(0, 16);
}

export const ENGINE_VERSION = sourcesHash();
