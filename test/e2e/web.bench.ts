// npm run bench:web — the web client's figures:
// - latency: from Enter in one browser to the new namespace in another
//   browser's diagram, over 20 `ip netns add` commands (p50, goal ≤ 100 ms);
// - size: the built client, gzipped (goal ≤ 600 KB).
// Last line: one JSON object.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Page } from 'playwright-core';
import { openLab, startBrowserLab, typeLine } from './harness';

const COMMANDS = 20;

function gzippedBytes(dir: string): number {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .reduce((sum, entry) => sum + gzipSync(readFileSync(join(entry.parentPath, entry.name)), { level: 9 }).length, 0);
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * Starts watching for the node; the returned function resolves with the wall-clock time (ms) the diagram gained it.
 * Page-side code is source text: this file is type-checked without the DOM library, and tsx would wrap
 * a named function in a helper the page does not have.
 */
async function watchFor(page: Page, id: string): Promise<() => Promise<number>> {
  await page.evaluate(`void (window.drawnAt = new Promise((resolve) => {
    const cy = document.getElementById('topology')._cyreg.cy;
    const added = () => {
      if (cy.getElementById(${JSON.stringify(id)}).empty()) return;
      cy.off('add', added);
      resolve(performance.timeOrigin + performance.now());
    };
    cy.on('add', added);
  }))`);
  return () => page.evaluate('window.drawnAt') as Promise<number>;
}

async function main(): Promise<void> {
  const { clientDir, server, browser, stop } = await startBrowserLab();
  try {
    const lab = await server.createLab('typist');
    const typist = await openLab(browser, lab.url);
    const watcher = await openLab(browser, await server.invite(lab.id, lab.token, 'viewer', 'watcher'));
    // The moment Enter goes down in the typist's page, on the wall clock.
    await typist.page.evaluate(`document.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') window.enterAt = performance.timeOrigin + performance.now();
    }, true)`);
    const latencies: number[] = [];
    for (let i = 1; i <= COMMANDS; i++) {
      const drawn = await watchFor(watcher.page, `ns:hostA/bench${i}`);
      await typeLine(typist.page, `ip netns add bench${i}`);
      const drawnAt = await drawn();
      const enterAt = (await typist.page.evaluate('window.enterAt')) as number;
      latencies.push(drawnAt - enterAt);
      await typist.page.locator('.activity-item.ok .activity-line', { hasText: new RegExp(`^ip netns add bench${i}$`) }).waitFor();
    }
    const gzipKB = gzippedBytes(clientDir) / 1024;
    const p50 = percentile(latencies, 50);
    console.log(`Enter → namespace in another browser's diagram, ${COMMANDS} commands: p50 ${p50.toFixed(1)} ms (min ${Math.min(...latencies).toFixed(1)}, p90 ${percentile(latencies, 90).toFixed(1)}, max ${Math.max(...latencies).toFixed(1)}; goal ≤ 100 ms)`);
    console.log(`built client, gzipped: ${gzipKB.toFixed(1)} KB (goal ≤ 600 KB)`);
    console.log(JSON.stringify({ enterToDiagramP50Ms: Number(p50.toFixed(1)), commands: COMMANDS, clientGzipKB: Number(gzipKB.toFixed(1)) }));
  } finally {
    await stop();
  }
}

await main();
