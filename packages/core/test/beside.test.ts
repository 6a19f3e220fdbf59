/**
 * What lies beside a trace (core contracts/beside.ts): meta.json beside any trace, saved_tgids beside
 * a trace.dat only — parse and replay find both through besideTrace, so they cannot drift.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { besideTrace, isTraceDatFile, TRACE_DAT_MAGIC } from '@kreplay/core';

const tmp = mkdtempSync(path.join(tmpdir(), 'kreplay-beside-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const DAT_HEAD = Buffer.concat([Buffer.from(TRACE_DAT_MAGIC), Buffer.from('6\0')]);

describe('besideTrace', () => {
  it("finds a trace.dat's saved_tgids and meta.json, and a text trace's meta.json only (its thread groups are its own column)", async () => {
    const dir = path.join(tmp, 'run');
    mkdirSync(dir);
    const dat = path.join(dir, 'trace.dat');
    const txt = path.join(dir, 'trace.txt.gz');
    writeFileSync(dat, DAT_HEAD);
    writeFileSync(txt, 'not read');
    expect(await besideTrace(dat)).toEqual({});
    writeFileSync(path.join(dir, 'saved_tgids'), 'garbage\n');
    writeFileSync(path.join(dir, 'meta.json'), '{}');
    expect(await besideTrace(dat)).toEqual({ meta: path.join(dir, 'meta.json'), savedTgids: path.join(dir, 'saved_tgids') });
    expect(await besideTrace(txt)).toEqual({ meta: path.join(dir, 'meta.json') });
    // the name does not make a trace.dat: its magic does (a text trace named trace.dat has no saved_tgids)
    const named = path.join(dir, 'other.dat');
    writeFileSync(named, '# tracer: nop\n');
    expect(await besideTrace(named)).toEqual({ meta: path.join(dir, 'meta.json') });
    expect(await besideTrace('-')).toEqual({});
  });

  it('tells a trace.dat by its magic, and a missing, short or unreadable file is none', async () => {
    const f = path.join(tmp, 'magic');
    writeFileSync(f, DAT_HEAD);
    expect(await isTraceDatFile(f)).toBe(true);
    writeFileSync(f, DAT_HEAD.subarray(0, 5));
    expect(await isTraceDatFile(f)).toBe(false);
    expect(await isTraceDatFile(path.join(tmp, 'none'))).toBe(false);
    expect(await isTraceDatFile(tmp)).toBe(false);
    expect(await isTraceDatFile('-')).toBe(false);
  });
});
