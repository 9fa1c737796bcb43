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

/** The tasks as a checklist; the first task not done shows the hint of its first failing check. */
export function renderTaskList(list: HTMLElement, tasks: TaskProgress[]): void {
  const next = tasks.find((task) => !task.done);
  list.replaceChildren(
    ...tasks.map((task) => {
      const item = el('li', `task ${task.done ? 'done' : 'todo'}`);
      item.dataset.task = task.id;
      const mark = el('span', 'task-mark', task.done ? '✓' : '○');
      mark.setAttribute('aria-label', t(task.done ? 'taskDone' : 'taskNotDone'));
      item.append(mark, el('span', 'task-title', task.title));
      const hint = task === next ? task.checks.find((check) => !check.passed)?.hint : undefined;
      if (hint) {
        // Hints are Markdown from the server's template files, like the instructions.
        const hintNode = el('span', 'task-hint');
        hintNode.innerHTML = marked.parseInline(hint, { async: false });
        item.append(hintNode);
      }
      return item;
    }),
  );
}
