// The dashboard's reset dialog: a lab's timeline, to reset the lab to the
// step shown, or to the template's start (docs/API.md, "Reset").
import * as Y from 'yjs';
import { classCall, classPath, type ClassAccess, type LabLink } from './class-api';
import { el } from './dom';
import { bindText, onLanguageChange, t } from './i18n';
import { TimelineView } from './timeline';

export class ResetDialog {
  readonly element = el('dialog', 'reset-dialog');
  private readonly target = el('strong', 'reset-target');
  private readonly place = el('div', 'reset-timeline');
  private readonly toStep = el('button', 'primary reset-step');
  private readonly error = el('p', 'error');
  private timeline: TimelineView | null = null;
  private lab = '';

  constructor(private readonly access: ClassAccess) {
    const heading = el('h2');
    heading.append(bindText(el('span'), 'resetHeading'), ' ', this.target);
    const cancel = bindText(el('button', 'cancel'), 'cancel');
    const toTemplate = bindText(el('button', 'reset-template'), 'resetToTemplate');
    for (const button of [cancel, toTemplate, this.toStep]) button.type = 'button';
    cancel.addEventListener('click', () => this.element.close());
    toTemplate.addEventListener('click', () => void this.reset(undefined));
    this.toStep.addEventListener('click', () => void this.reset(this.timeline?.step?.step));
    const buttons = el('div', 'dialog-buttons');
    buttons.append(cancel, toTemplate, this.toStep);
    this.error.setAttribute('role', 'alert');
    this.element.append(heading, this.place, this.error, buttons);
    this.element.addEventListener('close', () => {
      this.timeline?.destroy();
      this.timeline = null;
      this.place.replaceChildren();
    });
    this.renderStep();
    onLanguageChange(() => this.renderStep());
  }

  /** Opens the lab's timeline at its latest step; the instructor's owner token for the lab reads it. */
  async open(lab: string, who: string): Promise<void> {
    this.lab = lab;
    this.target.textContent = who;
    this.error.textContent = '';
    this.element.showModal();
    this.renderStep();
    try {
      const link = await classCall<LabLink>(classPath(this.access, `/labs/${encodeURIComponent(lab)}/token`), this.access.token, { method: 'POST' });
      if (!this.element.open || this.lab !== lab) return;
      this.timeline?.destroy();
      // Outside its lab page the diagram has no shared places: an empty document stands in for the lab's notes.
      this.timeline = new TimelineView(lab, link.token, new Y.Doc());
      this.timeline.onStep(() => this.renderStep());
      this.place.replaceChildren(this.timeline.element);
      this.timeline.open();
    } catch (error) {
      this.error.textContent = (error as Error).message;
    }
  }

  private renderStep(): void {
    const step = this.timeline?.step?.step;
    this.toStep.disabled = step === undefined;
    this.toStep.textContent = t('resetToStep').replace('{step}', step === undefined ? '…' : String(step));
  }

  /** Resets the lab to `step` of its timeline, or to the template, once the instructor confirms. */
  private async reset(step: number | undefined): Promise<void> {
    const question = step === undefined ? t('confirmReset') : t('confirmResetStep').replace('{step}', String(step));
    if (!confirm(`${question}\n${this.target.textContent}`)) return;
    try {
      await classCall(classPath(this.access, `/labs/${encodeURIComponent(this.lab)}/reset`), this.access.token, { body: step === undefined ? {} : { step } });
      this.element.close();
    } catch (error) {
      this.error.textContent = (error as Error).message;
    }
  }
}
