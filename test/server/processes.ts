// Real processes for the fault tests: the nslab server as `npm start` runs it,
// and a redis-server of the test's own. Both listen on 127.0.0.1 only, and
// `killAll` (called after each test) ends whatever is still running.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { apiCall } from './harness';

const ROOT = join(import.meta.dirname, '..', '..');
const running = new Set<ChildProcess>();

export function killAll(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

/** Resolves with the process's first stdout line matching `pattern`; rejects if it exits first. */
function waitForLine(child: ChildProcess, pattern: RegExp, what: string): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const exited = (code: number | null) => reject(new Error(`${what} exited with ${code} before it was ready`));
    child.once('exit', exited);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const match = pattern.exec(line);
      if (match) {
        child.off('exit', exited);
        resolve(match);
      }
    });
  });
}

export function kill9(child: ChildProcess): Promise<void> {
  running.delete(child);
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

export interface ServerProcess {
  child: ChildProcess;
  baseUrl: string;
}

/** Starts `npm start`'s entry point on a free port and resolves once it listens. */
export async function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', HTTP_REQUESTS_PER_SECOND: '100000', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  running.add(child);
  const match = await waitForLine(child, /^nslab listening on (http:\/\/\S+) /, 'the nslab server');
  return { child, baseUrl: match[1]! };
}

/** The redis-server binary on PATH (.ci/run installs Debian's, /usr/bin/redis-server), or null. */
export const REDIS_SERVER: string | null = spawnSync('redis-server', ['--version']).status === 0 ? 'redis-server' : null;

/** A port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Starts redis-server on 127.0.0.1:`port` with its append-only file in `dir`,
 * fsynced on every write as docker-compose.yml runs it, so a restart on the
 * same `dir` has everything it acknowledged.
 */
export async function startRedisProcess(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn(REDIS_SERVER!, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  running.add(child);
  await waitForLine(child, /Ready to accept connections/, 'redis-server');
  return child;
}

export function post(baseUrl: string, path: string, token: string | null, body: unknown) {
  return apiCall(baseUrl, 'POST', path, token, body);
}
