// The lab page: terminal tabs (one per host), the live topology or the lab's
// timeline, who is here and what they ran. Everything shown comes from the
// server: the state document, presence, the timeline's steps, and the
// answers to our own commands.
import type * as Y from 'yjs';
import { ROLE_RUNS_COMMANDS, type ActivityEntry, type ServerMessage } from '../../shared/protocol';
import { ActivityFeed } from './activity';
import { apiCall } from './api';
import { completions, hostNames } from './completion';
import type { ClassAccess } from './class-api';
import { classLab } from './class-lab';
import { LabConnection, type ConnectionStatus, type Welcome } from './connection';
import { el } from './dom';
import { bindAttribute, bindText, languageSelect, onLanguageChange, t } from './i18n';
import { Participants } from './participants';
import { Shell } from './shell';
import { TimelineView } from './timeline';
import { liveSource, Topology } from './topology';

const COLORS = ['#d1495b', '#2e86ab', '#3b8b3b', '#c27c0e', '#7d4e9f', '#0f8b8d', '#b5446e', '#5c6bc0'];

/** Random enough to keep this page's command ids apart from every other page's; works without a secure context. */
function randomPrefix(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(9)), (b) => b.toString(36).padStart(2, '0')).join('');
}

function terminalId(host: string): string {
  return `t-${host.replace(/[^A-Za-z0-9_-]/g, '_')}`.slice(0, 32);
}

/** `student`: the class access of a student's own lab page, which shows their lesson and follows their lab after a reset. */
export function labPage(root: HTMLElement, lab: string, token: string, student: ClassAccess | null = null): void {
  const connection = new LabConnection(lab, token);
  const idPrefix = randomPrefix();
  let commandCount = 0;
  const shells = new Map<string, Shell>();
  let activeHost: string | null = null;
  let welcomed = false;
  let topology: Topology | null = null;

  const status = el('div', 'status');
  status.setAttribute('role', 'status');
  const title = el('h1', 'lab-title');
  const role = el('span', 'role');
  const header = el('header', 'lab-header');
  const inviteBox = el('div', 'invite');
  const brand = el('a', 'brand', 'nslab');
  brand.href = '/';
  header.append(brand, title, role, inviteBox, status, languageSelect());

  const tabs = el('div', 'tabs');
  tabs.setAttribute('role', 'tablist');
  const viewerNotice = bindText(el('p', 'viewer-notice'), 'viewerNotice');
  viewerNotice.hidden = true;
  const terminals = el('div', 'terminals');
  const terminalPane = el('section', 'terminal-pane');
  terminalPane.append(tabs, viewerNotice, terminals);

  const diagram = el('div', 'topology');
  diagram.id = 'topology';
  // A picture to assistive technology; what it shows is also in the terminals and the activity feed.
  diagram.setAttribute('role', 'img');
  bindAttribute(diagram, 'aria-label', 'topologyDiagram');
  const diagramPane = el('section', 'topology-pane');
  const fitDiagram = bindText(el('button', 'fit-diagram'), 'fitDiagram');
  fitDiagram.type = 'button';
  fitDiagram.addEventListener('click', () => topology?.fit());
  const liveView = el('div', 'live-view');
  liveView.id = 'live-view';
  liveView.setAttribute('role', 'tabpanel');
  liveView.append(diagram, fitDiagram);
  // The lab's history in place of the live diagram; the live diagram keeps up meanwhile.
  const timeline = new TimelineView(lab, token, connection.notes);
  timeline.element.hidden = true;
  timeline.element.id = 'timeline-view';
  timeline.element.setAttribute('role', 'tabpanel');
  timeline.element.addEventListener('keydown', (event) => event.key === 'Escape' && showTimeline(false));
  const viewTabs = el('div', 'view-tabs');
  viewTabs.setAttribute('role', 'tablist');
  const liveTab = viewTab('live', () => showTimeline(false));
  const timelineTab = viewTab('timeline', () => showTimeline(true));
  viewTabs.append(liveTab, timelineTab);
  const showTimeline = (shown: boolean) => {
    if (shown === !timeline.element.hidden) return;
    liveView.hidden = shown;
    timeline.element.hidden = !shown;
    liveTab.setAttribute('aria-selected', String(!shown));
    timelineTab.setAttribute('aria-selected', String(shown));
    if (shown) timeline.open();
    else {
      timeline.close();
      topology?.resize();
    }
  };
  // Every change of the state document comes from a new log entry: an open timeline follows it.
  connection.state.on('update', () => {
    if (!timeline.element.hidden) timeline.grow(latestCommandSeq(connection.state));
  });
  const paneHeader = el('div', 'pane-header');
  paneHeader.append(bindText(el('h2'), 'topology'), viewTabs);
  diagramPane.append(paneHeader, liveView, timeline.element);
  const participants = new Participants(connection.awareness, () => connection.welcome?.name ?? null);
  const activity = new ActivityFeed(connection.state, (line, packets) => topology?.showPath(line, packets));
  const people = el('section', 'participants-pane');
  people.append(bindText(el('h2'), 'participants'), participants.element);
  const feed = el('section', 'activity-pane');
  feed.append(bindText(el('h2'), 'activity'), activity.element);
  const side = el('div', 'side');
  side.append(people, feed);

  const main = el('main', 'lab');
  main.append(diagramPane, terminalPane, side);
  root.replaceChildren(header, main);
  classLab(connection, token, header, side, terminalPane, student);

  const renderStatus = (s: ConnectionStatus) => {
    status.className = `status ${s.kind}`;
    status.dataset.state = s.kind;
    status.textContent = s.kind === 'closed' ? closedText(s) : t(s.kind === 'connected' ? 'connected' : s.kind === 'connecting' ? 'connecting' : 'offline');
  };
  connection.onStatus(renderStatus);
  // A lab closed for good: the page says so where people look, and takes no more commands.
  const closedNote = el('p', 'lab-closed-text');
  connection.onStatus((s) => {
    if (s.kind !== 'closed') return;
    for (const shell of shells.values()) shell.close(closedText(s));
    if (welcomed) return;
    // Nothing of the lab was ever shown: in place of empty panes, why, and the way back.
    closedNote.textContent = closedText(s);
    const back = bindText(el('a', 'lab-closed-link'), 'backToStart');
    back.href = '/';
    const card = el('div', 'card lab-closed');
    card.setAttribute('role', 'alert');
    card.append(closedNote, back);
    main.classList.add('closed');
    main.replaceChildren(card);
  });
  onLanguageChange(() => {
    renderStatus(connection.status);
    if (connection.status.kind === 'closed') closedNote.textContent = closedText(connection.status);
    participants.render();
    activity.render();
    topology?.render();
    if (connection.welcome) role.textContent = roleText(connection.welcome);
  });

  const roleText = (welcome: Welcome) => `${welcome.name} · ${t(welcome.role === 'owner' ? 'roleOwner' : welcome.role === 'editor' ? 'roleEditor' : 'roleViewer')}`;

  const currentNs = new Map<string, string | null>();
  const publish = (typing = false) => {
    connection.setPresence({ host: activeHost, ns: activeHost ? (currentNs.get(activeHost) ?? null) : null, typing });
  };

  /** Shows a host's terminal; the terminal takes the keyboard unless the tab keeps it (arrow keys between tabs). */
  const openTab = (host: string, focusTerminal = true) => {
    const welcome = connection.welcome!;
    const canType = ROLE_RUNS_COMMANDS[welcome.role];
    activeHost = host;
    let shell = shells.get(host);
    if (!shell) {
      shell = new Shell({
        connection,
        host,
        terminal: terminalId(host),
        canType,
        nextId: () => `${idPrefix}-${++commandCount}`,
        completions: (before, ns) => completions(before, hostNames(connection.state.getMap('namespaces'), connection.state.getMap('devices'), host), ns),
        onTyping: (typing) => publish(typing),
        onNamespace: (ns) => {
          currentNs.set(host, ns);
          publish();
        },
      });
      const saved = welcome.terminals.find((s) => s.terminal === terminalId(host));
      if (saved) shell.restore(saved);
      if (!canType) shell.notice(t('viewerNotice'));
      shell.element.id = `${terminalId(host)}-panel`;
      shell.element.setAttribute('role', 'tabpanel');
      shell.element.setAttribute('aria-labelledby', `${terminalId(host)}-tab`);
      shells.set(host, shell);
      terminals.append(shell.element);
    }
    for (const [h, s] of shells) s.element.hidden = h !== host;
    for (const tab of tabs.children) {
      const selected = (tab as HTMLElement).dataset.host === host;
      tab.setAttribute('aria-selected', String(selected));
      // One tab stop for the tab list; arrow keys move within it.
      tab.setAttribute('tabindex', selected ? '0' : '-1');
    }
    shell.fit();
    if (focusTerminal) shell.focus();
    publish();
  };

  const firstWelcome = (welcome: Welcome) => {
    title.textContent = welcome.title;
    document.title = `${welcome.title} · nslab`;
    role.textContent = roleText(welcome);
    const canType = ROLE_RUNS_COMMANDS[welcome.role];
    viewerNotice.hidden = canType;
    main.classList.toggle('viewer', !canType);
    connection.setPresence({ color: COLORS[Math.abs(hash(welcome.participant)) % COLORS.length]!, host: null, ns: null, typing: false });
    topology = new Topology(diagram, liveSource(connection.state), connection.notes, () => connection.welcome?.hosts ?? [], canType, () => canType && connection.notesSynced);
    liveView.append(topology.pathNote);
    // Places the layout made before the notes document arrived can be shared now.
    connection.onNotesSynced(() => topology?.render());
    for (const host of welcome.hosts) {
      const tab = el('button', 'tab', host);
      tab.type = 'button';
      tab.dataset.host = host;
      tab.id = `${terminalId(host)}-tab`;
      tab.setAttribute('role', 'tab');
      tab.setAttribute('aria-controls', `${terminalId(host)}-panel`);
      tab.addEventListener('click', () => openTab(host));
      tabs.append(tab);
    }
    tabs.addEventListener('keydown', (event) => {
      const step = { ArrowLeft: -1, ArrowRight: 1 }[event.key];
      const at = welcome.hosts.indexOf(activeHost ?? '');
      if (!step || at < 0) return;
      event.preventDefault();
      const host = welcome.hosts[(at + step + welcome.hosts.length) % welcome.hosts.length]!;
      openTab(host, false);
      (tabs.querySelector(`[data-host="${CSS.escape(host)}"]`) as HTMLElement).focus();
    });
    if (welcome.role === 'owner') inviteBox.append(...inviteControls(lab, token));
    const started = welcome.terminals.find((s) => welcome.hosts.includes(s.host));
    openTab(started?.host ?? welcome.hosts[0]!);
    const resized = new ResizeObserver(() => {
      if (activeHost) shells.get(activeHost)?.fit();
      if (timeline.element.hidden) topology?.resize();
      else timeline.resize();
    });
    resized.observe(main);
    // The terminals also shrink within the page when a notice above them appears (a navigator's).
    resized.observe(terminals);
  };

  connection.onMessage((message: ServerMessage) => {
    if (message.type === 'welcome') {
      if (!welcomed) {
        welcomed = true;
        return firstWelcome(message);
      }
      for (const shell of shells.values()) {
        const saved = message.terminals.find((s) => s.terminal === shell.id);
        if (saved) shell.restore(saved);
        shell.resume();
      }
      return;
    }
    if ('id' in message && message.id !== undefined) {
      const id = message.id;
      const owner = [...shells.values()].find((s) => s.owns(id));
      if (owner) return owner.receive(message);
    }
    if (message.type === 'error' && activeHost) shells.get(activeHost)?.notice(`nslab: ${message.message}`);
  });
}

/** Why the connection ended for good. */
function closedText(status: Extract<ConnectionStatus, { kind: 'closed' }>): string {
  const why = { deleted: t('closedDeleted'), replaced: t('closedReplaced'), moved: t('closedMoved'), refused: `${t('refused')}: ${status.message}` };
  return why[status.reason];
}

/** A tab choosing what the diagram pane shows: the lab live, or its timeline. */
function viewTab(key: 'live' | 'timeline', select: () => void): HTMLButtonElement {
  const tab = bindText(el('button', `view-tab view-${key}`), key);
  tab.type = 'button';
  tab.setAttribute('role', 'tab');
  tab.setAttribute('aria-controls', `${key}-view`);
  tab.setAttribute('aria-selected', String(key === 'live'));
  tab.addEventListener('click', select);
  return tab;
}

/** The latest command's place in the lab's log, from the commands running and finished: the log is at least this long. */
function latestCommandSeq(state: Y.Doc): number {
  const running = [...state.getMap<ActivityEntry>('running').values()];
  const finished = state.getArray<ActivityEntry>('activity').toArray();
  return Math.max(0, ...[...running, ...finished].map((entry) => entry.seq));
}

function hash(text: string): number {
  let h = 0;
  for (const c of text) h = (h * 31 + c.charCodeAt(0)) | 0;
  return h;
}

function inviteControls(lab: string, token: string): HTMLElement[] {
  const output = el('input', 'invite-url');
  output.readOnly = true;
  output.hidden = true;
  // Says that the link is on the clipboard, for a moment.
  const copied = bindText(el('span', 'invite-copied'), 'copied');
  copied.setAttribute('role', 'status');
  copied.hidden = true;
  let copiedTimer: ReturnType<typeof setTimeout> | undefined;
  const buttons = (['editor', 'viewer'] as const).map((inviteRole) => {
    const key = inviteRole === 'editor' ? 'inviteEditor' : 'inviteViewer';
    const button = bindText(el('button', 'invite-button'), key);
    button.type = 'button';
    button.dataset.role = inviteRole;
    button.addEventListener('click', async () => {
      copied.hidden = true;
      output.hidden = false;
      output.setAttribute('aria-label', t(key));
      let url: string;
      try {
        ({ url } = await apiCall<{ url: string }>(`/api/labs/${encodeURIComponent(lab)}/invites`, token, { body: { role: inviteRole } }));
      } catch (error) {
        output.value = (error as Error).message;
        return;
      }
      output.value = url;
      output.select();
      // Without a clipboard (a page served over plain HTTP) the link stays selected in the box, to copy by hand.
      const onClipboard = await navigator.clipboard?.writeText(url).then(() => true, () => false);
      if (!onClipboard) return;
      copied.hidden = false;
      clearTimeout(copiedTimer);
      copiedTimer = setTimeout(() => (copied.hidden = true), 2500);
    });
    return button;
  });
  return [bindText(el('span', 'invite-label'), 'invite'), ...buttons, output, copied];
}
