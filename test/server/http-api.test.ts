// The HTTP API (docs/API.md) through supertest, on a real server and file store.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { parseScenario, replay } from '../../server/sim/transcript';
import { buildLab, parseWorld } from '../../server/sim/world-file';
import { FileStore } from '../../server/store/file-store';
import { loadTemplates } from '../../server/labs/templates';
import { tempDir } from './harness';
import { server } from './per-test';


const classroom = loadTemplates().get('classroom')!;

describe('health and templates', () => {
  it('reports health, and 503 once the store is gone', async () => {
    const dir = tempDir();
    const store = new FileStore(dir.dir);
    const s = await server({}, store);
    await request(s.server.http).get('/healthz').expect(200, { ok: true });
    rmSync(join(dir.dir, 'labs'), { recursive: true });
    await request(s.server.http).get('/healthz').expect(503, { ok: false, error: 'the store is unreachable' });
    dir.remove();
  });

  it('lists the built-in templates', async () => {
    const s = await server();
    await request(s.server.http)
      .get('/api/templates')
      .expect(200, [
        { id: 'classroom', title: 'Classroom', description: 'Two Linux hosts on one LAN behind an internet gateway, as in a network-namespaces lesson.' },
        { id: 'docker-bridge', title: "Docker's bridge network by hand", description: 'Build what `docker run -p 8080:80` sets up on the default bridge — docker0, a veth per container, masquerading and a published port — with ip and iptables.' },
        { id: 'pod-routing', title: 'Pod networking without a CNI', description: 'Two nodes, each with a pod subnet on its own bridge, and plain routes between the nodes so pods reach each other by their own addresses.' },
        { id: 'seed-1-veth', title: 'Seed lesson 1: a cable between two namespaces', description: 'Two network namespaces on hostA joined by a veth pair, pinging each other.' },
        { id: 'seed-2-bridge', title: 'Seed lesson 2: a virtual switch', description: 'Replace the direct cable with a Linux bridge, one veth per namespace, and give the host an address on it.' },
        { id: 'seed-3-lan', title: 'Seed lesson 3: out to the LAN', description: 'Route from a namespace through the host to another machine on the LAN, and a route back.' },
        { id: 'seed-4-nat', title: 'Seed lesson 4: NAT to the internet, and a port forward', description: "A default route and masquerading take blue to the internet; DNAT publishes the web server running in blue on hostA's port 8080." },
        { id: 'troubleshoot-broken', title: 'Troubleshooting: the app cannot get out', description: 'A namespace on a bridge that should reach the LAN and the internet, set up with four mistakes to find and fix.' },
      ]);
  });
});

describe('creating labs', () => {
  it('creates a lab from a template, with the owner token and a link', async () => {
    const s = await server({ publicUrl: 'https://labs.example.org' });
    const res = await request(s.server.http).post('/api/labs').send({ template: 'classroom' }).expect(201);
    expect(Object.keys(res.body)).toEqual(['id', 'token', 'url']);
    expect(res.body.url).toBe(`https://labs.example.org/labs/${res.body.id}#token=${res.body.token}`);
    const info = await request(s.server.http).get(`/api/labs/${res.body.id}`).set('authorization', `Bearer ${res.body.token}`).expect(200);
    expect(info.body).toMatchObject({ id: res.body.id, title: 'Classroom', hosts: ['hostA', 'hostB', 'gateway', 'internet'], role: 'owner', name: 'owner', commands: 0 });
  });

  it('creates a lab from a world given inline', async () => {
    const s = await server();
    const world = { name: 'pair', segments: ['lan'], hosts: { a: { interfaces: { eth0: { segment: 'lan', address: '10.0.0.1/24' } } }, b: { interfaces: { eth0: { segment: 'lan', address: '10.0.0.2/24' } } } } };
    const { body } = await request(s.server.http).post('/api/labs').send({ world, title: 'Two hosts' }).expect(201);
    const ping = await request(s.server.http).post(`/api/labs/${body.id}/exec`).set('authorization', `Bearer ${body.token}`).send({ host: 'a', command: 'ping -c 1 -W 1 10.0.0.2' }).expect(200);
    expect(ping.body.exitCode).toBe(0);
    expect(ping.body.output.split('\n')[1]).toMatch(/^64 bytes from 10\.0\.0\.2: icmp_seq=1 ttl=64 time=\d+\.\d+ ms$/);
  });

  it.each([
    [{}, 'body: give exactly one of "template" and "world"'],
    [{ template: 'classroom', world: {} }, 'body: give exactly one of "template" and "world"'],
    [{ template: 'nope' }, 'template: no template "nope" (there are: classroom, docker-bridge, pod-routing, seed-1-veth, seed-2-bridge, seed-3-lan, seed-4-nat, troubleshoot-broken)'],
    [{ template: 'classroom', colour: 'red' }, 'body: Unrecognized key: "colour"'],
    [{ world: { name: 'x', segments: ['lan'], hosts: { a: { interfaces: { eth0: { segment: 'nope' } } } } } }, 'world file: hosts.a.interfaces.eth0.segment: unknown segment "nope"'],
    [{ world: { name: 'x', segments: ['lan'], hosts: { a: { setup: ['ip link set nosuch up'] } } } }, 'world file: hosts.a.setup[0]: Cannot find device "nosuch"'],
    [{ world: 'classroom' }, 'world file: (top level): Invalid input: expected object, received string'],
  ])('refuses %j with 400 naming what is wrong', async (body, error) => {
    const s = await server();
    await request(s.server.http).post('/api/labs').send(body).expect(400, { error });
  });

  it('refuses malformed JSON, a non-JSON body and an oversized body', async () => {
    const s = await server({ bodyLimitBytes: 1000 });
    const malformed = await request(s.server.http).post('/api/labs').set('content-type', 'application/json').send('{"template": ').expect(400);
    expect(malformed.body.error).toMatch(/^malformed JSON: /);
    await request(s.server.http).post('/api/labs').set('content-type', 'text/plain').send('classroom').expect(400, { error: 'body: expected a JSON object (Content-Type: application/json)' });
    await request(s.server.http).post('/api/labs').send({ template: 'classroom', title: 'x'.repeat(2000) }).expect(413, { error: 'request body larger than 1000 bytes' });
  });

  it('refuses a world larger than a lab may be', async () => {
    const s = await server({ limits: { namespaces: 64, devices: 8, rules: 256, logEntries: 100, notesMaxBytes: 1000 } });
    await request(s.server.http).post('/api/labs').send({ template: 'classroom' }).expect(409, { error: 'world: it has 9 devices; a lab may hold 8' });
  });

  it('refuses a lab beyond the cap with 507', async () => {
    const s = await server({ maxLabs: 2 });
    await s.createLab();
    await s.createLab();
    await request(s.server.http).post('/api/labs').send({ template: 'classroom' }).expect(507, { error: 'this server holds its maximum of 2 labs; delete one first' });
  });
});

describe('running commands', () => {
  it('answers with what the terminal shows and the exit code', async () => {
    const s = await server();
    const { id, token } = await s.createLab();
    const exec = (command: string) => request(s.server.http).post(`/api/labs/${id}/exec`).set('authorization', `Bearer ${token}`).send({ host: 'hostA', command });
    await exec('ip netns add red').expect(200, { output: '', exitCode: 0 });
    await exec('ip netns list').expect(200, { output: 'red\n', exitCode: 0 });
    await exec('ip link show nosuch').expect(200, { output: 'Device "nosuch" does not exist.\n', exitCode: 1 });
    // Each command runs in a fresh terminal: a namespace entered with bash is left again.
    await exec('ip netns exec red bash').expect(200, { output: '', exitCode: 0 });
    await exec('ip -br link show dev lo').expect(200, { output: 'lo               UNKNOWN        00:00:00:00:00:00 <LOOPBACK,UP,LOWER_UP> \n', exitCode: 0 });
  });

  it('interrupts a command that would run forever after a minute of simulated time', async () => {
    const s = await server();
    const { id, token } = await s.createLab();
    const res = await s.exec(id, token, 'hostA', 'ping 192.168.1.3');
    const lines = res.output.split('\n');
    expect(lines.filter((l) => l.startsWith('64 bytes from 192.168.1.3'))).toHaveLength(60);
    expect(lines.at(-3)).toBe('60 packets transmitted, 60 received, 0% packet loss, time 59001ms');
    expect(res.exitCode).toBe(0);
  });

  it('runs a command once for a repeated id and answers the retry with the first result', async () => {
    const s = await server();
    const { id, token } = await s.createLab();
    const send = () => request(s.server.http).post(`/api/labs/${id}/exec`).set('authorization', `Bearer ${token}`).send({ host: 'hostA', command: 'ip netns add red', id: 'cmd-1' });
    await send().expect(200, { output: '', exitCode: 0 });
    await send().expect(200, { output: '', exitCode: 0 });
    expect(await s.exec(id, token, 'hostA', 'ip netns add red')).toEqual({ output: 'Cannot create namespace file "/run/netns/red": File exists\n', exitCode: 1 });
    expect(await s.store.readLog(id)).toHaveLength(2);
  });

  it.each([
    [{ host: 'hostZ', command: 'ip link' }, 400, 'no host "hostZ" in this lab (it has hostA, hostB, gateway, internet)'],
    [{ host: 'hostA', command: 'ip link\nip addr' }, 400, 'command: must be one line without control characters'],
    [{ host: 'hostA', command: '' }, 400, 'command: must not be empty'],
    [{ host: 'hostA', command: 'x'.repeat(4097) }, 400, 'command: must be at most 4096 characters'],
    [{ host: 'hostA' }, 400, 'command: Invalid input: expected string, received undefined'],
  ])('refuses %j', async (body, status, error) => {
    const s = await server();
    const { id, token } = await s.createLab();
    await request(s.server.http).post(`/api/labs/${id}/exec`).set('authorization', `Bearer ${token}`).send(body).expect(status, { error });
  });

  it('refuses new objects once a lab holds its limit, but accepts deletions', async () => {
    const s = await server({ limits: { namespaces: 6, devices: 256, rules: 256, logEntries: 100, notesMaxBytes: 1000 } });
    const { id, token } = await s.createLab();
    expect(await s.exec(id, token, 'hostA', 'ip netns add a')).toEqual({ output: '', exitCode: 0 });
    expect(await s.exec(id, token, 'hostA', 'ip netns add b')).toEqual({ output: '', exitCode: 0 });
    const refused = await request(s.server.http).post(`/api/labs/${id}/exec`).set('authorization', `Bearer ${token}`).send({ host: 'hostA', command: 'ip netns add c' });
    expect(refused.status).toBe(409);
    expect(refused.body).toEqual({ error: 'this lab holds 6 namespaces (limit 6); only commands that delete or flush are accepted until it is under the limit' });
    expect(await s.exec(id, token, 'hostA', 'ip netns del a')).toEqual({ output: '', exitCode: 0 });
    expect(await s.exec(id, token, 'hostA', 'ip netns add c')).toEqual({ output: '', exitCode: 0 });
  });

  it('refuses commands once the history is full', async () => {
    const s = await server({ limits: { namespaces: 64, devices: 256, rules: 256, logEntries: 2, notesMaxBytes: 1000 } });
    const { id, token } = await s.createLab();
    await s.exec(id, token, 'hostA', 'true');
    await s.exec(id, token, 'hostA', 'true');
    const res = await s.api('POST', `/api/labs/${id}/exec`, token, { host: 'hostA', command: 'true' });
    expect(res).toMatchObject({ status: 409, json: { error: "this lab's history is full (2 entries); start a new lab" } });
  });
});

describe('tokens and roles', () => {
  it('answers 401 without a valid token and 403 with another lab\'s', async () => {
    const s = await server();
    const a = await s.createLab();
    const b = await s.createLab();
    const path = `/api/labs/${a.id}/exec`;
    const body = { host: 'hostA', command: 'ip link' };
    await request(s.server.http).post(path).send(body).expect(401, { error: 'missing token: send "Authorization: Bearer TOKEN"' });
    await request(s.server.http).post(path).set('authorization', 'Bearer nonsense').send(body).expect(401, { error: 'invalid token' });
    const forged = a.token.slice(0, -2) + (a.token.endsWith('AA') ? 'BB' : 'AA');
    await request(s.server.http).post(path).set('authorization', `Bearer ${forged}`).send(body).expect(401, { error: 'invalid token' });
    await request(s.server.http).post(path).set('authorization', `Bearer ${b.token}`).send(body).expect(403, { error: 'this token is for another lab' });
    await request(s.server.http).get(`/api/labs/${a.id}/transcript`).expect(401);
  });

  it('lets the owner invite; editors run commands, viewers only watch', async () => {
    const s = await server();
    const { id, token } = await s.createLab();
    const invite = await request(s.server.http).post(`/api/labs/${id}/invites`).set('authorization', `Bearer ${token}`).send({ role: 'viewer', name: 'Grace' }).expect(201);
    expect(Object.keys(invite.body)).toEqual(['token', 'url']);
    const viewer = invite.body.token as string;
    const editor = await s.invite(id, token, 'editor', 'Alan');
    expect(await s.exec(id, editor, 'hostB', 'ip netns add blue')).toEqual({ output: '', exitCode: 0 });
    await request(s.server.http)
      .post(`/api/labs/${id}/exec`)
      .set('authorization', `Bearer ${viewer}`)
      .send({ host: 'hostA', command: 'ip link' })
      .expect(403, { error: 'a viewer watches; only owners and editors run commands' });
    await request(s.server.http).post(`/api/labs/${id}/invites`).set('authorization', `Bearer ${editor}`).send({ role: 'editor' }).expect(403, { error: 'a editor may not do this; it needs the owner role' });
    await request(s.server.http).post(`/api/labs/${id}/invites`).set('authorization', `Bearer ${token}`).send({ role: 'owner' }).expect(400);
    await request(s.server.http).delete(`/api/labs/${id}`).set('authorization', `Bearer ${viewer}`).expect(403);
    const transcript = await request(s.server.http).get(`/api/labs/${id}/transcript`).set('authorization', `Bearer ${viewer}`).expect(200);
    expect(transcript.text).toBe('hostB$ ip netns add blue\n');
  });

  it('deletes a lab for its owner; then it is gone', async () => {
    const s = await server();
    const { id, token } = await s.createLab();
    await request(s.server.http).delete(`/api/labs/${id}`).set('authorization', `Bearer ${token}`).expect(204, '');
    await request(s.server.http).post(`/api/labs/${id}/exec`).set('authorization', `Bearer ${token}`).send({ host: 'hostA', command: 'ip link' }).expect(404, { error: `no lab "${id}"` });
    await request(s.server.http).delete(`/api/labs/${id}`).set('authorization', `Bearer ${token}`).expect(404);
  });

  it('answers unknown routes and lab ids with JSON 404s', async () => {
    const s = await server();
    await request(s.server.http).get('/api/nothing').expect(404, { error: 'no route GET /api/nothing' });
    await request(s.server.http).get('/api/labs/..%2Fetc').expect(404);
  });

  it('answers 429 to a client that sends too fast, with Retry-After', async () => {
    const s = await server({ requestsPerSecond: 1 });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await request(s.server.http).get('/api/templates')).status);
    expect(statuses).toEqual([200, 200, 429, 429]);
    const limited = await request(s.server.http).get('/api/templates').expect(429, { error: 'too many requests; slow down' });
    expect(limited.headers['retry-after']).toBe('1');
    await request(s.server.http).get('/healthz').expect(200);
  });
});

describe('damaged storage', () => {
  it('answers 503 for a lab whose log cannot be read, and other labs carry on', async () => {
    const dir = tempDir();
    const s = await server({}, new FileStore(dir.dir));
    const broken = await s.createLab();
    const fine = await s.createLab();
    writeFileSync(join(dir.dir, 'labs', broken.id, 'log.jsonl'), 'not json\n');
    await request(s.server.http).get(`/api/labs/${broken.id}/transcript`).set('authorization', `Bearer ${broken.token}`).expect(503, { error: 'the lab could not be loaded from the store' });
    expect(await s.exec(fine.id, fine.token, 'hostA', 'ip netns list')).toEqual({ output: '', exitCode: 0 });
    dir.remove();
  });
});

describe('transcript', () => {
  it('lists every command with its output, and replaying it on the same world gives the same text', async () => {
    const s = await server();
    const { id, token } = await s.createLab();
    const lines = [
      'ip netns add red',
      'ip link add veth-red type veth peer name veth-host',
      'ip link set veth-red netns red',
      'ip addr add 10.0.0.1/24 dev veth-host',
      'ip link set veth-host up',
      'ip -n red addr add 10.0.0.2/24 dev veth-red',
      'ip -n red link set veth-red up',
      'ip netns exec red ping -c 2 10.0.0.1',
      'ip netns exec red ping -c 1 -W 1 192.168.1.3',
      'ip neigh',
      'ip -n red link',
    ];
    for (const line of lines) await s.exec(id, token, 'hostA', line);
    await s.exec(id, token, 'gateway', 'iptables -t nat -L -n');
    const res = await request(s.server.http).get(`/api/labs/${id}/transcript`).set('authorization', `Bearer ${token}`).expect(200);
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    const expected = replay(buildLab(parseWorld(classroom.world), 1), parseScenario(res.text, new Set(['hostA', 'hostB', 'gateway', 'internet'])));
    expect(res.text).toBe(expected);
    expect(res.text.split('\n').filter((l) => /^\w+\$ /.test(l))).toEqual([...lines.map((l) => `hostA$ ${l}`), 'gateway$ iptables -t nat -L -n']);
  });
});
