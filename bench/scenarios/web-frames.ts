/**
 * @module The web view under churn at scale: frame times in headless Chromium (Debian's
 * /usr/bin/chromium, or ARBOR_CHROMIUM) while the page shows the scale phase's tree and the tree
 * keeps changing: the heartbeat interval switches between 100 ms and 1,000 ms, and a few nodes
 * are created past the largest id and removed again, each create and remove rebalancing the tree
 * (rotations), so the page gets events and redraws with moves all along.
 *
 * A frame's time is the gap between two requestAnimationFrame callbacks in the page: a redraw,
 * layout or d3 transition that holds the page's thread shows as a long gap. The row's figure is
 * the p95 of those gaps (the target: under 50 ms).
 */
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Gateway, create, heartbeat, remove } from '../gateway.js';
import type { BenchOptions } from '../options.js';
import type { Row } from '../rows.js';
import { percentile } from '../stats.js';
import { ms } from '../format.js';

const CHROMIUM = process.env.ARBOR_CHROMIUM ?? '/usr/bin/chromium';

/** Records every frame gap from now on into window.__frames (page-side source: the bench has no DOM types). */
const RECORD = `(() => {
  window.__frames = [];
  let last = performance.now();
  const tick = (now) => { window.__frames.push(now - last); last = now; if (window.__recording) requestAnimationFrame(tick); };
  window.__recording = true;
  requestAnimationFrame(tick);
})()`;

export async function webFrames(gateway: Gateway, nodes: number, largestId: number, opts: BenchOptions): Promise<Row> {
  const na = (why: string): Row => ({ key: 'scaleWebFrames', section: 'arbor', value: `n/a (${why})`, figures: {} });
  if (!existsSync(CHROMIUM)) return na(`no Chromium at ${CHROMIUM}`);
  // Loaded only here: the rest of the bench runs without playwright-core.
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  const client = gateway.client();
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(await gateway.webUrl());
    // Polled with page.evaluate: waitForFunction compiles its predicate in the page, which the
    // page's CSP (no 'unsafe-eval') refuses.
    const drawnBy = performance.now() + 60_000;
    while ((await page.evaluate<number>(`document.querySelectorAll('svg .node').length`)) !== nodes) {
      if (performance.now() > drawnBy) throw new Error(`the page did not draw ${nodes} nodes within 60 s`);
      await sleep(100);
    }
    await page.evaluate(RECORD);
    const started = performance.now();
    const rounds = opts.quick ? 1 : 3;
    const extra = Array.from({ length: opts.quick ? 2 : 6 }, (_, i) => largestId + 1 + i);
    let switches = 0;
    let rotations = 0;
    for (let round = 0; round < rounds; round++) {
      // The interval switches while the tree reshapes: both at once, as a storm would have them.
      const switching = (async () => {
        for (const interval of [100, 1000, 100]) {
          await heartbeat(client, interval);
          switches++;
        }
      })();
      for (const id of extra) {
        await create(client, id);
        rotations++;
      }
      for (const id of extra) {
        await remove(client, id);
        rotations++;
      }
      await switching;
    }
    await heartbeat(client, 0);
    const seconds = (performance.now() - started) / 1000;
    const frames = await page.evaluate<number[]>('window.__recording = false, window.__frames');
    const sorted = Float64Array.from(frames).sort();
    const p95 = percentile(sorted, 95);
    const max = sorted.length === 0 ? Number.NaN : (sorted[sorted.length - 1] as number);
    return {
      key: 'scaleWebFrames',
      section: 'arbor',
      value: ms(p95),
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      note: `${nodes} nodes in Chromium 1400 x 900, ${frames.length} frames in ${seconds.toFixed(1)} s: ${switches} heartbeat switches (100 ↔ 1000 ms), ${rotations} creates and removes past the largest id (each rebalances); max ${ms(max)}`,
      figures: { p95Ms: p95, p50Ms: percentile(sorted, 50), maxMs: max, frames: frames.length, nodes, switches, rotations },
    };
  } finally {
    await browser.close();
  }
}
