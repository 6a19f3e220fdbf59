import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadCiConfig } from '../src/ci-config.js';
import { runCi, type CaptureSide } from '../src/ci.js';
import { mergeCi } from '../src/ci-merge.js';
import { InputError, KernelFailure, parseShard } from '@kreplay/core';

const root = new URL('../../../', import.meta.url).pathname;

describe('the ci pipeline (library)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'kreplay-ci-lib-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const configFile = (name: string, body: unknown) => {
    const file = path.join(dir, name);
    writeFileSync(file, JSON.stringify({ schema: 'kreplay-ci/1', ...(body as object) }));
    return file;
  };

  it('captures each configured workload on a kernel side, and --shard picks every n-th workload', async () => {
    const file = configFile('capture.json', {
      base: { kernel: 'debian' },
      patched: { kernel: 'build/patched' },
      capture: { workloads: ['odirect-race', 'truncate-racer', 'read-invalidate'], duration: '1s' },
      runs: 2,
      output: 'out-capture',
      formats: ['json'],
    });
    const asked: Array<{ side: string; kernel: string; workload: string; runs: number; outDir: string }> = [];
    // Stands in for QEMU: "captures" by pointing at a fixture run (clean for base, racy for patched).
    const capture: CaptureSide = async (req) => {
      asked.push({ side: req.side, kernel: req.kernel, workload: req.workload, runs: req.runs, outDir: req.outDir });
      return [path.join(root, `fixtures/diff/${req.side === 'base' ? 'clean-1' : 'race'}/trace.txt`)];
    };
    const r = await runCi(await loadCiConfig(file), { capture, shard: parseShard('1/2') });
    // Shard 1 of 2: workloads 1 and 3 of 3, each captured on both kernels.
    expect(asked.map((a) => `${a.side} ${a.workload}`)).toEqual([
      'base odirect-race',
      'patched odirect-race',
      'base read-invalidate',
      'patched read-invalidate',
    ]);
    expect(asked[1]).toMatchObject({ kernel: path.join(dir, 'build/patched'), runs: 2, outDir: path.join(dir, 'out-capture/captures/patched/odirect-race') });
    expect(r.groups.map((g) => [g.name, g.regression])).toEqual([
      ['odirect-race', true],
      ['read-invalidate', true],
    ]);
    expect(readdirSync(path.join(dir, 'out-capture')).sort()).toEqual(['odirect-race', 'read-invalidate', 'summary.json', 'summary.txt']);
  }, 60_000);

  it('a workload whose patched capture traced nothing is inconclusive, never ok: in the result and the summary', async () => {
    const empty = path.join(dir, 'empty');
    mkdirSync(empty, { recursive: true });
    writeFileSync(path.join(empty, 'trace.txt'), '# tracer: nop\n#\n');
    writeFileSync(path.join(empty, 'meta.json'), readFileSync(path.join(root, 'fixtures/diff/race/meta.json')));
    const file = configFile('blind.json', {
      base: { kernel: 'debian' },
      patched: { kernel: 'build/patched' },
      capture: { workloads: ['odirect-race'] },
      output: 'out-blind',
      formats: ['json'],
    });
    const capture: CaptureSide = async (req) => [req.side === 'base' ? path.join(root, 'fixtures/diff/clean-1/trace.txt') : path.join(empty, 'trace.txt')];
    const r = await runCi(await loadCiConfig(file), { capture });
    expect(r.verdict).toBe('inconclusive');
    expect(r.regression).toBe(false);
    expect(r.groups[0]).toMatchObject({ verdict: 'inconclusive', inconclusive: [expect.stringContaining('the patched side has no run to compare')] });
    expect(readFileSync(path.join(dir, 'out-blind/summary.txt'), 'utf8')).toMatch(/^kreplay ci: INCONCLUSIVE[\s\S]*INCONCLUSIVE +odirect-race/);
  }, 60_000);

  // A kernel that fails a workload's capture (the capture's KernelFailure) is a result of the run,
  // not its end (session 42: the first one stopped ci with no summary, no other workload, no
  // other side): the patched kernel alone is that workload's regression (exit 1), the base
  // kernel's leaves no verdict on the patch (inconclusive, exit 2); every format names the side.
  it.each([
    ['patched', 'regression', 'FAIL', 'not ok 1 odirect-race'],
    ['base', 'inconclusive', 'ERROR', 'not ok 1 odirect-race'],
  ] as const)(
    "the %s kernel failing a workload's capture: the other workload and side still run, and every summary names it",
    async (side, verdict, kcidbStatus, ktapLine) => {
      const out = `out-killed-${side}`;
      const file = configFile(`killed-${side}.json`, {
        base: { kernel: 'debian' },
        patched: { kernel: 'build/patched' },
        capture: { workloads: ['odirect-race', 'truncate-racer'] },
        output: out,
        formats: ['text', 'json', 'ktap', 'kcidb'],
      });
      // an earlier run's report in the folder would read as this run's
      mkdirSync(path.join(dir, out, 'odirect-race'), { recursive: true });
      writeFileSync(path.join(dir, out, 'odirect-race/diff.txt'), 'kreplay diff: no regression\n');
      const consoleLog = path.join(dir, `console-${side}.log`);
      writeFileSync(consoleLog, '[   12.3] BUG: kernel NULL pointer dereference, address: 0000000000000008\n');
      const asked: string[] = [];
      const capture: CaptureSide = async (req) => {
        asked.push(`${req.side} ${req.workload}`);
        if (req.side === side && req.workload === 'odirect-race') {
          const e = new KernelFailure(
            'the kernel under test panicked while the workload ran: BUG: kernel NULL pointer dereference, address: 0000000000000008\nlast console lines:\n    [   12.3] RIP: 0010:filemap_get_pages+0x1b/0x640',
            'read console.log (kreplay triage reads it)',
          );
          e.consoleLog = consoleLog;
          throw e;
        }
        return [path.join(root, `fixtures/diff/${req.side === 'base' ? 'clean-1' : 'clean-2'}/trace.txt`)];
      };
      const loaded = await loadCiConfig(file);
      const r = await runCi(loaded, { capture });
      expect(asked).toEqual(['base odirect-race', 'patched odirect-race', 'base truncate-racer', 'patched truncate-racer']);
      expect(r.verdict).toBe(verdict);
      const said = `the ${side} kernel (${side === 'base' ? 'debian' : path.join(dir, 'build/patched')}) failed workload odirect-race: the kernel under test panicked while the workload ran: BUG: kernel NULL pointer dereference`;
      expect(r.groups[0]).toMatchObject({
        name: 'odirect-race',
        verdict,
        regression: side === 'patched',
        kernelFailed: { [side]: { message: expect.stringContaining('RIP: 0010:filemap_get_pages') } },
        files: ['odirect-race/console-' + side + '.log', 'odirect-race/kernel-failure.txt'],
      });
      expect([...r.groups[0]!.reasons, ...r.groups[0]!.inconclusive][0]).toContain(said);
      if (side === 'base') expect(r.groups[0]!.inconclusive[1]).toBe('the patched kernel ran it to the end (1 run, not compared)');
      expect(r.groups[1]).toMatchObject({ name: 'truncate-racer', verdict: 'no-regression' });
      const read = (f: string) => readFileSync(path.join(dir, out, f), 'utf8');
      expect(readdirSync(path.join(dir, out, 'odirect-race')).sort()).toEqual([`console-${side}.log`, 'kernel-failure.txt']);
      expect(read(`odirect-race/console-${side}.log`)).toContain('BUG: kernel NULL pointer dereference');
      expect(read('odirect-race/kernel-failure.txt')).toContain(said);
      const text = read('summary.txt');
      expect(text).toContain(`${verdict.toUpperCase().padEnd(10)} odirect-race: not compared: the ${side} kernel failed the workload`);
      expect(text).toContain(`the ${side} kernel's words:\n        last console lines:\n        [   12.3] RIP: 0010:filemap_get_pages+0x1b/0x640`);
      expect(text).toMatch(/ok {9}truncate-racer: 0 new, 0 fixed, 0 unchanged/);
      expect(read('summary.ktap')).toMatch(new RegExp(`\\n# {3}\\[ {3}12\\.3\\] RIP: 0010:filemap_get_pages\\+0x1b/0x640\\n(?:#[^\\n]*\\n)*${ktapLine}\\n`));
      const kcidb = JSON.parse(read('summary.kcidb.json')) as { tests: Array<{ path: string; status: string; log_url?: string; log_excerpt?: string }> };
      expect(kcidb.tests.map((t) => [t.path, t.status])).toEqual([
        ['kreplay.odirect-race', kcidbStatus],
        ['kreplay.truncate-racer', 'PASS'],
      ]);
      expect(kcidb.tests[0]!.log_url).toMatch(/odirect-race\/kernel-failure\.txt$/);
      expect(kcidb.tests[0]!.log_excerpt).toContain('RIP: 0010:filemap_get_pages');
      expect(JSON.parse(read('summary.json'))).toMatchObject({ verdict, groups: [{ kernelFailed: { [side]: {} } }, {}] });
      // ci merge reads the summary back: the failed workload and its files are copied as they are
      loaded.config.output = path.join(dir, `${out}-merged`);
      const merged = await mergeCi([path.join(dir, out)], loaded);
      expect(merged.verdict).toBe(verdict);
      expect(readFileSync(path.join(dir, `${out}-merged/odirect-race/kernel-failure.txt`), 'utf8')).toContain(said);
    },
    60_000,
  );

  it('runs whose meta.json names no workload stand for no named workload: they "fixed" the findings of every one', async () => {
    // A copy of a fixture run with its meta.json's workload renamed, or its name removed.
    const run = (name: string, from: string, workload: string | undefined) => {
      const d = path.join(dir, 'unnamed', name);
      mkdirSync(d, { recursive: true });
      writeFileSync(path.join(d, 'trace.txt'), readFileSync(path.join(root, `fixtures/diff/${from}/trace.txt`)));
      const meta = JSON.parse(readFileSync(path.join(root, `fixtures/diff/${from}/meta.json`), 'utf8')) as { workload: { name?: string } };
      if (workload === undefined) delete meta.workload.name;
      else meta.workload.name = workload;
      writeFileSync(path.join(d, 'meta.json'), JSON.stringify(meta));
      return d;
    };
    const raceA = run('race-a', 'race', 'odirect-race');
    const raceB = run('race-b', 'race-2', 'truncate-racer');
    const cleanBase = run('clean-base', 'clean-1', undefined);
    const cleanPatched = run('clean-patched', 'clean-2', undefined);
    // Traces on both sides: the unnamed patched run is the group `traces`; it was also the
    // patched side of odirect-race and truncate-racer, whose 2 + 2 race findings read fixed (exit 0).
    const both = await loadCiConfig(
      configFile('unnamed.json', {
        base: { traces: [raceA, raceB, cleanBase] },
        patched: { traces: [cleanPatched] },
        output: 'out-unnamed',
        formats: ['json'],
      }),
    );
    await expect(runCi(both)).rejects.toMatchObject({
      name: 'InputError',
      message: 'patched.traces has no run of workload odirect-race',
      hint: expect.stringContaining('runs whose meta.json names no workload, which stand for no named one'),
    });
    expect(existsSync(path.join(dir, 'out-unnamed'))).toBe(false);
    // One side captures two workloads: the same unnamed run stood for both.
    const capture: CaptureSide = async (req) => [path.join(req.workload === 'odirect-race' ? raceA : raceB, 'trace.txt')];
    const two = await loadCiConfig(
      configFile('unnamed-two.json', {
        base: { kernel: 'debian' },
        patched: { traces: [cleanPatched] },
        capture: { workloads: ['odirect-race', 'truncate-racer'] },
        output: 'out-unnamed-two',
        formats: ['json'],
      }),
    );
    await expect(runCi(two, { capture })).rejects.toThrow('patched.traces has no run of workload odirect-race');
    // One captured workload: the unnamed runs can be of no other, and stand for it.
    const one = await loadCiConfig(
      configFile('unnamed-one.json', {
        base: { kernel: 'debian' },
        patched: { traces: [cleanPatched] },
        capture: { workloads: ['odirect-race'] },
        output: 'out-unnamed-one',
        formats: ['json'],
      }),
    );
    const r = await runCi(one, { capture });
    expect(r.groups.map((g) => [g.name, g.findings.fixed])).toEqual([['odirect-race', 2]]);
  }, 60_000);

  it('writes nothing for a config whose traces are missing: found when it is loaded, at file:line', async () => {
    const file = configFile('missing.json', { base: { traces: ['nope'] }, patched: { traces: ['nope-either'] }, output: 'out-missing' });
    await expect(loadCiConfig(file)).rejects.toMatchObject({
      message: expect.stringMatching(/base\.traces\.0: .*nope: no such file or folder/),
      file,
      line: 1,
    });
    expect(existsSync(path.join(dir, 'out-missing'))).toBe(false);
  });

  it('counts base findings the patched side could not judge, in summary.json and summary.txt — neither fixed nor dropped', async () => {
    // the patched traces without their PTE events: nothing in them could show the base's race
    const blind = path.join(dir, 'race-nopte');
    mkdirSync(blind, { recursive: true });
    const text = readFileSync(path.join(root, 'fixtures/diff/race/trace.txt'), 'utf8');
    writeFileSync(
      path.join(blind, 'trace.txt'),
      text
        .split('\n')
        .filter((l) => !/p_do_set_pte|rmap|entries-in-buffer/.test(l)) // the header would count the removed lines as lost
        .join('\n'),
    );
    writeFileSync(path.join(blind, 'meta.json'), readFileSync(path.join(root, 'fixtures/diff/race/meta.json')));
    const out = path.join(dir, 'out-unjudged');
    const cfg = await loadCiConfig(
      configFile('unjudged.json', {
        base: { traces: [path.join(root, 'fixtures/diff/race')] },
        patched: { traces: [blind] },
        output: out,
        formats: ['text', 'json'],
      }),
    );
    const r = await runCi(cfg);
    const g = r.groups[0]!;
    expect(g.findings.fixed).toBe(0);
    // before: { new: 0, fixed: 0, unchanged: 0 }, the base's race gone from every count
    expect(g.findings.unjudged).toBeGreaterThan(0);
    const summary = JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8')) as { groups: { findings: { unjudged?: number } }[] };
    expect(summary.groups[0]!.findings.unjudged).toBe(g.findings.unjudged);
    expect(readFileSync(path.join(out, 'summary.txt'), 'utf8')).toMatch(
      new RegExp(`NOT A PASS .*: 0 new, 0 fixed, 0 unchanged, ${g.findings.unjudged} not judged on the patched side`),
    );
  });

  it('counts apart, in summary.json and summary.txt, fixed findings whose absence could be chance (one run a side)', async () => {
    const out = path.join(dir, 'out-chance');
    const cfg = await loadCiConfig(
      configFile('chance.json', {
        base: { traces: [path.join(root, 'fixtures/diff/race')] },
        patched: { traces: [path.join(root, 'fixtures/diff/clean-1')] },
        output: out,
        formats: ['text', 'json'],
      }),
    );
    const g = (await runCi(cfg)).groups[0]!;
    // before: { fixed: 2 } and "2 fixed" with nothing to say one patched run cannot show a fix
    expect(g.findings).toMatchObject({ fixed: 2, fixedByChance: 2 });
    const summary = JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8')) as { groups: { findings: { fixedByChance?: number } }[] };
    expect(summary.groups[0]!.findings.fixedByChance).toBe(2);
    expect(readFileSync(path.join(out, 'summary.txt'), 'utf8')).toContain('0 new, 2 fixed (2 of them on too few runs to tell from chance), 0 unchanged\n');
  });

  it('replay.clockSkew reaches replay: traces on a per-CPU clock are judged only with it', async () => {
    const local = path.join(dir, 'race-local');
    mkdirSync(local, { recursive: true });
    writeFileSync(path.join(local, 'trace.txt'), readFileSync(path.join(root, 'fixtures/diff/race/trace.txt')));
    const meta = JSON.parse(readFileSync(path.join(root, 'fixtures/diff/race/meta.json'), 'utf8')) as { buffer?: object };
    writeFileSync(path.join(local, 'meta.json'), JSON.stringify({ ...meta, buffer: { ...meta.buffer, clock: 'local' } }));
    const run = async (name: string, replay: object) =>
      (
        await runCi(
          await loadCiConfig(
            configFile(`${name}.json`, {
              base: { traces: [local] },
              patched: { traces: [local] },
              replay,
              output: path.join(dir, `out-${name}`),
              formats: ['json'],
            }),
          ),
        )
      ).groups[0]!;
    // the local clock orders no two CPUs: the patched side's cross-CPU rules are not judged
    expect((await run('clock-unbounded', {})).unjudged).toEqual(expect.arrayContaining(['orphan-page-mapped', 'mapped-page-removed']));
    // told the clocks agree, replay orders by the timestamps
    expect((await run('clock-skew-0', { clockSkew: 0 })).unjudged ?? []).not.toContain('orphan-page-mapped');
  });

  it('replay.traceClock reaches replay: traces that do not name their clock are read as per CPU without it', async () => {
    const bare = path.join(dir, 'race-unnamed');
    mkdirSync(bare, { recursive: true });
    writeFileSync(path.join(bare, 'trace.txt'), readFileSync(path.join(root, 'fixtures/diff/race/trace.txt')));
    const meta = JSON.parse(readFileSync(path.join(root, 'fixtures/diff/race/meta.json'), 'utf8')) as { buffer?: object };
    delete meta.buffer;
    writeFileSync(path.join(bare, 'meta.json'), JSON.stringify(meta));
    const config = (name: string, replay: object) =>
      configFile(`${name}.json`, { base: { traces: [bare] }, patched: { traces: [bare] }, replay, output: path.join(dir, `out-${name}`), formats: ['json'] });
    const run = async (name: string, replay: object) => (await runCi(await loadCiConfig(config(name, replay)))).groups[0]!;
    // no clock named: tracefs's, trace-cmd's and perf's default is per CPU (it was judged as ordered)
    expect((await run('clock-unnamed', {})).unjudged).toEqual(expect.arrayContaining(['orphan-page-mapped', 'mapped-page-removed']));
    expect((await run('clock-named', { traceClock: 'mono' })).unjudged ?? []).not.toContain('mapped-page-removed');
    const bad = config('clock-bad', { traceClock: 'monotonic' });
    await expect(loadCiConfig(bad)).rejects.toMatchObject({ name: 'InputError', message: expect.stringMatching(/replay\.traceClock/) });
  });

  it('a threshold the diff could not compare (a misspelt counter) keeps the group from a pass: its summary test is DONE, as its diff.ktap', async () => {
    const out = path.join(dir, 'out-threshold');
    const cfg = await loadCiConfig(
      configFile('threshold.json', {
        base: { traces: [path.join(root, 'fixtures/diff/clean-1')] },
        patched: { traces: [path.join(root, 'fixtures/diff/clean-2')] },
        thresholds: { maxRegression: { 'workload.mismatchs': 0 } },
        output: out,
        formats: ['text', 'json', 'ktap', 'kcidb'],
      }),
    );
    const r = await runCi(cfg);
    expect(r.verdict).toBe('no-regression');
    expect(r.groups[0]).toMatchObject({ thresholdsNotJudged: ['workload.mismatchs'] });
    const read = (f: string) => readFileSync(path.join(out, f), 'utf8');
    // before: `ok 1 <workload>` and KCIDB PASS, while the group's own diff.ktap skipped the threshold
    expect(read('summary.ktap')).toMatch(/^ok 1 \S+ # SKIP done: no regression, but threshold\(s\) not judged: workload\.mismatchs: not a pass$/m);
    expect(JSON.parse(read('summary.kcidb.json')).tests[0].status).toBe('DONE');
    expect(read('summary.txt')).toMatch(
      /^ {2}NOT A PASS \S+: .*\n {6}- no regression in what the traces show, but threshold\(s\) not judged: workload\.mismatchs\n/m,
    );
    expect(read(`${r.groups[0]!.name}/diff.ktap`)).toMatch(/^ok 1 \S+ # SKIP done: not a pass: threshold-workload_mismatchs: not judged/m);
  });

  it('refuses "capture" or "runs" beside traces on both sides: they would be ignored without a word', async () => {
    const traces = { base: { traces: [path.join(root, 'fixtures/diff/clean-1')] }, patched: { traces: [path.join(root, 'fixtures/diff/clean-2')] } };
    // a reader of this config believes it compares three runs of truncate-racer; it would compare the traces' one run of odirect-race
    for (const [key, extra] of [
      ['runs', { runs: 3 }],
      ['capture', { capture: { workloads: ['truncate-racer'] } }],
    ] as const) {
      const file = configFile(`ignored-${key}.json`, { ...traces, ...extra, output: 'out-ignored' });
      await expect(loadCiConfig(file)).rejects.toMatchObject({
        name: 'InputError',
        message: `invalid config: ${key}: has no effect: both sides give "traces", so nothing is captured (the workloads and runs are those of the traces)`,
        file,
      });
    }
    // with a kernel on a side they choose what is captured, as before
    await expect(loadCiConfig(configFile('runs-kernel.json', { base: { kernel: 'debian' }, patched: traces.patched, runs: 3 }))).resolves.toBeDefined();
  });

  it.each([
    // captured twice into one folder, two groups of one name in the summary
    [
      'workload',
      '"capture": { "workloads": [\n    "odirect-race",\n    "truncate-racer",\n    "odirect-race"\n  ] }',
      'capture.workloads.2: workload "odirect-race" is named twice',
    ],
    // the report written again and listed twice in summary.json and summary.txt
    ['format', '"formats": [\n    "text",\n    "json",\n    "text"\n  ]', 'formats.2: format "text" is named twice'],
  ])('a %s named twice is a config error at its line', async (what, key, message) => {
    const file = path.join(dir, `${what}-twice.json`);
    writeFileSync(file, `{\n  "schema": "kreplay-ci/1",\n  "base": { "kernel": "debian" },\n  "patched": { "kernel": "debian" },\n  ${key}\n}\n`);
    await expect(loadCiConfig(file)).rejects.toMatchObject({ name: 'InputError', message: `invalid config: ${message}`, file, line: 8 });
  });

  it('a misspelt replay.kernel is a config error at load, not after the captures', async () => {
    const file = configFile('replay-kernel.json', { base: { kernel: 'debian' }, patched: { kernel: 'debian' }, replay: { kernel: 'linux-6.l' } });
    await expect(loadCiConfig(file)).rejects.toMatchObject({ name: 'InputError', message: 'invalid config: replay.kernel: unknown kernel "linux-6.l"', file });
    for (const kernel of ['auto', 'explore', 'linux-6.1', 'linux-6.12'])
      await expect(
        loadCiConfig(configFile(`replay-${kernel}.json`, { base: { kernel: 'debian' }, patched: { kernel: 'debian' }, replay: { kernel } })),
      ).resolves.toBeDefined();
  });

  it('checks every capture before the first one starts', async () => {
    const file = configFile('check.json', {
      base: { kernel: 'debian' },
      patched: { kernel: 'build/missing' },
      capture: { workloads: ['odirect-race'] },
      output: 'out-check',
    });
    const asked: string[] = [];
    const capture: CaptureSide = async (req) => {
      asked.push(req.side);
      return [];
    };
    const checkCapture = async (req: { kernel: string }) => {
      if (req.kernel.endsWith('missing')) throw new InputError(`cannot read kernel ${req.kernel}`);
    };
    await expect(runCi(await loadCiConfig(file), { capture, checkCapture })).rejects.toThrow(/patched\.kernel: cannot read kernel/);
    expect(asked).toEqual([]);
    expect(existsSync(path.join(dir, 'out-check'))).toBe(false);
  });
});
