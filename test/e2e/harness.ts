// The browser tests' world: the real server on 127.0.0.1 (ephemeral port)
// serving a fresh build of the web client, and Debian's Chromium driven by
// playwright-core.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import express from 'express';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import { createNslabServer, type NslabServer } from '../../server/net/server';
import { mountWebClient } from '../../server/net/web-client';
import { FileStore } from '../../server/store/file-store';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ARTIFACTS = resolve(import.meta.dirname, 'artifacts');

/** Builds the client from web/ into a temporary directory. */
async function buildClient(): Promise<{ dir: string; remove(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'nslab-web-'));
  await build({ configFile: resolve(import.meta.dirname, '../../web/vite.config.ts'), logLevel: 'error', build: { outDir: dir, emptyOutDir: true } });
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface LabServer {
  baseUrl: string;
  port: number;
  /** Stops the server, runs `whileDown`, and starts a new one on the same port over the same store. */
  restart(whileDown: () => Promise<void>): Promise<void>;
  stop(): Promise<void>;
  createLab(name?: string): Promise<{ id: string; token: string; url: string }>;
  invite(lab: string, ownerToken: string, role: 'editor' | 'viewer', name: string): Promise<string>;
  /** Runs a command through the HTTP API, as in a fresh terminal on the host. */
  exec(lab: string, token: string, host: string, command: string): Promise<{ output: string; exitCode: number }>;
}

/** Puts the client in front of the server's own request handler. */
function serveClient(server: NslabServer, clientDir: string): void {
  const [api] = server.http.listeners('request') as express.Express[];
  const app = express();
  mountWebClient(app, clientDir);
  app.use(api!);
  server.http.removeAllListeners('request');
  server.http.on('request', app);
}

async function startLabServer(clientDir: string): Promise<LabServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'nslab-e2e-'));
  const store = new FileStore(dataDir);
  const settings = { requestsPerSecond: 10_000, secret: 'e2e-secret' };
  let server = await createNslabServer(store, settings);
  serveClient(server, clientDir);
  const { port } = await server.listen(0, '127.0.0.1');
  const baseUrl = `http://127.0.0.1:${port}`;

  const post = async (path: string, body: object, token?: string) => {
    const response = await fetch(baseUrl + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    return response.json() as Promise<Record<string, unknown>>;
  };

  return {
    baseUrl,
    port,
    restart: async (whileDown) => {
      await server.close();
      await whileDown();
      server = await createNslabServer(store, settings);
      serveClient(server, clientDir);
      await server.listen(port, '127.0.0.1');
    },
    stop: async () => {
      await server.close();
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
    createLab: async (name = 'owner') => (await post('/api/labs', { template: 'classroom', name })) as { id: string; token: string; url: string },
    invite: async (lab, ownerToken, role, name) => (await post(`/api/labs/${lab}/invites`, { role, name }, ownerToken)).url as string,
    exec: async (lab, token, host, command) => (await post(`/api/labs/${lab}/exec`, { host, command }, token)) as { output: string; exitCode: number },
  };
}

function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
}

export interface BrowserLab {
  /** The built client's directory. */
  clientDir: string;
  server: LabServer;
  browser: Browser;
  /** Closes the browser, stops the server and removes the build. */
  stop(): Promise<void>;
}

/** A fresh build of the client, a server serving it, and Chromium. */
export async function startBrowserLab(): Promise<BrowserLab> {
  const client = await buildClient();
  const parts: { server?: LabServer; browser?: Browser } = {};
  const stop = async () => {
    await parts.browser?.close();
    await parts.server?.stop();
    client.remove();
  };
  try {
    parts.server = await startLabServer(client.dir);
    parts.browser = await launchChromium();
  } catch (e) {
    await stop();
    throw e;
  }
  return { clientDir: client.dir, server: parts.server, browser: parts.browser, stop };
}

export interface LabPage {
  page: Page;
  /** Console errors and uncaught exceptions the page produced. */
  errors: string[];
}

/** A page in a fresh browser context (its own storage: another person) on a 1280×800 screen, collecting its errors. */
export async function newPerson(browser: Browser): Promise<LabPage> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US' });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
  page.on('pageerror', (error) => errors.push(error.message));
  return { page, errors };
}

/** Opens a lab link as a new person. */
export async function openLab(browser: Browser, url: string): Promise<LabPage> {
  const { page, errors } = await newPerson(browser);
  await page.goto(url);
  await page.locator('.status[data-state="connected"]').waitFor();
  await page.locator('.xterm-rows').first().waitFor();
  return { page, errors };
}

/** Types a line into the visible terminal and presses Enter. */
export async function typeLine(page: Page, line: string): Promise<void> {
  await page.locator('.shell:not([hidden]) .xterm').click();
  await page.keyboard.type(line);
  await page.keyboard.press('Enter');
}

/** The visible terminal's text, one string per row, trailing blanks removed. */
export async function terminalText(page: Page): Promise<string> {
  const rows = await page.locator('.shell:not([hidden]) .xterm-rows > div').allTextContents();
  return rows
    .map((row) => row.replace(/\u00a0/g, ' ').trimEnd())
    .join('\n')
    .trimEnd();
}

export interface DiagramElement {
  id: string;
  data: Record<string, unknown> & { label?: string; parent?: string; source?: string; target?: string };
  classes: string[];
  /** A node's position in the diagram's model coordinates; null for edges. */
  position: { x: number; y: number } | null;
}

// Page-side code is source text: these files are type-checked without the DOM library.
// Cytoscape registers its instance on the container element.
const cyOf = (container: string) => `document.getElementById(${JSON.stringify(container)})?._cyreg?.cy`;
/** The live diagram's cytoscape instance. */
export const CY = cyOf('topology');
/** The container of the timeline's diagram. */
export const TIMELINE_DIAGRAM = 'timeline-topology';

/** Everything a diagram draws (the live one unless another container is named): cytoscape's own elements, with their data and classes. */
export async function diagram(page: Page, container = 'topology'): Promise<DiagramElement[]> {
  return (await page.evaluate(
    `${cyOf(container)}.elements().map((e) => ({ id: e.id(), data: e.data(), classes: e.classes(), position: e.isNode() ? e.position() : null }))`,
  )) as DiagramElement[];
}

/** Where a node is drawn on the page, in CSS pixels. */
export async function nodeOnPage(page: Page, id: string): Promise<{ x: number; y: number }> {
  return (await page.evaluate(`(() => {
    const box = document.getElementById('topology').getBoundingClientRect();
    const at = ${CY}.getElementById(${JSON.stringify(id)}).renderedPosition();
    return { x: box.left + at.x, y: box.top + at.y };
  })()`)) as { x: number; y: number };
}

/** Waits until the diagram holds an element with this id. */
export async function waitForDiagram(page: Page, id: string, timeout = 5000): Promise<void> {
  await page.waitForFunction(`${CY}?.getElementById(${JSON.stringify(id)}).nonempty() ?? false`, undefined, { timeout });
}

/** A diagram element, or null when it is not drawn. */
export async function diagramElement(page: Page, id: string, container = 'topology'): Promise<DiagramElement | null> {
  return (await diagram(page, container)).find((element) => element.id === id) ?? null;
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}

/**
 * The WCAG contrast ratio of the first element matching `selector`: its text colour, or its
 * outline colour, against the first opaque background behind it (behind its parent for an
 * outline drawn outside it).
 */
export async function contrast(page: Page, selector: string, of: 'color' | 'outline' = 'color'): Promise<number> {
  return (await page.evaluate(`(() => {
    const rgb = (css) => css.match(/[\\d.]+/g).map(Number);
    const luminance = ([r, g, b]) => [r, g, b].map((v) => v / 255).map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4)).reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
    const node = document.querySelector(${JSON.stringify(selector)});
    const ink = rgb(getComputedStyle(node)[${JSON.stringify(of === 'outline' ? 'outlineColor' : 'color')}]);
    const outside = ${of === 'outline'} && parseFloat(getComputedStyle(node).outlineOffset) >= 0;
    let behind = outside ? node.parentElement : node;
    while (behind && (rgb(getComputedStyle(behind).backgroundColor)[3] ?? 1) === 0) behind = behind.parentElement;
    const paper = behind ? rgb(getComputedStyle(behind).backgroundColor) : [255, 255, 255];
    const [light, dark] = [luminance(ink), luminance(paper)].sort((a, b) => b - a);
    return Math.round(((light + 0.05) / (dark + 0.05)) * 100) / 100;
  })()`)) as number;
}
