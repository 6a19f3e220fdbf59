/**
 * Every real report in fixtures/reports/ read as its expected.json says: per splat the
 * title, kind, kernel, task, CPU, rule, culprit, top frames, page fields, path and what the
 * model concluded. For the syzkaller fixtures, kreplay's title is compared with syzkaller's
 * own (their TITLE header): every disagreement must be one expected.json explains.
 */
import { describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { scanReportFile, triage, type SplatTriage } from '@kreplay/triage';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../fixtures/reports');
const cases = readdirSync(dir)
  .filter((d) => existsSync(path.join(dir, d, 'report.txt')))
  .sort();

interface Expected {
  origin: { url: string; licence: string };
  splats: Array<Record<string, unknown>>;
  syzkaller?: { title: string; agrees: boolean; why?: string };
}

function reading(s: SplatTriage): Record<string, unknown> {
  const e: Record<string, unknown> = {
    title: s.title,
    kind: s.kind,
    kernel: s.kernel,
    task: s.task,
    cpu: s.cpu,
    rule: s.rule,
    culprit: s.culprit?.function ?? null,
    topFrames: s.frames
      .filter((f) => !f.unreliable)
      .slice(0, 5)
      .map((f) => f.function),
    page: s.page
      ? {
          refcount: s.page.refcount,
          mapcount: s.page.mapcount,
          mapping: s.page.mapping,
          index: s.page.index,
          pfn: s.page.pfn,
          order: s.page.head?.order ?? null,
          flags: s.page.flags?.names ?? null,
          reason: s.page.reason,
        }
      : null,
    path: s.paths.reporter ? (s.paths.reporter.program ?? s.paths.reporter.label) : null,
    model: s.model?.status ?? null,
  };
  if (s.duplicateOf !== null) e['duplicateOf'] = s.duplicateOf;
  if (s.truncated) e['truncated'] = s.truncated;
  return e;
}

describe('the corpus of real reports (fixtures/reports)', () => {
  it('has at least 25 reports, each with its origin', () => {
    expect(cases.length).toBeGreaterThanOrEqual(25);
    for (const c of cases) {
      const e = JSON.parse(readFileSync(path.join(dir, c, 'expected.json'), 'utf8')) as Expected;
      expect([c, e.origin.url]).toEqual([c, expect.stringMatching(/^https:\/\//)]);
      expect([c, e.origin.licence.length > 0]).toEqual([c, true]);
    }
  });

  it.each(cases)(
    '%s reads as expected',
    async (c) => {
      const e = JSON.parse(readFileSync(path.join(dir, c, 'expected.json'), 'utf8')) as Expected;
      const t = await triage(await scanReportFile(path.join(dir, c, 'report.txt')));
      expect(t.splats.map(reading)).toEqual(e.splats);
    },
    30_000,
  );

  it("agrees with syzkaller's titles except where kreplay keeps a page-cache frame or names a Bad page state from its call trace", async () => {
    let agree = 0;
    const differ: string[] = [];
    const syz = cases.filter((c) => c.startsWith('syzkaller-'));
    for (const c of syz) {
      const e = JSON.parse(readFileSync(path.join(dir, c, 'expected.json'), 'utf8')) as Expected;
      const t = await triage(await scanReportFile(path.join(dir, c, 'report.txt')), { model: false });
      const same = t.splats[0]!.title === e.syzkaller!.title;
      expect([c, same]).toEqual([c, e.syzkaller!.agrees]);
      if (same) agree++;
      else {
        // Each difference is explained, and is one of the two deliberate ones.
        expect([c, e.syzkaller!.why]).toEqual([c, expect.stringMatching(/mm\/filemap\.c|corrupted/)]);
        differ.push(c);
      }
    }
    expect(syz.length).toBe(17);
    expect(agree).toBe(11);
    expect(differ).toEqual([
      'syzkaller-linux-report-1000',
      'syzkaller-linux-report-289',
      'syzkaller-linux-report-725',
      'syzkaller-linux-report-727',
      'syzkaller-linux-report-741',
      'syzkaller-linux-report-742',
    ]);
  }, 60_000);

  it('two real page-cache reports reach a model schedule of the reported rule', async () => {
    const withSchedule: string[] = [];
    for (const c of cases) {
      const e = JSON.parse(readFileSync(path.join(dir, c, 'expected.json'), 'utf8')) as Expected;
      if (e.splats.some((s) => s['model'] === 'schedule')) withSchedule.push(c);
    }
    expect(withSchedule).toEqual(['lkml-2007-01-06-xfs-odirect-cancel-dirty-page', 'lkml-2007-01-07-xfs-odirect-cancel-dirty-page-again']);
  });
});
