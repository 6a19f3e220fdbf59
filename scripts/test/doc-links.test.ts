import { describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
// @ts-expect-error: a plain ESM script without type declarations
import { brokenReferences, checkedReferences, defaultDocuments } from '../check-doc-links.mjs';

type Ref = { line: number; ref: string; why?: string };
const broken = brokenReferences as (doc: string, root?: string) => Ref[];
const checked = checkedReferences as (doc: string, root?: string) => Ref[];
const documents = defaultDocuments as (root?: string) => string[];

/** A repository in a temp folder: path → text. */
function repo(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(tmpdir(), 'kreplay-links-'));
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  }
  return root;
}

describe('every file the documents name exists', () => {
  it("README.md, DEVELOPERS.md, docs/*.md and the packages' READMEs name no missing file", () => {
    const docs = documents();
    expect(docs).toEqual(expect.arrayContaining(['README.md', 'DEVELOPERS.md', 'docs/replay.md', 'packages/ftrace-parser/README.md']));
    const bad = docs.flatMap((d) => broken(d).map((b) => `${d}:${b.line}: ${b.why}: ${b.ref}`));
    expect(bad).toEqual([]);
    // it checks something: the shipped documents name hundreds of repository files
    expect(docs.reduce((n, d) => n + checked(d).length, 0)).toBeGreaterThan(300);
  });

  it('flags a missing link target, a missing backticked path and a missing sibling page; skips kernel paths, placeholders and generated folders', () => {
    const root = repo({
      'README.md': [
        'See [the replay page](docs/replay.md) and [gone](docs/gone.md#top), `fixtures/scenarios/a.yaml:12`,',
        '`fixtures/scenarios/missing.yaml`, `packages/cli/src/base.ts`, `mm/filemap.c`, `traces/<workload>/`,',
        '`kernel-configs/capture/*.yaml`, `out/demo-report.html`, `https://example.org/x/y`, [web](https://example.org).',
        '```sh',
        'kreplay explore fixtures/scenarios/not-checked-in-a-code-block.yaml `fixtures/nope/x.yaml`',
        '```',
      ].join('\n'),
      'docs/replay.md': 'Exit codes: `exit-codes.md`, [exit codes](exit-codes.md), `nope.md`, [back](../README.md).\n',
      'docs/exit-codes.md': '# Exit codes\n',
      'fixtures/scenarios/a.yaml': 'name: a\n',
      'packages/cli/README.md': 'Its own files: `src/base.ts`, `test/missing.test.ts`; the floors: `scripts/check-imports.mjs`.\n',
      'packages/cli/src/base.ts': '',
      'packages/cli/test/a.test.ts': '',
      'kernel-configs/capture/x.yaml': '',
      'scripts/check-imports.mjs': '',
    });
    expect(broken('README.md', root)).toEqual([
      { line: 1, ref: 'docs/gone.md#top', why: 'link target does not exist' },
      { line: 2, ref: 'fixtures/scenarios/missing.yaml', why: 'no such file or folder in the repository' },
    ]);
    expect(broken('docs/replay.md', root)).toEqual([{ line: 1, ref: 'nope.md', why: 'no such file beside docs/replay.md' }]);
    expect(broken('packages/cli/README.md', root)).toEqual([{ line: 1, ref: 'test/missing.test.ts', why: 'no such file or folder in the repository' }]);
    expect(checked('README.md', root).map((r) => r.ref)).toEqual([
      'docs/replay.md',
      'docs/gone.md#top',
      'fixtures/scenarios/a.yaml:12',
      'fixtures/scenarios/missing.yaml',
      'packages/cli/src/base.ts',
    ]);
  });
});
