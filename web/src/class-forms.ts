// The start page's class forms: an instructor starts a class from a template
// and lands on its dashboard; a student joins with the code and lands in
// their lab.
import { classCall, parseDashboardLink, studentLabPath, type LabLink } from './class-api';
import { el } from './dom';
import { label, NAME_KEY, translated } from './fields';
import { bindText, type TextKey } from './i18n';

function nameInput(): HTMLInputElement {
  const name = el('input', 'display-name');
  name.maxLength = 64;
  name.required = true;
  name.autocomplete = 'name';
  name.value = localStorage.getItem(NAME_KEY) ?? '';
  return name;
}

/** Runs the form's request on submit, with its button busy meanwhile and the API's error shown under it. */
function onSubmit(form: HTMLFormElement, button: HTMLButtonElement, error: HTMLElement, request: () => Promise<void>): void {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    button.disabled = true;
    try {
      await request();
    } catch (problem) {
      error.textContent = (problem as Error).message;
    } finally {
      button.disabled = false;
    }
  });
}

function formParts(heading: TextKey, submit: TextKey, className: string) {
  const form = el('form', `card ${className}`);
  const button = translated('button', submit, 'primary');
  button.type = 'submit';
  const error = el('p', 'error');
  error.setAttribute('role', 'alert');
  form.append(translated('h2', heading));
  return { form, button, error };
}

function startClassForm(): HTMLFormElement {
  const { form, button, error } = formParts('classStartHeading', 'startClass', 'start-class');
  const name = nameInput();
  const template = el('select', 'class-template');
  const mode = el('select', 'class-mode');
  mode.append(bindText(new Option('', 'solo'), 'modeSolo'), bindText(new Option('', 'group'), 'modeGroup'));
  const groupSize = el('select', 'group-size');
  groupSize.append(...[2, 3, 4].map((n) => new Option(String(n), String(n))));
  const groupField = label('groupSize', groupSize);
  groupField.hidden = true;
  mode.addEventListener('change', () => (groupField.hidden = mode.value !== 'group'));
  form.append(label('displayName', name), label('template', template), label('classMode', mode), groupField, button, error);
  void classCall<Array<{ id: string; title: string }>>('/api/templates', null).then(
    (list) => template.replaceChildren(...list.map((tpl) => new Option(tpl.title, tpl.id))),
    (problem: Error) => (error.textContent = problem.message),
  );

  onSubmit(form, button, error, async () => {
    localStorage.setItem(NAME_KEY, name.value.trim());
    const group = mode.value === 'group' ? { groupSize: Number(groupSize.value) } : {};
    const created = await classCall<{ url: string }>('/api/classes', null, { body: { template: template.value, mode: mode.value, name: name.value.trim(), ...group } });
    const dashboard = parseDashboardLink(created.url)!;
    location.assign(`/classes/${encodeURIComponent(dashboard.class)}#token=${encodeURIComponent(dashboard.token)}`);
  });
  return form;
}

function joinClassForm(): HTMLFormElement {
  const { form, button, error } = formParts('classJoinHeading', 'joinClass', 'join-class');
  const name = nameInput();
  const code = el('input', 'join-code');
  code.required = true;
  code.maxLength = 32;
  code.placeholder = 'K7M-PQ3';
  code.autocomplete = 'off';
  code.spellcheck = false;
  form.append(label('joinCode', code), label('displayName', name), button, error);

  onSubmit(form, button, error, async () => {
    localStorage.setItem(NAME_KEY, name.value.trim());
    const joined = await classCall<{ class: string; token: string; lab: LabLink }>('/api/classes/join', null, { body: { code: code.value, name: name.value.trim() } });
    location.assign(studentLabPath(joined.lab, { class: joined.class, token: joined.token }));
  });
  return form;
}

export function classForms(): HTMLFormElement[] {
  return [startClassForm(), joinClassForm()];
}
