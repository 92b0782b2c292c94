/**
 * The console sessions the documents show are true: every fenced block whose info string is
 * `console-session` (README.md, docs/*.md) is run against a real gateway, as a doctest would.
 *
 * In such a block a line starting with `arbor> ` is typed; the lines after it, up to the next
 * typed line, are its replies. The typed lines are piped into the real console with `--ordered`
 * (so replies come in input order) plus whatever follows `console-session` in the info string
 * (`console-session --format mai`), one fresh gateway per block, and the replies must come out
 * line for line. Only pids may differ: the number of a `create`'s `Ok:` line, and `pid N` in a
 * tree line, match any number.
 */
import { describe, expect, it } from 'vitest';
import { runScript } from '../helpers/cli.js';
import { docFiles, type FencedBlock, readDoc, splitFences } from '../helpers/docs.js';
import { CLI_MAIN, startGateway } from '../helpers/gateway.js';

const PROMPT = 'arbor> ';

interface Session {
  where: string;
  args: string[];
  typed: string[];
  /** Each expected reply line as a pattern. */
  expected: RegExp[];
  text: string[];
}

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The pattern a documented reply line must match: exact, but for the pid fields. */
function replyPattern(command: string, line: string): RegExp {
  let pattern = escape(line).replace(/pid \d+/g, 'pid \\d+');
  if (/^create\b/.test(command) && /^Ok: ?\d+$/.test(line)) pattern = escape(line).replace(/\d+$/, '\\d+');
  return new RegExp(`^${pattern}$`);
}

function sessionOf(file: string, block: FencedBlock): Session {
  const typed: string[] = [];
  const expected: RegExp[] = [];
  const text: string[] = [];
  for (const line of block.lines) {
    if (line.startsWith(PROMPT)) {
      typed.push(line.slice(PROMPT.length));
    } else {
      const command = typed.at(-1);
      if (command === undefined) throw new Error(`${file}:${block.line}: a console-session block must start with a typed line (${PROMPT}...)`);
      expected.push(replyPattern(command, line));
      text.push(line);
    }
  }
  return { where: `${file}:${block.line}`, args: block.info.split(/\s+/).slice(1), typed, expected, text };
}

const sessions = docFiles().flatMap((file) =>
  splitFences(readDoc(file))
    .blocks.filter((block) => block.info.split(/\s+/)[0] === 'console-session')
    .map((block) => sessionOf(file, block)),
);

describe('console sessions in the documents', () => {
  it('the README and docs/console.md have some', () => {
    expect(sessions.some((s) => s.where.startsWith('README.md:'))).toBe(true);
    expect(sessions.some((s) => s.where.startsWith('docs/console.md:'))).toBe(true);
    for (const s of sessions) expect(s.expected.length, s.where).toBeGreaterThan(0);
  });

  it('pids are the only fields that may differ', () => {
    expect(replyPattern('create 8', 'Ok: 102478').test('Ok: 5')).toBe(true);
    expect(replyPattern('exec 8 X 16', 'Ok: 8').test('Ok: 9')).toBe(false);
    expect(replyPattern('tree', '└─L 4 (pid 16676)').test('└─L 4 (pid 1)')).toBe(true);
    expect(replyPattern('tree', '└─L 4 (pid 16676)').test('└─R 4 (pid 1)')).toBe(false);
  });

  it.each(sessions.map((s) => [s.where, s] as const))('%s', { timeout: 60_000 }, async (_where, session) => {
    const gateway = await startGateway();
    const { lines, stderr } = await runScript(CLI_MAIN, ['--target', gateway.address, '--ordered', ...session.args], `${session.typed.join('\n')}\n`);
    const report = `${session.where}\nexpected:\n${session.text.join('\n')}\nactual:\n${lines.join('\n')}\nstderr:\n${stderr}`;
    expect(lines.length, report).toBe(session.expected.length);
    session.expected.forEach((pattern, i) => expect(lines[i], report).toMatch(pattern));
  });
});
