// What a class dashboard shows (docs/API.md, "Classes"): the server builds
// these rows and the web client draws them.

export interface CheckResult {
  description: string;
  passed: boolean;
  /** Shown while the check fails. */
  hint?: string;
}

export interface TaskProgress {
  id: string;
  title: string;
  done: boolean;
  /** When the task first passed; it stays when the task fails again later (a fault). null until then. */
  doneAt: string | null;
  checks: CheckResult[];
}

export interface LastCommand {
  seq: number;
  name: string;
  host: string;
  line: string;
  exitCode: number;
}

/** One row of the dashboard: a student's lab, or a group's. */
export interface LabRow {
  lab: string;
  group: number | null;
  members: Array<{ id: string; name: string; driver: boolean; joinedAt: string }>;
  tasks: TaskProgress[];
  tasksDone: number;
  checksPassed: number;
  commands: number;
  lastCommand: LastCommand | null;
  errorStreak: number;
  lastProgressAt: string;
  stuck: boolean;
  /** The log entry the row reflects. */
  seq: number;
}

export interface Dashboard {
  id: string;
  title: string;
  template: string;
  mode: 'solo' | 'group';
  groupSize: number;
  locked: boolean;
  joinCode: { code: string; expiresAt: string; expired: boolean } | null;
  tasks: Array<{ id: string; title: string }>;
  labs: LabRow[];
}

/** A lab's hosts as they are now, each with its namespaces (the host's own, `name` null, first): what a fault can name. */
export interface LabTopology {
  hosts: Array<{
    host: string;
    namespaces: Array<{
      name: string | null;
      /** Device names, by ifindex. */
      devices: string[];
      /** Route destinations (`default`, `10.0.0.0/24`). */
      routes: string[];
      /** The nat table's POSTROUTING rules in order, as `iptables -S` prints them: rule N is the Nth. */
      natRules: string[];
    }>;
  }>;
}

export type DashboardEvent = { event: 'snapshot'; data: Dashboard } | { event: 'lab'; data: LabRow };
