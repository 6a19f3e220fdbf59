/**
 * Report → schedule and report → trace, piece by piece: the flavor chosen from the flavors'
 * declared versions (a flavor added later is picked up without a table of names), the
 * scenario built from the paths (valid for `kreplay explore`), the three answers of the
 * model (schedule, cannot reach, search cut short), the capture profile chosen from the
 * profiles' probed functions, and reproduce() counting catches over replayed traces.
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtinFlavors, createMachine, extendFlavor, parseScenario, uncheckedBugs, type Flavor } from '@kreplay/mm-model';
import { explore, type FoundViolation } from '@kreplay/explore';
import type { CaptureMeta, CaptureOptions, CaptureResult } from '@kreplay/capture';
import type { ReplayResult } from '@kreplay/replay';
import {
  bugCondition,
  chooseFlavor,
  chooseProfile,
  earlierFailures,
  formatTriageText,
  notTheReportsKernel,
  parseReport,
  releaseSeries,
  reproduce,
  safeName,
  scanReportFile,
  standsFor,
  triage,
} from '@kreplay/triage';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const xfs = path.join(root, 'fixtures/reports/lkml-2007-01-06-xfs-odirect-cancel-dirty-page/report.txt');
const flavors = builtinFlavors();
const byName = (n: string): Flavor => flavors.find((f) => f.name === n)!;

describe('flavor choice (from declared versions, never names)', () => {
  it.each([
    ['2.6.19.1', [2, 6, 19]],
    ['6.1.0-13-amd64', [6, 1]],
    ['v6.14-rc3', [6, 14]],
    ['3.10.0-957.el7.x86_64', [3, 10]],
    ['2.6', [2, 6]],
    ['linux', null],
  ])('release series of %s', (v, want) => {
    expect(releaseSeries(v)).toEqual(want);
  });

  it.each([
    ['2.6.19.1', 'linux-2.6.15'],
    ['2.6.15.7', 'linux-2.6.15'],
    ['2.6.23-rc4', 'linux-2.6.23'],
    ['2.6.24', 'linux-2.6.23'],
    ['5.15.0-91-generic', 'linux-2.6.23'],
    ['6.1.0-13-amd64', 'linux-6.1'],
    ['6.10.0', 'linux-6.1'],
    ['6.14.0-rc3', 'linux-6.12'],
    ['2.6.9', 'linux-2.6.15'],
  ])('%s → %s (the newest flavor not newer than the release; stock before a patched one)', (release, name) => {
    expect(chooseFlavor(release, flavors).flavor?.name).toBe(name);
  });

  it('picks up a flavor added later (a linux-6.13 built on 6.12) by its version alone', () => {
    const later = extendFlavor(byName('linux-6.12'), { name: 'linux-6.13', description: 'test stand-in', version: '6.13' });
    const withLater = [...flavors, later];
    expect(chooseFlavor('6.14.0-rc3', withLater)).toMatchObject({ flavor: { name: 'linux-6.13' }, because: expect.stringMatching(/newest flavor not newer/) });
    expect(chooseFlavor('6.13.9', withLater)).toMatchObject({ flavor: { name: 'linux-6.13' }, because: expect.stringMatching(/models \(version 6\.13\)/) });
    expect(chooseFlavor('6.12.9', withLater).flavor?.name).toBe('linux-6.12');
    expect(chooseFlavor('6.10.0', withLater).flavor?.name).toBe('linux-6.1');
    // Named unlike any convention: still chosen by its version.
    const odd = extendFlavor(byName('linux-6.12'), { name: 'my-kernel', description: 'test stand-in', version: '6.13' });
    expect(chooseFlavor('6.14', [...flavors, odd]).flavor?.name).toBe('my-kernel');
  });

  it('says why when it cannot choose, or when every flavor is newer', () => {
    expect(chooseFlavor(null, flavors)).toMatchObject({ flavor: null, because: expect.stringMatching(/names no kernel release/) });
    expect(chooseFlavor('unknown', flavors)).toMatchObject({ flavor: null, because: expect.stringMatching(/cannot read a kernel version/) });
    expect(chooseFlavor('2.4.20', flavors)).toMatchObject({ flavor: { name: 'linux-2.6.15' }, because: expect.stringMatching(/older than every flavor/) });
  });
});

describe('report → schedule', () => {
  it('builds a scenario from the stack paths that explores to the reported rule, and prints the shortest schedule', async () => {
    const t = await triage(await scanReportFile(xfs));
    const m = t.splats[0]!.model!;
    expect(m).toMatchObject({ status: 'schedule', flavor: { name: 'linux-2.6.15' }, schedule: { rule: 'mapped-page-removed' } });
    expect(m.scenario!.threads.map((x) => [x.program, x.from])).toEqual([
      ['odirect_write', 'report'],
      ['fault', 'log'],
    ]);
    // The YAML stands alone: parsed and explored again it reaches the same rule.
    const sc = parseScenario(m.scenario!.yaml, 'out.yaml');
    const again = await explore(createMachine(sc, byName(sc.flavor!)), { strategy: 'exhaustive' });
    expect(again.violations.map((v) => v.rule)).toContain('mapped-page-removed');
    expect(Math.min(...again.violations.filter((v) => v.rule === 'mapped-page-removed').map((v) => v.schedule.length))).toBe(m.schedule!.steps.length);
    const text = formatTriageText([{ result: t }]);
    expect(text).toMatch(/SCHEDULE/);
    expect(text).toMatch(/mapped-page-removed/);
  }, 60_000);

  it('says plainly that the model cannot reach it when every interleaving was explored', async () => {
    const t = await triage(await scanReportFile(xfs), { flavor: byName('linux-2.6.23'), release: '2.6.23' });
    expect(t.splats[0]!.model).toMatchObject({ status: 'unreachable', explore: { verdict: expect.any(String), incomplete: [] } });
    expect(formatTriageText([{ result: t }])).toMatch(/CANNOT REACH/);
    // CANNOT REACH names what the scenario's programs leave out (Machine.notSearched): here the O_DIRECT write's
    // writeback in flight (session 44) and the fault's read in flight
    expect(t.splats[0]!.model!.because).toMatch(
      /which the search does not try\); the model leaves out writeback in flight: filemap_write_and_wait's ->writepage I\/O completes .*; and readahead and read I\/O in flight: the 2\.6 flavors read a missing page alone .* — the model or the report is missing something$/,
    );
  }, 60_000);

  it('never says "cannot" from a flavor newer than the report\'s kernel (it may hold fixes that kernel lacks)', async () => {
    // the XFS warning is 2.6.19.1's; --flavor linux-2.6.23 said "CANNOT REACH: every interleaving
    // explored" where linux-2.6.15, the flavor for 2.6.19, reaches the rule (2026-12-07, session 39)
    const t = await triage(await scanReportFile(xfs), { flavor: byName('linux-2.6.23') });
    const m = t.splats[0]!.model!;
    expect(m).toMatchObject({ status: 'not-modelled', explore: { verdict: 'clean', incomplete: [] } });
    expect(m.because).toMatch(
      /^linux-2\.6\.23 \(version 2\.6\.23\) is newer than the report's kernel 2\.6\.19\.1, so it may hold fixes that kernel lacks \(no flavor models 2\.6\.19; the flavors are of 2\.6\.15, 2\.6\.23, 6\.1, 6\.12\): with .* every interleaving explored does not reach mapped-page-removed, which proves nothing about 2\.6\.19\.1/,
    );
    expect(formatTriageText([{ result: t }])).not.toMatch(/CANNOT REACH/);
    // a schedule is still one: a kernel older than every flavor gets the oldest, which reaches the rule
    const old = await triage(await scanReportFile(xfs), { release: '2.6.12' });
    expect(old.splats[0]!.model).toMatchObject({ status: 'schedule', flavor: { name: 'linux-2.6.15' } });
  }, 60_000);

  describe('never says "cannot" from a flavor that is not the report\'s kernel (2026-12-07, session 40)', () => {
    // the FUSE oops (5.12.0-rc3) on a single page: no head line, so the large-folio answer does not apply
    const fuse = readFileSync(path.join(root, 'fixtures/reports/linux-fsdevel-2021-03-18-fuse-invalidate-mapped-thp/report.txt'), 'utf8');
    const small = parseReport(fuse.replace(/> \[16247\.536359\] head:[^\n]*\n[^\n]*\n/, ''), 'small.txt');

    it("from a flavor older than the report's kernel: a 5.12 report judged on the linux-2.6.23 the choice gives it", async () => {
      // before: "CANNOT REACH: the model cannot reach bug-on on linux-2.6.23 ...: every interleaving explored"
      const t = await triage(small, { splats: [1] });
      const m = t.splats[0]!.model!;
      expect(m).toMatchObject({ status: 'not-modelled', flavor: { name: 'linux-2.6.23' }, explore: { verdict: 'clean', incomplete: [] } });
      expect(m.because).toMatch(
        /^linux-2\.6\.23 \(version 2\.6\.23\) is older than the report's kernel 5\.12\.0-rc3-1\.g008d601-default, so it lacks every change made since 2\.6\.23 \(no flavor models 5\.12; the flavors are of 2\.6\.15, 2\.6\.23, 6\.1, 6\.12\): with gpp \(invalidate_inode_pages2_range\) vs fault \(fault\), every interleaving explored does not reach bug-on, which proves nothing about 5\.12\.0-rc3-1\.g008d601-default/,
      );
      expect(m.flavor!.because).toMatch(/newest flavor not newer than it — no flavor models 5\.12/);
      expect(formatTriageText([{ result: t }])).not.toMatch(/CANNOT REACH/);
    }, 60_000);

    it.each([
      [
        '6.1.0-13-amd64',
        'linux-2.6.23',
        /^linux-2\.6\.23 \(version 2\.6\.23\) is older than the report's kernel 6\.1\.0-13-amd64, .*\(linux-6\.1 models 6\.1: --flavor linux-6\.1\)/,
      ],
      [
        '6.1.0-13-amd64',
        'linux-6.12',
        /^linux-6\.12 \(version 6\.12\) is newer than the report's kernel 6\.1\.0-13-amd64, .*\(linux-6\.1 models 6\.1: --flavor linux-6\.1\)/,
      ],
      ['4.19.0-27-amd64', undefined, /^linux-2\.6\.23 \(version 2\.6\.23\) is older than the report's kernel 4\.19\.0-27-amd64, .*no flavor models 4\.19/],
      ['5.10.0-30-amd64', undefined, /^linux-2\.6\.23 .* is older .*no flavor models 5\.10/],
      ['6.6.30', undefined, /^linux-6\.1 \(version 6\.1\) is older than the report's kernel 6\.6\.30, .*no flavor models 6\.6/],
      ['6.8.0-45-generic', undefined, /^linux-6\.1 .* is older .*no flavor models 6\.8/],
    ])(
      "release %s, --flavor %s: not the report's kernel",
      async (release, name, why) => {
        const m = (await triage(small, { splats: [1], release, ...(name ? { flavor: byName(name) } : {}) })).splats[0]!.model!;
        expect(m).toMatchObject({ status: 'not-modelled', explore: { verdict: 'clean', incomplete: [] } });
        expect(m.because).toMatch(why);
      },
      60_000,
    );

    it('still says "cannot" from the stock flavor of the report\'s own series', async () => {
      const m = (await triage(small, { splats: [1], release: '6.1.0-13-amd64', flavor: byName('linux-6.1') })).splats[0]!.model!;
      expect(m).toMatchObject({ status: 'unreachable', flavor: { name: 'linux-6.1' } });
    }, 60_000);

    it('tells which flavor stands for a release: the stock one of its series, never a patched one or none', () => {
      expect(notTheReportsKernel(byName('linux-6.1'), '6.1.0-13-amd64', flavors)).toBeUndefined();
      expect(notTheReportsKernel(byName('linux-2.6.15'), '2.6.15.7', flavors)).toBeUndefined();
      expect(notTheReportsKernel(byName('linux-2.6.15-seqschedlock'), '2.6.15.7', flavors)).toMatch(
        /^linux-2\.6\.15-seqschedlock is 2\.6\.15 with changes of its own .*which the report's kernel 2\.6\.15\.7 may not carry \(linux-2\.6\.15 models 2\.6\.15: --flavor linux-2\.6\.15\)$/,
      );
      expect(notTheReportsKernel(byName('linux-6.1'), null, flavors)).toMatch(
        /^the report names no kernel release, so nothing says linux-6\.1 is its kernel \(pass --release if it is\)$/,
      );
      expect(notTheReportsKernel(byName('linux-2.6.23'), '2.6.24', flavors)).toMatch(/is older .*no flavor models 2\.6\.24/);
    });
  });

  it('says when the release that chose the flavor was read from prose, not from a kernel line', async () => {
    // the XFS mail names 2.6.19.1 in its text; the splat itself has no release
    const t = await triage(await scanReportFile(xfs), { maxStates: 10 });
    expect(t.splats[0]!.model!.flavor!.because).toMatch(/read from the prose around the splat, not from a kernel line .*--release/);
    const given = await triage(await scanReportFile(xfs), { maxStates: 10, release: '2.6.19.1' });
    expect(given.splats[0]!.model!.flavor!.because).not.toMatch(/prose/);
  });

  it('never says "cannot" for a BUG in a function the chosen flavor does not have (its search could not reach it)', async () => {
    // 2.6.19.1's BUG in invalidate_complete_page2: only linux-2.6.23 has that function; the
    // flavor for 2.6.19 is linux-2.6.15, whose "every interleaving explored" proved nothing.
    const nfs = path.join(root, 'fixtures/reports/lkml-2006-12-22-nfs-invalidate-complete-page2/report.txt');
    const m = (await triage(await scanReportFile(nfs))).splats[0]!.model!;
    expect(m).toMatchObject({ status: 'not-modelled', flavor: { name: 'linux-2.6.15' } });
    // no flavor checks a BUG in invalidate_complete_page2, so none is suggested (2.6.23 was: it has
    // the function, but its search could not reach a BUG there either)
    expect(m.because).toMatch(/^linux-2\.6\.15 does not model invalidate_complete_page2, so it cannot reach the BUG there$/);
    expect(m.explore).toBeUndefined();
  }, 60_000);

  it('never says "cannot" for a BUG in a function the flavor models without that BUG check', async () => {
    // linux-2.6.23 has invalidate_complete_page2 but checks no BUG in it (its BUGs: Proc.bugs): its
    // search said "CANNOT REACH: every interleaving explored" for a BUG it could never report
    const nfs = path.join(root, 'fixtures/reports/lkml-2006-12-22-nfs-invalidate-complete-page2/report.txt');
    const t = await triage(await scanReportFile(nfs), { flavor: byName('linux-2.6.23') });
    const m = t.splats[0]!.model!;
    expect(m).toMatchObject({ status: 'not-modelled', flavor: { name: 'linux-2.6.23' } });
    expect(m.because).toMatch(
      /linux-2\.6\.23 models invalidate_complete_page2 but none of its BUG checks \(the BUGs it checks are in: .*invalidate_inode_pages2_range/,
    );
    expect(m.explore).toBeUndefined();
    expect(formatTriageText([{ result: t }])).not.toMatch(/CANNOT REACH/);
  }, 60_000);

  it('never says "cannot" for another BUG check in a function whose one BUG the flavor models', async () => {
    const text = readFileSync(path.join(root, 'fixtures/reports/linux-fsdevel-2021-03-18-fuse-invalidate-mapped-thp/report.txt'), 'utf8');
    // the same oops, as if the kernel's VM_BUG_ON_FOLIO(!folio_contains(...)) (mm/truncate.c:692, 6.1) had fired
    const other = text.replace('page dumped because: VM_BUG_ON_PAGE(page_mapped(page))', 'page dumped because: VM_BUG_ON_FOLIO(!folio_contains(folio, index))');
    expect(other).not.toBe(text);
    const flavor = byName('linux-6.1');
    const m = (await triage(parseReport(other, 'other.txt'), { flavor })).splats[0]!.model!;
    expect(m).toMatchObject({ status: 'not-modelled' });
    expect(m.because).toMatch(/is VM_BUG_ON_FOLIO\(!folio_contains\(folio, index\)\), and linux-6\.1 models only BUG_ON\(folio_mapped\(folio\)\) .* there/);
    // the report as sent names the check the flavor models (page_mapped and folio_mapped are one check): searched
    expect((await triage(parseReport(text, 'fuse.txt'), { flavor, maxStates: 10 })).splats[0]!.model!.status).not.toBe('not-modelled');
  }, 60_000);

  it('never says "cannot" for a BUG report that does not say which of the function\'s checks fired, when the flavor checks only one', async () => {
    const text = readFileSync(path.join(root, 'fixtures/reports/linux-fsdevel-2021-03-18-fuse-invalidate-mapped-thp/report.txt'), 'utf8');
    // the same oops without its page dump: "kernel BUG at mm/truncate.c:678!" in invalidate_inode_pages2_range
    // could be its BUG_ON(folio_mapped) or its VM_BUG_ON_FOLIO(!folio_contains), which no step checks
    const bare = text.replace(/> \[16247\.536348\][\s\S]*?page dumped because: [^\n]*\n/, '');
    expect(bare).not.toMatch(/page dumped because/);
    for (const [name, line] of [
      ['linux-6.1', 'mm/truncate.c:692, 6.1.192'],
      ['linux-6.12', 'mm/truncate.c:669, 6.12.118'],
    ] as const) {
      const t = await triage(parseReport(bare, 'bare.txt'), { flavor: byName(name) });
      const m = t.splats[0]!.model!;
      // before: "CANNOT REACH: every interleaving explored" — for the one check of the two the model makes
      expect(m).toMatchObject({ status: 'not-modelled', explore: { incomplete: [] } });
      expect(m.because).toContain(
        `the report does not say which BUG in invalidate_inode_pages2_range fired (kernel BUG at mm/truncate.c:678, no page dump reason), and ${name} checks only BUG_ON(folio_mapped(folio))`,
      );
      expect(m.because).toContain(`not VM_BUG_ON_FOLIO(!folio_contains(`);
      expect(m.because).toContain(line);
      expect(m.because).toMatch(/every interleaving explored does not reach the one it checks.*, which proves nothing about the others$/);
      expect(formatTriageText([{ result: t }])).not.toMatch(/CANNOT REACH/);
    }
    // a flavor whose function has no other BUG check still answers from its search
    expect(uncheckedBugs(byName('linux-2.6.23')).size).toBe(0);
  }, 120_000);

  it("never answers for a BUG the kernel says is in another file than the flavor's check (an inlined helper's BUG)", async () => {
    // the FUSE oops without its page dump, as if a BUG_ON of an inline in include/linux/mm.h had
    // fired inside invalidate_inode_pages2_range (the instruction pointer is then in the caller):
    // before, it was judged as that function's BUG_ON(page_mapped(page)) — "CANNOT REACH" on
    // linux-2.6.23 (2026-12-07, session 40)
    const text = readFileSync(path.join(root, 'fixtures/reports/linux-fsdevel-2021-03-18-fuse-invalidate-mapped-thp/report.txt'), 'utf8');
    const bare = text.replace(/> \[16247\.536348\][\s\S]*?page dumped because: [^\n]*\n/, '');
    const inline = bare.replace('kernel BUG at mm/truncate.c:678!', 'kernel BUG at include/linux/mm.h:1234!');
    expect(inline).not.toBe(bare);
    const m = (await triage(parseReport(inline, 'inline.txt'), { splats: [1], release: '2.6.23' })).splats[0]!.model!;
    expect(m).toMatchObject({ status: 'not-modelled', flavor: { name: 'linux-2.6.23' } });
    expect(m.because).toBe(
      "the report's BUG in invalidate_inode_pages2_range is at include/linux/mm.h:1234, and linux-2.6.23's check there is BUG_ON(page_mapped(page)) (mm/truncate.c:438, 2.6.23.17): a BUG in include/linux/mm.h is another check (an inlined helper's, or another function of that name), so it cannot reach the report's",
    );
    expect(m.explore).toBeUndefined();
    // the BUG at the check's own file (another line: lines move between releases) is searched
    expect((await triage(parseReport(bare, 'bare.txt'), { splats: [1], release: '2.6.23' })).splats[0]!.model!.status).toBe('unreachable');
  }, 60_000);

  it('never says "cannot" for a report whose page is a large folio (the model\'s pages are single pages)', async () => {
    // the FUSE oops is on an order-9 THP (its "head: ... order:9" line); the model's single
    // pages cannot show a race through a PMD mapping or a split, so its exhaustive search was an
    // empty proof: "CANNOT REACH: every interleaving explored" (2026-12-07, session 39)
    const text = readFileSync(path.join(root, 'fixtures/reports/linux-fsdevel-2021-03-18-fuse-invalidate-mapped-thp/report.txt'), 'utf8');
    const t = await triage(parseReport(text, 'fuse.txt'), { splats: [1] });
    const m = t.splats[0]!.model!;
    expect(m).toMatchObject({ status: 'not-modelled', explore: { incomplete: [], verdict: 'clean' } });
    expect(m.because).toMatch(
      /^the report's page is a large folio \(order 9, 512 pages\) and the model's pages are single pages; with .* every interleaving explored does not reach bug-on, which proves nothing about a large folio/,
    );
    expect(formatTriageText([{ result: t }])).not.toMatch(/CANNOT REACH/);
    // the same oops on a single page is still answered from the search
    const small = text.replace(/> \[16247\.536359\] head:[^\n]*\n[^\n]*\n/, '');
    expect(small).not.toMatch(/order:9/);
    // (on the flavor of its kernel's series: 5.12 has none, and another series' flavor never says "cannot")
    expect((await triage(parseReport(small, 'small.txt'), { splats: [1], release: '6.1' })).splats[0]!.model!.status).toBe('unreachable');
  }, 60_000);

  it('never answers for a page-cache removal whose callers the paste cut off (they decide the path)', async () => {
    // the XFS warning pasted up to truncate_inode_pages: the callers that make it an O_DIRECT write
    // (fs_flushinval_pages <- xfs_write <- sys_write) are gone. The removal was read as a truncate
    // and the model answered "CANNOT REACH" — where the whole report reaches the rule (2026-12-07, session 39)
    const lines = readFileSync(xfs, 'utf8').split('\n');
    const cut = lines.slice(0, lines.findIndex((l) => l.includes('truncate_inode_pages+0x1a')) + 1).join('\n');
    const t = await triage(parseReport(cut, 'cut.txt'), { release: '2.6.19.1' });
    const s = t.splats[0]!;
    expect(s.paths.reporter).toMatchObject({
      program: 'truncate',
      because: expect.stringMatching(/read from that frame alone: the trace is cut at truncate_inode_pages$/),
    });
    expect(s.model).toMatchObject({ status: 'not-modelled' });
    expect(s.model!.because).toMatch(
      /^the call trace stops at truncate_inode_pages .*the paste was cut\), so nothing says whose page-cache removal truncate_complete_page is/,
    );
    expect(formatTriageText([{ result: t }])).not.toMatch(/CANNOT REACH|SCHEDULE/);
    // the whole trace decides it: an O_DIRECT write, which reaches the rule
    const whole = (await triage(await scanReportFile(xfs), { release: '2.6.19.1' })).splats[0]!;
    expect(whole.paths.reporter).toMatchObject({ program: 'odirect_write' });
    expect(whole.model!.status).toBe('schedule');
    // a trace that ends where a whole one does (an entry frame, </TASK>, end of trace) is not cut
    const ended = (text: string): string | null | undefined => parseReport(text, 'x.txt').splats[0]!.traceCut;
    const at = '2007-01-06 04:19:03.788289500 <4>';
    expect(ended(`${cut}\n${at} [<c0102e73>] syscall_call+0x7/0xb`)).toBeNull();
    expect(ended(`${cut}\n${at} =======================`)).toBeNull();
    expect(ended(cut)).toBe('truncate_inode_pages');
  }, 60_000);

  it('reads a BUG check alike in a page dump and in the source, whatever the kernel spells page or folio', () => {
    expect(bugCondition('VM_BUG_ON_PAGE(page_mapped(page))')).toBe('BUG_ON(page_mapped(page))');
    expect(bugCondition('BUG_ON(folio_mapped(folio)) (mm/truncate.c:701, 6.1.192)')).toBe('BUG_ON(page_mapped(page))');
    expect(bugCondition('VM_BUG_ON_FOLIO(!folio_contains(folio, index), folio)')).toBe('BUG_ON(!page_contains(page,index))');
    expect(bugCondition('VM_BUG_ON_FOLIO(!folio_contains(folio, index))')).toBe('BUG_ON(!page_contains(page,index))');
    expect(bugCondition('BUG() in the read_seqschedlock switch')).toBeUndefined();
    expect(bugCondition('BUG_ON(unbalanced(')).toBeUndefined();
  });

  describe('a hung task: a deadlock only on the lock it hung on, and never an empty proof', () => {
    const hung = (task: string, pid: number, frames: string[]): string[] => [
      `INFO: task ${task}:${pid} blocked for more than 143 seconds.`,
      '      Not tainted 6.1.0 #1',
      `task:${task}               state:D stack:0     pid:${pid}   ppid:1      flags:0x00004000`,
      'Call Trace:',
      ' <TASK>',
      ' __schedule+0x34d/0x9e0',
      ' schedule+0x5a/0xd0',
      ...frames.map((f) => ` ${f}+0x10/0x80`),
      ' </TASK>',
    ];
    const report = (...tasks: string[][]): ReturnType<typeof parseReport> => parseReport(tasks.flat().join('\n'), 'hung.txt');
    const invalidateLockWait = ['rwsem_down_write_slowpath', 'down_write', 'filemap_invalidate_lock', 'ext4_setattr', 'notify_change', 'do_truncate'];

    it("says the search proves nothing when the report's other hung task waits on a lock the model lacks (the bcachefs report)", async () => {
      const t = await triage(await scanReportFile(path.join(root, 'fixtures/reports/syzbot-2025-02-28-hung-invalidate-inode-pages2-range/report.txt')));
      const m = t.splats[0]!.model!;
      // before: "CANNOT REACH: every interleaving explored", though the deadlock runs through bcachefs's own lock
      expect(m).toMatchObject({ status: 'not-modelled', flavor: { name: 'linux-6.12' }, explore: { incomplete: [] } });
      expect(m.because).toMatch(
        /other hung task syz-executor337 waits in __bch2_two_state_lock, which is not a lock the model has: a deadlock through it is outside the model/,
      );
      expect(formatTriageText([{ result: t }])).not.toMatch(/CANNOT REACH/);
    }, 60_000);

    it('says the search proves nothing when the report shows the hung task alone', async () => {
      const m = (
        await triage(report(hung('t', 123, ['io_schedule', 'folio_wait_bit_common', '__folio_lock', 'truncate_inode_pages_range', 'truncate_pagecache'])))
      ).splats[0]!.model!;
      // before: "CANNOT REACH" from a one-thread scenario, which cannot deadlock with a holder it does not have
      expect(m).toMatchObject({ status: 'not-modelled', scenario: { threads: [{ program: 'truncate' }] } });
      expect(m.because).toMatch(/shows no other task in a path kreplay has \(the lock's holder\), so the model has t \(truncate\) alone/);
    }, 60_000);

    it('still searches, and may say "cannot", when every hung task is on a modelled path and lock', async () => {
      const m = (
        await triage(
          report(
            hung('t', 123, ['io_schedule', 'folio_wait_bit_common', '__folio_lock', 'truncate_inode_pages_range', 'truncate_pagecache']),
            hung('w', 124, ['io_schedule', 'folio_wait_bit_common', '__folio_lock', 'invalidate_inode_pages2_range', 'generic_file_direct_write']),
          ),
        )
      ).splats[0]!.model!;
      expect(m.scenario!.threads.map((x) => x.program)).toEqual(['truncate', 'odirect_write']);
      expect(m.status).toBe('unreachable');
    }, 60_000);

    it('never says "cannot" when the taint shows the kernel had failed before (a task may have died holding the page lock)', async () => {
      // the same two hung tasks on a kernel tainted D: an oops earlier in the boot killed a task,
      // maybe holding the page lock they wait for. Before: "CANNOT REACH: ... every interleaving explored"
      const tasks = [
        hung('t', 123, ['io_schedule', 'folio_wait_bit_common', '__folio_lock', 'truncate_inode_pages_range', 'truncate_pagecache']),
        hung('w', 124, ['io_schedule', 'folio_wait_bit_common', '__folio_lock', 'invalidate_inode_pages2_range', 'generic_file_direct_write']),
      ].map((x) => x.map((l) => l.replace('Not tainted 6.1.0', 'Tainted: G      D            6.1.0')));
      const t = await triage(report(...tasks));
      const m = t.splats[0]!.model!;
      expect(t.splats[0]!.tainted).toBe('G      D');
      expect(m).toMatchObject({ status: 'not-modelled', flavor: { name: 'linux-6.1' }, explore: { incomplete: [] } });
      expect(m.because).toMatch(
        /^the kernel was tainted D when this splat printed \(Tainted: G D: an earlier oops or BUG: a task died, maybe holding locks\), so it had failed before — the paste shows no earlier splat of that boot: the first failure was left out — and the model starts from a kernel that had not; with t \(truncate\) vs w \(odirect_write\), every interleaving explored does not reach deadlock, which proves nothing about a kernel in that state$/,
      );
      expect(formatTriageText([{ result: t }])).not.toMatch(/CANNOT REACH/);
      // the oops in the paste, before the hung tasks: named as the failure to triage first
      const oops = [
        'BUG: kernel NULL pointer dereference, address: 0000000000000008',
        'CPU: 0 PID: 99 Comm: x Not tainted 6.1.0 #1',
        'Call Trace:',
        ' <TASK>',
        ' ext4_writepages+0x10/0x80',
        ' </TASK>',
      ];
      const after = (await triage(report(oops, ...tasks))).splats[1]!.model!;
      expect(after.because).toMatch(
        /— splat 1 \(BUG: unable to handle kernel NULL pointer dereference in ext4_writepages\) is the first failure the paste shows of that boot: triage it first —/,
      );
    }, 60_000);

    it.each([
      ['Not tainted', []],
      ['G           O', []],
      ['P           OE', []],
      ['G        W', ['W']],
      ['G    B D', ['B', 'D']],
      ['G             L', ['L']],
    ])('reads the earlier failures of taint %s', (taint, flags) => {
      expect(earlierFailures(taint).map((f) => f.flag)).toEqual(flags);
    });

    it("reads the taint of a kernel whose release is a name (syzbot's `Tainted: G  L  syzkaller #0`)", async () => {
      const r = await scanReportFile(path.join(root, 'fixtures/reports/syzkaller-linux-report-1000/report.txt'));
      expect(r.splats[0]!.tainted).toBe('G             L');
      expect(earlierFailures(r.splats[0]!.tainted).map((f) => f.flag)).toEqual(['L']);
    });

    it("takes a hung task's partners from its own boot only (two logs pasted together, a log across a reboot)", async () => {
      const t = hung('t', 123, ['io_schedule', 'folio_wait_bit_common', '__folio_lock', 'truncate_inode_pages_range', 'truncate_pagecache']);
      const w = hung('w', 124, ['io_schedule', 'folio_wait_bit_common', '__folio_lock', 'invalidate_inode_pages2_range', 'generic_file_direct_write']);
      // before: t and w were each other's partners, and "CANNOT REACH" came from a pair that never ran together
      const r = report(t, ['Linux version 6.1.0-13-amd64 (debian-kernel@lists.debian.org)'], w);
      const res = await triage(r);
      for (const s of res.splats) expect(s.model!.status).toBe('not-modelled');
      expect(r.boots).toBe(2);
      expect(res.warnings).toContain(
        "the log holds 2 boots (a new one at line 14: the timestamps start again or a Linux version banner follows); a splat's other parties are taken from its own boot only",
      );
      for (const s of res.splats) {
        expect(s.model).toMatchObject({ status: 'not-modelled', scenario: { threads: [expect.anything()] } });
        expect(s.model!.because).toMatch(/shows no other task in a path kreplay has/);
      }
      expect(formatTriageText([{ result: res }])).not.toMatch(/CANNOT REACH/);
      // printk timestamps that start again are a new boot too; a few seconds back (CPUs' clocks) is not
      const stamp = (lines: string[], ts: string): string[] => lines.map((l) => `[${ts}] ${l}`);
      expect(report(stamp(t, '  300.100000'), stamp(w, '   12.500000')).boots).toBe(2);
      expect(report(stamp(t, '  300.100000'), stamp(w, '  298.500000')).boots).toBe(1);
    }, 60_000);

    it("reads a splat's release from its own boot's Linux version banner, not the first boot's", async () => {
      // a 6.1 log with a hung task, then a 2.6.19.1 boot with the XFS warning (which prints no release):
      // the warning was judged on linux-6.1 ("CANNOT REACH"), and the banner of its boot was read into
      // the hung task's splat as that splat's kernel (2026-12-07, session 39)
      const xfsLines = readFileSync(xfs, 'utf8').split('\n');
      const warning = xfsLines.slice(
        xfsLines.findIndex((l) => l.includes('BUG: warning at')),
        xfsLines.findIndex((l) => l.includes('=======================')) + 1,
      );
      const r = report(
        ['Linux version 6.1.0-13-amd64 (debian-kernel@lists.debian.org)'],
        hung('t', 123, ['io_schedule', 'folio_wait_bit_common', '__folio_lock', 'truncate_inode_pages_range', 'truncate_pagecache']).map((l) =>
          l.replace('Not tainted 6.1.0 #1', 'Not tainted'),
        ),
        ['Linux version 2.6.19.1 (root@host)'],
        warning,
      );
      const res = await triage(r);
      expect(res.splats.map((x) => [x.kernel, x.kernelFrom, x.kernelLine])).toEqual([
        ['6.1.0-13-amd64', 'log', 1],
        ['2.6.19.1', 'log', 15],
      ]);
      expect(res.splats[1]!.model).toMatchObject({ status: 'schedule', flavor: { name: 'linux-2.6.15' } });
      expect(formatTriageText([{ result: res }])).toMatch(/kernel\s+2\.6\.19\.1 \(from the log's "Linux version" line 15\)/);
    }, 60_000);

    it('does not search a flavor without the invalidate lock for a task hung on it', async () => {
      const m = (await triage(report(hung('t', 123, invalidateLockWait)), { flavor: byName('linux-2.6.23') })).splats[0]!.model!;
      expect(m).toMatchObject({ status: 'not-modelled', because: expect.stringMatching(/hung on the invalidate lock .*, which linux-2\.6\.23 does not have/) });
      expect(m.explore).toBeUndefined();
    });

    it("counts a model deadlock only when the report's task waits there for the lock it hung on", () => {
      const splat = report(hung('t', 123, ['io_schedule', 'folio_wait_bit_common', '__folio_lock', 'truncate_inode_pages_range'])).splats[0]!;
      const dl = (message: string, threads = [0, 1]): FoundViolation => ({ rule: 'deadlock', message, schedule: [], at: 'state', threads });
      const onPage =
        'every live thread is blocked: t (T0) at "lock_page" waits for PG_locked of pfn 0x1, held by T1 (w); w (T1) at "x; y" waits for M0.i_mmap_lock, held by T0 (t)';
      const onImmap =
        'every live thread is blocked: t (T0) at "i_mmap" waits for M0.i_mmap_lock, held by T1 (w); w (T1) at "lock_page" waits for PG_locked of pfn 0x1, held by T0 (t)';
      expect(standsFor(dl(onPage), 'deadlock', splat)).toBe(true);
      // before: any deadlock of the scenario stood for the report's, on whichever lock and thread
      expect(standsFor(dl(onImmap), 'deadlock', splat)).toBe(false);
      const inv = report(hung('t', 123, invalidateLockWait)).splats[0]!;
      expect(standsFor(dl('every live thread is blocked: t (T0) at "lock" waits for M0.invalidate_lock, held by T1 (w)'), 'deadlock', inv)).toBe(true);
      expect(standsFor(dl(onPage), 'deadlock', inv)).toBe(false);
      const live = (threads: number[]): FoundViolation => ({ rule: 'livelock', message: 'loops', schedule: [], at: 'graph', threads });
      expect(standsFor(live([0]), 'livelock', splat)).toBe(true);
      expect(standsFor(live([1]), 'livelock', splat)).toBe(false);
    });
  });

  it("models a repeated splat when --splat leaves its first copy out (its answer, and exit, are the first copy's)", async () => {
    // the XFS report pasted twice: splat 2 repeats splat 1. `--splat 2` showed "same as splat 1" and
    // no model answer, and exited 0 where `--splat 1` exits 1 (2026-12-07, session 39)
    const text = readFileSync(xfs, 'utf8');
    const twice = parseReport(`${text}\n${text}`, 'twice.txt');
    const result = await triage(twice, { splats: [2] });
    expect(result.splats.map((x) => [x.index, x.duplicateOf, x.model?.status])).toEqual([[2, 1, 'schedule']]);
    expect(formatTriageText([{ result }])).toMatch(/same as\s+splat 1 [\s\S]*model\s+SCHEDULE: on linux-2\.6\.15/);
    // with its first copy shown, the repeat is not modelled again
    expect((await triage(twice, { splats: [1, 2], maxStates: 10 })).splats.map((x) => x.model === null)).toEqual([false, true]);
  }, 60_000);

  it('never says "cannot" when the search was cut short', async () => {
    const t = await triage(await scanReportFile(xfs), { maxStates: 10 });
    expect(t.splats[0]!.model).toMatchObject({ status: 'incomplete', because: expect.stringMatching(/not a proof/) });
  });

  it("keeps the report's words out of the scenario but for a sanitized title and names", () => {
    expect(safeName('kr-fault; rm -rf /', 15)).toBe('kr-fault_rm_-rf');
    expect(safeName('../../etc/passwd', 80)).toBe('etc_passwd');
    expect(safeName('\u0000\u0001', 15)).toBe('task');
  });
});

describe('"cannot reach" only from a kernel line and a sequentially consistent CPU (2026-12-07, session 41)', () => {
  // The FUSE oops on a single page (its head: line out) and without its page dump, so that the
  // search runs and misses on linux-6.1: the answer "cannot" rests on the release and the CPU alone.
  const fuse = readFileSync(path.join(root, 'fixtures/reports/linux-fsdevel-2021-03-18-fuse-invalidate-mapped-thp/report.txt'), 'utf8');
  const single = fuse.replace(/> \[16247\.536359\] head:[^\n]*\n[^\n]*\n/, '');
  const cpuLine = 'Not tainted 5.12.0-rc3-1.g0=\n08d601-default #1 openSUSE Tumbleweed (unreleased)';
  const answer = async (text: string, release?: string) =>
    (await triage(parseReport(text, 'r.txt'), { splats: [1], ...(release ? { release } : {}) })).splats[0]!;

  it('never says "cannot" from a release read from the mail\'s prose (it may name another kernel)', async () => {
    // no release on the CPU: line; the mail says "this is on a 6.1-rc3": before, CANNOT REACH on linux-6.1
    const prose = single.replace(cpuLine, 'Not tainted').replace('on a 5.12-rc3, vanilla', 'on a 6.1-rc3, vanilla');
    expect(prose).not.toMatch(/5\.12/);
    const s = await answer(prose);
    expect(s).toMatchObject({ kernel: '6.1-rc3', kernelFrom: 'text' });
    expect(s.model).toMatchObject({ status: 'not-modelled', flavor: { name: 'linux-6.1' }, explore: { verdict: 'clean', incomplete: [] } });
    expect(s.model!.because).toMatch(
      /^the report's kernel 6\.1-rc3 was read from the prose around the splat, not from a line the kernel printed .* every interleaving explored does not reach bug-on, which proves nothing about the crashing kernel until its release is known \(pass --release 6\.1-rc3 if it is that kernel's\)$/,
    );
    // the same release from --release (or from the splat's own line) is the crashing kernel's
    expect((await answer(prose, '6.1-rc3')).model!.status).toBe('unreachable');
    expect((await answer(single.replace(cpuLine, 'Not tainted 6.1.0-13-amd64 #1 Debian'))).model!.status).toBe('unreachable');
  }, 60_000);

  /** The same oops as arm64's show_regs() and dump_backtrace() print it (arch/arm64/kernel/process.c, traps.c). */
  const arm64 = single
    .replace(cpuLine, 'Not tainted 6.1.0-13-arm64 #1 Debian 6.1.55-1')
    .replace('RIP: 0010:invalidate_inode_pages2_range+0x3b4/0x550', 'pc : invalidate_inode_pages2_range+0x3b4/0x550')
    .replace('Call Trace:', 'Call trace:')
    .replace('__x64_sys_execve', '__arm64_sys_execve')
    .replace('do_syscall_64+0x33/0x80', 'invoke_syscall+0x48/0x114')
    .replace('entry_SYSCALL_64_after_hwframe+0x44/0xae', 'el0_svc+0x2c/0x84')
    .replace(/> \[16247\.53661[0-9]\] RIP: 0033[\s\S]*?(?=> \[16247\.536653\])/, '');

  it('never says "cannot" for a weakly ordered CPU: the search is sequentially consistent', async () => {
    // before: "CANNOT REACH: the model cannot reach bug-on on linux-6.1 ...: every interleaving explored"
    const s = await answer(arm64);
    expect(s.arch).toEqual({ name: 'arm64', ordering: 'weak', from: 'its pc : line' });
    expect(s.model).toMatchObject({
      status: 'not-modelled',
      flavor: { name: 'linux-6.1' },
      explore: { incomplete: [] },
      memoryModel: { searched: 'sequential-consistency', arch: 'arm64', ordering: 'weak' },
    });
    expect(s.model!.because).toMatch(
      /^the splat is from an arm64 kernel \(by its pc : line\), a weakly ordered CPU: .* and the model's search is sequentially consistent; with gpp \(invalidate_inode_pages2_range\) vs fault \(fault\) on linux-6\.1, every interleaving explored does not reach bug-on, which proves nothing about those reorderings$/,
    );
    expect(formatTriageText([{ result: await triage(parseReport(arm64, 'r.txt'), { splats: [1] }) }])).not.toMatch(/CANNOT REACH/);
  }, 60_000);

  it('never says "cannot" for a splat that does not show its CPU', async () => {
    // two tasks hung on a page lock, in truncate and in an O_DIRECT write: a hung task prints no
    // registers; without x86's <TASK> marks (5.16+) nothing in them names the CPU
    const hung = (task: string, pid: number, frames: string[], marks: boolean): string[] => [
      `INFO: task ${task}:${pid} blocked for more than 143 seconds.`,
      '      Not tainted 6.1.0 #1',
      `task:${task}               state:D stack:0     pid:${pid}   ppid:1      flags:0x00004000`,
      'Call Trace:',
      ...(marks ? [' <TASK>'] : []),
      ' __schedule+0x34d/0x9e0',
      ' schedule+0x5a/0xd0',
      ...frames.map((f) => ` ${f}+0x10/0x80`),
      ...(marks ? [' </TASK>'] : []),
    ];
    const pair = (marks: boolean) =>
      parseReport(
        [
          ...hung('t', 123, ['io_schedule', 'folio_wait_bit_common', '__folio_lock', 'truncate_inode_pages_range', 'truncate_pagecache'], marks),
          ...hung('w', 124, ['io_schedule', 'folio_wait_bit_common', '__folio_lock', 'invalidate_inode_pages2_range', 'generic_file_direct_write'], marks),
        ].join('\n'),
        'hung.txt',
      );
    const t = await triage(pair(false), { splats: [1] });
    const s = t.splats[0]!;
    expect(s.arch).toBeNull();
    expect(s.model).toMatchObject({ status: 'not-modelled', explore: { incomplete: [] }, memoryModel: { arch: null, ordering: null } });
    expect(s.model!.because).toMatch(
      /^the splat does not show its CPU \(no RIP:, EIP:, pc :, NIP: or epc : line, no architecture in its release\), so it may be a weakly ordered one .* with t \(truncate\) vs w \(odirect_write\) on linux-6\.1, every interleaving explored does not reach deadlock/,
    );
    expect(formatTriageText([{ result: t }])).not.toMatch(/CANNOT REACH/);
    // x86's <TASK> marks say which CPU it was: "cannot", under sequential consistency
    const x86 = (await triage(pair(true), { splats: [1] })).splats[0]!;
    expect(x86.arch).toEqual({ name: 'x86', ordering: 'tso', from: 'its <TASK> marks' });
    expect(x86.model!.status).toBe('unreachable');
  }, 60_000);

  it('says "cannot" of x86 only under sequential consistency, in the text and the JSON', async () => {
    const t = await triage(parseReport(single, 'r.txt'), { splats: [1], release: '6.1' });
    const m = t.splats[0]!.model!;
    expect(m).toMatchObject({
      status: 'unreachable',
      memoryModel: { searched: 'sequential-consistency', arch: 'x86', ordering: 'tso', archFrom: 'its RIP: line' },
    });
    expect(formatTriageText([{ result: t }])).toMatch(
      /CANNOT REACH: .*every interleaving explored, under sequential consistency \(the splat is from an x86 kernel, by its RIP: line: a store there may still pass a later load/,
    );
  }, 60_000);

  it('never answers for a BUG the kernel printed without its file (no CONFIG_DEBUG_BUGVERBOSE)', async () => {
    // lib/bug.c: `Kernel BUG at fn+0x../0x.. [verbose debug info unavailable]`; before, the splat was not read at all
    const text = fuse
      .replace(/> \[16247\.536348\][\s\S]*?page dumped because: [^\n]*\n/, '')
      .replace('kernel BUG at mm/truncate.c:678!', 'Kernel BUG at invalidate_inode_pages2_range+0x3b4/0x550 [verbose debug info unavailable]');
    const s = await answer(text, '2.6.23');
    expect(s).toMatchObject({ kind: 'bug', title: 'kernel BUG in invalidate_inode_pages2_range', rule: 'bug-on', at: null });
    expect(s.model).toMatchObject({ status: 'not-modelled', flavor: { name: 'linux-2.6.23' } });
    expect(s.model!.because).toMatch(
      /^the kernel printed no file:line for its BUG in invalidate_inode_pages2_range \(built without CONFIG_DEBUG_BUGVERBOSE\) and no BUG_ON condition, so nothing says it is linux-2\.6\.23's check there/,
    );
  }, 60_000);
});

describe('report → trace', () => {
  /** reproduce() over two runs of a fake capture whose replays give `results`, in order. */
  const reproduceOver = (t: Awaited<ReturnType<typeof triage>>, results: ReplayResult[]) =>
    reproduce({
      splat: t.splats[0]!,
      programs: ['odirect_write', 'fault'],
      source: 'repro.c',
      runs: 2,
      durationMs: 1000,
      outDir: '/nonexistent',
      capture: async () => ({
        outDir: '/nonexistent',
        timings: {},
        runs: [1, 2].map((i) => ({ dir: `/nonexistent/run-${i}`, meta: { kernel: { release: '6.1-test' } } as unknown as CaptureMeta })),
      }),
      replay: async () => results.shift()!,
    });

  it('says when a run caught the rule only through uncertain findings (what the trace does not show may avoid it)', async () => {
    const t = await triage(await scanReportFile(xfs), { model: false });
    const replayed = (certainty: 'certain' | 'uncertain') =>
      ({ findings: [{ rule: 'mapped-page-removed', certainty }], stats: { events: 10, ops: 5 } }) as unknown as ReplayResult;
    const results = [replayed('uncertain'), replayed('certain')];
    const r = await reproduceOver(t, results);
    expect(r.runs.map((x) => [x.caught, x.uncertainOnly])).toEqual([
      [true, true],
      [true, false],
    ]);
    expect(r.summary).toBe(
      'the race was caught in 2 of 2 run(s) on 6.1-test (mapped-page-removed in the replay) — in 1 of them only as uncertain findings (what the trace does not show may avoid it)',
    );
    expect(formatTriageText([{ result: t, repro: r }])).toMatch(/run 1\s+CAUGHT \(uncertain\): mapped-page-removed ×1 \(1 uncertain\)/);
  });

  it('says when a run that missed the rule could not judge it', async () => {
    const t = await triage(await scanReportFile(xfs), { model: false });
    const tie =
      '1 set of events on several CPUs with one timestamp (the first at trace.txt.gz:9) raises mapped-page-removed in an order the timestamps allow, and nothing in the order replayed';
    const results = [
      { findings: [], stats: { events: 10, ops: 5 }, verdict: { unjudged: [{ rule: 'mapped-page-removed', reason: tie }] } },
      { findings: [], stats: { events: 10, ops: 5 }, verdict: {} },
    ] as unknown as ReplayResult[];
    const r = await reproduceOver(t, results);
    expect(r.runs.map((x) => [x.caught, x.unjudged])).toEqual([
      [false, true],
      [false, false],
    ]);
    expect(r.runs[0]!.summary).toContain(`mapped-page-removed not judged: ${tie}`);
    expect(r.summary).toBe(
      'the race was not caught in 2 run(s) on 6.1-test: no replay reported mapped-page-removed (1 of them could not judge it: see each run) — a run that misses it says nothing about the kernel',
    );
  });

  it('chooses the capture profile whose probes cover the paths, the base before a variant', async () => {
    expect((await chooseProfile(['odirect_write', 'fault'])).profile.name).toBe('odirect-race');
    expect((await chooseProfile(['truncate', 'fault'])).profile.name).toBe('truncate-racer');
    expect((await chooseProfile(['invalidate_mapping_pages'])).profile.name).toBe('odirect-dropper');
  });

  it('replays every run and counts the runs whose replay reports the rule (shipped traces stand in for the guest)', async () => {
    const t = await triage(await scanReportFile(xfs), { model: false });
    // The shipped traces: one (a kernel with a fix reverted) where replay finds orphan-page-mapped, one where it finds nothing.
    const runs = ['traces/pair-filemap-recheck/patched/odirect-race/run-1', 'traces/odirect-race'].map((d) => path.join(root, d));
    let asked: CaptureOptions | undefined;
    const out = await mkdtemp(path.join(tmpdir(), 'kreplay-triage-repro-'));
    try {
      const r = await reproduce({
        splat: { ...t.splats[0]!, rule: 'orphan-page-mapped' },
        programs: ['odirect_write', 'fault'],
        source: '/somewhere/repro.c',
        runs: 2,
        durationMs: 1000,
        outDir: out,
        capture: async (o) => {
          asked = o;
          return {
            outDir: out,
            timings: {},
            runs: runs.map((dir) => ({ dir, meta: { kernel: { release: '6.1.192-test' } } as unknown as CaptureMeta })),
          } satisfies CaptureResult;
        },
      });
      expect(asked).toMatchObject({ workload: 'repro', repro: { source: '/somewhere/repro.c' }, runs: 2, durationMs: 1000, profile: { name: 'odirect-race' } });
      expect(r).toMatchObject({ caught: 1, kernel: '6.1.192-test', profile: 'odirect-race' });
      expect(r.runs.map((x) => x.caught)).toEqual([true, false]);
      expect(r.runs[0]!.ops).toBeGreaterThan(1000);
      // the shipped patched run's orphans are uncertain: its do_set_pte probe fetched neither the fault's nor the VMA's flags (docs/replay.md, session 29)
      expect(r.summary).toBe(
        'the race was caught in 1 of 2 run(s) on 6.1.192-test (orphan-page-mapped in the replay) — only as uncertain findings: in each run what the trace does not show may avoid it (each finding says why)',
      );
      const text = formatTriageText([{ result: t, repro: r }]);
      expect(text).toMatch(/caught in 1 of 2/);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }, 60_000);
});
