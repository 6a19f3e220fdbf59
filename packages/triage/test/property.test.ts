/**
 * Fuzz-ish properties of the reader over random input: whatever the text or bytes — random
 * characters, random bytes, real reports cut, shuffled, spliced with junk — reading and
 * triaging it either succeeds or throws an InputError; nothing else escapes. And the
 * streaming reader gives the same lines however the input is split into chunks.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isInputError } from '@kreplay/core';
import { LineSource, parseReport, scanReportFile, triage } from '@kreplay/triage';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../fixtures/reports');
const reports = readdirSync(dir)
  .sort()
  .filter((d) => existsSync(path.join(dir, d, 'report.txt')))
  .map((d) => readFileSync(path.join(dir, d, 'report.txt'), 'utf8'));
const realLines = reports.flatMap((r) => r.split('\n'));

let modelled = 0;

/** Only InputError may escape; returns what happened for the statistics. */
async function survives(run: () => Promise<unknown>): Promise<'ok' | 'input-error'> {
  try {
    const r = await run();
    for (const s of (r as { splats?: Array<{ model: { status: string } | null }> })?.splats ?? []) {
      if (s.model && s.model.status !== 'not-modelled') modelled++;
    }
    return 'ok';
  } catch (e) {
    if (isInputError(e)) return 'input-error';
    throw e;
  }
}

const triageText = (text: string, model: boolean) => survives(async () => triage(parseReport(text, 'fuzz.txt'), { model, maxStates: 3000, timeoutMs: 5000 }));

// Pieces of kernel console output that steer the reader into its branches.
const token = fc.constantFrom(
  'BUG: Bad page cache in process x  pfn:0d000',
  'kernel BUG at mm/filemap.c:128!',
  'WARNING: CPU: 1 PID: 2 at mm/truncate.c:60 cancel_dirty_page+0x1/0x2',
  'BUG: warning at mm/truncate.c:60/cancel_dirty_page()',
  'INFO: task a:1 blocked for more than 120 seconds.',
  'BUG: KASAN: use-after-free in f+0x1/0x2',
  'page: refcount:3 mapcount:1 mapping:0000 index:0x1 pfn:0xd000',
  'page:ffffea0 count:0 mapcount:0 mapping:0 index:0x0',
  'head: order:9 mapcount:1',
  'flags: 0x2d(locked|referenced|node=0',
  'page dumped because: still mapped when deleted',
  'Call Trace:',
  ' <IRQ>',
  ' </IRQ>',
  ' <TASK>',
  ' __filemap_remove_folio+0x38/0x1c0',
  ' ? filemap_fault+0x1/0x2',
  ' [<c0103cfb>] dump_stack+0x19/0x1b',
  ' invalidate_inode_pages2_range+0x1e0/0x4f0',
  'RIP: 0010:folio_unlock+0x13d/0x160',
  '------------[ cut here ]------------',
  '---[ end trace 0000 ]---',
  'Linux version 6.1.0-13-amd64',
  'CPU: 0 PID: 1 Comm: x Not tainted 2.6.19.1 #1',
  '> ',
  '[    1.000000] ',
  '[ 1.0][ T1] ',
  '=3D',
  '=',
  '\r',
  '\t',
  '\u0000',
  '\ufffd',
  '',
);
const junk = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }), token);

describe('random input never throws anything but InputError', () => {
  it('random strings and console-like token soup', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 400 }),
          fc.string({ unit: 'binary', maxLength: 400 }),
          fc.array(junk, { maxLength: 60 }).map((a) => a.join('\n')),
        ),
        async (text) => {
          await triageText(text, false);
        },
      ),
      { numRuns: 400 },
    );
  }, 120_000);

  it('real reports cut, shuffled and spliced with junk (model on, bounded)', async () => {
    const stats = { 'ok': 0, 'input-error': 0 };
    modelled = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: reports.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.oneof(junk, fc.constantFrom(...realLines))), { maxLength: 6 }),
        fc.constantFrom('drop-a-few', 'cut-the-tail', 'keep-the-head'),
        fc.nat(),
        fc.nat({ max: 6 }),
        fc.boolean(),
        async (i, edits, how, from, len, crlf) => {
          const lines = reports[i]!.split('\n');
          const at = from % (lines.length + 1);
          const cut = how === 'drop-a-few' ? [...lines.slice(0, at), ...lines.slice(at + len)] : how === 'cut-the-tail' ? lines.slice(0, at) : lines.slice(at);
          for (const [k, what] of edits) cut.splice(k % (cut.length + 1), 0, what);
          stats[await triageText(cut.join(crlf ? '\r\n' : '\n'), true)]++;
        },
      ),
      { numRuns: 150 },
    );
    // The property saw both outcomes (it is not only testing the error path).
    expect(stats.ok).toBeGreaterThan(0);
    expect(stats['input-error']).toBeGreaterThan(0);
    expect(modelled).toBeGreaterThan(0);
  }, 300_000);

  it('random bytes from a file (binary is refused as not a kernel log)', async () => {
    const tmp = await mkdtemp(path.join(tmpdir(), 'kreplay-triage-fuzz-'));
    try {
      let n = 0;
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ maxLength: 20_000 }), async (bytes) => {
          const f = path.join(tmp, `r${n++}.bin`);
          await writeFile(f, bytes);
          await survives(async () => triage(await scanReportFile(f), { model: false }));
        }),
        { numRuns: 100 },
      );
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('streaming', () => {
  it('the same lines however the input is split into chunks', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: reports.length - 1 }), fc.array(fc.nat(), { maxLength: 12 }), (i, cuts) => {
        const bytes = new TextEncoder().encode(reports[i]!);
        const whole = new LineSource('r');
        const want = [...whole.push(bytes), ...whole.end()];
        const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        const parts = new LineSource('r');
        const got = [];
        let prev = 0;
        for (const c of [...at, bytes.length]) {
          got.push(...parts.push(bytes.subarray(prev, c)));
          prev = c;
        }
        got.push(...parts.end());
        expect(got).toEqual(want);
      }),
      { numRuns: 200 },
    );
  });
});
