/**
 * Unusable events on a real capture (issue 12: "one field appended to a few trace lines
 * turned 23 findings into 114, all certain"). The patched odirect-race run 1 (a 6.1 kernel
 * without filemap_fault's mapping recheck) with a word appended to five page-cache removals,
 * which makes them unreadable: the findings they cause are uncertain, the ones they cannot
 * touch stay certain, and the count is in the verdict.
 */
import { describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import type { Finding } from '@kreplay/core';
import { parseTraceString } from '@kreplay/ftrace-parser';
import { replay } from '@kreplay/replay';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const dir = path.join(root, 'traces/pair-filemap-recheck/patched/odirect-race/run-1');
const key = (f: Finding) => `${f.rule} ${f.file} ${f.index} ${f.events[0]?.line}`;

describe('unusable events on a real capture', () => {
  it('make the findings that depend on them uncertain, and are counted in the verdict', async () => {
    if (!existsSync(dir)) return;
    const meta = JSON.parse(readFileSync(path.join(dir, 'meta.json'), 'utf8'));
    // The workload maps its file MAP_SHARED (packages/capture/c/kr-race.h), which the capture's
    // do_set_pte probe did not fetch: without it a PTE on a page that left the cache may be a
    // private write fault's anonymous copy (docs/replay.md, *Nested probes*). Said here as the probe
    // would say it (VM_SHARED, 0x8, in vma->vm_flags), so the findings stand or fall by the damage alone.
    meta.probes.probes['kprobe:do_set_pte'].args.vmFlags = 'vm_flags';
    const text = gunzipSync(readFileSync(path.join(dir, 'trace.txt.gz')))
      .toString('utf8')
      .replace(/^(.*do_set_pte: .*)$/gm, '$1 vm_flags=0xfb');
    let n = 0;
    const damaged = text.replace(/^(.*mm_filemap_delete_from_page_cache: .*)$/gm, (l) => (n++ < 5 ? `${l} extra` : l));
    const run = (t: string) => replay(parseTraceString(t, { source: 't.txt' }), { source: 't.txt', meta });
    const clean = await run(text);
    const hurt = await run(damaged);
    expect(clean.verdict).toMatchObject({ status: 'findings', unusableEvents: 0 });
    expect(clean.findings.every((f) => f.certainty === 'certain')).toBe(true);
    expect(hurt.verdict.unusableEvents).toBe(5);
    const before = new Set(clean.findings.map(key));
    const added = hurt.findings.filter((f) => !before.has(key(f)));
    expect(added.length).toBeGreaterThan(0);
    for (const f of added) {
      expect(f.certainty).toBe('uncertain');
      expect(f.explanation).toMatch(/Uncertain: .*mm_filemap_delete_from_page_cache at line \d+ could not be used/);
    }
    // what the damaged lines cannot have changed stays certain
    expect(hurt.verdict.certain).toBe(clean.verdict.certain);
    expect(
      hurt.findings
        .filter((f) => f.certainty === 'certain')
        .map(key)
        .every((k) => before.has(k)),
    ).toBe(true);
  });
});
