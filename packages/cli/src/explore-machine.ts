/**
 * How `kreplay explore --workers N` builds its Machine again inside each worker thread (a
 * Machine's step programs cannot be sent to a thread): the scenario file and the flavor, as
 * the command resolved them — read again, minutes into a search, so each worker checks that
 * what it read is what the command searched (`identity`).
 */
import type { Machine } from '@kreplay/core';
import { createMachine, loadScenario, modelIdentity, resolveFlavor } from '@kreplay/mm-model';

export interface ExploreMachineArgs {
  scenario: string;
  /** A built-in flavor name or a flavor module path; the scenario's own flavor when absent. */
  flavor?: string | undefined;
  /** modelIdentity of what the command loaded: a worker that reads another model refuses to search it. */
  identity?: string | undefined;
}

export async function exploreMachine(a: ExploreMachineArgs): Promise<Machine<unknown>> {
  const scenario = await loadScenario(a.scenario);
  const flavor = await resolveFlavor(a.flavor ?? scenario.flavor);
  if (a.identity !== undefined && modelIdentity(scenario, flavor) !== a.identity) {
    // an edited scenario or flavor module: the workers' part of the search would be another model's
    throw new Error(
      `${a.scenario}${a.flavor !== undefined ? ` or ${a.flavor}` : ''} changed while the search ran: a worker would search another model than the one the search began with (run the command again)`,
    );
  }
  return createMachine(scenario, flavor) as Machine<unknown>;
}
