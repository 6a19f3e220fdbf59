// states: which fields of the state key split one kernel state into many explorer states.
//
// One exhaustive search of a shipped scenario × flavor, its machine's `advance` wrapped: every
// distinct state the search expands is keyed again with one candidate field erased (or
// normalised), the keys hashed to 53 bits. The count of distinct keys per candidate is how many
// states the search would have visited had that field not been in the state; the drop is an upper
// bound on what canonicalising the field could save, and says nothing of whether that would be
// sound (two states that differ only in a field may still have different futures).
//
// The key is hashed in parts — the shared part (pages, mappings, PTEs, locks: stateKey with no
// threads), then each thread — so a candidate that touches one thread's locals rehashes only that
// thread. Each candidate costs a key per state, so on large graphs they can be measured on a
// sample that keeps every class whole: a candidate on the threads (every local of every
// procedure, alone and, with PERPC=1, per program point) merges only states with the same shared
// part, and is measured on the states whose shared part hashes to 0 mod SAMPLE; a candidate on
// the shared part merges only states with the same threads, and is measured on the states whose
// threads hash to 0 mod SAMPLE_SHARED.
//
//   npm run bench -- states [scenario-substring [flavor]]     (default: odirect-vs-fault-multipage, linux-2.6.15)
//   env: SAMPLE=K  SAMPLE_SHARED=K  PERPC=1  PAIRS='L:proc:local+L:proc:local,...' (each local L:proc:name)
//
// docs/explore.md "2026-12-05 (session 27)" has its figures for linux-6.1 and linux-6.12.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMachine, loadScenario, resolveFlavor, stateKey } from '../packages/mm-model/dist/index.js';
import { explore } from '../packages/explore/dist/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** cyrb53: a 53-bit string hash. */
function h53(str) {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < str.length; i++) {
    const ch = str.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** A set of 53-bit hashes (open addressing). */
class HashSet {
  constructor(bits = 16) {
    this.cap = 1 << bits;
    this.a = new Float64Array(this.cap);
    this.n = 0;
  }
  add(x) {
    const v0 = x + 1; // 0 = empty
    if (this.n * 2 > this.cap) this.grow();
    const a = this.a;
    for (let i = (v0 % this.cap) >>> 0; ; i = (i + 1) & (this.cap - 1)) {
      if (a[i] === 0) {
        a[i] = v0;
        this.n++;
        return;
      }
      if (a[i] === v0) return;
    }
  }
  grow() {
    const old = this.a;
    this.cap *= 2;
    this.a = new Float64Array(this.cap);
    this.n = 0;
    for (const v of old) if (v !== 0) this.add(v - 1);
  }
}

const UNLOCKED = { writer: -1, readers: [] };
const pagesWith = (s, fx) => ({ ...s, pages: s.pages.map((p) => (p ? fx(p) : p)) });
const mapsWith = (s, fx) => ({ ...s, maps: s.maps.map(fx) });

/** pfns renumbered by first sight in the caches, then the PTE rows (locals not renamed: an estimate only). */
function pfnCanonical(s) {
  const map = new Map();
  const see = (p) => {
    if (p > 0 && !map.has(p)) map.set(p, map.size + 1);
  };
  for (const m of s.maps) for (const p of m.cache) see(p);
  for (const row of s.ptes) for (const p of row) see(p);
  s.pages.forEach((p, i) => p && see(i));
  const r = (p) => (p > 0 ? (map.get(p) ?? p) : p);
  const pages = [];
  s.pages.forEach((p, i) => {
    if (p) pages[r(i)] = { ...p, pfn: r(i) };
  });
  for (let i = 0; i < pages.length; i++) if (pages[i] === undefined) pages[i] = undefined;
  return {
    ...s,
    pages,
    maps: s.maps.map((m) => ({ ...m, cache: m.cache.map(r) })),
    ptes: s.ptes.map((row) => row.map(r)),
    pmds: s.pmds?.map((x) => (x > 0 ? r(x) : x)),
  };
}

/** Candidates on the shared part: state → state (its threads are not looked at). */
const SHARED = {
  'page data': (s) => pagesWith(s, (p) => ({ ...p, data: 0 })),
  'page flags': (s) => pagesWith(s, (p) => ({ ...p, flags: 0 })),
  'page refcount': (s) => pagesWith(s, (p) => ({ ...p, refcount: 0 })),
  'page mapcount': (s) => pagesWith(s, (p) => ({ ...p, mapcount: 0 })),
  'page locker': (s) => pagesWith(s, (p) => ({ ...p, locker: 0 })),
  'page mapping, index': (s) => pagesWith(s, (p) => ({ ...p, mapping: 0, index: 0 })),
  'page order, pmap, entire': (s) => pagesWith(s, (p) => ({ ...p, order: undefined, pmap: undefined, entire: undefined })),
  'pages (every field)': (s) => ({ ...s, pages: [] }),
  'cache (the xarray)': (s) => mapsWith(s, (m) => ({ ...m, cache: [] })),
  'isize': (s) => mapsWith(s, (m) => ({ ...m, isize: 0 })),
  'truncateCount': (s) => mapsWith(s, (m) => ({ ...m, truncateCount: 0 })),
  'nrpages': (s) => mapsWith(s, (m) => ({ ...m, nrpages: 0 })),
  'sslWriters, sslSequence': (s) => mapsWith(s, (m) => ({ ...m, sslWriters: 0, sslSequence: 0 })),
  'invalidateLock': (s) => mapsWith(s, (m) => ({ ...m, invalidateLock: UNLOCKED })),
  'immap': (s) => mapsWith(s, (m) => ({ ...m, immap: UNLOCKED })),
  'ilock': (s) => mapsWith(s, (m) => ({ ...m, ilock: UNLOCKED })),
  'coherent': (s) => mapsWith(s, (m) => ({ ...m, coherent: [] })),
  'eofSettled': (s) => mapsWith(s, (m) => ({ ...m, eofSettled: undefined })),
  'bmap, hole, gen, floor': (s) => mapsWith(s, (m) => ({ ...m, bmap: [], hole: [], gen: [], floor: [] })),
  'disk': (s) => ({ ...s, disk: [] }),
  'ptes': (s) => ({ ...s, ptes: [] }),
  'ptl': (s) => ({ ...s, ptl: [] }),
  'pmds': (s) => ({ ...s, pmds: undefined }),
  'pted': (s) => ({ ...s, pted: undefined }),
  'pfn numbering (locals not renamed: an estimate)': pfnCanonical,
  'the whole shared part (not sound: a bound)': () => ({ pages: [], maps: [], ptes: [], ptl: [], disk: [], threads: [] }),
};

const localsKey = (l, skip) => {
  let k = '{';
  for (const n in l) {
    if (n === skip) continue;
    const v = l[n];
    k += `${n}=${typeof v === 'number' ? v : `[${v.join(',')}]`},`;
  }
  return `${k}}`;
};
/** A thread's key; `fx(frame, i, frames)` may give a frame's replacement text. */
function threadKey(t, fx) {
  let k = t.status === 'run' ? '' : t.status;
  if (t.obs) k += `o${t.obs.join(',')}`;
  if (t.wrote) k += `w${t.wrote.join(',')}`;
  t.frames.forEach((f, i) => {
    k += fx?.(f, i, t.frames.length) ?? `${f.proc}@${f.pc}${localsKey(f.l)}>`;
  });
  return `${k};`;
}
const bare = (f) => `${f.proc}@${f.pc}{}>`;
/** Candidates on the threads: a frame's replacement text, or undefined to keep it. */
const THREAD = {
  'every local (not sound: a bound)': bare,
  'locals of frames below the top one': (f, i, n) => (i === n - 1 ? undefined : bare(f)),
  'rv everywhere': (f) => `${f.proc}@${f.pc}${localsKey(f.l, 'rv')}>`,
};
const erase = (proc, name, pc) => (f) => (f.proc === proc && (pc === undefined || f.pc === pc) ? `${f.proc}@${f.pc}${localsKey(f.l, name)}>` : undefined);

export default async function states(args = []) {
  const [want = 'odirect-vs-fault-multipage', flavorName = 'linux-2.6.15'] = args;
  const dir = path.join(root, 'fixtures/scenarios');
  const file = readdirSync(dir)
    .filter((f) => f.includes(want))
    .sort()[0];
  if (!file) throw new Error(`no shipped scenario matches ${want}`);
  const m = createMachine(await loadScenario(path.join(dir, file)), await resolveFlavor(flavorName));
  const K = Number(process.env.SAMPLE ?? 1);
  const KS = Number(process.env.SAMPLE_SHARED ?? 1);
  const perPc = process.env.PERPC === '1';
  const pairs = (process.env.PAIRS ?? '')
    .split(',')
    .filter(Boolean)
    .map((p) => p.split('+'));
  for (const [a, b] of pairs) for (const x of [a, b]) if (!/^L:[^:]+:[^:]+$/.test(x)) throw new Error(`PAIRS: ${x} is not L:proc:local`);

  const sets = new Map();
  const set = (k) => {
    let s = sets.get(k);
    if (!s) sets.set(k, (s = new HashSet()));
    return s;
  };
  const comb = (hs, th) => {
    let k = `${hs}`;
    for (const t of th) k += `,${t}`;
    return h53(k);
  };
  // per-local candidates: a state where the local is absent keeps its own key, added at the end from a bitmask
  const locals = new Map();
  const W = 32;
  let bits = new Uint32Array(W * 1024);
  const sampleHashes = [];
  const perLocal = (key, st, hash) => {
    let c = locals.get(key);
    if (!c) {
      c = { id: locals.size, set: new HashSet() };
      if (c.id >= W * 32) throw new Error('more than 1024 per-local candidates');
      locals.set(key, c);
    }
    bits[st * W + (c.id >>> 5)] |= 1 << (c.id & 31);
    c.set.add(hash);
  };
  let n = 0;
  let last;
  const seen = (s) => {
    n++;
    const hs = h53(stateKey({ ...s, threads: [] }));
    const th = s.threads.map((t) => h53(threadKey(t)));
    const base = comb(hs, th);
    set('base').add(base);
    // a shared candidate merges only states with the same threads: sampled by the threads' hash
    if (comb(0, th) % KS === 0) {
      set('shared sample').add(base);
      for (const [k, f] of Object.entries(SHARED)) set(k).add(comb(h53(stateKey({ ...f(s), threads: [] })), th));
    }
    // a thread candidate merges only states with the same shared part: sampled by its hash
    if (hs % K !== 0) return;
    const st = sampleHashes.length;
    sampleHashes.push(base);
    if ((st + 1) * W > bits.length) {
      const nb = new Uint32Array(bits.length * 2);
      nb.set(bits);
      bits = nb;
    }
    set('sample').add(base);
    for (const [k, fx] of Object.entries(THREAD))
      set(k).add(
        comb(
          hs,
          s.threads.map((t) => h53(threadKey(t, fx))),
        ),
      );
    // only the threads with a frame of `proc` change
    const without = (proc, fx) => s.threads.map((t, i) => (t.frames.some((f) => f.proc === proc) ? h53(threadKey(t, fx)) : th[i]));
    const present = new Set();
    const presentPc = new Set();
    for (const t of s.threads)
      for (const f of t.frames)
        for (const k in f.l) {
          present.add(`${f.proc}:${k}`);
          if (perPc) presentPc.add(`${f.proc}@${f.pc}:${k}`);
        }
    for (const key of present) {
      const [proc, name] = key.split(':');
      perLocal(key, st, comb(hs, without(proc, erase(proc, name))));
    }
    for (const key of presentPc) {
      const [where, name] = key.split(':');
      const [proc, pc] = where.split('@');
      perLocal(key, st, comb(hs, without(proc, erase(proc, name, pc))));
    }
    for (const [a, b] of pairs) {
      const ls = [a, b].map((x) => x.split(':').slice(1));
      const fx = (f) => {
        let l = f.l;
        for (const [proc, name] of ls)
          if (f.proc === proc && name in l) {
            l = { ...l };
            delete l[name];
          }
        return l === f.l ? undefined : `${f.proc}@${f.pc}${localsKey(l)}>`;
      };
      set(`${a} + ${b}`).add(
        comb(
          hs,
          s.threads.map((t) => h53(threadKey(t, fx))),
        ),
      );
    }
  };
  const advance = m.advance.bind(m);
  m.advance = (s, t) => {
    if (s !== last) {
      last = s;
      seen(s);
    }
    return advance(s, t);
  };
  const t0 = process.cpuUsage();
  // every step run (no step memoization), so that the wrapped advance sees every state
  const r = await explore(m, { strategy: 'exhaustive', memoSteps: false, maxStates: Number(process.env.MAX_STATES ?? 8_000_000) });
  const u = process.cpuUsage(t0);
  for (const c of locals.values()) {
    const w = c.id >>> 5;
    const b = 1 << (c.id & 31);
    for (let i = 0; i < sampleHashes.length; i++) if ((bits[i * W + w] & b) === 0) c.set.add(sampleHashes[i]);
  }
  const row = (name, count, of) =>
    console.log(`  ${name.padEnd(64)} ${String(count).padStart(10)}  ${((100 * (of - count)) / of).toFixed(2).padStart(6)} % fewer`);
  console.log(
    `${file} on ${flavorName}: ${r.verdict}, ${r.stats.distinctStates} distinct states, ${n} expanded, ${((u.user + u.system) / 1e6).toFixed(1)} CPU-s with the keys`,
  );
  const all = sets.get('shared sample')?.n ?? 0;
  console.log(`  on the shared part, ${KS === 1 ? 'every state' : `the states whose threads hash to 0 mod ${KS}`} (${all}):`);
  for (const k of Object.keys(SHARED)) if (all) row(k, sets.get(k).n, all);
  const sample = sets.get('sample')?.n ?? 0;
  console.log(`  on the threads, ${K === 1 ? 'every state' : `the states whose shared part hashes to 0 mod ${K}`} (${sample}):`);
  if (sample === 0) return;
  for (const k of Object.keys(THREAD)) row(k, sets.get(k).n, sample);
  for (const [a, b] of pairs) row(`${a} + ${b}`, sets.get(`${a} + ${b}`).n, sample);
  const ranked = (pc) =>
    [...locals]
      .filter(([k]) => k.includes('@') === pc)
      .map(([k, c]) => [k, c.set.n])
      .filter(([, c]) => c < sample)
      .sort((x, y) => x[1] - y[1] || (x[0] < y[0] ? -1 : 1));
  console.log('  one local erased in every frame of its procedure (those that merge any state):');
  for (const [k, c] of ranked(false)) row(k, c, sample);
  if (perPc) {
    console.log('  one local erased at one program point (top 40):');
    for (const [k, c] of ranked(true).slice(0, 40)) row(k, c, sample);
  }
}
