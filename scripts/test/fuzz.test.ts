// The fuzz harness's quick run, in process: a fixed seed, a few hundred mutated inputs over the
// readers behind every edge scripts/fuzz.mjs drives through the built CLI. Each reader must
// return or throw the project's typed errors (InputError, exit 2; EnvironmentError) — never a
// TypeError, a RangeError or any other error the CLI would print as an internal error (exit 70).
// The long run is `node scripts/fuzz.mjs --seed N --cases N` (DEVELOPERS.md, "Fuzzing").
import { describe, expect, it } from '@jest/globals';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EnvironmentError, InputError, parseProbeMap } from '@kreplay/core';
import { parseScheduleFile } from '@kreplay/explore';
import { loadCiConfig } from '@kreplay/pipeline';
import { parseLitmus } from '@kreplay/lkmm';
import { parseScenario } from '@kreplay/mm-model';
import { replayFile } from '@kreplay/replay';
import { scanReportFile, triage } from '@kreplay/triage';
// @ts-expect-error: a plain ESM script without type declarations
import { caseSeed, datBoundaries, fixtureFiles, inEachDir, mutate, rng } from '../fuzz-mutate.mjs';

type Mutation = { data: Buffer; what: string; damaged: boolean };
type Rng = { next(): number; int(n: number): number; pick<T>(xs: T[]): T };
const mutateWith = mutate as (buf: Buffer, r: Rng, kind: string, boundaries?: number[], opts?: { small?: boolean }) => Mutation;
const seeded = (edge: string, k: number): Rng => (rng as (s: number) => Rng)((caseSeed as (s: number, e: string, k: number) => number)(SEED, edge, k));

// KREPLAY_FUZZ_SEED and KREPLAY_FUZZ_SCALE (cases times N) search further in process.
const SEED = Number(process.env.KREPLAY_FUZZ_SEED ?? 20261207);
const SCALE = Number(process.env.KREPLAY_FUZZ_SCALE ?? 1);
const ROOT = path.resolve(import.meta.dirname, '../..');
const rel = (...p: string[]) => path.join(ROOT, ...p);
const ls = (dir: string, re: RegExp): string[] => (fixtureFiles as (root: string, dir: string, re: RegExp) => string[])(ROOT, dir, re);
const inDirs = (dir: string, name: string): string[] => (inEachDir as (root: string, dir: string, name: string) => string[])(ROOT, dir, name);

const ENGINE_TEXT = /\b(TypeError|RangeError|ReferenceError|SyntaxError|Maximum call stack|heap out of memory|is not a function|of undefined|of null)\b/;

/** Run `read` on a mutated input: it may succeed or throw a typed error; anything else is the bug. */
async function survives(what: string, read: () => Promise<unknown> | unknown): Promise<string | undefined> {
  try {
    await read();
    return undefined;
  } catch (e) {
    // a typed error that words a JS engine failure ("not valid YAML/JSON: Maximum call stack size exceeded") is no clear error either
    if ((e instanceof InputError || e instanceof EnvironmentError) && !ENGINE_TEXT.test(e.message)) return undefined;
    return `${what}: ${e instanceof Error ? `${e.constructor.name}: ${e.message}\n${e.stack?.split('\n').slice(1, 4).join('\n')}` : String(e)}`;
  }
}

interface Edge {
  kind: 'binary' | 'text' | 'json' | 'yaml';
  files: string[];
  cases: number;
  read: (file: string, src: string, dir: string) => Promise<unknown> | unknown;
  name?: (src: string) => string;
}

const EDGES: Record<string, Edge> = {
  dat: { kind: 'binary', files: ls('fixtures/dat', /\.dat$/), cases: 60, read: (f) => replayFile(f) },
  ftrace: {
    kind: 'text',
    files: [...ls('fixtures/parser', /\.trace$/), ...inDirs('fixtures/replay', 'trace.txt')],
    cases: 60,
    read: (f) => replayFile(f),
  },
  perf: { kind: 'text', files: ls('fixtures/parser', /^perf-script.*\.txt$/), cases: 30, read: (f) => replayFile(f) },
  meta: {
    kind: 'json',
    files: inDirs('fixtures/replay', 'meta.json'),
    cases: 30,
    name: () => 'meta.json',
    read: (_f, src, dir) => {
      copyFileSync(path.join(path.dirname(src), 'trace.txt'), path.join(dir, 'trace.txt'));
      return replayFile(path.join(dir, 'trace.txt'));
    },
  },
  probes: { kind: 'yaml', files: ls('kernel-configs/probes', /\.yaml$/), cases: 20, read: (f) => parseProbeMap(readFileSync(f, 'utf8'), f) },
  triage: {
    kind: 'text',
    files: inDirs('fixtures/reports', 'report.txt'),
    cases: 30,
    read: async (f) => triage(await scanReportFile(f), { model: false }),
  },
  scenario: { kind: 'yaml', files: ls('fixtures/scenarios', /\.yaml$/), cases: 30, read: (f) => parseScenario(readFileSync(f, 'utf8'), f) },
  schedule: { kind: 'text', files: [rel('fixtures/parser/kreplay-explore.trace')], cases: 20, read: (f) => parseScheduleFile(readFileSync(f, 'utf8'), f) },
  config: { kind: 'json', files: [rel('kreplay.config.example.json')], cases: 30, read: (f) => loadCiConfig(f) },
  litmus: {
    kind: 'text',
    files: readdirSync(rel('fixtures/litmus'))
      .sort()
      .flatMap((d) => ls(path.join('fixtures/litmus', d), /\.litmus$/)),
    cases: 30,
    read: (f) => parseLitmus(readFileSync(f, 'utf8'), f),
  },
};

describe(`fuzz (seed ${SEED}): every reader answers damaged input with a typed error`, () => {
  it.each(Object.keys(EDGES))(
    '%s',
    async (name) => {
      const edge = EDGES[name]!;
      expect(edge.files.length).toBeGreaterThan(0);
      const failures: string[] = [];
      for (let k = 0; k < edge.cases * SCALE; k++) {
        const r = seeded(name, k);
        const src = r.pick(edge.files);
        const bytes = readFileSync(src);
        const m = mutateWith(bytes, r, edge.kind, edge.kind === 'binary' ? (datBoundaries as (b: Buffer) => number[])(bytes) : [], { small: true });
        const dir = mkdtempSync(path.join(tmpdir(), 'kreplay-fuzz-'));
        const file = path.join(dir, edge.name?.(src) ?? path.basename(src));
        writeFileSync(file, m.data);
        const failed = await survives(`case ${k} (${path.relative(ROOT, src)}; ${m.what})`, () => edge.read(file, src, dir));
        if (failed !== undefined) failures.push(failed);
        rmSync(dir, { recursive: true, force: true });
      }
      expect(failures).toEqual([]);
    },
    120_000 * SCALE,
  );
});
