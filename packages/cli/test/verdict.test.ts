/**
 * A verdict CI can trust (issue 12), end to end: a trace that saw nothing is never a pass
 * (exit 2, `inconclusive`, whatever --fail-on says), for replay and for diff; a folder with
 * a stale top-level trace beside run-N/ folders is refused; the count of unusable events is
 * in every format; cited lines are quoted as the trace printed them.
 */
import { describe, expect, it } from '@jest/globals';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoRoot, runCli } from './run-cli.js';

const fx = (name: string, file = 'trace.txt') => path.join(repoRoot, 'fixtures/replay', name, file);
const tmp = () => mkdtempSync(path.join(tmpdir(), 'kreplay-verdict-'));
const HEADER = '# tracer: nop\n#\n# entries-in-buffer/entries-written: 0/0   #P:2\n#\n';

/** A run folder: the given trace text and a valid meta.json (a 6.1 capture's). */
function runDir(text: string): string {
  const dir = tmp();
  writeFileSync(path.join(dir, 'trace.txt'), text);
  copyFileSync(fx('orphan-page-mapped', 'meta.json'), path.join(dir, 'meta.json'));
  return dir;
}

describe('a trace that saw nothing never passes', () => {
  it('replay of a header-only trace with a valid meta.json: inconclusive, exit 2 even under --fail-on never', async () => {
    const dir = runDir(HEADER);
    const r = await runCli(['replay', path.join(dir, 'trace.txt'), '--fail-on', 'never']);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toContain('INCONCLUSIVE: the trace holds no events');
    expect(r.stdout).not.toContain('no findings');
    const j = await runCli(['replay', path.join(dir, 'trace.txt'), '--json', '--no-timing']);
    expect(j.exitCode).toBe(2);
    expect(JSON.parse(j.stdout).verdict).toMatchObject({ status: 'inconclusive', certain: 0, uncertain: 0 });
  });

  it('replay of events that lift to no page-cache operation, and of README.md: exit 2, never "no findings"', async () => {
    const sched = runDir(
      `${HEADER}          <idle>-0     [000] d..2.   100.000001: sched_switch: prev_comm=swapper/0 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=a next_pid=5 next_prio=120\n`,
    );
    const r = await runCli(['replay', path.join(sched, 'trace.txt')]);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toMatch(/INCONCLUSIVE: none of its 1 event is one the linux-6\.1 adapter knows as a page-cache operation/);
    const readme = await runCli(['replay', 'README.md']);
    expect(readme.exitCode).toBe(2);
    expect(readme.stdout + readme.stderr).not.toContain('no findings');
  });

  it('diff with a header-only side, or a non-trace file as a side: exit 2, "inconclusive" or an input error, never "no regression"', async () => {
    const empty = runDir(HEADER);
    const d = await runCli(['diff', fx('orphan-page-mapped'), empty]);
    expect(d.exitCode).toBe(2);
    expect(d.stdout).toContain('INCONCLUSIVE');
    expect(d.stdout).toContain('the patched side has no run to compare');
    expect(d.stdout).not.toMatch(/no regression/i);
    const passwd = path.join(tmp(), 'passwd');
    writeFileSync(passwd, 'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n');
    const p = await runCli(['diff', fx('orphan-page-mapped'), passwd]);
    expect(p.exitCode).toBe(2);
    expect(p.stderr).toMatch(/passwd:1: not a trace/);
  });

  it('diff of a side whose every run failed its workload: inconclusive, exit 2', async () => {
    const side = tmp();
    for (const r of ['run-1', 'run-2']) {
      mkdirSync(path.join(side, r));
      copyFileSync(fx('clean-odirect'), path.join(side, r, 'trace.txt'));
      const meta = JSON.parse(readFileSync(fx('clean-odirect', 'meta.json'), 'utf8'));
      writeFileSync(path.join(side, r, 'meta.json'), JSON.stringify({ ...meta, workload: { name: 'odirect-race', exitCode: 1 } }));
    }
    const r = await runCli(['diff', fx('clean-odirect'), side]);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toContain('its workload exited with code 1');
  });

  it('a folder with a top-level trace and run-N/ folders is refused, exit 2', async () => {
    const side = runDir(readFileSync(fx('clean-odirect'), 'utf8'));
    mkdirSync(path.join(side, 'run-1'));
    copyFileSync(fx('orphan-page-mapped'), path.join(side, 'run-1', 'trace.txt'));
    const r = await runCli(['diff', fx('clean-odirect'), side]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('holds a trace and runs below it');
  });
});

describe('what the verdict rests on', () => {
  it('cited trace lines are quoted as the trace printed them (ino=42 stays ino=42, timestamps kept)', async () => {
    const file = fx('orphan-page-mapped');
    const lines = readFileSync(file, 'utf8').split('\n');
    const r = await runCli(['replay', file]);
    const cited = [...r.stdout.matchAll(/trace\.txt:(\d+) {2}(.*)$/gm)];
    expect(cited.length).toBeGreaterThan(2);
    for (const [, n, text] of cited) expect(text).toBe(lines[Number(n) - 1]!.trim());
    expect(r.stdout).toMatch(/100\.000120: p_truncate_pagecache_0: .* ino=42 dev=8388624/);
  });
});

describe('a perf script trace is not complete unless the user says so', () => {
  it('no finding in a perf script trace is not a clean run, and KTAP does not pass it; --perf-lost-events-shown makes it one', async () => {
    // the page added and mapped, nothing wrong: perf script would not show events perf lost without --show-lost-events
    const text = [
      '          reader    10 [000]     1.000001: filemap:mm_filemap_add_to_page_cache: dev 254:0 ino 2a pfn=0x10 ofs=0 order=0',
      '          reader    10 [000]     1.000002: filemap:mm_filemap_delete_from_page_cache: dev 254:0 ino 2a pfn=0x10 ofs=0 order=0',
    ].join('\n');
    const dir = runDir(`${text}\n`);
    const trace = path.join(dir, 'trace.txt');
    const unsure = await runCli(['replay', trace]);
    expect(unsure.exitCode).toBe(0);
    expect(unsure.stdout).toMatch(/1 gap .*not a clean run/);
    expect(unsure.stdout).toMatch(/pass --perf-lost-events-shown/);
    expect((await runCli(['replay', trace, '--format', 'ktap'])).stdout).toMatch(/^ {4}ok \d+ trace-inconsistent # SKIP done: .*1 gap/m);
    const shown = await runCli(['replay', trace, '--perf-lost-events-shown']);
    expect(shown.exitCode).toBe(0);
    expect(shown.stdout).toMatch(/0 gaps — no findings;/);
    expect((await runCli(['replay', trace, '--format', 'ktap', '--perf-lost-events-shown'])).stdout).toMatch(/^ {4}ok \d+ trace-inconsistent$/m);
  }, 60_000);
});
