/**
 * Loading a memory model: the kernel's tools/memory-model files, shipped unchanged under
 * models/linux-<release>/ with a model.json that pins where they come from, or any
 * directory with a linux-kernel.cfg (a newer kernel's tools/memory-model/).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '@kreplay/core';
import type { CatFile, Expr, Pos } from './cat/ast.js';
import { compileModel, type CompiledModel } from './cat/interp.js';
import { parseCat } from './cat/parse.js';
import { parseDef, type Macros } from './litmus/kernel.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The package's models/ folder (next to src/ and dist/). */
export const MODELS_DIR = path.resolve(here, '..', 'models');
const LIB_DIR = path.join(MODELS_DIR, 'lib');

/** The model used when none is named: the newest kernel release shipped. */
export const DEFAULT_MODEL = 'linux-6.12';

export interface ModelInfo {
  name: string;
  /** Kernel release the files come from (e.g. 6.12.117), or null for a user's directory. */
  release: string | null;
  origin: string;
  dir: string;
  /** The files read, in order. */
  files: string[];
}

export interface LoadedModel {
  info: ModelInfo;
  compiled: CompiledModel;
  macros: Macros;
  /**
   * The model checks `empty rmw & (fre ; coe)` (the LKMM's and sc.cat's atomic axiom): a
   * read-modify-write's write then comes right after the write its read reads in co
   * (check.ts enumerates only such orders).
   */
  atomicRmw: boolean;
  /**
   * The grace-period event sets (GRACE_PERIODS) that none of the model's checks depends on:
   * under such a model `synchronize_rcu()` waits for no reader (kreplay's sc.cat, herd7's
   * too). A result on a test that has one says so (LitmusResult.ignoredByModel).
   */
  ignoredGracePeriods: string[];
}

/**
 * The events whose meaning is not ordering but waiting: a grace period ends only after
 * every read-side critical section it overlaps. A model that never refers to their sets
 * (sequential consistency alone, say) gives a test with them a verdict without that wait.
 */
export const GRACE_PERIODS = ['Sync-rcu', 'Sync-srcu'];

export function listModels(): ModelInfo[] {
  return ['linux-6.1', 'linux-6.12'].map((n) => readInfo(path.join(MODELS_DIR, n)));
}

function readInfo(dir: string): ModelInfo {
  const metaPath = path.join(dir, 'model.json');
  if (existsSync(metaPath)) {
    // kreplay's record of where a model's files came from; in a `--model DIR` it is the user's file
    const hint = "a model.json holds {name, release, origin, files}, as kreplay's shipped models do; remove it to use the directory's files without one";
    let meta: unknown;
    try {
      meta = JSON.parse(readFileSync(metaPath, 'utf8'));
    } catch (e) {
      throw new InputError(`not valid JSON: ${(e as Error).message}`, { file: metaPath, hint });
    }
    const m = meta as { name?: unknown; release?: unknown; origin?: unknown; files?: unknown };
    const text = (v: unknown): v is string => typeof v === 'string';
    if (
      typeof meta !== 'object' ||
      meta === null ||
      Array.isArray(meta) ||
      !text(m.name) ||
      !text(m.release) ||
      !text(m.origin) ||
      typeof m.files !== 'object' ||
      m.files === null ||
      Array.isArray(m.files)
    )
      throw new InputError(`not a model record: it needs the strings name, release and origin and the object files`, { file: metaPath, hint });
    return { name: m.name, release: m.release, origin: m.origin, dir, files: Object.keys(m.files) };
  }
  return { name: path.basename(dir), release: null, origin: dir, dir, files: [] };
}

const cache = new Map<string, LoadedModel>();

/**
 * A shipped model by name (linux-6.1, linux-6.12, or 6.1/6.12), or a directory holding
 * linux-kernel.cfg and the files it names.
 */
export function loadModel(nameOrDir: string = DEFAULT_MODEL): LoadedModel {
  const short = /^(?:linux-)?(6\.1|6\.12)$/.exec(nameOrDir);
  const dir = short ? path.join(MODELS_DIR, `linux-${short[1]}`) : path.resolve(nameOrDir);
  const hit = cache.get(dir);
  if (hit) return hit;
  const cfgPath = path.join(dir, 'linux-kernel.cfg');
  if (!existsSync(cfgPath)) {
    throw new InputError(`no memory model "${nameOrDir}": ${cfgPath} does not exist`, {
      hint: "name a shipped model (linux-6.1, linux-6.12) or a directory such as a kernel tree's tools/memory-model/",
    });
  }
  const cfg = readFileSync(cfgPath, 'utf8');
  const entry = (key: string): string => {
    const m = new RegExp(`^${key}\\s+(\\S+)`, 'm').exec(cfg);
    if (!m) throw new InputError(`${key} is not set in ${cfgPath}`, { file: cfgPath, hint: 'linux-kernel.cfg names the macros, bell and model files' });
    return m[1]!;
  };
  const info = readInfo(dir);
  const read = (name: string): [string, string] => {
    for (const d of [dir, LIB_DIR]) {
      const p = path.join(d, name);
      if (existsSync(p)) return [p, readFileSync(p, 'utf8')];
    }
    throw new InputError(`the model includes ${name}, which is in neither ${dir} nor kreplay's model library`, {
      hint: 'kreplay provides stdlib.cat, cross.cat and cos-opt.cat; other herd7 library files are not supported',
    });
  };
  const files: string[] = [];
  const parsed: CatFile[] = [];
  const parseFile = (name: string): CatFile => {
    const [p, text] = read(name);
    files.push(p);
    const file = parseCat(text, p);
    parsed.push(file);
    return file;
  };
  const [defPath, defText] = read(entry('macros'));
  files.push(defPath);
  const macros = parseDef(defText, defPath);
  const prelude = parseFile('stdlib.cat');
  const bell = parseFile(entry('bell'));
  const cat = parseFile(entry('model'));
  const compiled = compileModel([prelude, bell, cat], { include: (name: string, _from: Pos) => parseFile(name) }, () => false);
  const checked = checkedNatives(compiled);
  const loaded: LoadedModel = {
    info: { ...info, files },
    compiled,
    macros,
    atomicRmw: parsed.some(checksAtomicRmw),
    ignoredGracePeriods: GRACE_PERIODS.filter((set) => !checked.has(set)),
  };
  cache.set(dir, loaded);
  return loaded;
}

/** "Linux 6.12.117 tools/memory-model" or the directory, for reports. */
export function describeModel(info: ModelInfo): string {
  return info.release ? `Linux ${info.release} tools/memory-model (${info.name})` : `${info.dir}`;
}

/**
 * The native sets (event sets such as Sync-rcu) that the model's checks and `with`
 * enumerations depend on, through every `let` they read: flags, which reject no execution,
 * do not count.
 */
export function checkedNatives(compiled: CompiledModel): Set<string> {
  const needed = new Set<number>();
  for (const s of compiled.stmts) if ((s.t === 'test' && s.mode === 'check') || s.t === 'with') for (const r of s.refs) needed.add(r);
  // lets read only slots bound before them (a recursive let reads its own): one backward pass
  for (let k = compiled.stmts.length - 1; k >= 0; k--) {
    const s = compiled.stmts[k]!;
    if (s.t === 'let' && s.slots.some((slot) => needed.has(slot))) for (const r of s.refs) needed.add(r);
  }
  return new Set([...compiled.natives].filter(([, slot]) => needed.has(slot)).map(([name]) => name));
}

/** Does the file check, unconditionally, `empty rmw & (fre ; coe)`? */
function checksAtomicRmw(file: CatFile): boolean {
  const v = (e: Expr, name: string): boolean => e.t === 'var' && e.name === name;
  return file.stmts.some(
    (s) =>
      s.t === 'test' &&
      s.mode === 'check' &&
      !s.neg &&
      s.kind === 'empty' &&
      s.e.t === 'op2' &&
      s.e.op === 'inter' &&
      v(s.e.a, 'rmw') &&
      s.e.b.t === 'op2' &&
      s.e.b.op === 'seq' &&
      v(s.e.b.a, 'fre') &&
      v(s.e.b.b, 'coe'),
  );
}
