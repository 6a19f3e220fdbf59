/**
 * Random scenarios on the real flavors: every reduction and every strategy gives the same answer.
 *
 * The shipped scenarios (strategies, step-memo, parallel, shard, golden, dead-locals,
 * untracked-data tests) are 23 files; a reduction sound on them but not elsewhere would go
 * unseen. Here small random scenarios (random-scenario.ts: files, cached pages and flags, VMAs
 * and PTEs, two or three threads running the flavor's programs with random arguments) are
 * searched on every built-in flavor, and for each the exhaustive search with every reduction (the
 * default) is compared with:
 * - the same without the step memo (`memoSteps: false`), with every reused step run and compared
 *   (`'verify'`), and with the memo keyed by the whole shared part only (no `stepMemo.places`):
 *   the whole result (verdict, violations with their shortest schedules, every counter);
 * - the flavor without its dead-local tables, and (where the machine tracks no data) with every
 *   program declaring it reads data: verdict and violations (a livelock's way into its cycle may
 *   be shorter with the tables), no fewer states without the reduction;
 * - DPOR: verdict, exhaustive flag and rules;
 * - shards 1/2 + 2/2, merged: the --json (--no-timing) of the whole search, byte for byte;
 * - 2 workers taking over after the first level: the whole result (on every WORKERS_EVERY-th
 *   scenario: each costs a worker thread's start);
 * - each counterexample's schedule, replayed: the same violation.
 *
 * On every built-in flavor, and on the mutation flavors of fixtures/flavors, where the rules break.
 * Seeded: KREPLAY_PROP_SEED (jest.setup.js's default); KREPLAY_RANDOM_SCENARIOS scenarios per
 * built-in flavor, KREPLAY_RANDOM_MUTANT_SCENARIOS per mutation flavor. A failure prints the seed,
 * the stream and the scenario's text. KREPLAY_RANDOM_MAX_STATES (default 6,000) bounds the graphs
 * taken: a scenario whose search passes it is skipped (counted as tooLarge).
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isInputError, stringifyJson, type Machine } from '@kreplay/core';
import { createMachine, listFlavors, parseScenario, resolveFlavor, type Flavor, type Proc, type Program } from '@kreplay/mm-model';
import { explore, exploreJson, exploreOnCores, mergeShards, ScheduleReplay, violationJson, type ExploreOptions, type ExploreResult } from '../src/index.js';
import { root, summary } from './shipped.js';
import { randomScenario } from './random-scenario.js';

const SEED = Number(process.env.KREPLAY_PROP_SEED ?? 20261125);
const PER_FLAVOR = Number(process.env.KREPLAY_RANDOM_SCENARIOS ?? 10);
const PER_MUTANT = Number(process.env.KREPLAY_RANDOM_MUTANT_SCENARIOS ?? 3);
/** Scenarios whose exhaustive search passes this are skipped (counted): the test must stay small. */
const MAX_STATES = Number(process.env.KREPLAY_RANDOM_MAX_STATES ?? 6_000);
/** DPOR is stateless: cut it here, and compare only what a cut search promises (counted). */
const DPOR_EXECUTIONS = 4_000;
const WORKERS_EVERY = 4;

const source = fileURLToPath(new URL('./support/machine-source.mjs', import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), 'kreplay-random-scenarios-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function withoutTables(f: Flavor): Flavor {
  const procs: Record<string, Proc> = {};
  for (const [name, { dead: _dead, ...proc }] of Object.entries(f.procs)) procs[name] = proc;
  return { ...f, procs };
}

function tracking(f: Flavor): Flavor {
  const programs: Record<string, Program> = {};
  for (const [name, p] of Object.entries(f.programs)) programs[name] = { ...p, readsData: true };
  return { ...f, programs };
}

const rules = (r: ExploreResult) => r.violations.map((v) => v.rule);
/** What a reduction that merges states may not move: the verdict, and each violation but a livelock's way into its cycle. */
const verdicts = (r: ExploreResult) => ({
  verdict: r.verdict,
  exhaustive: r.exhaustive,
  violations: r.violations.map((v) => (v.rule === 'livelock' ? { ...v, schedule: undefined } : v)),
});
const json = <S>(m: Machine<S>, r: ExploreResult, flavor: string) =>
  stringifyJson(exploreJson(m, r, { scenario: 'random.yaml', flavor }, { noTiming: true }), 2);

/** What was compared, summed over the run (printed at the end: the evidence of what ran). */
const tally = {
  scenarios: 0,
  refused: 0,
  tooLarge: 0,
  comparisons: 0,
  dporCut: 0,
  workers: 0,
  untrackedChecked: 0,
  verdicts: {} as Record<string, number>,
  rules: {} as Record<string, number>,
  programs: {} as Record<string, number>,
  memoHits: 0,
  k3Hits: 0,
  steps: 0,
  states: 0,
  deadLocalMerges: 0,
  deadLocalsMoreStates: 0,
  untrackedMerges: 0,
};
const bump = (o: Record<string, number>, k: string) => (o[k] = (o[k] ?? 0) + 1);

/**
 * The built-in flavors, then the mutation flavors of fixtures/flavors (a check deleted from a
 * built-in one): on them the linux-6.1 and linux-2.6.23 programs break rules, so the comparisons
 * meet violations there too (the built-in 6.x flavors are clean on every scenario seen).
 */
const mutants = readdirSync(path.join(root, 'fixtures/flavors'))
  .filter((x) => x.endsWith('.js'))
  .sort()
  .map((x) => path.join(root, 'fixtures/flavors', x));
const flavors = [...listFlavors().map((f) => f.name), ...mutants];
const count = (flavor: string) => (mutants.includes(flavor) ? PER_MUTANT : PER_FLAVOR);

describe.each(flavors.map((f) => [path.basename(f), f] as const))('random scenarios on %s', (_name, flavor) => {
  it.each(Array.from({ length: count(flavor) }, (_, i) => i))(
    `seed ${SEED}, scenario %i: every reduction and strategy agrees`,
    async (i) => {
      const f = await resolveFlavor(flavor);
      // scenario i of this flavor: the first stream from i * 64 whose scenario the flavor takes and whose graph is small
      for (let stream = i * 64; stream < (i + 1) * 64; stream++) {
        const { text } = randomScenario(SEED, stream + flavors.indexOf(flavor) * 1_000_000, flavor, Object.keys(f.programs));
        const file = path.join(dir, `${path.basename(flavor)}-${stream}.json`);
        writeFileSync(file, text);
        let m: Machine<unknown>;
        try {
          m = createMachine(parseScenario(text, file), f) as Machine<unknown>;
        } catch (e) {
          if (!isInputError(e)) throw e;
          tally.refused++;
          continue;
        }
        try {
          const base = await explore(m, { maxStates: MAX_STATES, memoSteps: true });
          if (base.incomplete.includes('max-states')) {
            tally.tooLarge++;
            continue;
          }
          await compareAll(flavor, f, file, text, m, base, i);
        } catch (e) {
          (e as Error).message = `seed ${SEED}, stream ${stream}, flavor ${flavor}, scenario ${file}:\n${text}\n${(e as Error).message}`;
          throw e;
        }
        return;
      }
      throw new Error(`no scenario of 64 streams from ${i * 64} was taken on ${flavor}`);
    },
    120_000,
  );
});

async function compareAll(flavor: string, f: Flavor, file: string, text: string, m: Machine<unknown>, base: ExploreResult, i: number) {
  tally.scenarios++;
  bump(tally.verdicts, `${path.basename(flavor)} ${base.verdict}`);
  for (const r of rules(base)) bump(tally.rules, r);
  const sc = JSON.parse(text) as { threads: Array<{ program: string; then?: Array<{ program: string }> }> };
  for (const t of sc.threads) for (const p of [t.program, ...(t.then ?? []).map((x) => x.program)]) bump(tally.programs, p);
  tally.memoHits += base.memo?.hits ?? 0;
  tally.steps += base.memo?.steps ?? 0;
  tally.states += base.stats.distinctStates;
  const whole = summary(base);
  const same = (what: string, got: unknown, want: unknown) => {
    tally.comparisons++;
    expect({ what, got }).toEqual({ what, got: want });
  };
  // a variant without a reduction may have more states than the cap the scenario was chosen under
  const opts: ExploreOptions = { maxStates: 50 * MAX_STATES };

  // the step memo: off, verified, keyed by the whole shared part only
  same('memoSteps false', summary(await explore(m, { ...opts, memoSteps: false })), whole);
  const verified = await explore(m, { ...opts, memoSteps: 'verify' });
  same('memoSteps verify', summary(verified), whole);
  same('memo counters under verify', verified.memo, base.memo);
  if (m.stepMemo?.places) {
    const k3 = await explore({ ...m, stepMemo: { ...m.stepMemo, places: undefined } }, { ...opts, memoSteps: 'verify' });
    same('memo without places', summary(k3), whole);
    tally.k3Hits += k3.memo!.hits;
    expect(k3.memo!.hits).toBeLessThanOrEqual(base.memo!.hits);
  }

  // dead locals and untracked data, switched off
  const sc2 = parseScenario(text, file);
  const bare = await explore(createMachine(sc2, withoutTables(f)), opts);
  same('without dead-local tables', verdicts(bare), verdicts(base));
  // The tables promise the verdict, not fewer states: a return value the caller declares dead where
  // the callee returns to is set by `ret` after the frame arrived (docs/flavors.md, session 14), so a
  // path that called and one that did not differ there (invalidate_inode_pages2_range's `rv` at
  // `bugon` after unmap_mapping_pages: 160 states with the tables, 159 without, on one page mapped
  // and one faulted, linux-6.1). Counted, not failed.
  if (base.stats.distinctStates > bare.stats.distinctStates) tally.deadLocalsMoreStates++;
  tally.deadLocalMerges += bare.stats.distinctStates - base.stats.distinctStates;
  if ((m as unknown as { env: { dataUntracked?: boolean } }).env.dataUntracked) {
    const tracked = await explore(createMachine(sc2, tracking(f)), opts);
    same('with data tracked', verdicts(tracked), verdicts(base));
    expect(base.stats.distinctStates).toBeLessThanOrEqual(tracked.stats.distinctStates);
    tally.untrackedChecked++;
    tally.untrackedMerges += tracked.stats.distinctStates - base.stats.distinctStates;
  }

  // DPOR
  const dpor = await explore(m, { strategy: 'dpor', maxExecutions: DPOR_EXECUTIONS });
  if (dpor.incomplete.includes('max-executions')) {
    tally.dporCut++;
    expect(rules(base)).toEqual(expect.arrayContaining(rules(dpor)));
    expect(dpor.verdict).not.toBe('clean');
  } else
    same(
      'dpor',
      { verdict: dpor.verdict, exhaustive: dpor.exhaustive, rules: rules(dpor) },
      { verdict: base.verdict, exhaustive: base.exhaustive, rules: rules(base) },
    );

  // shards 1/2 + 2/2, merged
  const parts = [];
  for (const index of [1, 2]) parts.push(JSON.parse(json(m, await explore(m, { ...opts, shard: { index, count: 2 }, memoSteps: 'verify' }), flavor)));
  tally.comparisons++;
  // a livelock only the union of the shards' graphs shows is rendered from the model, as `kreplay merge --scenario` does
  expect(stringifyJson(await mergeShards(parts, [], (v) => violationJson(m, v)['steps'] as unknown[]), 2)).toBe(json(m, base, flavor));

  // workers, handed over after the first level
  if (i % WORKERS_EVERY === 0) {
    const onCores = await exploreOnCores(m, { module: source, name: 'machine', args: { scenario: file, flavor } }, 2, {
      ...opts,
      handoverStates: 1,
      memoSteps: 'verify',
    });
    same('2 workers', summary(onCores), whole);
    tally.workers++;
  }

  // each counterexample, replayed
  for (const v of base.violations) {
    const again = await explore(m, { strategy: new ScheduleReplay(v.cycle ? { schedule: v.schedule, cycle: v.cycle } : { schedule: v.schedule }) });
    same(
      `replay of ${v.rule}`,
      again.violations.find((x) => x.rule === v.rule),
      v,
    );
  }
}

/** A scenario text, on a flavor: the exhaustive search with every reused step checked. */
async function searched(text: string, flavor: string): Promise<ExploreResult> {
  return explore(createMachine(parseScenario(text, 'regression.yaml'), await resolveFlavor(flavor)), { memoSteps: 'verify' });
}

describe('what random scenarios found, minimised', () => {
  // A buffered read whose folio trylock fails (filemap_update_page) gives up its reference and
  // sleeps until the holder's unlock (folio_put_wait_locked); fadvise or invalidate_mapping_pages
  // then evicts the folio, unlocks it and drops the cache's reference: the folio is freed while
  // the read sleeps. The sleeper was woken by the unlock and never looks at the folio again; the
  // model's wait asked for the freed pfn's lock and threw "no page with pfn 1" (an internal error).
  const evicted = (dropper: string) => `
name: read-sleeps-while-evicted
flavor: linux-6.1
files:
  - { name: data, ino: 0x2a, size: 4096, pages: [{ index: 0, flags: [] }] }
threads:
  - { name: reader, program: read, args: { file: data, index: 0 } }
  - { name: dropper, program: ${dropper}, args: { file: data } }
`;
  it.each([
    ['fadvise', 'linux-6.1'],
    ['invalidate_mapping_pages', 'linux-6.1'],
    ['invalidate_mapping_pages', 'linux-6.12'],
  ])('a read asleep on a folio that %s evicts and frees wakes up (%s)', async (dropper, flavor) => {
    const r = await searched(evicted(dropper), flavor);
    expect({ verdict: r.verdict, exhaustive: r.exhaustive }).toEqual({ verdict: 'clean', exhaustive: true });
  });

  // No thread reads data, so pages hold UNTRACKED (data.ts); fadvise's write-back copied the
  // stored page's UNTRACKED into the disk block, which the scenario began with as version 0: two
  // end states where tracking data makes one (1,239 states against 1,175 tracked).
  it('the dead-local tables may leave two states where there was one: a return value dead where it lands (linux-6.1)', async () => {
    // recorded as it is (docs/flavors.md, session 14: `ret` sets `rv` after the frame arrived at a pc
    // where the table drops it); the verdict is the same, which is what the tables promise
    const text = `
name: fault-vs-invalidate-mapped
flavor: linux-6.1
files:
  - { name: f0, ino: 42, size: 12288, pages: [{ index: 0 }, { index: 2 }] }
processes:
  - { name: p, vmas: [{ file: f0, start: 0x10000, pages: 3, ptes: [2] }] }
threads:
  - { name: t0, program: fault, args: { mm: p, index: 0 } }
  - { name: t1, program: invalidate_inode_pages2_range, args: { file: f0, start: 2, end: 2 } }
`;
    const f = await resolveFlavor('linux-6.1');
    const [tables, bare] = [
      await explore(createMachine(parseScenario(text, 'd.yaml'), f)),
      await explore(createMachine(parseScenario(text, 'd.yaml'), withoutTables(f))),
    ];
    expect(verdicts(tables)).toEqual(verdicts(bare));
    expect([tables.stats.distinctStates, bare.stats.distinctStates]).toEqual([160, 159]);
  });

  it('untracked data never makes more states than tracked: a store written back by fadvise (linux-6.1)', async () => {
    const text = `
name: store-vs-fadvise
flavor: linux-6.1
files:
  - { name: data, ino: 0x2a, size: 4096 }
processes:
  - { name: p, vmas: [{ file: data, start: 0x10000, pages: 1 }] }
threads:
  - { name: dropper, program: fadvise, args: { file: data } }
  - { name: storer, program: store, args: { mm: p, index: 0 } }
`;
    const f = await resolveFlavor('linux-6.1');
    const [untracked, tracked] = [createMachine(parseScenario(text, 'u.yaml'), f), createMachine(parseScenario(text, 'u.yaml'), tracking(f))];
    expect(untracked.env.dataUntracked).toBe(true);
    const [u, t] = [await explore(untracked, { memoSteps: 'verify' }), await explore(tracked, { memoSteps: 'verify' })];
    expect(verdicts(u)).toEqual(verdicts(t));
    expect(u.stats.distinctStates).toBeLessThanOrEqual(t.stats.distinctStates);
  });
});

afterAll(() => {
  // the evidence of what ran: how many scenarios, what they ran, what the reductions did
  process.stdout.write(`random scenarios (seed ${SEED}, ${PER_FLAVOR} per built-in flavor, ${PER_MUTANT} per mutation flavor): ${JSON.stringify(tally)}\n`);
});
