/*
 * The web view with many nodes, in headless Chromium at 1400 x 900: a 63-node tree fits its
 * panel with every id at least 12 px; a 400-node tree has every node reachable by its accessible
 * name, and a search finds node 337 and shows it readable. Screenshots of both (docs/ with
 * ARBOR_UPDATE_SCREENSHOT=1). The trees are built as the bench's scale phase builds its own,
 * parents first and several creates in flight (8 here: on a loaded 2-core machine 16 left
 * processes waiting past the gateway's 10 s start limit); building 400 processes takes minutes
 * on a small machine, hence the timeouts. Skipped, saying so, where no Chromium is installed.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RunningGateway } from '../helpers/gateway.js';
import { rpc } from '../helpers/rpc.js';
import { CHROMIUM, HAVE_CHROMIUM, inPage, labelSizes, launchChromium, openPage, screenshotPath, settled, webGateway } from '../helpers/web-page.js';

// Stopping a gateway of 400 nodes (its onTestFinished) takes longer than the project's 30 s on a loaded machine.
vi.setConfig({ hookTimeout: 120_000 });

const IN_FLIGHT = 8;
/**
 * On a machine too loaded for a process to load within the gateway's 10 s (UNAVAILABLE "could
 * not start"), or whose parent is starved for a moment (UNAVAILABLE "is unavailable"), a create
 * fails with nothing of the node left: it is tried again, after a pause that grows, this many times.
 */
const CREATE_TRIES = 5;
const RETRY_PAUSE_MS = 500;

/** Ids lo..hi, each parent before its children: the middle, then the middles of each half, level by level. */
function levelOrder(lo: number, hi: number): number[] {
  const out: number[] = [];
  let ranges: [number, number][] = [[lo, hi]];
  while (ranges.length > 0) {
    const next: [number, number][] = [];
    for (const [a, b] of ranges) {
      if (a > b) continue;
      const mid = Math.floor((a + b) / 2);
      out.push(mid);
      next.push([a, mid - 1], [mid + 1, b]);
    }
    ranges = next;
  }
  return out;
}

/** Creates `ids` with IN_FLIGHT creates at a time. */
async function build(gateway: RunningGateway, ids: readonly number[]): Promise<void> {
  const api = rpc(gateway.client());
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < ids.length) {
        const id = ids[next++] as number;
        for (let attempt = 1; ; attempt++) {
          try {
            await api.create({ id });
            break;
          } catch (error) {
            const { code } = error as { code?: number };
            if (attempt >= CREATE_TRIES || code !== 14) throw error;
            await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS * attempt));
          }
        }
      }
    }),
  );
}

/** How long the page may take to show a change on a loaded machine (expect.poll's own default is 1 s). */
const UI = { timeout: 10_000, interval: 50 };

const SUITE = HAVE_CHROMIUM
  ? `web view at scale in headless Chromium (${CHROMIUM})`
  : `web view at scale: SKIPPED, no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set ARBOR_CHROMIUM)`;

describe.skipIf(!HAVE_CHROMIUM)(SUITE, () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  /** The accessible names (aria-label) of every treeitem; the tests also count them by role. */
  const treeitemNames = (page: Page): Promise<(string | null)[]> =>
    inPage<(string | null)[]>(page, "[...document.querySelectorAll('#tree [role=\"treeitem\"]')].map((item) => item.getAttribute('aria-label'))");

  it('63 nodes: the tree fits its panel with every id at least 12 px, and every node has its name', { timeout: 10 * 60_000 }, async () => {
    const { gateway, url } = await webGateway(['--max-nodes', '80']);
    await build(gateway, levelOrder(1, 63));
    const page = await openPage(browser, url);
    await expect.poll(() => page.getByRole('treeitem', { name: /^node \d+, available, 0 names$/ }).count(), { timeout: 20_000 }).toBe(63);
    await settled(page);
    const sizes = await labelSizes(page);
    expect(sizes).toHaveLength(63);
    expect(Math.min(...sizes)).toBeGreaterThanOrEqual(12);
    // ... and all of it inside the panel.
    const panel = (await page.locator('#tree').boundingBox()) as { x: number; y: number; width: number; height: number };
    const boxes = await inPage<{ left: number; right: number; top: number; bottom: number }[]>(
      page,
      "[...document.querySelectorAll('svg .node .box')].map((b) => b.getBoundingClientRect().toJSON())",
    );
    for (const box of boxes) {
      expect(box.left).toBeGreaterThanOrEqual(panel.x);
      expect(box.right).toBeLessThanOrEqual(panel.x + panel.width);
      expect(box.top).toBeGreaterThanOrEqual(panel.y);
      expect(box.bottom).toBeLessThanOrEqual(panel.y + panel.height);
    }
    await page.screenshot({ path: screenshotPath('web-view-63.png') });
  });

  it('400 nodes: every node reachable by its accessible name; search finds 337 and shows it readable', { timeout: 30 * 60_000 }, async () => {
    const { gateway, url } = await webGateway(['--max-nodes', '420']);
    await build(gateway, levelOrder(1, 400));
    expect((await rpc(gateway.client()).topology()).nodes).toHaveLength(400);
    const page = await openPage(browser, url);
    await expect.poll(() => page.locator('#node-count').textContent(), { timeout: 20_000 }).toBe('400');
    await expect.poll(async () => (await treeitemNames(page)).length, { timeout: 20_000 }).toBe(400);
    const ids = (await treeitemNames(page)).map((name) => Number(/^node (\d+), available, 0 names$/.exec(name ?? '')?.[1]));
    expect(ids.sort((a, b) => a - b)).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
    await settled(page);
    await page.screenshot({ path: screenshotPath('web-view-400.png') });

    await page.getByLabel('find node').fill('337');
    await page.getByLabel('find node').press('Enter');
    await expect.poll(() => page.locator('#search-note').textContent(), UI).toBe('node 337');
    await settled(page);
    const found = page.locator('svg [data-node-id="337"]');
    expect(await found.getAttribute('class')).toContain('found');
    expect(await inPage<string | null>(page, "document.activeElement?.getAttribute('aria-label') ?? null")).toBe('node 337, available, 0 names');
    const [size] = await labelSizes(page, 'svg [data-node-id="337"] text.id');
    expect(size).toBeGreaterThanOrEqual(16);
    const panel = (await page.locator('#tree').boundingBox()) as { x: number; y: number; width: number; height: number };
    const box = (await found.boundingBox()) as { x: number; y: number; width: number; height: number };
    expect(box.x).toBeGreaterThanOrEqual(panel.x);
    expect(box.x + box.width).toBeLessThanOrEqual(panel.x + panel.width);
    expect(box.y).toBeGreaterThanOrEqual(panel.y);
    expect(box.y + box.height).toBeLessThanOrEqual(panel.y + panel.height);
    await page.screenshot({ path: screenshotPath('web-view-400-find.png') });

    // The overview collapses the levels that do not fit readable: every drawn id at least 12 px, each collapsed node saying what it hides.
    await page.getByRole('button', { name: 'overview' }).click();
    await expect.poll(() => page.locator('svg .node[aria-expanded="false"]').count(), UI).toBeGreaterThan(0);
    await settled(page);
    expect(Math.min(...(await labelSizes(page)))).toBeGreaterThanOrEqual(12);
    const collapsed = await page.locator('svg .node[aria-expanded="false"]').first().getAttribute('aria-label');
    expect(collapsed).toMatch(/^node \d+, available, 0 names, collapsed: \d+ nodes below$/);
    await page.screenshot({ path: screenshotPath('web-view-400-overview.png') });
    await page.getByRole('button', { name: 'expand all' }).click();
    await expect.poll(async () => (await treeitemNames(page)).length, UI).toBe(400);
  });
});
