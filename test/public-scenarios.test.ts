// The public scenarios beside the project (../shared/scenarios) must replay
// identically; in CI the folder is always there.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildLab, parseWorld } from '../server/sim/world-file';
import { parseScenario, replay } from '../server/sim/transcript';
import { blocks, normalise } from './support/transcript';

const shared = join(import.meta.dirname, '../../shared');

describe('public scenarios (../shared/scenarios)', () => {
  it('are present beside the project', () => {
    expect(existsSync(join(shared, 'scenarios')), `expected ${shared}/scenarios next to the repository`).toBe(true);
  });
  const dir = join(shared, 'scenarios');
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.txt')) : [];
  for (const file of files) {
    it(file, () => {
      const spec = parseWorld(JSON.parse(readFileSync(join(shared, 'worlds/classroom.json'), 'utf8')));
      const actual = replay(buildLab(spec), parseScenario(readFileSync(join(dir, file), 'utf8'), new Set(Object.keys(spec.hosts))));
      expect(blocks(normalise(actual))).toEqual(blocks(readFileSync(join(dir, file.replace(/\.txt$/, '.out')), 'utf8')));
    });
  }
});
