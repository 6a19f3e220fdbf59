// movers: how many states a reduction for lock-protected steps could save on a shipped scenario,
// at best. Session 10's bench/ample.bench.js let a thread run alone only where its next step
// touched locations no other thread ever touches (≤ 1 % on the multipage graphs). It did not try
// the reduction locked code is known for (Lipton's movers, transaction reduction, stubborn sets
// with locksets): an access to a location that every thread only ever touches while holding lock
// M is independent of everything the other threads can do while this thread holds M. This bench
// measures that, with an oracle no real search has:
//
// 1. A full breadth-first search records, for each location, the locks held at *every* access to
//    it by any thread (Eraser's locksets): for each step that runs, the locks its thread holds
//    before or after it (a step that takes M and touches x in one atomic step touched x under M;
//    so did one that touches x and drops M), read from the state — PG_locked (`PageS.locker`),
//    the PTE locks (`MmState.ptl`), and per mapping the inode lock, i_mmap_lock/i_mmap_rwsem,
//    invalidate_lock and the hugetlb fault mutex (`MappingS`), shared or exclusive. A location is
//    protected by M when every write to it holds M exclusively and every access holds M at all.
//    (The seqschedlock has a writer count, not an owner, and tree_lock/xa_lock and the other
//    spin locks a step takes and drops within itself are not held between steps: neither can
//    protect anything here.)
// 2. A second search expands only thread t at a state when t's next step (a) is enabled, (b)
//    touches only locations that t alone ever touches, that nobody ever writes, or that are
//    protected by a lock t holds now (exclusively, for a write), (c) is not a lock acquire,
//    (d) judges no rule (Ctx.judged; so breaks none), (e) does not end its thread and (f) leads
//    to a new state (the cycle proviso); otherwise every thread, as the full search does.
//
// It checks that the reduced search finds the same violations and end states, and prints the
// states of both and the shortest path to each violation in both (a reduced breadth-first search
// may find a longer one), and which locations kept steps taken under a lock from running alone.
// What it saves bounds what a sound reduction built on declared locksets (a model that says which
// lock guards each location, checked as it runs) could save.
//   npm run bench movers [-- scenario-substring [flavor ...]]
//   npm run bench movers -- all            every shipped scenario × built-in flavor, totals
// Environment: MOVERS_LOCS=1 lists every location with its lockset (or an access made without
// one); MOVERS_BASELINE=1 searches a third time with locations one thread touches or nobody
// writes only (what the locks add); MOVERS_TXN=1 searches once more with Lipton's transactions
// too (a thread that took a lock runs alone through its right- and both-movers to the commit).
// Default: odirect-vs-fault-multipage on linux-2.6.15. States are kept as the machine's words
// (encode/decode), so linux-6.12's 3 M states fit: node --max-old-space-size=12000.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ctx, builtinFlavors, createMachine, loadScenario, resolveFlavor } from '../packages/mm-model/dist/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const THREAD_DONE = 0;
const NONE = -1;
/**
 * How many times a step judged a rule (whether or not it found it broken): every invariant a step
 * checks goes through Ctx's judged() (ctx.ts), so condition (d) lets no step that judges run alone.
 */
let judgements = 0;
const judged = Ctx.prototype.judged;
Ctx.prototype.judged = function (found) {
  judgements++;
  return judged.call(this, found);
};
/** The sleeping locks the model keeps that may be held shared (MappingS): a step's declared accesses do not say in which mode it took one. */
const RWSEM = /\.(inode_lock|i_mmap_lock|invalidate_lock)$/;

/** The locks each thread holds in s: per thread, lock name → true when exclusive, false when shared. */
function held(m, s) {
  const T = m.threads.length;
  const out = [];
  for (let t = 0; t < T; t++) out.push(new Map());
  s.pages.forEach((p) => {
    if (p && p.locker !== NONE && p.locker < T) out[p.locker].set(`lock:pfn${p.pfn}`, true);
  });
  s.ptl.forEach((owner, i) => {
    if (owner !== NONE && owner < T) out[owner].set(m.env.ptls[i].loc, true);
  });
  s.maps.forEach((mp, f) => {
    const M = m.env.files[f].loc;
    for (const [name, l] of [
      ['inode_lock', mp.ilock],
      ['i_mmap_lock', mp.immap],
      ['invalidate_lock', mp.invalidateLock],
      ['hugetlb_fault_mutex', mp.faultMutex],
    ]) {
      if (!l) continue;
      if (l.writer !== NONE && l.writer < T) out[l.writer].set(`${M}.${name}`, true);
      for (const r of l.readers) if (!out[r].get(`${M}.${name}`)) out[r].set(`${M}.${name}`, false);
    }
  });
  return out;
}

/** Per location: the threads that touch it, whether anyone writes it, and its locksets (null: every lock, nothing seen yet). */
class Locksets {
  locs = new Map();
  /** false: only locations one thread touches or nobody writes (session 10's oracle, plus read-only locations). */
  useLocks = true;
  note(loc, write, t, before, after, step) {
    let r = this.locs.get(loc);
    if (!r) this.locs.set(loc, (r = { by: new Set(), written: false, any: null, excl: null, witness: undefined, bare: undefined }));
    r.by.add(t);
    const any = new Set([...before.keys(), ...after.keys()]);
    const had = r.any === null || r.any.size > 0;
    r.any = r.any === null ? any : new Set([...r.any].filter((l) => any.has(l)));
    // for the table: an access made holding no lock at all, else the one that left no lock common to every access
    if (any.size === 0 && !r.bare) r.bare = step();
    if (had && r.any.size === 0) r.witness = step();
    if (write) {
      r.written = true;
      const excl = new Set([...before, ...after].filter(([, x]) => x).map(([l]) => l));
      r.excl = r.excl === null ? excl : new Set([...r.excl].filter((l) => excl.has(l)));
    }
  }
  /** May thread t, holding `mine`, make this access without any other thread's step depending on it? */
  free(a, t, mine) {
    const r = this.locs.get(a.loc);
    if (!r) return false; // never seen run: nothing is known of it
    if (r.by.size === 1 && r.by.has(t)) return true;
    if (!r.written) return true;
    if (!this.useLocks) return false;
    for (const l of r.any) {
      if (r.excl !== null && !r.excl.has(l)) continue;
      const x = mine.get(l);
      if (x === undefined) continue;
      if (a.mode === 'write' ? x : true) return true;
    }
    return false;
  }
}

/**
 * Breadth-first search over distinct states; with `locks`, one thread's step where the oracle
 * allows. With `txn` too, Lipton's transactions as well: a thread whose last step took a lock and
 * touched nothing else another thread may touch (a right mover), or did that inside such a run
 * (a both-mover), runs alone until its next step that does anything else (the transaction's
 * commit). A search node is then a state and which threads are inside such a run.
 */
function search(m, locks, txn = false) {
  const T = m.threads.length;
  const seen = new Map(); // key → depth
  const queue = [];
  const phases = []; // txn: per node, a bit per thread inside a transaction's first half
  const states = txn ? new Set() : null; // txn: the distinct states (a node is a state and its phases)
  const endStates = new Set();
  let buf = new Int32Array(256);
  const wordsOf = (s) => {
    let n = m.encode(s, buf);
    if (n > buf.length) {
      buf = new Int32Array(2 * n);
      n = m.encode(s, buf);
    }
    return buf.slice(0, n);
  };
  const keyOf = (w) => Buffer.from(w.buffer, w.byteOffset, w.byteLength).toString('latin1');
  const reach = (state, depth, ph = 0) => {
    const w = wordsOf(state);
    const k = txn ? keyOf(w) + String.fromCharCode(ph) : keyOf(w);
    if (seen.has(k)) return false;
    seen.set(k, depth);
    queue.push(w);
    if (txn) {
      phases.push(ph);
      states.add(keyOf(w));
    }
    return true;
  };
  reach(m.initial(), 0);
  /** txn: the phase bits after thread t's step n from s (held before) to r (held after). */
  const phaseAfter = (ph, t, n, before, r) => {
    const bit = 1 << t;
    const acq = n.accesses.some((a) => a.lock === 'acquire');
    if (n.accesses.some((a) => a.lock === 'release') || (!acq && !(ph & bit))) return ph & ~bit;
    const mine = acq ? new Map([...before, ...held(m, r.state)[t]]) : before;
    return n.accesses.every((a) => a.lock === 'acquire' || locks.free(a, t, mine)) ? ph | bit : ph & ~bit;
  };
  const sets = locks ? null : new Locksets();
  const first = new Map(); // violation → depth of the step that found it
  const found = (v, d) => {
    const k = `${v.rule}: ${v.message}`;
    if (!first.has(k) || first.get(k) > d) first.set(k, d);
  };
  let reduced = 0;
  let transitions = 0;
  const stoppers = new Map();
  let judging = 0; // steps kept from running alone because they judge a rule
  for (let i = 0; i < queue.length; i++) {
    const w = queue[i];
    queue[i] = undefined;
    const s = m.decode(w, w.length);
    const ph = txn ? phases[i] : 0;
    const depth = seen.get(txn ? keyOf(w) + String.fromCharCode(ph) : keyOf(w));
    const next = [];
    let enabled = 0;
    for (let t = 0; t < T; t++) {
      const n = m.next(s, t);
      next.push(n);
      if (n?.enabled) enabled++;
    }
    if (enabled === 0) {
      endStates.add(keyOf(w));
      if (next.every((n) => n === null)) for (const v of m.final(s)) found(v, depth);
      continue;
    }
    const hs = held(m, s);
    if (locks) {
      let one = false;
      // a thread inside a transaction's first half runs alone
      for (let t = 0; txn && ph && t < T && !one; t++) {
        const n = next[t];
        if (!(ph & (1 << t)) || !n?.enabled) continue;
        const before = judgements;
        const r = m.advance(s, t);
        if (judgements !== before) judging++;
        if (r.violations.length > 0 || judgements !== before || m.readiness(r.state, t) === THREAD_DONE) continue;
        transitions++;
        if (reach(r.state, depth + 1, phaseAfter(ph, t, n, hs[t], r))) {
          reduced++;
          one = true;
        }
      }
      for (let t = 0; t < T && !one; t++) {
        const n = next[t];
        if (!n?.enabled || n.accesses.some((a) => a.lock === 'acquire')) continue;
        const unfree = n.accesses.filter((a) => !locks.free(a, t, hs[t]));
        if (unfree.length > 0) {
          // what keeps a step its thread takes under a lock from running alone
          if (hs[t].size > 0) for (const loc of new Set(unfree.map((a) => a.loc.replace(/\d+/g, 'N')))) stoppers.set(loc, (stoppers.get(loc) ?? 0) + 1);
          continue;
        }
        const before = judgements;
        const r = m.advance(s, t);
        if (judgements !== before) judging++;
        if (r.violations.length > 0 || judgements !== before || m.readiness(r.state, t) === THREAD_DONE) continue;
        transitions++;
        if (reach(r.state, depth + 1, txn ? phaseAfter(ph, t, n, hs[t], r) : 0)) {
          reduced++;
          one = true;
        }
      }
      if (one) continue;
    }
    for (let t = 0; t < T; t++) {
      const n = next[t];
      if (!n?.enabled) continue;
      const r = m.advance(s, t);
      transitions++;
      for (const v of r.violations) found(v, depth + 1);
      if (sets) {
        let after = held(m, r.state)[t];
        // a lock the step takes and drops within itself (spin_lock ... spin_unlock folded into one
        // step): its other accesses were made under it — shared only for a rwsem, whose mode the
        // declared accesses do not say
        const took = n.accesses.filter((a) => a.lock === 'acquire' && !hs[t].has(a.loc) && !after.has(a.loc)).map((a) => a.loc);
        const inStep = took.filter((l) => n.accesses.some((a) => a.lock === 'release' && a.loc === l));
        if (inStep.length > 0) {
          after = new Map(after);
          for (const l of inStep) after.set(l, !RWSEM.test(l));
        }
        for (const a of n.accesses) sets.note(a.loc, a.mode === 'write', t, hs[t], after, () => `T${t} ${a.mode} in ${n.label} (${n.where})`);
      }
      reach(r.state, depth + 1, txn ? phaseAfter(ph, t, n, hs[t], r) : 0);
    }
  }
  return { nodes: queue.length, states: txn ? states.size : queue.length, transitions, reduced, ends: endStates, first, sets, stoppers, judging };
}

async function measure(file, flavorName) {
  const m = createMachine(await loadScenario(file), await resolveFlavor(flavorName));
  const t0 = process.cpuUsage();
  const full = search(m, null);
  const cut = search(m, full.sets);
  const cpu = process.cpuUsage(t0);
  const txn = process.env.MOVERS_TXN ? search(m, full.sets, true) : undefined;
  let local;
  if (process.env.MOVERS_BASELINE) {
    full.sets.useLocks = false;
    local = search(m, full.sets).states;
    full.sets.useLocks = true;
  }
  const vs = (r) => [...r.first.keys()].sort();
  const agrees = (r) => JSON.stringify(vs(full)) === JSON.stringify(vs(r)) && full.ends.size === r.ends.size && [...r.ends].every((k) => full.ends.has(k));
  const same = agrees(cut) && (txn === undefined || agrees(txn));
  const longer = vs(full).filter((v) => cut.first.get(v) !== full.first.get(v));
  const locs = [...full.sets.locs.values()];
  const guarded = locs.filter((r) => r.by.size > 1 && r.written && [...r.any].some((l) => r.excl === null || r.excl.has(l))).length;
  const single = locs.filter((r) => r.by.size === 1).length;
  return {
    name: `${path.basename(file, '.yaml')} / ${flavorName}`,
    full: full.states,
    cut: cut.states,
    local,
    reduced: cut.reduced,
    judging: cut.judging,
    tFull: full.transitions,
    tCut: cut.transitions,
    ends: full.ends.size,
    txn: txn && { nodes: txn.nodes, states: txn.states, same: agrees(txn), longer: vs(full).filter((v) => txn.first.get(v) !== full.first.get(v)).length },
    violations: vs(full).length,
    same,
    longer: longer.map((v) => `${v.split(':')[0]} ${full.first.get(v)}→${cut.first.get(v)}`),
    locs: locs.length,
    guarded,
    single,
    cpu: (cpu.user + cpu.system) / 1e6,
    stoppers: [...cut.stoppers]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, 10)
      .map(([loc, n]) => `${loc} ${n}`),
    table: [...full.sets.locs]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([loc, r]) => {
        const by = [...r.by].sort().join(',');
        const guard = [...r.any].filter((l) => r.excl === null || r.excl.has(l));
        return `    ${loc}: T${by}${r.written ? '' : ' read only'}${r.by.size > 1 && r.written ? ` — ${guard.length ? `under ${guard.join(', ')}` : r.any.size > 0 ? `${[...r.any].join(', ')} at every access, but not held exclusively at every write` : `no lock at every access: ${r.bare ? `with none, ${r.bare}` : `no lock in common, ${r.witness}`}`}` : ''}`;
      }),
  };
}

function line(r) {
  const pct = ((100 * (r.full - r.cut)) / r.full).toFixed(1);
  return (
    `${r.name}: ${r.locs} locations (${r.single} one thread's, ${r.guarded} lock-protected and shared)\n` +
    `  full ${r.full} states / ${r.tFull} steps; reduced ${r.cut} / ${r.tCut} (${pct}% fewer states; ${r.reduced} states expanded by one step; ${r.judging} steps kept from it because they judge a rule)` +
    `${r.local === undefined ? '' : `; without the locks ${r.local} (${((100 * (r.full - r.local)) / r.full).toFixed(1)}% fewer)`}\n` +
    (r.txn
      ? `  with transactions too: ${r.txn.nodes} nodes, ${r.txn.states} states (${((100 * (r.full - r.txn.nodes)) / r.full).toFixed(1)}% fewer nodes than the full search's states);` +
        ` agrees: ${r.txn.same ? 'yes' : 'NO'}; shortest paths longer for ${r.txn.longer} violations\n`
      : '') +
    `  same violations (${r.violations}) and end states (${r.ends}): ${r.same ? 'yes' : 'NO'}` +
    `${r.longer.length ? `; shortest path longer: ${r.longer.join(', ')}` : ''} — ${r.cpu.toFixed(1)} CPU-s\n`
  );
}

export default async function (args) {
  const dir = path.join(root, 'fixtures/scenarios');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort();
  if (args[0] === 'all') {
    // every shipped scenario × built-in flavor but the multipage case (measured one by one)
    const rows = [];
    for (const f of files.filter((f) => !f.includes('multipage'))) {
      for (const fl of builtinFlavors()) {
        let r;
        try {
          r = await measure(path.join(dir, f), fl.name);
        } catch (e) {
          if (e?.name === 'InputError') continue; // a scenario this flavor has no program for
          throw e;
        }
        rows.push(r);
        process.stdout.write(line(r));
      }
    }
    const sum = (k) => rows.reduce((n, r) => n + (r[k] ?? 0), 0);
    const pcts = rows.map((r) => (100 * (r.full - r.cut)) / r.full).sort((a, b) => a - b);
    process.stdout.write(
      `${rows.length} runs: full ${sum('full')} states, reduced ${sum('cut')} (${((100 * (sum('full') - sum('cut'))) / sum('full')).toFixed(1)}% fewer;` +
        ` median ${pcts[Math.floor(pcts.length / 2)].toFixed(1)}%, at most ${pcts[pcts.length - 1].toFixed(1)}%);` +
        ` ${rows[0]?.local === undefined ? '' : `without the locks ${sum('local')}; `}` +
        `${rows[0]?.txn === undefined ? '' : `with transactions too ${rows.reduce((n, r) => n + r.txn.nodes, 0)} nodes, ${rows.reduce((n, r) => n + r.txn.states, 0)} states (shortest paths longer in ${rows.filter((r) => r.txn.longer > 0).length} runs); `}all agree: ${rows.every((r) => r.same) ? 'yes' : 'NO'}; shortest paths longer in ${rows.filter((r) => r.longer.length).length} runs\n`,
    );
    if (!rows.every((r) => r.same)) throw new Error('the reduced search lost a violation or an end state');
    return;
  }
  const want = args[0] ?? 'odirect-vs-fault-multipage';
  const file = files.find((f) => f.includes(want));
  if (!file) throw new Error(`no shipped scenario matches "${want}"`);
  for (const fl of args.length > 1 ? args.slice(1) : ['linux-2.6.15']) {
    const r = await measure(path.join(dir, file), fl);
    process.stdout.write(line(r));
    process.stdout.write(`  steps under a lock kept from running alone by (location: times): ${r.stoppers.join(', ')}\n`);
    if (process.env.MOVERS_LOCS) process.stdout.write(`${r.table.join('\n')}\n`);
    if (!r.same) throw new Error('the reduced search lost a violation or an end state');
  }
}
