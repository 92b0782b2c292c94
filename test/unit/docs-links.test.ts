/**
 * Every internal link of README.md and docs/*.md resolves: the file exists, and an anchor names a
 * heading of that file (as GitHub anchors it). Every `section "X"` reference names a heading of
 * its own file, or of the .md file named just before it. Every docs/*.md page that source comments
 * point at exists. So a commit that deletes or renames a section something still points to fails.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';
import { anchorsOf, DOCS_REPO, docFiles, headingTitles, readDoc, splitFences } from '../helpers/docs.js';

interface Problem {
  where: string;
  what: string;
}

/** `[text](target)` and `![alt](target)` outside code spans; targets without a scheme. */
function linksOf(line: string): string[] {
  const withoutCode = line.replace(/`[^`]*`/g, (span) => ' '.repeat(span.length));
  return [...withoutCode.matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1] as string).filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t));
}

function checkLinks(file: string): Problem[] {
  const problems: Problem[] = [];
  const { prose } = splitFences(readDoc(file));
  prose.forEach((line, index) => {
    const where = `${file}:${index + 1}`;
    for (const target of linksOf(line)) {
      const [path, anchor] = target.split('#', 2) as [string, string | undefined];
      const resolved = path === '' ? file : normalize(join(dirname(file), decodeURI(path)));
      if (resolved.startsWith('..')) {
        problems.push({ where, what: `${target}: outside the repository` });
        continue;
      }
      if (!existsSync(`${DOCS_REPO}${resolved}`)) {
        problems.push({ where, what: `${target}: no file ${resolved}` });
        continue;
      }
      if (anchor === undefined) continue;
      if (!resolved.endsWith('.md')) {
        problems.push({ where, what: `${target}: an anchor into a file that is not markdown` });
        continue;
      }
      const anchors = anchorsOf(readFileSync(`${DOCS_REPO}${resolved}`, 'utf8'));
      if (!anchors.has(anchor)) problems.push({ where, what: `${target}: ${resolved} has no heading with anchor #${anchor}` });
    }
  });
  return problems;
}

function checkSectionReferences(file: string): Problem[] {
  const problems: Problem[] = [];
  const own = headingTitles(readDoc(file));
  // Joined into one text, so that a reference broken over two lines is still found.
  const { prose } = splitFences(readDoc(file));
  const text = prose.join('\n');
  for (const m of text.matchAll(/(?:([\w./-]+\.md)[\]),\s]*)?\bsections?\s+"([^"]+)"/gi)) {
    const named = m[1];
    const title = (m[2] as string).replace(/\s+/g, ' ').replace(/[`*_]/g, '').toLowerCase();
    const line = text.slice(0, m.index).split('\n').length;
    const target = named === undefined ? file : normalize(join(dirname(file), named));
    const titles = named === undefined ? own : existsSync(`${DOCS_REPO}${target}`) ? headingTitles(readFileSync(`${DOCS_REPO}${target}`, 'utf8')) : new Set<string>();
    if (!titles.has(title)) problems.push({ where: `${file}:${line}`, what: `section "${m[2]}": no such heading in ${target}` });
  }
  return problems;
}

/** Source files (comments included) under these folders that mention a docs page. */
function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(`${DOCS_REPO}${dir}`)) {
    const path = `${dir}/${name}`;
    if (name === 'node_modules' || name === 'gen' || name === 'gen-es') continue;
    if (statSync(`${DOCS_REPO}${path}`).isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|js|cjs|proto)$/.test(name)) out.push(path);
  }
  return out;
}

describe('the documents', () => {
  const files = docFiles();

  it('are README.md and the pages it links', () => {
    expect(files).toContain('README.md');
    expect(files.length).toBeGreaterThan(5);
    const readmeLinks = readDoc('README.md');
    for (const page of files.filter((f) => f.startsWith('docs/'))) expect(readmeLinks, `README.md does not link ${page}`).toContain(`(${page})`);
  });

  it.each(files)('%s: every internal link and anchor resolves', (file) => {
    expect(checkLinks(file)).toEqual([]);
  });

  it.each(files)('%s: every "section X" reference names a heading', (file) => {
    expect(checkSectionReferences(file)).toEqual([]);
  });

  it('source comments point only at docs pages, anchors and sections that exist', () => {
    const problems: Problem[] = [];
    for (const file of ['agent', 'bench', 'clients', 'computing', 'control', 'gateway', 'lib', 'link', 'proto', 'scripts', 'test'].flatMap(sourceFiles)) {
      // Comment lines joined, so that a reference wrapped over two lines is still read whole.
      const text = readFileSync(`${DOCS_REPO}${file}`, 'utf8').replace(/\n\s*(?:\*(?!\/)|\/\/)?\s*/g, ' ');
      for (const m of text.matchAll(/\bdocs\/([\w-]+\.md)(?:#([\w-]+)|,? (?:section )?"([^"]+)")?/g)) {
        const page = `docs/${m[1]}`;
        if (!existsSync(`${DOCS_REPO}${page}`)) problems.push({ where: file, what: `no ${page}` });
        else if (m[2] !== undefined && !anchorsOf(readDoc(page)).has(m[2])) problems.push({ where: file, what: `${page} has no #${m[2]}` });
        else if (m[3] !== undefined && !headingTitles(readDoc(page)).has(m[3].toLowerCase())) problems.push({ where: file, what: `${page} has no section "${m[3]}"` });
      }
    }
    expect(problems).toEqual([]);
  });

  it('the checks find what they look for', () => {
    // The link and anchor rules on a known page: not vacuous.
    expect(anchorsOf('# A b\n## From TypeScript: `import { X } from \'y\'`\n## A b\n```\n# not a heading\n```\n')).toEqual(
      new Set(['a-b', 'from-typescript-import--x--from-y', 'a-b-1']),
    );
    expect(linksOf('see [x](pages/a.md#b), ![i](p.png), [web](https://e.org) and `[no](code.md)`')).toEqual(['pages/a.md#b', 'p.png']);
  });
});
