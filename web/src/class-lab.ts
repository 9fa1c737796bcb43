// What a class adds to a lab page: the instructor's messages as toasts, the
// class's state (locked, who drives a group lab), and for a student their
// lesson (tasks and instructions) and their new lab after the instructor
// resets theirs (close code 4410).
import type { ClassState, InstructorMessage } from '../../shared/protocol';
import { classCall, classPath, studentLabPath, type ClassAccess, type Membership } from './class-api';
import type { LabConnection } from './connection';
import { el } from './dom';
import { bindText, onLanguageChange, t } from './i18n';
import { instructionsView, renderTaskList } from './lesson';
import './class.css';

/** How long after the lab's last change the student's progress is asked for again: one request per burst of commands. */
const PROGRESS_DELAY_MS = 300;

export function classLab(connection: LabConnection, header: HTMLElement, side: HTMLElement, student: ClassAccess | null): void {
  const state = el('span', 'class-state');
  state.setAttribute('role', 'status');
  state.hidden = true;
  header.querySelector('.role')!.after(state);
  const toasts = el('div', 'toasts');
  document.body.append(toasts);

  let classState: ClassState | null = null;
  const renderState = () => {
    if (!classState) return;
    const driver = classState.driver;
    const text = classState.locked
      ? t('classLocked')
      : driver && driver.participant === connection.welcome?.participant
        ? t('youDrive')
        : driver
          ? t('youNavigate').replace('{name}', driver.name)
          : '';
    state.textContent = text;
    state.hidden = text === '';
    state.classList.toggle('locked', classState.locked);
  };
  onLanguageChange(renderState);

  connection.onMessage((message) => {
    if (message.type === 'class') {
      classState = message;
      renderState();
    } else if (message.type === 'message') toasts.append(toast(message));
  });

  if (student) studentLesson(connection, side, student);
}

function toast(message: InstructorMessage): HTMLElement {
  const node = el('div', 'toast');
  node.setAttribute('role', 'alert');
  const from = el('strong', 'toast-from');
  const render = () => (from.textContent = t('messageFromInstructor').replace('{name}', message.from));
  render();
  const stopRendering = onLanguageChange(render);
  const dismiss = bindText(el('button', 'toast-dismiss'), 'dismiss');
  dismiss.type = 'button';
  dismiss.addEventListener('click', () => {
    stopRendering();
    node.remove();
  });
  node.append(from, el('p', 'toast-text', message.text), dismiss);
  return node;
}

function studentLesson(connection: LabConnection, side: HTMLElement, student: ClassAccess): void {
  const tasks = el('ol', 'task-list');
  const instructions = el('details', 'instructions');
  const problem = el('p', 'error');
  problem.setAttribute('role', 'alert');
  const pane = el('section', 'lesson-pane');
  pane.append(bindText(el('h2'), 'tasks'), tasks, instructions, problem);
  side.prepend(pane);
  side.classList.add('with-lesson');

  /** The student's membership, or null with the API's error shown in the pane. */
  const me = async (): Promise<Membership | null> => {
    try {
      const membership = await classCall<Membership>(classPath(student, '/me'), student.token);
      problem.textContent = '';
      return membership;
    } catch (error) {
      problem.textContent = (error as Error).message;
      return null;
    }
  };
  void me().then((membership) => {
    if (!membership) return;
    renderTaskList(tasks, membership.tasks);
    instructions.append(bindText(el('summary'), 'instructions'), instructionsView(membership.instructions));
  });

  let timer: ReturnType<typeof setTimeout> | undefined;
  connection.state.getArray('activity').observe(() => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const membership = await me();
      if (membership) renderTaskList(tasks, membership.tasks);
    }, PROGRESS_DELAY_MS);
  });

  connection.onStatus(async (status) => {
    if (status.kind !== 'closed' || status.reason !== 'moved') return;
    const membership = await me();
    if (membership) location.assign(studentLabPath(membership.lab, student));
  });
}
