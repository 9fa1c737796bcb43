// The dashboard's fault dialog: one of the five named faults (docs/API.md,
// "Faults") injected into one lab, its host, namespace, device, route or NAT
// rule chosen among those the lab has now (GET …/labs/:lab/topology).
import { classCall, classPath, type ClassAccess, type LabTopology } from './class-api';
import { el } from './dom';
import { label } from './fields';
import { bindText, onLanguageChange, t, type TextKey } from './i18n';

const FAULTS = ['link_down', 'route_removed', 'nat_removed', 'forwarding_off', 'wrong_address'] as const;
type FaultName = (typeof FAULTS)[number];

type Choice = 'device' | 'to' | 'rule';
type Field = Choice | 'address';

/** The fields each fault takes besides its host and namespace. */
const FAULT_FIELDS: Record<FaultName, Field[]> = {
  link_down: ['device'],
  route_removed: ['to'],
  nat_removed: ['rule'],
  forwarding_off: [],
  wrong_address: ['device', 'address'],
};

/** Replaces a select's options, keeping its choice while it is still offered; with none, one empty option says so. */
function fill(select: HTMLSelectElement, options: Array<[value: string, text: string]>): void {
  const chosen = select.value;
  const offered = options.length ? options : [['', t('faultNoChoice')] as [string, string]];
  select.replaceChildren(...offered.map(([value, text]) => new Option(text, value)));
  if (options.some(([value]) => value === chosen)) select.value = chosen;
}

export class FaultDialog {
  readonly element = el('dialog', 'fault-dialog');
  private lab = '';
  private topology: LabTopology = { hosts: [] };
  private readonly target = el('strong', 'fault-target');
  private readonly kind = el('select', 'fault-kind');
  private readonly host = el('select', 'fault-host');
  private readonly ns = el('select', 'fault-ns');
  private readonly choices: Record<Choice, HTMLSelectElement> = { device: el('select', 'fault-device'), to: el('select', 'fault-to'), rule: el('select', 'fault-rule') };
  private readonly address = el('input', 'fault-address');
  private readonly fields = new Map<Field, HTMLLabelElement>();
  private readonly injectButton = bindText(el('button', 'primary inject'), 'inject');
  private readonly error = el('p', 'error');

  constructor(private readonly access: ClassAccess) {
    this.kind.append(...FAULTS.map((fault) => bindText(new Option('', fault), `fault_${fault}` as TextKey)));
    this.kind.addEventListener('change', () => this.showFields());
    this.host.addEventListener('change', () => this.showNamespaces());
    this.ns.addEventListener('change', () => this.showChoices());
    for (const select of Object.values(this.choices)) select.addEventListener('change', () => this.updateInject());
    this.address.value = '10.9.9.9/24';
    this.address.spellcheck = false;
    const captions: Record<Field, TextKey> = { device: 'faultDevice', to: 'faultTo', rule: 'faultRule', address: 'faultAddress' };
    for (const name of Object.keys(captions) as Field[]) this.fields.set(name, label(captions[name], name === 'address' ? this.address : this.choices[name]));
    const heading = el('h2');
    heading.append(bindText(el('span'), 'faultHeading'), ' ', this.target);
    this.injectButton.type = 'submit';
    const cancel = bindText(el('button', 'cancel'), 'cancel');
    cancel.type = 'button';
    cancel.addEventListener('click', () => this.element.close());
    const buttons = el('div', 'dialog-buttons');
    buttons.append(cancel, this.injectButton);
    this.error.setAttribute('role', 'alert');
    const form = el('form', 'fault-form');
    form.append(heading, label('faultKind', this.kind), label('faultHost', this.host), label('faultNs', this.ns), ...this.fields.values(), this.error, buttons);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.inject();
    });
    this.element.append(form);
    onLanguageChange(() => this.showNamespaces());
  }

  /** Opens the dialog for a lab, then offers what the lab has now. */
  async open(lab: string, who: string): Promise<void> {
    this.lab = lab;
    this.target.textContent = who;
    this.error.textContent = '';
    this.topology = { hosts: [] };
    this.showHosts();
    this.showFields();
    this.element.showModal();
    this.kind.focus();
    try {
      const topology = await classCall<LabTopology>(classPath(this.access, `/labs/${encodeURIComponent(lab)}/topology`), this.access.token);
      // The dialog may have been opened again for another lab meanwhile.
      if (this.lab !== lab) return;
      this.topology = topology;
      this.showHosts();
    } catch (error) {
      this.error.textContent = (error as Error).message;
    }
  }

  private namespaces() {
    return this.topology.hosts.find((entry) => entry.host === this.host.value)?.namespaces ?? [];
  }

  private showHosts(): void {
    fill(this.host, this.topology.hosts.map(({ host }) => [host, host]));
    this.showNamespaces();
  }

  private showNamespaces(): void {
    fill(this.ns, this.namespaces().map(({ name }) => [name ?? '', name ?? t('faultNsOwn')]));
    this.showChoices();
  }

  private showChoices(): void {
    const ns = this.namespaces().find(({ name }) => (name ?? '') === this.ns.value);
    fill(this.choices.device, (ns?.devices ?? []).map((device) => [device, device]));
    fill(this.choices.to, (ns?.routes ?? []).map((route) => [route, route]));
    fill(this.choices.rule, (ns?.natRules ?? []).map((rule, index) => [String(index + 1), `${index + 1}: ${rule}`]));
    this.updateInject();
  }

  private showFields(): void {
    const shown = new Set<Field>(FAULT_FIELDS[this.kind.value as FaultName]);
    for (const [name, field] of this.fields) field.hidden = !shown.has(name);
    this.updateInject();
  }

  /** A fault is injected only where the lab offers what it names. */
  private updateInject(): void {
    const fields = FAULT_FIELDS[this.kind.value as FaultName];
    this.injectButton.disabled = this.host.value === '' || fields.some((field) => field !== 'address' && this.choices[field].value === '');
  }

  private async inject(): Promise<void> {
    const fault = this.kind.value as FaultName;
    const body: Record<string, string | number> = { fault, host: this.host.value };
    if (this.ns.value) body.ns = this.ns.value;
    for (const field of FAULT_FIELDS[fault]) {
      body[field] = field === 'address' ? this.address.value.trim() : field === 'rule' ? Number(this.choices.rule.value) : this.choices[field].value;
    }
    try {
      const result = await classCall<{ command: string; output: string; exitCode: number }>(classPath(this.access, `/labs/${encodeURIComponent(this.lab)}/faults`), this.access.token, { body });
      // The fault ran as a command in the lab; one that failed changed nothing.
      if (result.exitCode !== 0) this.error.textContent = `${result.command}: ${result.output.trim()}`;
      else this.element.close();
    } catch (error) {
      this.error.textContent = (error as Error).message;
    }
  }
}
