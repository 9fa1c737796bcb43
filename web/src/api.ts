// Calls to the HTTP API (docs/API.md) with JSON in and out, and its errors as
// the page shows them.
import { t } from './i18n';

/** Calls a route; throws an Error with the API's message when it answers with an error, or saying the server is unreachable. */
export async function apiCall<T>(path: string, token: string | null, init: { method?: string; body?: object; signal?: AbortSignal } = {}): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method: init.method ?? (init.body ? 'POST' : 'GET'),
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.body ? { 'content-type': 'application/json' } : {}) },
      body: init.body ? JSON.stringify(init.body) : undefined,
      signal: init.signal,
    });
  } catch (error) {
    // A request given up on is the caller's business; anything else never reached the server.
    if (init.signal?.aborted) throw error;
    throw new Error(t('serverUnreachable'));
  }
  if (!response.ok) {
    const body = (await response.json().catch(() => ({}))) as { error?: string };
    throw new Error(body.error ?? `${response.status} ${response.statusText}`);
  }
  return (response.status === 204 ? undefined : await response.json()) as T;
}
