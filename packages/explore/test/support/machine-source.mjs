// A Machine factory the parallel explorer's workers import in tests: a scenario file and a
// flavor (name or module path), loaded with the built mm-model.
import { InputError } from '../../../core/dist/index.js';
import { createMachine, loadScenario, resolveFlavor } from '../../../mm-model/dist/index.js';

export async function machine({ scenario, flavor }) {
  const sc = await loadScenario(scenario);
  return createMachine(sc, await resolveFlavor(flavor ?? sc.flavor));
}

// The same machine without `exchange`: its states cannot travel between workers as words.
export async function withoutExchange(args) {
  const m = await machine(args);
  return { ...m, exchange: undefined };
}

// The machine whose steps throw once the scenario's last thread has finished (deep in the
// search, and on many states of a level): an InputError with a file, line and hint
// (`kind: 'input'`), else a TypeError; each message names the state and thread, so which one
// a search meets first shows. Every way of running a step throws alike: `step`, `advance`, and
// the step memo's `places.advanceNoting` (a search runs a step it cannot reuse through it).
export async function throwing({ kind, ...args }) {
  const m = await machine(args);
  const last = m.threads.length - 1;
  const failing = (run) => (s, t) => {
    if (s.threads[last].frames.length === 0) {
      const what = `T${t} where the PTEs are ${JSON.stringify(s.ptes)}`;
      throw kind === 'input' ? new InputError(`no step for ${what}`, { file: 'made-up.yaml', line: 7, hint: 'a hint' }) : new TypeError(`cannot step ${what}`);
    }
    return run(s, t);
  };
  const places = m.stepMemo?.places;
  const stepMemo = places && { ...m.stepMemo, places: { cut: places.cut.bind(places), advanceNoting: failing(places.advanceNoting.bind(places)) } };
  return { ...m, step: failing(m.step.bind(m)), advance: failing(m.advance.bind(m)), ...(stepMemo ? { stepMemo } : {}) };
}
