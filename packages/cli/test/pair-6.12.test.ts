/**
 * `kreplay diff` on the shipped 6.12 pair (traces/pair-filemap-recheck-6.12): Debian's
 * 6.12.117 built as is and with the regression fixture
 * kernel-configs/patches/linux-6.12/0001-filemap_fault-drop-truncated-folio-recheck.patch,
 * both captured under TCG, 3 runs per side. The same pair as traces/pair-filemap-recheck on
 * 6.1. What these tests assert is what the captures showed; they run on the committed traces,
 * without QEMU.
 */
import { describe, expect, it } from '@jest/globals';
import { runCli } from './run-cli.js';

const pair = 'traces/pair-filemap-recheck-6.12';

interface Finding {
  rule: string;
  index: number;
  base: number;
  patched: number;
  certainty: string;
  exampleRun: string;
  example: { explanation: string };
}
interface Counter {
  name: string;
  base: number[];
  patched: number[];
}

async function diffJson(workload: string) {
  const r = await runCli(['diff', `${pair}/base/${workload}`, `${pair}/patched/${workload}`, '--format', 'json']);
  expect(r.stderr).not.toMatch(/internal error/);
  return { exitCode: r.exitCode, d: JSON.parse(r.stdout) };
}

describe('kreplay diff on the 6.12 filemap_fault recheck pair (offline)', () => {
  it.each([
    ['truncate-racer', [0, 1, 0]],
    ['odirect-race', [1, 2, 0]],
  ])(
    "%s: the base kernel gives no finding; without the recheck, orphan PTEs, and the workload's stale reads on pages that had one",
    async (workload, mismatches) => {
      const { exitCode, d } = await diffJson(workload as string);
      expect(exitCode).toBe(1);
      expect(d.verdict).toBe('regression');
      expect(d.warnings).toEqual([]);
      expect(d.base.runs).toHaveLength(3);
      expect(d.patched.runs).toHaveLength(3);
      expect(d.findings.fixed).toEqual([]);
      expect(d.findings.unchanged).toEqual([]);
      const found = d.findings.new as Finding[];
      expect(found.every((f) => f.base === 0 && f.exampleRun.includes('/patched/'))).toBe(true);
      // the workload's own stale reads are certain; the orphan PTEs, installed by set_pte_range with
      // no folio_add_file_rmap_ptes after it (the orphan has no ->mapping), are uncertain: the probe
      // fetched neither vmf->flags nor vma->vm_flags, so as far as the trace says they may map a
      // private write fault's copy (docs/replay.md, session 29)
      for (const f of found)
        if (f.rule === 'stale-data') expect(f.certainty).toBe('certain');
        else {
          expect(f.certainty).toBe('uncertain');
          expect(f.example.explanation).toMatch(/may have mapped a private write fault's new anonymous page rather than the file's/);
        }
      const orphans = new Set(found.filter((f) => f.rule === 'orphan-page-mapped').map((f) => f.index));
      expect(orphans.size).toBeGreaterThan(5);
      // every stale read the workload marked is on a page an orphan PTE mapped
      const stale = found.filter((f) => f.rule === 'stale-data');
      expect(stale.reduce((n, f) => n + f.patched, 0)).toBe((mismatches as number[]).reduce((a, b) => a + b, 0));
      for (const f of stale) expect(orphans.has(f.index)).toBe(true);
      expect(new Set(found.map((f) => f.rule))).toEqual(new Set(['orphan-page-mapped', 'stale-after-invalidate', 'stale-data']));
      const counter = (name: string) => (d.workload as Counter[]).find((w) => w.name === name)!;
      expect(counter('mismatches')).toMatchObject({ base: [0, 0, 0], patched: mismatches });
    },
  );
});
