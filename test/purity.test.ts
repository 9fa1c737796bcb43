// The simulated kernel and tools are pure: no Node APIs, no real clock, no
// ambient randomness, so the same world and commands always give the same bytes.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildLab, parseWorld } from '../server/sim/world-file';
import { parseScenario, replay } from '../server/sim/transcript';

const simDir = join(import.meta.dirname, '../server/sim');
const BANNED = [/from ['"]node:/, /from ['"](fs|net|http|os|path|crypto|child_process|ws|express|redis|yjs)['"]/, /\bDate\.now\b/, /\bnew Date\b/, /\bMath\.random\b/, /\bsetTimeout\b/, /\bsetInterval\b/, /\bperformance\.now\b/, /\bprocess\./];

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('server/sim purity', () => {
  it('imports no Node API and reads no real clock or random source', () => {
    const offences = files(simDir).flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .flatMap((line, i) => (BANNED.some((rx) => rx.test(line)) ? [`${file}:${i + 1}: ${line.trim()}`] : [])),
    );
    expect(offences).toEqual([]);
  });

  it('gives byte-identical transcripts for the same world, commands and seed', () => {
    const spec = parseWorld(JSON.parse(readFileSync(join(import.meta.dirname, '../server/templates/classroom.json'), 'utf8')));
    const scenario = parseScenario(
      ['hostA$ ip netns add red', 'hostA$ ip link add v0 type veth peer name v1', 'hostA$ ip link set v1 netns red', 'hostA$ ip addr add 10.1.0.1/24 dev v0', 'hostA$ ip link set v0 up', 'hostA$ ip -n red addr add 10.1.0.2/24 dev v1', 'hostA$ ip -n red link set v1 up', 'hostA$ ping -c 3 10.1.0.2', 'hostA$ ip -n red link', 'hostA$ ip neigh'].join('\n'),
      new Set(Object.keys(spec.hosts)),
    );
    const first = replay(buildLab(spec, 7), scenario);
    const second = replay(buildLab(spec, 7), scenario);
    expect(second).toBe(first);
    expect(replay(buildLab(spec, 8), scenario)).not.toBe(first);
  });
});
