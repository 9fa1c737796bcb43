// The dashboard's fault dialog: one of the five named faults (docs/API.md,
// "Faults"), with the fields that fault takes, injected into one lab.
import { classCall, classPath, type ClassAccess } from './class-api';
import { el } from './dom';
import { label } from './fields';
import { bindText, t, type TextKey } from './i18n';

const FAULTS = ['link_down', 'route_removed', 'nat_removed', 'forwarding_off', 'wrong_address'] as const;
type FaultName = (typeof FAULTS)[number];

/** The fields each fault takes besides its host and namespace. */
const FAULT_FIELDS: Record<FaultName, Array<'device' | 'to' | 'address'>> = {
  link_down: ['device'],
  route_removed: ['to'],
  nat_removed: [],
  forwarding_off: [],
  wrong_address: ['device', 'address'],
};

export class FaultDialog {
  readonly element = el('dialog', 'fault-dialog');
  private lab = '';
  private readonly target = el('strong', 'fault-target');
  private readonly kind = el('select', 'fault-kind');
  private readonly inputs = {
    host: this.input('host', 'hostA'),
    ns: this.input('ns', ''),
    device: this.input('device', 'eth0'),
    to: this.input('to', 'default'),
    address: this.input('address', '10.9.9.9/24'),
  };
  private readonly fields = new Map<keyof FaultDialog['inputs'], HTMLLabelElement>();
  private readonly error = el('p', 'error');

  constructor(private readonly access: ClassAccess) {
    this.kind.append(...FAULTS.map((fault) => bindText(new Option('', fault), `fault_${fault}` as TextKey)));
    this.kind.addEventListener('change', () => this.showFields());
    const captions: Record<keyof FaultDialog['inputs'], TextKey> = { host: 'faultHost', ns: 'faultNs', device: 'faultDevice', to: 'faultTo', address: 'faultAddress' };
    for (const [name, input] of Object.entries(this.inputs) as Array<[keyof FaultDialog['inputs'], HTMLInputElement]>) this.fields.set(name, label(captions[name], input));
    const heading = el('h2');
    heading.append(bindText(el('span'), 'faultHeading'), ' ', this.target);
    const inject = bindText(el('button', 'primary inject'), 'inject');
    inject.type = 'submit';
    const cancel = bindText(el('button', 'cancel'), 'cancel');
    cancel.type = 'button';
    cancel.addEventListener('click', () => this.element.close());
    const buttons = el('div', 'dialog-buttons');
    buttons.append(cancel, inject);
    this.error.setAttribute('role', 'alert');
    const form = el('form', 'fault-form');
    form.append(heading, label('faultKind', this.kind), ...this.fields.values(), this.error, buttons);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.inject();
    });
    this.element.append(form);
  }

  open(lab: string, who: string): void {
    this.lab = lab;
    this.target.textContent = who;
    this.error.textContent = '';
    this.showFields();
    this.element.showModal();
    this.kind.focus();
  }

  private input(name: string, value: string): HTMLInputElement {
    const input = el('input', `fault-${name}`);
    input.value = value;
    input.spellcheck = false;
    return input;
  }

  private showFields(): void {
    const shown = new Set<string>(['host', 'ns', ...FAULT_FIELDS[this.kind.value as FaultName]]);
    for (const [name, field] of this.fields) field.hidden = !shown.has(name);
  }

  private async inject(): Promise<void> {
    const fault = this.kind.value as FaultName;
    const body: Record<string, string> = { fault, host: this.inputs.host.value.trim() };
    if (this.inputs.ns.value.trim()) body.ns = this.inputs.ns.value.trim();
    for (const name of FAULT_FIELDS[fault]) body[name] = this.inputs[name].value.trim();
    try {
      const result = await classCall<{ command: string; output: string; exitCode: number }>(classPath(this.access, `/labs/${encodeURIComponent(this.lab)}/faults`), this.access.token, { body });
      // The fault ran as a command in the lab; one that failed (no such device…) changed nothing.
      if (result.exitCode !== 0) this.error.textContent = `${result.command}: ${result.output.trim()}`;
      else this.element.close();
    } catch (error) {
      this.error.textContent = (error as Error).message;
    }
  }
}
