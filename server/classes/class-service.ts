// Classes (docs/API.md, "Classes"): an instructor creates one from a
// template; students join with its code and a name and work in their own lab
// or their group's. The class record in the store says who is in which lab;
// this service keeps the rules (lock, driver) on every command of a class
// lab, tracks each lab's progress and tells dashboards.
import { randomInt } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { Dashboard, DashboardEvent, LabRow, LabTopology } from '../../shared/dashboard';
import { ROW_COMPARE, type RowOrder } from '../../shared/dashboard-order';
import { ClassState, CloseCode, InstructorMessage, type ServerMessage } from '../../shared/protocol';
import type { EngineCopies } from '../labs/history';
import type { Labs } from '../labs/labs';
import { newId } from '../labs/new-id';
import { LabError, type ExecRequest, type LabHooks, type LiveLab } from '../labs/live-lab';
import type { CommandRecord } from '../labs/lab-host';
import { ClassConflictError, JoinCodeTakenError, type ClassBusMessage, type ClassMember, type ClassRecord, type Store } from '../store/types';
import type { Claims, ClassClaims, Tokens } from '../net/tokens';
import type { TaskProgress } from './checks';
import { faultCommand, labTopology, type Fault } from './faults';
import type { LabTemplate } from './lab-template';
import { evaluateLab, ProgressTracker, type TrackedLab } from './progress';

export type { Dashboard, DashboardEvent, LabRow };

/** No 0/O, 1/I/L: a code read aloud or from a projector is typed right. */
const CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
const CODE_LENGTH = 6;
/**
 * How long a class record read from the store is used again: every command
 * of a class lab consults its class. Other instances' changes arrive over
 * the store's bus at once; this bounds how long a lost message goes unseen.
 */
const CLASS_CACHE_MS = 1000;
const SNAPSHOT_COALESCE_MS = 100;
/** A watched lab a store failure closed is loaded again after this, then twice as long after each failure, up to RELOAD_MAX_MS. */
const RELOAD_FIRST_MS = 500;
const RELOAD_MAX_MS = 30_000;

/** Who injected faults run as: visible in the activity feed under this name. */
const FAULT_PARTICIPANT = { id: 'instructor', name: 'instructor' } as const;

/** A request the class refuses; `status` is the HTTP status that says why. */
export class ClassError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface ClassSettings {
  /** How long a join code works. */
  joinCodeTtlMs: number;
  /** A lab whose checks have not progressed for this long, with tasks left, is stuck. */
  stuckMs: number;
  /** How long to wait after a command for more before evaluating a lab. */
  progressCoalesceMs: number;
}

export const DEFAULT_CLASS_SETTINGS: ClassSettings = { joinCodeTtlMs: 2 * 3600_000, stuckMs: 5 * 60_000, progressCoalesceMs: 5 };

export interface ClassServiceOptions extends ClassSettings {
  labs: Labs;
  tokens: Tokens;
  templates: ReadonlyMap<string, LabTemplate>;
}

export interface NewClass {
  template: string;
  title?: string;
  mode: 'solo' | 'group';
  groupSize: number;
  instructorName: string;
  joinCodeTtlMs?: number;
}


function joinCode(): string {
  return Array.from({ length: CODE_LENGTH }, () => CODE_ALPHABET[randomInt(CODE_ALPHABET.length)]).join('');
}

/** What students type: any case, spaces and dashes ignored. */
function normaliseJoinCode(text: string): string {
  return text.toUpperCase().replace(/[\s-]/g, '');
}

/** A student's lab is named after them, a group's after its number. */
function labTitle(record: ClassRecord, group: number | null, firstMember: string): string {
  return group === null ? `${record.title}: ${firstMember}` : `${record.title}: group ${group}`;
}

/** Each lab of the class once, in the order its first member joined. */
function labsOf(record: ClassRecord): Array<{ lab: string; group: number | null; members: ClassMember[] }> {
  const byLab = new Map<string, { lab: string; group: number | null; members: ClassMember[] }>();
  for (const member of record.members) {
    const row = byLab.get(member.labId) ?? { lab: member.labId, group: member.group, members: [] };
    row.members.push(member);
    byLab.set(member.labId, row);
  }
  return [...byLab.values()];
}

export class ClassService implements LabHooks {
  private readonly progress: ProgressTracker;
  private readonly subscribers = new Map<string, Set<(event: DashboardEvent) => void>>();
  /** Whether each lab's row was last sent as stuck, to send it again when that changes. */
  private readonly sentStuck = new Map<string, boolean>();
  /** Sends rows that became stuck with time alone, and releases what unloaded labs held. */
  private readonly stuckTimer: NodeJS.Timeout;
  /** Class records recently read or written, here or (heard over the bus) on another instance. */
  private readonly cache = new Map<string, { record: ClassRecord; at: number }>();
  private readonly snapshotTimers = new Map<string, NodeJS.Timeout>();
  /** Loads of watched labs a store failure closed (`closed`), waiting to be tried. */
  private readonly reloadTimers = new Set<NodeJS.Timeout>();
  private stopListening: (() => void) | null = null;

  constructor(private readonly options: ClassServiceOptions) {
    this.progress = new ProgressTracker({
      coalesceMs: options.progressCoalesceMs,
      evaluate: (lab, copies) => this.evaluate(lab, copies),
      addMarks: (labId, marks) => this.store.addProgressMarks(labId, marks),
      changed: (lab, tracked) => void this.labChanged(lab.host.record.classId!, lab.id, tracked),
    });
    this.stuckTimer = setInterval(() => {
      this.progress.releaseUnloaded();
      void this.sendStuckChanges();
    }, Math.min(options.stuckMs / 4, 15_000));
    this.stuckTimer.unref();
  }

  private get store(): Store {
    return this.options.labs.store;
  }

  /** Listens to the classes' changes and messages of other instances sharing the store, if it has a bus. */
  async listen(): Promise<void> {
    this.stopListening = (await this.store.bus?.subscribeClasses((message) => this.heard(message))) ?? null;
  }

  close(): void {
    clearInterval(this.stuckTimer);
    for (const timer of this.snapshotTimers.values()) clearTimeout(timer);
    for (const timer of this.reloadTimers) clearTimeout(timer);
    this.stopListening?.();
  }

  private heard(message: ClassBusMessage): void {
    if (message.kind === 'changed') {
      // A class this instance never read is read from the store when first needed.
      if (!this.cache.has(message.record.id)) return;
      this.adopt(message.record).catch((e) => console.error(`class ${message.record.id}: could not pass its change on:`, e));
    } else if (message.kind === 'message') {
      if (message.from !== this.options.labs.instanceId) void this.sendToLabs(message.labs, message.message, message.to);
    } else {
      // Changes may have been missed: read every class again at its next use.
      for (const cached of this.cache.values()) cached.at = -Infinity;
    }
  }

  private templateOf(record: ClassRecord): LabTemplate {
    const template = this.options.templates.get(record.templateId);
    if (!template) throw new ClassError(503, `the class's template "${record.templateId}" is no longer on this server`);
    return template;
  }

  /**
   * Takes a class as read or written, here or on another instance, and
   * answers with the newest version known. A newer version is passed on: to
   * the participants of labs whose lock or driver it changed, and to
   * dashboards. Without an earlier version here, no participant here has
   * been told the class's state, so there is nothing to correct.
   */
  private async adopt(record: ClassRecord): Promise<ClassRecord> {
    const cached = this.cache.get(record.id);
    if (cached && cached.record.version >= record.version) {
      if (cached.record.version === record.version) cached.at = Date.now();
      return cached.record;
    }
    this.cache.set(record.id, { record, at: Date.now() });
    if (cached) {
      const changed = labsOf(record)
        .map((r) => r.lab)
        .filter((labId) => !isDeepStrictEqual(this.classState(cached.record, labId), this.classState(record, labId)));
      await this.sendClassState(record, changed);
    }
    this.sendSnapshot(record.id);
    return record;
  }

  private async read(id: string, fresh = false): Promise<ClassRecord | null> {
    const cached = this.cache.get(id);
    if (!fresh && cached && Date.now() - cached.at < CLASS_CACHE_MS) return cached.record;
    const record = await this.store.getClass(id);
    return record && this.adopt(record);
  }

  async get(id: string, fresh = false): Promise<ClassRecord> {
    const record = await this.read(id, fresh);
    if (!record) throw new ClassError(404, `no class "${id}"`);
    return record;
  }

  /**
   * Applies `change` to the stored class, again on a fresh copy if someone
   * else changed it meanwhile; `abandon` undoes what a change that lost the
   * race made besides the record.
   */
  private async update(
    id: string,
    change: (current: ClassRecord) => Omit<ClassRecord, 'version'> | Promise<Omit<ClassRecord, 'version'>>,
    abandon: () => Promise<void> = async () => {},
  ): Promise<ClassRecord> {
    for (let attempt = 1; ; attempt++) {
      const current = await this.get(id, true);
      const next = { ...(await change(current)), version: current.version + 1 };
      try {
        await this.store.updateClass(next);
        return await this.adopt(next);
      } catch (e) {
        await abandon();
        if (!(e instanceof ClassConflictError) || attempt === 20) throw e;
      }
    }
  }

  private newLab(record: ClassRecord, title: string): Promise<{ id: string }> {
    return this.options.labs.create({ world: this.templateOf(record).world, title, classId: record.id });
  }

  async create(input: NewClass): Promise<{ record: ClassRecord; token: string }> {
    if (!this.options.templates.has(input.template)) {
      throw new ClassError(400, `template: no template "${input.template}" (there are: ${[...this.options.templates.keys()].join(', ')})`);
    }
    const template = this.options.templates.get(input.template)!;
    const now = new Date();
    for (;;) {
      const record: ClassRecord = {
        id: newId(),
        title: input.title ?? template.title,
        templateId: input.template,
        mode: input.mode,
        groupSize: input.mode === 'solo' ? 1 : input.groupSize,
        joinCode: { code: joinCode(), expiresAt: new Date(now.getTime() + (input.joinCodeTtlMs ?? this.options.joinCodeTtlMs)).toISOString() },
        locked: false,
        members: [],
        instructor: newId(),
        createdAt: now.toISOString(),
        version: 1,
      };
      try {
        await this.store.createClass(record);
        await this.adopt(record);
      } catch (e) {
        if (e instanceof JoinCodeTakenError) continue;
        throw e;
      }
      const token = this.options.tokens.issueClass({ class: record.id, role: 'instructor', sub: record.instructor, name: input.instructorName });
      return { record, token };
    }
  }

  /** A student joins: their own lab (solo), or a place in the newest group with room, else a new group's lab. Answers with their class token. */
  async join(code: string, name: string): Promise<{ record: ClassRecord; member: ClassMember; token: string }> {
    const typed = normaliseJoinCode(code);
    const classId = await this.store.classIdByCode(typed);
    if (!classId) throw new ClassError(404, 'no class has this join code (it may have been revoked)');
    let created: { id: string } | null = null;
    let member: ClassMember | null = null;
    const record = await this.update(
      classId,
      async (current) => {
        if (current.joinCode?.code !== typed) throw new ClassError(404, 'no class has this join code (it may have been revoked)');
        if (Date.parse(current.joinCode.expiresAt) <= Date.now()) throw new ClassError(410, 'this join code has expired; ask the instructor for a new one');
        if (current.locked) throw new ClassError(403, 'the class is locked');
        const last = labsOf(current).at(-1);
        const shared = current.mode === 'group' && last && last.members.length < current.groupSize ? last : null;
        const group = current.mode === 'solo' ? null : shared ? shared.group : (last?.group ?? 0) + 1;
        created = shared ? null : await this.newLab(current, labTitle(current, group, name));
        member = { id: newId(), name, labId: shared ? shared.lab : created!.id, group, driver: !shared, joinedAt: new Date().toISOString() };
        return { ...current, members: [...current.members, member] };
      },
      async () => {
        if (created) await this.options.labs.delete(created.id);
      },
    );
    const joined = member!;
    return { record, member: joined, token: this.options.tokens.issueClass({ class: classId, role: 'student', sub: joined.id, name: joined.name }) };
  }

  memberOf(record: ClassRecord, memberId: string): ClassMember {
    const member = record.members.find((m) => m.id === memberId);
    if (!member) throw new ClassError(404, `no member "${memberId}" in this class`);
    return member;
  }

  /** The lab a student works in now, with a token for it (their member id is their participant id there). */
  labTokenFor(member: ClassMember): string {
    return this.options.tokens.issue(member.labId, 'editor', member.name, member.id).token;
  }

  /** An owner token for one of the class's labs, as the instructor: watch it, or type in it under their own name. */
  async instructorLabToken(classId: string, labId: string, instructor: ClassClaims): Promise<string> {
    this.labRowOf(await this.get(classId), labId);
    return this.options.tokens.issue(labId, 'owner', instructor.name, instructor.sub).token;
  }

  private labRowOf(record: ClassRecord, labId: string) {
    const row = labsOf(record).find((r) => r.lab === labId);
    if (!row) throw new ClassError(404, `no lab "${labId}" in this class`);
    return row;
  }

  classState(record: ClassRecord, labId: string): ClassState {
    const group = record.mode === 'group' ? record.members.filter((m) => m.labId === labId) : [];
    const asLabMember = (m: ClassMember) => ({ participant: m.id, name: m.name });
    const driver = group.find((m) => m.driver);
    return ClassState.parse({ type: 'class', class: record.id, locked: record.locked, driver: driver ? asLabMember(driver) : null, members: group.map(asLabMember) });
  }

  // --- rules on every command of a class lab (LabHooks) ---

  async admit(lab: LiveLab, request: ExecRequest): Promise<void> {
    const classId = lab.host.record.classId;
    if (classId === undefined) return;
    const record = await this.read(classId);
    const member = record?.members.find((m) => m.id === request.who);
    if (!record || !member) return;
    if (record.locked) throw new LabError('read_only', 'the class is locked: the instructor has ended it, and its labs are read-only');
    if (!member.driver) {
      const driver = record.members.find((m) => m.labId === member.labId && m.driver);
      throw new LabError('forbidden', `you are navigating: ${driver?.name ?? 'nobody'} drives this lab; point at devices, or ask the driver to hand over`);
    }
  }

  notesRefusal(lab: LiveLab, participant: string): string | null {
    const classId = lab.host.record.classId;
    // The class as last read: every command and every hello in its labs reads it.
    const record = classId === undefined ? undefined : this.cache.get(classId)?.record;
    return record?.locked && record.members.some((m) => m.id === participant) ? 'the class is locked' : null;
  }

  async greet(lab: LiveLab, send: (message: ServerMessage) => void): Promise<void> {
    const classId = lab.host.record.classId;
    const record = classId === undefined ? null : await this.read(classId);
    if (record) send(this.classState(record, lab.id));
  }

  /** Only the server issues lab tokens under the instructor's participant id (`instructorLabToken`). */
  async isInstructor(lab: LiveLab, participant: string): Promise<boolean> {
    const classId = lab.host.record.classId;
    return classId !== undefined && (await this.read(classId))?.instructor === participant;
  }

  /**
   * A class lab stays loaded on an instance while a dashboard stream of its
   * class is open there: this instance then follows the lab's log over the
   * store's bus and evaluates its progress itself, so the stream stays live
   * even when the lab's students all work on another instance. Rows are
   * derived here from the log, as everywhere else, rather than received from
   * another instance: that needs no new message and no instance with students
   * to publish for dashboards it cannot see. What it holds is what the
   * stream's first snapshot loads anyway, the class's labs, and only while a
   * stream is open (`subscribe` releases them).
   */
  keepLoaded(lab: LiveLab): boolean {
    const classId = lab.host.record.classId;
    return classId !== undefined && this.subscribers.has(classId);
  }

  /**
   * A lab kept loaded for a dashboard here that a store failure closed is
   * loaded again, retried less and less often while the store fails; then
   * the whole dashboard is sent, since the entries it replayed on loading
   * finished no command here.
   */
  closed(lab: LiveLab, code: number): void {
    const classId = lab.host.record.classId;
    if (code !== CloseCode.labUnavailable || classId === undefined || !this.subscribers.has(classId)) return;
    const reload = (delayMs: number) => {
      const timer = setTimeout(async () => {
        this.reloadTimers.delete(timer);
        if (!this.subscribers.has(classId)) return;
        try {
          await this.options.labs.get(lab.id);
          this.sendSnapshot(classId);
        } catch {
          reload(Math.min(2 * delayMs, RELOAD_MAX_MS));
        }
      }, delayMs);
      this.reloadTimers.add(timer);
    };
    reload(RELOAD_FIRST_MS);
  }

  commandFinished(lab: LiveLab, _record: CommandRecord): void {
    if (lab.host.record.classId !== undefined) this.progress.commandFinished(lab);
  }

  private async evaluate(lab: LiveLab, copies: EngineCopies) {
    const record = await this.read(lab.host.record.classId!);
    if (!record) return null;
    const members = new Set(record.members.filter((m) => m.labId === lab.id).map((m) => m.id));
    return evaluateLab(lab.host, copies, this.templateOf(record), (who) => members.has(who));
  }

  // --- the dashboard ---

  private row(record: ClassRecord, labId: string, tracked: TrackedLab | null): LabRow {
    const { group, members } = this.labRowOf(record, labId);
    const template = this.templateOf(record);
    const evaluation = tracked?.evaluation;
    const tasksDone = evaluation?.tasksDone ?? 0;
    const lastProgressAt = tracked?.lastProgressAt ?? Date.parse(members[0]!.joinedAt);
    return {
      lab: labId,
      group,
      members: members.map(({ id, name, driver, joinedAt }) => ({ id, name, driver, joinedAt })),
      tasks: tracked?.tasks ?? template.tasks.map((t) => ({ id: t.id, title: t.title, done: false, doneAt: null, checks: [] })),
      tasksDone,
      checksPassed: evaluation?.checksPassed ?? 0,
      commands: evaluation?.commands ?? 0,
      lastCommand: evaluation?.lastCommand ?? null,
      errorStreak: evaluation?.errorStreak ?? 0,
      lastProgressAt: new Date(lastProgressAt).toISOString(),
      stuck: tasksDone < template.tasks.length && Date.now() - lastProgressAt >= this.options.stuckMs,
      seq: evaluation?.seq ?? 0,
    };
  }

  /** The class template's instructions (Markdown), for the dashboard and the students' labs. */
  instructions(record: ClassRecord): LabTemplate['instructions'] {
    return this.templateOf(record).instructions;
  }

  /** One lab's progress on each task, as its dashboard row shows it. */
  async labProgress(record: ClassRecord, labId: string): Promise<TaskProgress[]> {
    const lab = await this.options.labs.get(labId);
    return this.row(record, labId, lab ? await this.progress.current(lab) : null).tasks;
  }

  /** Every lab of the class with its progress, evaluating labs not evaluated since their last command. */
  async dashboard(classId: string, order: RowOrder = 'joined'): Promise<Dashboard> {
    const record = await this.get(classId);
    const template = this.templateOf(record);
    const rows = await Promise.all(
      labsOf(record).map(async ({ lab: labId }) => {
        const lab = await this.options.labs.get(labId);
        return this.row(record, labId, lab ? await this.progress.current(lab) : null);
      }),
    );
    for (const row of rows) this.sentStuck.set(row.lab, row.stuck);
    const code = record.joinCode;
    return {
      id: record.id,
      title: record.title,
      template: record.templateId,
      mode: record.mode,
      groupSize: record.groupSize,
      locked: record.locked,
      joinCode: code && { ...code, expired: Date.parse(code.expiresAt) <= Date.now() },
      tasks: template.tasks.map(({ id, title }) => ({ id, title })),
      labs: rows.sort(ROW_COMPARE[order]),
    };
  }

  /**
   * Calls `listener` with every change to the class's dashboard until the
   * returned function is called; meanwhile the class's labs stay loaded here
   * (`keepLoaded`).
   */
  subscribe(classId: string, listener: (event: DashboardEvent) => void): () => void {
    let listeners = this.subscribers.get(classId);
    if (!listeners) this.subscribers.set(classId, (listeners = new Set()));
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
      if (listeners.size > 0 || this.subscribers.get(classId) !== listeners) return;
      this.subscribers.delete(classId);
      void this.releaseLabs(classId);
    };
  }

  /** Restarts the idle time of the class's loaded labs, which nobody watches here any more. */
  private async releaseLabs(classId: string): Promise<void> {
    for (const lab of await this.options.labs.loaded()) if (lab.host.record.classId === classId) lab.touch();
  }

  private emit(classId: string, event: DashboardEvent): void {
    for (const listener of this.subscribers.get(classId) ?? []) listener(event);
  }

  private async labChanged(classId: string, labId: string, tracked: TrackedLab): Promise<void> {
    if (!this.subscribers.has(classId)) return;
    const record = await this.read(classId);
    if (!record?.members.some((m) => m.labId === labId)) return;
    const row = this.row(record, labId, tracked);
    this.sentStuck.set(labId, row.stuck);
    this.emit(classId, { event: 'lab', data: row });
  }

  /** Sends the whole dashboard soon: changes within SNAPSHOT_COALESCE_MS (a class joining at once) make one snapshot. */
  private sendSnapshot(classId: string): void {
    if (!this.subscribers.has(classId) || this.snapshotTimers.has(classId)) return;
    const timer = setTimeout(async () => {
      this.snapshotTimers.delete(classId);
      try {
        this.emit(classId, { event: 'snapshot', data: await this.dashboard(classId) });
      } catch (e) {
        console.error(`class ${classId}: could not send its dashboard:`, e);
      }
    }, SNAPSHOT_COALESCE_MS);
    this.snapshotTimers.set(classId, timer);
  }

  /** Rows that became stuck (or stopped being) with time alone, for classes someone watches. */
  private async sendStuckChanges(): Promise<void> {
    for (const classId of this.subscribers.keys()) {
      const record = await this.read(classId).catch(() => null);
      if (!record) continue;
      for (const { lab } of labsOf(record)) {
        const row = this.row(record, lab, this.progress.tracked(lab));
        if (this.sentStuck.get(lab) !== row.stuck) {
          this.sentStuck.set(lab, row.stuck);
          this.emit(classId, { event: 'lab', data: row });
        }
      }
    }
  }

  // --- instructor actions ---

  /**
   * Sends to the connected participants of the class's labs, on every
   * instance; `to` one member, or everyone. Answers how many connections got
   * it: those here, and those other instances last said they have.
   */
  async message(classId: string, from: string, text: string, to?: string): Promise<number> {
    const record = await this.get(classId);
    const target = to === undefined ? null : this.memberOf(record, to);
    const message = InstructorMessage.parse({ type: 'message', from, to: target ? 'you' : 'class', text, at: new Date().toISOString() });
    const labIds = target ? [target.labId] : labsOf(record).map((r) => r.lab);
    const participant = target?.id ?? null;
    const sent = await this.sendToLabs(labIds, message, participant);
    await this.store.bus?.publishClass({ kind: 'message', from: this.options.labs.instanceId, labs: labIds, to: participant, message });
    let elsewhere = 0;
    for (const lab of await this.loadedLabs(labIds)) {
      for (const connected of lab.connectedElsewhere()) if (participant === null || connected === participant) elsewhere++;
    }
    return sent + elsewhere;
  }

  private async loadedLabs(labIds: string[]): Promise<LiveLab[]> {
    const wanted = new Set(labIds);
    return (await this.options.labs.loaded()).filter((lab) => wanted.has(lab.id));
  }

  /** Sends to the connections here to the labs: those of participant `to`, or all when it is null. Answers how many got it. */
  private async sendToLabs(labIds: string[], message: ServerMessage, to: string | null): Promise<number> {
    let sent = 0;
    for (const lab of await this.loadedLabs(labIds)) {
      for (const conn of lab.room.connections) {
        if (to !== null && conn.peer.participant !== to) continue;
        conn.sendMessage(message);
        sent++;
      }
    }
    return sent;
  }

  private async sendClassState(record: ClassRecord, labIds: string[]): Promise<void> {
    for (const labId of labIds) await this.sendToLabs([labId], this.classState(record, labId), null);
  }

  async setLocked(classId: string, locked: boolean): Promise<ClassRecord> {
    return this.update(classId, (c) => ({ ...c, locked }));
  }

  async rotateJoinCode(classId: string, ttlMs = this.options.joinCodeTtlMs): Promise<ClassRecord> {
    for (;;) {
      try {
        return await this.update(classId, (c) => ({ ...c, joinCode: { code: joinCode(), expiresAt: new Date(Date.now() + ttlMs).toISOString() } }));
      } catch (e) {
        if (!(e instanceof JoinCodeTakenError)) throw e;
      }
    }
  }

  async revokeJoinCode(classId: string): Promise<void> {
    await this.update(classId, (c) => ({ ...c, joinCode: null }));
  }

  /**
   * Makes `memberId` the driver of their group; by the instructor (with their
   * class token, or from the group's lab page with the owner token
   * `instructorLabToken` gave them for it), or by the group's driver handing over.
   */
  async handOver(classId: string, by: ClassClaims | Claims, memberId: string): Promise<ClassRecord> {
    return this.update(classId, (c) => {
      if (c.mode !== 'group') throw new ClassError(409, 'only group labs have a driver to hand over from');
      const to = this.memberOf(c, memberId);
      if ('lab' in by) {
        if (by.role !== 'owner' || by.sub !== c.instructor) throw new ClassError(403, "only the class's instructor hands over with a lab token");
        if (by.lab !== to.labId) throw new ClassError(403, `${to.name} is not in this lab`);
      } else if (by.role === 'student') {
        const self = this.memberOf(c, by.sub);
        if (self.labId !== to.labId) throw new ClassError(403, `${to.name} is not in your group`);
        if (!self.driver) throw new ClassError(403, 'only the driver hands over');
      }
      return { ...c, members: c.members.map((m) => (m.labId === to.labId ? { ...m, driver: m.id === to.id } : m)) };
    });
  }

  /**
   * Gives the lab's members a new lab: the template's start, or the old lab's
   * first `step` log entries. The old lab is deleted; its connections are
   * closed with `labMoved` so clients ask for the new one.
   */
  async reset(classId: string, labId: string, step?: number): Promise<string> {
    const current = await this.get(classId);
    const row = this.labRowOf(current, labId);
    let created: { id: string };
    // A reset to the template works even for a lab someone deleted.
    if (step === undefined) created = await this.newLab(current, labTitle(current, row.group, row.members[0]!.name));
    else {
      const old = await this.store.getLab(labId);
      if (!old) throw new ClassError(404, `no lab "${labId}"`);
      const log = await this.store.readLog(labId);
      if (step > log.length) throw new ClassError(400, `step: the lab's log has ${log.length} entries`);
      created = await this.options.labs.create({ world: old.world, title: old.title, seed: old.seed, classId });
      for (const entry of log.slice(0, step)) await this.store.append(created.id, entry);
    }
    await this.update(classId, (c) => ({ ...c, members: c.members.map((m) => (m.labId === labId ? { ...m, labId: created.id } : m)) }));
    this.progress.forget(labId);
    this.sentStuck.delete(labId);
    await this.options.labs.delete(labId, CloseCode.labMoved, `the instructor reset this lab; it goes on as lab ${created.id}`);
    return created.id;
  }

  /** One of the class's labs, loaded. */
  private async liveLab(classId: string, labId: string): Promise<LiveLab> {
    this.labRowOf(await this.get(classId), labId);
    const lab = await this.options.labs.get(labId);
    if (!lab) throw new ClassError(404, `no lab "${labId}"`);
    return lab;
  }

  /** The lab's hosts, namespaces, devices, routes and NAT rules as they are now: where a fault can go. */
  async topology(classId: string, labId: string): Promise<LabTopology> {
    const lab = await this.liveLab(classId, labId);
    return labTopology(lab.host.hosts, lab.host.state.doc);
  }

  /** Runs the fault's command in the lab as the `instructor` participant. */
  async injectFault(classId: string, labId: string, fault: Fault): Promise<{ command: string; output: string; exitCode: number }> {
    const lab = await this.liveLab(classId, labId);
    const command = faultCommand(fault);
    const { record } = await lab.exec({ who: FAULT_PARTICIPANT.id, name: FAULT_PARTICIPANT.name, terminal: null, host: fault.host, line: command, cid: null, mode: 'run' });
    return { command, output: record.output, exitCode: record.exitCode! };
  }

  /** One line per member: their lab's progress on each task (RFC 4180, formulas defused). */
  async resultsCsv(classId: string): Promise<string> {
    const dashboard = await this.dashboard(classId);
    const header = ['member', 'name', 'group', 'lab', 'joined', 'tasks done', ...dashboard.tasks.map((t) => `task ${t.id}`), 'checks passed', 'commands', 'errors in a row', 'last command', 'stuck'];
    const lines = [header];
    for (const row of dashboard.labs) {
      for (const member of row.members) {
        lines.push([
          member.id,
          member.name,
          row.group === null ? '' : String(row.group),
          row.lab,
          member.joinedAt,
          `${row.tasksDone}/${row.tasks.length}`,
          ...row.tasks.map((t) => (t.done ? 'done' : '')),
          String(row.checksPassed),
          String(row.commands),
          String(row.errorStreak),
          row.lastCommand ? `${row.lastCommand.host}$ ${row.lastCommand.line}` : '',
          row.stuck ? 'stuck' : '',
        ]);
      }
    }
    return lines.map((fields) => fields.map(csvField).join(',')).join('\r\n') + '\r\n';
  }
}

function csvField(value: string): string {
  // A spreadsheet would run a field starting with = + - @ as a formula.
  const text = /^[=+\-@]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
