/**
 * `kreplay replay` as a user (and a CI job) runs it: exit codes, every output format,
 * determinism, and the errors a user can cause.
 */
import { describe, expect, it } from '@jest/globals';
import { copyFileSync, mkdtempSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoRoot, runCli } from './run-cli.js';
import { writeRaceTrace } from './race-trace.js';
import { junitCounts } from './junit-counts.js';
import { filemapAdd, syntheticDat, syntheticSpec, T0 } from '../../ftrace-parser/test/dat-synthetic.js';
import { PageBuilder } from '../../ftrace-parser/test/dat-writer.js';

const fx = (name: string) => `fixtures/replay/${name}/trace.txt`;

describe('kreplay replay: exit codes', () => {
  it('exits 1 on a race and lists it with its explanation and cited lines', async () => {
    const r = await runCli(['replay', fx('orphan-page-mapped')]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain('1 finding: 1 error, 0 warnings');
    expect(r.stdout).toContain('error orphan-page-mapped (certain)');
    expect(r.stdout).toContain('mmapper-210 on CPU 0 mapped pfn 0x1234');
    expect(r.stdout).toContain(`${fx('orphan-page-mapped')}:19`);
  });

  it('exits 0 on a clean trace', async () => {
    const r = await runCli(['replay', fx('clean-odirect')]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('no findings');
  });

  it('--fail-on decides which severities fail the run', async () => {
    expect((await runCli(['replay', fx('orphan-page-mapped'), '--fail-on', 'never'])).exitCode).toBe(0);
    expect((await runCli(['replay', fx('trace-inconsistent')])).exitCode).toBe(0); // warnings only
    expect((await runCli(['replay', fx('trace-inconsistent'), '--fail-on', 'warning'])).exitCode).toBe(1);
  });

  it('replays a real gzip-compressed 6.1 capture clean, with its meta.json found beside it', async () => {
    const trace = 'traces/odirect-race/trace.txt.gz';
    if (!existsSync(path.join(repoRoot, trace))) return;
    const r = await runCli(['replay', trace, '--stats', '--no-timing']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('meta.json kernel 6.1.0-56-amd64');
    expect(r.stdout).toContain('mapcount resyncs: 0');
    // captured before sched_process_exit was traced (session 42): --stats says what that leaves unseen
    expect(r.stdout).toContain(
      '\n  task exits: none in the trace (no sched_process_exit): a pid given to a new task cannot be seen, each pid is read as one task\n',
    );
  });
});

describe('kreplay replay: a real regression', () => {
  const pair = 'traces/pair-filemap-recheck';
  it('flags the orphan PTEs of a 6.1 kernel without the filemap_fault mapping recheck, and not the unpatched one', async () => {
    if (!existsSync(path.join(repoRoot, pair))) return;
    const patched = await runCli(['replay', `${pair}/patched/odirect-race/run-3/trace.txt.gz`, '--json', '--no-timing']);
    expect(patched.exitCode).toBe(1);
    const j = JSON.parse(patched.stdout); // far beyond a pipe's 64 KiB: all of it arrives
    expect(patched.stdout.length).toBeGreaterThan(65536);
    expect(j.findings.length).toBeGreaterThan(10);
    expect(new Set(j.findings.map((f: { rule: string }) => f.rule))).toEqual(new Set(['orphan-page-mapped']));
    // uncertain: the capture's do_set_pte probe (no page_add_file_rmap: the orphan has no ->mapping)
    // fetched neither vmf->flags nor vma->vm_flags, so a PTE it installs on a page that left the
    // cache may be a private write fault's copy as far as the trace says (docs/replay.md, session 29)
    expect(
      j.findings.every(
        (f: { certainty: string; explanation: string }) =>
          f.certainty === 'uncertain' &&
          /kr-fault-\d+ on CPU \d mapped pfn/.test(f.explanation) &&
          /may have mapped a private write fault's new anonymous page rather than the file's/.test(f.explanation),
      ),
    ).toBe(true);
    const base = await runCli(['replay', `${pair}/base/odirect-race/run-3/trace.txt.gz`]);
    expect(base.exitCode).toBe(0);
    expect(base.stdout).toContain('no findings');
  });

  it('is certain of them in a capture of the same kernel whose do_set_pte probe fetches vmf->flags and vma->vm_flags', async () => {
    if (!existsSync(path.join(repoRoot, pair))) return;
    // the same build (b35e6d222a57df6e), captured with the profiles that fetch the fault's flags and
    // the VMA's: a read fault in a shared mapping (vm_flags 0xf9) maps the file's page, never a copy
    for (const run of ['odirect-race/run-1', 'odirect-race/run-2', 'odirect-race/run-3', 'truncate-racer/run-2']) {
      const r = await runCli(['replay', `${pair}/patched-flags/${run}/trace.txt.gz`, '--json', '--no-timing']);
      expect({ run, exit: r.exitCode }).toEqual({ run, exit: 1 });
      const j = JSON.parse(r.stdout);
      const orphans = j.findings.filter((f: { rule: string }) => f.rule === 'orphan-page-mapped');
      expect(orphans.length).toBeGreaterThan(5);
      expect({ run, uncertain: j.findings.filter((f: { certainty: string }) => f.certainty !== 'certain').length }).toEqual({ run, uncertain: 0 });
      expect({ run, maybeCopies: j.stats.maybeCopies ?? 0, anonCopies: j.stats.anonCopies ?? 0 }).toEqual({ run, maybeCopies: 0, anonCopies: 0 });
      expect(j.stats.unusableEvents).toEqual({});
    }
  });
});

describe('kreplay replay: formats', () => {
  it('json carries findings with cited lines and the stats', async () => {
    const r = await runCli(['replay', fx('stale-after-invalidate'), '--format', 'json']);
    expect(r.exitCode).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j.findings.map((f: { rule: string }) => f.rule)).toEqual(['orphan-page-mapped', 'stale-after-invalidate']);
    const f = j.findings[1];
    expect(Object.keys(f).slice(0, 9)).toEqual(['rule', 'severity', 'certainty', 'message', 'ts', 'cpu', 'pid', 'events', 'explanation']);
    expect(f.events.map((e: { line: number }) => e.line)).toEqual([14, 16, 17, 19, 21]);
    expect(f).toMatchObject({ file: '8:16/2a', index: 0, ts: 100000130000, cpu: 1, pid: 220 });
    expect(j.stats).toMatchObject({ events: 9, ops: 7, pages: 1, gaps: 0 }); // do_set_pte + page_add_file_rmap: one mapping
    expect(typeof j.stats.ms).toBe('number');
  });

  it('the same input gives byte-identical output (text always; json with --no-timing)', async () => {
    const a = await runCli(['replay', fx('stale-after-invalidate-noise')]);
    const b = await runCli(['replay', fx('stale-after-invalidate-noise')]);
    expect(a.stdout).toBe(b.stdout);
    const c = await runCli(['replay', fx('stale-after-invalidate-noise'), '--format', 'json', '--no-timing']);
    const d = await runCli(['replay', fx('stale-after-invalidate-noise'), '--format', 'json', '--no-timing']);
    expect(c.stdout).toBe(d.stdout);
    expect(JSON.parse(c.stdout).stats.ms).toBeUndefined();
  });

  it('sarif 2.1.0 locates each finding at its trace line, with every cited event related', async () => {
    const r = await runCli(['replay', fx('mapped-page-removed'), '--format', 'sarif']);
    const s = JSON.parse(r.stdout);
    expect(s.version).toBe('2.1.0');
    const run = s.runs[0];
    expect(run.tool.driver.rules.map((x: { id: string }) => x.id)).toContain('mapped-page-removed');
    const res = run.results[0];
    expect(res).toMatchObject({ ruleId: 'mapped-page-removed', level: 'error' });
    expect(res.locations[0].physicalLocation).toEqual({ artifactLocation: { uri: fx('mapped-page-removed') }, region: { startLine: 20 } });
    expect(res.relatedLocations.map((l: { physicalLocation: { region: { startLine: number } } }) => l.physicalLocation.region.startLine)).toEqual([
      13, 17, 19, 20,
    ]);
  });

  it('junit has a testcase per rule and a failure per rule with findings at --fail-on', async () => {
    const r = await runCli(['replay', fx('stale-after-invalidate'), '--format', 'junit']);
    expect(r.stdout).toMatch(/^<\?xml/);
    expect(r.stdout.match(/<testcase /g)).toHaveLength(5);
    expect(r.stdout.match(/<failure /g)).toHaveLength(2);
    expect(r.stdout).toContain('failures="2"');
    const w = await runCli(['replay', fx('trace-inconsistent'), '--format', 'junit']);
    expect(w.stdout).toContain('failures="0"');
    expect(w.stdout).toContain('<system-out>');
  });

  // `failures` counted findings: two races on one rule made failures="2" over one failing testcase,
  // which tools that check the counts against the cases reject or misreport
  it("junit's failures, errors and skipped count testcases, as JUnit's do, not findings", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kreplay-junit-'));
    writeRaceTrace(dir, [
      [0, 1],
      [1, 1],
    ]);
    const two = await runCli(['replay', path.join(dir, 'trace.txt'), '--format', 'junit']);
    // one <failure> per failing testcase (JUnit's schema allows one; GitLab shows only the first
    // of several): its message counts the findings, its body holds each of them
    expect(two.stdout.match(/<failure /g)).toHaveLength(1);
    expect(two.stdout).toMatch(/<failure message="2 findings; the first: [^"]*index 0[^"]*" type="error\/certain">/);
    expect(two.stdout.match(/^error \(certain\) at /gm)).toHaveLength(2);
    expect(two.stdout).toMatch(/<testsuites [^>]* failures="1" /);
    expect(two.stdout).toMatch(/<testsuite [^>]* failures="1" /);
    const empty = path.join(dir, 'empty.txt');
    writeFileSync(empty, '# tracer: nop\n#\n# entries-in-buffer/entries-written: 0/0   #P:2\n');
    for (const trace of [path.join(dir, 'trace.txt'), fx('stale-after-invalidate'), fx('trace-inconsistent'), fx('mapped-page-removed-lost'), empty]) {
      const { said, cases } = junitCounts((await runCli(['replay', trace, '--format', 'junit'])).stdout);
      expect(said).toEqual(cases);
    }
  });

  it('github prints one workflow annotation per finding at its line', async () => {
    const r = await runCli(['replay', fx('orphan-page-mapped'), '--format', 'github']);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(
      /^::error file=fixtures\/replay\/orphan-page-mapped\/trace\.txt,line=24,title=kreplay orphan-page-mapped \(certain\)::PTE installed/,
    );
    expect(lines[0]).toContain('%0A');
  });

  it('--out writes the report to a file', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kreplay-replay-'));
    const out = path.join(dir, 'r.sarif');
    const r = await runCli(['replay', fx('orphan-page-mapped'), '--format', 'sarif', '--out', out]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe('');
    expect(JSON.parse(readFileSync(out, 'utf8')).version).toBe('2.1.0');
  });
});

// Explorer traces (`kreplay explore --trace-out`, then `kreplay replay`): explore.test.ts replays
// both orderings of the O_DIRECT race it writes, the same spawns this file made for one of them.

describe('kreplay replay: input', () => {
  it('reads stdin with -, and takes the vmemmap base from a flag', async () => {
    const text = readFileSync(path.join(repoRoot, fx('mapped-page-removed')), 'utf8');
    const r = await runCli(['replay', '-', '--vmemmap-base', '0xffffea0000000000'], { input: text });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain('mapped-page-removed');
  });

  it('says clearly when the vmemmap base is missing: exit 2, file:line and what to do', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kreplay-replay-'));
    const trace = path.join(dir, 'trace.txt');
    copyFileSync(path.join(repoRoot, fx('mapped-page-removed')), trace);
    const r = await runCli(['replay', trace]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`${trace}:17:`);
    expect(r.stderr).toContain('--vmemmap-base');
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace
  });

  it('rejects a bad flag value, a missing file and a bad probe map with exit 2', async () => {
    const bad = await runCli(['replay', fx('clean-odirect'), '--vmemmap-base', 'zzz']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('--vmemmap-base zzz is not a hex address');
    const missing = await runCli(['replay', 'no/such/trace.txt']);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain('no such file');
    const kernel = await runCli(['replay', fx('clean-odirect'), '--kernel', 'linux-0.1']);
    expect(kernel.exitCode).toBe(2);
    expect(kernel.stderr).toContain('unknown kernel "linux-0.1"');
    const probes = await runCli(['replay', fx('clean-odirect'), '--probes', 'fixtures/replay/clean-odirect/trace.txt']);
    expect(probes.exitCode).toBe(2);
    expect(probes.stderr).toMatch(/trace\.txt(:\d+)?: (bad probe map|not valid YAML)/);
  });
});

describe('kreplay replay: a capture that recorded lost events in meta.json', () => {
  // `kreplay capture --allow-lost` keeps a run whose ring buffer overran or whose kprobes missed
  // hits, and records the counts in meta.json's buffer section. Missed kprobe hits and dropped
  // events leave no mark in the trace itself, so only meta.json says they happened.
  const lossyCopy = (fixture: string, buffer: Record<string, number>): string => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kreplay-lossy-'));
    copyFileSync(path.join(repoRoot, 'fixtures/replay', fixture, 'trace.txt'), path.join(dir, 'trace.txt'));
    const meta = JSON.parse(readFileSync(path.join(repoRoot, 'fixtures/replay', fixture, 'meta.json'), 'utf8'));
    writeFileSync(path.join(dir, 'meta.json'), JSON.stringify({ ...meta, buffer: { clock: 'mono', ...buffer, allowLost: true } }));
    return path.join(dir, 'trace.txt');
  };

  it('makes findings uncertain when kprobe hits were missed (they were certain, with 0 gaps)', async () => {
    const r = await runCli(['replay', lossyCopy('orphan-page-mapped', { lost: 0, probeMisses: 3 }), '--format', 'json']);
    expect(r.exitCode).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.verdict).toMatchObject({ certain: 0, uncertain: 1, gaps: 1, lostEvents: 3 });
    expect(out.findings[0].explanation).toContain("the capture's meta.json records 3 kprobe hits the kernel missed");
    expect(out.warnings.join('\n')).toContain('finding nothing is not a clean run');
  });

  it('does not call a trace without findings clean when the ring buffer lost events', async () => {
    const trace = lossyCopy('clean-odirect', { lost: 12 });
    const out = JSON.parse((await runCli(['replay', trace, '--format', 'json'])).stdout);
    expect(out.findings).toHaveLength(0);
    expect(out.verdict).toMatchObject({ gaps: 1, lostEvents: 12 });
    expect(out.warnings.join('\n')).toContain('12 events lost to the ring buffer');
    expect((await runCli(['replay', trace])).stdout).toContain('this is not a clean run');
  });

  it('says nothing when meta.json counts no loss', async () => {
    const r = await runCli(['replay', lossyCopy('orphan-page-mapped', { lost: 0, probeMisses: 0 }), '--format', 'json']);
    expect(JSON.parse(r.stdout).verdict).toMatchObject({ certain: 1, gaps: 0 });
  });
});

/** fixtures/dat/qemu-6.1/trace.dat with byte strings replaced by others of the same length, and its meta.json, in a new folder. */
const patchedDat = (edits: [string, string][]): string => {
  const dir = mkdtempSync(path.join(tmpdir(), 'kreplay-dat-'));
  let b = readFileSync(path.join(repoRoot, 'fixtures/dat/qemu-6.1/trace.dat'));
  for (const [from, to] of edits) {
    const at = b.indexOf(from);
    expect(at).toBeGreaterThan(0);
    b = Buffer.concat([b.subarray(0, at), Buffer.from(to), b.subarray(at + from.length)]);
  }
  writeFileSync(path.join(dir, 'trace.dat'), b);
  copyFileSync(path.join(repoRoot, 'fixtures/dat/qemu-6.1/meta.json'), path.join(dir, 'meta.json'));
  return path.join(dir, 'trace.dat');
};

describe("kreplay replay: a trace.dat's thread groups from the kernel's saved_tgids beside it (session 44)", () => {
  // fixtures/dat/qemu-6.1-tgids: a real capture's trace.dat, trace.txt.gz and the saved_tgids capture kept beside them
  const run = (files: Record<string, string>): string => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kreplay-tgids-'));
    for (const f of ['trace.dat', 'meta.json']) copyFileSync(path.join(repoRoot, 'fixtures/dat/qemu-6.1-tgids', f), path.join(dir, f));
    for (const [f, text] of Object.entries(files)) writeFileSync(path.join(dir, f), text);
    return dir;
  };
  const good = readFileSync(path.join(repoRoot, 'fixtures/dat/qemu-6.1-tgids/saved_tgids'), 'utf8');

  it('reads the one beside the trace, or --tgids, and refuses a damaged one at its line, exit 2', async () => {
    const ok = run({ saved_tgids: good });
    const r = await runCli(['replay', path.join(ok, 'trace.dat'), '--no-timing', '--stats']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/no findings/);
    expect(r.stdout).not.toContain('task exits: none'); // it traces sched_process_exit (5 exits)
    const bad = run({ saved_tgids: '15 15\n222 221\n222 222\n' });
    const b = await runCli(['replay', path.join(bad, 'trace.dat'), '--no-timing']);
    expect(b.exitCode).toBe(2);
    expect(b.stderr).toContain(`${path.join(bad, 'saved_tgids')}:3: pid 222 is listed twice (tgid 221, then 222)`);
    expect(b.stderr).not.toMatch(/\n\s+at /); // no stack trace
    const named = run({ 'trace.dat.saved_tgids': 'kr-fault 221\n' });
    const n = await runCli(['replay', path.join(named, 'trace.dat'), '--no-timing', '--tgids', path.join(ok, 'saved_tgids')]);
    expect(n.exitCode).toBe(0); // --tgids wins over the file beside the trace
    const f = await runCli(['replay', path.join(ok, 'trace.dat'), '--no-timing', '--tgids', path.join(named, 'trace.dat.saved_tgids')]);
    expect(f.exitCode).toBe(2);
    expect(f.stderr).toContain(`${path.join(named, 'trace.dat.saved_tgids')}:1: not a \`pid tgid\` line`);
  });

  it('says which saved_tgids gave the thread groups, or that none did, in the header and the JSON (session 45)', async () => {
    const ok = run({ saved_tgids: good });
    const beside = path.join(ok, 'saved_tgids');
    const text = await runCli(['replay', path.join(ok, 'trace.dat'), '--no-timing']);
    expect(text.stdout.split('\n')[0]).toMatch(new RegExp(`\\); thread groups: saved_tgids ${beside.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
    const json = JSON.parse((await runCli(['replay', path.join(ok, 'trace.dat'), '--format', 'json', '--no-timing'])).stdout);
    expect(json.trace.tgidsSource).toBe(beside);
    const none = run({});
    const t = await runCli(['replay', path.join(none, 'trace.dat'), '--no-timing']);
    expect(t.stdout.split('\n')[0]).toMatch(/; thread groups: none \(no saved_tgids beside the trace\.dat, no --tgids\)$/);
    expect(JSON.parse((await runCli(['replay', path.join(none, 'trace.dat'), '--format', 'json', '--no-timing'])).stdout).trace.tgidsSource).toBeNull();
    // a text trace names its own: nothing said, and a saved_tgids beside it is not read
    const txt = run({ saved_tgids: 'garbage\n' });
    copyFileSync(path.join(repoRoot, 'fixtures/dat/qemu-6.1-tgids/trace.txt.gz'), path.join(txt, 'trace.txt.gz'));
    const tt = await runCli(['replay', path.join(txt, 'trace.txt.gz'), '--format', 'json', '--no-timing']);
    expect(tt.exitCode).toBe(0);
    expect(JSON.parse(tt.stdout).trace).not.toHaveProperty('tgidsSource');
    // naming one for a text trace is refused, not silently ignored (session 45)
    const named = await runCli([
      'replay',
      path.join(txt, 'trace.txt.gz'),
      '--no-timing',
      '--tgids',
      path.join(repoRoot, 'fixtures/dat/qemu-6.1-tgids/saved_tgids'),
    ]);
    expect(named.exitCode).toBe(2);
    expect(named.stderr).toContain('trace.txt.gz is not a trace.dat, so a saved_tgids does not apply');
    expect(named.stderr).toContain("hint: a text trace's thread groups are its (tgid) column");
  });
});

describe('kreplay replay: a trace.dat whose CPU stats count drops its pages do not mark', () => {
  // trace-cmd stores each CPU's tracefs stats in the file (its cpustat option). Commit overruns, and
  // dropped events when the buffer does not overwrite, lose events without RB_MISSED_EVENTS on any
  // page; only those counts say so. (The stats are text of fixed width here: the same byte length.)
  it('counts them as a gap, so a run without findings is not clean (it read clean, 0 gaps)', async () => {
    const dat = patchedDat([
      ['dropped events: 0', 'dropped events: 7'],
      ['commit overrun: 0', 'commit overrun: 3'],
    ]);
    const out = JSON.parse((await runCli(['replay', dat, '--format', 'json'])).stdout);
    expect(out.verdict).toMatchObject({ gaps: 1, lostEvents: 10 });
    expect(out.warnings.join('\n')).toContain("the trace.dat's CPU stats (trace-cmd's cpustat option) count 10 events the ring buffer dropped");
    expect((await runCli(['replay', dat])).stdout).toContain('this is not a clean run');
  });

  it('says nothing of stats that count no drop', async () => {
    const out = JSON.parse((await runCli(['replay', patchedDat([]), '--format', 'json'])).stdout);
    expect(out.verdict).toMatchObject({ gaps: 0, lostEvents: 0 });
  });
});

describe('kreplay replay: a trace.dat whose data for one CPU starts past the end of the file', () => {
  it("counts that CPU's loss on every CPU: its events were all lost, and findings the others' events alone make are not certain", async () => {
    // qemu-6.1 records 2 CPUs; CPU 1's entry in the flyrecord buffer option is
    // (u32 cpu = 1, u64 offset = 1032192, u64 size): point its offset past the end
    const dir = mkdtempSync(path.join(tmpdir(), 'kreplay-cpu-lost-'));
    const b = readFileSync(path.join(repoRoot, 'fixtures/dat/qemu-6.1/trace.dat'));
    const entry = Buffer.from([1, 0, 0, 0, 0x00, 0xc0, 0x0f, 0, 0, 0, 0, 0]);
    const at = b.indexOf(entry);
    expect(at).toBeGreaterThan(0);
    b.writeBigUInt64LE(2n ** 53n, at + 4);
    writeFileSync(path.join(dir, 'trace.dat'), b);
    copyFileSync(path.join(repoRoot, 'fixtures/dat/qemu-6.1/meta.json'), path.join(dir, 'meta.json'));
    const out = JSON.parse((await runCli(['replay', path.join(dir, 'trace.dat'), '--format', 'json'])).stdout);
    // CPU 0's events alone: pages added on CPU 1 are missing, so CPU 0 "removes them twice" and so on
    expect(out.findings.length).toBeGreaterThan(0);
    // it said so in a warning, and still called every finding certain: CPU 1 was involved in none
    expect(out.findings.filter((f: { certainty: string }) => f.certainty !== 'uncertain')).toEqual([]);
    expect(out.warnings.join('\n')).toContain(
      "CPU 1's compressed data starts past the end of the file (byte 9007199254740992): no event of CPU 1 could be read",
    );
  });
});

describe('kreplay replay: a trace.dat with more than one ring buffer', () => {
  // trace-cmd record -B writes a tracefs instance's buffer beside the top one; replay reads one
  // buffer, and the events of the others are part of the trace too.
  const twoBuffers = (): string => {
    const spec = syntheticSpec({ corrupt: false });
    spec.instances = [{ name: 'kreplay-inst', cpus: [[], [Buffer.from(spec.cpus[1]![0]!)]] }];
    const p = path.join(mkdtempSync(path.join(tmpdir(), 'kreplay-buffers-')), 'trace.dat');
    writeFileSync(p, syntheticDat(spec));
    return p;
  };

  it('counts the buffer it did not read as a gap and says how to choose (the other buffer went unsaid); --buffer chooses', async () => {
    const dat = twoBuffers();
    const run = async (...flags: string[]) => JSON.parse((await runCli(['replay', dat, '--kernel', 'linux-6.1', '--format', 'json', ...flags])).stdout);
    const unsaid = await run();
    // the top buffer chosen on purpose: the other one is the user's choice, not a hole
    const top = await run('--buffer', '');
    expect(unsaid.verdict.gaps).toBe(top.verdict.gaps + 1);
    expect(unsaid.warnings.join('\n')).toContain('the trace.dat holds another ring buffer that was not read (instance "kreplay-inst" (2 CPUs))');
    expect(unsaid.warnings.join('\n')).toContain('pass --buffer NAME');
    expect(top.warnings.join('\n')).not.toContain('another ring buffer');
    const inst = await run('--buffer', 'kreplay-inst');
    expect(inst.stats.events).toBe(1);
  });

  it("does not take the top buffer's clock for an instance's events: trace-cmd records only the top's", async () => {
    // `trace-cmd record -C global -e … -B inst -e …`: the top buffer runs on global, the instance on
    // its own trace_clock (local when made), and the file names global for both. The instance adds
    // one page on CPU 0, then again on CPU 1: on a local clock the trace cannot order the two adds.
    const spec = syntheticSpec({ corrupt: false });
    spec.clock = 'local [global] counter';
    const dev = (254 << 20) | 3;
    const add = (t: bigint, pid: number) => [new PageBuilder(T0 + t).event(0, filemapAdd(pid, 0x5000, 0x2a, 7, dev, 0)).build()];
    spec.instances = [{ name: 'inst', cpus: [add(1000n, 501), add(2000n, 502)] }];
    const dat = path.join(mkdtempSync(path.join(tmpdir(), 'kreplay-inst-clock-')), 'trace.dat');
    writeFileSync(dat, syntheticDat(spec));
    const run = async (...flags: string[]) =>
      JSON.parse((await runCli(['replay', dat, '--kernel', 'linux-6.1', '--format', 'json', '--buffer', 'inst', ...flags])).stdout);
    const inst = await run();
    expect(inst.trace).toMatchObject({ clockFrom: 'unknown' });
    expect(inst.trace.clock).toBeUndefined();
    expect(inst.findings.map((f: { rule: string; certainty: string }) => [f.rule, f.certainty])).toEqual([['trace-inconsistent', 'uncertain']]);
    expect(inst.findings[0].explanation).toContain(
      'the trace.dat records the trace clock of its top ring buffer (`global`), which trace-cmd writes for every buffer, not that of instance "inst"',
    );
    // the user who set the instance's clock says so
    const told = await run('--trace-clock', 'global');
    expect(told.trace).toMatchObject({ clock: 'global', clockFrom: 'flag' });
    expect(told.findings[0].certainty).toBe('certain');
    // the top buffer's own events are on the clock the file records
    const top = JSON.parse((await runCli(['replay', dat, '--kernel', 'linux-6.1', '--format', 'json', '--buffer', ''])).stdout);
    expect(top.trace).toMatchObject({ clock: 'global', clockFrom: 'recorded' });
  });
});

describe('kreplay replay: a file holding fewer entries than its header counts', () => {
  // A tracefs `trace` file stops tracing while it is read, so its entries-in-buffer header counts
  // exactly the entries it prints. Fewer means the file was cut or lines were removed, somewhere.
  const cutCopy = (keepHeader: boolean): string => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kreplay-cut-'));
    for (const f of ['trace.txt', 'meta.json']) copyFileSync(path.join(repoRoot, 'fixtures/replay/orphan-page-mapped', f), path.join(dir, f));
    const lines = readFileSync(path.join(dir, 'trace.txt'), 'utf8')
      .split('\n')
      .filter((l) => !l.includes('page_fault_user:') && (keepHeader || !l.includes('entries-in-buffer')));
    writeFileSync(path.join(dir, 'trace.txt'), lines.join('\n'));
    return path.join(dir, 'trace.txt');
  };

  it('makes every finding uncertain and says why (it used to keep them certain, and a cut file without findings read clean)', async () => {
    const r = await runCli(['replay', cutCopy(true), '--format', 'json']);
    expect(r.exitCode).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.verdict).toMatchObject({ certain: 0, uncertain: 1, gaps: 1, lostEvents: 1 });
    expect(out.findings[0].explanation).toContain('the header at line 3 counts 13 entries in the ring buffer, but the file holds 12');
    expect(out.warnings.join('\n')).toContain('delete the header');
  });

  it('keeps them certain once the user deletes the header line, saying the lines were removed on purpose', async () => {
    const r = await runCli(['replay', cutCopy(false)]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain('error orphan-page-mapped (certain)');
  });
});

describe('kreplay replay: a trace whose events are not the count its meta.json says the capture saved', () => {
  // `kreplay capture` writes trace.events, how many event lines it saved in trace.file: a trace
  // that reads otherwise was cut or edited after the capture (here without the header that would
  // say so too), and may miss the events a finding rests on or that would have raised one
  const copyWith = (
    fixture: string,
    trace: Record<string, unknown>,
    edit: (lines: string[]) => string[] = (l) => l.filter((x) => !x.includes('entries-in-buffer')),
  ): string => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kreplay-saved-'));
    const lines = readFileSync(path.join(repoRoot, 'fixtures/replay', fixture, 'trace.txt'), 'utf8').split('\n');
    writeFileSync(path.join(dir, 'trace.txt'), edit(lines).join('\n'));
    const meta = JSON.parse(readFileSync(path.join(repoRoot, 'fixtures/replay', fixture, 'meta.json'), 'utf8'));
    writeFileSync(path.join(dir, 'meta.json'), JSON.stringify({ ...meta, trace: { file: 'trace.txt.gz', bytes: 1, gzipBytes: 1, ...trace } }));
    return path.join(dir, 'trace.txt');
  };
  const json = async (trace: string) => JSON.parse((await runCli(['replay', trace, '--format', 'json'])).stdout);

  it('makes every finding uncertain when events are missing (they were certain, with 0 gaps)', async () => {
    const trace = copyWith('orphan-page-mapped', { events: 14 });
    const r = await runCli(['replay', trace, '--format', 'json']);
    expect(r.exitCode).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.verdict).toMatchObject({ certain: 0, uncertain: 1, gaps: 1, lostEvents: 1 });
    expect(out.findings[0].explanation).toContain(
      'the trace holds 13 events and its meta.json says the capture saved 14: 1 event is missing, so the trace was cut or edited after the capture',
    );
    expect(out.warnings.join('\n')).toContain('finding nothing is not a clean run');
  });

  it('does not call a cut trace without findings clean', async () => {
    const trace = copyWith('clean-odirect', { events: 40 });
    const out = await json(trace);
    expect(out.findings).toHaveLength(0);
    expect(out.verdict).toMatchObject({ gaps: 1, lostEvents: 15 });
    expect((await runCli(['replay', trace])).stdout).toContain('this is not a clean run');
  });

  it('makes findings uncertain when events were added, and counts no lost events', async () => {
    const out = await json(copyWith('orphan-page-mapped', { events: 12 }));
    expect(out.verdict).toMatchObject({ certain: 0, uncertain: 1, gaps: 1, lostEvents: 0 });
    expect(out.warnings.join('\n')).toContain('the trace holds 13 events and its meta.json says the capture saved 12: 1 event was added');
    expect(out.findings[0].explanation).toContain('so this may rest on events the kernel did not record');
  });

  it('counts one gap, and its events once, when the header says the same lines are missing', async () => {
    const trace = copyWith('orphan-page-mapped', { events: 13 }, (lines) => lines.filter((l) => !l.includes('page_fault_user:')));
    const out = await json(trace);
    expect(out.verdict).toMatchObject({ certain: 0, uncertain: 1, gaps: 1, lostEvents: 1 });
    expect(out.warnings.join('\n')).toContain('the header at line 3 counts 13 entries');
    expect(out.warnings.join('\n')).toContain('the trace holds 12 events and its meta.json says the capture saved 13: 1 event is missing');
  });

  it('says nothing when the count agrees, or when meta.json counts another file (a trace.dat)', async () => {
    expect((await json(copyWith('orphan-page-mapped', { events: 13 }))).verdict).toMatchObject({ certain: 1, gaps: 0 });
    expect((await json(copyWith('orphan-page-mapped', { file: 'trace.dat', events: 14 }))).verdict).toMatchObject({ certain: 1, gaps: 0 });
  });
});

describe('kreplay replay: events a trace lost elsewhere or earlier than its mark', () => {
  // fixtures/replay/mapped-page-removed: mmapper-210 maps pfn 0x1234 on CPU 0 (line 18), fadvise-211
  // removes it from the page cache on CPU 1 (line 20), mmapper-210 unmaps it on CPU 0 (line 22)
  const edited = (fixture: string, edit: (lines: string[]) => string[], meta: (m: Record<string, unknown>) => Record<string, unknown> = (m) => m): string => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kreplay-lost-'));
    const lines = readFileSync(path.join(repoRoot, 'fixtures/replay', fixture, 'trace.txt'), 'utf8').split('\n');
    writeFileSync(path.join(dir, 'trace.txt'), edit(lines).join('\n'));
    writeFileSync(
      path.join(dir, 'meta.json'),
      JSON.stringify(meta(JSON.parse(readFileSync(path.join(repoRoot, 'fixtures/replay', fixture, 'meta.json'), 'utf8')))),
    );
    return path.join(dir, 'trace.txt');
  };
  const sched = (cpu: number, ts: string) =>
    `          other-300   [00${cpu}] .....   ${ts}: sched_switch: prev_comm=other prev_pid=300 prev_prio=120 prev_state=S ==> next_comm=swapper/${cpu} next_pid=0 next_prio=120`;
  const json = async (trace: string, ...flags: string[]) => {
    const r = await runCli(['replay', trace, '--format', 'json', ...flags]);
    return { exit: r.exitCode, out: JSON.parse(r.stdout) };
  };

  it('a CPU that never touched the page lost events between its mapping and its removal: uncertain (it was certain)', async () => {
    // a task on CPU 2 may have unmapped the page then (munmap's zap_pte_range runs on the caller's CPU)
    const trace = edited('mapped-page-removed', (l) =>
      l.flatMap((x) => (x.includes('p_page_add_file_rmap_0') ? [x, sched(2, '100.000160'), 'CPU:2 [LOST 3 EVENTS]', sched(2, '100.000170')] : [x])),
    );
    const { exit, out } = await json(trace);
    expect(exit).toBe(1);
    expect(out.verdict).toMatchObject({ certain: 0, uncertain: 1, gaps: 1, lostEvents: 3 });
    expect(out.findings[0].explanation).toContain('Uncertain: the ring buffer lost 3 events on CPU 2');
  });

  it("a lost-events mark printed after the finding, before its CPU's next event: uncertain (it was certain)", async () => {
    // the kernel prints the mark before CPU 0's next event (trace.c print_trace_line): the events it
    // lost ran after CPU 0's map at 100.000153 and may have unmapped the page before the removal
    const trace = edited('mapped-page-removed', (l) => l.flatMap((x) => (x.includes('p_page_remove_rmap_0') ? ['CPU:0 [LOST 3 EVENTS]', x] : [x])));
    const { out } = await json(trace);
    expect(out.verdict).toMatchObject({ certain: 0, uncertain: 1, gaps: 1 });
    expect(out.findings[0].explanation).toMatch(
      /the ring buffer lost 3 events on CPU 0 \(.*trace\.txt:22\): the events it hides may have run before this was judged/,
    );
    // CPU 0 printed an event after the removal before it lost any: they ran after it, the finding stands certain
    const later = edited('mapped-page-removed', (l) =>
      l.flatMap((x) => (x.includes('p_page_remove_rmap_0') ? [sched(0, '100.000250'), 'CPU:0 [LOST 3 EVENTS]', x] : [x])),
    );
    expect((await json(later)).out.verdict).toMatchObject({ certain: 1, uncertain: 0, gaps: 1 });
  });

  it('on a per-CPU clock, an event another CPU printed after a one-CPU finding may have run before it: uncertain (it was certain)', async () => {
    // the removal moved to CPU 0 (the mapper's), the unmap to CPU 1, printed after the removal
    const trace = edited(
      'mapped-page-removed',
      (l) => l.map((x) => (x.includes('fadvise-211') ? x.replace('[001]', '[000]') : x.includes('p_page_remove_rmap_0') ? x.replace('[000]', '[001]') : x)),
      (m) => ({ ...m, buffer: { clock: 'local' } }),
    );
    const { out } = await json(trace);
    expect(out.verdict).toMatchObject({ certain: 0, uncertain: 1 });
    expect(out.findings[0].explanation).toContain('page-cache operations came from more than one CPU');
    // with a bound on the skew the timestamps order them again: certain
    expect((await json(trace, '--clock-skew', '1000')).out.verdict).toMatchObject({ certain: 1, uncertain: 0 });
  });
});

describe('kreplay replay: a trace clock kept per CPU', () => {
  // tracefs's default clock, `local`, "may not be in sync across CPUs" (the kernel's
  // Documentation/trace/ftrace.rst), nor are `perf` and `x86-tsc`: the order two CPUs' events
  // print in need not be the order they ran, so a finding that rests on it is not certain.
  const withClock = (fixture: string, clock: string): string => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kreplay-clock-'));
    copyFileSync(path.join(repoRoot, 'fixtures/replay', fixture, 'trace.txt'), path.join(dir, 'trace.txt'));
    const meta = JSON.parse(readFileSync(path.join(repoRoot, 'fixtures/replay', fixture, 'meta.json'), 'utf8'));
    writeFileSync(path.join(dir, 'meta.json'), JSON.stringify({ ...meta, buffer: { ...meta.buffer, clock } }));
    return path.join(dir, 'trace.txt');
  };

  it('makes a finding across two CPUs uncertain and its rules not judged (it was certain)', async () => {
    const r = await runCli(['replay', withClock('orphan-page-mapped', 'local'), '--format', 'json']);
    expect(r.exitCode).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.verdict).toMatchObject({ certain: 0, uncertain: 1, gaps: 0 });
    expect(out.findings[0].explanation).toContain('the trace clock `local` is kept per CPU');
    expect(out.findings[0].explanation).toContain('the events on CPUs 0, 1 may have run in another order');
    expect(out.verdict.unjudged.map((u: { rule: string }) => u.rule)).toEqual(
      expect.arrayContaining(['mapped-page-removed', 'orphan-page-mapped', 'stale-data']),
    );
    expect(out.warnings.join('\n')).toContain('pass --clock-skew N');
  });

  it('takes a bound on the skew: 0 orders by timestamps, a wide one tries the orders it leaves open', async () => {
    const trace = withClock('orphan-page-mapped', 'local');
    const exact = JSON.parse((await runCli(['replay', trace, '--clock-skew', '0', '--format', 'json'])).stdout);
    expect(exact.verdict).toMatchObject({ certain: 1, uncertain: 0, tiedGroups: 0 });
    expect(exact.verdict.unjudged?.some((u: { reason: string }) => u.reason.includes('kept per CPU'))).toBeFalsy();
    // 1 ms: the truncate on CPU 1 may have run before or after the fault on CPU 0, and an order
    // without the orphan PTE exists: nothing is reported, and the rules it would judge are not passes
    const wide = JSON.parse((await runCli(['replay', trace, '--clock-skew', '1000000', '--format', 'json'])).stdout);
    expect(wide.verdict).toMatchObject({ certain: 0, tiedGroups: 1 });
    expect(wide.verdict.unjudged.map((u: { rule: string }) => u.rule)).toContain('orphan-page-mapped');
    expect(wide.verdict.unjudged.find((u: { rule: string }) => u.rule === 'orphan-page-mapped').reason).toContain('within --clock-skew of one another');
  });

  it('leaves clocks that keep one time across CPUs alone', async () => {
    for (const clock of ['mono', 'global', 'counter']) {
      const out = JSON.parse((await runCli(['replay', withClock('orphan-page-mapped', clock), '--format', 'json'])).stdout);
      expect(out.verdict).toMatchObject({ certain: 1, uncertain: 0 });
    }
  });

  it("reads the clock a trace.dat records, which wins over meta.json's: a run with no findings is then not a pass", async () => {
    const dat = patchedDat([['local [global] counter', '[local] global counter']]);
    const out = JSON.parse((await runCli(['replay', dat, '--format', 'json'])).stdout);
    expect(out.trace.clock).toBe('local');
    expect(out.trace.clockFrom).toBe('recorded');
    // the two disagree: replay says which it read
    expect(out.warnings.join('\n')).toContain('the trace records the trace clock `local` (');
    expect(out.warnings.join('\n')).toContain("meta.json's buffer.clock names `global`: replay reads the trace's own");
    expect(out.findings).toHaveLength(0);
    expect(out.verdict.unjudged.map((u: { rule: string }) => u.rule)).toContain('mapped-page-removed');
    const text = await runCli(['replay', dat]);
    expect(text.exitCode).toBe(0);
    expect(text.stdout).toContain('no findings; not judged (see the warnings): mapped-page-removed');
  });

  it('refuses a skew that is not a whole number, with a hint (exit 2)', async () => {
    const r = await runCli(['replay', fx('orphan-page-mapped'), '--clock-skew', '20us']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('--clock-skew "20us" is not a whole number');
    expect(r.stderr).toContain('hint:');
  });
});

describe('kreplay replay: a trace that does not name its clock', () => {
  // tracefs's trace_clock and trace-cmd record default to `local`, perf record stamps with
  // perf_clock() = local_clock(): a trace with no clock record and no meta.json (tracefs text,
  // trace-cmd report, perf script) is read as on a per-CPU clock unless the user names it
  const bare = (fixture: string): string => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kreplay-unnamed-'));
    copyFileSync(path.join(repoRoot, 'fixtures/replay', fixture, 'trace.txt'), path.join(dir, 'trace.txt'));
    return path.join(dir, 'trace.txt');
  };
  const vm = ['--vmemmap-base', '0xffffea0000000000'];

  it('makes a finding across two CPUs uncertain and its rules not judged (it was certain)', async () => {
    const trace = bare('orphan-page-mapped');
    const r = await runCli(['replay', trace, ...vm, '--format', 'json']);
    expect(r.exitCode).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.trace).toMatchObject({ clockFrom: 'unknown' });
    expect(out.trace.clock).toBeUndefined();
    expect(out.verdict).toMatchObject({ certain: 0, uncertain: 1 });
    expect(out.findings[0].explanation).toContain("the trace does not name its trace clock; tracefs's, trace-cmd's and perf's default is per CPU");
    expect(out.verdict.unjudged.map((u: { rule: string }) => u.rule)).toEqual(
      expect.arrayContaining(['mapped-page-removed', 'orphan-page-mapped', 'stale-data']),
    );
    const text = await runCli(['replay', trace, ...vm, '--stats', '--no-timing']);
    expect(text.stdout).toContain('1 finding: 1 error, 0 warnings (1 uncertain)');
    expect(text.stdout).toContain('clock: not named by the trace (read as per CPU)');
    expect(text.stdout).toContain('pass --trace-clock NAME');
    const sarif = JSON.parse((await runCli(['replay', trace, ...vm, '--format', 'sarif'])).stdout);
    expect(sarif.runs[0].properties).toMatchObject({ clockFrom: 'unknown' });
  });

  it('--trace-clock mono: certain, as a capture that records mono; --clock-skew bounds the skew instead', async () => {
    const trace = bare('orphan-page-mapped');
    const mono = await runCli(['replay', trace, ...vm, '--trace-clock', 'mono', '--format', 'json']);
    expect(mono.exitCode).toBe(1);
    const out = JSON.parse(mono.stdout);
    expect(out.trace).toMatchObject({ clock: 'mono', clockFrom: 'flag' });
    expect(out.verdict).toMatchObject({ certain: 1, uncertain: 0 });
    expect(out.verdict.unjudged?.some((u: { reason: string }) => /clock/.test(u.reason))).toBeFalsy();
    const text = await runCli(['replay', trace, ...vm, '--trace-clock', 'mono', '--stats', '--no-timing']);
    expect(text.stdout).toContain('clock: mono (--trace-clock)');
    // 1 ms of skew: the truncate on CPU 1 may have run before or after the fault on CPU 0
    const wide = JSON.parse((await runCli(['replay', trace, ...vm, '--clock-skew', '1000000', '--format', 'json'])).stdout);
    expect(wide.verdict).toMatchObject({ certain: 0, tiedGroups: 1 });
    expect(wide.verdict.unjudged.find((u: { rule: string }) => u.rule === 'orphan-page-mapped').reason).toContain('within --clock-skew of one another');
  });

  it('refuses a clock name the kernel does not have, listing the names (exit 2)', async () => {
    const r = await runCli(['replay', fx('orphan-page-mapped'), '--trace-clock', 'monotonic']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('--trace-clock "monotonic" is not a trace clock the kernel has');
    expect(r.stderr).toContain('local, global, counter, uptime, perf, mono, mono_raw, boot, tai, x86-tsc');
  });

  it("refuses a --trace-clock that contradicts meta.json's or the trace.dat's own (exit 2)", async () => {
    const m = await runCli(['replay', fx('orphan-page-mapped'), '--trace-clock', 'local']);
    expect(m.exitCode).toBe(2);
    expect(m.stderr).toContain("--trace-clock local contradicts the trace clock `mono` meta.json's buffer.clock names");
    expect((await runCli(['replay', fx('orphan-page-mapped'), '--trace-clock', 'mono'])).exitCode).toBe(1);
    const dir = mkdtempSync(path.join(tmpdir(), 'kreplay-dat-'));
    copyFileSync(path.join(repoRoot, 'fixtures/dat/qemu-6.1/trace.dat'), path.join(dir, 'trace.dat'));
    const d = await runCli(['replay', path.join(dir, 'trace.dat'), '--trace-clock', 'local']);
    expect(d.exitCode).toBe(2);
    expect(d.stderr).toContain('--trace-clock local contradicts the trace clock `global` the trace records');
  });
});
