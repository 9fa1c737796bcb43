// What a class adds to a lab page: the instructor's messages as toasts, the
// class's state (locked, who drives a group lab, the hand-over by the driver
// or the instructor), a banner while the instructor is in the lab, and for a
// student their lesson (tasks and instructions) and their new lab after the
// instructor resets theirs (close code 4410).
import { RelayedPresence, type ClassState, type InstructorMessage } from '../../shared/protocol';
import { classCall, classPath, studentLabPath, type ClassAccess, type Membership } from './class-api';
import type { LabConnection } from './connection';
import { el } from './dom';
import { bindText, onLanguageChange, t } from './i18n';
import { instructionsView, renderTaskList } from './lesson';
import './class.css';

/** How long after the lab's last change the student's progress is asked for again: one request per burst of commands. */
const PROGRESS_DELAY_MS = 300;

/** `token`: the page's lab token; `student`: the class access of a student's own lab page. */
export function classLab(connection: LabConnection, token: string, header: HTMLElement, side: HTMLElement, terminalPane: HTMLElement, student: ClassAccess | null): void {
  const state = el('span', 'class-state');
  state.setAttribute('role', 'status');
  state.hidden = true;
  const handOver = el('span', 'hand-over');
  header.querySelector('.role')!.after(state, handOver);
  const navigating = el('p', 'navigator-notice');
  navigating.setAttribute('role', 'status');
  navigating.hidden = true;
  terminalPane.querySelector('.terminals')!.before(navigating);
  header.after(instructorBanner(connection));
  const toasts = el('div', 'toasts');
  document.body.append(toasts);

  let classState: ClassState | null = null;
  const renderState = () => {
    if (!classState) return;
    const { driver, members } = classState;
    const me = connection.welcome?.participant;
    // The instructor, who may type in any lab, is no member: neither driving nor navigating.
    const isMember = members.some((m) => m.participant === me);
    const driving = isMember && driver?.participant === me;
    const text = classState.locked
      ? t('classLocked')
      : driving
        ? t('youDrive')
        : driver
          ? t(isMember ? 'youNavigate' : 'driverIs').replace('{name}', driver.name)
          : '';
    state.textContent = text;
    state.hidden = text === '';
    state.classList.toggle('locked', classState.locked);
    navigating.hidden = !isMember || driving;
    navigating.textContent = driver && isMember ? t('navigatorNotice').replaceAll('{name}', driver.name) : '';
    terminalPane.classList.toggle('navigating', !navigating.hidden);
    // The driver hands over with their class token (a student's lab page has it). The instructor, who
    // alone holds an owner token in a class's lab, makes anyone the driver with that token.
    const instructing = !isMember && connection.welcome?.role === 'owner';
    const handingOver: ClassAccess | null = driving ? student : instructing ? { class: classState.class, token } : null;
    const candidates = handingOver ? members.filter((m) => m.participant !== driver?.participant) : [];
    handOver.replaceChildren(
      ...candidates.map((other) => {
        const button = el('button', 'hand-over-to', t(driving ? 'handOverTo' : 'makeDriverOf').replace('{name}', other.name));
        button.type = 'button';
        button.addEventListener('click', () => {
          classCall(classPath(handingOver!, '/driver'), handingOver!.token, { body: { member: other.participant } }).catch((error: Error) => toasts.append(problemToast(error.message)));
        });
        return button;
      }),
    );
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

/** A banner while the class's instructor is in the lab, saying whether they are typing (the server marks their presence). */
function instructorBanner(connection: LabConnection): HTMLElement {
  const banner = el('div', 'instructor-banner');
  banner.setAttribute('role', 'status');
  banner.hidden = true;
  const render = () => {
    const instructors = [...connection.awareness.getStates()]
      .filter(([client]) => client !== connection.awareness.clientID)
      .map(([, state]) => RelayedPresence.safeParse(state).data)
      .filter((presence): presence is RelayedPresence => presence?.instructor === true);
    const shown = instructors.find((presence) => presence.typing) ?? instructors[0];
    banner.hidden = !shown;
    banner.classList.toggle('typing', shown?.typing === true);
    banner.textContent = shown ? t(shown.typing ? 'instructorTyping' : 'instructorWatching').replace('{name}', shown.name) : '';
  };
  connection.awareness.on('change', render);
  onLanguageChange(render);
  return banner;
}

function toast(message: InstructorMessage): HTMLElement {
  return dismissable(message.text, () => t('messageFromInstructor').replace('{name}', message.from));
}

/** A refused hand-over, with the API's reason. */
function problemToast(text: string): HTMLElement {
  const node = dismissable(text, () => t('handOverFailed'));
  node.classList.add('problem');
  return node;
}

/** A toast: a heading (translated when the language changes), a text, and a button that dismisses it. */
function dismissable(text: string, heading: () => string): HTMLElement {
  const node = el('div', 'toast');
  node.setAttribute('role', 'alert');
  const from = el('strong', 'toast-from');
  const render = () => (from.textContent = heading());
  render();
  const stopRendering = onLanguageChange(render);
  const dismiss = bindText(el('button', 'toast-dismiss'), 'dismiss');
  dismiss.type = 'button';
  dismiss.addEventListener('click', () => {
    stopRendering();
    node.remove();
  });
  node.append(from, el('p', 'toast-text', text), dismiss);
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
