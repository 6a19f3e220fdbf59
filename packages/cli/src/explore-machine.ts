/**
 * How `kreplay explore --workers N` builds its Machine again inside each worker thread (a
 * Machine's step programs cannot be sent to a thread): the scenario file and the flavor, as
 * the command resolved them — read again, minutes into a search, so each worker checks that
 * what it read is what the command searched (`identity`).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { InputError, type Machine } from '@kreplay/core';
import { createMachine, listFlavors, loadScenario, modelIdentity, resolveFlavor } from '@kreplay/mm-model';

export interface ExploreMachineArgs {
  scenario: string;
  /** A built-in flavor name or a flavor module path; the scenario's own flavor when absent. */
  flavor?: string | undefined;
  /** modelIdentity of what the command loaded: a worker that reads another model refuses to search it. */
  identity?: string | undefined;
}

/**
 * The flavor a scenario file names. A built-in name is data; a module path is code, which a
 * scenario (untrusted input: a file from a bug report, a CI artifact) may load only with
 * --allow-scenario-code, and then relative to the scenario file, never to the working folder.
 */
export async function scenarioFlavor(file: string, flavor: string | undefined, allowCode: boolean): Promise<string> {
  if (flavor === undefined) throw noFlavor(file);
  if (listFlavors().some((f) => f.name === flavor)) return flavor;
  const line =
    (await readFile(file, 'utf8').then(
      (t) => t.split('\n').findIndex((l) => /^\s*"?flavor"?\s*:/.test(l)) + 1,
      () => 0,
    )) || undefined;
  const looksLikePath = /[\\/]/.test(flavor) || /\.m?js$/.test(flavor);
  if (!looksLikePath) return flavor; // an unknown name: resolveFlavor says which names exist
  if (!allowCode) {
    throw new InputError(`the scenario names a flavor module (${flavor}): a flavor module is code, and a scenario file does not get to run code`, {
      file,
      line,
      hint: `run it by choice with --flavor ${path.isAbsolute(flavor) ? flavor : path.join(path.dirname(file), flavor)}, or let this scenario load it with --allow-scenario-code; or name a built-in flavor (${listFlavors()
        .map((f) => f.name)
        .join(', ')})`,
    });
  }
  return path.isAbsolute(flavor) ? flavor : path.resolve(path.dirname(file), flavor);
}

/** A scenario without `flavor:` run without `--flavor`: nothing says which kernel to model. */
export function noFlavor(file: string): InputError {
  return new InputError('the scenario names no flavor, and no --flavor was given', {
    file,
    hint: `give --flavor NAME (${listFlavors()
      .map((f) => f.name)
      .join(', ')}), or add a flavor: line to the scenario`,
  });
}

export async function exploreMachine(a: ExploreMachineArgs): Promise<Machine<unknown>> {
  const scenario = await loadScenario(a.scenario);
  const name = a.flavor ?? scenario.flavor;
  if (name === undefined) throw noFlavor(a.scenario);
  const flavor = await resolveFlavor(name);
  if (a.identity !== undefined && modelIdentity(scenario, flavor) !== a.identity) {
    // an edited scenario or flavor module: the workers' part of the search would be another model's
    throw new Error(
      `${a.scenario}${a.flavor !== undefined ? ` or ${a.flavor}` : ''} changed while the search ran: a worker would search another model than the one the search began with (run the command again)`,
    );
  }
  return createMachine(scenario, flavor) as Machine<unknown>;
}
