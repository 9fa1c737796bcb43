// Serves the built web client (`npm run build:web`, in dist/web) at `/`.
// Files are served as they are; any other GET for a page (not the API, the
// WebSocket path, the health check, an asset or a file name) gets index.html,
// so links like /labs/ID#token=… open the client.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import express from 'express';

export const WEB_CLIENT_DIR = resolve(import.meta.dirname, '../../dist/web');

const NOT_PAGES = /^\/(api|ws|assets)(\/|$)|^\/healthz$|\.\w+$/;

/** Mounts the client on `app`; call it before the app's catch-all 404. Returns false when the client is not built. */
export function mountWebClient(app: express.Express, dir = WEB_CLIENT_DIR): boolean {
  const index = join(dir, 'index.html');
  if (!existsSync(index)) return false;
  // Built assets carry a content hash in their names: cache them for good.
  app.use('/assets', express.static(join(dir, 'assets'), { immutable: true, maxAge: '1y' }));
  app.use(express.static(dir, { index: false }));
  app.get(/.*/, (req, res, next) => {
    if (NOT_PAGES.test(req.path) || !req.accepts('html')) return next();
    res.setHeader('cache-control', 'no-cache');
    res.sendFile(index);
  });
  return true;
}
