// The HTTP routes of classes (docs/API.md, "Classes") and of a lab's history
// (timeline, script). Class calls take a class token (the instructor's or a
// student's); lab calls take a lab token, as every other lab route.
import express, { type Request, type Response } from 'express';
import { z } from 'zod';
import { ROW_ORDERS, type RowOrder } from '../../shared/dashboard-order';
import { ClassError, type ClassService, type DashboardEvent } from '../classes/class-service';
import { Fault } from '../classes/faults';
import { labScript, replayHost } from '../labs/history';
import { Timelines } from '../labs/timeline';
import type { Store } from '../store/types';
import { HttpError, parseBody } from './http-util';
import type { ClassClaims, Claims, Tokens } from './tokens';

export interface ClassApiOptions {
  classes: ClassService;
  tokens: Tokens;
  store: Store;
  /** The lab token's claims for the lab in the URL (401/403 otherwise). */
  authorizeLab(req: Request): Claims;
  /** Base of the links handed out. */
  baseUrl(req: Request): string;
}

const ID = /^[A-Za-z0-9_-]{1,64}$/;
const personName = z.string().trim().min(1).max(64);

const CreateClass = z
  .strictObject({
    template: z.string().min(1),
    title: z.string().min(1).max(100).optional(),
    mode: z.enum(['solo', 'group']).default('solo'),
    groupSize: z.number().int().min(2).max(4).optional(),
    /** The instructor's display name in labs they type in. */
    name: personName.optional(),
    joinCodeMinutes: z.number().int().min(1).max(7 * 24 * 60).optional(),
  })
  .refine((body) => body.mode === 'group' || body.groupSize === undefined, { path: ['groupSize'], message: 'only group classes have groups' });

const Join = z.strictObject({ code: z.string().min(1).max(32), name: personName });
const Message = z.strictObject({ text: z.string().trim().min(1).max(2000), to: z.string().min(1).max(64).optional() });
const Lock = z.strictObject({ locked: z.boolean() });
const RotateCode = z.strictObject({ minutes: z.number().int().min(1).max(7 * 24 * 60).optional() });
const HandOver = z.strictObject({ member: z.string().min(1).max(64) });
const Reset = z.strictObject({ step: z.number().int().min(0).optional() });

const HEARTBEAT_MS = 15_000;

export function classRoutes(options: ClassApiOptions): express.Router {
  const { classes, tokens } = options;
  const router = express.Router();
  const timelines = new Timelines(options.store);

  router.param('id', (_req, _res, next, id: string) => {
    if (!ID.test(id)) throw new HttpError(404, `no class "${id}"`);
    next();
  });
  router.param('lab', (_req, _res, next, id: string) => {
    if (!ID.test(id)) throw new HttpError(404, `no lab "${id}"`);
    next();
  });

  /** The caller's class claims; `?token=` is accepted only where a browser cannot send a header (the event stream). */
  function authorizeClass(req: Request, role?: ClassClaims['role'], queryToken = false): ClassClaims {
    const token = bearerToken(req) ?? (queryToken && typeof req.query.token === 'string' ? req.query.token : undefined);
    if (!token) throw new HttpError(401, `missing token: send "Authorization: Bearer TOKEN"${queryToken ? ' or ?token=TOKEN' : ''}`);
    const claims = tokens.verifyClass(token);
    if (!claims) throw new HttpError(401, tokens.verify(token) ? 'this is a lab token; class calls take a class token' : 'invalid token');
    if (claims.class !== req.params.id) throw new HttpError(403, 'this token is for another class');
    if (role && claims.role !== role) throw new HttpError(403, role === 'instructor' ? "only the class's instructor may do this" : 'only students have a lab of their own here');
    return claims;
  }

  const labLink = (req: Request, lab: string, token: string) => ({ id: lab, token, url: `${options.baseUrl(req)}/labs/${lab}#token=${token}` });

  router.post('/api/classes', async (req, res) => {
    const body = parseBody(CreateClass, req.body);
    const { record, token } = await classes.create({
      template: body.template,
      title: body.title,
      mode: body.mode,
      groupSize: body.groupSize ?? 2,
      instructorName: body.name ?? 'instructor',
      joinCodeTtlMs: body.joinCodeMinutes === undefined ? undefined : body.joinCodeMinutes * 60_000,
    });
    res.status(201).json({ id: record.id, token, url: `${options.baseUrl(req)}/classes/${record.id}#token=${token}`, joinCode: record.joinCode });
  });

  router.post('/api/classes/join', async (req, res) => {
    const body = parseBody(Join, req.body);
    const { record, member, token } = await classes.join(body.code, body.name);
    res.status(201).json({ class: record.id, title: record.title, member: member.id, group: member.group, driver: member.driver, token, lab: labLink(req, member.labId, classes.labTokenFor(member)) });
  });

  router.get('/api/classes/:id/me', async (req, res) => {
    const claims = authorizeClass(req, 'student');
    const record = await classes.get(claims.class);
    const member = classes.memberOf(record, claims.sub);
    const { locked, driver } = classes.classState(record, member.labId);
    res.json({
      class: record.id,
      title: record.title,
      member: member.id,
      name: member.name,
      group: member.group,
      driver,
      locked,
      lab: labLink(req, member.labId, classes.labTokenFor(member)),
      instructions: classes.instructions(record),
      tasks: await classes.labProgress(record, member.labId),
    });
  });

  router.get('/api/classes/:id', async (req, res) => {
    authorizeClass(req, 'instructor');
    const dashboard = await classes.dashboard(req.params.id as string, rowOrder(req));
    // Only here, not in the stream's snapshots: the instructions never change, the snapshots come often.
    res.json({ ...dashboard, instructions: classes.instructions(await classes.get(dashboard.id)) });
  });

  // Server-Sent Events: the dashboard is a one-way feed, which SSE carries over
  // plain HTTP with reconnection built into browsers' EventSource.
  router.get('/api/classes/:id/events', async (req, res) => {
    authorizeClass(req, 'instructor', true);
    const classId = req.params.id as string;
    const order = rowOrder(req);
    // Subscribed before the first snapshot is read, so the labs it loads stay loaded
    // (ClassService.keepLoaded) and changes made meanwhile follow it.
    const early: DashboardEvent[] = [];
    let deliver = (event: DashboardEvent): void => void early.push(event);
    const unsubscribe = classes.subscribe(classId, (event) => deliver(event));
    let open = true;
    let heartbeat: NodeJS.Timeout | undefined;
    res.on('close', () => {
      open = false;
      clearInterval(heartbeat);
      unsubscribe();
    });
    const first = await classes.dashboard(classId, order);
    if (!open) return;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    const send = ({ event, data }: DashboardEvent) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    send({ event: 'snapshot', data: first });
    for (const event of early) send(event);
    deliver = send;
    heartbeat = setInterval(() => res.write(': still here\n\n'), HEARTBEAT_MS);
  });

  router.post('/api/classes/:id/messages', async (req, res) => {
    const claims = authorizeClass(req, 'instructor');
    const body = parseBody(Message, req.body);
    res.json({ delivered: await classes.message(claims.class, claims.name, body.text, body.to) });
  });

  router.post('/api/classes/:id/lock', async (req, res) => {
    const claims = authorizeClass(req, 'instructor');
    const record = await classes.setLocked(claims.class, parseBody(Lock, req.body).locked);
    res.json({ locked: record.locked });
  });

  router.post('/api/classes/:id/join-code', async (req, res) => {
    const claims = authorizeClass(req, 'instructor');
    const { minutes } = parseBody(RotateCode, req.body);
    const record = await classes.rotateJoinCode(claims.class, minutes === undefined ? undefined : minutes * 60_000);
    res.json(record.joinCode);
  });

  router.delete('/api/classes/:id/join-code', async (req, res) => {
    const claims = authorizeClass(req, 'instructor');
    await classes.revokeJoinCode(claims.class);
    res.status(204).end();
  });

  router.post('/api/classes/:id/driver', async (req, res) => {
    // The instructor also hands over from a group's lab page, which holds only their lab token.
    const token = bearerToken(req);
    const by = (token === undefined ? null : tokens.verify(token)) ?? authorizeClass(req);
    const { member } = parseBody(HandOver, req.body);
    const record = await classes.handOver(req.params.id as string, by, member);
    res.json({ lab: classes.memberOf(record, member).labId, driver: member });
  });

  router.get('/api/classes/:id/results.csv', async (req, res) => {
    const claims = authorizeClass(req, 'instructor');
    res
      .type('text/csv; charset=utf-8')
      .set('content-disposition', `attachment; filename="class-${claims.class}.csv"`)
      .send(await classes.resultsCsv(claims.class));
  });

  router.post('/api/classes/:id/labs/:lab/token', async (req, res) => {
    const claims = authorizeClass(req, 'instructor');
    const lab = req.params.lab as string;
    res.status(201).json(labLink(req, lab, await classes.instructorLabToken(claims.class, lab, claims)));
  });

  router.post('/api/classes/:id/labs/:lab/reset', async (req, res) => {
    const claims = authorizeClass(req, 'instructor');
    const { step } = parseBody(Reset, req.body);
    res.json({ lab: await classes.reset(claims.class, req.params.lab as string, step) });
  });

  router.get('/api/classes/:id/labs/:lab/topology', async (req, res) => {
    const claims = authorizeClass(req, 'instructor');
    res.json(await classes.topology(claims.class, req.params.lab as string));
  });

  router.post('/api/classes/:id/labs/:lab/faults', async (req, res) => {
    const claims = authorizeClass(req, 'instructor');
    res.json(await classes.injectFault(claims.class, req.params.lab as string, parseBody(Fault, req.body)));
  });

  /** A lab's record and whole log, for its token's holder. */
  async function labHistory(req: Request) {
    options.authorizeLab(req);
    const id = req.params.id as string;
    const record = await options.store.getLab(id);
    if (!record) throw new HttpError(404, `no lab "${id}"`);
    return { record, log: await options.store.readLog(id) };
  }

  router.get('/api/labs/:id/timeline', async (req, res) => {
    const { record, log } = await labHistory(req);
    const step = req.query.step === undefined ? log.length : Number(req.query.step);
    if (!Number.isInteger(step) || step < 0 || step > log.length) throw new HttpError(400, `step: must be a whole number from 0 to ${log.length}`);
    res.json(await timelines.step(record, log, step));
  });

  router.get('/api/labs/:id/script', async (req, res) => {
    const { record, log } = await labHistory(req);
    res
      .type('text/x-shellscript; charset=utf-8')
      .set('content-disposition', `attachment; filename="${record.id}.sh"`)
      .send(labScript(replayHost(record, log, false)));
  });

  router.use((error: unknown, _req: Request, _res: Response, next: (e: unknown) => void) => {
    next(error instanceof ClassError ? new HttpError(error.status, error.message) : error);
  });

  return router;
}

function bearerToken(req: Request): string | undefined {
  return /^Bearer (\S+)$/.exec(req.get('authorization') ?? '')?.[1];
}

function rowOrder(req: Request): RowOrder {
  const sort = req.query.sort ?? 'joined';
  if (!ROW_ORDERS.includes(sort as RowOrder)) throw new HttpError(400, `sort: one of ${ROW_ORDERS.join(', ')}`);
  return sort as RowOrder;
}
