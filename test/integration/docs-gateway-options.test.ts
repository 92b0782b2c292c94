/**
 * docs/gateway.md documents every option and environment variable that `arbor-gateway --help`
 * (and `arbor-agent --help`) prints, and nothing they do not. The help text is read loosely
 * (an option is defined by a `--option` in a line's first column, before a run of spaces, and
 * mentioned anywhere; every `ARBOR_*` name counts), so it may be reworded or reformatted freely;
 * the document's side is the first two columns (option, env) of its options tables.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { readDoc, splitFences } from '../helpers/docs.js';
import { GATEWAY_MAIN, REPO } from '../helpers/gateway.js';

const run = promisify(execFile);
const AGENT_MAIN = `${REPO}dist/bundle/agent.js`;

interface Names {
  options: Set<string>;
  env: Set<string>;
}

interface Help extends Names {
  /** Options a line starts with (its first column): what the help defines, not only mentions. */
  defined: Set<string>;
}

function namesIn(text: string): Names {
  return {
    options: new Set([...text.matchAll(/(?<![\w-])--[a-z][a-z0-9-]*/g)].map((m) => m[0])),
    env: new Set([...text.matchAll(/\bARBOR_[A-Z0-9_]+/g)].map((m) => m[0])),
  };
}

async function helpOf(program: string): Promise<Help> {
  const { stdout, stderr } = await run(process.execPath, [program, '--help'], { timeout: 20_000 }).catch((error: { stdout?: string; stderr?: string }) => ({
    // A help that exits non-zero still prints its text; what it lists is what counts here.
    stdout: error.stdout ?? '',
    stderr: error.stderr ?? '',
  }));
  const text = `${stdout}\n${stderr}`;
  expect(text, `${program} --help printed nothing`).toMatch(/--/);
  const firstColumns = text
    .split('\n')
    .map((line) => line.trimStart().split(/\s{2,}/)[0] ?? '')
    .join('\n');
  return { ...namesIn(text), defined: namesIn(firstColumns).options };
}

/** The option and env columns of the tables under the heading that starts with `heading`. */
function documented(heading: string): Names {
  const { prose } = splitFences(readDoc('docs/gateway.md'));
  const start = prose.findIndex((line) => line.startsWith('## ') && line.slice(3).startsWith(heading));
  expect(start, `docs/gateway.md has no section "${heading}"`).toBeGreaterThanOrEqual(0);
  const end = prose.findIndex((line, i) => i > start && line.startsWith('## '));
  const cells = prose
    .slice(start, end < 0 ? undefined : end)
    .filter((line) => line.startsWith('|') && !/^\|\s*(option|-{3})/.test(line))
    .map((line) => line.split(/(?<!\\)\|/).slice(1, 3).join(' '));
  return namesIn(cells.join('\n'));
}

function compare(help: Help, doc: Names): { missingFromDoc: string[]; missingFromHelp: string[] } {
  const missing = (from: Set<string>, inside: Set<string>): string[] => [...from].filter((name) => !inside.has(name)).sort();
  return {
    missingFromDoc: [...missing(help.defined, doc.options), ...missing(help.env, doc.env)],
    missingFromHelp: [...missing(doc.options, help.options), ...missing(doc.env, help.env)],
  };
}

describe('docs/gateway.md and --help', () => {
  it('arbor-gateway: every option and env variable of --help is documented, and every documented one is in --help', async () => {
    const help = await helpOf(GATEWAY_MAIN);
    const doc = documented('Options');
    // Not vacuous: the help and the table both list the long-standing options.
    for (const names of [{ ...help, options: help.defined }, doc]) {
      expect([...names.options]).toEqual(expect.arrayContaining(['--listen', '--data-dir', '--watch-buffer']));
      expect([...names.env]).toEqual(expect.arrayContaining(['ARBOR_LISTEN', 'ARBOR_TOKEN']));
    }
    expect(compare(help, doc)).toEqual({ missingFromDoc: [], missingFromHelp: [] });
  });

  it('arbor-agent: likewise for the agents table', async () => {
    const help = await helpOf(AGENT_MAIN);
    const doc = documented('Agents');
    expect([...doc.options]).toEqual(expect.arrayContaining(['--join', '--cluster-secret', '--name']));
    expect(compare(help, doc)).toEqual({ missingFromDoc: [], missingFromHelp: [] });
  });
});
