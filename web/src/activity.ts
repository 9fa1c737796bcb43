// The activity feed: who ran what, where, and how it ended, newest first;
// each entry opens to show its output. Commands still running are listed first.
// A command that sent packets shows their path on the diagram when it ends,
// and again when its entry is clicked.
import type * as Y from 'yjs';
import { PacketPath, type ActivityEntry } from '../../shared/protocol';
import { el } from './dom';
import { t } from './i18n';


export type ShowPath = (line: string, packets: PacketPath) => void;

/** The entry's packet path, when it has one the client understands. */
function packetsOf(entry: ActivityEntry): PacketPath | null {
  const parsed = PacketPath.safeParse({ path: entry.path, drop: entry.drop });
  return parsed.success && parsed.data.path ? parsed.data : null;
}

export class ActivityFeed {
  readonly element = el('ol', 'activity-list');
  private readonly finished: Y.Array<ActivityEntry>;
  private readonly running: Y.Map<ActivityEntry>;
  /** Entries the reader opened stay open across re-renders. */
  private readonly open = new Set<number>();

  constructor(
    state: Y.Doc,
    private readonly showPath: ShowPath,
  ) {
    this.finished = state.getArray('activity');
    this.running = state.getMap('running');
    this.finished.observe((event) => {
      this.render();
      const added = event.changes.delta.flatMap((change) => (change.insert as ActivityEntry[] | undefined) ?? []);
      for (const entry of added.reverse()) {
        const packets = packetsOf(entry);
        if (packets) return this.showPath(entry.line, packets);
      }
    });
    this.running.observe(() => this.render());
    this.render();
  }

  render(): void {
    const running = [...this.running.values()].sort((a, b) => b.seq - a.seq);
    const finished = this.finished.toArray().reverse();
    const items = [...running.map((entry) => this.item(entry, true)), ...finished.map((entry) => this.item(entry, false))];
    if (items.length === 0) items.push(el('li', 'activity-empty', t('noActivity')));
    this.element.replaceChildren(...items);
  }

  private item(entry: ActivityEntry, running: boolean): HTMLElement {
    const status = running ? 'running' : entry.interrupted ? 'interrupted' : entry.exitCode === 0 ? 'ok' : 'failed';
    const li = el('li', `activity-item ${status}`);
    li.dataset.seq = String(entry.seq);
    const details = el('details', '');
    details.open = this.open.has(entry.seq);
    details.addEventListener('toggle', () => (details.open ? this.open.add(entry.seq) : this.open.delete(entry.seq)));
    const summary = el('summary', '');
    const where = entry.ns ? `${entry.host}/${entry.ns}` : entry.host;
    const badge =
      status === 'running' ? t('running') : status === 'interrupted' ? t('interrupted') : status === 'ok' ? '✓' : `✗ ${t('exit')} ${entry.exitCode}`;
    summary.append(
      el('span', 'activity-who', entry.name),
      el('span', 'activity-where', where),
      el('code', 'activity-line', entry.line),
      el('span', `activity-status ${status}`, badge),
    );
    const packets = packetsOf(entry);
    if (packets) summary.addEventListener('click', () => this.showPath(entry.line, packets));
    details.append(summary, el('pre', 'activity-output', entry.output));
    li.append(details);
    return li;
  }
}
