// A lab's timeline (GET /api/labs/:id/timeline): a slider over the steps of
// its log, the diagram of the topology at the step, and the commands run by
// then with their outputs, the step's own highlighted and its packets' path
// drawn on the diagram. Read-only, so any role of the lab may scrub it. A
// step is asked for once the slider rests for a moment, and moving it aborts
// the request before: only the step last asked for is ever shown. While open it follows the lab: new log entries grow the
// slider at once, and a view at the latest step moves on to the new one.
import type * as Y from 'yjs';
import type { TimelineStep } from '../../shared/timeline';
import { commandItem, packetsOf } from './activity';
import { classCall } from './class-api';
import { el } from './dom';
import { onLanguageChange, t } from './i18n';
import { Topology, type DeviceEntry, type DiagramSource, type NamespaceEntry, type SegmentEntry } from './topology';

type Step = TimelineStep<NamespaceEntry, DeviceEntry, SegmentEntry>;

/** How long the slider rests before its step is asked for. */
const SCRUB_DELAY_MS = 80;

function fill<T>(map: Map<string, T>, entries: Record<string, T>): void {
  map.clear();
  for (const [key, value] of Object.entries(entries)) map.set(key, value);
}

/** The topology of the step shown, replaced whole at each step. */
class StepSource implements DiagramSource {
  readonly namespaces = new Map<string, NamespaceEntry>();
  readonly devices = new Map<string, DeviceEntry>();
  readonly segments = new Map<string, SegmentEntry>();
  private changed = () => {};

  observe(changed: () => void): void {
    this.changed = changed;
  }

  show(step: Step): void {
    fill(this.namespaces, step.namespaces);
    fill(this.devices, step.devices);
    fill(this.segments, step.segments);
    this.changed();
  }
}

export class TimelineView {
  readonly element = el('section', 'timeline');
  private readonly slider = el('input', 'timeline-slider');
  private readonly previous = el('button', 'timeline-previous', '◀');
  private readonly next = el('button', 'timeline-next', '▶');
  private readonly position = el('output', 'timeline-position');
  private readonly entry = el('code', 'timeline-entry');
  private readonly problem = el('p', 'error timeline-error');
  private readonly diagram = el('div', 'timeline-topology');
  private readonly commands = el('ol', 'activity-list timeline-commands');
  private readonly source = new StepSource();
  private topology: Topology | null = null;
  private shown: Step | null = null;
  /** The step the slider is at: asked for, maybe not shown yet. */
  private wanted = 0;
  /** The log's length as last known: the slider's end. */
  private entries = 0;
  private request: AbortController | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly listeners = new Set<(step: Step) => void>();
  private readonly stopRendering: () => void;

  constructor(
    private readonly lab: string,
    private readonly token: string,
    /** The notes document whose shared places the diagram takes. */
    private readonly places: Y.Doc,
  ) {
    this.diagram.id = 'timeline-topology';
    Object.assign(this.slider, { type: 'range', min: '0', max: '0', step: '1', value: '0' });
    this.slider.addEventListener('input', () => this.go(Number(this.slider.value)));
    for (const button of [this.previous, this.next]) button.type = 'button';
    this.previous.addEventListener('click', () => this.go(this.wanted - 1));
    this.next.addEventListener('click', () => this.go(this.wanted + 1));
    // The slider moves itself with the keys; elsewhere in the timeline they move it too.
    this.element.addEventListener('keydown', (event) => {
      if (event.target === this.slider) return;
      const to = { ArrowLeft: this.wanted - 1, ArrowRight: this.wanted + 1, Home: 0, End: this.entries }[event.key];
      if (to === undefined) return;
      event.preventDefault();
      this.go(to);
    });
    const controls = el('div', 'timeline-controls');
    controls.append(this.previous, this.slider, this.next, this.position, this.entry);
    const body = el('div', 'timeline-body');
    body.append(this.diagram, this.commands);
    this.problem.setAttribute('role', 'alert');
    this.element.append(controls, this.problem, body);
    this.renderTexts();
    this.stopRendering = onLanguageChange(() => {
      this.renderTexts();
      this.renderCommands();
      this.topology?.render();
    });
  }

  /** The step shown. */
  get step(): Step | null {
    return this.shown;
  }

  /** Called with each step shown. */
  onStep(listener: (step: Step) => void): void {
    this.listeners.add(listener);
  }

  /**
   * The lab's log has at least `entries` entries now (the latest command's
   * place in it): the slider grows at once, and a view at its end moves on.
   */
  grow(entries: number): void {
    const following = this.wanted === this.entries;
    this.entries = Math.max(this.entries, entries);
    this.slider.max = String(this.entries);
    if (following) this.go(this.entries);
    else this.renderTexts();
  }

  /** Shows the lab's latest step. The element must be on screen: the diagram measures its box. */
  open(): void {
    if (this.topology) this.topology.resize();
    else {
      this.topology = new Topology(this.diagram, this.source, this.places, () => this.shown?.hosts ?? [], false, () => false);
      this.problem.after(this.topology.pathNote);
    }
    this.slider.focus();
    void this.fetch(null);
  }

  /** Stops asking for steps. */
  close(): void {
    clearTimeout(this.timer);
    this.request?.abort();
  }

  resize(): void {
    this.topology?.resize();
  }

  destroy(): void {
    this.close();
    this.stopRendering();
    this.topology?.cy.destroy();
  }

  /**
   * Moves the slider to `step` and asks for it once the slider rests; an
   * answer on its way is for an earlier step, so it is dropped. At the
   * slider's end it asks for the latest step: the log may have grown past
   * what the page knows (the clock's entries do not show in it).
   */
  private go(step: number): void {
    this.wanted = Math.min(Math.max(step, 0), this.entries);
    this.slider.value = String(this.wanted);
    this.renderTexts();
    this.request?.abort();
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.fetch(this.wanted === this.entries ? null : this.wanted), SCRUB_DELAY_MS);
  }

  /** Asks for a step (null: the latest) and shows it, unless another was asked for meanwhile. */
  private async fetch(step: number | null): Promise<void> {
    this.request?.abort();
    const request = new AbortController();
    this.request = request;
    try {
      const path = `/api/labs/${encodeURIComponent(this.lab)}/timeline${step === null ? '' : `?step=${step}`}`;
      this.show(await classCall<Step>(path, this.token, { signal: request.signal }));
      this.problem.textContent = '';
    } catch (error) {
      if (!request.signal.aborted) this.problem.textContent = (error as Error).message;
    }
  }

  private show(step: Step): void {
    this.shown = step;
    this.wanted = step.step;
    // An answer sent before the latest command keeps the slider's end where that command put it.
    this.entries = Math.max(this.entries, step.steps);
    this.slider.max = String(this.entries);
    this.slider.value = String(step.step);
    this.element.dataset.step = String(step.step);
    this.source.show(step);
    this.renderTexts();
    this.renderCommands();
    // The step's own command shows where its packets went, as long as the step is shown.
    const current = step.commands.find((command) => command.seq === step.entry?.command);
    const packets = current && packetsOf(current);
    if (packets) this.topology?.showPath(current.line, packets, true);
    else this.topology?.hidePath();
    for (const listener of this.listeners) listener(step);
  }

  private renderTexts(): void {
    const max = this.entries;
    this.position.textContent = t('timelineStep').replace('{step}', String(this.wanted)).replace('{steps}', String(max));
    this.slider.setAttribute('aria-label', t('timelineSlider'));
    this.previous.title = t('previousStep');
    this.next.title = t('nextStep');
    this.previous.setAttribute('aria-label', t('previousStep'));
    this.next.setAttribute('aria-label', t('nextStep'));
    this.previous.disabled = this.wanted <= 0;
    this.next.disabled = this.wanted >= max;
    this.entry.textContent = this.entryText();
    this.entry.title = this.entry.textContent;
  }

  /** What made the step shown: a command started or interrupted, or the clock. */
  private entryText(): string {
    const step = this.shown;
    if (!step) return '';
    if (!step.entry) return t('timelineStart');
    const command = step.commands.find((c) => c.seq === step.entry!.command);
    if (!command) return t('timelineClock');
    const line = `${command.name} · ${command.ns ? `${command.host}/${command.ns}` : command.host}$ ${command.line}`;
    return step.entry.kind === 'interrupt' ? `Ctrl-C · ${line}` : line;
  }

  private renderCommands(): void {
    const step = this.shown;
    if (!step) return;
    const items = step.commands.map((command) => {
      const { item } = commandItem(command, true, (line, packets) => this.topology?.showPath(line, packets, true));
      item.classList.toggle('current', command.seq === step.entry?.command);
      return item;
    });
    if (items.length === 0) items.push(el('li', 'activity-empty', t('noActivity')));
    this.commands.replaceChildren(...items);
    this.commands.querySelector('.current')?.scrollIntoView({ block: 'nearest' });
  }
}
