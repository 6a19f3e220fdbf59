/**
 * Checking many litmus files, in this thread or in worker threads, with results handed
 * back in the order of the files (so output is the same whatever the number of workers).
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { decodeInputText, InputError, isInputError, readErrorWhy } from '@kreplay/core';
import { checkLitmus, CheckTimeout, type LitmusResult } from './check.js';
import type { CStmt, LitmusTest } from './litmus/ast.js';
import { parseLitmus } from './litmus/parse.js';
import { loadModel } from './model.js';

export interface FileJob {
  file: string;
  /** Model name or directory (loadModel). */
  model: string;
  /** Give up on one test after this long (0: never). */
  timeoutMs: number;
}

/**
 * Most statements a litmus file may hold. Every execution's relations are n×n over its events and
 * the model composes them (n³ work), with --timeout looked at between those steps: a test of 4848
 * reads ran for minutes under --timeout 10s. Litmus tests are a few dozen lines; the tests
 * explore --memory-model lkmm derives are bounded by the reader's nesting limit instead.
 */
export const MAX_STATEMENTS = 1000;

function statements(s: CStmt): number {
  if (s.t === 'block') return s.body.reduce((n, x) => n + statements(x), 0);
  if (s.t === 'if') return 1 + statements(s.then) + (s.else ? statements(s.else) : 0);
  if (s.t === 'while') return 1 + statements(s.body);
  return 1;
}

function checkSize(test: LitmusTest, file: string): void {
  const n = test.threads.reduce((t, th) => t + th.body.reduce((k, s) => k + statements(s), 0), 0);
  if (n > MAX_STATEMENTS)
    throw new InputError(`the test has ${n} statements; kreplay checks tests of at most ${MAX_STATEMENTS} (a litmus test is a few dozen lines)`, {
      file,
      line: test.threads[0]?.line,
      hint: "the checker's work grows with the cube of an execution's events: cut the test down to the accesses the question is about",
    });
}

export type FileOutcome =
  | { file: string; ok: true; result: LitmusResult }
  | { file: string; ok: false; error: { kind: 'input' | 'timeout' | 'internal'; message: string; line?: number; hint?: string; stack?: string } };

export async function checkFile(job: FileJob): Promise<FileOutcome> {
  try {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(job.file);
    } catch (e) {
      return {
        file: job.file,
        ok: false,
        error: { kind: 'input', message: `cannot read ${job.file}: ${readErrorWhy(e)}`, hint: 'check the path and its permissions' },
      };
    }
    const text = decodeInputText(bytes, job.file, { what: 'the litmus test', hint: "a litmus test in the kernel's C litmus format" });
    const model = loadModel(job.model);
    const test = parseLitmus(text, job.file);
    checkSize(test, job.file);
    return { file: job.file, ok: true, result: checkLitmus(test, model, { timeoutMs: job.timeoutMs }) };
  } catch (e) {
    if (e instanceof CheckTimeout)
      return {
        file: job.file,
        ok: false,
        error: { kind: 'timeout', message: `no verdict: ${e.message}`, hint: 'raise --timeout (herd7 also takes minutes on some lock-heavy tests)' },
      };
    if (isInputError(e)) return { file: job.file, ok: false, error: { kind: 'input', message: e.message, line: e.line, hint: e.hint } };
    const err = e instanceof Error ? e : new Error(String(e));
    return { file: job.file, ok: false, error: { kind: 'internal', message: err.message, stack: err.stack } };
  }
}

/** The compiled worker script (dist/worker.js, also when this module runs from src/ under a test runner). */
function workerUrl(): URL {
  const own = new URL('./worker.js', import.meta.url);
  if (existsSync(fileURLToPath(own))) return own;
  return new URL('../dist/worker.js', import.meta.url);
}

/**
 * Checks the files with `jobs` workers (1: in this thread) and yields the outcomes in file
 * order. A worker that dies is an internal error for its file; the others go on.
 */
export async function* checkFiles(files: string[], opts: { model: string; timeoutMs: number; jobs: number }): AsyncGenerator<FileOutcome> {
  if (opts.jobs <= 1 || files.length <= 1) {
    for (const file of files) yield await checkFile({ file, model: opts.model, timeoutMs: opts.timeoutMs });
    return;
  }
  const done = new Map<number, FileOutcome>();
  let wake: (() => void) | null = null;
  let next = 0;
  const workers: Worker[] = [];
  const assign = (w: Worker): void => {
    if (next >= files.length) {
      void w.terminate();
      return;
    }
    const id = next++;
    (w as Worker & { current?: number }).current = id;
    w.postMessage({ id, job: { file: files[id]!, model: opts.model, timeoutMs: opts.timeoutMs } satisfies FileJob });
  };
  const finish = (id: number, o: FileOutcome): void => {
    done.set(id, o);
    wake?.();
  };
  const spawn = (): void => {
    const w = new Worker(workerUrl());
    workers.push(w);
    w.on('message', (m: { id: number; outcome: FileOutcome }) => {
      finish(m.id, m.outcome);
      assign(w);
    });
    // a worker that dies is an internal error for its file; a new one takes the rest
    w.on('error', (e) => {
      const id = (w as Worker & { current?: number }).current;
      if (id !== undefined && !done.has(id))
        finish(id, { file: files[id]!, ok: false, error: { kind: 'internal', message: `worker failed: ${e.message}`, stack: e.stack } });
      spawn();
    });
    assign(w);
  };
  for (let k = 0; k < Math.min(opts.jobs, files.length); k++) spawn();
  try {
    for (let id = 0; id < files.length; id++) {
      while (!done.has(id)) await new Promise<void>((resolve) => (wake = resolve));
      const o = done.get(id)!;
      done.delete(id);
      yield o;
    }
  } finally {
    for (const w of workers) void w.terminate();
  }
}
