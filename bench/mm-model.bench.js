// mm-model: raw transition throughput of the model, measured by a plain breadth-first
// search over distinct states (no DPOR) of every shipped scenario on every built-in
// flavor. Prints states, transitions, time, states/s and the rules reached. The explorer's
// own bench (explore) measures exploration with DPOR; this one measures the model alone.
// Only safety rules are listed: liveness (deadlock, livelock) is judged by the explorer.
//   npm run bench mm-model [-- scenario-substring [max-states]]
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMachine, listFlavors, loadScenario, resolveFlavor } from '../packages/mm-model/dist/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function bfs(m, max) {
  const seen = new Map();
  const queue = [m.initial()];
  seen.set(m.key(queue[0]), 0);
  let transitions = 0;
  const rules = new Set();
  for (let i = 0; i < queue.length; i++) {
    if (queue.length > max) return { states: queue.length, transitions, rules, complete: false };
    const s = queue[i];
    let live = 0;
    for (let t = 0; t < m.threads.length; t++) {
      const info = m.next(s, t);
      if (!info) continue;
      live++;
      if (!info.enabled) continue;
      const r = m.step(s, t);
      transitions++;
      for (const v of r.violations) rules.add(v.rule);
      const k = m.key(r.state);
      if (!seen.has(k)) {
        seen.set(k, queue.length);
        queue.push(r.state);
      }
    }
    if (live === 0) for (const v of m.final(s)) rules.add(v.rule);
  }
  return { states: queue.length, transitions, rules, complete: true };
}

export default async function (args) {
  const filter = args[0] ?? '';
  const max = Number(args[1] ?? 400000);
  const files = readdirSync(path.join(root, 'fixtures/scenarios'))
    .filter((f) => f.endsWith('.yaml') && f.includes(filter))
    .sort();
  for (const f of files) {
    const sc = await loadScenario(path.join(root, 'fixtures/scenarios', f));
    // The flavors the scenario's expectations name (built-ins only), else every built-in.
    const named = Object.keys(sc.expect ?? {}).filter((k) => listFlavors().some((f) => f.name === k));
    for (const name of named.length ? named : listFlavors().map((f) => f.name)) {
      const m = createMachine(sc, await resolveFlavor(name));
      const t0 = performance.now();
      const r = bfs(m, max);
      const s = (performance.now() - t0) / 1000;
      const verdict = r.complete ? `safety: ${[...r.rules].sort().join(',') || 'clean'}` : `incomplete (> ${max} states)`;
      console.log(
        `${sc.name.padEnd(44)} ${name.padEnd(26)} states ${String(r.states).padStart(8)}  transitions ${String(r.transitions).padStart(8)}  ${s.toFixed(2).padStart(7)} s  ${Math.round(
          r.states / s,
        )
          .toString()
          .padStart(7)} states/s  ${verdict}`,
      );
    }
  }
}
