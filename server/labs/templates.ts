// The built-in templates: every file in server/templates (docs/TEMPLATES.md).
import { join } from 'node:path';
import { loadTemplateFolder, type LabTemplate } from '../classes/lab-template';

export type Template = LabTemplate;

const TEMPLATE_DIR = join(import.meta.dirname, '..', 'templates');

export function loadTemplates(dir = TEMPLATE_DIR): Map<string, Template> {
  return loadTemplateFolder(dir);
}
