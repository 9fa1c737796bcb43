// Classes (docs/API.md, "Classes") on a real server: HTTP through supertest
// and fetch, real WebSocket clients, the dashboard's event stream.
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import type { Dashboard, LabRow } from '../../server/classes/class-service';
import { CloseCode } from '../../shared/protocol';
import { startServer } from '../server/harness';
import { afterThisTest, connect, server } from '../server/per-test';
import { LabClient } from '../server/lab-client';
import { freshRedisStore, redisUp } from '../server/redis';
import { createClass, join, SOLUTION } from './class-calls';
import { DashboardStream } from './dashboard-stream';


/** What a fault can name in a lab of the classroom world after SOLUTION. */
const TOPOLOGY_AFTER_SOLUTION = {
  hosts: [
    {
      host: 'hostA',
      namespaces: [
        { name: null, devices: ['lo', 'eth0'], routes: ['default', '192.168.1.0/24'], natRules: [] },
        { name: 'blue', devices: ['lo', 'veth-blue'], routes: ['192.168.15.0/24'], natRules: [] },
        { name: 'red', devices: ['lo', 'veth-red'], routes: ['192.168.15.0/24'], natRules: [] },
      ],
    },
    { host: 'hostB', namespaces: [{ name: null, devices: ['lo', 'eth0'], routes: ['default', '192.168.1.0/24'], natRules: [] }] },
    { host: 'gateway', namespaces: [{ name: null, devices: ['lo', 'eth0', 'eth1'], routes: ['default', '192.168.1.0/24', '203.0.113.0/24'], natRules: ['-o eth1 -j MASQUERADE'] }] },
    { host: 'internet', namespaces: [{ name: null, devices: ['lo', 'eth0'], routes: ['203.0.113.0/24'], natRules: [] }] },
  ],
};

describe('creating and joining', () => {
  it('gives the instructor a token, a link and a short code; students get their own lab, editors of it alone', async () => {
    const s = await server({ publicUrl: 'https://labs.example.org' });
    const created = await createClass(s);
    expect(Object.keys(created)).toEqual(['id', 'token', 'url', 'joinCode']);
    expect(created.url).toBe(`https://labs.example.org/classes/${created.id}#token=${created.token}`);
    expect(created.joinCode.code).toMatch(/^[ABCDEFGHJKMNPQRSTUVWXYZ23456789]{6}$/);
    expect(Date.parse(created.joinCode.expiresAt) - Date.now()).toBeGreaterThan(119 * 60_000);

    // Codes are typed loosely: any case, with a dash.
    const typed = `${created.joinCode.code.slice(0, 3).toLowerCase()}-${created.joinCode.code.slice(3)}`;
    const ada = await join(s, typed, 'Ada');
    const alan = await join(s, created.joinCode.code, 'Alan');
    expect(ada).toMatchObject({ class: created.id, group: null, driver: true, lab: { url: `https://labs.example.org/labs/${ada.lab.id}#token=${ada.lab.token}` } });
    expect(ada.lab.id).not.toBe(alan.lab.id);
    const info = await request(s.server.http).get(`/api/labs/${ada.lab.id}`).set('authorization', `Bearer ${ada.lab.token}`).expect(200);
    expect(info.body).toMatchObject({ title: 'Seed lesson 1: a cable between two namespaces: Ada', role: 'editor', participant: ada.member, name: 'Ada' });
    const me = await request(s.server.http).get(`/api/classes/${created.id}/me`).set('authorization', `Bearer ${ada.token}`).expect(200);
    expect(me.body).toEqual({ class: created.id, title: 'Seed lesson 1: a cable between two namespaces', member: ada.member, name: 'Ada', group: null, driver: null, locked: false, lab: { id: ada.lab.id, token: expect.any(String), url: expect.any(String) }, instructions: { en: expect.stringMatching(/^# A cable between two namespaces\n/), ko: expect.stringMatching(/^# 두 네임스페이스를 케이블로 잇기\n/) }, tasks: expect.any(Array) });
    expect(me.body.tasks.map((task: { id: string; done: boolean }) => [task.id, task.done])).toEqual([['namespaces', false], ['cable', false], ['addresses', false], ['ping', false]]);
  });

  it.each([
    [{ template: 'nope' }, 400, /^template: no template "nope" \(there are: .*seed-1-veth/],
    [{ template: 'seed-1-veth', groupSize: 3 }, 400, /^groupSize: only group classes have groups$/],
    [{ template: 'seed-1-veth', mode: 'group', groupSize: 5 }, 400, /^groupSize: Too big: expected number to be <=4$/],
  ])('refuses to create %j', async (body, status, error) => {
    const s = await server();
    const res = await request(s.server.http).post('/api/classes').send(body).expect(status);
    expect(res.body.error).toMatch(error);
  });

  it('refuses an unknown, a revoked and an expired code; a rotated code replaces the old one', async () => {
    const s = await server({ joinCodeTtlMs: 300 });
    const created = await createClass(s);
    const instructor = { authorization: `Bearer ${created.token}` };
    await request(s.server.http).post('/api/classes/join').send({ code: 'ZZZZZZ', name: 'Ada' }).expect(404, { error: 'no class has this join code (it may have been revoked)' });
    await new Promise((r) => setTimeout(r, 350));
    await request(s.server.http).post('/api/classes/join').send({ code: created.joinCode.code, name: 'Ada' }).expect(410, { error: 'this join code has expired; ask the instructor for a new one' });

    const rotated = await request(s.server.http).post(`/api/classes/${created.id}/join-code`).set(instructor).send({ minutes: 10 }).expect(200);
    expect(rotated.body.code).not.toBe(created.joinCode.code);
    await request(s.server.http).post('/api/classes/join').send({ code: created.joinCode.code, name: 'Ada' }).expect(404);
    await join(s, rotated.body.code, 'Ada');

    await request(s.server.http).delete(`/api/classes/${created.id}/join-code`).set(instructor).expect(204);
    await request(s.server.http).post('/api/classes/join').send({ code: rotated.body.code, name: 'Alan' }).expect(404, { error: 'no class has this join code (it may have been revoked)' });
    const dashboard = await request(s.server.http).get(`/api/classes/${created.id}`).set(instructor).expect(200);
    expect(dashboard.body.joinCode).toBeNull();
    expect(dashboard.body.labs.map((r: LabRow) => r.members[0]!.name)).toEqual(['Ada']);
  });
});

describe('isolation', () => {
  it("keeps a student out of another student's lab, over HTTP and WebSocket, and out of the dashboard", async () => {
    const s = await server();
    const created = await createClass(s);
    const other = await createClass(s);
    const ada = await join(s, created.joinCode.code, 'Ada');
    const alan = await join(s, created.joinCode.code, 'Alan');
    const http = s.server.http;
    const asAda = { authorization: `Bearer ${ada.lab.token}` };
    const forbidden = { error: 'this token is for another lab' };

    await request(http).get(`/api/labs/${alan.lab.id}`).set(asAda).expect(403, forbidden);
    await request(http).post(`/api/labs/${alan.lab.id}/exec`).set(asAda).send({ host: 'hostA', command: 'ip netns add spy' }).expect(403, forbidden);
    await request(http).get(`/api/labs/${alan.lab.id}/transcript`).set(asAda).expect(403, forbidden);
    await request(http).get(`/api/labs/${alan.lab.id}/timeline`).set(asAda).expect(403, forbidden);
    await request(http).get(`/api/labs/${alan.lab.id}/script`).set(asAda).expect(403, forbidden);
    await request(http).post(`/api/labs/${alan.lab.id}/invites`).set(asAda).send({ role: 'viewer' }).expect(403, forbidden);
    const peeking = await LabClient.connect(s.baseUrl, alan.lab.id, ada.lab.token);
    expect(await peeking.closed).toEqual({ code: CloseCode.forbidden, reason: 'this token is for another lab' });
    expect(peeking.state.getMap('namespaces').size).toBe(0);
    // A class token opens no lab at all.
    await request(http).get(`/api/labs/${ada.lab.id}`).set('authorization', `Bearer ${ada.token}`).expect(401, { error: 'invalid token' });
    await expect(LabClient.connect(s.baseUrl, ada.lab.id, ada.token)).rejects.toMatchObject({ status: 401 });

    // The dashboard and every instructor action need the instructor's token of this class.
    const dashboard = `/api/classes/${created.id}`;
    await request(http).get(dashboard).expect(401, { error: 'missing token: send "Authorization: Bearer TOKEN"' });
    await request(http).get(dashboard).set('authorization', `Bearer ${ada.token}`).expect(403, { error: "only the class's instructor may do this" });
    await request(http).get(dashboard).set(asAda).expect(401, { error: 'this is a lab token; class calls take a class token' });
    await request(http).get(dashboard).set('authorization', `Bearer ${other.token}`).expect(403, { error: 'this token is for another class' });
    await request(http).get(`${dashboard}/events?token=${ada.token}`).expect(403);
    await request(http).get(`${dashboard}/results.csv`).set('authorization', `Bearer ${ada.token}`).expect(403);
    await request(http).post(`${dashboard}/labs/${alan.lab.id}/token`).set('authorization', `Bearer ${ada.token}`).expect(403);
    await request(http).post(`${dashboard}/labs/${alan.lab.id}/reset`).set('authorization', `Bearer ${ada.token}`).send({}).expect(403);
    await request(http).post(`${dashboard}/lock`).set('authorization', `Bearer ${ada.token}`).send({ locked: true }).expect(403);
    // Another class's instructor cannot reach into this class's labs through their own class either.
    await request(http).post(`/api/classes/${other.id}/labs/${alan.lab.id}/token`).set('authorization', `Bearer ${other.token}`).expect(404, { error: `no lab "${alan.lab.id}" in this class` });
  });
});

describe('the instructor', () => {
  /** A class with one student, Ada, connected to her lab, and the instructor Kim connected to it too. */
  async function kimInAdasLab() {
    const s = await server();
    const created = await createClass(s);
    const ada = await join(s, created.joinCode.code, 'Ada');
    const student = await connect(s, ada.lab.id, ada.lab.token);
    const opened = await request(s.server.http).post(`/api/classes/${created.id}/labs/${ada.lab.id}/token`).set('authorization', `Bearer ${created.token}`).expect(201);
    return { s, student, instructor: await connect(s, ada.lab.id, opened.body.token) };
  }

  it('watches and types in a student\'s lab under their own name; the student sees it', async () => {
    const { student, instructor } = await kimInAdasLab();
    expect((await instructor.hello()).role).toBe('owner');
    await instructor.exec('k1', 'hostA', 'ip netns add red');
    const entry = await student.until(() => student.state.getArray<{ name: string; line: string }>('activity').get(0), 5000, 'the activity entry');
    expect(entry).toMatchObject({ name: 'Kim', line: 'ip netns add red' });
  });

  it("is shown as the instructor in the presence of a student's lab, which no one else can claim", async () => {
    const { s, student, instructor } = await kimInAdasLab();

    // The student claims to be the instructor: refused, and nobody sees it.
    student.awareness.setLocalState({ typing: true, instructor: true });
    expect(await student.message('error')).toEqual({ type: 'error', code: 'bad_message', message: 'presence update dropped: state: Unrecognized key: "instructor"' });
    student.awareness.setLocalState({ typing: true, host: 'hostA' });
    expect(await instructor.until(() => instructor.awareness.getStates().get(student.awareness.clientID))).toEqual({ typing: true, host: 'hostA', name: 'Ada' });

    instructor.awareness.setLocalState({ typing: true, host: 'hostA', ns: null });
    expect(await student.until(() => student.awareness.getStates().get(instructor.awareness.clientID))).toEqual({ typing: true, host: 'hostA', ns: null, name: 'Kim', instructor: true });
    await instructor.close();
    await student.until(() => !student.awareness.getStates().has(instructor.awareness.clientID), 5000, "the instructor's presence gone");

    // An owner of a lab outside any class is nobody's instructor.
    const lab = await s.createLab();
    const owner = await connect(s, lab.id, lab.token);
    const guest = await connect(s, lab.id, await s.invite(lab.id, lab.token, 'viewer'));
    owner.awareness.setLocalState({ typing: false });
    expect(await guest.until(() => guest.awareness.getStates().get(owner.awareness.clientID))).toEqual({ typing: false, name: 'owner' });
  });

  it("tells where faults can go: each host's namespaces with their devices, routes and NAT rules", async () => {
    const s = await server();
    const created = await createClass(s);
    const ada = await join(s, created.joinCode.code, 'Ada');
    for (const line of SOLUTION) await s.exec(ada.lab.id, ada.lab.token, 'hostA', line);
    const topology = (token: string) => request(s.server.http).get(`/api/classes/${created.id}/labs/${ada.lab.id}/topology`).set('authorization', `Bearer ${token}`);
    const { body } = await topology(created.token).expect(200);
    expect(body).toEqual(TOPOLOGY_AFTER_SOLUTION);
    await topology(ada.token).expect(403, { error: "only the class's instructor may do this" });
    await request(s.server.http).get(`/api/classes/${created.id}/labs/nope/topology`).set('authorization', `Bearer ${created.token}`).expect(404, { error: 'no lab "nope" in this class' });
  });

  it('sends messages to everyone, or to one student', async () => {
    const s = await server();
    const created = await createClass(s);
    const ada = await join(s, created.joinCode.code, 'Ada');
    const alan = await join(s, created.joinCode.code, 'Alan');
    const adaClient = await connect(s, ada.lab.id, ada.lab.token);
    const alanClient = await connect(s, alan.lab.id, alan.lab.token);
    const send = (body: object) => request(s.server.http).post(`/api/classes/${created.id}/messages`).set('authorization', `Bearer ${created.token}`).send(body);
    await send({ text: 'Five minutes left' }).expect(200, { delivered: 2 });
    for (const client of [adaClient, alanClient]) expect(await client.message('message')).toEqual({ type: 'message', from: 'Kim', to: 'class', text: 'Five minutes left', at: expect.any(String) });
    await send({ text: 'Check your prefix', to: alan.member }).expect(200, { delivered: 1 });
    expect(await alanClient.message('message', (m) => m.to === 'you')).toMatchObject({ text: 'Check your prefix' });
    expect(adaClient.messages.filter((m) => m.type === 'message')).toHaveLength(1);
    await send({ text: 'x', to: 'nobody' }).expect(404, { error: 'no member "nobody" in this class' });
  });

  it("locks the class: students' commands are refused over HTTP and WebSocket, the instructor's are not", async () => {
    const s = await server();
    const created = await createClass(s);
    const ada = await join(s, created.joinCode.code, 'Ada');
    const client = await connect(s, ada.lab.id, ada.lab.token);
    const lock = (locked: boolean) => request(s.server.http).post(`/api/classes/${created.id}/lock`).set('authorization', `Bearer ${created.token}`).send({ locked }).expect(200, { locked });
    await lock(true);
    expect(await client.message('class')).toEqual({ type: 'class', class: created.id, locked: true, driver: null, members: [] });
    const refusal = 'the class is locked: the instructor has ended it, and its labs are read-only';
    await request(s.server.http).post(`/api/labs/${ada.lab.id}/exec`).set('authorization', `Bearer ${ada.lab.token}`).send({ host: 'hostA', command: 'ip netns add red' }).expect(403, { error: refusal });
    await expect(client.exec('c1', 'hostA', 'ip netns add red')).rejects.toThrow(`read_only: ${refusal}`);
    client.notes.getMap('notes').set('ada', 'too late');
    expect(await client.message('error', (m) => m.code === 'read_only' && m.id === undefined)).toEqual({ type: 'error', code: 'read_only', message: 'update dropped: the class is locked' });
    await request(s.server.http).post('/api/classes/join').send({ code: created.joinCode.code, name: 'Late' }).expect(403, { error: 'the class is locked' });
    const opened = await request(s.server.http).post(`/api/classes/${created.id}/labs/${ada.lab.id}/token`).set('authorization', `Bearer ${created.token}`).expect(201);
    expect(await s.exec(ada.lab.id, opened.body.token, 'hostA', 'ip netns add red')).toEqual({ output: '', exitCode: 0 });
    await lock(false);
    expect((await client.exec('c2', 'hostA', 'ip netns list')).output).toBe('red\n');
  });

  it('injects a fault, which runs as "instructor" in the activity feed', async () => {
    const s = await server();
    const created = await createClass(s);
    const ada = await join(s, created.joinCode.code, 'Ada');
    for (const line of SOLUTION) await s.exec(ada.lab.id, ada.lab.token, 'hostA', line);
    const client = await connect(s, ada.lab.id, ada.lab.token);
    const inject = (body: object) => request(s.server.http).post(`/api/classes/${created.id}/labs/${ada.lab.id}/faults`).set('authorization', `Bearer ${created.token}`).send(body);
    await inject({ fault: 'link_down', host: 'hostA', ns: 'red', device: 'veth-red' }).expect(200, { command: 'ip -n red link set veth-red down', output: '', exitCode: 0 });
    await inject({ fault: 'wrong_address', host: 'hostA', ns: 'blue', device: 'veth-blue', address: '192.168.16.2/24' }).expect(200, {
      command: 'ip -n blue addr flush dev veth-blue && ip -n blue addr add 192.168.16.2/24 dev veth-blue',
      output: '',
      exitCode: 0,
    });
    await inject({ fault: 'forwarding_off', host: 'gateway' }).expect(200, { command: 'sysctl -w net.ipv4.ip_forward=0', output: 'net.ipv4.ip_forward = 0\n', exitCode: 0 });
    await inject({ fault: 'nat_removed', host: 'gateway' }).expect(200, { command: 'iptables -t nat -D POSTROUTING 1', output: '', exitCode: 0 });
    await inject({ fault: 'route_removed', host: 'hostA', to: 'default' }).expect(200, { command: 'ip route del default', output: '', exitCode: 0 });
    await inject({ fault: 'link_down', host: 'hostA', device: 'eth0; rm -rf /' }).expect(400);
    const activity = await client.until(() => {
      const entries = client.state.getArray<{ name: string; line: string }>('activity').toArray();
      return entries.length === SOLUTION.length + 5 && entries;
    });
    expect(activity.slice(SOLUTION.length).map((a) => `${a.name}: ${a.line}`)).toEqual([
      'instructor: ip -n red link set veth-red down',
      'instructor: ip -n blue addr flush dev veth-blue && ip -n blue addr add 192.168.16.2/24 dev veth-blue',
      'instructor: sysctl -w net.ipv4.ip_forward=0',
      'instructor: iptables -t nat -D POSTROUTING 1',
      'instructor: ip route del default',
    ]);
    expect(await s.exec(ada.lab.id, ada.lab.token, 'hostA', 'ip netns exec red ping -c 1 -W 1 192.168.15.2')).toEqual({ output: 'ping: connect: Network is unreachable\n', exitCode: 2 });
  });

  it('resets a lab to an earlier point, or to the template; the student is moved to the new lab', async () => {
    const s = await server();
    const created = await createClass(s);
    const ada = await join(s, created.joinCode.code, 'Ada');
    const client = await connect(s, ada.lab.id, ada.lab.token);
    for (const [i, line] of SOLUTION.slice(0, 3).entries()) await client.exec(`c${i}`, 'hostA', line);
    const reset = (lab: string, body: object) => request(s.server.http).post(`/api/classes/${created.id}/labs/${lab}/reset`).set('authorization', `Bearer ${created.token}`).send(body);
    await reset(ada.lab.id, { step: 4 }).expect(400, { error: "step: the lab's log has 3 entries" });
    const { body } = await reset(ada.lab.id, { step: 2 }).expect(200);
    expect(await client.closed).toEqual({ code: CloseCode.labMoved, reason: `the instructor reset this lab; it goes on as lab ${body.lab}` });
    await request(s.server.http).get(`/api/labs/${ada.lab.id}`).set('authorization', `Bearer ${ada.lab.token}`).expect(404);
    const me = await request(s.server.http).get(`/api/classes/${created.id}/me`).set('authorization', `Bearer ${ada.token}`).expect(200);
    expect(me.body.lab.id).toBe(body.lab);
    const transcript = await request(s.server.http).get(`/api/labs/${body.lab}/transcript`).set('authorization', `Bearer ${me.body.lab.token}`).expect(200);
    expect(transcript.text).toBe('hostA$ ip netns add red\nhostA$ ip netns add blue\n');
    expect(await s.exec(body.lab, me.body.lab.token, 'hostA', 'ip netns list')).toEqual({ output: 'blue\nred\n', exitCode: 0 });

    // Even a lab deleted with an owner token is reset to the template.
    const owner = await request(s.server.http).post(`/api/classes/${created.id}/labs/${body.lab}/token`).set('authorization', `Bearer ${created.token}`).expect(201);
    await request(s.server.http).delete(`/api/labs/${body.lab}`).set('authorization', `Bearer ${owner.body.token}`).expect(204);
    const fresh = (await reset(body.lab, {}).expect(200)).body.lab as string;
    const again = await request(s.server.http).get(`/api/classes/${created.id}/me`).set('authorization', `Bearer ${ada.token}`).expect(200);
    expect(again.body.lab.id).toBe(fresh);
    expect(await s.exec(fresh, again.body.lab.token, 'hostA', 'ip netns list')).toEqual({ output: '', exitCode: 0 });
  });
});

describe('progress', () => {
  it('streams a lab\'s progress as its student completes tasks, with the last command and the error streak', async () => {
    const s = await server();
    const created = await createClass(s);
    const ada = await join(s, created.joinCode.code, 'Ada');
    const stream = await DashboardStream.open(s.baseUrl, created.id, created.token);
    afterThisTest(() => stream.close());
    const first = (await stream.next((e) => e.event === 'snapshot')).data as Dashboard;
    expect(first.tasks).toEqual([
      { id: 'namespaces', title: 'Create the red and blue namespaces' },
      { id: 'cable', title: 'Put one end of a veth pair in each namespace' },
      { id: 'addresses', title: 'Address both ends on 192.168.15.0/24' },
      { id: 'ping', title: 'Bring the cable up and ping across' },
    ]);
    const client = await connect(s, ada.lab.id, ada.lab.token);
    await client.exec('e1', 'hostA', 'ip netns add red');
    const afterRed = (await stream.next((e) => e.event === 'lab' && e.data.seq === 1)).data as LabRow;
    expect(afterRed).toMatchObject({ lab: ada.lab.id, tasksDone: 0, checksPassed: 1, commands: 1, errorStreak: 0, lastCommand: { seq: 1, name: 'Ada', host: 'hostA', line: 'ip netns add red', exitCode: 0 }, stuck: false });
    expect(afterRed.tasks[0]).toEqual({
      id: 'namespaces',
      title: 'Create the red and blue namespaces',
      done: false,
      doneAt: null,
      checks: [
        { description: 'hostA: ip netns lists red', passed: true },
        { description: 'hostA: ip netns lists blue', passed: false, hint: 'Create it with `ip netns add blue`.' },
      ],
    });
    await client.exec('e2', 'hostA', 'ip linek set veth-red netns red');
    await client.exec('e3', 'hostA', 'ip netns add red');
    expect((await stream.next((e) => e.event === 'lab' && e.data.seq === 3)).data).toMatchObject({ errorStreak: 2, commands: 3, lastCommand: { line: 'ip netns add red', exitCode: 1 } });
    for (const [i, line] of SOLUTION.slice(1).entries()) await client.exec(`s${i}`, 'hostA', line);
    const done = (await stream.next((e) => e.event === 'lab' && e.data.tasksDone === 4)).data as LabRow;
    expect(done).toMatchObject({ tasksDone: 4, checksPassed: 10, errorStreak: 0, seq: 3 + SOLUTION.length - 1 });
    const snapshot = await request(s.server.http).get(`/api/classes/${created.id}?sort=progress`).set('authorization', `Bearer ${created.token}`).expect(200);
    expect(snapshot.body.labs[0]).toEqual(done);
  });

  it('marks a lab stuck when its checks stop progressing, and sorts stuck labs first', async () => {
    const s = await server({ stuckMs: 400 });
    const created = await createClass(s);
    const ada = await join(s, created.joinCode.code, 'Ada');
    const alan = await join(s, created.joinCode.code, 'Alan');
    const stream = await DashboardStream.open(s.baseUrl, created.id, created.token);
    afterThisTest(() => stream.close());
    await new Promise((r) => setTimeout(r, 250));
    await s.exec(alan.lab.id, alan.lab.token, 'hostA', 'ip netns add red');
    const stuck = await stream.next((e) => e.event === 'lab' && e.data.lab === ada.lab.id && e.data.stuck);
    expect(stuck.data).toMatchObject({ members: [{ name: 'Ada' }], checksPassed: 0 });
    const sorted = await request(s.server.http).get(`/api/classes/${created.id}?sort=stuck`).set('authorization', `Bearer ${created.token}`).expect(200);
    expect(sorted.body.labs.map((r: LabRow) => [r.members[0]!.name, r.stuck])).toEqual([
      ['Ada', true],
      ['Alan', false],
    ]);
    await request(s.server.http).get(`/api/classes/${created.id}?sort=age`).set('authorization', `Bearer ${created.token}`).expect(400, { error: 'sort: one of joined, name, progress, stuck, errors' });
  });

  it('exports the results as CSV', async () => {
    const s = await server();
    const created = await createClass(s, { mode: 'group', groupSize: 2 });
    const ada = await join(s, created.joinCode.code, 'Ada');
    const alan = await join(s, created.joinCode.code, 'Alan, "the" =1');
    const grace = await join(s, created.joinCode.code, 'Grace');
    for (const line of SOLUTION.slice(0, 5)) await s.exec(ada.lab.id, ada.lab.token, 'hostA', line);
    await s.exec(grace.lab.id, grace.lab.token, 'hostA', 'ip linek set veth-red netns red');
    const dashboard = (await request(s.server.http).get(`/api/classes/${created.id}`).set('authorization', `Bearer ${created.token}`).expect(200)).body as Dashboard;
    const joined = (id: string) => dashboard.labs.flatMap((r) => r.members).find((m) => m.id === id)!.joinedAt;
    const res = await request(s.server.http).get(`/api/classes/${created.id}/results.csv`).set('authorization', `Bearer ${created.token}`).expect(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.text).toBe(
      [
        'member,name,group,lab,joined,tasks done,task namespaces,task cable,task addresses,task ping,checks passed,commands,errors in a row,last command,stuck',
        `${ada.member},Ada,1,${ada.lab.id},${joined(ada.member)},2/4,done,done,,,4,5,0,hostA$ ip link set veth-blue netns blue,`,
        `${alan.member},"Alan, ""the"" =1",1,${ada.lab.id},${joined(alan.member)},2/4,done,done,,,4,5,0,hostA$ ip link set veth-blue netns blue,`,
        `${grace.member},Grace,2,${grace.lab.id},${joined(grace.member)},0/4,,,,,0,1,1,hostA$ ip linek set veth-red netns red,`,
        '',
      ].join('\r\n'),
    );
  });
});

describe('pair troubleshooting', () => {
  it('groups students; the driver types, navigators point, and the driver hands over', async () => {
    const s = await server();
    const created = await createClass(s, { mode: 'group', groupSize: 2 });
    const ada = await join(s, created.joinCode.code, 'Ada');
    const alan = await join(s, created.joinCode.code, 'Alan');
    const grace = await join(s, created.joinCode.code, 'Grace');
    expect([ada, alan, grace].map((j) => [j.group, j.driver])).toEqual([
      [1, true],
      [1, false],
      [2, true],
    ]);
    expect(alan.lab.id).toBe(ada.lab.id);
    expect(grace.lab.id).not.toBe(ada.lab.id);

    const driver = await connect(s, ada.lab.id, ada.lab.token);
    const navigator = await connect(s, alan.lab.id, alan.lab.token);
    await navigator.hello();
    const members = [
      { participant: ada.member, name: 'Ada' },
      { participant: alan.member, name: 'Alan' },
    ];
    expect(await navigator.message('class')).toEqual({ type: 'class', class: created.id, locked: false, driver: members[0], members });
    const navigating = 'you are navigating: Ada drives this lab; point at devices, or ask the driver to hand over';
    await expect(navigator.exec('n1', 'hostA', 'ip netns add red')).rejects.toThrow(`forbidden: ${navigating}`);
    await request(s.server.http).post(`/api/labs/${alan.lab.id}/exec`).set('authorization', `Bearer ${alan.lab.token}`).send({ host: 'hostA', command: 'ip netns add red' }).expect(403, { error: navigating });
    await driver.exec('d1', 'hostA', 'ip netns add red');

    // The navigator points at a device; everyone in the lab sees it.
    navigator.awareness.setLocalState({ point: 'hostA#2', host: 'hostA' });
    await driver.until(() => driver.awareness.getStates().get(navigator.awareness.clientID));
    expect(driver.awareness.getStates().get(navigator.awareness.clientID)).toEqual({ point: 'hostA#2', host: 'hostA', name: 'Alan' });

    const handOver = (token: string, member: string) => request(s.server.http).post(`/api/classes/${created.id}/driver`).set('authorization', `Bearer ${token}`).send({ member });
    await handOver(alan.token, alan.member).expect(403, { error: 'only the driver hands over' });
    await handOver(ada.token, grace.member).expect(403, { error: 'Grace is not in your group' });
    await handOver(ada.token, alan.member).expect(200, { lab: ada.lab.id, driver: alan.member });
    // Everyone in the lab is told, the former driver as well as the new one.
    for (const client of [navigator, driver]) {
      expect(await client.message('class', (m) => m.driver?.participant === alan.member)).toEqual({ type: 'class', class: created.id, locked: false, driver: members[1], members });
    }
    await navigator.exec('n2', 'hostA', 'ip netns add blue');
    await expect(driver.exec('d2', 'hostA', 'ip netns add green')).rejects.toThrow('forbidden: you are navigating: Alan drives this lab');
    // The instructor hands over in any group.
    await handOver(created.token, ada.member).expect(200, { lab: ada.lab.id, driver: ada.member });
  });
});

describe('the instructor in a group lab', () => {
  it('hands over from the lab page with their owner token for that lab, and only there; no other lab token may', async () => {
    const s = await server();
    const created = await createClass(s, { mode: 'group', groupSize: 2 });
    const ada = await join(s, created.joinCode.code, 'Ada');
    const alan = await join(s, created.joinCode.code, 'Alan');
    const grace = await join(s, created.joinCode.code, 'Grace');
    const labToken = async (classId: string, classToken: string, lab: string) =>
      (await request(s.server.http).post(`/api/classes/${classId}/labs/${lab}/token`).set('authorization', `Bearer ${classToken}`).expect(201)).body.token as string;
    const kimInAdasLab = await labToken(created.id, created.token, ada.lab.id);
    const handOver = (token: string, member: string) => request(s.server.http).post(`/api/classes/${created.id}/driver`).set('authorization', `Bearer ${token}`).send({ member });

    const driver = await connect(s, ada.lab.id, ada.lab.token);
    const navigator = await connect(s, alan.lab.id, alan.lab.token);
    await handOver(kimInAdasLab, alan.member).expect(200, { lab: ada.lab.id, driver: alan.member });
    const members = [
      { participant: ada.member, name: 'Ada' },
      { participant: alan.member, name: 'Alan' },
    ];
    for (const client of [navigator, driver]) {
      expect(await client.message('class', (m) => m.driver?.participant === alan.member)).toEqual({ type: 'class', class: created.id, locked: false, driver: members[1], members });
    }
    await navigator.exec('n1', 'hostA', 'ip netns add red');

    // Not for a member of another group's lab, which this token does not open.
    await handOver(kimInAdasLab, grace.member).expect(403, { error: 'Grace is not in this lab' });
    // Not with a student's lab token, even the driver's, nor an invite the instructor made.
    const instructorOnly = { error: "only the class's instructor hands over with a lab token" };
    await handOver(alan.lab.token, ada.member).expect(403, instructorOnly);
    const invite = await request(s.server.http).post(`/api/labs/${ada.lab.id}/invites`).set('authorization', `Bearer ${kimInAdasLab}`).send({ role: 'editor', name: 'Helper' }).expect(201);
    await handOver(invite.body.token, ada.member).expect(403, instructorOnly);
    // Not with another class's instructor's token for a lab of theirs.
    const other = await createClass(s, { mode: 'group', groupSize: 2 });
    const otherStudent = await join(s, other.joinCode.code, 'Otto');
    await handOver(await labToken(other.id, other.token, otherStudent.lab.id), ada.member).expect(403, instructorOnly);
    await handOver('not-a-token', ada.member).expect(401, { error: 'invalid token' });

    // Alan still drives.
    await expect(driver.exec('d1', 'hostA', 'ip netns add blue')).rejects.toThrow('forbidden: you are navigating: Alan drives this lab');
  });
});

describe('a group', () => {
  it('shows a newcomer to the members already in the lab at once', async () => {
    const s = await server();
    const created = await createClass(s, { mode: 'group', groupSize: 3 });
    const ada = await join(s, created.joinCode.code, 'Ada');
    const driver = await connect(s, ada.lab.id, ada.lab.token);
    const alan = await join(s, created.joinCode.code, 'Alan');
    expect(await driver.message('class')).toEqual({
      type: 'class',
      class: created.id,
      locked: false,
      driver: { participant: ada.member, name: 'Ada' },
      members: [
        { participant: ada.member, name: 'Ada' },
        { participant: alan.member, name: 'Alan' },
      ],
    });
  });
});

describe('joining at once', () => {
  it('fills every group exactly and leaves no lab behind when joins race', async () => {
    const s = await server();
    const created = await createClass(s, { mode: 'group', groupSize: 2 });
    const joined = await Promise.all(['A', 'B', 'C', 'D', 'E', 'F'].map((name) => join(s, created.joinCode.code, name)));
    const groups = new Map<string, number>();
    for (const j of joined) groups.set(j.lab.id, (groups.get(j.lab.id) ?? 0) + 1);
    expect([...groups.values()]).toEqual([2, 2, 2]);
    expect(joined.filter((j) => j.driver)).toHaveLength(3);
    expect(await s.store.countLabs()).toBe(3);
  });
});

describe('history', () => {
  it('shows the topology and outputs after any step of the log', async () => {
    const s = await server();
    const created = await createClass(s);
    const ada = await join(s, created.joinCode.code, 'Ada');
    for (const line of SOLUTION.slice(0, 3)) await s.exec(ada.lab.id, ada.lab.token, 'hostA', line);
    await s.exec(ada.lab.id, ada.lab.token, 'hostA', 'ip -br link show veth-red');
    const at = async (step?: number) =>
      (await request(s.server.http).get(`/api/labs/${ada.lab.id}/timeline${step === undefined ? '' : `?step=${step}`}`).set('authorization', `Bearer ${ada.lab.token}`).expect(200)).body;
    const start = await at(0);
    expect(start).toMatchObject({ step: 0, steps: 4, hosts: ['hostA', 'hostB', 'gateway', 'internet'], entry: null, commands: [] });
    expect(Object.keys(start.namespaces).sort()).toEqual(['gateway', 'hostA', 'hostB', 'internet']);
    const two = await at(2);
    expect(two.entry).toEqual({ kind: 'exec', command: 2 });
    expect(Object.keys(two.namespaces).sort()).toEqual(['gateway', 'hostA', 'hostA/blue', 'hostA/red', 'hostB', 'internet']);
    expect(Object.values(two.devices as Record<string, { name: string }>).some((d) => d.name === 'veth-red')).toBe(false);
    const end = await at();
    expect(end.step).toBe(4);
    const last = end.commands.at(-1);
    expect(last).toEqual({
      seq: 4,
      participant: ada.member,
      name: 'Ada',
      host: 'hostA',
      ns: null,
      line: 'ip -br link show veth-red',
      startUs: last.startUs,
      endUs: last.startUs,
      exitCode: 0,
      interrupted: false,
      output: expect.stringMatching(/^veth-red@veth-blue +DOWN /),
      path: null,
      drop: null,
    });
    await request(s.server.http).get(`/api/labs/${ada.lab.id}/timeline?step=5`).set('authorization', `Bearer ${ada.lab.token}`).expect(400, { error: 'step: must be a whole number from 0 to 4' });
  });

  it('exports a lab as a bash script for real machines', async () => {
    const s = await server();
    const { id, token } = await s.createLab();
    const client = await connect(s, id, token);
    await client.exec('c1', 'hostA', 'ip netns add red');
    await client.exec('c2', 'hostA', 'ip netns exec red bash');
    await client.exec('c3', 'hostA', 'ip link set lo up');
    await client.exec('c4', 'hostA', "ip -br addr | grep -c 'lo '");
    await client.exec('c5', 'hostA', 'exit');
    await client.exec('c5n', 'hostA', 'bash');
    await client.exec('c5x', 'hostA', 'exit');
    await s.exec(id, token, 'hostB', 'ip route');
    client.send({ type: 'exec', id: 'c6', terminal: 't1', host: 'hostA', line: 'ping 192.168.1.3' });
    await client.message('output', (m) => m.id === 'c6');
    client.send({ type: 'interrupt', id: 'c6' });
    await client.message('exit', (m) => m.id === 'c6');
    await client.exec('c7', 'hostA', 'exit');
    const res = await request(s.server.http).get(`/api/labs/${id}/script`).set('authorization', `Bearer ${token}`).expect(200);
    expect(res.headers['content-disposition']).toBe(`attachment; filename="${id}.sh"`);
    expect(res.text).toBe(
      [
        '#!/bin/bash',
        `# Classroom (world classroom), exported from nslab lab ${id}.`,
        `# Run as root on the machine that plays one host of the world, set up as the world file says: bash ${id}.sh HOST`,
        '# Commands that only made sense typed interactively are commented out.',
        `HOST=\${1:?usage: bash ${id}.sh HOST (one of: hostA hostB gateway internet)}`,
        'case $HOST in hostA|hostB|gateway|internet) ;; *) echo "no host $HOST in this lab (it has hostA hostB gateway internet)" >&2; exit 2 ;; esac',
        '',
        'if [ "$HOST" = hostA ]; then',
        '  ip netns add red',
        '  # (typed interactively: entered namespace red) ip netns exec red bash',
        '  ip netns exec red ip link set lo up',
        `  ip netns exec red bash -c 'ip -br addr | grep -c '\\''lo '\\'''`,
        '  # (typed interactively: left namespace red) exit',
        '  # (typed interactively: a nested shell) bash',
        '  # (would end the script) exit',
        'fi',
        '',
        'if [ "$HOST" = hostB ]; then',
        '  ip route',
        'fi',
        '',
        'if [ "$HOST" = hostA ]; then',
        '  # (ran until Ctrl-C) ping 192.168.1.3',
        '  # (would end the script) exit',
        '  :',
        'fi',
        '',
      ].join('\n'),
    );
  });
});

describe.skipIf(!redisUp)('on Redis', () => {
  it('hands over across instances: both sides are told at once, and the rules follow without delay', async () => {
    const redis = freshRedisStore();
    afterThisTest(() => redis.destroy());
    const secret = 'classes-instances-secret';
    const a = await server({ secret }, await redis.open());
    const b = await server({ secret }, await redis.open());
    const created = await createClass(a, { mode: 'group', groupSize: 2 });
    const ada = await join(a, created.joinCode.code, 'Ada');
    const alan = await join(a, created.joinCode.code, 'Alan');
    const driverOnA = await connect(a, ada.lab.id, ada.lab.token);
    const navigatorOnB = await connect(b, alan.lab.id, alan.lab.token);
    // B reads the class for this refusal and keeps it cached.
    await expect(navigatorOnB.exec('n1', 'hostA', 'ip netns add red')).rejects.toThrow('forbidden: you are navigating: Ada drives this lab');

    await request(a.server.http).post(`/api/classes/${created.id}/driver`).set('authorization', `Bearer ${ada.token}`).send({ member: alan.member }).expect(200);
    const members = [
      { participant: ada.member, name: 'Ada' },
      { participant: alan.member, name: 'Alan' },
    ];
    for (const client of [driverOnA, navigatorOnB]) {
      expect(await client.message('class')).toEqual({ type: 'class', class: created.id, locked: false, driver: members[1], members });
    }
    expect((await navigatorOnB.exec('n2', 'hostA', 'ip netns add red')).exit.exitCode).toBe(0);
    await expect(driverOnA.exec('d1', 'hostA', 'ip netns add blue')).rejects.toThrow('forbidden: you are navigating: Alan drives this lab; point at devices, or ask the driver to hand over');

    // The instructor's presence says so on the other instance too.
    const opened = await request(a.server.http).post(`/api/classes/${created.id}/labs/${ada.lab.id}/token`).set('authorization', `Bearer ${created.token}`).expect(201);
    const instructorOnA = await connect(a, ada.lab.id, opened.body.token);
    instructorOnA.awareness.setLocalState({ typing: true });
    expect(await navigatorOnB.until(() => navigatorOnB.awareness.getStates().get(instructorOnA.awareness.clientID), 2000, "the instructor's presence on B")).toEqual({ typing: true, name: 'Kim', instructor: true });
  });


  it('keeps classes, groups, the lock and resets in Redis', async () => {
    const redis = freshRedisStore();
    const s = await startServer({}, await redis.open());
    try {
      const created = await createClass(s, { mode: 'group', groupSize: 2 });
      const ada = await join(s, created.joinCode.code, 'Ada');
      const alan = await join(s, created.joinCode.code, 'Alan');
      expect(alan.lab.id).toBe(ada.lab.id);
      expect(await s.exec(ada.lab.id, ada.lab.token, 'hostA', 'ip netns add red')).toEqual({ output: '', exitCode: 0 });
      await request(s.server.http).post(`/api/classes/${created.id}/lock`).set('authorization', `Bearer ${created.token}`).send({ locked: true }).expect(200);
      await request(s.server.http).post(`/api/labs/${ada.lab.id}/exec`).set('authorization', `Bearer ${ada.lab.token}`).send({ host: 'hostA', command: 'ip netns add blue' }).expect(403);
      const { body } = await request(s.server.http).post(`/api/classes/${created.id}/labs/${ada.lab.id}/reset`).set('authorization', `Bearer ${created.token}`).send({ step: 1 }).expect(200);
      const me = await request(s.server.http).get(`/api/classes/${created.id}/me`).set('authorization', `Bearer ${alan.token}`).expect(200);
      expect(me.body).toMatchObject({ locked: true, lab: { id: body.lab }, driver: { participant: ada.member, name: 'Ada' } });
      const dashboard = await request(s.server.http).get(`/api/classes/${created.id}`).set('authorization', `Bearer ${created.token}`).expect(200);
      expect(dashboard.body.labs).toMatchObject([{ lab: body.lab, group: 1, checksPassed: 1, members: [{ name: 'Ada' }, { name: 'Alan' }] }]);
    } finally {
      await s.stop();
      await redis.destroy();
    }
  });
});
