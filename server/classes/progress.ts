// Progress of class labs: each lab's tasks evaluated after its commands, at
// most one evaluation at a time per lab, and a burst of commands evaluated
// once (the evaluation that starts after the burst sees all of it).
//
// A restarted server, or another instance, shows the same progress: the
// evaluation is derived from the lab as its log rebuilds it, and the times
// the log cannot tell (when a task first passed, when checks last
// progressed) are progress marks in the store.
import type { LastCommand } from '../../shared/dashboard';
import type { LabTemplate } from './lab-template';
import { evaluateTasks, type TaskEvaluation, type TaskProgress } from './checks';
import { commandsOf, EngineCopies } from '../labs/history';
import type { LabHost } from '../labs/lab-host';
import type { LiveLab } from '../labs/live-lab';
import { LabNotFoundError, type ProgressMarks } from '../store/types';

export type { LastCommand };

export interface LabEvaluation {
  /** The log entry the evaluation saw the lab after. */
  seq: number;
  tasks: TaskEvaluation[];
  tasksDone: number;
  checksPassed: number;
  /** Commands the lab's members ran (not the instructor's, nor injected faults). */
  commands: number;
  lastCommand: LastCommand | null;
  /** Members' commands at the end of the log that exited non-zero, in a row. */
  errorStreak: number;
}

/** Evaluates a loaded lab as it is now; checks that run commands run them on a copy from `copies`. */
export function evaluateLab(host: LabHost, copies: EngineCopies, template: LabTemplate, isMember: (participant: string) => boolean): LabEvaluation {
  const seq = host.lastSeq;
  const tasks = evaluateTasks(template, host.engine, () => copies.take(host));
  const finished = commandsOf(host).filter((c) => c.exitCode !== null && isMember(c.entry.who));
  let errorStreak = 0;
  while (errorStreak < finished.length && finished[finished.length - 1 - errorStreak]!.exitCode !== 0) errorStreak++;
  const last = finished.at(-1);
  return {
    seq,
    tasks,
    tasksDone: tasks.filter((t) => t.done).length,
    checksPassed: tasks.reduce((n, t) => n + t.checks.filter((c) => c.passed).length, 0),
    commands: finished.length,
    lastCommand: last ? { seq: last.seq, name: last.entry.name, host: last.entry.host, line: last.entry.line, exitCode: last.exitCode! } : null,
    errorStreak,
  };
}

export interface TrackedLab {
  evaluation: LabEvaluation;
  /** The evaluation's tasks, each with when it first passed. */
  tasks: TaskProgress[];
  /** When (ms since the epoch) more checks passed than ever before; until then, when the lab was created. */
  lastProgressAt: number;
}

// Progress marks (Store.addProgressMarks): `task:ID` when the task first
// passed, `checks:N` when N checks first passed at once, more than ever before.
const taskMark = (taskId: string) => `task:${taskId}`;
const CHECKS_MARK = /^checks:(\d+)$/;

/** The most checks that ever passed at once, and when that first happened. */
function mostChecks(marks: ProgressMarks): { passed: number; at: number } | null {
  let most: { passed: number; at: number } | null = null;
  for (const [name, at] of Object.entries(marks)) {
    const passed = Number(CHECKS_MARK.exec(name)?.[1] ?? -1);
    if (passed > (most?.passed ?? -1)) most = { passed, at };
  }
  return most;
}

/** The marks an evaluation made at `now` adds to those kept. */
function newMarks(evaluation: LabEvaluation, kept: ProgressMarks, now: number): ProgressMarks {
  const added: ProgressMarks = {};
  for (const task of evaluation.tasks) if (task.done && kept[taskMark(task.id)] === undefined) added[taskMark(task.id)] = now;
  if (evaluation.checksPassed > (mostChecks(kept)?.passed ?? 0)) added[`checks:${evaluation.checksPassed}`] = now;
  return added;
}

interface LabState {
  lab: LiveLab;
  copies: EngineCopies;
  tracked: TrackedLab | null;
  /** The lab's progress marks as last kept in the store; null until read. */
  marks: ProgressMarks | null;
  timer: NodeJS.Timeout | null;
  running: Promise<TrackedLab | null> | null;
  /** A command finished while an evaluation was waiting or running. */
  dirty: boolean;
}

export interface ProgressTrackerOptions {
  /** How long to wait after a command for more before evaluating. */
  coalesceMs: number;
  /** Evaluates a lab, or null when it is no class lab (any more). */
  evaluate(lab: LiveLab, copies: EngineCopies): Promise<LabEvaluation | null>;
  /** Keeps progress marks of a lab, answering with all it has (Store.addProgressMarks). */
  addMarks(labId: string, marks: ProgressMarks): Promise<ProgressMarks>;
  /** A lab's evaluation changed. */
  changed(lab: LiveLab, tracked: TrackedLab): void;
}

export class ProgressTracker {
  private readonly labs = new Map<string, LabState>();

  constructor(private readonly options: ProgressTrackerOptions) {}

  private stateOf(lab: LiveLab): LabState {
    let state = this.labs.get(lab.id);
    if (!state) {
      state = { lab, copies: new EngineCopies(), tracked: null, marks: null, timer: null, running: null, dirty: false };
      this.labs.set(lab.id, state);
    }
    // A lab unloaded and loaded again is a new object for the same lab.
    state.lab = lab;
    return state;
  }

  /** A command ended in `lab`: evaluate it soon, once for a burst. */
  commandFinished(lab: LiveLab): void {
    const state = this.stateOf(lab);
    if (state.timer || state.running) {
      state.dirty = true;
      return;
    }
    state.timer = setTimeout(() => void this.refresh(state), this.options.coalesceMs);
  }

  /** The lab's progress as of its last entry, evaluating it when needed. */
  async current(lab: LiveLab): Promise<TrackedLab | null> {
    const state = this.stateOf(lab);
    // An evaluation under way may have started before the last entry; one that starts after it follows at once.
    if (state.running) await state.running;
    if (state.tracked && state.tracked.evaluation.seq === lab.host.lastSeq) return state.tracked;
    return state.running ?? this.refresh(state);
  }

  tracked(labId: string): TrackedLab | null {
    return this.labs.get(labId)?.tracked ?? null;
  }

  /** Drops the spare engines of labs that left memory; their progress stays. */
  releaseUnloaded(): void {
    for (const state of this.labs.values()) {
      if (!state.lab.isClosed) continue;
      state.copies.dispose();
      state.copies = new EngineCopies();
    }
  }

  forget(labId: string): void {
    const state = this.labs.get(labId);
    if (state?.timer) clearTimeout(state.timer);
    state?.copies.dispose();
    this.labs.delete(labId);
  }

  private refresh(state: LabState): Promise<TrackedLab | null> {
    if (state.timer) clearTimeout(state.timer);
    state.timer = null;
    state.dirty = false;
    const running = this.evaluate(state).finally(() => {
      state.running = null;
      if (state.dirty && this.labs.get(state.lab.id) === state) void this.refresh(state);
    });
    state.running = running;
    return running;
  }

  /**
   * Evaluates the lab and keeps the marks it made. The marks are kept before
   * anyone is told, so a restarted server, or another instance, shows the
   * same times.
   */
  private async evaluate(state: LabState): Promise<TrackedLab | null> {
    const labId = state.lab.id;
    try {
      const evaluation = await this.options.evaluate(state.lab, state.copies);
      if (!evaluation) return null;
      state.marks ??= await this.options.addMarks(labId, {});
      const added = newMarks(evaluation, state.marks, Date.now());
      if (Object.keys(added).length > 0) state.marks = await this.options.addMarks(labId, added);
      const marks = state.marks;
      state.tracked = {
        evaluation,
        tasks: evaluation.tasks.map((task) => {
          const doneAt = marks[taskMark(task.id)];
          return { ...task, doneAt: doneAt === undefined ? null : new Date(doneAt).toISOString() };
        }),
        lastProgressAt: mostChecks(marks)?.at ?? Date.parse(state.lab.host.record.createdAt),
      };
    } catch (e) {
      // A lab deleted meanwhile (a reset) has no progress to keep.
      if (e instanceof LabNotFoundError) return null;
      console.error(`lab ${labId}: could not evaluate its tasks:`, e);
      return state.tracked;
    }
    this.options.changed(state.lab, state.tracked);
    return state.tracked;
  }
}
