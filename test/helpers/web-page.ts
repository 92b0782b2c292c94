/**
 * What the web view's browser tests share: where screenshots go, the drawn size of the node
 * labels, and waiting for the drawing to stop moving.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContextOptions, chromium, type Page } from 'playwright-core';
import { expect, onTestFinished } from 'vitest';
import { REPO, startGateway, type RunningGateway } from './gateway.js';

export const CHROMIUM = process.env.ARBOR_CHROMIUM ?? '/usr/bin/chromium';
export const HAVE_CHROMIUM = existsSync(CHROMIUM);
const WEB_LINE = /^arbor-gateway web view on (http:\/\/\S+\/)$/;

/** Debian's Chromium, headless. --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}

/** A gateway with the web view on, and the page's URL once it printed it. */
export async function webGateway(extra: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<{ gateway: RunningGateway; url: string }> {
  const gateway = await startGateway(['--http-listen', '127.0.0.1:0', ...extra], env);
  await expect.poll(() => gateway.stdoutLines.some((line) => WEB_LINE.test(line)), { timeout: 10_000 }).toBe(true);
  const url = (WEB_LINE.exec(gateway.stdoutLines.find((line) => WEB_LINE.test(line)) as string) as RegExpExecArray)[1] as string;
  // The web view line comes after the listening line, as scripts expect.
  expect(gateway.stdoutLines.findIndex((line) => WEB_LINE.test(line))).toBeGreaterThan(0);
  return { gateway, url };
}

/**
 * A fresh page on `url` (1400 x 900 unless told), closed after the test; any script error, CSP
 * violation, failed load of the page's own files or request to another origin fails the test.
 */
export async function openPage(browser: Browser, url: string, options: BrowserContextOptions = { viewport: { width: 1400, height: 900 } }): Promise<Page> {
  const page = await browser.newPage(options);
  const problems: string[] = [];
  const origin = new URL(url).origin;
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  // Connect answers API errors with HTTP statuses (404 for NOT_FOUND...), which Chromium logs as
  // failed loads: those are the commands' answers. Any other failed load is a problem.
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(`console error: ${message.text()}`);
  });
  page.on('request', (request) => {
    if (new URL(request.url()).origin !== origin) problems.push(`request to another origin: ${request.url()}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 400 && !new URL(response.url()).pathname.startsWith('/arbor.v1.ArborService/')) {
      problems.push(`${response.status()} for ${response.url()}`);
    }
  });
  onTestFinished(async () => {
    await page.close();
    expect(problems).toEqual([]);
  });
  await page.goto(url);
  return page;
}

/** docs/<name> with ARBOR_UPDATE_SCREENSHOT=1 (README.md and docs/web-view.md show them), else the OS temp dir (the work tree stays clean). */
export function screenshotPath(name: string): string {
  const dir = process.env.ARBOR_UPDATE_SCREENSHOT === '1' ? join(REPO, 'docs') : join(tmpdir(), `arbor-web-view-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  return join(dir, name);
}

/*
 * The functions below run in the page: written as source text, since these tests are compiled
 * without the DOM's types.
 */

/** Each drawn node id's size on screen, in px: its computed font size times the zoom it is drawn at. */
export function labelSizes(page: Page, selector = 'svg .node text.id'): Promise<number[]> {
  return page.evaluate(
    `[...document.querySelectorAll(${JSON.stringify(selector)})].map((t) => Number.parseFloat(getComputedStyle(t).fontSize) * (t.getScreenCTM()?.a ?? 0))`,
  );
}

/** Runs `expression` (JavaScript source) in the page. */
export function inPage<T>(page: Page, expression: string): Promise<T> {
  return page.evaluate(expression);
}

const STILL = `new Promise((resolve) => requestAnimationFrame(() => {
  const svg = document.querySelector('#tree');
  resolve(svg !== null && ![svg, ...svg.querySelectorAll('*')].some((el) => el.__transition !== undefined));
}))`;

/** Waits until no d3 transition runs in the drawing (zoom, moves) and a frame has been drawn since. */
export async function settled(page: Page, timeoutMs = 10_000): Promise<void> {
  await expect.poll(() => page.evaluate<boolean>(STILL), { message: 'the drawing stops moving', timeout: timeoutMs, interval: 50 }).toBe(true);
}
