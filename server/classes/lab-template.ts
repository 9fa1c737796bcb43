// Lab templates (docs/TEMPLATES.md): a world plus a title, instructions in
// English and Korean, and tasks whose checks the server evaluates. A folder
// holds template files (YAML or JSON) beside plain world files; both kinds are
// served, a world file as a template without instructions or tasks.
//
// A template that starts broken, or where an earlier one ended (`continues`),
// has its start folded into the world as the hosts' setup lines: the world a
// lab is created from already is the starting point, so the lab's log starts
// empty and replays like any other lab.
import { readdirSync, readFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { parseIpv4Strict, type Ipv4 } from '../sim/kernel/addr';
import { COMMAND_LINE } from '../sim/transcript';
import { buildLab, parseWorld, WorldFileError, type WorldSpec } from '../sim/world-file';

export class TemplateError extends Error {}

/** `192.168.15.0/24`, or an address without a prefix (`length` null). */
export interface Ipv4Prefix {
  address: Ipv4;
  length: number | null;
}

export function parsePrefix(text: string): Ipv4Prefix | null {
  const m = /^([^/]+)(?:\/(\d{1,2}))?$/.exec(text);
  if (!m) return null;
  const address = parseIpv4Strict(m[1]!);
  const length = m[2] === undefined ? null : Number(m[2]);
  return address === null || (length !== null && length > 32) ? null : { address, length };
}

/** Where a check looks: a host's root namespace (`hostA`) or one of its named namespaces (`hostA/red`). */
export interface Place {
  host: string;
  netns: string | null;
}

export function parsePlace(text: string): Place {
  const [host, netns] = text.split('/');
  return { host: host!, netns: netns ?? null };
}

const placeText = z.string().regex(/^[A-Za-z0-9_-]+(\/[A-Za-z0-9_.-]+)?$/, 'must be HOST or HOST/NETNS, like hostA/red');
const ipv4Text = z.string().refine((t) => parseIpv4Strict(t) !== null, 'must be an IPv4 address, like 192.168.15.2');
const prefixText = z.string().refine((t) => parsePrefix(t) !== null, 'must be an IPv4 address with an optional /prefix, like 192.168.15.0/24');
const ifname = z.string().regex(/^[A-Za-z0-9_.@-]{1,15}$/, 'must be an interface name');
const regexText = z.string().refine((t) => {
  try {
    new RegExp(t, 'm');
    return true;
  } catch {
    return false;
  }
}, 'must be a JavaScript regular expression');

/** Each kind of check and its fields; a check has exactly one of these keys. */
const CHECK_KINDS = {
  reachable: z.strictObject({ from: placeText, to: ipv4Text, port: z.number().int().min(1).max(65535).optional() }),
  interface: z.strictObject({
    on: placeText,
    name: ifname,
    type: z.enum(['loopback', 'ether', 'veth', 'bridge', 'ifb', 'macvlan', 'macvtap', 'tun', 'tap', 'vxlan']).optional(),
    up: z.boolean().optional(),
    master: ifname.optional(),
  }),
  address: z.strictObject({ on: placeText, address: prefixText, dev: ifname.optional() }),
  route: z.strictObject({
    on: placeText,
    to: z.union([z.literal('default'), prefixText]),
    via: ipv4Text.optional(),
    dev: ifname.optional(),
  }),
  sysctl: z.strictObject({ on: placeText, key: z.string().min(1), value: z.union([z.string(), z.number()]).transform(String) }),
  iptables: z.strictObject({ on: placeText, table: z.enum(['filter', 'nat', 'mangle', 'raw']).default('filter'), chain: z.string().min(1), rule: z.string().min(1) }),
  output: z.strictObject({ on: placeText, command: z.string().min(1), matches: regexText }),
};
type CheckKind = keyof typeof CHECK_KINDS;
const KIND_NAMES = Object.keys(CHECK_KINDS) as CheckKind[];

const checkSchema = z
  .strictObject({
    ...(Object.fromEntries(KIND_NAMES.map((k) => [k, CHECK_KINDS[k].optional()])) as { [K in CheckKind]: z.ZodOptional<(typeof CHECK_KINDS)[K]> }),
    description: z.string().min(1).optional(),
    hint: z.string().min(1).optional(),
  })
  .refine((c) => KIND_NAMES.filter((k) => c[k] !== undefined).length === 1, `must have exactly one of ${KIND_NAMES.join(', ')}`);

const hostName = z.string().regex(/^[A-Za-z0-9_-]+$/, 'host names are letters, digits, - and _');
const solutionLine = z.string().regex(COMMAND_LINE, 'must be HOST$ COMMAND, like "hostA$ ip netns add red"');

const templateSchema = z
  .strictObject({
    title: z.string().min(1),
    description: z.string().default(''),
    world: z.union([z.string().regex(/^[^/\\]+\.(json|ya?ml)$/, 'must name a world file in the same folder'), z.record(z.string(), z.unknown())]).optional(),
    continues: z.string().min(1).optional(),
    setup: z.record(hostName, z.array(z.string().min(1))).default({}),
    instructions: z.strictObject({ en: z.string().min(1), ko: z.string().min(1) }),
    tasks: z
      .array(z.strictObject({ id: z.string().regex(/^[a-z0-9-]+$/, 'task ids are lowercase letters, digits and -'), title: z.string().min(1), checks: z.array(checkSchema).min(1) }))
      .min(1),
    solution: z.array(solutionLine).min(1),
  })
  .refine((t) => (t.world === undefined) !== (t.continues === undefined), 'must have exactly one of world, continues');

type ParsedCheck = z.infer<typeof checkSchema>;
type ParsedTemplate = z.infer<typeof templateSchema>;

/** A check with its text resolved: exactly one kind key is set. */
export type Check = Omit<ParsedCheck, 'description'> & { description: string };

export interface Task {
  id: string;
  title: string;
  checks: Check[];
}

export interface HostCommand {
  host: string;
  command: string;
}

export interface LabTemplate {
  id: string;
  title: string;
  description: string;
  /** Markdown. Empty for a plain world file. */
  instructions: { en: string; ko: string };
  /** The world a lab starts from, its starting state (setup, earlier templates' solutions) already in its hosts' setup lines. */
  world: WorldSpec;
  tasks: Task[];
  /** Commands that complete every task from the start; for instructors and tests, never for students. */
  solution: HostCommand[];
}

function fieldPath(path: ReadonlyArray<PropertyKey>): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
}

function schemaError(file: string, error: z.ZodError): TemplateError {
  // An unknown field is usually a misspelt one, which zod also reports as missing: name the cause.
  const issue = error.issues.find((i) => i.code === 'unrecognized_keys') ?? error.issues[0]!;
  if (issue.code === 'unrecognized_keys') return new TemplateError(`${file}: ${fieldPath([...issue.path, issue.keys[0]!])}: unknown field`);
  return new TemplateError(`${file}: ${fieldPath(issue.path) || '(top level)'}: ${issue.message}`);
}

/** The text a check shows when its file gives none. */
function describe(c: ParsedCheck): string {
  if (c.reachable) {
    const { from, to, port } = c.reachable;
    return port === undefined ? `${from} can ping ${to}` : `${from} connects to ${to} on TCP port ${port}`;
  }
  if (c.interface) {
    const { on, name, type, up, master } = c.interface;
    const states = [up === true ? 'is up' : up === false ? 'is down' : null, master ? `is a port of ${master}` : null].filter((s) => s !== null);
    return `${on}: interface ${name}${type ? ` (${type})` : ''} ${states.length ? states.join(' and ') : 'exists'}`;
  }
  if (c.address) return `${c.address.on}: address ${c.address.address}${c.address.dev ? ` on ${c.address.dev}` : ''}`;
  if (c.route) {
    const { on, to, via, dev } = c.route;
    return `${on}: route ${to === 'default' ? 'default' : `to ${to}`}${via ? ` via ${via}` : ''}${dev ? ` dev ${dev}` : ''}`;
  }
  if (c.sysctl) return `${c.sysctl.on}: ${c.sysctl.key} = ${c.sysctl.value}`;
  if (c.iptables) return `${c.iptables.on}: iptables -t ${c.iptables.table} has -A ${c.iptables.chain} ${c.iptables.rule}`;
  const { on, command, matches } = c.output!;
  return `${on}: output of "${command}" matches /${matches}/`;
}

/** The place field of a check, and its path in the file, for checking that its host exists. */
function checkPlace(c: ParsedCheck): [string, string] {
  if (c.reachable) return ['reachable.from', c.reachable.from];
  const kind = KIND_NAMES.find((k) => c[k] !== undefined)!;
  return [`${kind}.on`, (c[kind] as { on: string }).on];
}

function readData(dir: string, file: string): unknown {
  try {
    return parseYaml(readFileSync(join(dir, file), 'utf8'));
  } catch (e) {
    if (e instanceof YAMLParseError) throw new TemplateError(`${file}: ${e.message.split('\n')[0]!.replace(/:$/, '')}`);
    throw e;
  }
}

/** Parses a world, naming the bad field as a path in `file`, under `field` when the world is inline in a template. */
function worldOf(file: string, raw: unknown, field?: string): WorldSpec {
  try {
    return parseWorld(raw);
  } catch (e) {
    if (!(e instanceof WorldFileError)) throw e;
    const [, path, message] = /^world file: (.*?): ([\s\S]*)$/.exec(e.message)!;
    const at = field === undefined ? path : path === '(top level)' ? field : `${field}.${path}`;
    throw new TemplateError(`${file}: ${at}: ${message}`);
  }
}

function isTemplateFile(raw: unknown): boolean {
  return typeof raw === 'object' && raw !== null && ('world' in raw || 'continues' in raw || 'tasks' in raw);
}

function titleOf(id: string): string {
  return id.replace(/[-_]+/g, ' ').replace(/^./, (c) => c.toUpperCase());
}

/** A world with lines added to its hosts' setup, and where each setup line came from (for errors). */
interface StartingWorld {
  world: WorldSpec;
  origins: Map<string, string[]>;
}

function fromWorld(world: WorldSpec): StartingWorld {
  return { world, origins: new Map(Object.entries(world.hosts).map(([host, spec]) => [host, spec.setup.map((_, i) => `world: hosts.${host}.setup[${i}]`)])) };
}

function withSetup(start: StartingWorld, lines: Array<HostCommand & { origin: string }>): StartingWorld {
  const hosts = { ...start.world.hosts };
  const origins = new Map(start.origins);
  for (const { host, command, origin } of lines) {
    hosts[host] = { ...hosts[host]!, setup: [...hosts[host]!.setup, command] };
    origins.set(host, [...origins.get(host)!, origin]);
  }
  return { world: { ...start.world, hosts }, origins };
}

/** Builds the world once, so a setup line that fails is reported when the folder loads rather than when a lab is created. */
function assertBuilds(file: string, start: StartingWorld): void {
  try {
    buildLab(start.world);
  } catch (e) {
    if (!(e instanceof WorldFileError)) throw e;
    const setupLine = /^world file: hosts\.([^.]+)\.setup\[(\d+)\]: ([\s\S]*)$/.exec(e.message);
    if (!setupLine) throw new TemplateError(`${file}: world: ${e.message.replace(/^world file: /, '')}`);
    const [, host, index, message] = setupLine;
    throw new TemplateError(`${file}: ${start.origins.get(host!)![Number(index)]}: ${message}`);
  }
}

/** Loads every template in a folder: `NAME.yaml`, `NAME.yml` or `NAME.json` is the template NAME. */
export function loadTemplateFolder(dir: string): Map<string, LabTemplate> {
  const files = readdirSync(dir)
    .filter((f) => /\.(json|ya?ml)$/.test(f))
    .sort();
  const raws = new Map<string, { file: string; raw: unknown }>();
  for (const file of files) {
    const id = basename(file, extname(file));
    if (raws.has(id)) throw new TemplateError(`${file}: template "${id}" is also ${raws.get(id)!.file}`);
    raws.set(id, { file, raw: readData(dir, file) });
  }

  const templates = new Map<string, LabTemplate>();
  const starts = new Map<string, StartingWorld>();
  const resolving = new Set<string>();

  const load = (id: string): LabTemplate => {
    const done = templates.get(id);
    if (done) return done;
    const { file, raw } = raws.get(id)!;
    if (!isTemplateFile(raw)) {
      const world = worldOf(file, raw);
      const template = { id, title: titleOf(id), description: world.description ?? '', instructions: { en: '', ko: '' }, world, tasks: [], solution: [] };
      templates.set(id, template);
      starts.set(id, fromWorld(world));
      return template;
    }
    const parsed = templateSchema.safeParse(raw);
    if (!parsed.success) throw schemaError(file, parsed.error);
    const t = parsed.data;
    resolving.add(id);
    const base = startOf(file, t);
    resolving.delete(id);
    const hosts = Object.keys(base.world.hosts);
    const requireHost = (path: string, host: string) => {
      if (!hosts.includes(host)) throw new TemplateError(`${file}: ${path}: no host "${host}" in the world (it has ${hosts.join(', ')})`);
    };
    for (const host of Object.keys(t.setup)) requireHost(`setup.${host}`, host);
    const start = withSetup(
      base,
      Object.entries(t.setup).flatMap(([host, lines]) => lines.map((command, i) => ({ host, command, origin: `setup.${host}[${i}]` }))),
    );
    const taskIds = new Set<string>();
    t.tasks.forEach((task, i) => {
      if (taskIds.has(task.id)) throw new TemplateError(`${file}: tasks[${i}].id: duplicate task id "${task.id}"`);
      taskIds.add(task.id);
      task.checks.forEach((c, j) => {
        const [field, place] = checkPlace(c);
        requireHost(`tasks[${i}].checks[${j}].${field}`, parsePlace(place).host);
      });
    });
    const solution = t.solution.map((line, i) => {
      const [, host, command] = COMMAND_LINE.exec(line)!;
      requireHost(`solution[${i}]`, host!);
      return { host: host!, command: command! };
    });
    assertBuilds(file, start);
    const template: LabTemplate = {
      id,
      title: t.title,
      description: t.description,
      instructions: t.instructions,
      world: start.world,
      tasks: t.tasks.map((task) => ({ ...task, checks: task.checks.map((c) => ({ ...c, description: c.description ?? describe(c) })) })),
      solution,
    };
    templates.set(id, template);
    starts.set(id, start);
    return template;
  };

  /** The world a template starts from: its world file, or where the template it continues ends. */
  const startOf = (file: string, t: ParsedTemplate): StartingWorld => {
    if (t.continues !== undefined) {
      const previous = t.continues;
      if (!raws.has(previous)) throw new TemplateError(`${file}: continues: no template "${previous}" in the folder`);
      if (resolving.has(previous)) throw new TemplateError(`${file}: continues: "${previous}" leads back to this template`);
      const before = load(previous);
      return withSetup(
        starts.get(previous)!,
        before.solution.map((line, i) => ({ ...line, origin: `continues: ${previous}'s solution[${i}] (${line.host}$ ${line.command})` })),
      );
    }
    if (typeof t.world === 'string') {
      const worldFile = raws.get(basename(t.world, extname(t.world)));
      if (worldFile?.file !== t.world) throw new TemplateError(`${file}: world: no file "${t.world}" in the folder`);
      if (isTemplateFile(worldFile.raw)) throw new TemplateError(`${file}: world: ${t.world} is a template, not a world file (use continues)`);
      return fromWorld(worldOf(t.world, worldFile.raw));
    }
    return fromWorld(worldOf(file, t.world, 'world'));
  };

  for (const id of raws.keys()) load(id);
  return templates;
}
