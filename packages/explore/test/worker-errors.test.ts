/**
 * `--workers N`: an error the machine's code throws on a worker thread (a flavor module's
 * ModelBug, an InputError with its file, line and hint, any other error) reaches the caller as
 * the one-core search throws it — the same kind and message, the one that search meets first
 * whichever worker is quickest — so the CLI reports it alike (same message, same exit code). A
 * worker thread that dies is an environment error: never a hang, never a verdict.
 *
 * The graphs are small: `handoverStates` hands the search over to the workers after a few
 * levels (the CLI does past SINGLE_CORE_STATES), before any state that throws.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Machine } from '@kreplay/core';
import { isEnvironmentError, isInputError } from '@kreplay/core';
import { createMachine, loadScenario, resolveFlavor } from '@kreplay/mm-model';
import { explore, exploreOnCores, type MachineSource } from '../src/index.js';
import { root } from './shipped.js';

const scenario = path.join(root, 'fixtures/scenarios/odirect-vs-fault-multipage.yaml');
const support = fileURLToPath(new URL('./support/machine-source.mjs', import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), 'kreplay-worker-errors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A flavor module whose fault path, once the O_DIRECT write (the last thread) has returned, runs
 * `body` at do_no_page's PTE lock: in the first 3,000 states of the multipage scenario it never
 * does (below), past them on many states of a level.
 */
function module(name: string, body: string): string {
  const file = path.join(dir, `${name}.mjs`);
  writeFileSync(
    file,
    `import { isMainThread } from 'node:worker_threads';
export default (kit) => {
  const base = kit.flavors['linux-2.6.15'];
  const ptl = base.procs.do_no_page.steps.ptl;
  return kit.extendFlavor(base, { name: '${name}', description: 'a step that fails deep in the search',
    steps: { do_no_page: { ptl: { ...ptl, run: (c) => {
      if (c.state.threads[2].frames.length === 0) { ${body} }
      ptl.run(c);
    } } } } });
};
`,
  );
  return file;
}

/** A ModelBug whose message names the thread and the state's PTEs: the least of a level's differs from the others. */
const modelBug = module('deep-model-bug', 'c.num(`never_set_by_T${c.tid}_ptes_${JSON.stringify(c.state.ptes)}`);');

async function flavorCase(flavor: string): Promise<{ machine: Machine<unknown>; source: MachineSource }> {
  const machine = createMachine(await loadScenario(scenario), await resolveFlavor(flavor)) as Machine<unknown>;
  return { machine, source: { module: support, name: 'machine', args: { scenario, flavor } } };
}

/** What the CLI reports of an error (base.ts catch, the explore command's moduleBug): its kind by name, message, file, line, hint. */
async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    (r) => ({ resolved: r }),
    (e: Error & { file?: string; line?: number; hint?: string }) => ({
      name: e.name,
      message: e.message,
      file: e.file,
      line: e.line,
      hint: e.hint,
      input: isInputError(e),
      environment: isEnvironmentError(e),
    }),
  );
}

/** Workers and the state count they take over at: 2 and 3 workers, after the first level and a few later ones. */
const SPLITS = [
  [2, 1],
  [2, 300],
  [3, 50],
  [3, 1_000],
] as const;

describe('errors on worker threads', () => {
  it("a flavor module's ModelBug deep in the search: the one-core search's error, for any workers and handover", async () => {
    const { machine, source } = await flavorCase(modelBug);
    // nothing fails in the states the one-thread search takes before any handover here
    expect((await explore(machine, { maxStates: 3_000 })).incomplete).toEqual(['max-states']);
    const one = await failure(exploreOnCores(machine, source, 1));
    expect(one).toMatchObject({ name: 'ModelBug', message: expect.stringMatching(/^local never_set_by_T\d_ptes_\S+ is not a number in do_no_page@ptl/) });
    for (const [workers, at] of SPLITS) {
      expect([workers, at, await failure(exploreOnCores(machine, source, workers, { handoverStates: at, workersFromStates: at }))]).toEqual([workers, at, one]);
    }
  });

  it.each([['input'], ['type']])('an error of kind %s thrown on a worker keeps its kind, message, file, line and hint', async (kind) => {
    const source = { module: support, name: 'throwing', args: { scenario, flavor: 'linux-2.6.15', kind } };
    const { throwing } = (await import(support)) as { throwing: (a: unknown) => Promise<Machine<unknown>> };
    const machine = await throwing(source.args);
    const one = await failure(exploreOnCores(machine, source, 1));
    expect(one).toMatchObject(
      kind === 'input'
        ? { name: 'InputError', input: true, file: 'made-up.yaml', line: 7, hint: 'a hint' }
        : { name: 'TypeError', input: false, environment: false },
    );
    for (const [workers, at] of SPLITS) {
      expect([workers, at, await failure(exploreOnCores(machine, source, workers, { handoverStates: at, workersFromStates: at }))]).toEqual([workers, at, one]);
    }
  });

  it.each([
    ['exits', 'process.exit(7)', /explorer worker failed: its thread exited in the middle of the search \(exit code 7/],
    ['throws outside any step', 'setImmediate(() => { throw new Error("thrown later") })', /explorer worker failed: thrown later/],
  ])('a worker thread whose module code %s is an environment error, not a hang or a verdict', async (name, body, message) => {
    // on worker threads only: on this thread (worker 0, and the one-core search) it would end the test run
    const { machine, source } = await flavorCase(module(`dies-${name.replace(/ /g, '-')}`, `if (!isMainThread) ${body};`));
    expect(await failure(exploreOnCores(machine, source, 1))).toMatchObject({ resolved: { verdict: 'violation' } });
    for (const [workers, at] of SPLITS) {
      const r = await failure(exploreOnCores(machine, source, workers, { handoverStates: at, workersFromStates: at }));
      expect(r).toMatchObject({ environment: true, message: expect.stringMatching(message) });
    }
  });
});
