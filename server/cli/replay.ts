// npm run replay -- WORLD.json SCENARIO.txt: runs a scenario on a fresh lab
// and prints the transcript.
import { readFileSync } from 'node:fs';
import { buildLab, parseWorld, WorldFileError } from '../sim/world-file';
import { parseScenario, replay, ScenarioError } from '../sim/transcript';

function main(argv: string[]): number {
  const [worldPath, scenarioPath] = argv;
  if (!worldPath || !scenarioPath) {
    process.stderr.write('usage: npm run --silent replay -- WORLD.json SCENARIO.txt\n');
    return 2;
  }
  try {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(worldPath, 'utf8'));
    } catch (e) {
      throw new WorldFileError(`${worldPath}: ${(e as Error).message}`);
    }
    const spec = parseWorld(raw);
    const lab = buildLab(spec);
    const scenario = parseScenario(readFileSync(scenarioPath, 'utf8'), new Set(Object.keys(spec.hosts)));
    process.stdout.write(replay(lab, scenario));
    return 0;
  } catch (e) {
    if (e instanceof WorldFileError || e instanceof ScenarioError || (e as NodeJS.ErrnoException).code === 'ENOENT') {
      process.stderr.write(`replay: ${(e as Error).message}\n`);
      return 1;
    }
    throw e;
  }
}

process.exitCode = main(process.argv.slice(2));
