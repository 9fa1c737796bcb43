// A class in the browser: Kim (instructor) starts a class from seed-1-veth and
// watches the dashboard; Ada and Alan join with the code, each in their own
// browser context and lab.
import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type BrowserLab, diagramElement, type LabPage, type LabServer, newPerson, screenshot, startBrowserLab, terminalText, TIMELINE_DIAGRAM, typeLine, waitForDiagram } from './harness';

let browserLab: BrowserLab | undefined;
let server: LabServer;
let browser: Browser;
let kim: LabPage;
let ada: LabPage;
let alan: LabPage;
let joinCode: string;

/** A student's row on the dashboard. */
const row = (name: string) => kim.page.locator(`.class-table tr[data-members="${name}"]`);

const taskCell = (name: string, task: string) => row(name).locator(`.task-cell[data-task="${task}"]`);

/** A finished command in a lab page's activity feed. */
const activity = (page: Page, line: string) => page.locator('.activity-item:not(.running)', { has: page.locator('.activity-line', { hasText: line }) });

async function join(name: string, code: string): Promise<LabPage> {
  const person = await newPerson(browser);
  await person.page.goto(server.baseUrl);
  await person.page.locator('.join-class .join-code').fill(code);
  await person.page.locator('.join-class input.display-name').fill(name);
  await person.page.locator('.join-class button[type="submit"]').click();
  await person.page.locator('.status[data-state="connected"]').waitFor();
  await person.page.locator('.xterm-rows').first().waitFor();
  return person;
}

beforeAll(async () => {
  browserLab = await startBrowserLab();
  ({ server, browser } = browserLab);
  kim = await newPerson(browser);
}, 60_000);

afterAll(() => browserLab?.stop());

describe('a class in the browser', { timeout: 30_000 }, () => {
  test('Kim starts a class from the start page and lands on its dashboard', async () => {
    await kim.page.goto(server.baseUrl);
    await kim.page.locator('.start-class input.display-name').fill('Kim');
    await expect.poll(() => kim.page.locator('.class-template option').count()).toBeGreaterThan(1);
    await kim.page.locator('.class-template').selectOption('seed-1-veth');
    await screenshot(kim.page, 'class-start-page');
    await kim.page.locator('.start-class button[type="submit"]').click();
    await kim.page.locator('.status[data-state="connected"]').waitFor();
    expect(new URL(kim.page.url()).pathname).toMatch(/^\/classes\/[\w-]+$/);
    expect(await kim.page.locator('.lab-title').textContent()).toBe('Seed lesson 1: a cable between two namespaces');
    joinCode = (await kim.page.locator('.join-code-value').textContent())!;
    expect(joinCode).toMatch(/^[A-Z2-9]{6}$/);
    expect(await kim.page.locator('.no-students').textContent()).toBe('Nobody has joined yet: share the join code.');
    expect(await kim.page.locator('.instructions-text h1').textContent()).toBe('A cable between two namespaces');
    expect(await kim.page.locator('.class-table thead .task-heading').evaluateAll((cells) => cells.map((cell) => (cell as { title: string }).title))).toEqual([
      'Create the red and blue namespaces',
      'Put one end of a veth pair in each namespace',
      'Address both ends on 192.168.15.0/24',
      'Bring the cable up and ping across',
    ]);
  });

  test('two students join with the code, typed loosely, and appear on the dashboard', async () => {
    ada = await join('Ada', `${joinCode.slice(0, 3).toLowerCase()}-${joinCode.slice(3)}`);
    alan = await join('Alan', joinCode);
    await expect.poll(() => kim.page.locator('.class-table tbody tr').evaluateAll((rows) => rows.map((r) => (r as { dataset: { members: string } }).dataset.members))).toEqual(['Ada', 'Alan']);
    expect(await ada.page.locator('.role').textContent()).toBe('Ada · editor');
    expect(await ada.page.locator('.lesson-pane .task').count()).toBe(4);
    await ada.page.locator('.instructions summary').click();
    expect(await ada.page.locator('.instructions-text h1').textContent()).toBe('A cable between two namespaces');
  });

  test('Ada creates the namespaces: the dashboard marks her first task done, not Alan’s', async () => {
    await typeLine(ada.page, 'ip netns add red');
    await typeLine(ada.page, 'ip netns add blue');
    await taskCell('Ada', 'namespaces').and(kim.page.locator('.done')).waitFor();
    expect(await taskCell('Alan', 'namespaces').getAttribute('class')).toBe('task-cell todo');
    expect(await taskCell('Ada', 'cable').getAttribute('class')).toBe('task-cell todo');
    expect(await row('Ada').locator('.tasks-done').textContent()).toBe('1/4');
    expect(await row('Ada').locator('.last-command').textContent()).toBe('hostA$ ip netns add blue');
    await ada.page.locator('.lesson-pane .task.done[data-task="namespaces"]').waitFor();
    expect(await ada.page.locator('.lesson-pane .task-hint').allTextContents()).toEqual(['ip link add veth-red type veth peer name veth-blue, then ip link set veth-red netns red.']);

    // Sorting by progress puts Ada first; by name, Ada then Alan.
    await kim.page.locator('.class-table .sort', { hasText: 'Tasks done' }).click();
    expect(await kim.page.locator('.class-table tbody tr').first().getAttribute('data-members')).toBe('Ada');
    await screenshot(kim.page, 'class-dashboard');
    await screenshot(ada.page, 'class-student');
  });

  test('Kim injects a fault into Ada’s lab, choosing among its hosts and devices: her feed and diagram show it', async () => {
    const options = (field: string) => kim.page.locator(`.fault-dialog .fault-${field} option`).allTextContents();
    await row('Ada').locator('.inject-fault').click();
    await expect.poll(() => options('host')).toEqual(['hostA', 'hostB', 'gateway', 'internet']);
    expect(await options('ns')).toEqual(['(the host itself)', 'blue', 'red']);
    await kim.page.locator('.fault-kind').selectOption('link_down');
    expect(await kim.page.locator('.fault-device').isVisible()).toBe(true);
    expect(await kim.page.locator('.fault-address').isVisible()).toBe(false);
    expect(await options('device')).toEqual(['lo', 'eth0']);
    await kim.page.locator('.fault-ns').selectOption('red');
    expect(await options('device')).toEqual(['lo']);

    await kim.page.locator('.fault-kind').selectOption('nat_removed');
    expect(await options('rule')).toEqual(['none here']);
    expect(await kim.page.locator('.fault-dialog .inject').isDisabled()).toBe(true);
    await kim.page.locator('.fault-host').selectOption('gateway');
    expect(await options('ns')).toEqual(['(the host itself)']);
    expect(await options('rule')).toEqual(['1: -o eth1 -j MASQUERADE']);
    await kim.page.locator('.fault-kind').selectOption('route_removed');
    expect(await options('to')).toEqual(['default', '192.168.1.0/24', '203.0.113.0/24']);

    await kim.page.locator('.fault-kind').selectOption('link_down');
    await kim.page.locator('.fault-host').selectOption('hostA');
    expect(await kim.page.locator('.fault-ns').inputValue()).toBe('');
    await kim.page.locator('.fault-device').selectOption('eth0');
    await screenshot(kim.page, 'class-fault-dialog');
    await kim.page.locator('.fault-dialog .inject').click();
    await kim.page.locator('.fault-dialog').waitFor({ state: 'hidden' });
    const entry = activity(ada.page, 'ip link set eth0 down');
    await entry.waitFor();
    expect(await entry.locator('.activity-who').textContent()).toBe('instructor');
    await expect.poll(async () => (await diagramElement(ada.page, 'dev:hostA#2'))?.classes).toContain('down');
    expect(await activity(alan.page, 'ip link set eth0 down').count()).toBe(0);
  });

  test('Kim opens Ada’s lab in a new tab and types: Ada sees that the instructor is there and typing, until Kim leaves', async () => {
    const banner = ada.page.locator('.instructor-banner');
    expect(await banner.isHidden()).toBe(true);
    const opened = kim.page.context().waitForEvent('page');
    await row('Ada').locator('.open-lab').click();
    const tab = await opened;
    await tab.locator('.status[data-state="connected"]').waitFor();
    expect(await tab.locator('.role').textContent()).toBe('Kim · owner');
    await waitForDiagram(tab, 'ns:hostA/red');
    await expect.poll(() => banner.textContent()).toBe('Instructor Kim is in your lab');
    expect(await banner.isVisible()).toBe(true);

    await tab.locator('.shell:not([hidden]) .xterm').click();
    await tab.keyboard.type('ip netns list');
    await expect.poll(() => banner.textContent()).toBe('Instructor Kim is typing in your lab');
    await screenshot(ada.page, 'class-student-instructor-typing');
    await tab.keyboard.press('Enter');
    await activity(ada.page, 'ip netns list').waitFor();
    expect(await activity(ada.page, 'ip netns list').locator('.activity-who').textContent()).toBe('Kim');
    // Typing ends 1.5 s after the last key; the instructor is still there.
    await expect.poll(() => banner.textContent(), { timeout: 5000 }).toBe('Instructor Kim is in your lab');
    // Kim's own page shows no banner about Kim.
    expect(await tab.locator('.instructor-banner').isHidden()).toBe(true);

    await tab.close();
    await banner.waitFor({ state: 'hidden' });
    expect(await banner.textContent()).toBe('');
  });

  test('Kim’s messages reach everyone, or only the student they are for', async () => {
    await kim.page.locator('.message-text').fill('Five minutes left');
    await kim.page.locator('.send-message').click();
    for (const student of [ada, alan]) await student.page.locator('.toast', { hasText: 'Five minutes left' }).waitFor();
    expect(await ada.page.locator('.toast .toast-from').textContent()).toBe('Message from Kim');
    await screenshot(ada.page, 'class-student-message');

    await kim.page.locator('.message-to').selectOption({ label: 'Alan' });
    await kim.page.locator('.message-text').fill('Alan, look at the cable');
    await kim.page.locator('.send-message').click();
    await alan.page.locator('.toast', { hasText: 'Alan, look at the cable' }).waitFor();
    // Alan's message reaching him first says Ada's would have arrived by now.
    expect(await ada.page.locator('.toast').count()).toBe(1);
    await ada.page.locator('.toast-dismiss').click();
    expect(await ada.page.locator('.toast').count()).toBe(0);
  });

  test('Kim resets Alan’s lab: his page moves to the new lab by itself', async () => {
    await typeLine(alan.page, 'ip netns add mine');
    await waitForDiagram(alan.page, 'ns:hostA/mine');
    const oldPath = new URL(alan.page.url()).pathname;
    await row('Alan').locator('.reset-lab').click();
    await kim.page.locator('.reset-dialog .timeline[data-step="1"]').waitFor();
    expect(await kim.page.locator('.reset-dialog .reset-target').textContent()).toBe('Alan');
    let question = '';
    kim.page.once('dialog', (dialog) => {
      question = dialog.message();
      void dialog.accept();
    });
    await kim.page.locator('.reset-dialog .reset-template').click();
    await kim.page.locator('.reset-dialog').waitFor({ state: 'hidden' });
    expect(question).toBe('Reset this lab to the template? The work in it is lost.\nAlan');
    await alan.page.waitForURL((url) => url.pathname !== oldPath);
    await alan.page.locator('.status[data-state="connected"]').waitFor();
    await waitForDiagram(alan.page, 'dev:hostA#2');
    expect(await diagramElement(alan.page, 'ns:hostA/mine')).toBeNull();
    await expect.poll(() => row('Alan').getAttribute('data-lab')).toBe(new URL(alan.page.url()).pathname.split('/')[2]);
  });

  test('Kim scrubs Ada’s timeline and resets her lab to step 2: before the fault, exactly as it was then', async () => {
    const labOf = (page: Page) => ({ id: new URL(page.url()).pathname.split('/')[2]!, token: new URLSearchParams(new URL(page.url()).hash.slice(1)).get('token')! });
    const timelineOf = async ({ id, token }: { id: string; token: string }, step = '') =>
      (await fetch(`${server.baseUrl}/api/labs/${id}/timeline${step}`, { headers: { authorization: `Bearer ${token}` } })).json() as Promise<Record<string, unknown>>;
    const old = labOf(ada.page);
    const stepTwo = await timelineOf(old, '?step=2');

    await row('Ada').locator('.reset-lab').click();
    const dialog = kim.page.locator('.reset-dialog');
    // Ada's two namespaces, Kim's fault, then what Kim typed in her lab.
    await dialog.locator('.timeline[data-step="4"]').waitFor();
    expect(await dialog.locator('.timeline-entry').textContent()).toBe('Kim · hostA$ ip netns list');
    await dialog.locator('.timeline-previous').click();
    await dialog.locator('.timeline[data-step="3"]').waitFor();
    expect(await dialog.locator('.timeline-entry').textContent()).toBe('instructor · hostA$ ip link set eth0 down');
    expect(await diagramElement(kim.page, 'dev:hostA#2', TIMELINE_DIAGRAM)).toMatchObject({ classes: expect.arrayContaining(['down']) });
    await dialog.locator('.timeline-previous').click();
    await dialog.locator('.timeline[data-step="2"]').waitFor();
    expect(await dialog.locator('.timeline-commands .activity-line').allTextContents()).toEqual(['ip netns add red', 'ip netns add blue']);
    expect(await dialog.locator('.timeline-commands .current .activity-line').textContent()).toBe('ip netns add blue');
    expect(await diagramElement(kim.page, 'ns:hostA/blue', TIMELINE_DIAGRAM)).toMatchObject({ data: { label: 'blue', parent: 'host:hostA' } });
    expect((await diagramElement(kim.page, 'dev:hostA#2', TIMELINE_DIAGRAM))?.classes).not.toContain('down');
    expect(await dialog.locator('.reset-step').textContent()).toBe('Reset to step 2');
    await screenshot(kim.page, 'class-reset-timeline');

    let question = '';
    kim.page.once('dialog', (confirm) => {
      question = confirm.message();
      void confirm.accept();
    });
    await dialog.locator('.reset-step').click();
    await dialog.waitFor({ state: 'hidden' });
    expect(question).toBe('Reset this lab to step 2 of its timeline? The work after it is lost.\nAda');
    await ada.page.waitForURL((url) => url.pathname !== `/labs/${old.id}`);
    await ada.page.locator('.status[data-state="connected"]').waitFor();
    await waitForDiagram(ada.page, 'ns:hostA/blue');
    expect((await diagramElement(ada.page, 'dev:hostA#2'))?.classes).not.toContain('down');
    // Ada's new lab is the old one's step 2: its whole history, topology, outputs and clock.
    expect(await timelineOf(labOf(ada.page))).toEqual({ ...stepTwo, steps: 2 });
    await expect.poll(() => row('Ada').getAttribute('data-lab')).toBe(labOf(ada.page).id);
  });

  test('Kim locks the class: students see it, and their commands are refused', async () => {
    await kim.page.locator('.lock-class').click();
    await kim.page.locator('.locked-badge').waitFor();
    expect(await kim.page.locator('.lock-class').textContent()).toBe('Unlock class');
    for (const student of [ada, alan]) await student.page.locator('.class-state.locked').waitFor();
    expect(await ada.page.locator('.class-state').textContent()).toBe('Class locked: read-only');
    await typeLine(ada.page, 'ip netns add green');
    await expect
      .poll(() => terminalText(ada.page))
      .toMatch(/root@hostA:~# ip netns add green\nnslab: the class is locked: the instructor has ended it, and its labs are read-only\nroot@hostA:~#$/);
    expect(await diagramElement(ada.page, 'ns:hostA/green')).toBeNull();
    await screenshot(ada.page, 'class-student-locked');
  });

  test('Kim exports the results as CSV', async () => {
    const download = kim.page.waitForEvent('download');
    await kim.page.locator('.export-csv').click();
    const file = await download;
    expect(file.suggestedFilename()).toMatch(/^class-[\w-]+\.csv$/);
    const lines = readFileSync((await file.path())!, 'utf8').trimEnd().split('\r\n');
    expect(lines[0]).toBe('member,name,group,lab,joined,tasks done,task namespaces,task cable,task addresses,task ping,checks passed,commands,errors in a row,last command,stuck');
    expect(lines.slice(1).map((line) => line.split(',').slice(1, 2).concat(line.split(',').slice(5, 7)))).toEqual([
      ['Ada', '1/4', 'done'],
      ['Alan', '0/4', ''],
    ]);
  });

  test('in a laptop’s narrow window the dashboard keeps every row’s lab buttons in view, the instructions below the students', async () => {
    await kim.page.setViewportSize({ width: 900, height: 700 });
    const box = async (selector: string) => (await kim.page.locator(selector).first().boundingBox())!;
    const students = await box('.students');
    for (const button of await kim.page.locator('.class-table .lab-actions button').all()) {
      const at = (await button.boundingBox())!;
      expect(at.x + at.width).toBeLessThanOrEqual(students.x + students.width);
    }
    expect(await kim.page.evaluate('document.querySelector(".students").scrollWidth <= document.querySelector(".students").clientWidth')).toBe(true);
    expect((await box('.instructions-pane')).y).toBeGreaterThan(students.y + students.height);
    await screenshot(kim.page, 'class-dashboard-narrow');
    await kim.page.setViewportSize({ width: 1280, height: 800 });
  });

  test('Kim gives out a new join code, then revokes it', async () => {
    await kim.page.locator('.rotate-code').click();
    await expect.poll(() => kim.page.locator('.join-code-value').textContent()).not.toBe(joinCode);
    expect(await kim.page.locator('.join-code-value').textContent()).toMatch(/^[A-Z2-9]{6}$/);
    await kim.page.locator('.revoke-code').click();
    await expect.poll(() => kim.page.locator('.join-code-value').textContent()).toBe('No join code: nobody can join.');
    expect(await kim.page.locator('.copy-code').isDisabled()).toBe(true);
  });

  test('the dashboard switches to Korean', async () => {
    await kim.page.locator('.language select').selectOption('ko');
    expect(await kim.page.locator('.status').textContent()).toBe('실시간');
    expect(await kim.page.locator('.students h2').textContent()).toBe('학생');
    expect(await kim.page.locator('.lock-class').textContent()).toBe('수업 잠금 해제');
    expect(await kim.page.locator('.instructions-text h1').textContent()).toBe('두 네임스페이스를 케이블로 잇기');
    await screenshot(kim.page, 'class-dashboard-korean');
    await kim.page.locator('.language select').selectOption('en');
  });

  test('in a group class the driver types, the navigator is told who drives, and the driver hands over; the instructor makes anyone the driver, from the dashboard or the group’s lab page; a token for another lab is refused for good', { timeout: 60_000 }, async () => {
    const post = async <T>(path: string, body: object): Promise<T> => {
      const response = await fetch(server.baseUrl + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(response.status).toBe(201);
      return (await response.json()) as T;
    };
    type Joined = { class: string; token: string; lab: { id: string; token: string } };
    const created = await post<{ url: string; joinCode: { code: string } }>('/api/classes', { template: 'seed-1-veth', mode: 'group', groupSize: 2 });
    const open = async (lab: string, joined: Joined) => {
      const person = await newPerson(browser);
      await person.page.goto(`${server.baseUrl}/labs/${lab}#${new URLSearchParams({ token: joined.lab.token, class: joined.class, classToken: joined.token })}`);
      return person;
    };
    const bea = await post<Joined>('/api/classes/join', { code: created.joinCode.code, name: 'Bea' });
    const cal = await post<Joined>('/api/classes/join', { code: created.joinCode.code, name: 'Cal' });
    expect(cal.lab.id).toBe(bea.lab.id);
    const driver = await open(bea.lab.id, bea);
    const navigator = await open(cal.lab.id, cal);
    await expect.poll(() => driver.page.locator('.class-state').textContent()).toBe('Driver: you type');
    await expect.poll(() => navigator.page.locator('.class-state').textContent()).toBe('Navigator: Bea drives');
    await screenshot(navigator.page, 'class-navigator');

    // The navigator's terminal says who drives; only the driver may hand over.
    const notice = (person: LabPage) => person.page.locator('.navigator-notice');
    const handOvers = (person: LabPage) => person.page.locator('.hand-over-to').allTextContents();
    expect(await notice(navigator).textContent()).toBe('You are navigating: Bea drives this lab. Point at devices in the diagram for everyone to see, or ask Bea to hand over.');
    expect(await notice(driver).isHidden()).toBe(true);
    expect(await handOvers(driver)).toEqual(['Hand over to Cal']);
    expect(await handOvers(navigator)).toEqual([]);
    await screenshot(driver.page, 'class-driver');

    // Bea hands over: both pages change without a reload, and the rules follow.
    await driver.page.locator('.hand-over-to').click();
    await expect.poll(() => navigator.page.locator('.class-state').textContent()).toBe('Driver: you type');
    await expect.poll(() => driver.page.locator('.class-state').textContent()).toBe('Navigator: Cal drives');
    expect(await notice(navigator).isHidden()).toBe(true);
    expect(await notice(driver).textContent()).toBe('You are navigating: Cal drives this lab. Point at devices in the diagram for everyone to see, or ask Cal to hand over.');
    expect(await handOvers(navigator)).toEqual(['Hand over to Bea']);
    expect(await handOvers(driver)).toEqual([]);
    await typeLine(navigator.page, 'ip netns add red');
    await waitForDiagram(driver.page, 'ns:hostA/red');
    await typeLine(driver.page, 'ip netns add blue');
    // The refusal is wider than the terminal, which wraps it: rows are compared joined.
    await expect
      .poll(async () => (await terminalText(driver.page)).replaceAll('\n', ''))
      .toMatch(/root@hostA:~# ip netns add bluenslab: you are navigating: Cal drives this lab; point at devices, or ask the driver to hand overroot@hostA:~#$/);
    expect(await diagramElement(driver.page, 'ns:hostA/blue')).toBeNull();
    await screenshot(driver.page, 'class-handed-over');

    // The instructor makes Bea the driver again from the dashboard's row of the group.
    const instructor = await newPerson(browser);
    await instructor.page.goto(created.url);
    await instructor.page.locator('.status[data-state="connected"]').waitFor();
    const makeDriver = instructor.page.locator('.class-table tr[data-members="Bea, Cal"] .make-driver');
    expect(await makeDriver.evaluateAll((buttons) => buttons.map((b) => (b as { ariaLabel: string }).ariaLabel))).toEqual(['Make Bea the driver']);
    await screenshot(instructor.page, 'class-dashboard-group');
    await makeDriver.click();
    await expect.poll(() => driver.page.locator('.class-state').textContent()).toBe('Driver: you type');
    await expect.poll(() => navigator.page.locator('.class-state').textContent()).toBe('Navigator: Bea drives');
    await expect.poll(() => makeDriver.evaluateAll((buttons) => buttons.map((b) => (b as { ariaLabel: string }).ariaLabel))).toEqual(['Make Cal the driver']);

    // The instructor opens the group's lab from the dashboard and makes Cal the driver from its header.
    const opened = instructor.page.context().waitForEvent('page');
    await instructor.page.locator('.class-table tr[data-members="Bea, Cal"] .open-lab').click();
    const labTab = await opened;
    const labTabErrors: string[] = [];
    labTab.on('console', (message) => message.type() === 'error' && labTabErrors.push(message.text()));
    labTab.on('pageerror', (error) => labTabErrors.push(error.message));
    await labTab.locator('.status[data-state="connected"]').waitFor();
    await expect.poll(() => labTab.locator('.class-state').textContent()).toBe('Driver: Bea');
    expect(await labTab.locator('.hand-over-to').allTextContents()).toEqual(['Make Cal the driver']);
    await screenshot(labTab, 'class-instructor-lab-hand-over');
    await labTab.locator('.hand-over-to').click();
    await expect.poll(() => navigator.page.locator('.class-state').textContent()).toBe('Driver: you type');
    await expect.poll(() => driver.page.locator('.class-state').textContent()).toBe('Navigator: Cal drives');
    await expect.poll(() => labTab.locator('.class-state').textContent()).toBe('Driver: Cal');
    expect(await labTab.locator('.hand-over-to').allTextContents()).toEqual(['Make Bea the driver']);
    expect(await handOvers(navigator)).toEqual(['Hand over to Bea']);
    expect(await handOvers(driver)).toEqual([]);
    await expect.poll(() => makeDriver.evaluateAll((buttons) => buttons.map((b) => (b as { ariaLabel: string }).ariaLabel))).toEqual(['Make Bea the driver']);
    await labTab.locator('.language select').selectOption('ko');
    expect(await labTab.locator('.hand-over-to').allTextContents()).toEqual(['Bea 님을 운전자로 지정']);
    await labTab.locator('.language select').selectOption('en');

    // Cal's lab token opened on Ada's lab: closed with 4403, shown, and not tried again.
    const intruder = await open((await row('Ada').getAttribute('data-lab'))!, cal);
    await intruder.page.locator('.status[data-state="closed"]').waitFor();
    expect(await intruder.page.locator('.status').textContent()).toBe('The server refused the connection: this token is for another lab');
    const sockets: string[] = [];
    intruder.page.on('websocket', (socket) => sockets.push(socket.url()));
    await intruder.page.waitForTimeout(1500);
    expect(sockets).toEqual([]);
    expect([...driver.errors, ...navigator.errors, ...instructor.errors, ...labTabErrors]).toEqual([]);
    for (const person of [driver, navigator, intruder, instructor]) await person.page.context().close();
  });

  test('no page logged an error', () => {
    expect([...kim.errors, ...ada.errors, ...alan.errors]).toEqual([]);
  });
});
