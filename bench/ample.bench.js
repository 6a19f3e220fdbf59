// ample: how many states stateful partial-order reduction could save on a shipped scenario,
// at best. Issue 16 names "stateful partial-order reduction where it pays"; this measures
// whether it can pay before anyone builds it into the explorer.
//
// Ample sets of one step (the form that keeps livelock and the shortest-path search's
// counterexamples meaningful, and that a stateful breadth-first search can use with the
// cycle proviso "the ample successor is new") need to know that the step is independent of
// every step another thread could take later. The model declares only the accesses of each
// thread's *next* step, so a real search would need a static over-approximation of every
// thread's future accesses. This bench gives the reduction an oracle instead, which no real
// search has: a first full search records, per location, every thread that ever touches it
// (in a step it takes or is blocked on); a second search then expands only thread t at a state
// whenever t's next step is enabled, touches only locations no other thread ever touches, breaks
// no invariant, does not end its thread and leads to a new state. What the second search saves
// is an upper bound on what any sound singleton-ample reduction could save on that scenario.
// It also checks that the reduced search finds the same violations and end states.
//   npm run bench ample [-- scenario-substring [flavor]]
// Default: odirect-vs-fault-multipage on linux-2.6.15 (41 k states; the seqschedlock flavor's
// 977 k states take minutes here, with key strings).
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMachine, loadScenario, resolveFlavor } from '../packages/mm-model/dist/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const THREAD_DONE = 0;

/** Breadth-first search over distinct states; with `ample`, one thread's step where it allows. */
function search(m, ample) {
  const T = m.threads.length;
  const seen = new Set();
  const queue = [m.initial()];
  seen.add(m.key(queue[0]));
  const touchedBy = new Map();
  const violations = new Set();
  let ends = 0;
  let reduced = 0;
  const reach = (state) => {
    const k = m.key(state);
    if (seen.has(k)) return false;
    seen.add(k);
    queue.push(state);
    return true;
  };
  for (let i = 0; i < queue.length; i++) {
    const s = queue[i];
    const next = [];
    let enabled = 0;
    for (let t = 0; t < T; t++) {
      const n = m.next(s, t);
      next.push(n);
      if (!n) continue;
      if (n.enabled) enabled++;
      for (const a of n.accesses) {
        let by = touchedBy.get(a.loc);
        if (!by) touchedBy.set(a.loc, (by = new Set()));
        by.add(t);
      }
    }
    if (enabled === 0) {
      ends++;
      if (next.every((n) => n === null)) for (const v of m.final(s)) violations.add(`${v.rule}: ${v.message}`);
      continue;
    }
    let one = false;
    for (let t = 0; ample && t < T && !one; t++) {
      const n = next[t];
      if (!n || !n.enabled || !n.accesses.every((a) => ample(a.loc, t))) continue;
      const r = m.advance(s, t);
      if (r.violations.length > 0 || m.readiness(r.state, t) === THREAD_DONE) continue;
      if (reach(r.state)) {
        reduced++;
        one = true;
      }
    }
    if (one) continue;
    for (let t = 0; t < T; t++) {
      if (!next[t]?.enabled) continue;
      const r = m.advance(s, t);
      for (const v of r.violations) violations.add(`${v.rule}: ${v.message}`);
      reach(r.state);
    }
  }
  return { states: queue.length, reduced, ends, violations: [...violations].sort(), touchedBy };
}

export default async function (args) {
  const want = args[0] ?? 'odirect-vs-fault-multipage';
  const flavorName = args[1] ?? 'linux-2.6.15';
  const dir = path.join(root, 'fixtures/scenarios');
  const file = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') && f.includes(want))
    .sort()[0];
  if (!file) throw new Error(`no shipped scenario matches "${want}"`);
  const m = createMachine(await loadScenario(path.join(dir, file)), await resolveFlavor(flavorName));
  const t0 = performance.now();
  const full = search(m, null);
  const own = new Map([...full.touchedBy].filter(([, by]) => by.size === 1).map(([loc, by]) => [loc, [...by][0]]));
  const cut = search(m, (loc, t) => own.get(loc) === t);
  const same = JSON.stringify(full.violations) === JSON.stringify(cut.violations) && full.ends === cut.ends;
  const pct = ((100 * (full.states - cut.states)) / full.states).toFixed(1);
  process.stdout.write(`${file} on ${flavorName}: ${full.touchedBy.size} locations, ${own.size} touched by one thread only\n`);
  process.stdout.write(
    `  full search ${full.states} states; with the oracle's one-step ample sets ${cut.states}` +
      ` (${pct}% fewer; ${cut.reduced} states expanded by one step)\n`,
  );
  process.stdout.write(
    `  same violations (${full.violations.length}) and end states (${full.ends}): ${same ? 'yes' : 'NO'}` +
      ` — ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
  );
  if (!same) throw new Error('the reduced search lost a violation or an end state');
}
