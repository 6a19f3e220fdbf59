import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-expect-error: a plain ESM script without type declarations
import { checkImports } from '../check-imports.mjs';

type Problem = { file: string; line: number; message: string };
type Exception = { from: string; to: string; why: string };
const check = checkImports as (root: string, opts?: { exceptions?: Exception[] }) => { problems: Problem[]; graph: Map<string, Set<string>> };
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const script = path.join(repo, 'scripts/check-imports.mjs');

/** A workspace in a temp folder: folder → [package.json fields, { src file: text }]. */
function workspace(pkgs: Record<string, [Record<string, unknown>, Record<string, string>]>): string {
  const root = mkdtempSync(path.join(tmpdir(), 'kreplay-floors-'));
  for (const [folder, [manifest, files]] of Object.entries(pkgs)) {
    const dir = path.join(root, 'packages', folder);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify(manifest));
    for (const [file, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      writeFileSync(path.join(dir, file), text);
    }
  }
  return root;
}

const core = { name: '@kreplay/core', dependencies: { zod: '^4' } };
const replay = { name: '@kreplay/replay', dependencies: { '@kreplay/core': '0.1.0', '@kreplay/ftrace-parser': '0.1.0' } };
const messages = (root: string): string[] => check(root).problems.map((p) => `${p.file}:${p.line}: ${p.message}`);

describe('the package floors (scripts/check-imports.mjs)', () => {
  it('hold in this repository', () => {
    expect(messages(repo)).toEqual([]);
  });

  it('pass a workspace whose packages import only downward', () => {
    const root = workspace({
      core: [core, { 'src/index.ts': "import { z } from 'zod';\nimport { readFile } from 'node:fs/promises';\nexport const x = z;\n" }],
      replay: [replay, { 'src/index.ts': "import { InputError } from '@kreplay/core';\nexport type T = import('@kreplay/core').Finding;\n" }],
    });
    expect(messages(root)).toEqual([]);
    expect([...check(root).graph.get('@kreplay/replay')!]).toEqual(['@kreplay/core']);
  });

  it('fail when core imports replay, and the CLI exits 1 naming the file and line', () => {
    const root = workspace({
      core: [
        { ...core, dependencies: { '@kreplay/replay': '0.1.0' } },
        { 'src/index.ts': "// the upward import\nexport { replay } from '@kreplay/replay';\n" },
      ],
      replay: [replay, { 'src/index.ts': 'export const replay = 1;\n' }],
    });
    expect(messages(root)).toEqual([
      'packages/core/package.json:1: @kreplay/core depends on @kreplay/replay, above its floor (no kreplay package); move it to devDependencies if only tests use it',
      'packages/core/src/index.ts:2: @kreplay/core must not import @kreplay/replay (upward or sideways); it may import: no kreplay package',
    ]);
    let status = 0;
    let stderr = '';
    try {
      execFileSync(process.execPath, [script, '--root', root], { encoding: 'utf8', stdio: 'pipe' });
    } catch (e) {
      ({ status, stderr } = e as { status: number; stderr: string });
    }
    expect(status).toBe(1);
    expect(stderr).toContain('packages/core/src/index.ts:2: @kreplay/core must not import @kreplay/replay');
  });

  it('catch dynamic imports, import types and sideways imports between packages of one floor', () => {
    const root = workspace({
      explore: [
        { name: '@kreplay/explore', dependencies: { '@kreplay/core': '0.1.0' } },
        {
          'src/a.ts': "export async function f() { return import('@kreplay/mm-model'); }\n",
          'src/b.ts': "export type M = import('@kreplay/mm-model').Machine;\n",
        },
      ],
    });
    const m = messages(root);
    expect(m).toContain('packages/explore/src/a.ts:1: @kreplay/explore must not import @kreplay/mm-model (upward or sideways); it may import: @kreplay/core');
    expect(m).toContain('packages/explore/src/b.ts:1: @kreplay/explore must not import @kreplay/mm-model (upward or sideways); it may import: @kreplay/core');
  });

  it('fail closed: a package with no floor, and an import of a kreplay name in no floor', () => {
    const root = workspace({
      newthing: [{ name: '@kreplay/newthing' }, { 'src/index.ts': 'export {};\n' }],
      core: [core, { 'src/index.ts': "import '@kreplay/elsewhere';\n" }],
    });
    const m = messages(root);
    expect(m.some((x) => x.startsWith('packages/newthing/package.json:1: package @kreplay/newthing has no floor: add one line'))).toBe(true);
    expect(m.some((x) => x.startsWith('packages/core/src/index.ts:1: @kreplay/elsewhere is in no floor'))).toBe(true);
  });

  it('nothing imports the CLI, not even the pipeline that may import every library', () => {
    const root = workspace({
      pipeline: [
        { name: '@kreplay/pipeline', dependencies: { '@kreplay/report': '0.1.0', 'kreplay': '0.1.0' } },
        {
          'src/index.ts': "import '@kreplay/report';\nimport 'kreplay';\n",
        },
      ],
    });
    const m = messages(root);
    expect(m).toContain(
      'packages/pipeline/src/index.ts:2: @kreplay/pipeline must not import kreplay (upward or sideways); it may import: ' +
        '@kreplay/core, @kreplay/ftrace-parser, @kreplay/mm-model, @kreplay/explore, @kreplay/capture, @kreplay/kernel-build, @kreplay/lkmm, ' +
        '@kreplay/replay, @kreplay/diff, @kreplay/report, @kreplay/triage',
    );
    expect(m.filter((x) => x.includes('src/index.ts:1:'))).toEqual([]);
  });

  it('allow an import above the floor only while an exception names it, and fail when the exception outlives it', () => {
    const exceptions = [{ from: '@kreplay/report', to: '@kreplay/ftrace-parser', why: 'until the move lands' }];
    const report = { name: '@kreplay/report', dependencies: { '@kreplay/core': '0.1.0', '@kreplay/ftrace-parser': '0.1.0' } };
    const before = workspace({ report: [report, { 'src/index.ts': "import '@kreplay/ftrace-parser';\n" }] });
    expect(check(before).problems.map((p) => p.message)).toEqual([
      '@kreplay/report depends on @kreplay/ftrace-parser, above its floor (@kreplay/core, @kreplay/replay, @kreplay/diff); move it to devDependencies if only tests use it',
      '@kreplay/report must not import @kreplay/ftrace-parser (upward or sideways); it may import: @kreplay/core, @kreplay/replay, @kreplay/diff',
    ]);
    expect(check(before, { exceptions }).problems).toEqual([]);
    const after = workspace({ report: [report, { 'src/index.ts': "import '@kreplay/core';\n" }] });
    expect(check(after, { exceptions }).problems.map((p) => p.message)).toEqual([
      'the exception @kreplay/report → @kreplay/ftrace-parser is no longer used: delete it from EXCEPTIONS',
    ]);
  });

  it('fail on relative imports out of the package, undeclared dependencies, and a library that prints or exits', () => {
    const root = workspace({
      core: [
        core,
        {
          'src/a.ts': "import { x } from '../../replay/src/index.js';\nimport YAML from 'yaml';\nexport const y = [x, YAML];\n",
          'src/b.ts': "export function f() {\n  console.log('hi');\n  process.stdout.write('x');\n  process.exit(2);\n}\n",
          'src/c.ts': 'export const load = (name: string) => import(name);\n',
        },
      ],
      cli: [
        { name: 'kreplay', dependencies: { '@kreplay/core': '0.1.0' } },
        { 'src/index.ts': "import '@kreplay/core';\nconsole.log('the CLI prints');\nprocess.exit(0);\n" },
      ],
    });
    expect(messages(root)).toEqual([
      "packages/core/src/a.ts:1: '../../replay/src/index.js' reaches outside @kreplay/core: import the other package by its name",
      "packages/core/src/a.ts:2: yaml is not in @kreplay/core's dependencies: an installed copy would not find it",
      'packages/core/src/b.ts:2: console.log in library @kreplay/core: only the CLI prints or exits; return the result, or take a callback',
      'packages/core/src/b.ts:3: process.stdout in library @kreplay/core: only the CLI prints or exits; return the result, or take a callback',
      'packages/core/src/b.ts:4: process.exit in library @kreplay/core: only the CLI prints or exits; return the result, or take a callback',
      'packages/core/src/c.ts:1: import() or require() of a computed name: the floors cannot be checked; import a literal name (or a user-named file as pathToFileURL(path).href)',
    ]);
  });
});
