// The diagram of the classroom world after the seed lesson: laid out without
// overlaps on a 1280×800 screen, stable as things are added, the same for a
// late joiner, and the drop mark clear of the rest.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type BrowserLab, contrast, CY, diagram, type LabPage, type LabServer, openLab, screenshot, startBrowserLab } from './harness';

let browserLab: BrowserLab | undefined;
let server: LabServer;
let browser: Browser;
let lab: { id: string; token: string; url: string };
let alice: LabPage;
let latecomer: LabPage | undefined;

/** The seed lesson's commands up to its clean-up, as `[host, command]`. */
const LESSON = readFileSync(resolve(import.meta.dirname, '../golden/public/seed-lesson.txt'), 'utf8')
  .split('\n')
  .flatMap((line) => /^(\w+)\$ (.*)$/.exec(line)?.slice(1, 3) ?? [])
  .reduce<Array<[string, string]>>((lines, _, i, parts) => (i % 2 === 0 ? [...lines, [parts[i]!, parts[i + 1]!]] : lines), [])
  .slice(0, -4);

interface Box {
  id: string;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

/**
 * What must not overlap, in model coordinates: each childless node with its label, each compound node's label,
 * and the hosts and segments as wholes (only against each other; the drop mark may lie over a host).
 */
async function boxes(page: Page): Promise<Box[][]> {
  return (await page.evaluate(`(() => {
    const cy = ${CY};
    const box = (n, b) => ({ id: n.id(), x1: b.x1, y1: b.y1, x2: b.x2, y2: b.y2 });
    return [
      cy.nodes().map((n) => box(n, n.isParent() ? n.boundingBox({ includeNodes: false, includeEdges: false }) : n.boundingBox({ includeEdges: false }))),
      cy.nodes().orphans().not('#drop-note').map((n) => box(n, n.boundingBox({ includeEdges: false }))),
    ];
  })()`)) as Box[][];
}

/** Pairs of boxes, within each list, that overlap by more than a pixel each way. */
function overlaps(lists: Box[][]): string[] {
  const found: string[] = [];
  for (const all of lists) {
    all.forEach((a, i) =>
      all.slice(i + 1).forEach((b) => {
        if (Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1) > 1 && Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1) > 1) found.push(`${a.id} × ${b.id}`);
      }),
    );
  }
  return found;
}

/** Where each childless node is. */
async function places(page: Page): Promise<Map<string, { x: number; y: number }>> {
  const nodes = await diagram(page);
  return new Map(nodes.filter((n) => n.position && !nodes.some((child) => child.data.parent === n.id)).map((n) => [n.id, n.position!]));
}

/** The id of the device node with this label's first line, once the diagram has it. */
async function deviceId(page: Page, name: string, ns: string): Promise<string> {
  const parent = ns.includes('/') ? `ns:${ns}` : `host:${ns}`;
  const find = async () => (await diagram(page)).find((e) => e.data.parent === parent && String(e.data.label).split('\n')[0] === name)?.id;
  await expect.poll(find, { timeout: 5000 }).toBeDefined();
  return (await find())!;
}

/** The diagram is drawn inside its pane. */
async function allInView(page: Page): Promise<boolean> {
  return (await page.evaluate(`(() => {
    const cy = ${CY};
    const view = cy.extent();
    const box = cy.elements().boundingBox();
    return box.x1 >= view.x1 && box.x2 <= view.x2 && box.y1 >= view.y1 && box.y2 <= view.y2;
  })()`)) as boolean;
}

const exec = (host: string, command: string) => server.exec(lab.id, lab.token, host, command);

beforeAll(async () => {
  browserLab = await startBrowserLab();
  ({ server, browser } = browserLab);
  lab = await server.createLab('Alice');
  alice = await openLab(browser, lab.url);
  await screenshot(alice.page, 'diagram-classroom');
}, 60_000);

afterAll(() => browserLab?.stop());

describe('the diagram of the seed lesson', { timeout: 30_000 }, () => {
  test('lays out hosts, namespaces, the bridge and the LAN without overlaps', async () => {
    for (const [host, command] of LESSON) await exec(host, command);
    await deviceId(alice.page, 'veth-blue', 'hostA/blue');
    await screenshot(alice.page, 'diagram-seed-lesson');
    await expect.poll(() => boxes(alice.page).then(overlaps)).toEqual([]);
    expect(await allInView(alice.page)).toBe(true);
  });

  test('what is added lands near what it is cabled to; the host it joins stays put, others move only as a whole', async () => {
    const before = await places(alice.page);
    const hostOf = new Map((await diagram(alice.page)).map((e) => [e.id, e.data.parent]));
    const top = (id: string): string => (hostOf.get(id) ? top(hostOf.get(id)!) : id);
    await exec('hostA', 'ip netns add green');
    await exec('hostA', 'ip link add veth-green type veth peer name veth-green-br');
    await exec('hostA', 'ip link set veth-green-br master v-net-0');
    await exec('hostA', 'ip link set veth-green netns green');
    const green = await deviceId(alice.page, 'veth-green', 'hostA/green');
    await screenshot(alice.page, 'diagram-added-namespace');
    const after = await places(alice.page);
    const moves = new Map<string, Set<string>>();
    for (const [id, at] of before) {
      const now = after.get(id);
      if (now) moves.set(top(id), (moves.get(top(id)) ?? new Set()).add(`${now.x - at.x},${now.y - at.y}`));
    }
    expect(moves.get('host:hostA')).toEqual(new Set(['0,0']));
    for (const [group, offsets] of moves) expect([group, offsets.size]).toEqual([group, 1]);
    const bridgePort = after.get(await deviceId(alice.page, 'veth-green-br', 'hostA'))!;
    expect(Math.hypot(after.get(green)!.x - bridgePort.x, after.get(green)!.y - bridgePort.y)).toBeLessThan(300);
    await expect.poll(() => boxes(alice.page).then(overlaps)).toEqual([]);
    expect(await allInView(alice.page)).toBe(true);
  });

  test('a late joiner sees the same picture', async () => {
    latecomer = await openLab(browser, await server.invite(lab.id, lab.token, 'viewer', 'Late'));
    await deviceId(latecomer.page, 'veth-green', 'hostA/green');
    expect(await places(latecomer.page)).toEqual(await places(alice.page));
  });

  test('down links and missing addresses look different; the drop mark stays clear of labels', async () => {
    await exec('hostA', 'ip link set veth-red-br down');
    await exec('hostA', 'sysctl -w net.ipv4.ip_forward=0');
    await exec('hostA', 'ip netns exec blue ping -c 1 -W 1 192.168.1.3');
    await expect.poll(async () => (await diagram(alice.page)).some((e) => e.id === 'drop-note'), { timeout: 5000 }).toBe(true);
    await screenshot(alice.page, 'diagram-drop');
    const nodes = await diagram(alice.page);
    expect(nodes.find((e) => e.data.label === 'veth-red-br')?.classes).toContain('down');
    expect(nodes.find((e) => String(e.data.label).startsWith('veth-green\n'))?.classes).toContain('noaddr');
    expect(overlaps(await boxes(alice.page))).toEqual([]);
  });

  test('from the keyboard: arrow keys move between host tabs, the fit button shows the whole diagram', async () => {
    const selected = () => alice.page.locator('.tab[aria-selected="true"]').textContent();
    await alice.page.locator('.tab[aria-selected="true"]').focus();
    await alice.page.keyboard.press('ArrowRight');
    expect([await selected(), await alice.page.evaluate('document.activeElement.dataset.host')]).toEqual(['hostB', 'hostB']);
    // The focus ring stands out on the dark tab bar as clearly as text would.
    expect(await contrast(alice.page, '.tab:focus-visible', 'outline')).toBeGreaterThanOrEqual(4.5);
    await alice.page.keyboard.press('ArrowLeft');
    await alice.page.keyboard.press('ArrowLeft');
    expect(await selected()).toBe('internet');
    await alice.page.keyboard.press('ArrowRight');
    await alice.page.keyboard.press('Enter');
    expect(await selected()).toBe('hostA');

    await alice.page.evaluate(`void ${CY}.zoom(3)`);
    expect(await allInView(alice.page)).toBe(false);
    await alice.page.locator('.fit-diagram').focus();
    await alice.page.keyboard.press('Enter');
    expect(await allInView(alice.page)).toBe(true);
    // The path shown again (it fades after a few seconds), then told in Korean.
    await alice.page.locator('.activity-item summary', { hasText: 'ip netns exec blue ping -c 1 -W 1 192.168.1.3' }).first().click();
    await alice.page.locator('.language select').selectOption('ko');
    expect(await alice.page.locator('.fit-diagram').textContent()).toBe('전체 보기');
    expect(await alice.page.locator('.path-note').textContent()).toBe(
      '패킷 경로 — ip netns exec blue ping -c 1 -W 1 192.168.1.3: hostA/blue veth-blue → hostA v-net-0 ✗ 버려진 곳: hostA v-net-0: not addressed to hostA, and it does not forward (net.ipv4.ip_forward is 0)',
    );
    await screenshot(alice.page, 'diagram-korean');
    await alice.page.locator('.language select').selectOption('en');
  });

  test('no page logged an error', () => {
    expect([...alice.errors, ...(latecomer?.errors ?? [])]).toEqual([]);
  });
});
