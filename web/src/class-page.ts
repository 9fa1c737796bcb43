// The instructor's dashboard: every lab of the class live from the event
// stream (GET /api/classes/:id/events), its progress on each task, and the
// instructor's actions on the class and on each lab.
import { ROW_COMPARE, type RowOrder } from '../../shared/dashboard-order';
import { classCall, classPath, type ClassAccess, type Dashboard, type Instructions, type LabLink, type LabRow } from './class-api';
import { el } from './dom';
import { FaultDialog } from './fault-dialog';
import { label } from './fields';
import { bindText, languageSelect, onLanguageChange, t, type TextKey } from './i18n';
import { instructionsView } from './lesson';
import { ResetDialog } from './reset-dialog';
import './class.css';

/** Sortable columns and the order each sorts by. */
const SORTABLE: Array<{ key: TextKey; order: RowOrder }> = [
  { key: 'colStudent', order: 'name' },
  { key: 'colDone', order: 'progress' },
  { key: 'colErrors', order: 'errors' },
  { key: 'colStuck', order: 'stuck' },
];

function button(key: TextKey, className: string, onClick: () => unknown): HTMLButtonElement {
  const node = bindText(el('button', className), key);
  node.type = 'button';
  node.addEventListener('click', () => void onClick());
  return node;
}

export function classPage(root: HTMLElement, access: ClassAccess): void {
  let dashboard: Dashboard | null = null;
  let order: RowOrder = 'joined';

  const title = el('h1', 'lab-title');
  const status = el('div', 'status connecting');
  status.setAttribute('role', 'status');
  const brand = el('a', 'brand', 'nslab');
  brand.href = '/';
  const lockedBadge = bindText(el('span', 'locked-badge'), 'classLockedBadge');
  lockedBadge.hidden = true;
  const header = el('header', 'lab-header');
  header.append(brand, title, bindText(el('span', 'role'), 'dashboard'), lockedBadge, status, languageSelect());

  // The join code and the class-wide actions.
  const code = el('output', 'join-code-value');
  const expiry = el('span', 'join-code-expiry');
  const copied = bindText(el('span', 'copied'), 'copied');
  copied.hidden = true;
  const copy = button('copy', 'copy-code', async () => {
    await navigator.clipboard.writeText(dashboard?.joinCode?.code ?? '');
    copied.hidden = false;
    setTimeout(() => (copied.hidden = true), 1500);
  });
  const problem = el('p', 'error dashboard-error');
  problem.setAttribute('role', 'alert');
  /** Runs an instructor action; its error, if any, shows under the controls. */
  const act = async (action: () => Promise<unknown>) => {
    problem.textContent = '';
    try {
      await action();
    } catch (error) {
      problem.textContent = (error as Error).message;
    }
  };
  const rotate = button('rotateCode', 'rotate-code', () => act(() => classCall(classPath(access, '/join-code'), access.token, { body: {} })));
  const revoke = button('revokeCode', 'revoke-code', () => act(() => classCall(classPath(access, '/join-code'), access.token, { method: 'DELETE' })));
  const lock = el('button', 'lock-class');
  lock.type = 'button';
  lock.addEventListener('click', () => void act(() => classCall(classPath(access, '/lock'), access.token, { body: { locked: !dashboard?.locked } })));
  const exportCsv = button('exportCsv', 'export-csv', () => act(() => downloadResults(access)));
  const codeBox = el('div', 'join-code');
  codeBox.append(bindText(el('span', 'join-code-label'), 'joinCode'), code, expiry, copy, copied, rotate, revoke);
  const controls = el('section', 'class-controls');
  controls.append(codeBox, lock, exportCsv, problem);

  // Messages to everyone or to one student.
  const messageText = el('input', 'message-text');
  messageText.maxLength = 2000;
  messageText.required = true;
  const recipient = el('select', 'message-to');
  const send = bindText(el('button', 'send-message'), 'send');
  send.type = 'submit';
  const delivered = el('span', 'message-delivered');
  delivered.setAttribute('role', 'status');
  const messageForm = el('form', 'class-message');
  messageForm.append(label('messageText', messageText), label('messageTo', recipient), send, delivered);
  const renderDelivered = () => (delivered.textContent = delivered.dataset.count === undefined ? '' : `${t('sentTo')} ${delivered.dataset.count}`);
  onLanguageChange(renderDelivered);
  messageForm.addEventListener('submit', (event) => {
    event.preventDefault();
    void act(async () => {
      const to = recipient.value || undefined;
      const answer = await classCall<{ delivered: number }>(classPath(access, '/messages'), access.token, { body: { text: messageText.value, to } });
      delivered.dataset.count = String(answer.delivered);
      renderDelivered();
      messageText.value = '';
    });
  });

  const table = el('table', 'class-table');
  const students = el('section', 'students');
  students.append(bindText(el('h2'), 'students'), table);
  const instructions = el('aside', 'instructions-pane');
  instructions.append(bindText(el('h2'), 'instructions'));

  const faults = new FaultDialog(access);
  const resets = new ResetDialog(access);
  const main = el('main', 'class-dashboard');
  main.append(controls, messageForm, students, instructions);
  root.replaceChildren(header, main, faults.element, resets.element);

  const openLab = (row: LabRow) =>
    act(async () => {
      // A window opened before the request, while the click still counts as the user's, is not blocked as a pop-up.
      const tab = window.open('', '_blank');
      const link = await classCall<LabLink>(classPath(access, `/labs/${encodeURIComponent(row.lab)}/token`), access.token, { method: 'POST' }).catch((error: unknown) => {
        tab?.close();
        throw error;
      });
      if (tab) {
        tab.opener = null;
        tab.location.href = link.url;
      }
    });

  const render = () => {
    if (!dashboard) return;
    title.textContent = dashboard.title;
    document.title = `${dashboard.title} · nslab`;
    lockedBadge.hidden = !dashboard.locked;
    lock.textContent = t(dashboard.locked ? 'unlockClass' : 'lockClass');
    lock.setAttribute('aria-pressed', String(dashboard.locked));
    const joinCode = dashboard.joinCode;
    code.textContent = joinCode ? joinCode.code : t('noJoinCode');
    code.classList.toggle('none', !joinCode);
    expiry.textContent = joinCode ? (joinCode.expired ? t('codeExpired') : `${t('codeExpires')} ${new Date(joinCode.expiresAt).toLocaleTimeString()}`) : '';
    copy.disabled = revoke.disabled = !joinCode || joinCode.expired;
    renderRecipients(recipient, dashboard.labs);
    renderTable(table, dashboard, order, {
      sort: (next) => {
        order = order === next ? 'joined' : next;
        render();
      },
      open: openLab,
      fault: (row) => faults.open(row.lab, names(row)),
      reset: (row) => resets.open(row.lab, names(row)),
      drive: (member) => act(() => classCall(classPath(access, '/driver'), access.token, { body: { member: member.id } })),
    });
  };
  onLanguageChange(render);

  type StreamState = { kind: 'connected' | 'connecting' | 'offline' } | { kind: 'closed'; message: string };
  let stream: StreamState = { kind: 'connecting' };
  const renderStatus = () => {
    status.className = `status ${stream.kind}`;
    status.dataset.state = stream.kind;
    status.textContent = stream.kind === 'closed' ? `${t('refused')}: ${stream.message}` : t(stream.kind === 'connected' ? 'live' : stream.kind);
  };
  const setStatus = (next: StreamState) => {
    stream = next;
    renderStatus();
  };
  renderStatus();
  onLanguageChange(renderStatus);

  const listen = () => {
    const events = new EventSource(`${classPath(access, '/events')}?token=${encodeURIComponent(access.token)}`);
    events.addEventListener('open', () => setStatus({ kind: 'connected' }));
    events.addEventListener('error', () => setStatus({ kind: 'offline' }));
    events.addEventListener('snapshot', (event) => {
      dashboard = JSON.parse((event as MessageEvent<string>).data) as Dashboard;
      render();
    });
    events.addEventListener('lab', (event) => {
      const row = JSON.parse((event as MessageEvent<string>).data) as LabRow;
      if (!dashboard) return;
      dashboard.labs = dashboard.labs.map((old) => (old.lab === row.lab ? row : old));
      render();
    });
  };

  // The instructions come with the dashboard's first answer only; the stream carries the rest.
  void classCall<Dashboard & { instructions: Instructions }>(classPath(access), access.token).then(
    (first) => {
      instructions.append(instructionsView(first.instructions));
      dashboard = first;
      render();
      listen();
    },
    (error: Error) => setStatus({ kind: 'closed', message: error.message }),
  );
}

const names = (row: LabRow) => row.members.map((member) => member.name).join(', ');

/** Everyone, then each member; the choice survives re-renders. */
function renderRecipients(select: HTMLSelectElement, labs: LabRow[]): void {
  const chosen = select.value;
  const members = labs.flatMap((row) => row.members);
  select.replaceChildren(new Option(t('everyone'), ''), ...members.map((member) => new Option(member.name, member.id)));
  select.value = members.some((member) => member.id === chosen) ? chosen : '';
}

interface RowActions {
  sort(order: RowOrder): void;
  open(row: LabRow): unknown;
  fault(row: LabRow): void;
  reset(row: LabRow): unknown;
  /** Makes a member of a group the driver of its lab. */
  drive(member: LabRow['members'][number]): unknown;
}

function renderTable(table: HTMLTableElement, dashboard: Dashboard, order: RowOrder, actions: RowActions): void {
  const head = el('tr');
  const sortable = (key: TextKey) => SORTABLE.find((column) => column.key === key);
  const heading = (key: TextKey) => {
    const th = el('th');
    th.scope = 'col';
    const column = sortable(key);
    if (!column) {
      th.textContent = t(key);
      return th;
    }
    const sortButton = el('button', 'sort', t(key));
    sortButton.type = 'button';
    sortButton.title = `${t('sortBy')}: ${t(key)}`;
    sortButton.addEventListener('click', () => actions.sort(column.order));
    th.setAttribute('aria-sort', order === column.order ? 'descending' : 'none');
    th.append(sortButton);
    return th;
  };
  head.append(heading('colStudent'));
  for (const [index, task] of dashboard.tasks.entries()) {
    const th = el('th', 'task-heading', String(index + 1));
    th.scope = 'col';
    th.title = task.title;
    th.dataset.task = task.id;
    head.append(th);
  }
  head.append(heading('colDone'), heading('colLastCommand'), heading('colErrors'), heading('colStuck'), heading('colLab'));

  const rows = [...dashboard.labs].sort(ROW_COMPARE[order]).map((row) => {
    const tr = el('tr', row.stuck ? 'stuck' : '');
    tr.dataset.lab = row.lab;
    tr.dataset.members = names(row);
    const who = el('th');
    who.scope = 'row';
    if (row.group !== null) who.append(el('span', 'group-number', `${t('group')} ${row.group}`));
    for (const member of row.members) {
      const name = el('span', `member${dashboard.mode === 'group' && member.driver ? ' driver' : ''}`, member.name);
      if (dashboard.mode === 'group' && !member.driver) {
        const drive = el('button', 'make-driver', t('makeDriver'));
        drive.type = 'button';
        drive.setAttribute('aria-label', t('makeDriverOf').replace('{name}', member.name));
        drive.addEventListener('click', () => void actions.drive(member));
        name.append(' ', drive);
      }
      who.append(name);
    }
    tr.append(who);
    for (const task of row.tasks) {
      const cell = el('td', `task-cell ${task.done ? 'done' : 'todo'}`, task.done ? '✓' : '·');
      cell.dataset.task = task.id;
      cell.title = `${task.title}: ${t(task.done ? 'taskDone' : 'taskNotDone')}`;
      tr.append(cell);
    }
    const last = row.lastCommand;
    const lastCell = el('td', `last-command${last && last.exitCode !== 0 ? ' failed' : ''}`);
    if (last) lastCell.append(el('code', '', `${last.host}$ ${last.line}`));
    const stuckCell = el('td', 'stuck-cell', row.stuck ? `⚠ ${t('stuck')}` : '');
    const labCell = el('td', 'lab-actions');
    labCell.append(button('openLab', 'open-lab', () => actions.open(row)), button('injectFault', 'inject-fault', () => actions.fault(row)), button('resetLab', 'reset-lab', () => actions.reset(row)));
    tr.append(el('td', 'tasks-done', `${row.tasksDone}/${row.tasks.length}`), lastCell, el('td', 'error-streak', String(row.errorStreak)), stuckCell, labCell);
    return tr;
  });
  const body = el('tbody');
  if (rows.length === 0) {
    const empty = el('td', 'no-students', t('noStudents'));
    empty.colSpan = dashboard.tasks.length + 6;
    const tr = el('tr');
    tr.append(empty);
    rows.push(tr);
  }
  body.append(...rows);
  const thead = el('thead');
  thead.append(head);
  // Rows are redrawn on every change: keep the keyboard focus on the same button of the same row.
  const focused = table.contains(document.activeElement) ? (document.activeElement as HTMLElement) : null;
  const focusedLab = focused?.closest('tr')?.dataset.lab;
  table.replaceChildren(thead, body);
  if (focused) {
    const row = focusedLab ? body.querySelector(`tr[data-lab="${CSS.escape(focusedLab)}"]`) : thead;
    (row?.querySelector(`button.${CSS.escape(focused.className.split(' ')[0]!)}`) as HTMLElement | null)?.focus();
  }
}

/** The results CSV, fetched with the token in a header (a plain link would have to carry it in its URL). */
async function downloadResults(access: ClassAccess): Promise<void> {
  const response = await fetch(classPath(access, '/results.csv'), { headers: { authorization: `Bearer ${access.token}` } });
  if (!response.ok) throw new Error(((await response.json()) as { error?: string }).error ?? String(response.status));
  const link = el('a');
  link.href = URL.createObjectURL(await response.blob());
  link.download = `class-${access.class}.csv`;
  link.click();
  URL.revokeObjectURL(link.href);
}
