/**
 * When `--workers N` hands the exhaustive search over (handover.ts): only when the level widths
 * seen so far say that enough states remain for the workers to pay. The rule is fed level
 * boundaries as the breadth-first search meets them; `exploreOnCores` is held to it on a real
 * search (the handed-over search's step memo starts anew on each worker, so its reuse counts tell
 * whether the search was handed over; its result is the one-thread search's either way).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { createMachine, loadScenario, resolveFlavor } from '@kreplay/mm-model';
import { explore, exploreOnCores, FREE_HANDOVER, handoverCost, HandoverRule, type HandoverCost } from '../src/index.js';
import { summary } from './shipped.js';

/** Feeds a search's level widths to a rule: the number of states known at the boundary it hands over at, or undefined. */
function handedOverAt(rule: HandoverRule, widths: number[]): number | undefined {
  let known = 1;
  for (const w of widths) {
    // the boundary: every state known so far expanded, the next level's `w` found
    const expanded = known;
    known += w;
    if (rule.due(expanded, known)) return known;
  }
  return undefined;
}

/** Level widths rising to `peak` over `levels` levels and falling back as steeply: a search of about peak × levels states. */
function bell(peak: number, levels: number): number[] {
  const up = Array.from({ length: levels }, (_, i) => Math.max(1, Math.round(peak * Math.sin(((i + 1) / levels) * (Math.PI / 2)) ** 2)));
  return [...up, ...up.slice(0, -1).reverse()];
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** A cost of `breakEven` states, whatever the search knows: hand over once that many are estimated to remain. */
const flat = (breakEven: number): HandoverCost => ({ fixed: breakEven, perKnown: 0, saved: 1 });

describe('the handover rule', () => {
  it('has the workers save nothing on one, and on two less per remaining state than the handover costs per known state', () => {
    expect(handoverCost(1).saved).toBe(0);
    expect(handoverCost(2).saved).toBeGreaterThan(0);
    expect(handoverCost(2).saved).toBeLessThan(handoverCost(2).perKnown);
    expect(handoverCost(8).saved).toBeGreaterThan(handoverCost(8).perKnown);
  });

  it('keeps a search on two workers on one thread however large it grows; on eight hands it over while it widens', () => {
    const widths = bell(400_000, 60); // ~24 M states
    expect(handedOverAt(new HandoverRule(400_000, handoverCost(2)), widths)).toBeUndefined();
    const eight = handoverCost(8);
    const at = handedOverAt(new HandoverRule(400_000, eight), widths)!;
    // the first boundary at which what is known (at least as much remains) pays for the handover
    expect(at * eight.saved).toBeGreaterThanOrEqual(eight.fixed + eight.perKnown * at);
    expect(at).toBeLessThan(2_000_000);
  });

  it('keeps a search that peaked and whose mirrored rest is below the break-even on one thread', () => {
    // 1.0 M states, well past the first handover point, peaking at 0.5 M: about 0.5 M remain after the peak
    const widths = bell(40_000, 25);
    expect(sum(widths)).toBeGreaterThan(900_000);
    expect(handedOverAt(new HandoverRule(400_000, flat(700_000)), widths)).toBeUndefined();
  });

  it('hands a search still widening over once what it knows reaches the break-even (at least as much remains)', () => {
    const widths = bell(100_000, 40); // ~7.8 M states
    const at = handedOverAt(new HandoverRule(400_000, flat(1_800_000)), widths)!;
    expect(at).toBeGreaterThanOrEqual(1_800_000);
    // the first boundary at or past it, not later
    expect(at - Math.max(...widths)).toBeLessThan(1_800_000);
  });

  it('hands a narrowing search over when the states it knew as wide as now reach the break-even', () => {
    // the peak at ~1.0 M known: below the break-even while widening; just past it, the mirror says ~1.0 M remain
    const widths = bell(40_000, 50);
    expect(handedOverAt(new HandoverRule(400_000, flat(1_100_000)), widths)).toBeUndefined();
    const at = handedOverAt(new HandoverRule(400_000, flat(900_000)), widths)!;
    expect(at).toBeGreaterThan(900_000);
    expect(at).toBeLessThan(1_200_000);
  });

  it('counts the cost of the states known at the handover: a handover that costs more per known state than it saves never pays', () => {
    const widths = bell(100_000, 40);
    expect(handedOverAt(new HandoverRule(400_000, { fixed: 0, perKnown: 1.01, saved: 1 }), widths)).toBeUndefined();
    expect(handedOverAt(new HandoverRule(400_000, { fixed: 0, perKnown: 0.99, saved: 1 }), widths)).toBeGreaterThanOrEqual(400_000);
  });

  it('never hands over before the states it was given, however steep the rise', () => {
    const widths = Array.from({ length: 30 }, (_, i) => 2 ** Math.min(i, 18));
    const at = handedOverAt(new HandoverRule(400_000, FREE_HANDOVER), widths)!;
    expect(at).toBeGreaterThanOrEqual(400_000);
    expect(handedOverAt(new HandoverRule(400_000, FREE_HANDOVER), [10, 100, 1000])).toBeUndefined();
  });

  it('starts the threads a lead ahead of the break-even, not on a search it keeps', () => {
    const rule = new HandoverRule(0, flat(1000));
    expect(rule.due(1, 300)).toBe(false); // widening: at least 300 remain
    expect(rule.near(300)).toBe(false);
    expect(rule.due(300, 750)).toBe(false); // still widening: at least 750 remain, within 300 of 1000
    expect(rule.near(300)).toBe(true);
    expect(rule.due(750, 900)).toBe(false); // narrowing: about 150 + 1 remain (the states known before it was as wide)
    expect(rule.near(300)).toBe(false);
  });
});

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const file = path.join(root, 'fixtures/scenarios/odirect-vs-fault-multipage.yaml');
const machine = createMachine(await loadScenario(file), await resolveFlavor('linux-2.6.15'));
// the worker threads load the built model, as the CLI's do
const source = { module: path.join(root, 'packages/cli/dist/explore-machine.js'), name: 'exploreMachine', args: { scenario: file, flavor: 'linux-2.6.15' } };

describe('exploreOnCores follows the rule', () => {
  it('hands 2.6.15 multipage (19,449 states) over past 1,000 states only when what remains pays for the handover', async () => {
    const one = await explore(machine, { memoSteps: true });
    const stays = await exploreOnCores(machine, source, 2, { memoSteps: true, handoverStates: 1_000, handoverCost: flat(1_000_000) });
    const goes = await exploreOnCores(machine, source, 2, { memoSteps: true, handoverStates: 1_000, handoverCost: flat(1_000) });
    // the same result either way; the memo's counts are the one-thread search's only when it stayed
    expect(summary(stays)).toEqual(summary(one));
    expect(summary(goes)).toEqual(summary(one));
    expect(stays.memo).toEqual(one.memo);
    expect(goes.memo).not.toEqual(one.memo);
  });
});
