/*
 * The web view with many nodes, in headless Chromium at 1400 x 900: a 63-node tree fits its
 * panel with every id at least 12 px; a 400-node tree has every node reachable by its accessible
 * name, and a search finds node 337 and shows it readable. Screenshots of both (docs/ with
 * ARBOR_UPDATE_SCREENSHOT=1). The trees are built as the bench's scale phase builds its own: 16
 * creates in flight, parents first; building 400 processes takes minutes on a small machine, hence
 * the timeouts. Skipped, saying so, where no Chromium is installed.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../helpers/gateway.js';
import { rpc } from '../helpers/rpc.js';
import { CHROMIUM, HAVE_CHROMIUM, inPage, labelSizes, launchChromium, openPage, screenshotPath, settled, webGateway } from '../helpers/web-page.js';

const IN_FLIGHT = 16;

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
      while (next < ids.length) await api.create({ id: ids[next++] as number });
    }),
  );
}

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

  /** The accessible names of every treeitem, as the accessibility tree has them. */
  const treeitemNames = (page: Page): Promise<(string | null)[]> =>
    page.getByRole('tree').getByRole('treeitem').evaluateAll<(string | null)[], undefined>("(items) => items.map((item) => item.getAttribute('aria-label'))");

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
    const boxes = await page.locator('svg .node .box').evaluateAll<{ left: number; right: number; top: number; bottom: number }[], undefined>('(boxes) => boxes.map((b) => b.getBoundingClientRect().toJSON())');
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
    await expect.poll(() => page.locator('#search-note').textContent()).toBe('node 337');
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
    await expect.poll(() => page.locator('svg .node[aria-expanded="false"]').count()).toBeGreaterThan(0);
    await settled(page);
    expect(Math.min(...(await labelSizes(page)))).toBeGreaterThanOrEqual(12);
    const collapsed = await page.locator('svg .node[aria-expanded="false"]').first().getAttribute('aria-label');
    expect(collapsed).toMatch(/^node \d+, available, 0 names, collapsed: \d+ nodes below$/);
    await page.screenshot({ path: screenshotPath('web-view-400-overview.png') });
    await page.getByRole('button', { name: 'expand all' }).click();
    await expect.poll(async () => (await treeitemNames(page)).length).toBe(400);
  });
});
