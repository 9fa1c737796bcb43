// A class template's instructions and tasks, as the dashboard and a student's
// lab show them.
import { marked } from 'marked';
import type { Instructions, TaskProgress } from './class-api';
import { el } from './dom';
import { language, onLanguageChange, t } from './i18n';

/** The instructions in the UI's language. They are the server's own template files, so their HTML is trusted. */
export function instructionsView(instructions: Instructions): HTMLElement {
  const node = el('div', 'instructions-text');
  const render = () => (node.innerHTML = marked.parse(instructions[language()], { async: false }));
  render();
  onLanguageChange(render);
  return node;
}

/** The tasks as a checklist; a task not done shows the hint of its first failing check. */
export function renderTaskList(list: HTMLElement, tasks: TaskProgress[]): void {
  list.replaceChildren(
    ...tasks.map((task) => {
      const item = el('li', `task ${task.done ? 'done' : 'todo'}`);
      item.dataset.task = task.id;
      const mark = el('span', 'task-mark', task.done ? '✓' : '○');
      mark.setAttribute('aria-label', t(task.done ? 'taskDone' : 'taskNotDone'));
      item.append(mark, el('span', 'task-title', task.title));
      const hint = task.done ? undefined : task.checks.find((check) => !check.passed)?.hint;
      if (hint) item.append(el('span', 'task-hint', hint));
      return item;
    }),
  );
}
