/**
 * `explore --shard i/n` + `kreplay merge`: every shard of the exhaustive search run in one
 * test, merged, is byte for byte the --json (--no-timing) of one unsharded run — on every
 * shipped scenario × flavor, in 2 or 3 shards, each reused step checked (`memoSteps: 'verify'`) —
 * and a merge of a wrong set of shards says what is wrong.
 */
import { describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringifyJson, type Machine } from '@kreplay/core';
import { createMachine, modelIdentity, parseScenario, resolveFlavor } from '@kreplay/mm-model';
import { explore, exploreJson, mergeShards } from '../src/index.js';
import { root, shippedCases, type ShippedCase } from './shipped.js';

const cases = await shippedCases();

const header = (c: ShippedCase) => ({ scenario: c.file, flavor: c.flavor });
const whole = async (c: ShippedCase): Promise<string> => stringifyJson(exploreJson(c.machine, await explore(c.machine), header(c), { noTiming: true }), 2);
async function shards(c: ShippedCase, n: number, timing = false, memoSteps?: 'verify'): Promise<unknown[]> {
  const out: unknown[] = [];
  for (let i = 1; i <= n; i++) {
    const r = await explore(c.machine, { shard: { index: i, count: n }, ...(memoSteps ? { memoSteps } : {}) });
    // a shard reuses steps (step-memo.ts) where the machine says what they read: every step goes through the memo
    if (memoSteps) expect(c.machine.stepMemo ? r.memo!.steps : r.memo).toBe(c.machine.stepMemo ? r.stats.states - 1 : undefined);
    // as a file: through JSON text
    out.push(JSON.parse(stringifyJson(exploreJson(c.machine, r, header(c), { noTiming: !timing }))));
  }
  return out;
}

/** Shard i/n of case c (under a state cap, if given) as its --json file reads. */
async function oneShard(c: ShippedCase, i: number, n: number, maxStates?: number) {
  const r = await explore(c.machine, { shard: { index: i, count: n }, ...(maxStates ? { maxStates } : {}) });
  return JSON.parse(stringifyJson(exploreJson(c.machine, r, header(c), { noTiming: true })));
}

describe('sharded exhaustive search, merged', () => {
  // Not the multipage scenario: each shard searches most of its 26 777 states again, which takes
  // minutes on a busy machine; test/golden/record.mjs and the CLI test of --workers cover it.
  // Each case in 2 or in 3 shards, in turn (each shard searches most of the graph again: both counts on
  // every case took this file 80 s of CI's time).
  const sharded = cases.filter((c) => !c.file.includes('multipage'));
  it.each(sharded.map((c, i) => [c.name, 2 + (i % 2), c] as const))(
    '%s: merge of %d shards = one run, byte for byte (every reused step checked)',
    async (_name, n, c) => {
      const parts = await shards(c, n, false, 'verify');
      expect(stringifyJson(await mergeShards(parts.reverse()), 2)).toBe(await whole(c));
    },
    120_000,
  );

  it('reuses steps in a shard, and writes the shard file it writes without reusing any', async () => {
    for (const name of ['odirect-vs-fault.yaml linux-6.1', 'odirect-vs-fault-multipage.yaml linux-2.6.15', 'truncate-vs-store.yaml linux-2.6.23']) {
      const c = cases.find((x) => x.name === name)!;
      for (const i of [1, 3]) {
        const reused = await explore(c.machine, { shard: { index: i, count: 3 }, memoSteps: true });
        const run = await explore(c.machine, { shard: { index: i, count: 3 }, memoSteps: false });
        expect(reused.part?.split).not.toBeNull();
        expect(reused.memo!.hits).toBeGreaterThan(0);
        const file = (r: typeof run) => stringifyJson(exploreJson(c.machine, r, header(c), { noTiming: true }), 2);
        expect(file(reused)).toBe(file(run));
      }
    }
  });

  it('splits a large graph, and a lone shard never calls it clean', async () => {
    const c = cases.find((x) => x.name === 'odirect-vs-fault.yaml linux-6.1')!;
    const r = await explore(c.machine, { shard: { index: 2, count: 2 } });
    expect(r.part?.split).not.toBeNull();
    expect(r).toMatchObject({ verdict: 'incomplete', exhaustive: false, incomplete: ['shard'] });
  });

  it('keeps timing when every shard has it (the sum of their times)', async () => {
    const c = cases.find((x) => x.name === 'odirect-vs-fault.yaml linux-2.6.15')!;
    const parts = await shards(c, 2, true);
    const m = await mergeShards(parts);
    const times = parts.map((p) => (p as { stats: { timeMs: number } }).stats.timeMs);
    expect((m['stats'] as { timeMs: number }).timeMs).toBeCloseTo(times[0]! + times[1]!, 0);
  });

  it('refuses an incomplete, repeated or mixed set of shards', async () => {
    const a = cases.find((x) => x.name === 'odirect-vs-fault.yaml linux-2.6.15')!;
    const b = cases.find((x) => x.name === 'odirect-vs-fault.yaml linux-6.1')!;
    const pa = await shards(a, 3);
    const pb = await shards(b, 3);
    await expect(mergeShards(pa.slice(0, 2))).rejects.toThrow('shard 3/3 missing');
    await expect(mergeShards([pa[0], pa[0], pa[1], pa[2]])).rejects.toThrow('shard 1/3 given twice');
    await expect(mergeShards([pa[0], pb[1], pa[2]], ['a.json', 'b.json', 'c.json'])).rejects.toThrow(/different runs: flavor/);
    await expect(mergeShards([{ verdict: 'clean' }], ['x.json'])).rejects.toThrow('not the --json output of kreplay explore');
    await expect(mergeShards([])).rejects.toThrow('nothing to merge');
    const unsharded = JSON.parse(await whole(a));
    await expect(mergeShards([unsharded])).rejects.toThrow('not a shard of an exhaustive search');
  });

  it('refuses a shard i/n that is not one, and damaged graph records, as input (not a crash, not a loop, not a table n long)', async () => {
    const a = cases.find((x) => x.name === 'odirect-vs-fault.yaml linux-2.6.15')!;
    const pa = await shards(a, 2);
    const withShard = (shard: unknown) => pa.map((p) => ({ ...(p as object), shard }));
    // a count of -1 or 1.5 threw a RangeError (exit 70); 1e9 allocated a table that long; null or "2" merged
    for (const shard of [
      { index: 1, count: -1 },
      { index: 1, count: 1.5 },
      { index: 1, count: null },
      { index: 1, count: '2' },
      { index: 0, count: 2 },
    ])
      await expect(mergeShards(withShard(shard), ['1.json', '2.json'])).rejects.toThrow(/is not a shard i\/n/);
    const huge = pa.map((p, i) => ({ ...(p as object), shard: { index: i + 1, count: 1e9 } }));
    await expect(mergeShards(huge)).rejects.toThrow(/shards 3\/1000000000, .*, … \(999999998 in all\) missing/);
    // an edge count of -2 stepped back over the records and then sized a typed array with it
    const records = (p: unknown, word: number, value: number) => {
      const part = (p as { part: { records: string } }).part;
      const b = Buffer.from(part.records, 'base64');
      b.writeInt32LE(value, word * 4);
      return { ...(p as object), part: { ...part, records: b.toString('base64') } };
    };
    await expect(mergeShards([records(pa[0], 4, -2), pa[1]], ['1.json', '2.json'])).rejects.toThrow(/shard records are damaged at byte 0: edge count -2/);
    await expect(mergeShards([records(pa[0], 5, 7), pa[1]])).rejects.toThrow(/an edge by thread 7 of 2/);
    await expect(mergeShards([records(pa[0], 3, 5), pa[1]])).rejects.toThrow(/end flag 5/);
    // a violation's schedule with a thread the run has not (or not a number) was merged and printed as the run's
    const withSchedule = (schedule: unknown) => ({ ...(pa[0] as object), violations: [{ ...(pa[0] as { violations: object[] }).violations[0], schedule }] });
    for (const schedule of [[0, 'x'], [0, 5], 'x'])
      await expect(mergeShards([withSchedule(schedule), pa[1]])).rejects.toThrow(/violation 1 has no rule or a schedule that is not thread ids 0\.\.1/);
  });

  it("refuses a shard whose verdict does not match what it holds: taking a shard's violations out never merges into clean", async () => {
    const c = cases.find((x) => x.name === 'odirect-vs-fault.yaml linux-2.6.15')!;
    const parts = (await shards(c, 2)) as Array<{ verdict: string; violations: unknown[]; exhaustive: boolean; incomplete: string[] }>;
    expect(parts.map((p) => p.verdict)).toEqual(['violation', 'violation']);
    const emptied = parts.map((p) => ({ ...p, violations: [] }));
    await expect(mergeShards(emptied, ['1.json', '2.json'])).rejects.toThrow(/verdict "violation" does not match what it holds: 0 violation/);
    // a shard never says clean, nor exhaustive
    const quiet = (await shards(
      cases.find((x) => x.name === 'odirect-vs-fault.yaml linux-6.1')!,
      2,
    )) as typeof parts;
    expect((await mergeShards(quiet))['verdict']).toBe('clean');
    await expect(mergeShards([{ ...quiet[0]!, verdict: 'clean' }, quiet[1]])).rejects.toThrow(/verdict "clean" does not match/);
    await expect(mergeShards([quiet[0], { ...quiet[1]!, exhaustive: true }])).rejects.toThrow(/\(exhaustive\) does not match/);
    await expect(mergeShards([quiet[0], { ...quiet[1]!, incomplete: [] }])).rejects.toThrow(/does not match what it holds/);
  });

  it("refuses a shard whose violation's schedule its records do not hold: an edited counterexample is never printed as the run's", async () => {
    const c = cases.find((x) => x.name === 'odirect-vs-fault.yaml linux-2.6.15')!;
    type Part = { violations: Array<{ rule: string; schedule: number[] }> };
    const parts = (await shards(c, 2)) as Part[];
    const merged = (await mergeShards(parts)) as unknown as Part;
    const v = parts[0]!.violations[0]!;
    expect(v.schedule.length).toBeGreaterThan(3);
    const edit = (schedule: number[]): Part => ({ ...parts[0]!, violations: [{ ...v, schedule }, ...parts[0]!.violations.slice(1)] });
    // thread 0 alone, past the end of its program: a path no state of the graph has
    const alone = new Array<number>(60).fill(0);
    await expect(mergeShards([edit(alone), parts[1]], ['1.json', '2.json'])).rejects.toThrow(
      new RegExp(`the shard's ${v.rule} violation has a schedule its records do not hold: step \\d+ of its schedule \\(thread 0\\) is not a step`),
    );
    await expect(mergeShards([edit([]), parts[1]])).rejects.toThrow(/schedule its records do not hold: it is empty/);
    // its steps (the counterexample table the merged result carries) were passed through unread: a
    // step taken out, a thread changed or a step's number changed merged without a word (exit 1)
    type Step = { n: number; thread: number; label: string; effect: string };
    const steps = (v as unknown as { steps: Step[] }).steps;
    const withSteps = (edited: unknown): Part => ({ ...parts[0]!, violations: [{ ...v, steps: edited }, ...parts[0]!.violations.slice(1)] }) as Part;
    for (const [edited, why] of [
      [steps.slice(0, -1), `it has ${steps.length - 1} steps for a schedule of ${steps.length}`],
      [steps.map((st, i) => (i === 2 ? { ...st, thread: 1 - st.thread } : st)), 'step 3 is not step 3 of its schedule'],
      [steps.map((st, i) => (i === 0 ? { ...st, n: 2 } : st)), 'step 1 is not step 1 of its schedule'],
      [steps.map((st, i) => (i === 4 ? { ...st, label: 7 } : st)), 'step 5 is not step 5'],
      [steps.map((st, i) => (i === 4 ? { ...st, cycle: true } : st)), 'step 5 is not step 5'],
      ['x', 'its "steps" are not a list'],
    ] as const)
      await expect(mergeShards([withSteps(edited), parts[1]], ['1.json', '2.json'])).rejects.toThrow(`violation has steps that are not its schedule: ${why}`);
    // the shards as explore wrote them merge as before
    expect(merged.violations.map((x) => x.schedule)).toEqual(JSON.parse(await whole(c)).violations.map((x: { schedule: number[] }) => x.schedule));
  });

  it('refuses shards whose records leave states of the union unexpanded (a shard file cut short): never a clean merge of part of the search', async () => {
    const c = cases.find((x) => x.name === 'odirect-vs-fault.yaml linux-6.1')!;
    const parts = (await shards(c, 3)) as Array<{ part: { records: string } }>;
    expect((await mergeShards(parts))['verdict']).toBe('clean');
    // shard 2 cut after its first 150 states, at a record boundary
    const words = new Int32Array(Buffer.from(parts[1]!.part.records, 'base64').buffer.slice(0));
    let at = 0;
    for (let k = 0; k < 150; k++) at += 5 + 3 * words[at + 4]!;
    const cut = { ...parts[1]!, part: { ...parts[1]!.part, records: Buffer.from(words.buffer, 0, at * 4).toString('base64') } };
    await expect(mergeShards([parts[0], cut, parts[2]])).rejects.toThrow(/the shards do not cover the search: \d+ state\(s\) they reach were expanded by none/);
  });

  it("keeps a shard's livelock when another shard stopped early: the merge is never cleaner than its worst shard", async () => {
    // small enough that no level is 16 wide: neither shard splits, and each judges livelock on the whole graph
    const c = cases.find((x) => x.name === 'invalidate-mapping-pages-mapped-then-fault.yaml linux-2.6.15-seqschedlock')!;
    const shard = (i: number, maxStates?: number) => oneShard(c, i, 2, maxStates);
    const one = await shard(1);
    expect(one).toMatchObject({ verdict: 'violation', part: { split: null } });
    expect(one.violations.map((v: { rule: string }) => v.rule)).toEqual(['livelock']);
    const capped = await shard(2, 50);
    expect(capped).toMatchObject({ verdict: 'incomplete', incomplete: ['max-states', 'shard'], part: { split: null } });
    const merged = await mergeShards([one, capped]);
    expect(merged).toMatchObject({ verdict: 'violation', incomplete: ['max-states'] });
    expect(merged['violations']).toEqual(one.violations);
  });

  it('a reason this kreplay does not know keeps the merge incomplete: only a known whole search is clean', async () => {
    const c = cases.find((x) => x.name === 'odirect-vs-fault.yaml linux-6.1')!;
    const parts = (await shards(c, 2)) as Array<{ incomplete: string[] }>;
    expect((await mergeShards(parts))['verdict']).toBe('clean');
    parts[1]!.incomplete = ['budget', 'shard'];
    expect(await mergeShards(parts)).toMatchObject({ verdict: 'incomplete', exhaustive: false, incomplete: ['budget'] });
  });

  it('says which shard stopped early when a cap kept it from the split level', async () => {
    const c = cases.find((x) => x.name === 'truncate-vs-store.yaml linux-6.1')!;
    const shard = (i: number, maxStates?: number) => oneShard(c, i, 3, maxStates);
    const capped = await shard(1, 300);
    expect(capped.incomplete).toEqual(['max-states', 'shard']);
    await expect(mergeShards([capped, await shard(2), await shard(3)], ['1.json', '2.json', '3.json'])).rejects.toThrow(/one stopped early \(max-states\)/);
  });

  it('refuses shards of two models under one scenario and flavor name: another digest, or another initial state', async () => {
    const text = readFileSync(path.join(root, 'fixtures/scenarios/odirect-vs-fault.yaml'), 'utf8');
    const flavor = await resolveFlavor('linux-6.1');
    const scenario = parseScenario(text, '/one/checkout/odirect-vs-fault.yaml');
    const machine = createMachine(scenario, flavor) as Machine<unknown>;
    // the digest sees what is searched, not where the file was read from
    expect(modelIdentity(parseScenario(text, '/another/checkout/odirect-vs-fault.yaml'), flavor)).toBe(modelIdentity(scenario, flavor));
    const edited = parseScenario(text.replace('size: 4096', 'size: 8192'), 'odirect-vs-fault.yaml');
    expect(modelIdentity(edited, flavor)).not.toBe(modelIdentity(scenario, flavor));
    const shard = async (m: Machine<unknown>, i: number, model?: string) =>
      JSON.parse(
        stringifyJson(
          exploreJson(
            m,
            await explore(m, { shard: { index: i, count: 2 }, ...(model ? { model } : {}) }),
            { scenario: 'odirect-vs-fault', flavor: 'linux-6.1' },
            { noTiming: true },
          ),
        ),
      );
    await expect(mergeShards([await shard(machine, 1, 'a'), await shard(machine, 2, 'b')])).rejects.toThrow(/shards of different models/);
    // without a digest, the initial states still differ
    const other = createMachine(edited, flavor) as Machine<unknown>;
    await expect(mergeShards([await shard(machine, 1), await shard(other, 2)], ['1.json', '2.json'])).rejects.toThrow(/shards of different models/);
    expect((await mergeShards([await shard(machine, 1, 'a'), await shard(machine, 2, 'a')]))['verdict']).toBe('clean');
  });

  it("the model digest sees what a flavor module's steps capture from the module (a constant), not its path", async () => {
    const text = readFileSync(path.join(root, 'fixtures/flavors/no-truncate-count-recheck.js'), 'utf8');
    expect(text).toContain('const NOPAGE_SIGBUS = -1;');
    const dir = mkdtempSync(path.join(tmpdir(), 'kreplay-identity-'));
    const write = (name: string, t: string) => {
      mkdirSync(path.join(dir, name));
      writeFileSync(path.join(dir, name, 'flavor.js'), t);
      return path.join(dir, name, 'flavor.js');
    };
    const scenario = parseScenario(readFileSync(path.join(root, 'fixtures/scenarios/truncate-vs-fault.yaml'), 'utf8'), 'truncate-vs-fault.yaml');
    const one = modelIdentity(scenario, await resolveFlavor(write('a', text)));
    expect(modelIdentity(scenario, await resolveFlavor(write('b', text)))).toBe(one);
    // the steps' source text is the same; only the value their closures capture changed
    expect(modelIdentity(scenario, await resolveFlavor(write('c', text.replace('const NOPAGE_SIGBUS = -1;', 'const NOPAGE_SIGBUS = -2;'))))).not.toBe(one);
  });

  it('rejects --shard for dpor', async () => {
    await expect(explore(cases[0]!.machine, { strategy: 'dpor', shard: { index: 1, count: 2 } })).rejects.toThrow('--shard splits the exhaustive search');
  });
});
