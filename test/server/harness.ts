// A real server on 127.0.0.1, port 0, over a file store in a temporary
// directory (or a given store), with helpers for the HTTP calls tests repeat.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNslabServer, type NslabServer, type ServerSettings } from '../../server/net/server';
import { FileStore } from '../../server/store/file-store';
import type { Store } from '../../server/store/types';

export interface Running {
  server: NslabServer;
  store: Store;
  baseUrl: string;
  /** Stops the server; the store stays open unless `andStore`. */
  stop(andStore?: boolean): Promise<void>;
  createLab(body?: object): Promise<{ id: string; token: string }>;
  invite(lab: string, ownerToken: string, role: 'editor' | 'viewer', name?: string): Promise<string>;
  exec(lab: string, token: string, host: string, command: string): Promise<{ output: string; exitCode: number }>;
  api(method: string, path: string, token?: string, body?: unknown): Promise<{ status: number; json: unknown; text: string }>;
}

/** One HTTP call to a server at `baseUrl`, with the answer's body as text and, when it is JSON, parsed. */
export async function apiCall(baseUrl: string, method: string, path: string, token?: string | null, body?: unknown): Promise<{ status: number; json: any; text: string }> {
  const res = await fetch(baseUrl + path, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    // text/plain answers
  }
  return { status: res.status, json, text };
}

export function tempDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'nslab-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function startServer(settings: Partial<ServerSettings> = {}, givenStore?: Store): Promise<Running> {
  const temp = givenStore ? null : tempDir();
  const store = givenStore ?? new FileStore(temp!.dir);
  const server = await createNslabServer(store, { requestsPerSecond: 10_000, ...settings });
  const address = await server.listen(0);
  const baseUrl = `http://127.0.0.1:${address.port}`;

  const api: Running['api'] = (method, path, token, body) => apiCall(baseUrl, method, path, token, body);

  return {
    server,
    store,
    baseUrl,
    api,
    stop: async (andStore = true) => {
      await server.close();
      if (andStore) {
        await store.close();
        temp?.remove();
      }
    },
    createLab: async (body = { template: 'classroom' }) => {
      const res = await api('POST', '/api/labs', undefined, body);
      if (res.status !== 201) throw new Error(`create lab: ${res.status} ${res.text}`);
      return res.json as { id: string; token: string };
    },
    invite: async (lab, ownerToken, role, name) => {
      const res = await api('POST', `/api/labs/${lab}/invites`, ownerToken, { role, ...(name ? { name } : {}) });
      if (res.status !== 201) throw new Error(`invite: ${res.status} ${res.text}`);
      return (res.json as { token: string }).token;
    },
    exec: async (lab, token, host, command) => {
      const res = await api('POST', `/api/labs/${lab}/exec`, token, { host, command });
      if (res.status !== 200) throw new Error(`exec: ${res.status} ${res.text}`);
      return res.json as { output: string; exitCode: number };
    },
  };
}
