// The WebSocket protocol (docs/PROTOCOL.md) with real `ws` clients holding
// real Yjs documents, against a real server.
import * as encoding from 'lib0/encoding';
import * as syncProtocol from 'y-protocols/sync';
import { WebsocketProvider } from 'y-websocket';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { describe, expect, it } from 'vitest';
import { CloseCode, Frame, LIMITS } from '../../shared/protocol';
import { LabClient, RefusedError } from './lab-client';
import { connect, server } from './per-test';


const namespaces = (c: LabClient) => c.state.getMap('namespaces');
const devices = (c: LabClient) => c.state.getMap<{ ns: string; name: string; kind: string; peer: unknown }>('devices');

describe('packet paths', () => {
  it('puts the path of a command\'s packets, and where they died, on its activity entry', async () => {
    const s = await server();
    const { id, token } = await s.createLab();
    const client = await connect(s, id, token);
    const watcher = await connect(s, id, await s.invite(id, token, 'viewer'));
    const entry = (n: number) => watcher.until(() => watcher.state.getArray<{ line: string }>('activity').get(n - 1), 5000, `activity entry ${n}`);
    const toInternet = [
      { where: 'hostA', device: 'eth0', step: 'route' },
      { where: 'gateway', device: 'eth0', step: 'recv' },
      { where: 'gateway', device: 'eth1', step: 'nat' },
      { where: 'internet', device: 'eth0', step: 'recv' },
    ];
    await client.exec('ok', 'hostA', 'ping -c 1 198.51.100.53');
    expect(await entry(1)).toMatchObject({ line: 'ping -c 1 198.51.100.53', exitCode: 0, path: toInternet, drop: null });
    await client.exec('off', 'gateway', 'sysctl -w net.ipv4.ip_forward=0', 't2');
    expect(await entry(2)).toMatchObject({ line: 'sysctl -w net.ipv4.ip_forward=0', path: null, drop: null });
    await client.exec('dies', 'hostA', 'ping -c 1 -W 1 198.51.100.53');
    expect(await entry(3)).toMatchObject({
      line: 'ping -c 1 -W 1 198.51.100.53',
      exitCode: 1,
      path: toInternet.slice(0, 2),
      drop: { where: 'gateway', device: 'eth0', reason: 'not addressed to gateway, and it does not forward (net.ipv4.ip_forward is 0)' },
    });
    // A program run by a child shell draws its path too.
    await client.exec('child', 'hostA', 'bash -c "ping -c 1 -W 1 198.51.100.53"');
    expect(await entry(4)).toMatchObject({ line: 'bash -c "ping -c 1 -W 1 198.51.100.53"', exitCode: 1, path: toInternet.slice(0, 2), drop: { where: 'gateway', device: 'eth0' } });
  });
});

describe('connecting', () => {
  it('refuses the upgrade without a valid token, from a foreign origin, or for an unknown lab; closes a connection with another lab\'s token at once', async () => {
    const s = await server();
    const a = await s.createLab();
    const b = await s.createLab();
    const refusal = (promise: Promise<unknown>) => promise.then(() => 'opened', (e: RefusedError) => `${e.status} ${e.body}`);
    expect(await refusal(LabClient.connect(s.baseUrl, a.id, ''))).toBe('401 {"error":"missing token: add ?token=TOKEN"}');
    expect(await refusal(LabClient.connect(s.baseUrl, a.id, 'abc.def'))).toBe('401 {"error":"invalid token"}');
    expect(await (await LabClient.connect(s.baseUrl, a.id, b.token)).closed).toEqual({ code: CloseCode.forbidden, reason: 'this token is for another lab' });
    expect(await refusal(LabClient.connect(s.baseUrl, a.id, a.token, { origin: 'https://evil.example' }))).toBe('403 {"error":"origin https://evil.example is not allowed"}');
    expect(await refusal(LabClient.connect(s.baseUrl.replace(/\/$/, '') + '/nope', a.id, a.token))).toBe('404 {"error":"no WebSocket endpoint at /nope/ws/' + a.id + '; use /ws/LAB_ID"}');
    await s.api('DELETE', `/api/labs/${b.id}`, b.token);
    expect(await refusal(LabClient.connect(s.baseUrl, b.id, b.token))).toBe(`404 {"error":"no lab \\"${b.id}\\""}`);
    const sameOrigin = await connect(s, a.id, a.token, { origin: s.baseUrl });
    expect((await sameOrigin.hello()).role).toBe('owner');
  });

  it('accepts configured origins', async () => {
    const s = await server({ allowedOrigins: ['https://class.example'] });
    const { id, token } = await s.createLab();
    await connect(s, id, token, { origin: 'https://class.example' });
    await expect(LabClient.connect(s.baseUrl, id, token, { origin: s.baseUrl })).rejects.toMatchObject({ status: 403 });
  });

  it('welcomes a participant with their role, the hosts and their terminals', async () => {
    const s = await server();
    const { id, token } = await s.createLab();
    const editor = await s.invite(id, token, 'editor', 'Alan');
    const client = await connect(s, id, editor);
    const welcome = await client.hello();
    expect(welcome).toEqual({ type: 'welcome', protocol: 1, lab: id, title: 'Classroom', role: 'editor', participant: expect.any(String), name: 'Alan', hosts: ['hostA', 'hostB', 'gateway', 'internet'], terminals: [] });
    client.send({ type: 'hello', protocol: 2 });
    expect(await client.message('error')).toEqual({ type: 'error', code: 'protocol_version', message: 'this server speaks protocol 1, not 2' });
  });

  it('replaces a participant\'s older connection with their newer one', async () => {
    const s = await server();
    const { id, token } = await s.createLab();
    const first = await connect(s, id, token);
    await connect(s, id, token);
    expect(await first.closed).toEqual({ code: CloseCode.replaced, reason: 'replaced by a newer connection of the same participant' });
  });

  it('caps the connections of the server', async () => {
    const s = await server({ maxConnections: 2 });
    const { id, token } = await s.createLab();
    await connect(s, id, await s.invite(id, token, 'viewer'));
    await connect(s, id, await s.invite(id, token, 'viewer'));
    await expect(LabClient.connect(s.baseUrl, id, token)).rejects.toMatchObject({ status: 503, body: '{"error":"the server has too many connections"}' });
  });
});

describe('the state document', () => {
  it('holds the projected topology and follows every command', async () => {
    const s = await server();
    const { id, token } = await s.createLab();
    const viewer = await connect(s, id, await s.invite(id, token, 'viewer'));
    expect([...namespaces(viewer).keys()].sort()).toEqual(['gateway', 'hostA', 'hostB', 'internet']);
    expect(viewer.state.getMap('segments').toJSON()).toEqual({ lan: { ports: ['hostA:eth0', 'hostB:eth0', 'gateway:eth0'] }, wan: { ports: ['gateway:eth1', 'internet:eth0'] } });
    expect(namespaces(viewer).get('gateway')).toMatchObject({ forwarding: true, netfilter: { nat: { POSTROUTING: { policy: 'ACCEPT', rules: ['-o eth1 -j MASQUERADE'] } } } });

    await s.exec(id, token, 'hostA', 'ip netns add red');
    await viewer.until(() => namespaces(viewer).get('hostA/red'));
    expect(namespaces(viewer).get('hostA/red')).toEqual({ host: 'hostA', name: 'red', forwarding: false, routes: [], netfilter: {} });
    expect(devices(viewer).get('hostA/red#1')).toEqual({ ns: 'hostA/red', name: 'lo', ifindex: 1, kind: 'loopback', up: false, carrier: true, operState: 'DOWN', mac: '00:00:00:00:00:00', mtu: 65536, ipv4: [], ipv6: [], master: null, peer: null, segment: null });
    await s.exec(id, token, 'hostA', 'ip link add veth-red type veth peer name veth-host');
    await s.exec(id, token, 'hostA', 'ip link set veth-red netns red');
    const inRed = () => [...devices(viewer).values()].filter((d) => d.ns === 'hostA/red').map((d) => [d.name, d.kind, d.peer]);
    await viewer.until(() => inRed().length === 2);
    expect(inRed()).toEqual([
      ['lo', 'loopback', null],
      ['veth-red', 'veth', { ns: 'hostA', name: 'veth-host' }],
    ]);
    const activity = viewer.state.getArray('activity').toJSON();
    expect(activity.map((a) => [a.seq, a.name, a.host, a.line, a.exitCode])).toEqual([
      [1, 'owner', 'hostA', 'ip netns add red', 0],
      [2, 'owner', 'hostA', 'ip link add veth-red type veth peer name veth-host', 0],
      [3, 'owner', 'hostA', 'ip link set veth-red netns red', 0],
    ]);
  });

  it('drops updates a client makes to it and tells that client; nobody else sees them', async () => {
    const s = await server();
    const { id, token } = await s.createLab();
    const writer = await connect(s, id, token);
    const watcher = await connect(s, id, await s.invite(id, token, 'viewer'));
    writer.writeState((doc) => doc.getMap('namespaces').set('hostA/fake', { host: 'hostA', name: 'fake' }));
    expect(await writer.message('error')).toEqual({ type: 'error', code: 'read_only', message: 'update dropped: the state document is written by the server only' });
    await s.exec(id, token, 'hostA', 'ip netns add red');
    await watcher.until(() => namespaces(watcher).get('hostA/red'));
    expect(namespaces(watcher).has('hostA/fake')).toBe(false);
    const late = await connect(s, id, await s.invite(id, token, 'viewer'));
    expect(namespaces(late).has('hostA/fake')).toBe(false);
    expect(namespaces(late).has('hostA/red')).toBe(true);
  });

  it('can be watched by a stock y-websocket provider', async () => {
    const s = await server();
    const { id, token } = await s.createLab();
    const doc = new Y.Doc();
    const provider = new WebsocketProvider(`${s.baseUrl.replace('http', 'ws')}/ws`, id, doc, { WebSocketPolyfill: WebSocket as never, params: { token }, disableBc: true });
    try {
      await new Promise<void>((resolve) => provider.once('sync', () => resolve()));
      expect(doc.getMap('namespaces').has('hostA')).toBe(true);
      await s.exec(id, token, 'hostB', 'ip netns add blue');
      await new Promise<void>((resolve) => {
        const check = () => doc.getMap('namespaces').has('hostB/blue') && resolve();
        doc.getMap('namespaces').observe(check);
        check();
      });
    } finally {
      provider.destroy();
    }
  });
});

describe('the notes document', () => {
  it('is shared by writers and read-only for viewers', async () => {
    const s = await server();
    const { id, token } = await s.createLab();
    const owner = await connect(s, id, token);
    const editor = await connect(s, id, await s.invite(id, token, 'editor'));
    const viewer = await connect(s, id, await s.invite(id, token, 'viewer'));
    owner.notes.getMap('positions').set('hostA', { x: 10, y: 20 });
    editor.notes.getText('notes').insert(0, 'veth pairs connect namespaces');
    await viewer.until(() => viewer.notes.getText('notes').toString() === 'veth pairs connect namespaces' && viewer.notes.getMap('positions').get('hostA'));
    expect(owner.notes.getMap('positions').toJSON()).toEqual({ hostA: { x: 10, y: 20 } });
    await owner.until(() => owner.notes.getText('notes').toString() === 'veth pairs connect namespaces');

    viewer.notes.getMap('positions').set('hostA', { x: 0, y: 0 });
    expect(await viewer.message('error')).toEqual({ type: 'error', code: 'read_only', message: 'update dropped: viewers cannot edit the notes document' });
    const late = await connect(s, id, await s.invite(id, token, 'viewer'));
    expect(late.notes.getMap('positions').toJSON()).toEqual({ hostA: { x: 10, y: 20 } });
  });

  it('refuses updates beyond its size limit', async () => {
    const s = await server({ limits: { namespaces: 64, devices: 256, rules: 256, logEntries: 100, notesMaxBytes: 200 } });
    const { id, token } = await s.createLab();
    const owner = await connect(s, id, token);
    owner.notes.getText('notes').insert(0, 'x'.repeat(300));
    expect(await owner.message('error')).toEqual({ type: 'error', code: 'lab_full', message: 'update dropped: the notes document is full (200 bytes)' });
  });
});

describe('presence', () => {
  it('relays known fields under the participant\'s own name', async () => {
    const s = await server();
    const { id, token } = await s.createLab();
    const alan = await connect(s, id, await s.invite(id, token, 'editor', 'Alan'));
    const grace = await connect(s, id, await s.invite(id, token, 'viewer', 'Grace'));
    alan.awareness.setLocalState({ name: 'Someone Else', color: '#336699', host: 'hostA', ns: 'red', typing: true });
    await grace.until(() => grace.awareness.getStates().get(alan.awareness.clientID));
    expect(grace.awareness.getStates().get(alan.awareness.clientID)).toEqual({ name: 'Alan', color: '#336699', host: 'hostA', ns: 'red', typing: true });
    await alan.close();
    await grace.until(() => !grace.awareness.getStates().has(alan.awareness.clientID));
  });

  it.each([
    [{ color: 'red' }, 'presence update dropped: color: a colour like #1a2b3c'],
    [{ host: 'hostZ' }, 'presence update dropped: host: no host "hostZ" in this lab'],
    [{ cursor: 3 }, 'presence update dropped: state: Unrecognized key: "cursor"'],
    [{ name: 'x'.repeat(2000) }, 'presence update dropped: state larger than 1024 bytes'],
  ])('drops %j with a precise error', async (state, message) => {
    const s = await server();
    const { id, token } = await s.createLab();
    const client = await connect(s, id, token);
    const watcher = await connect(s, id, await s.invite(id, token, 'viewer'));
    client.awareness.setLocalState(state);
    expect(await client.message('error')).toEqual({ type: 'error', code: 'bad_message', message });
    expect(watcher.awareness.getStates().has(client.awareness.clientID)).toBe(false);
  });

  it('keeps one presence per connection and refuses to speak for another', async () => {
    const s = await server();
    const { id, token } = await s.createLab();
    const a = await connect(s, id, token);
    const b = await connect(s, id, await s.invite(id, token, 'editor'));
    a.awareness.setLocalState({ typing: false });
    await b.until(() => b.awareness.getStates().has(a.awareness.clientID));
    const forged = (clientId: number) => {
      const encoder = encoding.createEncoder();
      encoding.writeVarUint(encoder, 1);
      encoding.writeVarUint(encoder, clientId);
      encoding.writeVarUint(encoder, 99);
      encoding.writeVarString(encoder, JSON.stringify({ typing: true }));
      return encoding.toUint8Array(encoder);
    };
    b.sendFrame(Frame.awareness, (e) => encoding.writeVarUint8Array(e, forged(a.awareness.clientID)));
    expect(await b.message('error')).toEqual({ type: 'error', code: 'bad_message', message: `presence update dropped: client ${a.awareness.clientID} belongs to another connection` });
    a.sendFrame(Frame.awareness, (e) => encoding.writeVarUint8Array(e, forged(12345)));
    expect(await a.message('error')).toEqual({ type: 'error', code: 'bad_message', message: `presence update dropped: this connection speaks for client ${a.awareness.clientID}` });
  });

  it('rate-limits presence updates', async () => {
    const s = await server({ presencePerSecond: 2 });
    const { id, token } = await s.createLab();
    const client = await connect(s, id, token);
    for (let i = 0; i < 6; i++) client.awareness.setLocalState({ typing: i % 2 === 0 });
    expect(await client.message('error')).toEqual({ type: 'error', code: 'rate_limited', message: 'presence update dropped: too many presence updates' });
  });
});

describe('commands over the socket', () => {
  it('accepts, runs and answers a command in the participant\'s terminal, which keeps its namespace', async () => {
    const s = await server();
    const { id, token } = await s.createLab();
    const client = await connect(s, id, token);
    const from = client.messages.length;
    expect(await client.exec('c1', 'hostA', 'ip netns add red')).toMatchObject({ output: '', exit: { type: 'exit', id: 'c1', exitCode: 0, interrupted: false, ns: null } });
    expect(client.messages.slice(from)[0]).toEqual({ type: 'accepted', id: 'c1', seq: 1 });
    expect((await client.exec('c2', 'hostA', 'ip netns exec red bash')).exit.ns).toBe('red');
    const inside = await client.exec('c3', 'hostA', 'ip -br link');
    expect(inside.output).toBe('lo               DOWN           00:00:00:00:00:00 <LOOPBACK> \n');
    expect(inside.exit.ns).toBe('red');
    expect((await client.exec('c4', 'hostA', 'exit')).exit.ns).toBe(null);
    const other = await client.exec('c5', 'hostA', 'ip -br link show dev lo', 't2');
    expect(other.output).toBe('lo               UNKNOWN        00:00:00:00:00:00 <LOOPBACK,UP,LOWER_UP> \n');

    await client.close();
    const again = await connect(s, id, token);
    expect((await again.hello()).terminals).toEqual([
      { terminal: 't1', host: 'hostA', ns: null, history: ['ip netns add red', 'ip netns exec red bash', 'ip -br link', 'exit'] },
      { terminal: 't2', host: 'hostA', ns: null, history: ['ip -br link show dev lo'] },
    ]);
  });

  it('answers a retried id without running the command again', async () => {
    const s = await server();
    const { id, token } = await s.createLab();
    const client = await connect(s, id, token);
    await client.exec('same', 'hostA', 'ip netns add red');
    const retry = await client.exec('same', 'hostA', 'ip netns add red');
    expect(retry).toMatchObject({ output: '', exit: { exitCode: 0 } });
    expect((await client.exec('next', 'hostA', 'ip netns list')).output).toBe('red\n');
    expect((await s.store.readLog(id)).map((e) => e.kind === 'exec' && e.line)).toEqual(['ip netns add red', 'ip netns list']);
  });

  it('streams a long-running command in real time and stops it on interrupt', async () => {
    const s = await server();
    const { id, token } = await s.createLab();
    const client = await connect(s, id, token);
    const watcher = await connect(s, id, await s.invite(id, token, 'viewer'));
    const started = performance.now();
    client.send({ type: 'exec', id: 'p', terminal: 't1', host: 'hostA', line: 'ping 192.168.1.3' });
    await client.until(() => client.outputOf('p').includes('icmp_seq=1 '));
    await watcher.until(() => watcher.state.getMap('running').size === 1);
    expect(watcher.state.getMap('running').get('1')).toMatchObject({ line: 'ping 192.168.1.3', exitCode: null });
    await client.until(() => client.outputOf('p').includes('icmp_seq=3 '), 5000);
    // Sequence 3 goes out two simulated seconds after the first, and the clock follows the real one.
    expect(performance.now() - started).toBeGreaterThan(1900);
    client.send({ type: 'interrupt', id: 'p' });
    const exit = await client.message('exit', (m) => m.id === 'p');
    expect(exit).toMatchObject({ exitCode: 0, interrupted: true });
    const lines = client.outputOf('p').split('\n');
    expect(lines[0]).toBe('PING 192.168.1.3 (192.168.1.3) 56(84) bytes of data.');
    expect(lines.at(-3)).toMatch(/^(\d+) packets transmitted, \1 received, 0% packet loss, time \d+ms$/);
    await watcher.until(() => watcher.state.getMap('running').size === 0 && watcher.state.getArray('activity').length === 1);
    expect(watcher.state.getArray('activity').get(0)).toMatchObject({ line: 'ping 192.168.1.3', interrupted: true, exitCode: 0 });
    client.send({ type: 'interrupt', id: 'p' });
    expect(await client.message('error', (m) => m.id === 'p')).toEqual({ type: 'error', id: 'p', code: 'not_running', message: 'no running command with id "p"' });
  });

  it('interrupts a participant\'s running commands when they leave', async () => {
    const s = await server();
    const { id, token } = await s.createLab();
    const client = await connect(s, id, token);
    client.send({ type: 'exec', id: 'p', terminal: 't1', host: 'hostA', line: 'ping 192.168.1.3' });
    await client.until(() => client.outputOf('p').includes('icmp_seq=1 '));
    await client.close();
    const watcher = await connect(s, id, await s.invite(id, token, 'viewer'));
    await watcher.until(() => watcher.state.getArray('activity').length === 1);
    expect(watcher.state.getArray('activity').get(0)).toMatchObject({ line: 'ping 192.168.1.3', interrupted: true });
    expect((await s.store.readLog(id)).at(-1)).toMatchObject({ kind: 'interrupt', target: 1 });
  });

  it('lets viewers watch but not run commands', async () => {
    const s = await server();
    const { id, token } = await s.createLab();
    const viewer = await connect(s, id, await s.invite(id, token, 'viewer'));
    viewer.send({ type: 'exec', id: 'v1', terminal: 't1', host: 'hostA', line: 'ip netns add red' });
    expect(await viewer.message('error')).toEqual({ type: 'error', id: 'v1', code: 'forbidden', message: 'a viewer watches; only owners and editors run commands' });
    expect(await s.store.readLog(id)).toEqual([]);
  });

  it.each([
    ['{"type":', 'bad_json', /^malformed JSON: /],
    ['{"type":"dance"}', 'bad_message', /^type: Invalid discriminator value. Expected 'hello' \| 'exec' \| 'interrupt'$/],
    ['{"type":"exec","id":"x","terminal":"t1","host":"hostA"}', 'bad_message', /^line: Invalid input: expected string, received undefined$/],
    ['{"type":"exec","id":"x","terminal":"t 1","host":"hostA","line":"ip link"}', 'bad_message', /^terminal: letters, digits, - and _$/],
    ['{"type":"exec","id":"x","terminal":"t1","host":"hostA","line":"a\\nb"}', 'bad_message', /^line: must be one line without control characters$/],
    ['[1,2]', 'bad_message', /^message: Invalid input/],
    [JSON.stringify({ type: 'exec', id: 'x', terminal: 't1', host: 'hostA', line: 'x'.repeat(LIMITS.textFrameBytes) }), 'message_too_large', /^message larger than 16384 bytes$/],
  ])('answers %s with a precise error and stays up', async (text, code, message) => {
    const s = await server();
    const { id, token } = await s.createLab();
    const client = await connect(s, id, token);
    client.send(text);
    const error = await client.message('error');
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
    expect((await client.exec('ok', 'hostA', 'ip netns list')).exit.exitCode).toBe(0);
  });

  it('answers unknown hosts and a terminal used on another host', async () => {
    const s = await server();
    const { id, token } = await s.createLab();
    const client = await connect(s, id, token);
    await expect(client.exec('a', 'hostZ', 'ip link')).rejects.toThrow('unknown_host: no host "hostZ" in this lab (it has hostA, hostB, gateway, internet)');
    await client.exec('b', 'hostA', 'true');
    await expect(client.exec('c', 'hostB', 'true')).rejects.toThrow('terminal_host: terminal "t1" is on hostA, not hostB');
  });

  it('rate-limits commands with an error', async () => {
    const s = await server({ commandsPerSecond: 2 });
    const { id, token } = await s.createLab();
    const client = await connect(s, id, token);
    for (let i = 0; i < 6; i++) client.send({ type: 'exec', id: `c${i}`, terminal: 't1', host: 'hostA', line: 'true' });
    expect(await client.message('error')).toEqual({ type: 'error', id: 'c4', code: 'rate_limited', message: 'too many commands; wait a moment' });
  });
});

describe('bad frames and floods', () => {
  it('closes a connection that sends a malformed binary frame, and other labs carry on', async () => {
    const s = await server();
    const a = await s.createLab();
    const b = await s.createLab();
    const bad = await connect(s, a.id, a.token);
    const other = await connect(s, b.id, b.token);
    bad.ws.send(new Uint8Array([Frame.stateSync, 7, 1]));
    expect(await bad.closed).toEqual({ code: CloseCode.badFrame, reason: 'unknown sync message 7' });
    const garbage = await connect(s, a.id, a.token);
    garbage.ws.send(new Uint8Array([42]));
    expect(await garbage.closed).toEqual({ code: CloseCode.badFrame, reason: 'unknown frame kind 42' });
    const truncated = await connect(s, a.id, a.token);
    truncated.sendFrame(Frame.notesSync, (e) => {
      encoding.writeVarUint(e, syncProtocol.messageYjsUpdate);
      encoding.writeVarUint(e, 100);
    });
    expect((await truncated.closed).code).toBe(CloseCode.badFrame);
    expect((await other.exec('x', 'hostA', 'ip netns add red')).exit.exitCode).toBe(0);
    const again = await connect(s, a.id, a.token);
    expect((await again.exec('y', 'hostA', 'ip netns list')).exit.exitCode).toBe(0);
  });

  it('closes a connection that sends an oversized frame (1009)', async () => {
    const s = await server();
    const { id, token } = await s.createLab();
    const client = await connect(s, id, token);
    client.ws.send(new Uint8Array(LIMITS.binaryFrameBytes + 1));
    expect((await client.closed).code).toBe(CloseCode.messageTooBig);
    await s.api('GET', '/healthz');
  });

  it('closes a connection that floods (4429)', async () => {
    const s = await server({ framesPerSecond: 20 });
    const { id, token } = await s.createLab();
    const client = await connect(s, id, token);
    for (let i = 0; i < 100; i++) client.send({ type: 'hello', protocol: 1 });
    expect(await client.closed).toEqual({ code: CloseCode.rateLimited, reason: 'too many messages' });
  });

  it('closes a connection that stops reading (4408) instead of buffering for it', async () => {
    const s = await server({ maxBufferedBytes: 1024 * 1024, limits: { namespaces: 64, devices: 256, rules: 256, logEntries: 100, notesMaxBytes: 1 << 30 } });
    const { id, token } = await s.createLab();
    const writer = await connect(s, id, token);
    const stalled = await connect(s, id, await s.invite(id, token, 'viewer'));
    const socket = (stalled.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socket.pause();
    // 8 MB of notes: past the 1 MiB limit even after the kernel's socket buffers.
    const text = writer.notes.getText('notes');
    for (let i = 0; i < 40; i++) {
      text.insert(0, 'x'.repeat(200_000));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect((await writer.exec('after', 'hostA', 'ip netns list')).exit.exitCode).toBe(0);
    // Catching up, it reads what was buffered, then the close.
    socket.resume();
    expect(await stalled.closed).toEqual({ code: CloseCode.fellBehind, reason: 'fell too far behind; reconnect' });
    for (let i = 0; i < 50 && s.server.gateway.connectionCount > 1; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(s.server.gateway.connectionCount).toBe(1);
  });

  it('closes every connection of a deleted lab (4404)', async () => {
    const s = await server();
    const { id, token } = await s.createLab();
    const client = await connect(s, id, token);
    await s.api('DELETE', `/api/labs/${id}`, token);
    expect(await client.closed).toEqual({ code: CloseCode.labDeleted, reason: 'the lab was deleted' });
  });
});
