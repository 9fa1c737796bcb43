// Real server processes for the tests that kill them: `npm start`'s entry
// point on 127.0.0.1, killed with SIGKILL at the end of each test.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const children = new Set<ChildProcess>();
afterEach(() => {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
});

export interface ServerProcess {
  child: ChildProcess;
  baseUrl: string;
}

/** Starts a server process and resolves with its address once it listens. */
export function startProcess(env: Record<string, string>): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', HTTP_REQUESTS_PER_SECOND: '100000', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`server exited with ${code} before listening`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const match = /^nslab listening on (http:\/\/\S+) /.exec(line);
      if (match) resolve({ child, baseUrl: match[1]! });
    });
  });
}

export function kill9(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
    children.delete(child);
  });
}

export async function post(baseUrl: string, path: string, token: string | null, body: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(baseUrl + path, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}
