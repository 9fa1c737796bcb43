// Progress of class labs: each lab's tasks evaluated after its commands, at
// most one evaluation at a time per lab, and a burst of commands evaluated
// once (the evaluation that starts after the burst sees all of it).
import type { LastCommand } from '../../shared/dashboard';
import type { LabTemplate } from './lab-template';
import { evaluateTasks, type TaskProgress } from './checks';
import { commandsOf, EngineCopies } from '../labs/history';
import type { LabHost } from '../labs/lab-host';
import type { LiveLab } from '../labs/live-lab';

export type { LastCommand };

export interface LabEvaluation {
  /** The log entry the evaluation saw the lab after. */
  seq: number;
  tasks: TaskProgress[];
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
  /** When (ms since the epoch) more checks passed than ever before; until then, when the lab was created or this server started. */
  lastProgressAt: number;
}

interface LabState {
  lab: LiveLab;
  copies: EngineCopies;
  tracked: TrackedLab | null;
  mostPassed: number;
  since: number;
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
  /** A lab's evaluation changed. */
  changed(lab: LiveLab, tracked: TrackedLab): void;
}

export class ProgressTracker {
  private readonly labs = new Map<string, LabState>();
  private readonly startedAt = Date.now();

  constructor(private readonly options: ProgressTrackerOptions) {}

  private stateOf(lab: LiveLab): LabState {
    let state = this.labs.get(lab.id);
    if (!state) {
      // Progress before this server started is not known to have happened at any particular time.
      const since = Math.max(Date.parse(lab.host.record.createdAt), this.startedAt);
      state = { lab, copies: new EngineCopies(), tracked: null, mostPassed: 0, since, timer: null, running: null, dirty: false };
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

  private async evaluate(state: LabState): Promise<TrackedLab | null> {
    let evaluation: LabEvaluation | null;
    try {
      evaluation = await this.options.evaluate(state.lab, state.copies);
    } catch (e) {
      console.error(`lab ${state.lab.id}: could not evaluate its tasks:`, e);
      return state.tracked;
    }
    if (!evaluation) return null;
    const lastProgressAt = evaluation.checksPassed > state.mostPassed ? Date.now() : (state.tracked?.lastProgressAt ?? state.since);
    state.mostPassed = Math.max(state.mostPassed, evaluation.checksPassed);
    state.tracked = { evaluation, lastProgressAt };
    this.options.changed(state.lab, state.tracked);
    return state.tracked;
  }
}
