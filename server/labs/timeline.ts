// A lab's timeline (GET /api/labs/:id/timeline): the lab after any prefix of
// its log, asked for step after step while someone scrubs.
//
// Measured on the classroom world with 50 namespaces and 400 commands: a
// replay that projects the state document after every entry costs ~1.2 ms an
// entry, one without it ~0.2 ms; taking a snapshot ~15 ms, restoring one
// ~10 ms. So the views are computed once, at the step asked for, and each
// scrubbed lab keeps a cursor (an engine at the last step shown, moved
// forward by the entries in between) and checkpoints (snapshots taken on the
// way, every 50 entries or more) to go back from: a step costs at most a
// restore and the entries since the checkpoint before it. The lab's stored
// snapshot is its first checkpoint. Checkpoints per lab, their size over all
// labs, and the labs kept are bounded.
import type { TimelineStep } from '../../shared/timeline';
import type { LabRecord, LogEntry, Store } from '../store/types';
import { commandsOf, restoredHost } from './history';
import { activityView, LabHost } from './lab-host';
import { topologyViews, type DeviceView, type NamespaceView, type SegmentView } from './projection';

type LabTimelineStep = TimelineStep<NamespaceView, DeviceView, SegmentView>;

export interface TimelineLimits {
  /** Entries at least between two checkpoints of a lab, at first. */
  checkpointEvery: number;
  /** Past this many, a lab keeps every other checkpoint and takes them half as often. */
  checkpointsPerLab: number;
  /** Characters of checkpoints over all labs; the least recently scrubbed labs are dropped first. */
  checkpointChars: number;
  labs: number;
}

export const TIMELINE_LIMITS: TimelineLimits = { checkpointEvery: 50, checkpointsPerLab: 16, checkpointChars: 64 * 1024 * 1024, labs: 16 };

interface Checkpoint {
  seq: number;
  saved: string;
}

interface ScrubbedLab {
  record: LabRecord;
  cursor: LabHost;
  /** In log order. */
  checkpoints: Checkpoint[];
  checkpointEvery: number;
}

const chars = (lab: ScrubbedLab) => lab.checkpoints.reduce((sum, checkpoint) => sum + checkpoint.saved.length, 0);

export class Timelines {
  /** Least recently scrubbed first. */
  private readonly labs = new Map<string, ScrubbedLab>();

  constructor(
    private readonly store: Pick<Store, 'readSnapshot'>,
    private readonly limits: TimelineLimits = TIMELINE_LIMITS,
  ) {}

  /** The lab after the first `step` entries of `log` (its whole log, as stored now). */
  async step(record: LabRecord, log: readonly LogEntry[], step: number): Promise<LabTimelineStep> {
    let lab = this.labs.get(record.id);
    if (!lab) {
      const stored = await this.store.readSnapshot(record.id);
      lab = this.labs.get(record.id) ?? this.scrubbed(record, restoredHost(record, stored, false));
    }
    // From here on nothing waits, so no other request moves this lab's cursor meanwhile.
    this.labs.delete(record.id);
    this.labs.set(record.id, lab);
    const host = this.moveTo(lab, log, step);
    this.bound(lab);
    return stepView(host, log);
  }

  private scrubbed(record: LabRecord, restored: LabHost | null): ScrubbedLab {
    const lab: ScrubbedLab = { record, cursor: restored ?? new LabHost(record, { projected: false }), checkpoints: [], checkpointEvery: this.limits.checkpointEvery };
    if (restored) lab.checkpoints.push({ seq: restored.lastSeq, saved: restored.base! });
    return lab;
  }

  /** The lab's cursor, moved to `step`: forward from where it is, or from the nearest checkpoint before. */
  private moveTo(lab: ScrubbedLab, log: readonly LogEntry[], step: number): LabHost {
    const from = checkpointBefore(lab, step);
    if (lab.cursor.lastSeq > step || (from && from.seq > lab.cursor.lastSeq)) {
      lab.cursor = from ? new LabHost(lab.record, { saved: from.saved, projected: false }) : new LabHost(lab.record, { projected: false });
    }
    const cursor = lab.cursor;
    while (cursor.lastSeq < step) {
      cursor.apply(log[cursor.lastSeq]!);
      const before = checkpointBefore(lab, cursor.lastSeq)?.seq ?? 0;
      if (cursor.lastSeq - before >= lab.checkpointEvery) this.checkpoint(lab, cursor);
    }
    return cursor;
  }

  /** Keeps a snapshot of the cursor, when it can be taken (nothing running). */
  private checkpoint(lab: ScrubbedLab, cursor: LabHost): void {
    const saved = cursor.snapshot();
    if (saved === null) return;
    const at = lab.checkpoints.findIndex((checkpoint) => checkpoint.seq > cursor.lastSeq);
    lab.checkpoints.splice(at < 0 ? lab.checkpoints.length : at, 0, { seq: cursor.lastSeq, saved });
    if (lab.checkpoints.length > this.limits.checkpointsPerLab) thin(lab);
  }

  /** Drops the least recently scrubbed labs beyond the limits; the lab just scrubbed thins its own checkpoints when it alone is over. */
  private bound(current: ScrubbedLab): void {
    const total = () => [...this.labs.values()].reduce((sum, lab) => sum + chars(lab), 0);
    for (const [id, lab] of this.labs) {
      if (lab === current || (this.labs.size <= this.limits.labs && total() <= this.limits.checkpointChars)) break;
      this.labs.delete(id);
    }
    while (chars(current) > this.limits.checkpointChars) thin(current);
  }
}

/** The last checkpoint at or before entry `seq`. */
function checkpointBefore(lab: ScrubbedLab, seq: number): Checkpoint | undefined {
  let found: Checkpoint | undefined;
  for (const checkpoint of lab.checkpoints) {
    if (checkpoint.seq > seq) break;
    found = checkpoint;
  }
  return found;
}

/** Keeps every other checkpoint (the second, the fourth, …) and takes them half as often. */
function thin(lab: ScrubbedLab): void {
  lab.checkpoints = lab.checkpoints.filter((_, i) => i % 2 === 1);
  lab.checkpointEvery *= 2;
}

function stepView(host: LabHost, log: readonly LogEntry[]): LabTimelineStep {
  const views = topologyViews(host.engine.world);
  const entry = host.lastSeq === 0 ? null : log[host.lastSeq - 1]!;
  return {
    step: host.lastSeq,
    steps: log.length,
    hosts: host.hosts,
    entry: entry && { kind: entry.kind, command: entry.kind === 'exec' ? entry.seq : entry.kind === 'interrupt' ? entry.target : null },
    clockUs: host.now,
    namespaces: Object.fromEntries(views.namespaces),
    devices: Object.fromEntries(views.devices),
    segments: Object.fromEntries(views.segments),
    commands: commandsOf(host).map(activityView),
  };
}
