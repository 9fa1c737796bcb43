// Transcripts: `HOST$ COMMAND` lines, each followed by what it printed and
// `[exit N]` when N is not 0. Replaying one runs it on a fresh lab.
import type { Lab } from './lab';

export const COMMAND_LINE = /^([A-Za-z0-9_-]+)\$ (.*)$/;

export class ScenarioError extends Error {}

export type ScenarioLine = { kind: 'command'; host: string; command: string } | { kind: 'text'; text: string };

/** Reads a scenario; output lines of a recorded transcript are dropped, comments and spacing kept. */
export function parseScenario(text: string, hosts: ReadonlySet<string>): ScenarioLine[] {
  const lines = text.replace(/\n$/, '').split('\n');
  const out: ScenarioLine[] = [];
  let inOutput = false;
  lines.forEach((line, i) => {
    const m = COMMAND_LINE.exec(line);
    if (m) {
      if (!hosts.has(m[1]!)) throw new ScenarioError(`scenario line ${i + 1}: unknown host "${m[1]}" (the world has ${[...hosts].join(', ')})`);
      out.push({ kind: 'command', host: m[1]!, command: m[2]! });
      inOutput = true;
    } else if (line.startsWith('#') || (line.trim() === '' && !inOutput)) {
      out.push({ kind: 'text', text: line });
      inOutput = false;
    }
  });
  return out;
}

export function formatEntry(host: string, command: string, output: string, exitCode: number): string {
  let text = `${host}$ ${command}\n`;
  if (output !== '') text += output.endsWith('\n') ? output : output + '\n';
  if (exitCode !== 0) text += `[exit ${exitCode}]\n`;
  return text;
}

export function replay(lab: Lab, scenario: ScenarioLine[]): string {
  let text = '';
  for (const line of scenario) {
    if (line.kind === 'text') text += line.text + '\n';
    else {
      const r = lab.run(line.host, line.command);
      text += formatEntry(line.host, line.command, r.output.replace(/\n+$/, '\n'), r.exitCode);
    }
  }
  return text;
}
