// The activity feed: who ran what, where, and how it ended, newest first;
// each entry opens to show its output. Commands still running are listed first.
// A command that sent packets shows their path on the diagram when it ends,
// and again when its entry is clicked. The timeline lists commands alike.
import type * as Y from 'yjs';
import { PacketPath, type ActivityEntry } from '../../shared/protocol';
import { el } from './dom';
import { t } from './i18n';


export type ShowPath = (line: string, packets: PacketPath) => void;

/** The entry's packet path, when it has one the client understands. */
export function packetsOf(entry: ActivityEntry): PacketPath | null {
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
    const items = [...running, ...finished].map((entry) => this.item(entry));
    if (items.length === 0) items.push(el('li', 'activity-empty', t('noActivity')));
    this.element.replaceChildren(...items);
  }

  private item(entry: ActivityEntry): HTMLElement {
    const { item, details } = commandItem(entry, this.open.has(entry.seq), this.showPath);
    details.addEventListener('toggle', () => (details.open ? this.open.add(entry.seq) : this.open.delete(entry.seq)));
    return item;
  }
}

/**
 * A command's list item, in the feed and in the timeline: who ran it where,
 * the line and how it ended, opening to its output; clicking it shows its
 * packets' path again.
 */
export function commandItem(command: ActivityEntry, open: boolean, showPath: ShowPath): { item: HTMLLIElement; details: HTMLDetailsElement } {
  const status = command.exitCode === null ? 'running' : command.interrupted ? 'interrupted' : command.exitCode === 0 ? 'ok' : 'failed';
  const item = el('li', `activity-item ${status}`);
  item.dataset.seq = String(command.seq);
  const details = el('details', '');
  details.open = open;
  const summary = el('summary', '');
  const where = command.ns ? `${command.host}/${command.ns}` : command.host;
  const badge =
    status === 'running' ? t('running') : status === 'interrupted' ? t('interrupted') : status === 'ok' ? '✓' : `✗ ${t('exit')} ${command.exitCode}`;
  summary.append(
    el('span', 'activity-who', command.name),
    el('span', 'activity-where', where),
    el('code', 'activity-line', command.line),
    el('span', `activity-status ${status}`, badge),
  );
  details.append(summary, el('pre', 'activity-output', command.output));
  item.append(details);
  const packets = packetsOf(command);
  if (packets) summary.addEventListener('click', () => showPath(command.line, packets));
  return { item, details };
}
