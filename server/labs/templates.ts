// Built-in worlds: every server/templates/NAME.json is the template NAME.
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseWorld, type WorldSpec } from '../sim/world-file';

export interface Template {
  id: string;
  title: string;
  description: string;
  world: WorldSpec;
}

const TEMPLATE_DIR = join(import.meta.dirname, '..', 'templates');

function titleOf(id: string): string {
  return id.replace(/[-_]+/g, ' ').replace(/^./, (c) => c.toUpperCase());
}

export function loadTemplates(dir = TEMPLATE_DIR): Map<string, Template> {
  const templates = new Map<string, Template>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    const id = basename(file, '.json');
    const world = parseWorld(JSON.parse(readFileSync(join(dir, file), 'utf8')));
    templates.set(id, { id, title: titleOf(id), description: world.description ?? '', world });
  }
  return templates;
}
