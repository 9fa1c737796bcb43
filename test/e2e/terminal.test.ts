// The terminal as a student uses it on a laptop: pasting a block of commands,
// typing ahead of a slow one, copying with the keys the rest of the page uses,
// moving by words, and getting out of it with the keyboard alone.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type BrowserLab, contrast, type LabPage, newPerson, openLab, screenshot, startBrowserLab, terminalText, typeLine } from './harness';

let browserLab: BrowserLab | undefined;
let alice: LabPage;
let lab: { id: string; token: string; url: string };

const clipboard = (page: Page) => page.evaluate('navigator.clipboard.readText()') as Promise<string>;
/** The middle of a word shown in the visible terminal, in CSS pixels. */
async function wordOnScreen(page: Page, word: string): Promise<{ x: number; y: number }> {
  return (await page.evaluate(`(() => {
    const walker = document.createTreeWalker(document.querySelector('.shell:not([hidden]) .xterm-rows'), NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const at = node.data.indexOf(${JSON.stringify(word)});
      if (at < 0) continue;
      const range = document.createRange();
      range.setStart(node, at);
      range.setEnd(node, at + ${word.length});
      const box = range.getBoundingClientRect();
      return { x: box.left + box.width / 2, y: box.top + box.height / 2 };
    }
    return null;
  })()`))!;
}

/** The text of the cursor's row before the cursor, in the visible terminal. */
async function beforeCursor(page: Page): Promise<string> {
  return (await page.evaluate(`(() => {
    const cursor = document.querySelector('.shell:not([hidden]) .xterm-rows .xterm-cursor');
    const range = document.createRange();
    range.setStart(cursor.parentElement, 0);
    range.setEndBefore(cursor);
    return range.toString().replace(/\\u00a0/g, ' ');
  })()`)) as string;
}

const focused = (page: Page) => page.evaluate('document.activeElement.matches(".shell:not([hidden]) .xterm-helper-textarea")') as Promise<boolean>;

beforeAll(async () => {
  browserLab = await startBrowserLab();
  lab = await browserLab.server.createLab('Alice');
  alice = await openLab(browserLab.browser, lab.url);
  await alice.page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: browserLab.server.baseUrl });
}, 60_000);

afterAll(() => browserLab?.stop());

describe('the terminal', { timeout: 30_000 }, () => {
  test('Ctrl+V pastes a block of commands: each line runs after the one before, the last unfinished line waits on the prompt', async () => {
    const { page } = alice;
    await page.locator('.shell:not([hidden]) .xterm').click();
    await page.evaluate(`navigator.clipboard.writeText('ip netns add red\\nip netns add blue\\nip netns\\nip netns del')`);
    await page.keyboard.press('Control+V');
    await expect
      .poll(() => terminalText(page))
      .toBe(['root@hostA:~# ip netns add red', 'root@hostA:~# ip netns add blue', 'root@hostA:~# ip netns', 'blue', 'red', 'root@hostA:~# ip netns del'].join('\n'));
    await page.keyboard.press('Control+U');
    await page.keyboard.press('Control+L');
    // Tabs in pasted text separate words.
    await page.evaluate(`navigator.clipboard.writeText('ip\\tnetns\\tlist\\n')`);
    await page.keyboard.press('Control+V');
    await expect.poll(() => terminalText(page)).toBe(['root@hostA:~# ip netns list', 'blue', 'red', 'root@hostA:~#'].join('\n'));
    await page.keyboard.press('Control+L');
  });

  test('what is typed while a command runs is kept for the next prompt', async () => {
    const { page } = alice;
    await typeLine(page, 'sleep 1');
    await page.keyboard.type('ip netns add green');
    await page.keyboard.press('Enter');
    await page.keyboard.type('ip net');
    await expect.poll(() => terminalText(page), { timeout: 5000 }).toBe(['root@hostA:~# sleep 1', 'root@hostA:~# ip netns add green', 'root@hostA:~# ip net'].join('\n'));
    // Ctrl+C throws away what was typed ahead, as a terminal flushes its input.
    await page.keyboard.press('Control+U');
    await page.keyboard.press('Control+L');
    await typeLine(page, 'sleep 1');
    await page.keyboard.type('ip netns add never');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Control+C');
    await typeLine(page, 'ip netns');
    await expect.poll(() => terminalText(page)).toBe(['root@hostA:~# sleep 1', '^C', 'root@hostA:~# ip netns', 'green', 'blue', 'red', 'root@hostA:~#'].join('\n'));
    await page.keyboard.press('Control+L');
  });

  test('Ctrl+C copies the selected text and interrupts nothing; Ctrl+← and Ctrl+→ move by words', async () => {
    const { page } = alice;
    await page.keyboard.type('ip link show dev');
    await page.keyboard.press('Control+ArrowLeft');
    await page.keyboard.press('Control+ArrowLeft');
    await page.keyboard.type('x');
    await page.keyboard.press('Control+ArrowRight');
    await page.keyboard.type('y');
    await expect.poll(() => terminalText(page)).toBe('root@hostA:~# ip link xshowy dev');

    await page.evaluate(`navigator.clipboard.writeText('')`);
    // A double click selects the word under the pointer.
    const word = await wordOnScreen(page, 'xshowy');
    await page.mouse.dblclick(word.x, word.y);
    await page.keyboard.press('Control+C');
    await expect.poll(() => clipboard(page)).toBe('xshowy');
    expect(await terminalText(page)).toBe('root@hostA:~# ip link xshowy dev');
    expect(await focused(page)).toBe(true);
    // The selection is gone once copied: Ctrl+C again interrupts.
    await page.keyboard.press('Control+C');
    await expect.poll(() => terminalText(page)).toBe('root@hostA:~# ip link xshowy dev^C\nroot@hostA:~#');
    expect(await clipboard(page)).toBe('xshowy');
    await page.keyboard.press('Control+E');
    await page.keyboard.press('Control+U');
  });

  test('a line longer than the terminal is wide stays whole on its rows while it is edited, recalled and run', async () => {
    const { page } = alice;
    await page.setViewportSize({ width: 900, height: 700 });
    await page.locator('.shell:not([hidden]) .xterm').click();
    await page.keyboard.press('Control+L');
    // As many cells as the first row holds of a line without spaces.
    await page.keyboard.type('x'.repeat(200));
    const cols = (await terminalText(page)).split('\n')[0]!.length;
    await page.keyboard.press('Control+U');
    const line = 'echo a line typed in a narrow window, longer than the terminal is wide, wraps';
    expect(cols).toBeLessThan(`root@hostA:~# ${line}`.length);
    await page.keyboard.type(line);
    /** The rows a text takes in a terminal this wide. */
    const rows = (...texts: string[]) => texts.flatMap((text) => text.match(new RegExp(`.{1,${cols}}`, 'g'))!.map((row) => row.trimEnd())).join('\n');
    await expect.poll(() => terminalText(page)).toBe(rows(`root@hostA:~# ${line}`));
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('Home');
    await page.keyboard.type('X');
    await expect.poll(() => terminalText(page)).toBe(rows(`root@hostA:~# X${line}`));
    await page.keyboard.press('Backspace');
    await page.keyboard.press('Enter');
    await expect.poll(() => terminalText(page)).toBe(rows(`root@hostA:~# ${line}`, line.slice(5), 'root@hostA:~#'));
    // A line that ends on the row's last cell: the next edit starts from the right row.
    const full = 'y'.repeat(cols - 'root@hostA:~# '.length);
    await page.keyboard.type(full);
    await page.keyboard.press('Backspace');
    await page.keyboard.type('z');
    await expect.poll(() => terminalText(page)).toBe(rows(`root@hostA:~# ${line}`, line.slice(5), `root@hostA:~# ${full.slice(1)}z`));
    await page.keyboard.press('Control+U');

    await page.keyboard.press('Control+L');
    await page.keyboard.press('ArrowUp');
    await expect.poll(() => terminalText(page)).toBe(rows(`root@hostA:~# ${line}`));
    await page.keyboard.press('ArrowDown');
    await expect.poll(() => terminalText(page)).toBe('root@hostA:~#');
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('Control+W');
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Control+K');
    await expect.poll(() => terminalText(page)).toBe('root@hostA:~#');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  test('Hangul takes two cells: edits in a line with it leave the cursor on the right character', async () => {
    const { page } = alice;
    await page.keyboard.type('echo 가나다 ok');
    for (let i = 0; i < 6; i++) await page.keyboard.press('ArrowLeft');
    await page.keyboard.type('X');
    await expect.poll(() => terminalText(page)).toBe('root@hostA:~# echo X가나다 ok');
    await expect.poll(() => beforeCursor(page)).toBe('root@hostA:~# echo X');
    await page.keyboard.press('End');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    await expect.poll(() => beforeCursor(page)).toBe('root@hostA:~# echo X가나다');
    await page.keyboard.press('Control+E');
    await page.keyboard.press('Control+U');
  });

  test('Ctrl+D leaves a namespace’s shell on an empty line, and otherwise deletes under the cursor', async () => {
    const { page } = alice;
    await page.keyboard.press('Control+L');
    await typeLine(page, 'ip netns exec green bash');
    await expect.poll(() => terminalText(page)).toBe('root@hostA:~# ip netns exec green bash\n(green) root@hostA:~#');
    await page.keyboard.type('ip link');
    await page.keyboard.press('Home');
    await page.keyboard.press('Control+D');
    await expect.poll(() => terminalText(page)).toBe('root@hostA:~# ip netns exec green bash\n(green) root@hostA:~# p link');
    await page.keyboard.press('Control+K');
    await page.keyboard.press('Control+D');
    await expect.poll(() => terminalText(page)).toBe('root@hostA:~# ip netns exec green bash\n(green) root@hostA:~# exit\nroot@hostA:~#');
    // On the host's own shell there is nothing to leave.
    await page.keyboard.press('Control+D');
    await page.keyboard.type('ip netns');
    await expect.poll(() => terminalText(page)).toBe('root@hostA:~# ip netns exec green bash\n(green) root@hostA:~# exit\nroot@hostA:~# ip netns');
    await page.keyboard.press('Control+U');
    await page.keyboard.press('Control+L');
  });

  test('clear and history are answered by the terminal itself, as by a shell', async () => {
    const { page } = alice;
    // Tall enough for the whole history.
    await page.setViewportSize({ width: 1280, height: 1000 });
    await typeLine(page, 'ip netns');
    await typeLine(page, 'clear');
    await expect.poll(() => terminalText(page)).toBe('root@hostA:~#');
    await typeLine(page, 'history');
    const entered = [
      'ip netns add red',
      'ip netns add blue',
      'ip netns',
      'ip netns list',
      'sleep 1',
      'ip netns add green',
      'sleep 1',
      'ip netns',
      'echo a line typed in a narrow window, longer than the terminal is wide, wraps',
      'ip netns exec green bash',
      'exit',
      'ip netns',
      'clear',
      'history',
    ];
    await expect.poll(() => terminalText(page)).toBe(['root@hostA:~# history', ...entered.map((line, i) => `${String(i + 1).padStart(5)}  ${line}`), 'root@hostA:~#'].join('\n'));
    await page.keyboard.press('Control+L');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  test('the keyboard leaves the terminal with Shift+Tab, or Escape then Tab; Tab alone completes', async () => {
    const { page } = alice;
    const input = page.locator('.shell:not([hidden]) .xterm-helper-textarea');
    expect(await input.getAttribute('aria-label')).toBe('Terminal on hostA');
    const keys = await input.getAttribute('aria-describedby');
    expect(await page.locator(`#${keys}`).textContent()).toBe('Tab completes the line. Shift+Tab, or Escape then Tab, leaves the terminal.');

    await page.keyboard.type('ip netns exec gr');
    await page.keyboard.press('Tab');
    await expect.poll(() => terminalText(page)).toBe('root@hostA:~# ip netns exec green');
    expect(await focused(page)).toBe(true);
    await page.keyboard.press('Control+U');

    await page.keyboard.press('Shift+Tab');
    expect(await page.evaluate('document.activeElement.matches(".tab[aria-selected=true]")')).toBe(true);
    await page.keyboard.press('Tab');
    expect(await focused(page)).toBe(true);
    await page.keyboard.press('Escape');
    await page.keyboard.press('Tab');
    // Next after the terminal: the newest command in the activity feed.
    expect(await page.evaluate('document.activeElement.matches(".activity-pane .activity-item:first-child summary")')).toBe(true);
    expect(await terminalText(page)).toBe('root@hostA:~#');

    await page.locator('.language select').selectOption('ko');
    expect(await input.getAttribute('aria-label')).toBe('hostA 터미널');
    await page.locator('.language select').selectOption('en');
  });

  test('when the lab is deleted the terminal says so and takes no more commands; opened again, the page says why and links back', async () => {
    const { page } = alice;
    await page.locator('.shell:not([hidden]) .xterm').click();
    await page.keyboard.type('ip netns add late');
    const deleted = await fetch(`${browserLab!.server.baseUrl}/api/labs/${lab.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${lab.token}` } });
    expect(deleted.status).toBe(204);
    await page.locator('.status[data-state="closed"]').waitFor();
    expect(await page.locator('.status').textContent()).toBe('This lab was deleted by its owner.');
    expect(await contrast(page, '.status.closed')).toBeGreaterThanOrEqual(4.5);
    await expect.poll(() => terminalText(page)).toBe('root@hostA:~# ip netns add late\nnslab: This lab was deleted by its owner.');
    await page.keyboard.press('Enter');
    await page.keyboard.type('ip netns');
    await page.keyboard.press('Enter');
    expect(await terminalText(page)).toBe('root@hostA:~# ip netns add late\nnslab: This lab was deleted by its owner.');

    const again = await newPerson(browserLab!.browser);
    await again.page.goto(lab.url);
    const closed = again.page.locator('main.lab.closed .lab-closed[role="alert"]');
    await closed.waitFor();
    expect(await closed.locator('.lab-closed-text').textContent()).toBe(`The server refused the connection: no lab "${lab.id}"`);
    expect(await closed.locator('a').textContent()).toBe('Start or join another lab');
    expect(await closed.locator('a').getAttribute('href')).toBe('/');
    expect(await again.page.locator('.terminal-pane, .topology-pane, .participants-pane').count()).toBe(0);
    await again.page.locator('.language select').selectOption('ko');
    expect(await closed.locator('.lab-closed-text').textContent()).toBe(`서버가 연결을 거부했습니다: no lab "${lab.id}"`);
    expect(await closed.locator('a').textContent()).toBe('다른 실습을 시작하거나 참여하기');
    await screenshot(again.page, 'lab-deleted');
    // What the browser logs by itself: the refused upgrade, and the request that asked why.
    expect(again.errors).toEqual([expect.stringMatching(/^WebSocket connection to .* failed: .*Unexpected response code: 404$/), expect.stringMatching(/status of 404/)]);
  });

  test('no page logged an error', () => {
    expect(alice.errors).toEqual([]);
  });
});
