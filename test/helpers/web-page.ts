/**
 * What the web view's browser tests share: where screenshots go, the drawn size of the node
 * labels, and waiting for the drawing to stop moving.
 */
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { REPO } from './gateway.js';

/** docs/<name> with ARBOR_UPDATE_SCREENSHOT=1 (the README shows them), else the OS temp dir (the work tree stays clean). */
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
