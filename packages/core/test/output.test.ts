import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkOutputFolder, checkOutputPath, createAtomicWriteStream, writeFileAtomic } from '@kreplay/core';
import { describeWithTools } from '../../../test-support/tools.js';
import { mountTinyFs, TINY_FS } from '../../../test-support/tiny-fs.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'kreplay-output-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function failure(p: Promise<unknown>): Promise<{ name?: string; message?: string; hint?: string }> {
  return p.then(
    () => ({}),
    (e: Error & { hint?: string }) => ({ name: e.name, message: e.message, hint: e.hint }),
  );
}

describe('writeFileAtomic', () => {
  it('writes the whole file under its name, and replaces an older one', async () => {
    const f = path.join(tmp, 'a.txt');
    writeFileSync(f, 'old');
    await writeFileAtomic(f, 'new text');
    expect(readFileSync(f, 'utf8')).toBe('new text');
    expect(readdirSync(tmp).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it.each([
    [
      'a folder',
      () => {
        mkdirSync(path.join(tmp, 'dir'), { recursive: true });
        return path.join(tmp, 'dir');
      },
      /cannot write .*dir: it is a folder/,
    ],
    ['a missing parent', () => path.join(tmp, 'no', 'such', 'x.txt'), /cannot write .*x\.txt: its folder does not exist/],
    [
      'a file as parent',
      () => {
        writeFileSync(path.join(tmp, 'plain'), '');
        return path.join(tmp, 'plain', 'x.txt');
      },
      /a part of its path is a file, not a folder/,
    ],
    ['/dev/full', () => '/dev/full', /cannot write \/dev\/full: the disk is full/],
  ])('turns %s into an environment error with a hint, leaving no temporary file', async (_what, make, message) => {
    const before = readdirSync(tmp).length;
    const e = await failure(writeFileAtomic(make(), 'x'.repeat(10_000)));
    expect(e).toMatchObject({ name: 'EnvironmentError', message: expect.stringMatching(message), hint: expect.any(String) });
    expect(readdirSync(tmp).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    expect(readdirSync(tmp).length).toBeLessThanOrEqual(before + 2);
  });

  it('writes through a symbolic link to the file it names, and into a device in place', async () => {
    const real = path.join(tmp, 'real.txt');
    writeFileSync(real, 'old');
    symlinkSync(real, path.join(tmp, 'link.txt'));
    await writeFileAtomic(path.join(tmp, 'link.txt'), 'via link');
    expect(readFileSync(real, 'utf8')).toBe('via link');
    await writeFileAtomic('/dev/null', 'discarded');
  });
});

describe('createAtomicWriteStream', () => {
  it('shows the file under its name only once committed', async () => {
    const f = path.join(tmp, 'stream.json');
    const w = createAtomicWriteStream(f);
    for (let i = 0; i < 1000; i++) {
      w.write(`${i}\n`);
      await w.drained();
    }
    expect(() => readFileSync(f)).toThrow();
    await w.commit();
    expect(readFileSync(f, 'utf8').split('\n')).toHaveLength(1001);
  });

  it('abort leaves neither the file nor a temporary one', async () => {
    const f = path.join(tmp, 'aborted.json');
    const w = createAtomicWriteStream(f);
    w.write('{"half":');
    await w.abort();
    expect(readdirSync(tmp).filter((n) => n.includes('aborted'))).toEqual([]);
  });

  it('a stream error (a missing folder, /dev/full) is an environment error at commit', async () => {
    expect(await failure(createAtomicWriteStream(path.join(tmp, 'nope', 'p.json')).commit())).toMatchObject({
      name: 'EnvironmentError',
      message: expect.stringMatching(/its folder does not exist/),
    });
    const w = createAtomicWriteStream('/dev/full');
    w.write('x'.repeat(1 << 16));
    expect(await failure(w.commit())).toMatchObject({ name: 'EnvironmentError', message: 'cannot write /dev/full: the disk is full' });
  });
});

describeWithTools([TINY_FS], 'a full disk (a 64 KiB tmpfs)', () => {
  let fs: { dir: string; unmount: () => void };
  beforeAll(() => {
    fs = mountTinyFs(64);
  });
  afterAll(() => fs.unmount());

  it('writeFileAtomic and the stream fail with "the disk is full", leaving the folder empty', async () => {
    expect(await failure(writeFileAtomic(path.join(fs.dir, 'big.txt'), 'x'.repeat(1 << 20)))).toMatchObject({
      name: 'EnvironmentError',
      message: expect.stringMatching(/big\.txt: the disk is full/),
      hint: 'free some space or write elsewhere',
    });
    const w = createAtomicWriteStream(path.join(fs.dir, 'big.json'));
    for (let i = 0; i < 64; i++) {
      w.write('y'.repeat(1 << 14));
      await w.drained();
    }
    expect(await failure(w.commit())).toMatchObject({ name: 'EnvironmentError', message: expect.stringMatching(/big\.json: the disk is full/) });
    expect(readdirSync(fs.dir)).toEqual([]);
  });
});

describe('checking an output before the work', () => {
  it('checkOutputPath refuses a folder, a missing parent and a file as parent; accepts a new file', async () => {
    await checkOutputPath(path.join(tmp, 'new.txt'));
    expect((await failure(checkOutputPath(tmp))).message).toMatch(/it is a folder/);
    expect((await failure(checkOutputPath(path.join(tmp, 'x', 'y.txt')))).message).toMatch(/its folder does not exist/);
    writeFileSync(path.join(tmp, 'f'), '');
    expect((await failure(checkOutputPath(path.join(tmp, 'f', 'y.txt')))).message).toMatch(/not a folder|a part of its path is a file/);
  });

  it('checkOutputFolder fails at once where mkdir fails with ENOENT under an existing folder (/proc), instead of looping', async () => {
    if (!existsSync('/proc/self')) return; // Linux only: /proc is where Node's recursive mkdir never returns
    const started = Date.now();
    expect(await failure(checkOutputFolder('/proc/kreplay-no-such-folder/out'))).toMatchObject({
      name: 'EnvironmentError',
      message: expect.stringMatching(/^cannot write into \/proc\/kreplay-no-such-folder/),
    });
    expect(Date.now() - started).toBeLessThan(5000);
  }, 10_000);

  it('checkOutputFolder makes the folder, and refuses a file in the way', async () => {
    await checkOutputFolder(path.join(tmp, 'made', 'deep'));
    writeFileSync(path.join(tmp, 'file-in-way'), '');
    expect(await failure(checkOutputFolder(path.join(tmp, 'file-in-way')))).toMatchObject({
      name: 'EnvironmentError',
      message: expect.stringMatching(/it is a file, not a folder/),
    });
  });
});
