/**
 * Which worker owns a state (owners.ts): a function of the state's content alone — the same from
 * its row (state-table.ts) as from its words, the same in a machine that numbered its parts in
 * another order — and the same for every state of one shared part, so that a step memo's keys
 * (which begin with the expanding state's shared part) are met by one worker each.
 */
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { createMachine, loadScenario, resolveFlavor } from '@kreplay/mm-model';
import { ExhaustiveSearch } from '../src/exhaustive.js';
import { RunContext } from '../src/context.js';
import { StateTable } from '../src/state-table.js';
import { Owners } from '../src/owners.js';
import { root } from './shipped.js';

const file = path.join(root, 'fixtures/scenarios/odirect-vs-fault-multipage.yaml');

describe('Owners', () => {
  it('gives a state one owner, by row or by words, in machines that number alike or not, the same to every state of a shared part', async () => {
    const scenario = await loadScenario(file);
    const flavor = await resolveFlavor('linux-2.6.23');
    const a = createMachine(scenario, flavor);
    const b = createMachine(scenario, flavor);
    const graph = await new ExhaustiveSearch({}).search(a, new RunContext({}));
    const table = graph.wordTable;
    expect(table).toBeInstanceOf(StateTable);
    const rows = table as StateTable;
    const T = a.threads.length;
    const N = graph.size;
    // b meets the states in the reverse order: its strings, shapes and parts are numbered otherwise
    const wordsB: Int32Array[] = [];
    const buf = new Int32Array(4096);
    for (let id = N - 1; id >= 0; id--) {
      const n = graph.readWords(id);
      const m = b.encode!(a.decode!(graph.wordBuffer, n), buf);
      wordsB[id] = buf.slice(0, m);
    }
    let renumbered = 0;
    for (const W of [2, 3]) {
      const ownA = new Owners(a.exchange!, a.stepMemo!.threadsAt.bind(a.stepMemo), T, W, rows);
      const ownB = new Owners(b.exchange!, b.stepMemo!.threadsAt.bind(b.stepMemo), T, W);
      const ofShared = new Map<number, number>();
      const count = new Array<number>(W).fill(0);
      // states whose owner differs by words, in b, or from another state of their shared part
      const differ: number[] = [];
      for (let id = 0; id < N; id++) {
        const o = ownA.ofRow(rows.rowData, id * rows.width);
        const n = graph.readWords(id);
        if (ownA.ofWords(graph.wordBuffer, n) !== o || ownB.ofWords(wordsB[id]!, wordsB[id]!.length) !== o) differ.push(id);
        if (W === 2 && wordsB[id]!.some((w, i) => w !== graph.wordBuffer[i])) renumbered++;
        const s = rows.rowData[id * rows.width]!;
        if (ofShared.has(s) && ofShared.get(s) !== o) differ.push(id);
        ofShared.set(s, o);
        count[o]!++;
      }
      expect(differ).toEqual([]);
      // every worker owns a fair part
      for (const c of count) expect(c).toBeGreaterThan(N / W / 2);
    }
    // the check across machines compared words that differ
    expect(renumbered).toBeGreaterThan(N / 2);
  });
});
