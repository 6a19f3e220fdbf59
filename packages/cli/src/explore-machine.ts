/**
 * How `kreplay explore --workers N` builds its Machine again inside each worker thread (a
 * Machine's step programs cannot be sent to a thread): the scenario file and the flavor, as
 * the command resolved them.
 */
import type { Machine } from '@kreplay/core';
import { createMachine, loadScenario, resolveFlavor } from '@kreplay/mm-model';

export interface ExploreMachineArgs {
  scenario: string;
  /** A built-in flavor name or a flavor module path; the scenario's own flavor when absent. */
  flavor?: string | undefined;
}

export async function exploreMachine(a: ExploreMachineArgs): Promise<Machine<unknown>> {
  const scenario = await loadScenario(a.scenario);
  return createMachine(scenario, await resolveFlavor(a.flavor ?? scenario.flavor)) as Machine<unknown>;
}
