/**
 * createMachine: one scenario on one flavor, behind the explorer's `Machine` contract.
 * Builds the static environment and the initial state from the scenario, then runs the
 * flavor's steps. Scenario-agnostic and flavor-agnostic.
 */
import { InputError } from '@kreplay/core';
import { THREAD_BLOCKED, THREAD_DONE, THREAD_ENABLED } from '@kreplay/core';
import type { Machine, ModelViolation, StepInfo, StepMemo, StepOutcome, StepResult, ThreadInfo, ThreadReadiness, WordExchange } from '@kreplay/core';
import type { Flavor } from './flavor.js';
import { ArgError, type StepDef } from './program.js';
import { Ctx, ModelBug, sortLocals } from './ctx.js';
import { mappedBeyondEofAtEnd, staleAtEnd } from './invariants.js';
import { alreadyCanonical, canonicalData, dataTag, tagText, untrackData } from './data.js';
import { StateEncoder } from './encode.js';
import { EVERY, PLACE_FIELDS, PlaceNotes } from './reads.js';
import { copyGenerically, copyPage, noteFields } from './copy.js';
import { builtinFlavors } from './registry.js';
import { Liveness, withoutDead } from './liveness.js';
import type { Frame, Locals } from './state.js';
import { pmdOf, type Env, type PtlEnv, type VmaEnv } from './env.js';
import type { Scenario } from './scenario.js';
import { NONE, PAGE_SIZE, PG, PMD_TABLE, UNLOCKED, flagNames, hex, stateKey, waiterTids, type MappingS, type MmState, type PageS } from './state.js';

export type MmMachine = Machine<MmState> & {
  readonly env: Env;
  readonly scenario: string;
  readonly exchange: WordExchange;
  /**
   * Test hook (packages/mm-model/test/reads.test.ts): the places thread t's step from s reads, as
   * `StepMemo.places.advanceNoting` names them — noted at Ctx's accessors, or (`proxy`) by the
   * recording Proxy (reads.ts `ReadRecorder`), the oracle; `all` when it depends on the whole
   * shared part. Undefined on a machine that offers no places.
   */
  readonly notedPlaces?: (s: MmState, t: number, proxy: boolean) => { reads: Int32Array; all: boolean };
};

export function createMachine(scenario: Scenario, flavor: Flavor): MmMachine {
  const env = buildEnv(scenario);
  const initial0 = buildInitialState(scenario, env);
  const live = Liveness.of(flavor);
  /** One program call of thread ti (path: where it is in the scenario, for errors). */
  const entryFrame = (ti: number, name: string, program: string, args: Readonly<Record<string, unknown>>, path: (string | number)[]) => {
    const prog = flavor.programs[program];
    const at = (p: (string | number)[]) => ({
      file: scenario.source?.file,
      line: scenario.source?.lineOf(['threads', ti, ...path, ...p]),
    });
    if (!prog) {
      throw new InputError(`thread ${name}: flavor ${flavor.name} has no program ${program}`, {
        ...at(['program']),
        hint: `programs of ${flavor.name}: ${Object.keys(flavor.programs).sort().join(', ')}`,
      });
    }
    try {
      const entry = procOf(flavor, prog.proc).entry;
      const l = sortLocals(prog.start(args, env));
      const dead = live?.at(prog.proc, entry);
      return { proc: prog.proc, pc: entry, l: dead === undefined ? l : withoutDead(l, dead) };
    } catch (e) {
      if (e instanceof ArgError) {
        throw new InputError(`thread ${name} (${program}): ${e.message}`, {
          ...at(['args', e.arg]),
          hint: "docs/scenarios.md lists each program's arguments",
        });
      }
      throw e;
    }
  };
  // A thread with `then:` runs a sequence: a machine-level frame (SEQ) calls each program in turn.
  const sequences: { proc: string; pc: string; l: Locals; program: string }[][] = [];
  const frames = scenario.threads.map((t, ti) => {
    const first = entryFrame(ti, t.name, t.program, t.args, []);
    if (!t.then?.length) return first;
    sequences[ti] = [
      { ...first, program: t.program },
      ...t.then.map((c, k) => ({ ...entryFrame(ti, t.name, c.program, c.args, ['then', k]), program: c.program })),
    ];
    return { proc: SEQ, pc: 'next', l: { k: 0 } };
  });
  const seqStep = (t: number): StepDef => ({
    label: (c) => {
      const k = c.num('k');
      const seq = sequences[t]!;
      return k < seq.length ? `${k === 0 ? '' : 'return to user; '}${seq[k]!.program}()` : 'return to user';
    },
    run: (c) => {
      const k = c.num('k');
      const seq = sequences[t]!;
      if (k >= seq.length) {
        c.ret(0);
        return;
      }
      c.set('k', k + 1);
      const f = seq[k]!;
      c.call(f.proc, f.pc, f.l, 'next');
    },
  });
  // Data is tracked only when some thread may read it (Program.readsData; data.ts UNTRACKED).
  const programsRun = scenario.threads.flatMap((t) => [t.program, ...(t.then ?? []).map((c) => c.program)]).map((p) => flavor.programs[p]!);
  // Reads submitted and left in flight (Program.endIo): the bio's end_io, a daemon thread of the machine's own
  const endIo = addEndIo(scenario, flavor, env, programsRun);
  if (endIo) frames.push(endIo);
  const threads0 = frames.map((f) => ({ frames: [f], status: 'run' as const }));
  const readsData = programsRun.some((p) => p.readsData === true);
  const notSearched = [...new Set(programsRun.flatMap((p) => p.notSearched ?? []))];
  if (!readsData) env.dataUntracked = true;
  /** The canonical form of a state a step made: its generations renumbered, and its pages' data dropped where none is read. */
  const canonical = readsData ? canonicalData : (s: MmState) => canonicalData(untrackData(s));
  let init: MmState = { ...initial0, threads: threads0 };
  if (flavor.initialState) init = flavor.initialState(init, env);
  if (!readsData) init = untrackData(init);
  if (!builtinFlavors().includes(flavor)) copyGenerically();
  noteFields(init);
  const initial = init;
  const encoder = new StateEncoder<MmState>(stateKey);
  const notes = new PlaceNotes();
  const oracle = new PlaceNotes();
  /** The state `advance` last started from, and whether it was canonical (data.ts). */
  let canonChecked: MmState | undefined;
  let canonFrom = false;
  /** The state `notedStep` last started from, and whether reads.ts knows every root value it has (asked once for all its threads' steps). */
  let fieldsChecked: MmState | undefined;
  let fieldsKnown = false;
  /**
   * Every state a search reaches is the initial one or what `step`/`advance` returned, and
   * those are canonical (renumbering them changes nothing). So when the initial state is
   * canonical too, so is every state `decode` gives back (equal to one that was encoded):
   * `advance` need not check it again (alreadyCanonical walks every page, block and thread).
   */
  const decodedCanonical = canonical(initial) === initial;

  /**
   * Per thread, the top frame whose step was looked up last, and that step: a search asks each
   * thread's readiness and then runs the very same frame, and sibling states share the frames of
   * the threads that did not step (frames are never changed once made, so one frame has one step).
   */
  const lastFrame: (Frame | undefined)[] = [];
  const lastStep: StepDef[] = [];
  const stepOf = (s: MmState, t: number): StepDef | null => {
    const th = s.threads[t]!;
    if (th.status !== 'run') return null;
    const f = th.frames[th.frames.length - 1]!;
    if (lastFrame[t] === f) return lastStep[t]!;
    const step = f.proc === SEQ ? seqStep(t) : procOf(flavor, f.proc).steps[f.pc];
    if (!step) throw new ModelBug(`flavor ${flavor.name}: procedure ${f.proc} has no step ${f.pc}`);
    lastFrame[t] = f;
    lastStep[t] = step;
    return step;
  };
  const whereOf = (s: MmState, t: number, step: StepDef): string => {
    const th = s.threads[t]!;
    const proc = th.frames[th.frames.length - 1]!.proc;
    if (proc === SEQ) return `user space: the scenario thread's next system call ${flavor.version}`;
    const p = procOf(flavor, proc);
    return `${step.where ?? `${p.where} ${p.fn}()`} ${flavor.version}`;
  };

  /** Thread t's step from s, run (silent: without its ops and effect text); the context holds the result. */
  const run = (s: MmState, t: number, silent: boolean, noting?: PlaceNotes, view: MmState = s): Ctx => {
    const step = stepOf(s, t);
    if (!step) throw new ModelBug(`thread ${t} has finished; it has no step to run`);
    const c = new Ctx(env, view, t, true, undefined, silent, live, noting);
    const blockedOn = step.block?.(c);
    if (blockedOn !== undefined) throw new ModelBug(`step of thread ${t} is blocked (${blockedOn}) and was run anyway`);
    step.run(c);
    if (c.bugIn !== undefined) declaredBug(s, t, c.bugIn);
    return c;
  };
  /** A BUG a step fired must be one its procedure declares (Proc.bugs): triage trusts the tables to say which BUGs a flavor can report. */
  const declaredBug = (s: MmState, t: number, fn: string): void => {
    const th = s.threads[t]!;
    const proc = th.frames[th.frames.length - 1]!.proc;
    if (proc !== SEQ && procOf(flavor, proc).bugs?.[fn] !== undefined) return;
    throw new ModelBug(
      `flavor ${flavor.name}: a step of ${proc} fired a BUG in ${fn}, which the procedure's \`bugs\` table does not list (Proc.bugs names every kernel BUG a procedure's steps check; docs/flavors.md)`,
    );
  };

  /** The root fields' numbers as the encoder's place names have them, in reads.ts's order. */
  const placeFields = PLACE_FIELDS.map((f) => encoder.rootField(f));
  const threadsLength = encoder.rootField('threads');
  /**
   * Thread t's step from s (`advance`), noting in `into` the places it reads (at Ctx's accessors,
   * or with `proxy` by running it on the recording Proxy); `all` when it depends on the whole
   * shared part: it wrote a data generation (the renumbering after it reads every page, block and
   * mapping: data.ts), added or dropped a root value (its places are named anew), or s has a root
   * value reads.ts does not know (a read of it would not be noted).
   */
  const notedStep = (s: MmState, t: number, into: PlaceNotes, proxy: boolean): { outcome: StepOutcome<MmState>; all: boolean } => {
    let c: Ctx;
    let next: MmState;
    if (proxy) {
      const recorder = into.recorderOf();
      recorder.on = true;
      try {
        c = run(s, t, true, undefined, into.view(s));
      } finally {
        recorder.on = false;
      }
      next = recorder.unwrap(c.finish());
      if (recorder.foreign(s, next)) into.all = true;
    } else {
      c = run(s, t, true, into);
      next = c.finish();
    }
    if (s !== canonChecked) {
      canonChecked = s;
      canonFrom = alreadyCanonical(s);
    }
    if (s !== fieldsChecked) {
      fieldsChecked = s;
      fieldsKnown = knownRootFields(s);
    }
    const untouched = canonFrom && c.dataUntouched;
    const outcome = { state: untouched ? next : canonical(next), violations: c.violations };
    return { outcome, all: into.all || !untouched || !fieldsKnown || !sameRootFields(s, next) };
  };
  /** The names (encode.ts `cutRoot`) of the places `noted` holds, ascending without repeats; the shape and the threads' count always. */
  let placesScratch = new Int32Array(256);
  const placesOf = (s: MmState, noted: PlaceNotes): Int32Array => {
    const a = noted.a;
    const root = s as unknown as Record<string, readonly unknown[] | undefined>;
    // the names are gathered in a buffer kept from step to step; only the sorted result is a new array
    let need = noted.n + 2;
    for (let i = 0; i < noted.n; i += 2) if (a[i + 1] === EVERY) need += (root[PLACE_FIELDS[a[i]!]!]?.length ?? 0) + 1;
    if (need > placesScratch.length) placesScratch = new Int32Array(Math.max(need, 2 * placesScratch.length));
    const out = placesScratch;
    let k = 0;
    out[k++] = 0;
    out[k++] = encoder.rootPlace(threadsLength, -1, s.threads.length);
    // the length of the field noted last (a step notes one array's places in runs)
    let lastF = -1;
    let length = 0;
    for (let i = 0; i < noted.n; i += 2) {
      const f = a[i]!;
      const index = a[i + 1]!;
      if (f !== lastF) {
        length = root[PLACE_FIELDS[f]!]?.length ?? 0;
        lastF = f;
      }
      if (index !== EVERY) out[k++] = encoder.rootPlace(placeFields[f]!, index, length);
      else for (let e = -1; e < length; e++) out[k++] = encoder.rootPlace(placeFields[f]!, e, length);
    }
    const sorted = out.subarray(0, k).sort();
    let m = 0;
    for (let i = 0; i < k; i++) if (m === 0 || sorted[i] !== sorted[m - 1]) sorted[m++] = sorted[i]!;
    return out.slice(0, m);
  };

  /**
   * What a step reads of the other threads (step memoization; explore's `memoSteps`, on by
   * default). A step runs in a Ctx, which keeps its own thread of the state (`state.threads[tid]`,
   * ctx.ts:108) and writes only that one (`finish`, ctx.ts:804-810); the locks' owners and
   * readers a step tests are in the shared part (`PageS.locker`, `MmState.ptl`, `LockS`), and no
   * built-in flavor's step reads `state.threads` (a flavor module's might, through `Ctx.state`:
   * those machines offer none). What reads the others is the renumbering of data generations after
   * the step (`canonical` above): `alreadyCanonical` and `renumber` read every thread's read and
   * write in progress (data.ts:130, :177) and rewrite them (data.ts:201), so those are what thread
   * t's step reads of the others. `npm run bench memo` checks the promise on every step of every
   * shipped scenario (docs/explore.md, session 28).
   *
   * `places` (finer keys: what a step reads of the shared part, docs/explore.md session 31): the
   * places it noted at Ctx's accessors (`notedStep` above; ctx.ts says how every read is noted),
   * offered only when the initial state is canonical — then so is every state a search expands,
   * and a step that left the data generations as they were needs no renumbering from any of them.
   */
  /** What the renumbering reads of thread u (`StepMemo.readsOf`): its read and its write in progress. */
  const readsOf = (s: MmState, u: number, out: Int32Array, at: number): number => {
    const th = s.threads[u]!;
    return listInto(th.wrote, out, listInto(th.obs, out, at));
  };
  const stepMemo: StepMemo<MmState> | undefined = builtinFlavors().includes(flavor)
    ? {
        threadsAt: (words, n) => encoder.lastPartsAt(words, n, 'threads', env.threads.length),
        otherReads(s, t, out, at) {
          for (let u = 0; u < s.threads.length; u++) if (u !== t) at = readsOf(s, u, out, at);
          return at;
        },
        readsOf,
        // a step without `block` is always enabled; readiness reads the state only through `block`'s Ctx
        ownReadiness: (s, t) => stepOf(s, t)?.block === undefined,
        places: decodedCanonical
          ? {
              cut: (words, at, out) => encoder.cutRoot(words, at, out),
              advanceNoting(s, t) {
                notes.begin();
                const { outcome, all } = notedStep(s, t, notes, false);
                return { outcome, reads: all ? NO_PLACES : placesOf(s, notes), all };
              },
            }
          : undefined,
      }
    : undefined;

  return {
    flavor: flavor.name,
    scenario: scenario.name,
    env,
    threads: env.threads,
    ...(notSearched.length > 0 ? { notSearched } : {}),
    initial: () => initial,
    readiness(s, t): ThreadReadiness {
      const step = stepOf(s, t);
      if (!step) return THREAD_DONE;
      if (!step.block) return THREAD_ENABLED;
      return step.block(new Ctx(env, s, t, false, undefined, false, live)) === undefined ? THREAD_ENABLED : THREAD_BLOCKED;
    },
    next(s, t): StepInfo | null {
      const step = stepOf(s, t);
      if (!step) return null;
      const c = new Ctx(env, s, t, false, undefined, false, live);
      const blockedOn = step.block?.(c);
      const info: StepInfo = {
        label: typeof step.label === 'string' ? step.label : step.label(c),
        where: whereOf(s, t, step),
        accesses: step.acc ? step.acc(c) : [],
        enabled: blockedOn === undefined,
      };
      if (blockedOn !== undefined) info.blockedOn = blockedOn;
      return info;
    },
    step(s, t): StepResult<MmState> {
      const c = run(s, t, false);
      return {
        state: canonical(c.finish()),
        ops: c.ops,
        violations: c.violations,
        effect: c.effects.length ? c.effects.join(', ') : '—',
      };
    },
    advance(s, t): StepOutcome<MmState> {
      const c = run(s, t, true);
      // A search steps every thread of one state in turn: whether that state is canonical is
      // asked once, and a step that wrote no generation keeps it canonical (Ctx.dataUntouched).
      if (s !== canonChecked) {
        canonChecked = s;
        canonFrom = alreadyCanonical(s);
      }
      const next = c.finish();
      return { state: canonFrom && c.dataUntouched ? next : canonical(next), violations: c.violations };
    },
    key: stateKey,
    encode: (s, out) => encoder.encode(s, out),
    decode: (words, n) => {
      const s = encoder.decode(words, n);
      if (decodedCanonical) {
        canonChecked = s;
        canonFrom = true;
      }
      return s;
    },
    exchange: encoder,
    stepMemo,
    notedPlaces: stepMemo?.places
      ? (s, t, proxy) => {
          const into = proxy ? oracle : notes;
          into.begin();
          const { all } = notedStep(s, t, into, proxy);
          return { reads: all ? NO_PLACES : placesOf(s, into), all };
        }
      : undefined,
    final: (s): ModelViolation[] => [...staleAtEnd(env, s), ...mappedBeyondEofAtEnd(env, s)],
    describe: (s) => describeState(env, s),
  };
}

const NO_PLACES = new Int32Array(0);

/** The name of the I/O completion context's thread (ThreadInfo.daemon), which no scenario thread may take. */
export const END_IO_THREAD = 'end_io';

/**
 * When some program the scenario runs submits reads it does not wait for (Program.endIo): the thread
 * `end_io` in env (a daemon, last), and its entry frame; undefined otherwise. One context completes the
 * reads of every thread (readahead.ts endIoProc). A scenario thread of that name is refused.
 */
function addEndIo(scenario: Scenario, flavor: Flavor, env: Env, programsRun: readonly { endIo?: string }[]): Frame | undefined {
  const procs = [...new Set(programsRun.flatMap((p) => (p.endIo === undefined ? [] : [p.endIo])))];
  if (procs.length === 0) return undefined;
  if (procs.length > 1) throw new ModelBug(`flavor ${flavor.name}: programs name different I/O completion procedures (${procs.join(', ')})`);
  const taken = scenario.threads.findIndex((t) => t.name === END_IO_THREAD);
  if (taken >= 0) {
    throw new InputError(`thread ${END_IO_THREAD}: the name is the I/O completion context's, which the model adds to a scenario whose reads complete later`, {
      file: scenario.source?.file,
      line: scenario.source?.lineOf(['threads', taken, 'name']),
      hint: `rename the thread (docs/scenarios.md); ${END_IO_THREAD} is a thread of its own in schedules and traces`,
    });
  }
  const proc = procOf(flavor, procs[0]!);
  env.endIo = env.threads.length;
  env.threads.push({ id: env.endIo, name: END_IO_THREAD, program: END_IO_THREAD, args: {}, daemon: true });
  return { proc: procs[0]!, pc: proc.entry, l: {} };
}

/** Root fields every state of a search has (reads.ts notes reads of their elements) or may have. */
const ROOT_FIELDS = new Set<string>([...PLACE_FIELDS, 'threads']);

/** Whether every root value `a` has is one reads.ts knows. */
function knownRootFields(a: MmState): boolean {
  for (const k in a) if (!ROOT_FIELDS.has(k)) return false;
  return true;
}

/** Whether `b`, a step's successor of `a` (whose root values `knownRootFields` knows), has the same root values present, every one of them known to reads.ts. */
function sameRootFields(a: MmState, b: MmState): boolean {
  const x = a as unknown as Record<string, unknown>;
  const y = b as unknown as Record<string, unknown>;
  for (const k in y) if (!ROOT_FIELDS.has(k)) return false;
  for (const f of PLACE_FIELDS) if ((x[f] === undefined) !== (y[f] === undefined)) return false;
  return true;
}

/** A list as its length and its numbers (-1: none) into `out` from `at`; where it ends (nothing is written past `out`'s end). */
function listInto(list: readonly number[] | undefined, out: Int32Array, at: number): number {
  if (list === undefined) {
    if (at < out.length) out[at] = -1;
    return at + 1;
  }
  if (at + list.length < out.length) {
    out[at] = list.length;
    for (let i = 0; i < list.length; i++) out[at + 1 + i] = list[i]!;
  }
  return at + 1 + list.length;
}

/** The machine-level procedure of a thread that runs several programs in turn (scenario `then:`). */
const SEQ = '(thread)';

function procOf(flavor: Flavor, name: string) {
  const p = flavor.procs[name];
  if (!p) throw new ModelBug(`flavor ${flavor.name} calls unknown procedure ${name}`);
  return p;
}

export function buildEnv(sc: Scenario): Env {
  const files = sc.files.map((f, id) => ({
    id,
    name: f.name,
    loc: `M${id}`,
    fs: f.fs,
    ref: { dev: f.dev, ino: typeof f.ino === 'number' ? BigInt(f.ino) : BigInt(f.ino.startsWith('0x') ? f.ino : `0x${f.ino}`) },
  }));
  const fileId = new Map(files.map((f) => [f.name, f.id]));
  const mms = sc.processes.map((p, id) => ({ id, name: p.name }));
  const ptls: PtlEnv[] = [];
  const ptlId = new Map<string, number>();
  const vmas: VmaEnv[] = [];
  sc.processes.forEach((p, mm) => {
    for (const v of p.vmas) {
      const ptl: number[] = [];
      for (let i = 0; i < v.pages; i++) {
        const pmd = pmdOf(v.start + i * PAGE_SIZE);
        const k = `${mm}:${pmd}`;
        let id = ptlId.get(k);
        if (id === undefined) {
          id = ptls.length;
          ptls.push({ mm, pmd, loc: `ptl:${p.name}:${pmd}` });
          ptlId.set(k, id);
        }
        ptl.push(id);
      }
      vmas.push({ id: vmas.length, mm, file: fileId.get(v.file)!, start: v.start, pgoff: v.pgoff, pages: v.pages, ptl });
    }
  });
  const threads: ThreadInfo[] = sc.threads.map((t, id) => ({ id, name: t.name, program: t.program, args: t.args }));
  return { files, mms, vmas, ptls, threads };
}

function buildInitialState(sc: Scenario, env: Env): Omit<MmState, 'threads'> {
  const pages: (PageS | undefined)[] = [undefined];
  const disk: number[] = [];
  const used = new Set(sc.files.flatMap((f) => f.pages.map((p) => p.pfn).filter((n): n is number => n !== undefined)));
  let nextPfn = 1;
  const maps: MappingS[] = sc.files.map((f, file) => {
    const span = Math.max(
      Math.ceil(f.size / PAGE_SIZE),
      ...f.pages.map((p) => p.index + (1 << p.order)),
      ...env.vmas.filter((v) => v.file === file).map((v) => v.pgoff + v.pages),
    );
    const cache: number[] = new Array<number>(span).fill(NONE);
    // A file without holes: every index below EOF has a block holding generation 0.
    const eofPages = Math.ceil(f.size / PAGE_SIZE);
    const bmap: number[] = new Array<number>(span).fill(NONE);
    for (let ix = 0; ix < eofPages; ix++) {
      bmap[ix] = disk.length;
      disk.push(dataTag(file, ix, 0));
    }
    const gen: number[] = new Array<number>(span).fill(0);
    for (const p of f.pages) {
      let pfn = p.pfn;
      if (pfn === undefined) {
        while (used.has(nextPfn)) nextPfn++;
        pfn = nextPfn++;
        used.add(pfn);
      }
      while (pages.length <= pfn) pages.push(undefined);
      const flags = p.flags.reduce((acc, fl) => acc | PG[fl], 0);
      // An uptodate page holds the disk's data; a dirty one a buffered write that returned (generation 1).
      // Large folios (6.12) do not track data yet: NONE, never judged.
      if (flags & PG.dirty) gen[p.index] = 1;
      const nr = 1 << p.order;
      // the fields in the order of copy.ts's literal (one hidden class for every page)
      const page: PageS = {
        pfn,
        mapping: file,
        index: p.index,
        flags,
        // the page cache's reference, and the one attached buffers hold (folio_attach_private)
        refcount: flags & PG.private ? 2 : 1,
        mapcount: 0,
        locker: NONE,
        data: p.order === 0 && flags & (PG.uptodate | PG.dirty) ? dataTag(file, p.index, gen[p.index]!) : NONE,
      };
      // 6.12's page cache holds nr references on a large folio (__filemap_add_folio: folio_ref_add(folio, nr));
      // the model counts them as one, as for order 0, and the checks that read refcounts say so (docs/flavors.md)
      pages[pfn] = p.order === 0 ? page : { ...page, order: p.order, pmap: new Array<number>(nr).fill(0), entire: 0 };
      for (let k = 0; k < nr; k++) cache[p.index + k] = pfn;
    }
    return {
      cache,
      isize: f.size,
      truncateCount: 0,
      nrpages: f.pages.reduce((n, p) => n + (1 << p.order), 0),
      sslWriters: 0,
      sslSequence: 0,
      invalidateLock: UNLOCKED,
      immap: UNLOCKED,
      coherent: [],
      ilock: UNLOCKED,
      bmap,
      hole: new Array<number>(span).fill(0),
      gen,
      floor: gen.slice(),
    };
  });
  const ptes = env.vmas.map((v) => new Array<number>(v.pages).fill(NONE));
  // a PTE the scenario installs lives in a page table, so its PMD points to one (the flavors that model the PMD read it)
  let pmds: number[] | undefined;
  sc.processes.forEach((p, mm) => {
    const own = env.vmas.filter((v) => v.mm === mm);
    p.vmas.forEach((sv, k) => {
      const v = own[k]!;
      for (const ix of sv.ptes) {
        const pfn = maps[v.file]!.cache[ix]!;
        ptes[v.id]![ix - v.pgoff] = pfn;
        (pmds ??= env.ptls.map(() => NONE))[v.ptl[ix - v.pgoff]!] = PMD_TABLE;
        const pg = pages[pfn]!;
        const pmap = pg.pmap?.map((n, k) => (pg.index + k === ix ? n + 1 : n));
        pages[pfn] = copyPage(
          pg,
          pmap ? { mapcount: pg.mapcount + 1, refcount: pg.refcount + 1, pmap } : { mapcount: pg.mapcount + 1, refcount: pg.refcount + 1 },
        );
      }
    });
  });
  return { pages, maps, ptes, ptl: env.ptls.map(() => NONE), disk, ...(pmds ? { pmds } : {}) };
}

/** A readable dump of a state, for counterexample reports. */
export function describeState(env: Env, s: MmState): string {
  const lines: string[] = [];
  s.maps.forEach((m, file) => {
    const f = env.files[file]!;
    const cached = m.cache
      .map((pfn, ix) => (pfn === NONE ? null : `${ix}:pfn${pfn}`))
      .filter(Boolean)
      .join(' ');
    lines.push(
      `${f.loc} ${f.name} (dev ${f.ref.dev} ino ${f.ref.ino.toString(16)}): i_size=${m.isize} truncate_count=${m.truncateCount}` +
        ` nrpages=${m.nrpages} seqschedlock={writers ${m.sslWriters}, sequence ${m.sslSequence}} cache=[${cached}]` +
        ` disk=[${m.bmap.map((b, ix) => `${ix}:${b === NONE ? `hole v${m.hole[ix]}` : tagText(s.disk[b]!)}`).join(' ')}]` +
        ` floor=[${m.floor.join(',')}]`,
    );
  });
  for (const p of s.pages) {
    if (!p) continue;
    const owner = p.locker === NONE ? '' : ` locked by T${p.locker}`;
    lines.push(
      `pfn${p.pfn}: mapping=${p.mapping === NONE ? 'NULL' : env.files[p.mapping]!.loc} index=${p.index}` +
        ` flags=[${flagNames(p.flags).join(',')}] count=${p.refcount} mapcount=${p.mapcount}${owner} data=${tagText(p.data)}` +
        (p.order ? ` order=${p.order} entire_mapcount=${p.entire ?? 0} page_mapcounts=[${(p.pmap ?? []).join(',')}]` : '') +
        (p.nodirect ? ' not-in-direct-map' : '') +
        (p.waiters
          ? ` waiters=[${waiterTids(p.waiters)
              .map((t) => `T${t}`)
              .join(',')}]`
          : ''),
    );
  }
  for (const v of env.vmas) {
    const row = s.ptes[v.id]!;
    const dirty = s.pted?.[v.id];
    const mapped = row.map((pfn, i) => (pfn === NONE ? null : `${hex(v.start + i * PAGE_SIZE)}→pfn${pfn}${dirty?.[i] === 1 ? ' dirty' : ''}`)).filter(Boolean);
    lines.push(`${env.mms[v.mm]!.name} vma ${hex(v.start)}+${v.pages} ${env.files[v.file]!.name}@${v.pgoff}: ${mapped.join(' ') || 'no PTEs'}`);
  }
  s.threads.forEach((t, i) => {
    const where = t.frames.map((f) => `${f.proc}@${f.pc}`).join(' > ');
    lines.push(`T${i} ${env.threads[i]!.name}: ${t.status === 'run' ? where : t.status}`);
  });
  return lines.join('\n');
}
