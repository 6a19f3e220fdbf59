/**
 * StateGraph's two ways of keeping edges: per-node lists (any order of additions) and rows
 * (`openRow`: a node's edges all at once, nodes in id order, as the breadth-first search adds
 * them) give the same rows, and liveness judges the same components on both.
 */
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { StateGraph } from '../src/index.js';
import { acyclic, sccs } from '../src/liveness.js';

/** A breadth-first search over a random successor function: every node's successors by thread, nodes in id order. */
function search(succ: number[][], keyed: boolean, rows: boolean): StateGraph {
  const g = new StateGraph(3);
  const word = new Int32Array(1);
  const reach = (state: number, from: number, t: number) => {
    word[0] = state;
    return keyed ? g.reach(String(state), from, t) : g.reachWords(word, 1, from, t);
  };
  const state: number[] = [0];
  reach(0, -1, -1);
  for (let id = 0; id < g.size; id++) {
    if (rows) g.openRow(id);
    succ[state[id]!]!.forEach((to, t) => {
      if (to >= 0 && reach(to, id, t) >= 0) state.push(to);
    });
  }
  return g;
}

describe('StateGraph', () => {
  test('rows added with openRow are the rows of per-node lists, and so are the components', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.integer({ min: -1, max: 39 }), { minLength: 3, maxLength: 3 }), { minLength: 40, maxLength: 40 }), (succ) => {
        const lists = search(succ, true, false);
        const rows = search(succ, false, true);
        expect(rows.size).toBe(lists.size);
        const a = lists.rows();
        const b = rows.rows();
        expect([...b.start]).toEqual([...a.start]);
        expect([...b.thread]).toEqual([...a.thread]);
        expect([...b.to]).toEqual([...a.to]);
        const ca = sccs(lists);
        const cb = sccs(rows);
        expect([...cb.comp]).toEqual([...ca.comp]);
        expect([...cb.cyclic]).toEqual([...ca.cyclic]);
      }),
      { numRuns: 200 },
    );
  });

  test('the threads that can finish from a node are those finished in a node it leads to', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: -1, max: 29 }), { minLength: 3, maxLength: 3 }), { minLength: 30, maxLength: 30 }),
        fc.array(fc.integer({ min: 0, max: 7 }), { minLength: 30, maxLength: 30 }),
        (succ, finished) => {
          const g = search(succ, false, true);
          for (let id = 0; id < g.size; id++) g.setFinished(id, finished[id]!);
          const { start, to } = g.rows();
          const { can } = sccs(g);
          for (let v = 0; v < g.size; v++) {
            // every node v leads to (itself included), by a plain walk
            const seen = new Set([v]);
            const todo = [v];
            let bits = 0;
            while (todo.length > 0) {
              const x = todo.pop()!;
              bits |= g.finishedOf(x);
              for (let e = start[x]!; e < start[x + 1]!; e++) {
                if (seen.has(to[e]!)) continue;
                seen.add(to[e]!);
                todo.push(to[e]!);
              }
            }
            expect(can[v]).toBe(bits);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  test('a graph is acyclic exactly when no component is a cycle (Kahn against Tarjan)', () => {
    // successors mostly forward (state + 1 + k), so that about half the graphs have no cycle;
    // a back edge, when drawn, may close one, and a self-loop is a cycle
    const forward = fc.array(fc.array(fc.integer({ min: -1, max: 5 }), { minLength: 3, maxLength: 3 }), { minLength: 30, maxLength: 30 });
    const back = fc.option(fc.tuple(fc.integer({ min: 0, max: 29 }), fc.integer({ min: 0, max: 29 })), { nil: undefined });
    let seen = 0;
    fc.assert(
      fc.property(forward, back, (steps, edge) => {
        const succ = steps.map((row, state) => row.map((k) => (k < 0 || state + 1 + k > 29 ? -1 : state + 1 + k)));
        if (edge) succ[edge[0]]![0] = edge[1];
        const g = search(succ, false, true);
        const cyclic = sccs(g).cyclic.includes(1);
        if (!cyclic) seen++;
        expect(acyclic(g.size, g.rows())).toBe(!cyclic);
      }),
      { numRuns: 300 },
    );
    expect(seen).toBeGreaterThan(30);
  });

  test('rows refuse an edge from another node than the open one, and rows out of order', () => {
    const g = new StateGraph(2);
    const w = Int32Array.of(0);
    g.reachWords(w, 1, -1, -1);
    g.openRow(0);
    w[0] = 1;
    g.reachWords(w, 1, 0, 0);
    expect(() => g.reachWords(Int32Array.of(2), 1, 1, 0)).toThrow(/row 0 is open/);
    g.openRow(1);
    expect(() => g.openRow(1)).toThrow(/id order/);
  });
});
