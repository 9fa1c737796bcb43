// A lab's timeline in the browser: Alice (owner) builds a cable over the
// HTTP API; Carol, a viewer, scrubs through the lab's history in her lab page,
// watches it follow Alice's new commands, and goes back to the live diagram.
import type { Browser, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type BrowserLab, diagram, type LabPage, type LabServer, openLab, screenshot, startBrowserLab, TIMELINE_DIAGRAM, waitForDiagram } from './harness';

let browserLab: BrowserLab | undefined;
let server: LabServer;
let browser: Browser;
let lab: { id: string; token: string; url: string };
let carol: LabPage;

const COMMANDS = ['ip netns add red', 'ip link add veth-host type veth peer name veth-red', 'ip link set veth-red netns red', 'ip addr add 10.0.0.1/24 dev veth-host', 'ip netns list'];

/** The timeline diagram's namespaces and devices (by label's first line, with their parent and classes), sorted. */
async function drawn(): Promise<string[]> {
  return (await diagram(carol.page, TIMELINE_DIAGRAM))
    .filter((element) => element.data.source === undefined && (element.classes.includes('ns') || element.classes.includes('device')))
    .map((element) => `${element.data.parent} ${String(element.data.label).replaceAll('\n', ' ')} [${element.classes.join(' ')}]`)
    .sort();
}

/** The timeline diagram's nodes on a packet path (by their id and the first line of their label), sorted. */
async function pathNodes(): Promise<string[]> {
  return (await diagram(carol.page, TIMELINE_DIAGRAM))
    .filter((element) => element.data.source === undefined && element.classes.includes('path'))
    .map((element) => `${element.data.parent ?? element.id} ${String(element.data.label).split('\n')[0]}`)
    .sort();
}

/** The timeline's commands as shown: line, status badge, output; the highlighted one marked. */
async function commands(): Promise<string[]> {
  return carol.page.locator('.timeline-commands .activity-item').evaluateAll((items) =>
    items.map((item) => {
      const text = (selector: string) => item.querySelector(selector)!.textContent;
      const current = (item as unknown as { classList: { contains(name: string): boolean } }).classList.contains('current');
      return `${current ? '> ' : ''}${text('.activity-line')} ${text('.activity-status')} ${JSON.stringify(text('.activity-output'))}`;
    }),
  );
}

/** The timeline requests Carol's page makes from now until `stop`, by their query. */
function timelineRequests(): { stop(): string[] } {
  const asked: string[] = [];
  const listen = (request: Request) => request.url().includes('/timeline') && asked.push(new URL(request.url()).search);
  carol.page.on('request', listen);
  return {
    stop: () => {
      carol.page.off('request', listen);
      return asked;
    },
  };
}

/** Waits until the timeline shows `step`. */
async function shown(step: number): Promise<void> {
  await carol.page.locator(`.timeline[data-step="${step}"]`).waitFor();
}

const START = [
  'host:gateway eth0 192.168.1.1/24 [device ether up]',
  'host:gateway eth1 203.0.113.2/24 [device ether up]',
  'host:hostA eth0 192.168.1.2/24 [device ether up]',
  'host:hostB eth0 192.168.1.3/24 [device ether up]',
  'host:internet eth0 203.0.113.1/24 [device ether up]',
  'host:internet lo 127.0.0.1/8 198.51.100.53/32 [device loopback up]',
];

beforeAll(async () => {
  browserLab = await startBrowserLab();
  ({ server, browser } = browserLab);
  lab = await server.createLab('Alice');
  for (const line of COMMANDS) await server.exec(lab.id, lab.token, 'hostA', line);
  carol = await openLab(browser, await server.invite(lab.id, lab.token, 'viewer', 'Carol'));
}, 60_000);

afterAll(() => browserLab?.stop());

describe('a lab’s timeline in the browser', { timeout: 30_000 }, () => {
  test('a viewer opens the timeline at the latest step: the whole topology and every command with its output', async () => {
    await carol.page.locator('.view-timeline').click();
    await shown(5);
    expect(await carol.page.locator('#topology').isVisible()).toBe(false);
    expect(await carol.page.locator('.timeline-position').textContent()).toBe('Step 5 of 5');
    expect(await carol.page.locator('.timeline-entry').textContent()).toBe('Alice · hostA$ ip netns list');
    expect(await drawn()).toEqual(
      [...START, 'host:hostA red [ns]', 'host:hostA veth-host 10.0.0.1/24 [device veth down]', 'ns:hostA/red veth-red no address [device veth down noaddr]'].sort(),
    );
    expect(await commands()).toEqual([
      'ip netns add red ✓ ""',
      'ip link add veth-host type veth peer name veth-red ✓ ""',
      'ip link set veth-red netns red ✓ ""',
      'ip addr add 10.0.0.1/24 dev veth-host ✓ ""',
      '> ip netns list ✓ "red (id: 0)\\n"',
    ]);
    expect(await carol.page.locator('.timeline-next').isDisabled()).toBe(true);
    await screenshot(carol.page, 'timeline-latest');
  });

  test('the keys and the step buttons scrub to any step: its diagram, its commands, its own highlighted', async () => {
    // The slider has the keyboard once the timeline opens.
    await carol.page.keyboard.press('Home');
    await shown(0);
    expect(await carol.page.locator('.timeline-entry').textContent()).toBe('The lab as created');
    expect(await drawn()).toEqual(START);
    expect(await carol.page.locator('.timeline-commands').textContent()).toBe('No commands yet.');
    expect(await carol.page.locator('.timeline-previous').isDisabled()).toBe(true);

    await carol.page.keyboard.press('ArrowRight');
    await shown(1);
    expect(await drawn()).toEqual([...START, 'host:hostA red [ns]'].sort());
    expect(await commands()).toEqual(['> ip netns add red ✓ ""']);

    await carol.page.locator('.timeline-next').click();
    await carol.page.locator('.timeline-next').click();
    await shown(3);
    expect(await carol.page.locator('.timeline-position').textContent()).toBe('Step 3 of 5');
    expect(await drawn()).toEqual(
      [...START, 'host:hostA red [ns]', 'host:hostA veth-host no address [device veth down noaddr]', 'ns:hostA/red veth-red no address [device veth down noaddr]'].sort(),
    );
    expect(await commands()).toEqual(['ip netns add red ✓ ""', 'ip link add veth-host type veth peer name veth-red ✓ ""', '> ip link set veth-red netns red ✓ ""']);
    await screenshot(carol.page, 'timeline-step-3');
  });

  test('scrubbing quickly asks only for the step the slider rests on', async () => {
    const asked = timelineRequests();
    await carol.page.evaluate(`(() => {
      const slider = document.querySelector('.timeline-slider');
      for (const value of ['4', '1', '5', '0', '2']) {
        slider.value = value;
        slider.dispatchEvent(new Event('input', { bubbles: true }));
      }
    })()`);
    await shown(2);
    await carol.page.waitForTimeout(300);
    expect(asked.stop()).toEqual(['?step=2']);
    expect(await commands()).toEqual(['ip netns add red ✓ ""', '> ip link add veth-host type veth peer name veth-red ✓ ""']);
  });

  test('back to live: the live diagram kept up meanwhile, and the timeline reopens at the new latest step', async () => {
    await server.exec(lab.id, lab.token, 'hostA', 'ip netns add blue');
    await carol.page.locator('.view-live').click();
    expect(await carol.page.locator('.timeline').isVisible()).toBe(false);
    expect(await carol.page.locator('#topology').isVisible()).toBe(true);
    await waitForDiagram(carol.page, 'ns:hostA/blue');

    await carol.page.locator('.view-timeline').click();
    await shown(6);
    expect(await drawn()).toContain('host:hostA blue [ns]');
    // Escape leaves the timeline too.
    await carol.page.keyboard.press('Escape');
    expect(await carol.page.locator('#topology').isVisible()).toBe(true);
    expect(await carol.page.locator('.view-live').getAttribute('aria-selected')).toBe('true');
  });

  test('the timeline speaks Korean', async () => {
    await carol.page.locator('.language select').selectOption('ko');
    await carol.page.locator('.view-timeline').click();
    await shown(6);
    expect(await carol.page.locator('.view-timeline').textContent()).toBe('타임라인');
    expect(await carol.page.locator('.timeline-position').textContent()).toBe('6단계 중 6단계');
    await carol.page.locator('.language select').selectOption('en');
    expect(await carol.page.locator('.timeline-position').textContent()).toBe('Step 6 of 6');
  });

  test('at the latest step the timeline follows the lab: a command run by someone else grows the slider and is shown', async () => {
    await shown(6);
    const asked = timelineRequests();
    await server.exec(lab.id, lab.token, 'hostA', 'ip netns add green');
    await shown(7);
    expect(await carol.page.locator('.timeline-slider').getAttribute('max')).toBe('7');
    expect(await carol.page.locator('.timeline-position').textContent()).toBe('Step 7 of 7');
    expect(await carol.page.locator('.timeline-entry').textContent()).toBe('Alice · hostA$ ip netns add green');
    expect(await drawn()).toContain('host:hostA green [ns]');
    expect(await carol.page.locator('.timeline-next').isDisabled()).toBe(true);
    expect(asked.stop()).toEqual(['']);
  });

  test('scrubbed back, the timeline stays at its step while a new command only grows the slider', async () => {
    await carol.page.locator('.timeline-previous').click();
    await carol.page.locator('.timeline-previous').click();
    await shown(5);
    const asked = timelineRequests();
    await server.exec(lab.id, lab.token, 'hostA', 'ip netns add yellow');
    await carol.page.locator('.timeline-slider[max="8"]').waitFor({ state: 'attached' });
    expect(await carol.page.locator('.timeline-position').textContent()).toBe('Step 5 of 8');
    expect(await carol.page.locator('.timeline-slider').inputValue()).toBe('5');
    expect(await carol.page.locator('.timeline-next').isDisabled()).toBe(false);
    await carol.page.waitForTimeout(300);
    expect(await carol.page.locator('.timeline').getAttribute('data-step')).toBe('5');
    expect(await carol.page.locator('.timeline-entry').textContent()).toBe('Alice · hostA$ ip netns list');
    expect(asked.stop()).toEqual([]);

    // Its end is the new latest step.
    await carol.page.locator('.timeline-slider').press('End');
    await shown(8);
    expect(await carol.page.locator('.timeline-entry').textContent()).toBe('Alice · hostA$ ip netns add yellow');
  });

  test('a step shows where its command’s packets went, as long as it is shown', async () => {
    const note = carol.page.locator('.timeline .path-note');
    await server.exec(lab.id, lab.token, 'hostA', 'ping -c 1 192.168.1.3');
    await shown(9);
    expect(await note.textContent()).toBe('Packets of ping -c 1 192.168.1.3: hostA eth0 → hostB eth0');
    expect(await pathNodes()).toEqual(['host:hostA eth0', 'host:hostB eth0', 'seg:lan lan']);
    await carol.page.locator('.timeline-previous').click();
    await shown(8);
    expect(await note.isVisible()).toBe(false);
    expect(await pathNodes()).toEqual([]);
    await carol.page.locator('.timeline-next').click();
    await shown(9);
    expect(await note.isVisible()).toBe(true);
    await screenshot(carol.page, 'timeline-packet-path');
  });

  test('no page logged an error', () => {
    expect(carol.errors).toEqual([]);
  });
});
