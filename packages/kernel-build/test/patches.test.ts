import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readApplied, readPatch, reconcilePatches } from '../src/index.js';
import { ensureTree, readTreeState } from '../src/tree.js';
import { FAKE_PATCH, makeFakeTree } from './fake-tree.js';
import { describeWithTools, TOOLS } from '../../../test-support/tools.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const FIXTURE_PATCH = path.join(repo, 'kernel-configs/patches/0001-filemap_fault-drop-truncated-folio-recheck.patch');

/** The lines of Debian 6.1.192's mm/filemap.c around the recheck the fixture patch removes. */
const FILEMAP_6_1_EXCERPT = `	}

	if (!lock_folio_maybe_drop_mmap(vmf, folio, &fpin))
		goto out_retry;

	/* Did it get truncated? */
	if (unlikely(folio->mapping != mapping)) {
		folio_unlock(folio);
		folio_put(folio);
		goto retry_find;
	}
	VM_BUG_ON_FOLIO(!folio_contains(folio, index), folio);

	/*
	 * We have a locked page in the page cache, now we need to check
`;

let tree: string;
let tmp: string;
beforeEach(async () => {
  tree = await makeFakeTree();
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'kreplay-patches-'));
});
afterEach(async () => {
  await fs.rm(tree, { recursive: true, force: true });
  await fs.rm(tmp, { recursive: true, force: true });
});

async function write(name: string, text: string): Promise<string> {
  const file = path.join(tmp, name);
  await fs.writeFile(file, text);
  return file;
}

describe('patch paths: a patch names files inside the tree only', () => {
  const escape = (from: string, to: string) => FAKE_PATCH.replace('--- a/mm/filemap.c', `--- ${from}`).replace('+++ b/mm/filemap.c', `+++ ${to}`);
  it.each([
    ['a parent folder', 'a/../../etc/passwd', 'b/../../etc/passwd', 3, '"a/../../etc/passwd"'],
    ['an absolute path', '/etc/passwd', '/etc/passwd', 3, '"/etc/passwd"'],
    ['a parent folder on the new side only', 'a/mm/filemap.c', 'b/mm/../../x.c\t2026-12-04', 4, '"b/mm/../../x.c"'],
    ['a quoted name', '"a/../x"', '"b/../x"', 3, '"a/../x"'],
  ])('refuses %s, naming its line, before anything is applied', async (_what, from, to, line, shown) => {
    const file = await write('escape.patch', escape(from, to));
    await expect(readPatch(file)).rejects.toMatchObject({
      name: 'InputError',
      message: `the patch names a file outside the source tree: ${shown}`,
      file,
      line,
    });
  });

  it('reads git headers, renames and /dev/null, and skips hunk bodies by their counts', async () => {
    const git = `Add and rename (a test patch).

--- a/notes/skip-me
diff --git a/mm/new.c b/mm/new.c
new file mode 100644
--- /dev/null
+++ b/mm/new.c
@@ -0,0 +1,2 @@
+--- not a header: a line of the new file
+++ ../neither
diff --git a/mm/old.c b/mm/renamed.c
rename from mm/old.c
rename to mm/renamed.c
`;
    // the description (before the first diff) is not read; lines inside a hunk are content
    await expect(readPatch(await write('ok.patch', git.replace('--- a/notes/skip-me\n', '')))).resolves.toMatchObject({ name: 'ok.patch' });
    await expect(readPatch(await write('rename.patch', git.replace('rename to mm/renamed.c', 'rename to ../renamed.c')))).rejects.toMatchObject({
      line: 13,
    });
    await expect(
      readPatch(await write('gitline.patch', git.replace('diff --git a/mm/new.c b/mm/new.c', 'diff --git a/mm/new.c b/../new.c'))),
    ).rejects.toMatchObject({
      line: 4,
    });
  });
});

describe("a build tree's records, damaged", () => {
  // the records are written whole (a temporary name renamed into place): one that does not read
  // as what kreplay wrote was edited or damaged, and a build on that tree is not the build asked for
  it.each([
    ['cut short', '[{"name":"drop.patch","sha2'],
    ['an object', '{"x":1}'],
    ['a list of something else', '[1]'],
    ['nested 300 deep', `${'['.repeat(300)}${']'.repeat(300)}`],
  ])('a patch record that is %s is an environment error naming the tree, never "no patches"', async (_what, text) => {
    await fs.mkdir(path.join(tree, '.kreplay-patches'), { recursive: true });
    await fs.writeFile(path.join(tree, '.kreplay-patches', 'applied.json'), text);
    const err = (await readApplied(tree).catch((e: unknown) => e)) as Error & { hint?: string };
    expect(err.name).toBe('EnvironmentError');
    expect(err.message).toBe(
      `the cached build tree's patch record ${path.join(tree, '.kreplay-patches', 'applied.json')} is damaged (not a list of applied patches), so which patches the tree carries is unknown`,
    );
    expect(err.hint).toMatch(new RegExp(`^delete ${tree.replace(/[.+]/g, '\\$&')} and build again`));
    await expect(reconcilePatches(tree, [])).rejects.toMatchObject({ name: 'EnvironmentError' });
  });

  it('a tree whose state is not a state is copied afresh, not built on', async () => {
    const root = await fs.mkdtemp(path.join(tmp, 'trees-'));
    const key = 'k1';
    expect((await ensureTree(root, key, tree)).created).toBe(true);
    expect((await ensureTree(root, key, tree)).created).toBe(false);
    for (const state of ['[]', '{}', '{"treeKey":"k2"}', '{"treeKey":"k1","coldUnits":"many"}', '{"treeKey":"k1"']) {
      await fs.writeFile(path.join(root, key, 'mm', 'filemap.c'), 'edited\n');
      await fs.writeFile(path.join(root, key, '.kreplay-tree.json'), state);
      expect(await readTreeState(path.join(root, key))).toBeUndefined();
      expect((await ensureTree(root, key, tree)).created).toBe(true);
      expect(await fs.readFile(path.join(root, key, 'mm', 'filemap.c'), 'utf8')).toBe(await fs.readFile(path.join(tree, 'mm', 'filemap.c'), 'utf8'));
    }
    await fs.writeFile(path.join(root, key, '.kreplay-tree.json'), '{"treeKey":"k1","coldUnits":12}');
    expect(await readTreeState(path.join(root, key))).toEqual({ treeKey: 'k1', coldUnits: 12 });
  });
});

describeWithTools([TOOLS.patch], 'patches', () => {
  it('applies a patch after a dry run and records it in the tree', async () => {
    const p = await readPatch(await write('drop.patch', FAKE_PATCH));
    expect(p.header).toBe('Drop the check (a test patch).');
    expect(await reconcilePatches(tree, [p])).toEqual({ reverted: [], applied: ['drop.patch'] });
    expect(await fs.readFile(path.join(tree, 'mm/filemap.c'), 'utf8')).toContain('(void)vmf;');
    expect((await readApplied(tree)).map((a) => a.sha256)).toEqual([p.sha256]);
    // the same patch set again: nothing to do
    expect(await reconcilePatches(tree, [p])).toEqual({ reverted: [], applied: [] });
  });

  it('reverts what an earlier build applied when the next build does not want it', async () => {
    const p = await readPatch(await write('drop.patch', FAKE_PATCH));
    await reconcilePatches(tree, [p]);
    expect(await reconcilePatches(tree, [])).toEqual({ reverted: ['drop.patch'], applied: [] });
    expect(await fs.readFile(path.join(tree, 'mm/filemap.c'), 'utf8')).toContain('return 1;');
    expect(await readApplied(tree)).toEqual([]);
  });

  it("quotes patch's failure, names the patch file and leaves the tree untouched", async () => {
    const bad = FAKE_PATCH.replace('-\tif (vmf->pgoff != 0)', '-\tif (vmf->pgoff != 7)');
    const p = await readPatch(await write('stale.patch', bad));
    const before = await fs.readFile(path.join(tree, 'mm/filemap.c'), 'utf8');
    const err = (await reconcilePatches(tree, [p]).catch((e: unknown) => e)) as Error & { file?: string };
    expect(err.name).toBe('InputError');
    expect(err.file).toBe(p.file);
    expect(err.message).toMatch(/does not apply cleanly/);
    expect(err.message).toMatch(/Hunk #1 FAILED at 2/);
    expect(await fs.readFile(path.join(tree, 'mm/filemap.c'), 'utf8')).toBe(before);
    expect(await readApplied(tree)).toEqual([]);
  });

  it('names a file the patch expects but the tree lacks', async () => {
    const p = await readPatch(await write('elsewhere.patch', FAKE_PATCH.replaceAll('mm/filemap.c', 'mm/nowhere.c')));
    await expect(reconcilePatches(tree, [p])).rejects.toThrow(/can't find file|No file to patch|No such file/);
  });

  it('refuses a file that is not a unified diff', async () => {
    await expect(readPatch(await write('notes.patch', 'just some text\n'))).rejects.toThrow(
      expect.objectContaining({ name: 'InputError', message: expect.stringMatching(/not a unified diff/) }),
    );
    await expect(readPatch(path.join(tmp, 'missing.patch'))).rejects.toThrow(/cannot read patch/);
  });

  it('ships a fixture patch that says what it is and removes the 6.1 mapping recheck', async () => {
    const p = await readPatch(FIXTURE_PATCH);
    expect(p.header).toMatch(/regression fixture for kreplay, not a fix/);
    expect(p.header).toMatch(/Debian's linux-source-6.1 \(6\.1\.192\)/);
    await fs.writeFile(path.join(tree, 'mm/filemap.c'), FILEMAP_6_1_EXCERPT);
    await reconcilePatches(tree, [p]);
    const after = await fs.readFile(path.join(tree, 'mm/filemap.c'), 'utf8');
    expect(after).not.toContain('folio->mapping != mapping');
    expect(after).toContain('VM_BUG_ON_FOLIO(!folio_contains(folio, index), folio);');
  });
});
