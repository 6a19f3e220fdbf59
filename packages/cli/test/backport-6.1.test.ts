/**
 * `kreplay diff` on the shipped 6.1 backport pair (traces/backport-6.1, docs/backport-6.1.md):
 * Debian's 6.1.192 built as is and with the 6.1.159-rc1 backport of 74207de2ba10, both
 * captured under TCG, 3 runs per side. What these tests assert is what the captures showed;
 * they run on the committed traces, without QEMU.
 */
import { describe, expect, it } from '@jest/globals';
import { runCli } from './run-cli.js';

const pair = 'traces/backport-6.1';

interface Finding {
  rule: string;
  index: number;
  base: number;
  patched: number;
  baseRuns: number;
  patchedRuns: number;
  certainty: string;
  exampleRun: string;
}
interface Metric {
  name: string;
  base: { count: number };
  patched: { count: number };
}
interface Counter {
  name: string;
  base: number[];
  patched: number[];
}

async function diffJson(workload: string) {
  const r = await runCli(['diff', `${pair}/base/${workload}`, `${pair}/backport/${workload}`, '--format', 'json']);
  expect(r.stderr).not.toMatch(/internal error/);
  return { exitCode: r.exitCode, d: JSON.parse(r.stdout) };
}

describe('kreplay diff on the 74207de2ba10 6.1 backport pair (offline)', () => {
  it("remap-truncate: the backport maps the file's last page through a zero PMD, and truncate removes it while still mapped", async () => {
    const { exitCode, d } = await diffJson('remap-truncate');
    expect(exitCode).toBe(1);
    expect(d.warnings).toEqual([]);
    expect(d.base.runs).toHaveLength(3);
    expect(d.patched.runs).toHaveLength(3);
    expect(d.findings.fixed).toEqual([]);
    expect(d.findings.unchanged).toEqual([]);
    const found = (d.findings.new as Finding[]).map((f) => [f.rule, f.index, f.base, f.patched, f.patchedRuns, f.certainty]);
    // The 16-page file's last page (index 15) is the one remap-truncate maps alone; all of it in
    // the boot's first run, which used up the zero PTE slots of physical page 0.
    expect(found).toEqual([
      ['mapped-page-removed', 15, 0, 31, 1, 'certain'],
      ['stale-after-invalidate', 15, 0, 31, 1, 'certain'],
    ]);
    expect((d.findings.new as Finding[]).every((f) => f.exampleRun.endsWith('backport/remap-truncate/run-1/trace.txt.gz'))).toBe(true);
    expect(d.reasons).toEqual([
      'new error mapped-page-removed on 254:0/c index 15 (31× in 1 patched run)',
      'new error stale-after-invalidate on 254:0/c index 15 (31× in 1 patched run)',
    ]);

    // Every phantom PTE got page_add_file_rmap and nothing ever zapped it: 357 more maps than
    // unmaps, the kernel's own "Bad rss-counter state … MM_FILEPAGES val:357" at exit.
    const metric = (name: string) => (d.behaviour as Metric[]).find((b) => b.name === name)!;
    expect(metric('pte_maps').base.count - metric('pte_unmaps').base.count).toBe(0);
    expect(metric('pte_maps').patched.count - metric('pte_unmaps').patched.count).toBe(357);
    // The kernel printed "BUG: Bad page cache" once per page replay flags (capture attaches the
    // whole boot's log to each of its runs, hence the same count three times).
    const counter = (name: string) => (d.workload as Counter[]).find((w) => w.name === name)!;
    expect(counter('kernel_log.bad-page-cache')).toMatchObject({ base: [0, 0, 0], patched: [31, 31, 31] });
    expect(counter('mismatches')).toMatchObject({ base: [0, 0, 0], patched: [0, 0, 0] });
  });

  // The one other workload that reaches filemap_map_pages (the others run with
  // fault_around_bytes 4096, so the code the backport changes never runs; their diffs are in
  // docs/backport-6.1.md). Its mapping covers the whole file and keeps its page table: no
  // phantom PTE, nothing new.
  it('odirect-race-faultaround: no new finding, every PTE mapped on the backport side is zapped again', async () => {
    const { exitCode, d } = await diffJson('odirect-race-faultaround');
    expect(exitCode).toBe(0);
    expect(d.findings.new).toEqual([]);
    expect(d.findings.fixed).toEqual([]);
    expect(d.patched.runs).toHaveLength(3);
    const metric = (name: string) => (d.behaviour as Metric[]).find((b) => b.name === name)!;
    expect(metric('pte_maps').patched.count).toBeGreaterThan(10000);
    expect(metric('pte_maps').patched.count).toBe(metric('pte_unmaps').patched.count);
    expect((d.workload as Counter[]).find((w) => w.name === 'kernel_log_lines')).toMatchObject({ patched: [0, 0, 0] });
  });
});
