// A lab's timeline (docs/API.md, GET /api/labs/:id/timeline): the server
// rebuilds the lab after a prefix of its log and the web client scrubs
// through it. The views of namespaces, devices and segments are the state
// document's (PROTOCOL.md); each side names them with its own types. The
// commands run by a step are listed as the activity feed lists them, with
// where their packets went once they had ended.
import type { ActivityEntry } from './protocol';

/** The log entry that made a step: a command started, a Ctrl-C for one, or the clock moving on while commands ran. */
export interface TimelineEntry {
  kind: 'exec' | 'interrupt' | 'advance';
  /** The command it started or interrupted; null for the clock. */
  command: number | null;
}

export interface TimelineStep<Namespace = unknown, Device = unknown, Segment = unknown> {
  step: number;
  /** Entries in the whole log: steps run from 0 (the world as created) to this. */
  steps: number;
  /** The world's hosts, in its order. */
  hosts: string[];
  /** The step's entry; null at step 0. */
  entry: TimelineEntry | null;
  clockUs: number;
  namespaces: Record<string, Namespace>;
  devices: Record<string, Device>;
  segments: Record<string, Segment>;
  /** Every command started by this step, in log order, with its whole output so far. */
  commands: ActivityEntry[];
}
