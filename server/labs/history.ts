// A lab's history, rebuilt from its log: the engine after any prefix of the
// log (resets, checks that run commands; the timeline in timeline.ts), and
// the log as a shell script for a real Linux machine.
import type { EngineSnapshot, LogEntry, LabRecord } from '../store/types';
import type { Lab } from '../sim/lab';
import { ENGINE_VERSION } from './engine-version';
import { LabHost, type CommandRecord } from './lab-host';

/** The lab as it was after `entries` (a prefix of its log, in order); without a state document unless `projected`. */
export function replayHost(record: LabRecord, entries: readonly LogEntry[], projected = true): LabHost {
  const host = new LabHost(record, { projected });
  for (const entry of entries) host.apply(entry);
  return host;
}

/**
 * The lab as its stored snapshot left it, when this engine code took the
 * snapshot and it restores; null otherwise (the log is replayed from the world).
 */
export function restoredHost(record: LabRecord, snapshot: EngineSnapshot | null, projected = true): LabHost | null {
  if (snapshot?.engine !== ENGINE_VERSION) return null;
  try {
    return new LabHost(record, { saved: snapshot.data, projected });
  } catch (e) {
    console.error(`lab ${record.id}: snapshot at entry ${snapshot.seq} does not restore; replaying the whole log:`, e);
    return null;
  }
}

/** A copy of the host as it was built: from its world, or from the snapshot it was restored from. */
function newCopy(host: LabHost): LabHost {
  return new LabHost(host.record, { saved: host.base, projected: false });
}

/**
 * Background work of every lab, done a slice at a time: each turn of the
 * event loop runs steps for at most BACKGROUND_SLICE_MS, round robin, then
 * lets I/O in. (Each lab chaining its own setImmediate would run all of them
 * in one turn.)
 */
const BACKGROUND_SLICE_MS = 4;
const background: Array<() => boolean> = [];
let backgroundScheduled = false;

/** Runs `step` in the background until it answers true (done). */
function inBackground(step: () => boolean): void {
  background.push(step);
  scheduleBackground();
}

function scheduleBackground(): void {
  if (backgroundScheduled || background.length === 0) return;
  backgroundScheduled = true;
  setImmediate(() => {
    backgroundScheduled = false;
    const until = performance.now() + BACKGROUND_SLICE_MS;
    while (background.length > 0 && performance.now() < until) {
      const step = background.shift()!;
      if (!step()) background.push(step);
    }
    scheduleBackground();
  });
}

/**
 * Disposable engines in the state of one loaded lab, rebuilt from the log it
 * has applied (exact: the engine is deterministic). Replaying a whole log
 * costs up to milliseconds per entry, so a spare copy is built in the
 * background after each one is taken, an entry at a time, and the next
 * `take` only applies the entries since. The one place to swap for a copy of the live
 * engine's state once the engine can be copied.
 */
export class EngineCopies {
  private spare: LabHost | null = null;
  private building = false;
  private disposed = false;

  take(host: LabHost): Lab {
    const copy = this.spare ?? newCopy(host);
    this.spare = null;
    for (const entry of host.log.slice(copy.lastSeq - host.restoredAt)) copy.apply(entry);
    this.buildSpare(host);
    return copy.engine;
  }

  private buildSpare(host: LabHost): void {
    if (this.building || this.disposed) return;
    this.building = true;
    let copy: LabHost | null = null;
    inBackground(() => {
      if (this.disposed) return true;
      if (!copy) copy = newCopy(host);
      else if (copy.lastSeq < host.lastSeq) copy.apply(host.log[copy.lastSeq - host.restoredAt]!);
      if (copy.lastSeq < host.lastSeq) return false;
      this.spare = copy;
      this.building = false;
      return true;
    });
  }

  dispose(): void {
    this.disposed = true;
    this.spare = null;
  }
}

/** Every command the host has started, in log order. */
export function commandsOf(host: LabHost): CommandRecord[] {
  const commands: CommandRecord[] = [];
  for (let seq = 1; seq <= host.lastSeq; seq++) {
    const command = host.command(seq);
    if (command) commands.push(command);
  }
  return commands;
}

/** Words a shell passes as they are: such a line runs unchanged after `ip netns exec NS`. */
const PLAIN_WORDS = /^[A-Za-z0-9_./:=@%+,-]+( +[A-Za-z0-9_./:=@%+,-]+)*$/;

function singleQuoted(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** A command as a script line, or a comment saying why it cannot be one. */
function scriptLine(command: CommandRecord): string {
  const { line, terminal } = command.entry;
  if (terminal !== null && command.nsAfter !== command.nsBefore) {
    const moved = command.nsAfter === null ? `left namespace ${command.nsBefore}` : `entered namespace ${command.nsAfter}`;
    return `# (typed interactively: ${moved}) ${line}`;
  }
  if (/^\s*exit\b/.test(line)) return `# (would end the script) ${line}`;
  if (terminal !== null && /^\s*(\/(usr\/)?bin\/)?(ba)?sh\s*$/.test(line)) return `# (typed interactively: a nested shell) ${line}`;
  if (command.interrupted) return `# (ran until Ctrl-C) ${line}`;
  if (command.exitCode === null) return `# (still running when exported) ${line}`;
  if (command.nsBefore === null) return line;
  return PLAIN_WORDS.test(line) ? `ip netns exec ${command.nsBefore} ${line}` : `ip netns exec ${command.nsBefore} bash -c ${singleQuoted(line)}`;
}

/**
 * The lab's commands as a bash script for real Linux machines. Each host of
 * the world is a machine of its own, so the script takes the host to play and
 * runs that host's commands in the order they ran in the lab; commands typed
 * in a terminal that had entered a namespace run through `ip netns exec`.
 */
export function labScript(host: LabHost): string {
  const hosts = host.hosts;
  const lines = [
    '#!/bin/bash',
    `# ${host.record.title} (world ${host.spec.name}), exported from nslab lab ${host.record.id}.`,
    `# Run as root on the machine that plays one host of the world, set up as the world file says: bash ${host.record.id}.sh HOST`,
    '# Commands that only made sense typed interactively are commented out.',
    `HOST=\${1:?usage: bash ${host.record.id}.sh HOST (one of: ${hosts.join(' ')})}`,
    `case $HOST in ${hosts.join('|')}) ;; *) echo "no host $HOST in this lab (it has ${hosts.join(' ')})" >&2; exit 2 ;; esac`,
  ];
  // One `if` block per run of commands on one host; a block needs a command, so `:` stands in when all are comments.
  let open: string | null = null;
  let runs = false;
  const close = () => {
    if (open === null) return;
    if (!runs) lines.push('  :');
    lines.push('fi');
  };
  for (const command of commandsOf(host)) {
    if (command.entry.host !== open) {
      close();
      open = command.entry.host;
      runs = false;
      lines.push('', `if [ "$HOST" = ${open} ]; then`);
    }
    const line = scriptLine(command);
    runs ||= !line.startsWith('#');
    lines.push(`  ${line}`);
  }
  close();
  return lines.join('\n') + '\n';
}
