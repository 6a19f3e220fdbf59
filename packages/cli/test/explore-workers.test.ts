/**
 * `kreplay explore --workers N` reports an error a flavor module's code throws on a worker
 * thread as it reports it from the one-thread search: a ModelBug is an input error naming the
 * module, exit 2, with the same message. The CLI hands a search to the workers past 400,000
 * states; here the library's `handoverStates` does it after a few levels of a small graph, and
 * the error goes through the explore command's own mapping (`moduleBug`) and is printed as the
 * command prints an input error — the text a spawned `kreplay explore --workers 1` prints.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Machine } from '@kreplay/core';
import { isInputError } from '@kreplay/core';
import { exploreOnCores } from '@kreplay/explore';
import { createMachine, loadScenario, resolveFlavor } from '@kreplay/mm-model';
import { moduleBug, progressLine } from '../src/commands/explore.js';
import { repoRoot, runCli } from './run-cli.js';

const dir = mkdtempSync(path.join(tmpdir(), 'kreplay-explore-workers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The multipage scenario naming a flavor module beside it, whose fault path, once the O_DIRECT
// write has returned (past the first few thousand states), reads a local nobody set: a ModelBug
// whose message names the thread and the state, so which one a search meets first shows.
const mod = path.join(dir, 'deep-bug.mjs');
writeFileSync(
  mod,
  `export default (kit) => {
  const base = kit.flavors['linux-2.6.15'];
  const ptl = base.procs.do_no_page.steps.ptl;
  return kit.extendFlavor(base, { name: 'deep-bug', description: 'a ModelBug deep in the search',
    steps: { do_no_page: { ptl: { ...ptl, run: (c) => {
      if (c.state.threads[2].frames.length === 0) c.num(\`never_set_by_T\${c.tid}_ptes_\${JSON.stringify(c.state.ptes)}\`);
      ptl.run(c);
    } } } } });
};
`,
);
const scenario = path.join(dir, 'multipage.yaml');
writeFileSync(
  scenario,
  readFileSync(path.join(repoRoot, 'fixtures/scenarios/odirect-vs-fault-multipage.yaml'), 'utf8').replace(/^flavor: .*$/m, 'flavor: ./deep-bug.mjs'),
);

/** What `kreplay explore` prints and exits with for the error a search on `workers` threads throws (base.ts catch: an input error). */
async function reported(machine: Machine<unknown>, workers: number, handoverStates?: number): Promise<{ stderr: string; exitCode: number }> {
  // the source the explore command gives its workers (the built CLI's explore-machine.js)
  const source = { module: path.join(repoRoot, 'packages/cli/dist/explore-machine.js'), name: 'exploreMachine', args: { scenario, flavor: mod } };
  const e = await exploreOnCores(machine, source, workers, handoverStates === undefined ? {} : { handoverStates, workersFromStates: handoverStates }).then(
    () => new Error('no error'),
    (x: unknown) => moduleBug(x, 'deep-bug', mod),
  );
  if (!isInputError(e)) return { stderr: `not an input error: ${String(e)}`, exitCode: -1 };
  return { stderr: `error: ${e.describe()}\n`, exitCode: e.exitCode };
}

describe('kreplay explore --workers: errors from flavor modules', () => {
  it('a ModelBug thrown on a worker thread is reported as from one thread: the same message, exit 2', async () => {
    const cli = await runCli(['explore', scenario, '--allow-scenario-code', '--workers', '1']);
    expect(cli.exitCode).toBe(2);
    expect(cli.stderr).toMatch(
      /^error: \S+deep-bug\.mjs: flavor module deep-bug broke the model's rules: local never_set_by_T\d_ptes_\S+ is not a number in do_no_page@ptl/,
    );
    expect(cli.stdout).toBe('');
    const machine = createMachine(await loadScenario(scenario), await resolveFlavor(mod)) as Machine<unknown>;
    const one = await reported(machine, 1);
    expect(one).toEqual({ stderr: cli.stderr, exitCode: 2 });
    for (const [workers, at] of [
      [2, 1],
      [2, 500],
      [3, 100],
    ] as const) {
      expect([workers, at, await reported(machine, workers, at)]).toEqual([workers, at, one]);
    }
  });
});

describe('kreplay explore --workers: a scenario edited during the search', () => {
  it('a worker that reads another scenario than the search began with refuses to search it', async () => {
    // the workers read the scenario file again when the search is handed to them (past 300,000
    // states on the command line): an edit in between used to make them search the edited one
    const file = path.join(dir, 'edited.yaml');
    const text = readFileSync(path.join(repoRoot, 'fixtures/scenarios/truncate-vs-fault.yaml'), 'utf8');
    writeFileSync(file, text);
    const scenario = await loadScenario(file);
    const flavor = await resolveFlavor('linux-2.6.15');
    const machine = createMachine(scenario, flavor) as Machine<unknown>;
    // the digest as the worker threads compute it: on the built model (this test's is its sources, which digest otherwise)
    const built = (await import(path.join(repoRoot, 'packages/mm-model/dist/index.js'))) as typeof import('@kreplay/mm-model');
    const identity = built.modelIdentity(await built.loadScenario(file), await built.resolveFlavor('linux-2.6.15'));
    const source = { module: path.join(repoRoot, 'packages/cli/dist/explore-machine.js'), name: 'exploreMachine', args: { scenario: file, identity } };
    const at = { handoverStates: 20, workersFromStates: 20 };
    // unedited, the workers search on
    await expect(exploreOnCores(machine, source, 2, at)).resolves.toMatchObject({ verdict: 'clean' });
    writeFileSync(file, text.replace('size: 0 }', 'size: 4096 }'));
    await expect(exploreOnCores(machine, source, 2, at)).rejects.toThrow(/edited\.yaml changed while the search ran/);
  });
});

describe('the progress line', () => {
  it('says the distinct states alone on the workers, which count executions and states only at the end', () => {
    // it read "exploring: 0 executions, 0 states (2085492 distinct), 14.9 s" on --workers 2
    expect(progressLine({ distinctStates: 2_085_492, elapsedMs: 14_900 })).toBe('exploring: 2085492 distinct states on the workers, 14.9 s');
    expect(progressLine({ executions: 31, states: 5_600_256, distinctStates: 2_097_257, elapsedMs: 15_700 })).toBe(
      'exploring: 31 executions, 5600256 states (2097257 distinct), 15.7 s',
    );
  });
});
