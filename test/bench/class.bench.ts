// npm run bench:class: a class of 100 students on one server process, each
// in their own lab from a classroom template, typing the seed lesson at
// human pace while the instructor's dashboard stream is open. Measures the
// time from a student sending a command to the dashboard showing it (its
// tasks evaluated), and the server's memory. The students and the dashboard
// run in a child process (class-students.ts), so the memory is the server's
// own. Prints figures; the last line is one JSON object.
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNslabServer } from '../../server/net/server';
import { FileStore } from '../../server/store/file-store';
import type { StudentsPlan, StudentsResult } from './class-students';

const STUDENTS = 100;
const PAUSE_MS: [number, number] = [1500, 3500];
const TEMPLATE = 'seed-1-veth';

const dataDir = mkdtempSync(join(tmpdir(), 'nslab-bench-class-'));
const store = new FileStore(dataDir);
const server = await createNslabServer(store, { requestsPerSecond: 1_000_000 });
const { port } = await server.listen(0);

let rssMaxBytes = process.memoryUsage().rss;
const sampler = setInterval(() => (rssMaxBytes = Math.max(rssMaxBytes, process.memoryUsage().rss)), 500);

const started = performance.now();
const cpuBefore = process.cpuUsage();
const students = fork(join(import.meta.dirname, 'class-students.ts'), { execArgv: ['--import', 'tsx'] });
const result = await new Promise<StudentsResult>((resolve, reject) => {
  students.once('message', (reply: StudentsResult) => resolve(reply));
  students.once('exit', (code) => reject(new Error(`the students' process exited with ${code}`)));
  students.send({ baseUrl: `http://127.0.0.1:${port}`, students: STUDENTS, pauseMs: PAUSE_MS, template: TEMPLATE } satisfies StudentsPlan);
});
clearInterval(sampler);
const elapsedMs = performance.now() - started;
const cpu = process.cpuUsage(cpuBefore);
const seconds = Math.round(elapsedMs / 1000);

await server.close();
await store.close();
rmSync(dataDir, { recursive: true, force: true });

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
const round = (ms: number) => Math.round(ms * 10) / 10;
const dashboardP50Ms = round(percentile(result.latenciesMs, 50));
const dashboardP99Ms = round(percentile(result.latenciesMs, 99));
const rssMB = Math.round(rssMaxBytes / 1024 / 1024);

console.log(`${STUDENTS} students, template ${TEMPLATE}, ${result.commands} commands in ${seconds} s (one every ${PAUSE_MS[0] / 1000}–${PAUSE_MS[1] / 1000} s per student)`);
console.log(`command sent → dashboard shows it: p50 ${dashboardP50Ms} ms, p99 ${dashboardP99Ms} ms, max ${round(Math.max(...result.latenciesMs))} ms over ${result.latenciesMs.length} commands`);
console.log(`of which: sent → durable in the log (accepted) p99 ${round(percentile(result.acceptedMs, 99))} ms; exit at the student → dashboard p99 ${round(percentile(result.afterExitMs, 99))} ms`);
console.log(`server RSS at most ${rssMB} MB; server CPU ${Math.round(((cpu.user + cpu.system) / 1000 / elapsedMs) * 100)}% of one core`);
if (result.failed.length) console.log(`${result.failed.length} commands failed, e.g. ${result.failed.slice(0, 3).join('; ')}`);
console.log(JSON.stringify({ students: STUDENTS, dashboardP99Ms, rssMB }));
process.exit(result.failed.length ? 1 : 0);
