/**
 * A small exhaustive search over a Machine for the model's own tests: breadth-first over
 * distinct states (so every violation comes with a shortest schedule), every enabled step
 * of every thread from every state. No DPOR: the scenarios are small. Liveness is judged
 * on the state graph like the explorer does: a state from which no end state is reachable.
 */
import type { Machine, ModelViolation } from '@kreplay/core';

export interface Found {
  rule: string;
  message: string;
  /** Thread ids, in order, from the initial state to the violating step. */
  schedule: number[];
}

export interface SearchResult {
  states: number;
  transitions: number;
  /** First (shortest) occurrence of each rule. */
  found: Map<string, Found>;
  /** States where every live thread is blocked. */
  deadlocks: number;
  /** States from which no state with every thread finished can be reached. */
  stuck: number;
  /** States where every thread finished. */
  ends: number;
}

/** `onState`: called once with every distinct state reached (a test's own question about the state space). */
export function search<S>(m: Machine<S>, maxStates = 200_000, onState?: (s: S) => void): SearchResult {
  const ids = new Map<string, number>();
  const states: S[] = [];
  const parent: { from: number; t: number }[] = [];
  const succ: number[][] = [];
  const found = new Map<string, Found>();
  let transitions = 0;
  let deadlocks = 0;
  let ends = 0;
  const isEnd: boolean[] = [];
  const pathTo = (id: number, last?: number): number[] => {
    const out: number[] = [];
    for (let k = id; k > 0; k = parent[k]!.from) out.push(parent[k]!.t);
    out.reverse();
    if (last !== undefined) out.push(last);
    return out;
  };
  const note = (vs: ModelViolation[], from: number, t?: number) => {
    for (const v of vs) if (!found.has(v.rule)) found.set(v.rule, { rule: v.rule, message: v.message, schedule: pathTo(from, t) });
  };
  const add = (s: S, from: number, t: number): number => {
    const k = m.key(s);
    let id = ids.get(k);
    if (id === undefined) {
      id = states.length;
      ids.set(k, id);
      states.push(s);
      parent.push({ from, t });
      succ.push([]);
    }
    return id;
  };
  add(m.initial(), -1, -1);
  for (let cur = 0; cur < states.length; cur++) {
    if (states.length > maxStates) throw new Error(`more than ${maxStates} states`);
    const s = states[cur]!;
    onState?.(s);
    let live = 0;
    let enabled = 0;
    for (let t = 0; t < m.threads.length; t++) {
      const info = m.next(s, t);
      if (!info) continue;
      // a blocked daemon (the I/O completion, ThreadInfo.daemon) has nothing to do: it does not keep the run from its end
      if (!info.enabled && m.threads[t]!.daemon === true) continue;
      live++;
      if (!info.enabled) continue;
      enabled++;
      const r = m.step(s, t);
      transitions++;
      note(r.violations, cur, t);
      succ[cur]!.push(add(r.state, cur, t));
    }
    isEnd[cur] = live === 0;
    if (live === 0) {
      ends++;
      note(m.final?.(s) ?? [], cur);
    } else if (enabled === 0) {
      deadlocks++;
      if (!found.has('deadlock')) found.set('deadlock', { rule: 'deadlock', message: m.describe?.(s) ?? '', schedule: pathTo(cur) });
    }
  }
  // Backward reachability from end states.
  const pred: number[][] = states.map(() => []);
  succ.forEach((ss, a) => {
    for (const b of ss) pred[b]!.push(a);
  });
  const good = new Uint8Array(states.length);
  const work: number[] = [];
  isEnd.forEach((e, i) => {
    if (e) {
      good[i] = 1;
      work.push(i);
    }
  });
  while (work.length) {
    const b = work.pop()!;
    for (const a of pred[b]!)
      if (!good[a]) {
        good[a] = 1;
        work.push(a);
      }
  }
  let stuck = 0;
  let firstStuck = -1;
  for (let i = 0; i < states.length; i++)
    if (!good[i]) {
      stuck++;
      if (firstStuck < 0) firstStuck = i;
    }
  if (stuck > deadlocks && !found.has('livelock')) {
    for (let i = 0; i < states.length; i++) {
      if (good[i] || succ[i]!.length === 0) continue;
      found.set('livelock', { rule: 'livelock', message: m.describe?.(states[i]!) ?? '', schedule: pathTo(i) });
      break;
    }
  }
  return { states: states.length, transitions, found, deadlocks, stuck, ends };
}

/** The rules a search found, sorted, excluding liveness ones (reported separately). */
export function safetyRules(r: SearchResult): string[] {
  return [...r.found.keys()].filter((k) => k !== 'deadlock' && k !== 'livelock').sort();
}
