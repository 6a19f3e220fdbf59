/**
 * saved_tgids beside a trace.dat (session 44): the kernel's pid → tgid table, untrusted input,
 * read strictly (file:line errors, exit 2), bounded in size.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findSavedTgids, isInputError, parseSavedTgids, PID_MAX_LIMIT, readSavedTgids, SAVED_TGIDS_MAX_BYTES, savedTgidsCandidates } from '@kreplay/core';

const tmp = mkdtempSync(path.join(tmpdir(), 'kreplay-tgids-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// as a Debian 6.1.192 guest printed it after an odirect-race run (kreplay capture --trace-cmd, session 44)
const CAPTURED = '15 15\n22 22\n25 25\n33 33\n117 117\n159 159\n217 217\n220 220\n221 221\n222 221\n223 221\n224 224\n';

describe('saved_tgids', () => {
  it("reads the kernel's table: each pid's thread group", () => {
    const m = parseSavedTgids(CAPTURED, 'saved_tgids');
    expect(m.size).toBe(12);
    expect([m.get(222), m.get(223), m.get(221), m.get(224), m.get(1)]).toEqual([221, 221, 221, 224, undefined]);
    expect(parseSavedTgids('', 'saved_tgids').size).toBe(0);
    expect(parseSavedTgids(`${PID_MAX_LIMIT} 1\n`, 'f').get(PID_MAX_LIMIT)).toBe(1);
  });

  it.each([
    ['a word', '15 15\nkr-fault 221\n', 2, 'not a `pid tgid` line'],
    ['three numbers', '15 15 15\n', 1, 'not a `pid tgid` line'],
    ['a tab', '15\t15\n', 1, 'not a `pid tgid` line'],
    ['pid 0', '0 1\n', 1, 'not a `pid tgid` line'],
    ['a leading zero', '015 15\n', 1, 'not a `pid tgid` line'],
    ['a pid past PID_MAX_LIMIT', `${PID_MAX_LIMIT + 1} 1\n`, 1, 'not a `pid tgid` line'],
    ['a huge tgid', '15 99999999999999999999\n', 1, 'not a `pid tgid` line'],
    ['a negative tgid', '15 -1\n', 1, 'not a `pid tgid` line'],
    ['an empty line', '15 15\n\n22 22\n', 2, 'not a `pid tgid` line'],
    ['a CR', '15 15\r\n', 1, 'not a `pid tgid` line'],
    ['a pid twice', '15 15\n22 22\n15 16\n', 3, 'pid 15 is listed twice (tgid 15, then 16)'],
    ['a cut last line', '15 15\n22 2', 2, 'the last line has no newline'],
  ])('refuses %s, at its line', (_what, text, line, said) => {
    const e = (() => {
      try {
        return parseSavedTgids(text, 'run/saved_tgids');
      } catch (x) {
        return x;
      }
    })();
    expect(isInputError(e)).toBe(true);
    expect(e).toMatchObject({ file: 'run/saved_tgids', line });
    expect((e as Error).message).toContain(said);
    expect((e as Error).message).not.toMatch(/[\r\n]/);
  });

  it('refuses a file larger than any kernel table before reading it, and one that is not UTF-8', async () => {
    const big = path.join(tmp, 'big');
    writeFileSync(big, '');
    truncateSync(big, SAVED_TGIDS_MAX_BYTES + 1);
    await expect(readSavedTgids(big)).rejects.toMatchObject({ file: big, message: expect.stringContaining('more than the') });
    const bin = path.join(tmp, 'bin');
    writeFileSync(bin, Buffer.from([0x31, 0x20, 0x31, 0x0a, 0xff, 0xfe, 0x0a]));
    expect(isInputError(await readSavedTgids(bin).catch((x: unknown) => x))).toBe(true);
    expect(isInputError(await readSavedTgids(path.join(tmp, 'none')).catch((x: unknown) => x))).toBe(true);
  });

  it("is found beside the trace: T.saved_tgids first, then the folder's saved_tgids", () => {
    const dir = path.join(tmp, 'run');
    mkdirSync(dir);
    const dat = path.join(dir, 'trace.dat');
    expect(savedTgidsCandidates(dat)).toEqual([`${dat}.saved_tgids`, path.join(dir, 'saved_tgids')]);
    expect(findSavedTgids(dat)).toBeUndefined();
    writeFileSync(path.join(dir, 'saved_tgids'), CAPTURED);
    expect(findSavedTgids(dat)).toBe(path.join(dir, 'saved_tgids'));
    writeFileSync(`${dat}.saved_tgids`, CAPTURED);
    expect(findSavedTgids(dat)).toBe(`${dat}.saved_tgids`);
    expect(findSavedTgids('-')).toBeUndefined();
  });
});
