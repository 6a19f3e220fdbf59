// A Machine factory the parallel explorer's workers import in tests: a scenario file and a
// flavor (name or module path), loaded with the built mm-model.
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
