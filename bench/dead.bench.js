// dead: how many states the flavors' dead-local tables (Proc.dead, docs/flavors.md "Dead locals")
// save on a shipped scenario, and how many more complete tables could save at most.
//
// Three exhaustive searches of one scenario × flavor:
//   1. without any table (every procedure's `dead` removed): what the explorer searched before;
//   2. with the flavor's tables as shipped;
//   3. with the shipped tables plus what an oracle saw: search 2 is watched (every local each step
//      reads before it sets it, in its label, accesses, block test and run; every goto and call),
//      liveness is solved over the procedures' observed control flow, and every local present at a
//      pc but not live there is dropped too.
// The oracle sees only the paths of this one scenario, so its tables are a bound, not something to
// ship: a local it drops that another scenario reads would be a ModelBug there (and is one here if
// the watched search missed a path, which the bench then reports). Its "observed dead" list is where
// a contributor looks for entries to add, and checks each against the kernel source.
//   npm run bench dead [-- scenario-substring [flavor]]
// Default: odirect-vs-fault-multipage on linux-2.6.15.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ctx, createMachine, loadScenario, resolveFlavor } from '../packages/mm-model/dist/index.js';
import { explore } from '../packages/explore/dist/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [want = 'odirect-vs-fault-multipage', flavorName = 'linux-2.6.15'] = process.argv.slice(2);
const dir = path.join(root, 'fixtures/scenarios');
const file = readdirSync(dir)
  .filter((f) => f.includes(want))
  .sort()[0];
if (!file) throw new Error(`no shipped scenario matches ${want}`);
const scenario = await loadScenario(path.join(dir, file));
const shipped = await resolveFlavor(flavorName);

/** The flavor with each procedure's table replaced by `tables(name, proc)` (undefined: none). */
function withTables(tables) {
  const procs = {};
  for (const [name, proc] of Object.entries(shipped.procs)) {
    const { dead: _d, ...rest } = proc;
    const dead = tables(name, proc);
    procs[name] = dead ? { ...rest, dead } : rest;
  }
  return { ...shipped, procs };
}

async function search(flavor) {
  const m = createMachine(scenario, flavor);
  const t0 = process.cpuUsage();
  const r = await explore(m, { strategy: 'exhaustive' });
  const u = process.cpuUsage(t0);
  return { r, cpu: (u.user + u.system) / 1e6 };
}

// ---------------------------------------------------------------- the watch
const seen = new Map(); // proc@pc → { uses, mustSet, next: Set of pc (call: pc + ' rv'), present, whole }
let cur = null;
const P = Ctx.prototype;
const lGet = Object.getOwnPropertyDescriptor(P, 'l').get;
const use = (name) => {
  if (cur && !cur.set.has(name)) cur.s.uses.add(name);
};
for (const f of ['num', 'list', 'opt']) {
  const orig = P[f];
  P[f] = function (name) {
    use(name);
    return orig.call(this, name);
  };
}
const origSet = P.set;
P.set = function (name, v) {
  if (cur) cur.set.add(name);
  return origSet.call(this, name, v);
};
Object.defineProperty(P, 'l', {
  configurable: true,
  get() {
    const l = lGet.call(this);
    if (!cur) return l;
    const s = cur.s;
    return new Proxy(l, {
      get: (t, k) => {
        if (typeof k === 'string') use(k);
        return t[k];
      },
      has: (t, k) => {
        use(k);
        return k in t;
      },
      ownKeys: (t) => {
        s.whole = true;
        return Reflect.ownKeys(t);
      },
    });
  },
});
const origGoto = P.goto;
P.goto = function (pc) {
  if (cur) cur.s.next.add(pc);
  return origGoto.call(this, pc);
};
const origCall = P.call;
P.call = function (proc, entry, locals, then) {
  if (cur) cur.s.next.add(`${then} rv`);
  return origCall.call(this, proc, entry, locals, then);
};

function watched(flavor) {
  const procs = {};
  for (const [name, proc] of Object.entries(flavor.procs)) {
    const steps = {};
    for (const [pc, step] of Object.entries(proc.steps)) {
      const key = `${name}@${pc}`;
      const wrap = (fn, isRun) =>
        function (c) {
          let s = seen.get(key);
          if (!s) seen.set(key, (s = { uses: new Set(), mustSet: null, next: new Set(), present: new Set(), whole: false }));
          if (isRun) for (const k in lGet.call(c)) s.present.add(k);
          const outer = cur;
          cur = { s, set: new Set() };
          try {
            return fn.call(this, c);
          } finally {
            if (isRun) s.mustSet = s.mustSet === null ? cur.set : new Set([...s.mustSet].filter((x) => cur.set.has(x)));
            cur = outer;
          }
        };
      steps[pc] = { ...step, run: wrap(step.run, true) };
      for (const f of ['label', 'acc', 'block']) if (typeof step[f] === 'function') steps[pc][f] = wrap(step[f], false);
    }
    procs[name] = { ...proc, steps };
  }
  return { ...flavor, procs };
}

/** Per proc@pc, the locals live on entry (undefined: keep all), solved over what the watch saw. */
function liveness() {
  const live = new Map([...seen].map(([k, s]) => [k, s.whole ? undefined : new Set(s.uses)]));
  for (let changed = true; changed;) {
    changed = false;
    for (const [key, s] of seen) {
      const lv = live.get(key);
      if (lv === undefined) continue;
      const proc = key.slice(0, key.indexOf('@'));
      const n = lv.size;
      for (const edge of s.next) {
        const [pc, rv] = edge.split(' ');
        const next = live.get(`${proc}@${pc}`);
        // a successor never seen running, or one that passes all its locals on: keep them all here too
        if (next === undefined) {
          live.set(key, undefined);
          changed = true;
          break;
        }
        for (const x of next) if (!(rv && x === 'rv') && !s.mustSet?.has(x)) lv.add(x);
      }
      if (live.get(key) !== undefined && lv.size !== n) changed = true;
    }
  }
  return live;
}

// ---------------------------------------------------------------- the three searches
const none = await search(withTables(() => undefined));
const declared = await search(watched(shipped));
const live = liveness();
const observed = new Map();
for (const [key, s] of [...seen].sort()) {
  const lv = live.get(key);
  if (lv === undefined) continue;
  const [proc, pc] = key.split('@');
  const already = shipped.procs[proc]?.dead?.[pc] ?? [];
  const dead = [...s.present].filter((x) => !lv.has(x) && !already.includes(x)).sort();
  if (dead.length) observed.set(key, dead);
}
cur = null;
let bound;
try {
  bound = await search(
    withTables((name, proc) => {
      const t = { ...(proc.dead ?? {}) };
      for (const [key, dead] of observed) {
        const [p, pc] = key.split('@');
        if (p === name) t[pc] = [...(t[pc] ?? []), ...dead];
      }
      return Object.keys(t).length ? t : undefined;
    }),
  );
} catch (e) {
  bound = { error: e.message };
}

const row = (what, x) =>
  x.error
    ? `  ${what.padEnd(34)} ${x.error}`
    : `  ${what.padEnd(34)} ${String(x.r.stats.distinctStates).padStart(9)} distinct ${x.cpu.toFixed(2).padStart(7)} CPU-s  ${x.r.verdict} ${x.r.violations.map((v) => v.rule).join(',')}`;
console.log(`${file.replace(/\.ya?ml$/, '')} on ${flavorName}`);
console.log(row('no dead-local tables', none));
console.log(row("the flavor's tables", declared));
console.log(row('+ what the oracle saw (a bound)', bound));
const rules = (x) => (x.error ? x.error : x.r.violations.map((v) => v.rule).join(','));
if (rules(none) !== rules(declared) || (!bound.error && rules(none) !== rules(bound))) console.log('  ! the searches disagree on the violations');
console.log(`  observed dead but not declared (${observed.size} program points; hints to check against the source):`);
for (const [key, dead] of observed) console.log(`    ${key}: ${dead.join(' ')}`);
