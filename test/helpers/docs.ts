/**
 * Reading the project's markdown documents (README.md and docs/*.md) for the tests that keep them
 * true: their fenced blocks, their headings as GitHub anchors them, their links.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The repository root, with a trailing slash (as test/helpers/gateway.ts's REPO, without loading grpc-js). */
export const DOCS_REPO = fileURLToPath(new URL('../..', import.meta.url));
const REPO = DOCS_REPO;

/** README.md and every docs/*.md, as paths relative to the repository. */
export function docFiles(): string[] {
  const docs = readdirSync(`${REPO}docs`)
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`);
  return ['README.md', ...docs];
}

export function readDoc(path: string): string {
  return readFileSync(`${REPO}${path}`, 'utf8');
}

export interface FencedBlock {
  /** The info string after the opening fence (`console-session --format mai`). */
  info: string;
  lines: string[];
  /** 1-based line of the opening fence. */
  line: number;
}

/** Fenced code blocks (``` or ~~~), and the text outside them with the blocks' lines blanked (line numbers kept). */
export function splitFences(text: string): { blocks: FencedBlock[]; prose: string[] } {
  const blocks: FencedBlock[] = [];
  const prose: string[] = [];
  let open: { fence: string; block: FencedBlock } | undefined;
  text.split('\n').forEach((raw, index) => {
    const fence = /^\s*(`{3,}|~{3,})(.*)$/.exec(raw);
    if (open === undefined && fence !== null) {
      open = { fence: fence[1] as string, block: { info: (fence[2] as string).trim(), lines: [], line: index + 1 } };
      prose.push('');
    } else if (open !== undefined && fence !== null && raw.trim().startsWith(open.fence) && (fence[2] as string).trim() === '') {
      blocks.push(open.block);
      open = undefined;
      prose.push('');
    } else if (open !== undefined) {
      open.block.lines.push(raw);
      prose.push('');
    } else {
      prose.push(raw);
    }
  });
  return { blocks, prose };
}

/**
 * GitHub's anchor for a heading: lower case, markup and punctuation dropped (letters, digits,
 * spaces, hyphens and underscores kept), spaces to hyphens; a repeated one gets -1, -2...
 */
export function anchorsOf(text: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const line of splitFences(text).prose) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading === null) continue;
    const base = (heading[1] as string)
      .toLowerCase()
      .replace(/[^\p{L}\p{N} _-]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** Heading texts, markup dropped, lower case: what a `section "X"` reference names. */
export function headingTitles(text: string): Set<string> {
  const titles = new Set<string>();
  for (const line of splitFences(text).prose) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading !== null) titles.add((heading[1] as string).replace(/[`*_]/g, '').toLowerCase());
  }
  return titles;
}
