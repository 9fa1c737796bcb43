// Three people in one lab, each in their own browser context: Alice (owner)
// types, Bob (editor) watches his diagram and feed, Carol is a viewer.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type BrowserLab, contrast, diagram, diagramElement, type LabPage, type LabServer, nodeOnPage, openLab, screenshot, startBrowserLab, terminalText, typeLine, waitForDiagram } from './harness';

let browserLab: BrowserLab | undefined;
let server: LabServer;
let browser: Browser;
let alice: LabPage;
let bob: LabPage;
let carol: LabPage;

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The feed entry for a finished command line. */
function activity(page: Page, line: string) {
  return page.locator('.activity-item', { has: page.locator('.activity-line', { hasText: new RegExp(`^${escape(line)}$`) }) }).filter({ hasNot: page.locator('.activity-status.running') });
}

/** Types a line in Alice's terminal and waits until her feed shows it finished with that status. */
async function run(line: string, status: 'ok' | 'failed' | 'interrupted' = 'ok'): Promise<void> {
  await typeLine(alice.page, line);
  const entry = activity(alice.page, line).last();
  await entry.waitFor();
  expect(await entry.getAttribute('class')).toBe(`activity-item ${status}`);
}

/** The veth cables of a diagram: each end as "parent label [classes]", and whether the cable is drawn as down. */
async function cables(page: Page): Promise<Array<{ ends: string[]; down: boolean }>> {
  const elements = await diagram(page);
  const node = (id: unknown) => elements.find((element) => element.id === id)!;
  return elements
    .filter((element) => element.data.source !== undefined && element.classes.includes('veth'))
    .map((edge) => ({
      ends: [node(edge.data.source), node(edge.data.target)].map((end) => `${end.data.parent} ${end.data.label} [${end.classes.join(' ')}]`).sort(),
      down: edge.classes.includes('down'),
    }));
}

/** What a diagram highlights: the labels of the path's devices and segments, the cables on it, and the drop mark. */
async function shownPath(page: Page): Promise<{ nodes: string[]; edges: number; drop: string[]; note: string | null }> {
  const elements = await diagram(page);
  const labels = (cls: string) => elements.filter((e) => e.data.source === undefined && e.classes.includes(cls)).map((e) => String(e.data.label).split('\n')[0]!).sort();
  return {
    nodes: labels('path'),
    edges: elements.filter((e) => e.data.source !== undefined && e.classes.includes('path')).length,
    drop: labels('drop'),
    note: (elements.find((e) => e.id === 'drop-note')?.data.label as string | undefined) ?? null,
  };
}

beforeAll(async () => {
  browserLab = await startBrowserLab();
  ({ server, browser } = browserLab);
  const lab = await server.createLab('Alice');
  alice = await openLab(browser, lab.url);
  bob = await openLab(browser, await server.invite(lab.id, lab.token, 'editor', 'Bob'));
  carol = await openLab(browser, await server.invite(lab.id, lab.token, 'viewer', 'Carol'));
}, 60_000);

afterAll(() => browserLab?.stop());

describe('a shared lab in the browser', { timeout: 30_000 }, () => {
  test('everyone sees who is here, and the starting topology', async () => {
    for (const { page } of [alice, bob, carol]) {
      await expect.poll(() => page.locator('.participant-name').allTextContents()).toHaveLength(3);
      await waitForDiagram(page, 'dev:hostA#2');
    }
    expect((await bob.page.locator('.participant-name').allTextContents()).sort()).toEqual(['Alice', 'Bob (you)', 'Carol']);
    expect(await diagramElement(bob.page, 'seg:lan')).toMatchObject({ data: { label: 'lan' } });
    expect(await diagramElement(bob.page, 'dev:hostA#2')).toMatchObject({ data: { label: 'eth0\n192.168.1.2/24', parent: 'host:hostA' } });
    expect(await diagramElement(bob.page, 'port:dev:hostA#2')).toMatchObject({ data: { source: 'dev:hostA#2', target: 'seg:lan' } });
    await expect.poll(() => terminalText(alice.page)).toBe('root@hostA:~#');
    // Each tab names the panel it shows, and the panel names its tab; the diagram is named as a picture.
    const tabs = await alice.page.evaluate(`[...document.querySelectorAll('[role=tab]')].map((tab) => {
      const panel = document.getElementById(tab.getAttribute('aria-controls'));
      return [tab.textContent, tab.getAttribute('aria-selected'), panel?.getAttribute('role') ?? null, panel?.getAttribute('aria-labelledby') === tab.id];
    })`);
    expect(tabs).toEqual([
      ['Live', 'true', 'tabpanel', false],
      ['Timeline', 'false', 'tabpanel', false],
      ['hostA', 'true', 'tabpanel', true],
      ['hostB', 'false', null, false],
      ['gateway', 'false', null, false],
      ['internet', 'false', null, false],
    ]);
    expect([await alice.page.locator('#topology').getAttribute('role'), await alice.page.locator('#topology').getAttribute('aria-label')]).toEqual([
      'img',
      'Topology diagram: hosts, namespaces, devices and the cables between them',
    ]);
    // Small status text is readable: 4.5:1 at least.
    expect(await contrast(alice.page, '.status.connected')).toBeGreaterThanOrEqual(4.5);
  });

  test('a namespace and a veth cable typed by Alice appear in Bob’s diagram', async () => {
    await run('ip netns add red');
    await waitForDiagram(bob.page, 'ns:hostA/red');
    expect(await diagramElement(bob.page, 'ns:hostA/red')).toMatchObject({ data: { label: 'red', parent: 'host:hostA' } });

    await run('ip link add veth-host type veth peer name veth-red');
    await run('ip link set veth-red netns red');
    await expect
      .poll(() => cables(bob.page))
      .toEqual([{ ends: ['host:hostA veth-host\nno address [device veth down noaddr]', 'ns:hostA/red veth-red\nno address [device veth down noaddr]'], down: true }]);

    await run('ip addr add 10.0.0.1/24 dev veth-host');
    await run('ip link set veth-host up');
    await run('ip netns exec red ip addr add 10.0.0.2/24 dev veth-red');
    await run('ip netns exec red ip link set veth-red up');
    await expect.poll(() => cables(bob.page)).toEqual([{ ends: ['host:hostA veth-host\n10.0.0.1/24 [device veth up]', 'ns:hostA/red veth-red\n10.0.0.2/24 [device veth up]'], down: false }]);

    await expect.poll(() => terminalText(alice.page)).toBe(
      [
        'root@hostA:~# ip netns add red',
        'root@hostA:~# ip link add veth-host type veth peer name veth-red',
        'root@hostA:~# ip link set veth-red netns red',
        'root@hostA:~# ip addr add 10.0.0.1/24 dev veth-host',
        'root@hostA:~# ip link set veth-host up',
        'root@hostA:~# ip netns exec red ip addr add 10.0.0.2/24 dev veth-red',
        'root@hostA:~# ip netns exec red ip link set veth-red up',
        'root@hostA:~#',
      ].join('\n'),
    );
    await screenshot(alice.page, 'alice-after-veth');
    await screenshot(bob.page, 'bob-after-veth');
  });

  test('Alice’s ping shows in Bob’s activity feed with its output', async () => {
    await run('ip netns exec red ping -c 2 10.0.0.1');
    const entry = activity(bob.page, 'ip netns exec red ping -c 2 10.0.0.1');
    await entry.waitFor();
    expect(await entry.locator('.activity-who').textContent()).toBe('Alice');
    expect(await entry.locator('.activity-where').textContent()).toBe('hostA');
    expect(await entry.locator('.activity-status').textContent()).toBe('✓');
    expect(await contrast(bob.page, '.activity-status.ok')).toBeGreaterThanOrEqual(4.5);
    await entry.locator('summary').click();
    const output = await entry.locator('.activity-output').textContent();
    expect(output).toMatch(/^PING 10\.0\.0\.1 \(10\.0\.0\.1\) 56\(84\) bytes of data\.\n64 bytes from 10\.0\.0\.1: icmp_seq=1 ttl=64 time=[\d.]+ ms\n/);
    expect(output).toContain('\n2 packets transmitted, 2 received, 0% packet loss');
    await screenshot(bob.page, 'bob-ping-activity');
  });

  test('Ctrl-C interrupts a running ping; Ctrl-L clears; ↑ recalls history; the prompt follows the namespace; Tab completes', async () => {
    await typeLine(alice.page, 'ping 10.0.0.2');
    await expect.poll(() => terminalText(alice.page), { timeout: 5000 }).toMatch(/\nroot@hostA:~# ping 10\.0\.0\.2\nPING .*\n.*icmp_seq=1 .*\n.*icmp_seq=2 /);
    expect(await contrast(bob.page, '.activity-status.running')).toBeGreaterThanOrEqual(4.5);
    await alice.page.keyboard.press('Control+C');
    await activity(alice.page, 'ping 10.0.0.2').locator('.activity-status.interrupted').waitFor();
    expect(await contrast(bob.page, '.activity-status.interrupted')).toBeGreaterThanOrEqual(4.5);
    await activity(bob.page, 'ping 10.0.0.2').locator('.activity-status.interrupted').waitFor();
    await expect.poll(() => terminalText(alice.page)).toMatch(/icmp_seq=2 .*\n(.*icmp_seq=\d+ .*\n)*\^C\n--- 10\.0\.0\.2 ping statistics ---\n(\d+) packets transmitted, \2 received, 0% packet loss, time \d+ms\nrtt .*\nroot@hostA:~#$/);

    await alice.page.keyboard.press('Control+L');
    await expect.poll(() => terminalText(alice.page)).toBe('root@hostA:~#');
    await alice.page.keyboard.press('ArrowUp');
    await alice.page.keyboard.press('ArrowUp');
    await expect.poll(() => terminalText(alice.page)).toBe('root@hostA:~# ip netns exec red ping -c 2 10.0.0.1');
    await alice.page.keyboard.press('ArrowDown');
    await expect.poll(() => terminalText(alice.page)).toBe('root@hostA:~# ping 10.0.0.2');
    await alice.page.keyboard.press('Control+U');

    await run('ip netns exec red bash');
    await expect.poll(() => terminalText(alice.page)).toMatch(/\(red\) root@hostA:~#$/);
    await run('ip -br -4 addr show dev veth-red');
    await expect.poll(() => terminalText(alice.page)).toMatch(/\(red\) root@hostA:~# ip -br -4 addr show dev veth-red\nveth-red@if\d+ +UP +10\.0\.0\.2\/24\n\(red\) root@hostA:~#$/);
    await activity(bob.page, 'ip -br -4 addr show dev veth-red').waitFor();
    expect(await activity(bob.page, 'ip -br -4 addr show dev veth-red').locator('.activity-where').textContent()).toBe('hostA/red');
    await run('exit');
    await expect.poll(() => terminalText(alice.page)).toMatch(/\nroot@hostA:~#$/);
    await alice.page.keyboard.type('ip netns exec re');
    await alice.page.keyboard.press('Tab');
    await expect.poll(() => terminalText(alice.page)).toMatch(/\nroot@hostA:~# ip netns exec red$/);
    await alice.page.keyboard.press('Control+U');
    // Device names in the namespace the line names.
    await alice.page.keyboard.type('ip -n red link set v');
    await alice.page.keyboard.press('Tab');
    await expect.poll(() => terminalText(alice.page)).toMatch(/\nroot@hostA:~# ip -n red link set veth-red$/);
    await alice.page.keyboard.press('Control+U');
    await screenshot(alice.page, 'alice-terminal');
  });

  test('Bob’s diagram shows where Alice’s packets went, and where and why they died', async () => {
    await run('ping -c 1 192.168.1.3');
    await expect.poll(() => shownPath(bob.page)).toEqual({ nodes: ['eth0', 'eth0', 'lan'], edges: 2, drop: [], note: null });
    expect(await bob.page.locator('.path-note').textContent()).toBe('Packets of ping -c 1 192.168.1.3: hostA eth0 → hostB eth0');
    await screenshot(bob.page, 'bob-path');

    await run('ip netns exec red ip route add default via 10.0.0.1');
    await run('ip netns exec red ping -c 1 -W 1 192.168.1.3', 'failed');
    const reason = 'not addressed to hostA, and it does not forward (net.ipv4.ip_forward is 0)';
    await expect.poll(() => shownPath(bob.page)).toEqual({ nodes: ['veth-host', 'veth-red'], edges: 1, drop: ['veth-host'], note: `✗ ${reason}` });
    expect(await bob.page.locator('.path-note').textContent()).toBe(`Packets of ip netns exec red ping -c 1 -W 1 192.168.1.3: hostA/red veth-red → hostA veth-host ✗ dropped at hostA veth-host: ${reason}`);
    await screenshot(bob.page, 'bob-path-dropped');

    // Clicking the earlier ping in the feed draws its path again; the highlight fades after a few seconds.
    await activity(bob.page, 'ping -c 1 192.168.1.3').locator('summary').click();
    expect(await shownPath(bob.page)).toEqual({ nodes: ['eth0', 'eth0', 'lan'], edges: 2, drop: [], note: null });
    await expect.poll(() => shownPath(bob.page), { timeout: 10_000 }).toEqual({ nodes: [], edges: 0, drop: [], note: null });
    expect(await bob.page.locator('.path-note').isVisible()).toBe(false);
  });

  test('commands that enter or leave a namespace: the prompt and the packet path follow', async () => {
    // A terminal inside a namespace: its commands' packets start there.
    await run('ip netns exec red bash');
    await run('ping -c 1 10.0.0.1');
    await expect.poll(() => terminalText(alice.page)).toMatch(/\n\(red\) root@hostA:~# ping -c 1 10\.0\.0\.1\n(.*\n)+\(red\) root@hostA:~#$/);
    expect(await activity(bob.page, 'ping -c 1 10.0.0.1').locator('.activity-where').textContent()).toBe('hostA/red');
    await expect.poll(() => shownPath(bob.page)).toEqual({ nodes: ['veth-host', 'veth-red'], edges: 1, drop: [], note: null });
    expect(await bob.page.locator('.path-note').textContent()).toBe('Packets of ping -c 1 10.0.0.1: hostA/red veth-red → hostA veth-host');
    await run('exit');
    await expect.poll(() => terminalText(alice.page)).toMatch(/\nroot@hostA:~#$/);

    // A one-off bash -c in a namespace runs there and leaves the terminal where it was. (The server records
    // no packet path for programs under bash -c, so the diagram has none to draw for it.)
    await run("ip netns exec red bash -c 'ping -c 1 10.0.0.1; exit 3'", 'failed');
    await expect.poll(() => terminalText(alice.page)).toMatch(/\nroot@hostA:~# ip netns exec red bash -c 'ping -c 1 10\.0\.0\.1; exit 3'\n(.*\n)+root@hostA:~#$/);
    expect(await activity(bob.page, "ip netns exec red bash -c 'ping -c 1 10.0.0.1; exit 3'").locator('.activity-status').textContent()).toBe('✗ exit 3');
    await screenshot(alice.page, 'alice-namespace-prompt');
  });

  test('a viewer sees everything live and cannot type', async () => {
    await expect(carol.page.locator('.viewer-notice').isVisible()).resolves.toBe(true);
    expect(await carol.page.locator('.viewer-notice').textContent()).toBe('You are a viewer: you see everything live but cannot type.');
    await waitForDiagram(carol.page, 'ns:hostA/red');
    await typeLine(carol.page, 'ip netns add blue');
    // Alice's later command reaching Carol proves Carol's would have arrived by then.
    await run('ip netns add later');
    await waitForDiagram(carol.page, 'ns:hostA/later');
    expect(await diagramElement(carol.page, 'ns:hostA/blue')).toBeNull();
    expect(await diagramElement(alice.page, 'ns:hostA/blue')).toBeNull();
    expect(await activity(carol.page, 'ip netns add blue').count()).toBe(0);
    expect(await terminalText(carol.page)).not.toContain('blue');
    // No cursor where nobody types; Tab moves on (to the newest command in the feed), as there is nothing to complete.
    expect(await alice.page.locator('.shell:not([hidden]) .xterm-cursor').count()).toBe(1);
    expect(await carol.page.locator('.shell:not([hidden]) .xterm-cursor').count()).toBe(0);
    await carol.page.keyboard.press('Tab');
    expect(await carol.page.evaluate('document.activeElement.matches(".activity-pane .activity-item:first-child summary")')).toBe(true);
    await screenshot(carol.page, 'carol-viewer');
  });

  test('the UI switches to Korean', async () => {
    await carol.page.locator('.language select').selectOption('ko');
    expect(await carol.page.locator('.topology-pane h2').textContent()).toBe('토폴로지');
    expect(await carol.page.locator('#topology').getAttribute('aria-label')).toBe('토폴로지 다이어그램: 호스트, 네임스페이스, 장치와 그 사이의 케이블');
    expect(await carol.page.locator('.viewer-notice').textContent()).toBe('보기 전용 참여자입니다: 모든 변화를 실시간으로 보지만 입력할 수 없습니다.');
    await screenshot(carol.page, 'carol-korean');
    await carol.page.locator('.language select').selectOption('en');
  });

  test('a node dragged by Alice moves for Bob too', async () => {
    const before = (await diagramElement(bob.page, 'dev:hostB#2'))!.position!;
    const from = await nodeOnPage(alice.page, 'dev:hostB#2');
    await alice.page.mouse.move(from.x, from.y);
    await alice.page.mouse.down();
    await alice.page.mouse.move(from.x + 40, from.y + 60, { steps: 5 });
    await alice.page.mouse.up();
    const after = (await diagramElement(alice.page, 'dev:hostB#2'))!.position!;
    expect(after.y - before.y).toBeGreaterThan(20);
    await expect.poll(async () => (await diagramElement(bob.page, 'dev:hostB#2'))!.position).toEqual(after);
  });

  test('the owner hands out invite links', async () => {
    await alice.page.locator('.invite-button[data-role="viewer"]').click();
    const url = alice.page.locator('.invite-url');
    await expect.poll(() => url.inputValue()).toMatch(new RegExp(`^${escape(server.baseUrl)}/labs/[\\w-]+#token=[\\w.-]+$`));
    // On the clipboard, and the page says so for a moment.
    await alice.page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.baseUrl });
    const viewerLink = await url.inputValue();
    await alice.page.locator('.invite-button[data-role="editor"]').click();
    await expect.poll(() => url.inputValue()).not.toBe(viewerLink);
    expect(await url.inputValue()).toMatch(new RegExp(`^${escape(server.baseUrl)}/labs/[\\w-]+#token=[\\w.-]+$`));
    const copied = alice.page.locator('.invite-copied[role="status"]');
    await copied.waitFor();
    expect(await copied.textContent()).toBe('Copied');
    expect(await alice.page.evaluate('navigator.clipboard.readText()')).toBe(await url.inputValue());
    expect(await url.getAttribute('aria-label')).toBe('Editor link');
    await copied.waitFor({ state: 'hidden', timeout: 5000 });
    expect(await bob.page.locator('.invite-button').count()).toBe(0);
  });

  test('the start page creates a lab from a template and opens it', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US' });
    const page = await context.newPage();
    await page.goto(server.baseUrl);
    await expect.poll(() => page.locator('select.template option').allTextContents()).toContain('Classroom');
    await page.locator('input.name').fill('Dana');
    await screenshot(page, 'start-page');
    await page.locator('.create button.primary').click();
    await page.locator('.status[data-state="connected"]').waitFor();
    expect(new URL(page.url()).pathname).toMatch(/^\/labs\/[\w-]+$/);
    expect(await page.locator('.role').textContent()).toBe('Dana · owner');
    await waitForDiagram(page, 'dev:gateway#3');
    await context.close();
  });

  test('the start page creates a lab from an uploaded world file, and shows why the server refuses a bad one', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US' });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(server.baseUrl);
    await page.locator('input.name').fill('Erin');
    const world = (segment: string) => ({
      name: 'pair',
      segments: ['lan'],
      hosts: { a: { interfaces: { eth0: { segment, address: '10.0.0.1/24' } } }, b: { interfaces: { eth0: { segment: 'lan', address: '10.0.0.2/24' } } } },
    });
    const upload = (name: string, text: string) => page.locator('input.world').setInputFiles({ name, mimeType: 'application/json', buffer: Buffer.from(text) });

    await upload('broken.json', '{"hosts": ');
    await page.locator('.create button.primary').click();
    await expect.poll(() => page.locator('.create .error').textContent()).toMatch(/^broken\.json: .*JSON/);

    await upload('bad.json', JSON.stringify(world('nope')));
    await page.locator('.create button.primary').click();
    await expect.poll(() => page.locator('.create .error').textContent()).toBe('world file: hosts.a.interfaces.eth0.segment: unknown segment "nope"');
    await screenshot(page, 'start-page-bad-world');

    await upload('pair.json', JSON.stringify(world('lan')));
    await page.locator('.create button.primary').click();
    await page.locator('.status[data-state="connected"]').waitFor();
    expect(await page.locator('.tab').allTextContents()).toEqual(['a', 'b']);
    await waitForDiagram(page, 'dev:b#2');
    // The refused upload's 400 is the one line the browser logs.
    expect(errors).toEqual([expect.stringMatching(/status of 400/)]);
    await context.close();
  });

  test('the start page says when the server cannot be reached or fails, and its form works again after', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US' });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
    page.on('pageerror', (error) => errors.push(error.message));
    await page.route('**/api/templates', (route) => route.abort('connectionrefused'));
    await page.goto(server.baseUrl);
    const error = page.locator('.create .error');
    await expect.poll(() => error.textContent()).toBe('The server cannot be reached. Check your connection and try again.');
    expect(await page.locator('.start-class .error').textContent()).toBe('The server cannot be reached. Check your connection and try again.');
    await page.unroute('**/api/templates');
    await page.reload();
    await expect.poll(() => page.locator('select.template option').allTextContents()).toContain('Classroom');
    expect(await error.textContent()).toBe('');

    const create = page.locator('.create button.primary');
    await page.locator('input.name').fill('Finn');
    await page.route('**/api/labs', (route) => route.abort('connectionrefused'));
    await create.click();
    await expect.poll(() => error.textContent()).toBe('The server cannot be reached. Check your connection and try again.');
    expect([await create.textContent(), await create.isEnabled()]).toEqual(['Create lab', true]);
    await page.unroute('**/api/labs');
    await page.route('**/api/labs', (route) => route.fulfill({ status: 502, contentType: 'text/html', body: '<html><body>Bad gateway</body></html>' }));
    await create.click();
    await expect.poll(() => error.textContent()).toBe('502 Bad Gateway');
    expect([await create.textContent(), await create.isEnabled()]).toEqual(['Create lab', true]);
    await page.locator('.language select').selectOption('ko');
    await page.unroute('**/api/labs');
    await page.route('**/api/labs', (route) => route.abort('connectionrefused'));
    await create.click();
    await expect.poll(() => error.textContent()).toBe('서버에 연결할 수 없습니다. 연결을 확인하고 다시 시도하세요.');
    await page.locator('.language select').selectOption('en');
    await page.unroute('**/api/labs');
    await create.click();
    await page.locator('.status[data-state="connected"]').waitFor();
    expect(await page.locator('.role').textContent()).toBe('Finn · owner');
    // Templates for both forms, then the lab.
    expect(errors).toEqual([
      'Failed to load resource: net::ERR_CONNECTION_REFUSED',
      'Failed to load resource: net::ERR_CONNECTION_REFUSED',
      'Failed to load resource: net::ERR_CONNECTION_REFUSED',
      'Failed to load resource: the server responded with a status of 502 (Bad Gateway)',
      'Failed to load resource: net::ERR_CONNECTION_REFUSED',
    ]);
    await context.close();
  });

  test('no page logged an error', () => {
    expect([...alice.errors, ...bob.errors, ...carol.errors]).toEqual([]);
  });

  test('after the server restarts, pages reconnect and resync; a command typed while offline is refused', async () => {
    await server.restart(async () => {
      await alice.page.locator('.status[data-state="offline"]').waitFor();
      expect(await alice.page.locator('.status').textContent()).toBe('Offline — reconnecting…');
      expect(await contrast(alice.page, '.status.offline')).toBeGreaterThanOrEqual(4.5);
      await typeLine(alice.page, 'ip netns add offline');
      await expect.poll(() => terminalText(alice.page)).toMatch(/\nroot@hostA:~# ip netns add offline\nnslab: not connected: the command was not sent\nroot@hostA:~#$/);
      await screenshot(alice.page, 'alice-offline');
    });
    await alice.page.locator('.status[data-state="connected"]').waitFor();
    await bob.page.locator('.status[data-state="connected"]').waitFor();
    await run('ip netns add green');
    await waitForDiagram(bob.page, 'ns:hostA/green');

    // A command running when the connection drops: the page asks again with the same id once it is back,
    // and shows the rest of the output without repeating what it had shown.
    await typeLine(alice.page, 'ping 10.0.0.2');
    await expect.poll(() => terminalText(alice.page), { timeout: 5000 }).toMatch(/\nPING 10\.0\.0\.2 .*\n.*icmp_seq=1 .*\n.*icmp_seq=2 /);
    await server.restart(async () => {});
    await activity(alice.page, 'ping 10.0.0.2').locator('.activity-status.interrupted').last().waitFor();
    await expect.poll(() => terminalText(alice.page)).toMatch(/\nrtt [^\n]*\nroot@hostA:~#$/);
    const session = (await terminalText(alice.page)).split('root@hostA:~# ping 10.0.0.2\n').at(-1)!;
    const sequence = [...session.matchAll(/icmp_seq=(\d+) /g)].map((match) => Number(match[1]));
    expect(sequence).toEqual(sequence.map((_, i) => i + 1));
    expect(session.match(/ping statistics/g)).toHaveLength(1);
    await expect.poll(() => alice.page.locator('.participant-name').allTextContents(), { timeout: 10_000 }).toHaveLength(3);
    await screenshot(alice.page, 'alice-resumed');
    expect(await diagramElement(bob.page, 'ns:hostA/red')).not.toBeNull();
    expect(await diagramElement(bob.page, 'ns:hostA/offline')).toBeNull();
    await expect.poll(() => cables(bob.page)).toHaveLength(1);
  });
});
