// The orders of a class dashboard's rows (`?sort=`, docs/API.md), shared by
// the server, which sorts the snapshots, and the web client, which keeps its
// table sorted as single rows change.

/** What ordering looks at in a dashboard row. */
export interface SortableRow {
  members: Array<{ name: string }>;
  tasksDone: number;
  checksPassed: number;
  errorStreak: number;
  stuck: boolean;
  lastProgressAt: string;
}

export const ROW_ORDERS = ['joined', 'name', 'progress', 'stuck', 'errors'] as const;
export type RowOrder = (typeof ROW_ORDERS)[number];

/** Stable sorts with these keep `joined` order among equals. */
export const ROW_COMPARE: Record<RowOrder, (a: SortableRow, b: SortableRow) => number> = {
  joined: () => 0,
  name: (a, b) => a.members[0]!.name.localeCompare(b.members[0]!.name),
  progress: (a, b) => b.tasksDone - a.tasksDone || b.checksPassed - a.checksPassed,
  stuck: (a, b) => Number(b.stuck) - Number(a.stuck) || Date.parse(a.lastProgressAt) - Date.parse(b.lastProgressAt),
  errors: (a, b) => b.errorStreak - a.errorStreak,
};
