// The start page: create a lab from a template or a world file, or join one
// from a link someone shared.
import { apiCall } from './api';
import { el } from './dom';
import { classForms } from './class-forms';
import { label, NAME_KEY, translated } from './fields';
import { languageSelect, t, type TextKey } from './i18n';

interface Template {
  id: string;
  title: string;
  description: string;
}

/** A lab link's id and token, from a full link or a path with its fragment. */
export function parseLabLink(link: string): { lab: string; token: string } | null {
  try {
    const url = new URL(link.trim(), location.origin);
    const lab = /^\/labs\/([^/]+)$/.exec(url.pathname)?.[1];
    const token = new URLSearchParams(url.hash.slice(1)).get('token');
    return lab && token ? { lab: decodeURIComponent(lab), token } : null;
  } catch {
    return null;
  }
}

export function startPage(root: HTMLElement, problem?: TextKey): void {
  const header = el('header', 'start-header');
  header.append(el('h1', 'brand', 'nslab'), languageSelect());

  const template = el('select', 'template');
  const world = el('input', 'world');
  world.type = 'file';
  world.accept = '.json,application/json';
  const name = el('input', 'name');
  name.maxLength = 64;
  name.required = true;
  name.value = localStorage.getItem(NAME_KEY) ?? '';
  name.autocomplete = 'name';
  const create = translated('button', 'create', 'primary');
  create.type = 'submit';
  const createError = el('p', 'error');
  createError.setAttribute('role', 'alert');
  const createForm = el('form', 'card create');
  createForm.append(translated('h2', 'createHeading'), label('displayName', name), label('template', template), label('worldFile', world), create, createError);
  const description = el('p', 'template-description');
  template.after(description);

  const link = el('input', 'link');
  link.placeholder = `${location.origin}/labs/…#token=…`;
  const join = translated('button', 'join');
  join.type = 'submit';
  const joinError = el('p', 'error');
  joinError.setAttribute('role', 'alert');
  if (problem) joinError.textContent = t(problem);
  const joinForm = el('form', 'card join');
  joinForm.append(translated('h2', 'joinHeading'), label('joinLink', link), join, joinError);

  const main = el('main', 'start');
  main.append(translated('p', 'tagline', 'tagline'), createForm, joinForm, ...classForms());
  root.replaceChildren(header, main);
  name.focus();

  let templates: Template[] = [];
  const describe = () => (description.textContent = templates.find((tpl) => tpl.id === template.value)?.description ?? '');
  template.addEventListener('change', describe);
  apiCall<Template[]>('/api/templates', null)
    .then((list) => {
      templates = list;
      template.replaceChildren(...list.map((tpl) => new Option(tpl.title, tpl.id)));
      describe();
    })
    .catch((error: Error) => (createError.textContent = error.message));

  createForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    createError.textContent = '';
    localStorage.setItem(NAME_KEY, name.value.trim());
    const file = world.files?.[0];
    let source: object;
    try {
      source = file ? { world: JSON.parse(await file.text()) as unknown } : { template: template.value };
    } catch (error) {
      createError.textContent = `${file?.name}: ${(error as Error).message}`;
      return;
    }
    create.disabled = true;
    create.textContent = t('creating');
    try {
      const body = await apiCall<{ url: string }>('/api/labs', null, { body: { ...source, name: name.value.trim() || undefined } });
      const target = parseLabLink(body.url);
      if (target) location.assign(`/labs/${encodeURIComponent(target.lab)}#token=${encodeURIComponent(target.token)}`);
    } catch (error) {
      createError.textContent = (error as Error).message;
    } finally {
      create.disabled = false;
      create.textContent = t('create');
    }
  });

  joinForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const target = parseLabLink(link.value);
    if (!target) {
      joinError.textContent = t('badLink');
      return;
    }
    location.assign(`/labs/${encodeURIComponent(target.lab)}#token=${encodeURIComponent(target.token)}`);
  });
}
