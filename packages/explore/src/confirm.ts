/**
 * Replays a schedule, and answers "can thread t still finish from this state?" by an
 * unreduced search of the full state graph from it (used to confirm livelock candidates
 * found on a reduced or partial graph, so a pruned path never turns into a false livelock).
 */
import type { Machine } from '@kreplay/core';
import type { Schedule } from './types.js';

export function stateAfter<S>(machine: Machine<S>, schedule: Schedule): S {
  let s = machine.initial();
  for (const t of schedule) s = machine.step(s, t).state;
  return s;
}

/** True when some schedule from `from` finishes thread t; 'limit' when `maxStates` ran out first. */
export function canFinishFrom<S>(machine: Machine<S>, from: S, t: number, maxStates: number): boolean | 'limit' {
  const T = machine.threads.length;
  const seen = new Set<string>([machine.key(from)]);
  const stack: S[] = [from];
  while (stack.length > 0) {
    const s = stack.pop()!;
    if (machine.next(s, t) === null) return true;
    // Push others first so thread t is tried first (depth-first towards its end).
    for (const u of [...Array(T).keys()].filter((u) => u !== t).concat(t)) {
      const n = machine.next(s, u);
      if (!n || !n.enabled) continue;
      const r = machine.step(s, u).state;
      const k = machine.key(r);
      if (seen.has(k)) continue;
      if (seen.size >= maxStates) return 'limit';
      seen.add(k);
      stack.push(r);
    }
  }
  return false;
}
