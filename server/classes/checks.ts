// Evaluating a template's tasks on a lab's engine. What the kernel state
// answers exactly (interfaces, addresses, routes, sysctls, iptables rules) is
// read from the live engine without changing it; what needs traffic or a
// program's output (reachable, output) runs on one disposable clone, made
// only when some check needs it.
import type { CheckResult, TaskProgress } from '../../shared/dashboard';
import type { NetNs } from '../sim/kernel/netns';
import type { Rule } from '../sim/kernel/netfilter';
import type { Lab } from '../sim/lab';
import { ruleSpec } from '../sim/tools/iptables';
import { parsePlace, parsePrefix, type Check, type LabTemplate } from './lab-template';

export type { CheckResult, TaskProgress };

/** A task as the lab is now; when it first passed is the progress tracker's to say. */
export type TaskEvaluation = Omit<TaskProgress, 'doneAt'>;

/** `live` is read only (kernel state inspection); `clone()` gives a disposable engine on which commands may be run. */
export function evaluateTasks(template: LabTemplate, live: Lab, clone: () => Lab): TaskEvaluation[] {
  let scratch: Lab | undefined;
  const scratchLab = () => (scratch ??= clone());
  return template.tasks.map((task) => {
    const checks = task.checks.map((check): CheckResult => {
      const passed = passes(check, live, scratchLab);
      return passed || check.hint === undefined ? { description: check.description, passed } : { description: check.description, passed, hint: check.hint };
    });
    return { id: task.id, title: task.title, done: checks.every((c) => c.passed), checks };
  });
}

/** The namespace `hostA` or `hostA/red` names, if it exists. */
function namespaceAt(lab: Lab, place: string): NetNs | undefined {
  const { host, netns } = parsePlace(place);
  const machine = lab.world.hosts.get(host);
  return netns === null ? machine?.root : machine?.namespaces.get(netns);
}

/** Runs a command in a namespace, as a terminal that entered it would; null when the namespace does not exist. */
function runIn(lab: Lab, place: string, line: string): { output: string; exitCode: number } | null {
  const ns = namespaceAt(lab, place);
  if (!ns) return null;
  const session = { ...lab.newSession(ns.host.name), nsStack: ns === ns.host.root ? [] : [ns] };
  return lab.run(ns.host.name, line, { session });
}

/** The option groups of a rule in `iptables -S` syntax (`-s 10.0.0.0/24`, `! -o eth0`, `-j MASQUERADE`). */
function optionGroups(spec: string): string[] {
  const groups: string[] = [];
  let negated = false;
  for (const word of spec.split(/\s+/).filter(Boolean)) {
    if (word === '!') negated = true;
    else if (word.startsWith('-') || groups.length === 0) {
      groups.push(negated ? `! ${word}` : word);
      negated = false;
    } else groups[groups.length - 1] += ` ${word}`;
  }
  return groups;
}

/** A rule has every option the check names; it may have more (`-o eth0` on a MASQUERADE the check gives without one). */
function hasOptions(rule: Rule, wanted: string[]): boolean {
  const options = new Set(optionGroups(ruleSpec(rule)));
  return wanted.every((group) => options.has(group));
}

function passes(check: Check, live: Lab, scratch: () => Lab): boolean {
  if (check.reachable) {
    const { from, to, port } = check.reachable;
    return runIn(scratch(), from, port === undefined ? `ping -c 1 -W 1 ${to}` : `nc -z -w 1 ${to} ${port}`)?.exitCode === 0;
  }
  if (check.output) {
    const { on, command, matches } = check.output;
    const result = runIn(scratch(), on, command);
    return result !== null && new RegExp(matches, 'm').test(result.output);
  }
  if (check.interface) {
    const { on, name, type, up, master } = check.interface;
    const dev = namespaceAt(live, on)?.device(name);
    if (!dev) return false;
    if (type !== undefined && dev.kind.name !== type) return false;
    // Up as `ip link` shows it: UP and LOWER_UP (state UP); down: not set up by anyone.
    if (up === true && !dev.running) return false;
    if (up === false && dev.adminUp) return false;
    return master === undefined || dev.master?.name === master;
  }
  if (check.address) {
    const { on, address, dev } = check.address;
    const want = parsePrefix(address)!;
    const ns = namespaceAt(live, on);
    const devices = dev === undefined ? [...(ns?.devices.values() ?? [])] : [ns?.device(dev)].filter((d) => d !== undefined);
    return devices.some((d) => d.ipv4.some((a) => a.local === want.address && (want.length === null || a.prefixLen === want.length)));
  }
  if (check.route) {
    const { on, to, via, dev } = check.route;
    const want = to === 'default' ? { address: 0, length: 0 } : parsePrefix(to)!;
    const wantGateway = via === undefined ? undefined : parsePrefix(via)!.address;
    return (namespaceAt(live, on)?.routes ?? []).some(
      (r) =>
        r.type === 'unicast' &&
        r.dst === want.address &&
        r.prefixLen === (want.length ?? 32) &&
        (wantGateway === undefined || r.gateway === wantGateway) &&
        (dev === undefined || r.dev?.name === dev),
    );
  }
  if (check.sysctl) {
    const { on, key, value } = check.sysctl;
    return namespaceAt(live, on)?.sysctl.get(key) === value;
  }
  const { on, table, chain, rule } = check.iptables!;
  const wanted = optionGroups(rule);
  const rules = namespaceAt(live, on)?.netfilter?.existingTable(table)?.chains.get(chain)?.rules ?? [];
  return rules.some((r) => hasOptions(r, wanted));
}
