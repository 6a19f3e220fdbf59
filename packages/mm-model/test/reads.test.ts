/**
 * Step memoization by places (`StepMemo.places`, model.ts; reads.ts): the places a step notes at
 * Ctx's own accessors must hold every place the recording Proxy (the oracle, which sees every
 * element of every root array the step reads or writes, however it reaches it) notes for the same
 * step. Walked: every shipped scenario on every built-in flavor that has its programs, breadth
 * first, each state's every enabled thread (the first CAP states of a run; the multipage scenario's
 * large flavors are where most steps are, so they are walked too).
 */
import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { THREAD_ENABLED } from '@kreplay/core';
import { builtinFlavors, createMachine, loadScenario, type MmMachine, type MmState } from '@kreplay/mm-model';
import { SCENARIOS } from './helpers/scenarios.js';

/** States walked per run at most. */
const CAP = 1500;

interface Tally {
  steps: number;
  /** Both noted the same places. */
  same: number;
  /** The accessors noted more than the Proxy (sound, a finer key missed). */
  more: number;
  /** The accessors said `all` where the Proxy named places. */
  all: number;
  /** Steps whose accessor places lack a place the Proxy noted: the bug this test is for. */
  missing: string[];
}

/** Every step of the first CAP states of m's search, noted both ways. */
function walk(m: MmMachine, tally: Tally, name: string): void {
  const seen = new Set<string>();
  const queue: MmState[] = [m.initial()];
  seen.add(m.key(queue[0]!));
  for (let q = 0; q < queue.length && q < CAP; q++) {
    const s = queue[q]!;
    for (let t = 0; t < m.threads.length; t++) {
      if (m.readiness(s, t) !== THREAD_ENABLED) continue;
      const mine = m.notedPlaces!(s, t, false);
      const oracle = m.notedPlaces!(s, t, true);
      tally.steps++;
      if (mine.all) {
        if (!oracle.all) tally.all++;
        else tally.same++;
      } else if (oracle.all) {
        tally.missing.push(`${name}: state ${q}, thread ${t}: the Proxy found the step depends on the whole shared part, the accessors did not`);
      } else {
        const have = new Set(mine.reads);
        const lacks = [...oracle.reads].filter((p) => !have.has(p));
        if (lacks.length > 0) tally.missing.push(`${name}: state ${q}, thread ${t} (${m.next(s, t)!.label}): places ${lacks.join(', ')} read but not noted`);
        else if (mine.reads.length === oracle.reads.length) tally.same++;
        else tally.more++;
      }
      const next = m.advance(s, t).state;
      const k = m.key(next);
      if (!seen.has(k)) {
        seen.add(k);
        queue.push(next);
      }
    }
  }
}

describe('places a step reads (StepMemo.places)', () => {
  it('noted at Ctx accessors: every place the recording Proxy notes, on every shipped run', async () => {
    const tally: Tally = { steps: 0, same: 0, more: 0, all: 0, missing: [] };
    let runs = 0;
    for (const file of readdirSync(SCENARIOS)
      .filter((x) => /\.ya?ml$/.test(x))
      .sort()) {
      const sc = await loadScenario(join(SCENARIOS, file));
      for (const flavor of builtinFlavors()) {
        let m: MmMachine;
        try {
          m = createMachine(sc, flavor);
        } catch {
          continue; // the flavor lacks one of the scenario's programs
        }
        if (m.notedPlaces === undefined) continue;
        runs++;
        walk(m, tally, `${file} ${flavor.name}`);
      }
    }
    expect(tally.missing.slice(0, 10)).toEqual([]);
    // the walk is no toy: the runs and steps, and the accessors name exactly the Proxy's places on nearly every step
    expect(runs).toBeGreaterThan(60);
    expect(tally.steps).toBeGreaterThan(50_000);
    expect(tally.same).toBeGreaterThan(0.95 * tally.steps);
  }, 120_000);
});

/**
 * The places a step reads are complete only because a step reaches the state through Ctx alone,
 * and every use of Ctx's `this.s` either notes its place or is known to need no note
 * (docs/explore.md, "2026-12-06 (session 31)": the list). The cross-check above sees only the
 * shipped scenarios' steps; this asks of every method of ctx.ts that touches `this.s` that it is one
 * the list classifies, so that a new accessor is classified (and noted) before it is used.
 */
describe("Ctx's uses of the state are each classified", () => {
  const CLASSIFIED: Record<string, string> = {
    // accessors that note their place
    pte: 'noted',
    pteDirty: 'noted',
    pmd: 'noted',
    ptlOwner: 'noted',
    rawPage: 'noted',
    rawMap: 'noted',
    dropWaitAsleep: 'noted', // the pages' length and the pfn a DROP sleeper queued on (its wake, session 46)
    firstLockedBy: 'noted', // the pages' length and each pfn it scans (end_io's next folio, session 44)
    // writers that note the place they write
    setPtl: 'noted',
    setPmd: 'noted',
    setPte: 'noted',
    setPteDirty: 'noted',
    pagesW: 'noted by its callers (updPage, allocPage, freePage)',
    mapsW: 'noted by its callers (updMap)',
    // the whole state behind the recording Proxy
    viewed: 'proxy',
    // data generations: the step is `all`
    readIo: 'all',
    diskW: 'all',
    freeBlock: 'all',
    // no note needed
    rootW: 'a copy of the root',
    dataUntouched: 'compares only replaced, noted elements',
    finish: 'the threads, not the shared part',
    constructor: 'the state given',
  };

  it('every method of ctx.ts that reads or writes this.s is in the list', () => {
    const src = readFileSync(join(import.meta.dirname, '../src/ctx.ts'), 'utf8').split('\n');
    let method = '(none)';
    const users = new Set<string>();
    for (const line of src) {
      const m = /^ {2}(?:(?:private|protected|public|static|readonly|get|set|async)\s+)*([A-Za-z_]\w*)\s*(?:<[^>]*>)?\(/.exec(line);
      if (m) method = m[1]!;
      if (/this\.s\b/.test(line) && !/^\s*(\/\/|\*|\/\*)/.test(line)) users.add(method);
    }
    expect([...users].filter((u) => !(u in CLASSIFIED))).toEqual([]);
    // a method that no longer touches the state leaves the list too
    expect(Object.keys(CLASSIFIED).filter((k) => !users.has(k))).toEqual([]);
  });
});
