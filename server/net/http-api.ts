// The HTTP API (docs/API.md). Every error is JSON `{"error": "..."}` with a
// status that says what kind of error it is; never a stack trace.
import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { commandLine, ROLE_RUNS_COMMANDS, type Role } from '../../shared/protocol';
import { TokenBucket } from '../collab/token-bucket';
import { WorldFileError } from '../sim/world-file';
import { TooManyLabsError, type Labs } from '../labs/labs';
import { LabError, type LabErrorCode, type LiveLab } from '../labs/live-lab';
import type { Template } from '../labs/templates';
import type { Claims, Tokens } from './tokens';
import type { ClassService } from '../classes/class-service';
import { classRoutes } from './class-api';
import { HttpError, parseBody } from './http-util';
import { mountWebClient } from './web-client';

export interface ApiOptions {
  labs: Labs;
  classes: ClassService;
  tokens: Tokens;
  templates: Map<string, Template>;
  /** Base of the links handed out (`https://labs.example.org`); the request's own host when absent. */
  publicUrl: string | null;
  /** Requests per second per client address, with bursts of twice that. */
  requestsPerSecond: number;
  bodyLimitBytes: number;
}

const LAB_STATUS: Record<LabErrorCode, number> = {
  unknown_host: 400,
  terminal_host: 400,
  not_running: 409,
  lab_full: 409,
  unavailable: 503,
  not_found: 404,
  read_only: 403,
  forbidden: 403,
};

const name = z.string().min(1).max(64);

const CreateLab = z
  .strictObject({
    template: z.string().optional(),
    world: z.unknown().optional(),
    title: z.string().min(1).max(100).optional(),
    name: name.optional(),
    seed: z.number().int().min(0).max(2 ** 31 - 1).optional(),
  })
  .refine((body) => (body.template === undefined) !== (body.world === undefined), 'give exactly one of "template" and "world"');

const Exec = z.strictObject({
  host: z.string().min(1).max(64),
  command: commandLine,
  /** Client-chosen id: a retry with the same id answers with the first run's result. */
  id: z.string().min(1).max(64).optional(),
});

const Invite = z.strictObject({ role: z.enum(['editor', 'viewer']), name: name.optional() });

const LAB_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Creating and deleting labs go to the store; when it fails (Redis down), that is a 503, not a bug. */
async function fromStore<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (e) {
    if (e instanceof WorldFileError || e instanceof LabError || e instanceof TooManyLabsError) throw e;
    console.error('the store failed:', e);
    throw new HttpError(503, 'the store failed; try again');
  }
}

export function createApi(options: ApiOptions): express.Express {
  const { labs, tokens } = options;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.get('/healthz', async (_req, res) => {
    try {
      await labs.store.ping();
      res.json({ ok: true });
    } catch {
      res.status(503).json({ ok: false, error: 'the store is unreachable' });
    }
  });

  const buckets = new Map<string, TokenBucket>();
  app.use('/api', (req, res, next) => {
    const client = req.socket.remoteAddress ?? '';
    let bucket = buckets.get(client);
    if (!bucket) {
      // Forget everyone at once rather than grow without bound.
      if (buckets.size >= 10_000) buckets.clear();
      bucket = new TokenBucket(options.requestsPerSecond, options.requestsPerSecond * 2);
      buckets.set(client, bucket);
    }
    if (bucket.take()) return next();
    res.set('Retry-After', String(bucket.retryAfterSeconds()));
    throw new HttpError(429, 'too many requests; slow down');
  });
  app.use('/api', express.json({ limit: options.bodyLimitBytes }));

  const baseUrl = (req: Request) => options.publicUrl ?? `${req.protocol}://${req.get('host')}`;
  const linkFor = (req: Request, lab: string, token: string) => `${baseUrl(req)}/labs/${lab}#token=${token}`;

  /** The caller's claims for the lab in the URL; 401 without a valid token, 403 with another lab's. */
  function authorize(req: Request, roles?: readonly Role[]): Claims {
    const header = req.get('authorization');
    const match = header ? /^Bearer (\S+)$/.exec(header) : null;
    if (!match) throw new HttpError(401, 'missing token: send "Authorization: Bearer TOKEN"');
    const claims = tokens.verify(match[1]!);
    if (!claims) throw new HttpError(401, 'invalid token');
    if (claims.lab !== req.params.id) throw new HttpError(403, 'this token is for another lab');
    if (roles && !roles.includes(claims.role)) throw new HttpError(403, `a ${claims.role} may not do this; it needs the ${roles.join(' or ')} role`);
    return claims;
  }

  async function loadLab(id: string): Promise<LiveLab> {
    let lab: LiveLab | null;
    try {
      lab = await labs.get(id);
    } catch (e) {
      console.error(`lab ${id}: could not load:`, e);
      throw new HttpError(503, 'the lab could not be loaded from the store');
    }
    if (!lab) throw new HttpError(404, `no lab "${id}"`);
    lab.touch();
    return lab;
  }

  app.param('id', (_req, _res, next, id: string) => {
    if (!LAB_ID.test(id)) throw new HttpError(404, `no lab "${id}"`);
    next();
  });

  app.get('/api/templates', (_req, res) => {
    res.json([...options.templates.values()].map(({ id, title, description }) => ({ id, title, description })));
  });

  app.post('/api/labs', async (req, res) => {
    const body = parseBody(CreateLab, req.body);
    let world = body.world;
    if (body.template !== undefined) {
      const template = options.templates.get(body.template);
      if (!template) throw new HttpError(400, `template: no template "${body.template}" (there are: ${[...options.templates.keys()].join(', ')})`);
      world = template.world;
    }
    const record = await fromStore(labs.create({ world, title: body.title ?? (body.template !== undefined ? options.templates.get(body.template)!.title : undefined), seed: body.seed }));
    const { token } = tokens.issue(record.id, 'owner', body.name ?? 'owner');
    res.status(201).json({ id: record.id, token, url: linkFor(req, record.id, token) });
  });

  app.get('/api/labs/:id', async (req, res) => {
    const claims = authorize(req);
    const lab = await loadLab(req.params.id as string);
    const { record } = lab.host;
    res.json({ id: record.id, title: record.title, createdAt: record.createdAt, hosts: lab.host.hosts, role: claims.role, participant: claims.sub, name: claims.name, commands: lab.host.lastSeq });
  });

  app.post('/api/labs/:id/exec', async (req, res) => {
    const claims = authorize(req);
    if (!ROLE_RUNS_COMMANDS[claims.role]) throw new HttpError(403, `a ${claims.role} watches; only owners and editors run commands`);
    const body = parseBody(Exec, req.body);
    const lab = await loadLab(req.params.id as string);
    const { record } = await lab.exec({ who: claims.sub, name: claims.name, terminal: null, host: body.host, line: body.command, cid: body.id === undefined ? null : `http:${body.id}`, mode: 'run' });
    res.json({ output: record.output, exitCode: record.exitCode });
  });

  app.post('/api/labs/:id/invites', async (req, res) => {
    authorize(req, ['owner']);
    const body = parseBody(Invite, req.body);
    await loadLab(req.params.id as string);
    const { token } = tokens.issue(req.params.id as string, body.role, body.name ?? body.role);
    res.status(201).json({ token, url: linkFor(req, req.params.id as string, token) });
  });

  app.get('/api/labs/:id/transcript', async (req, res) => {
    authorize(req);
    const lab = await loadLab(req.params.id as string);
    res.type('text/plain; charset=utf-8').send(lab.host.transcript());
  });

  app.delete('/api/labs/:id', async (req, res) => {
    authorize(req, ['owner']);
    if (!(await fromStore(labs.delete(req.params.id as string)))) throw new HttpError(404, `no lab "${req.params.id}"`);
    res.status(204).end();
  });

  app.use(classRoutes({ classes: options.classes, tokens, store: labs.store, authorizeLab: (req) => authorize(req), baseUrl }));

  // The web client's pages and assets, when it is built.
  mountWebClient(app);
  app.use((req: Request) => {
    throw new HttpError(404, `no route ${req.method} ${req.path}`);
  });

  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const { status, message } = describeError(error, options.bodyLimitBytes);
    res.status(status).json({ error: message });
  });

  return app;
}

function describeError(error: unknown, bodyLimitBytes: number): { status: number; message: string } {
  if (error instanceof HttpError) return { status: error.status, message: error.message };
  if (error instanceof WorldFileError) return { status: 400, message: error.message };
  if (error instanceof LabError) return { status: LAB_STATUS[error.code], message: error.message };
  if (error instanceof TooManyLabsError) return { status: 507, message: error.message };
  const type = (error as { type?: string }).type;
  if (type === 'entity.parse.failed') return { status: 400, message: `malformed JSON: ${(error as Error).message}` };
  if (type === 'entity.too.large') return { status: 413, message: `request body larger than ${bodyLimitBytes} bytes` };
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') return { status: 415, message: (error as Error).message };
  console.error('HTTP request failed:', error);
  return { status: 500, message: 'internal error' };
}
