/*
 * The web view's colours meet WCAG 2.1 AA in both themes (style.css): text 4.5:1 against what it
 * is drawn on, state colours 3:1 as graphics (borders, signs) against the panel.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const CSS = readFileSync(new URL('../../clients/web/style.css', import.meta.url), 'utf8');

/** The custom properties of the first `:root { }` after `from` in style.css. */
function variables(from: number): Record<string, string> {
  const start = CSS.indexOf(':root {', from);
  const body = CSS.slice(start, CSS.indexOf('}', start));
  return Object.fromEntries([...body.matchAll(/--([\w-]+):\s*(#[0-9a-fA-F]{6})/g)].map((m) => [m[1] as string, m[2] as string]));
}

const light = variables(0);
const dark = { ...light, ...variables(CSS.indexOf('@media (prefers-color-scheme: dark)')) };

/** WCAG relative luminance of `#rrggbb`. */
function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = Number.parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

const STATES = ['available', 'unavailable', 'starting', 'restarting', 'failed'];

describe.each([
  ['light', light],
  ['dark', dark],
])('%s theme', (_theme, v) => {
  const text: [string, string][] = [
    ['ink', 'paper'],
    ['ink', 'panel'],
    ['muted', 'panel'],
    ['muted', 'paper'],
    ['focus', 'panel'],
    ['log-ink', 'log-bg'],
    ['log-echo', 'log-bg'],
    ['log-ok', 'log-bg'],
    ['log-error', 'log-bg'],
    // Events, replies and the state signs are written in the state colours on the panel; node ids in ink on the state's fill.
    ...STATES.map((s): [string, string] => [s, 'panel']),
    ...STATES.map((s): [string, string] => ['ink', `${s}-bg`]),
    ...STATES.map((s): [string, string] => [s, `${s}-bg`]),
  ];
  it.each(text)('text %s on %s: at least 4.5:1', (fg, bg) => {
    expect(v[fg], fg).toBeDefined();
    expect(v[bg], bg).toBeDefined();
    expect(contrast(v[fg] as string, v[bg] as string)).toBeGreaterThanOrEqual(4.5);
  });
  it.each(['focus', 'found', 'edge'])('graphic %s on the panel: at least 3:1', (fg) => {
    expect(contrast(v[fg] as string, v.panel as string)).toBeGreaterThanOrEqual(3);
  });
});
