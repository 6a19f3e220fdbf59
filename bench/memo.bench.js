// memo: could the exhaustive search reuse a thread's step across states (step memoization,
// transition caching)? An oracle, like movers.bench.js: it wraps the machine's decode, advance and
// encode and leaves the explorer's code path as it is.
//
// In an interleaving search thread t's step from S and from S' makes the same new parts when S and
// S' differ only in parts the step does not read. mm-model's steps read the shared part of the state
// (pages, mappings, PTEs, PMDs, locks and their owners, the disk) and their own thread (Ctx keeps
// `state.threads[tid]` and nothing else of `threads`: ctx.ts, the constructor and `finish`); no
// flavor step reads `state.threads` (grep). One thing after the step does: the renumbering of data
// generations (data.ts `alreadyCanonical`, `renumber`) reads and rewrites every thread's read and
// write in progress (`ThreadS.obs`, `ThreadS.wrote`). Three keys are measured over the words of
// the state S the step starts from (the search has them: it decodes S from them):
//   K1 every other thread's part word (a thread is one part: encode.ts) replaced by a placeholder, and t;
//   K2 as K1, but another thread's word is kept when that thread has a read or a write in progress
//      (obs/wrote), which the renumbering reads;
//   K3 the number of S's shared words (before the threads', interned once per state), thread t's
//      word, t, and the other threads' obs and wrote themselves — the explorer's `memoSteps` key;
//   K4 K3 with the words of the places of the shared part the step read in place of the shared
//      words' number (a recording Proxy over the state's root arrays: see the K4 section below;
//      docs/explore.md, session 30). Its value is the words of the places the step wrote or
//      changed, put into the state's own words on a hit.
// The memoized value is the successor's words with the other threads' words replaced by the
// placeholder, its violations, and (with step() beside advance) its ops and effect text. A hit
// is verified: the real successor's words must be the memo's with S's other threads spliced in,
// and the violations, ops and effect text equal. A mismatch means the key is unsound; the first
// is printed with the step that made it. A key whose first step rewrote another thread (the
// renumbering) is one a build runs every time: its later hits are counted as run again, not hits.
//
// A second search (MEMO_TIME=1, on by default) times, per expansion, the step (advance), the
// encode of its successor, K3's build and lookup, and what a build would add (the successor's
// words appended to an arena on a miss, the splice on a hit), with performance.now() around each call (its own cost
// measured and subtracted). The saving is an estimate: a hit skips the step and the successor's
// encode; decode, readiness and the visited set's lookup stay.
//
//   npm run bench memo [-- scenario-substring [flavor ...]]   default: odirect-vs-fault-multipage on linux-2.6.15
//   npm run bench memo -- all                                 every shipped scenario × flavor but multipage, totals
// Environment: MEMO_K4=0 leaves K4 out (the verifying search then runs each step once, unnoted); MEMO_TIME=0 skips the timing search; MEMO_OPS=0 verifies without step()'s ops and
// effects (advance only); MEMO_VERIFY=0 skips the verifying (and timing) search; MEMO_AB=N times
// the explorer's own memoization (`memoSteps`) against the plain search, N rounds alternated;
// MAX_STATES caps a search (default: the explorer's).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WordTable, grownInt32 } from '../packages/core/dist/index.js';
import { Ctx, createMachine, loadScenario, resolveFlavor } from '../packages/mm-model/dist/index.js';
import { explore } from '../packages/explore/dist/index.js';
import { cases } from '../packages/explore/test/golden/record.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Not a part number (encode.ts: a part word is TAG_PART | id << 3, id ≥ 0). */
const MASKED = -1;
const TAG_PART = 7;
const TAG_ARRAY = 1;

/** The position of thread 0's word in a state's words: `threads` is the root's last field, an array of T parts. */
function threadsAt(w, n, T) {
  const at = n - T;
  if (w[at - 1] !== ((T << 3) | TAG_ARRAY)) throw new Error(`the state's words do not end with its ${T} threads' array (word ${w[at - 1]})`);
  for (let i = at; i < n; i++) if ((w[i] & 7) !== TAG_PART) throw new Error(`thread ${i - at} is not one part (word ${w[i]})`);
  return at;
}

/**
 * K3's key: the id of the state's shared words (everything before the threads' array, interned in
 * `shared`), thread t's word, t, and every other thread's read and write in progress (what the
 * renumbering reads of it), each list as its length (-1: none) and its numbers.
 */
function k3Key(shared, sid, s, w, at, t, out) {
  let k = 0;
  out[k++] = sid;
  out[k++] = w[at + t];
  out[k++] = t;
  const threads = s.threads;
  for (let u = 0; u < threads.length; u++) {
    if (u === t) continue;
    const th = threads[u];
    k = listInto(th.obs, out, k);
    k = listInto(th.wrote, out, k);
  }
  return k;
}

function listInto(list, out, k) {
  if (list === undefined) {
    out[k] = -1;
    return k + 1;
  }
  if (k + list.length + 1 > out.length) throw new Error('K3 key buffer too small');
  out[k++] = list.length;
  for (let i = 0; i < list.length; i++) out[k++] = list[i];
  return k;
}

/** An id per distinct string (violations, ops, effects), for the value words. */
class Strings {
  ids = new Map();
  id(s) {
    let id = this.ids.get(s);
    if (id === undefined) this.ids.set(s, (id = this.ids.size));
    return id;
  }
}
const json = (x) => JSON.stringify(x, (_, v) => (typeof v === 'bigint' ? `${v}n` : v));

/** A memo: key words → the id of the value words. */
class Memo {
  keys = new WordTable();
  values = new WordTable();
  valueOf = new Int32Array(1024);
  hits = 0;
  /** Hits on a key whose first step rewrote another thread: a build runs those steps (step-memo.ts RUN). */
  runs = 0;
  mismatches = 0;
  first = undefined;
  /** Look the key up: the value's id on a hit, else -1 after recording `value`. */
  lookup(key, kn, value, vn) {
    const k = this.keys.add(key, kn);
    if (k < 0) {
      this.hits++;
      return this.valueOf[~k];
    }
    if (k >= this.valueOf.length) this.valueOf = grownInt32(this.valueOf, k + 1);
    const v = this.values.add(value, vn);
    this.valueOf[k] = v < 0 ? ~v : v;
    return -1;
  }
}

// ---------------------------------------------------------------------------------------------
// K4: a key on what the step read of the shared part. A thread's step is run on a recording
// Proxy of the state: the root's arrays (pages, maps, ptes, ptl, disk, pmds, pted) record which
// elements the step reads and writes, at the granularity of the state's words (encode.ts: one
// word per element of a root array — a page, a mapping, a PTE row, a lock owner, a disk block —
// or, for an array longer than 64, one word per chunk of 32). Recording is on from the step's
// start to `Ctx.finish`; what comes after (the data renumbering) is accounted for below.
// Per head (thread t's word, t, the other threads' reads and writes in progress: K3 without the
// shared part's id) a list of read sets; per (head, read set, the words at those places) the
// result. A step from a state that agrees with an entry on every place it read is a hit.
// ---------------------------------------------------------------------------------------------
const FIELDS = ['disk', 'maps', 'pages', 'pmds', 'pted', 'ptes', 'ptl'];
const FIELD_NO = new Map(FIELDS.map((f, i) => [f, i]));
const LONG = 64;
const CHUNK = 32;
/** Not a word (encode.ts: a small integer x has |x| < 2^27; a word is x << 3 | tag). */
const ABSENT = -2147483648;
/** Coordinates: the root shape, a field's header (its length), an element or chunk of a field. */
const C_SHAPE = 0;
const coord = (f, slot, chunked) => ((f + 1) << 24) | (chunked ? 1 << 23 : 0) | (slot + 1);
const coordField = (c) => (c >>> 24) - 1;
const coordSlot = (c) => (c & ((1 << 23) - 1)) - 1;
const coordChunked = (c) => (c & (1 << 23)) !== 0;

/** How many words an element of a root array takes (encode.ts: a float is its tag and two words; parts, small integers, strings and constants one). */
function widthAt(w, p) {
  const tag = w[p] & 7;
  if (tag === 4) return 3;
  if (tag === TAG_ARRAY || tag === 2 || tag === 6) throw new Error(`an element of a root array tagged ${tag} inline`);
  return 1;
}

/**
 * Where each root array's words are in a state's words: per field number, { h: its header's
 * position, n: its length, chunked, pos: where each slot (element, or chunk of 32) starts, and
 * one past the last }, or undefined when the root has no such field. Checks the words add up to
 * the threads' array.
 */
function layoutOf(s, w, at) {
  const names = Object.keys(s)
    .filter((k) => s[k] !== undefined && s[k] !== false)
    .sort();
  if (names[names.length - 1] !== 'threads') throw new Error(`the root's last field is ${names[names.length - 1]}`);
  const lay = new Array(FIELDS.length);
  let p = 1;
  for (const name of names) {
    if (name === 'threads') break;
    const f = FIELD_NO.get(name);
    if (f === undefined) throw new Error(`a root field K4 does not know: ${name}`);
    const h = w[p];
    if ((h & 7) !== TAG_ARRAY) throw new Error(`root field ${name} is not an array (word ${h} at ${p})`);
    const n = h >> 3;
    if (n !== s[name].length) throw new Error(`root field ${name}: header ${n}, array ${s[name].length}`);
    const chunked = n > LONG;
    const slots = chunked ? Math.ceil(n / CHUNK) : n;
    const pos = new Int32Array(slots + 1);
    let q = p + 1;
    for (let i = 0; i < slots; i++) {
      pos[i] = q;
      q += chunked ? 1 : widthAt(w, q);
    }
    pos[slots] = q;
    lay[f] = { h: p, n, chunked, pos };
    p = q;
  }
  if (p !== at - 1) throw new Error(`the shared words end at ${p}, the threads' array starts at ${at - 1}`);
  return lay;
}

/** The words at coordinate c of a state (its words w, its layout) into out from k (ABSENT when it has no such place); where they end. */
function wordsAt(c, w, lay, out, k) {
  if (c === C_SHAPE) {
    out[k] = w[0];
    return k + 1;
  }
  const l = lay[coordField(c)];
  const slot = coordSlot(c);
  if (l !== undefined && slot < 0) {
    out[k] = w[l.h];
    return k + 1;
  }
  if (l === undefined || coordChunked(c) !== l.chunked || slot >= l.pos.length - 1) {
    out[k] = ABSENT;
    return k + 1;
  }
  for (let p = l.pos[slot]; p < l.pos[slot + 1]; p++) out[k++] = w[p];
  return k;
}

/** Every coordinate of a state (a step that reads all of it). */
function allCoords(lay) {
  const out = [C_SHAPE];
  for (let f = 0; f < FIELDS.length; f++) {
    const l = lay[f];
    if (l === undefined) continue;
    out.push(coord(f, -1, false));
    for (let i = 0; i < l.pos.length - 1; i++) out.push(coord(f, i, l.chunked));
  }
  return out;
}

const isIndex = (p) => typeof p === 'string' && p.length > 0 && p.charCodeAt(0) >= 48 && p.charCodeAt(0) <= 57;

class Recorder {
  on = false;
  /** Reads and writes as [field number, index] pairs (index -1: the length, -2: every element), in order. */
  reads = [];
  writes = [];
  proxies = new WeakMap();
  targets = new WeakMap();
  arr(f, a) {
    let p = this.proxies.get(a);
    if (p !== undefined) return p;
    const read = (i) => {
      if (this.on) this.reads.push(f, i);
    };
    const wrote = (i) => {
      if (this.on) this.writes.push(f, i);
    };
    p = new Proxy(a, {
      get: (target, prop) => {
        if (isIndex(prop)) {
          read(Number(prop));
          return target[prop];
        }
        if (prop === 'length') {
          read(-1);
          return target.length;
        }
        // the copy on write reads nothing: the copy's elements (where they were) are recorded when read
        if (prop === 'slice') return (...a2) => (a2.length === 0 ? this.arr(f, target.slice()) : Array.prototype.slice.apply(p, a2));
        return Reflect.get(target, prop, p);
      },
      set: (target, prop, v) => {
        if (isIndex(prop)) wrote(Number(prop));
        else if (prop === 'length') wrote(-1);
        target[prop] = v;
        return true;
      },
      deleteProperty: (target, prop) => {
        if (isIndex(prop)) wrote(Number(prop));
        return Reflect.deleteProperty(target, prop);
      },
      has: (target, prop) => {
        if (isIndex(prop)) read(Number(prop));
        return Reflect.has(target, prop);
      },
      ownKeys: (target) => {
        read(-2);
        return Reflect.ownKeys(target);
      },
      getOwnPropertyDescriptor: (target, prop) => {
        if (isIndex(prop)) read(Number(prop));
        else if (prop === 'length') read(-1);
        return Reflect.getOwnPropertyDescriptor(target, prop);
      },
    });
    this.proxies.set(a, p);
    this.targets.set(p, a);
    return p;
  }
  root(s) {
    let p = this.proxies.get(s);
    if (p !== undefined) return p;
    p = new Proxy(s, {
      get: (target, prop) => {
        const v = target[prop];
        const f = typeof prop === 'string' ? FIELD_NO.get(prop) : undefined;
        return f !== undefined && Array.isArray(v) ? this.arr(f, v) : v;
      },
    });
    this.proxies.set(s, p);
    return p;
  }
  /** The state a step made, its root's arrays unwrapped. */
  unwrap(r) {
    const out = { ...r };
    for (const k of Object.keys(out)) {
      const t = this.targets.get(out[k]);
      if (t !== undefined) out[k] = t;
    }
    return out;
  }
}

/** The K4 memo: heads, read sets, entries. */
class K4 {
  heads = new WordTable();
  /** Per head id: the ids of the read sets met with it, in the order met. */
  setsOf = [];
  sets = new WordTable();
  setCoords = [];
  entries = new WordTable();
  /** Per entry id: its value (a probe that missed leaves an id with none). */
  valueOf = [];
  hits = 0;
  runs = 0;
  mismatches = 0;
  first = undefined;
  /** Entries kept, and of them those that read the whole shared part (data renumbered, a root field added or dropped) or rewrote a root array (its length changed). */
  kept = 0;
  full = 0;
  fullData = 0;
  rewrites = 0;
  readsSum = 0;
  /** Changed words no element write the Proxy saw made (then also read). */
  untrapped = 0;
  buf = new Int32Array(1 << 16);
  /** The value of the entry a state's step matches, or undefined. */
  find(h, w, lay) {
    const sets = this.setsOf[h];
    if (sets === undefined) return undefined;
    const b = this.buf;
    for (const sid of sets) {
      const cs = this.setCoords[sid];
      b[0] = h;
      b[1] = sid;
      let k = 2;
      for (let i = 0; i < cs.length; i++) k = wordsAt(cs[i], w, lay, b, k);
      const e = this.entries.add(b, k);
      if (e < 0 && this.valueOf[~e]) return this.valueOf[~e];
    }
    return undefined;
  }
  /** Keep an entry: head h, read coordinates `cs` (sorted, distinct) with the words of the state (w, lay), its value. */
  keep(h, cs, w, lay, value) {
    if (3 * cs.length + 2 > this.buf.length) this.buf = new Int32Array(2 * (3 * cs.length + 2));
    const ci = Int32Array.from(cs);
    let sid = this.sets.add(ci, ci.length);
    if (sid < 0) sid = ~sid;
    else this.setCoords[sid] = ci;
    const list = (this.setsOf[h] ??= []);
    if (!list.includes(sid)) list.push(sid);
    const b = this.buf;
    b[0] = h;
    b[1] = sid;
    let k = 2;
    for (let i = 0; i < cs.length; i++) k = wordsAt(cs[i], w, lay, b, k);
    let e = this.entries.add(b, k);
    if (e < 0) e = ~e;
    this.valueOf[e] = value;
    this.kept++;
    this.readsSum += cs.length;
  }
}

/** Coordinates of a [field, index] list in a state's layout (index -1: the field's length). */
function coordsOf(pairs, lay, out) {
  for (let i = 0; i < pairs.length; i += 2) {
    const f = pairs[i];
    const idx = pairs[i + 1];
    const l = lay[f];
    if (idx === -2 && l !== undefined) {
      out.add(coord(f, -1, false));
      for (let i = 0; i < l.pos.length - 1; i++) out.add(coord(f, i, l.chunked));
    } else if (idx < 0) out.add(coord(f, -1, false));
    else if (l === undefined) out.add(coord(f, idx, false));
    else out.add(coord(f, l.chunked ? Math.floor(idx / CHUNK) : idx, l.chunked));
  }
}

/**
 * K4's entry for the step just run from (w, lay) to (rw, rlay): its read coordinates and its
 * value. `renumbered`: the data renumbering ran after the step (Ctx.dataUntouched was false), and
 * it reads every page, block and mapping: the entry then reads the whole shared part, as does
 * one whose step added or dropped a root field.
 */
function k4Entry(rec, w, at, lay, rw, rat, rlay, t, strId, others, renumbered, k4) {
  const value = { full: undefined, writes: [], rewrites: new Map(), own: rw[rat + t], strId, others };
  if (renumbered || rw[0] !== w[0]) {
    k4.full++;
    if (renumbered) k4.fullData++;
    value.full = rw.slice(0, rat);
    return { cs: allCoords(lay), value };
  }
  const reads = new Set([C_SHAPE]);
  coordsOf(rec.reads, lay, reads);
  const written = new Set();
  coordsOf(rec.writes, lay, written);
  for (let f = 0; f < FIELDS.length; f++) {
    const l = lay[f];
    const rl = rlay[f];
    if (l === undefined) continue;
    const slots = l.pos.length - 1;
    if (rw[rl.h] !== w[l.h]) {
      // its length changed: the step read the whole array (conservative), its words are the value
      value.rewrites.set(f, rw.slice(rl.h, rl.pos[rl.pos.length - 1]));
      reads.add(coord(f, -1, false));
      for (let i = 0; i < slots; i++) reads.add(coord(f, i, l.chunked));
      k4.rewrites++;
      continue;
    }
    for (let i = 0; i < slots; i++) {
      const c = coord(f, i, l.chunked);
      let same = l.pos[i + 1] - l.pos[i] === rl.pos[i + 1] - rl.pos[i];
      for (let p = l.pos[i], q = rl.pos[i]; same && p < l.pos[i + 1]; p++, q++) same = w[p] === rw[q];
      if (!same && !written.has(c)) {
        // changed, but not through an element write the Proxy saw: read it too
        k4.untrapped++;
        reads.add(c);
      }
      // a chunk holds 32 elements: writing one keeps the others, which the step need not have read
      if (l.chunked && written.has(c)) reads.add(c);
      if (!same || written.has(c)) value.writes.push(c, rw.slice(rl.pos[i], rl.pos[i + 1]));
    }
  }
  return { cs: [...reads].sort((a, b) => a - b), value };
}

/** The shared words K4's value predicts from a state's (w, at, lay). */
function k4Predict(value, w, at, lay) {
  if (value.full) return value.full;
  const out = [w[0]];
  const wr = new Map();
  for (let i = 0; i < value.writes.length; i += 2) wr.set(value.writes[i], value.writes[i + 1]);
  for (let f = 0; f < FIELDS.length; f++) {
    const l = lay[f];
    if (l === undefined) continue;
    const rwf = value.rewrites.get(f);
    if (rwf) {
      for (const x of rwf) out.push(x);
      continue;
    }
    out.push(w[l.h]);
    for (let i = 0; i < l.pos.length - 1; i++) {
      const x = wr.get(coord(f, i, l.chunked));
      if (x !== undefined) for (const y of x) out.push(y);
      else for (let p = l.pos[i]; p < l.pos[i + 1]; p++) out.push(w[p]);
    }
  }
  out.push(w[at - 1]);
  return out;
}

/** While a K4 search runs a step: the Recorder (its recording stops at Ctx.finish) and Ctx.dataUntouched's answer. */
const capture = { rec: undefined, untouched: undefined };
{
  const finish = Ctx.prototype.finish;
  Ctx.prototype.finish = function () {
    if (capture.rec) capture.rec.on = false;
    return finish.call(this);
  };
  const d = Object.getOwnPropertyDescriptor(Ctx.prototype, 'dataUntouched');
  Object.defineProperty(Ctx.prototype, 'dataUntouched', {
    get() {
      const v = d.get.call(this);
      if (capture.rec) capture.untouched = v;
      return v;
    },
  });
}

/** Wrap m's decode, advance, encode for one search; `onStep(s, w, n, t, r)` hears every expansion with S's words. */
function wrap(m, onStep) {
  const orig = { decode: m.decode, advance: m.advance, encode: m.encode };
  let lastS;
  let lastW = new Int32Array(256);
  let lastN = 0;
  let buf = new Int32Array(256);
  let decodes = 0;
  const encodeInto = (s) => {
    let n = orig.encode.call(m, s, buf);
    if (n > buf.length) {
      buf = new Int32Array(2 * n);
      n = orig.encode.call(m, s, buf);
    }
    return n;
  };
  m.decode = (w, n) => {
    const s = orig.decode.call(m, w, n);
    decodes++;
    if (n > lastW.length) lastW = new Int32Array(2 * n);
    for (let i = 0; i < n; i++) lastW[i] = w[i];
    lastN = n;
    lastS = s;
    return s;
  };
  m.advance = (s, t) => {
    if (s !== lastS) {
      // a state the search did not decode just before (liveness, the initial one): its words
      lastN = encodeInto(s);
      if (lastN > lastW.length) lastW = new Int32Array(2 * lastN);
      lastW.set(buf.subarray(0, lastN));
      lastS = s;
    }
    return onStep(s, lastW, lastN, t, (x = s) => orig.advance.call(m, x, t));
  };
  return {
    encodeInto,
    get buf() {
      return buf;
    },
    get decodes() {
      return decodes;
    },
    orig,
    restore() {
      Object.assign(m, orig);
    },
  };
}

/** The verifying search: hit counts and mismatches for K1 and K2. */
async function verify(m, withOps, withK4) {
  const T = m.threads.length;
  const k1 = new Memo();
  const k2 = new Memo();
  const k3 = new Memo();
  const shared = new WordTable();
  let sidOf;
  let sid = -1; // the shared words' id of sidOf
  const small = new Int32Array(4096);
  const strings = new Strings();
  let key = new Int32Array(256);
  let val = new Int32Array(256);
  let got = new Int32Array(256);
  let expansions = 0;
  let touchedOthers = 0;
  let firstTouch;
  const describe = (s, t) => {
    const th = s.threads[t];
    const f = th.frames[th.frames.length - 1];
    return f ? `T${t} ${f.proc}@${f.pc}` : `T${t} (${th.status})`;
  };
  const k4 = withK4 ? new K4() : undefined;
  const rec = new Recorder();
  let primedS;
  let primedAt = -1;
  let layS;
  let lay;
  const w8 = wrap(m, (s, w, n, t, run) => {
    expansions++;
    let r;
    let renumbered = false;
    if (k4) {
      // the step on a recording Proxy of s; first once unrecorded, so that advance's check that
      // s is canonical (alreadyCanonical, which reads every page) is asked of the Proxy already
      const px = rec.root(s);
      if (primedS !== s || primedAt !== w8.decodes) {
        run(px);
        primedS = s;
        primedAt = w8.decodes;
      }
      rec.reads.length = 0;
      rec.writes.length = 0;
      capture.rec = rec;
      capture.untouched = undefined;
      rec.on = true;
      const r0 = run(px);
      rec.on = false;
      capture.rec = undefined;
      renumbered = capture.untouched !== true;
      r = { state: rec.unwrap(r0.state), violations: r0.violations };
    } else r = run();
    const at = threadsAt(w, n, T);
    // the successor's words
    const rn = w8.encodeInto(r.state);
    const rw = w8.buf;
    const rat = threadsAt(rw, rn, T);
    let tail = r.violations.length ? json(r.violations) : '';
    if (withOps) {
      const full = m.step(s, t);
      tail += `|${json(full.ops)}|${full.effect}`;
    }
    const strId = strings.id(tail);
    // did the step (its canonical renumbering) change another thread's part?
    let others = true;
    for (let u = 0; u < T; u++) if (u !== t && rw[rat + u] !== w[at + u]) others = false;
    if (!others) {
      touchedOthers++;
      firstTouch ??= describe(s, t);
    }
    // the value: the successor's words, other threads masked, the string id, whether it rewrote another thread
    if (rn + 2 > val.length) val = new Int32Array(2 * (rn + 2));
    for (let i = 0; i < rn; i++) val[i] = rw[i];
    for (let u = 0; u < T; u++) if (u !== t) val[rat + u] = MASKED;
    val[rn] = strId;
    val[rn + 1] = others ? 0 : 1;
    if (n + 1 > key.length) key = new Int32Array(2 * (n + 1));
    if (sidOf !== s) {
      sidOf = s;
      const id = shared.add(w, at);
      sid = id < 0 ? ~id : id;
    }
    if (k4) {
      if (layS !== s) {
        layS = s;
        lay = layoutOf(s, w, at);
      }
      const hn = k3Key(shared, sid, s, w, at, t, small);
      small[0] = 0;
      let h = k4.heads.add(small, hn);
      if (h < 0) h = ~h;
      const v = k4.find(h, w, lay);
      if (v === undefined) {
        const rlay = layoutOf(r.state, rw, rat);
        const { cs, value } = k4Entry(rec, w, at, lay, rw, rat, rlay, t, strId, others, renumbered, k4);
        k4.keep(h, cs, w, lay, value);
      } else if (!v.others) {
        k4.runs++;
      } else {
        k4.hits++;
        const pred = k4Predict(v, w, at, lay);
        let same = pred.length === rat && rn === rat + T && rw[rat + t] === v.own && v.strId === strId && others;
        for (let i = 0; same && i < rat; i++) if (pred[i] !== rw[i]) same = false;
        if (!same) {
          k4.mismatches++;
          if (!k4.first) {
            let i = 0;
            while (i < rat && pred[i] === rw[i]) i++;
            k4.first = `${describe(s, t)}: ${
              v.strId !== strId
                ? 'violations, ops or effects differ'
                : !others
                  ? "the step rewrote another thread's part"
                  : rw[rat + t] !== v.own
                    ? 'its own thread differs'
                    : `the shared words differ from word ${i} of ${rat} (predicted ${pred.length})`
            }`;
          }
        }
      }
    }
    for (const [memo, keepBusy] of [
      [k1, false],
      [k2, true],
      [k3, undefined],
    ]) {
      let kw = key;
      let kn = n + 1;
      if (keepBusy === undefined) {
        kw = small;
        kn = k3Key(shared, sid, s, w, at, t, small);
      } else {
        for (let i = 0; i < n; i++) key[i] = w[i];
        for (let u = 0; u < T; u++) {
          if (u === t) continue;
          const th = s.threads[u];
          if (keepBusy && (th.obs !== undefined || th.wrote !== undefined)) continue;
          key[at + u] = MASKED;
        }
        key[n] = t;
      }
      const v = memo.lookup(kw, kn, val, rn + 2);
      if (v < 0) continue;
      // a hit: the memo's successor, with this state's other threads spliced in, must be the real one
      if (memo.values.bytesOf(v) > got.length) got = new Int32Array(2 * memo.values.bytesOf(v));
      const gn = memo.values.wordsOf(v, got);
      if (got[gn - 1] === 1) {
        // the first step with this key rewrote another thread: a build runs every step with it
        memo.hits--;
        memo.runs++;
        continue;
      }
      let same = gn === rn + 2 && got[rn] === strId && others;
      for (let i = 0; same && i < rn; i++) if (got[i] !== val[i]) same = false;
      if (!same) {
        memo.mismatches++;
        if (!memo.first) {
          const why =
            gn !== rn + 2
              ? 'the successor has another length'
              : !others
                ? "the step rewrote another thread's part, the first with this key did not"
                : got[rn] !== strId
                  ? 'violations, ops or effects differ'
                  : 'the shared part or its own thread differ';
          memo.first = `${describe(s, t)}: ${why}`;
        }
      }
    }
    return r;
  });
  const c0 = process.cpuUsage();
  const res = await explore(m, { strategy: 'exhaustive', memoSteps: false, ...(process.env.MAX_STATES ? { maxStates: Number(process.env.MAX_STATES) } : {}) });
  const c = process.cpuUsage(c0);
  w8.restore();
  return { res, expansions, k1, k2, k3, k4, shared: shared.size, touchedOthers, firstTouch, cpu: (c.user + c.system) / 1e6, strings: strings.ids.size };
}

/**
 * The timing search: what a hit would save and what the memo would cost, per expansion, with K3
 * as a build would keep it — the shared words interned once per state, a key of a few words per
 * step, and on a miss the successor's words appended to an arena (no hashing), copied back with
 * this state's other threads on a hit.
 */
async function timing(m) {
  const T = m.threads.length;
  const shared = new WordTable();
  const keys = new WordTable();
  let valueAt = new Int32Array(1024); // per key id: where its value starts in the arena
  let arena = new Int32Array(1 << 16);
  let arenaLen = 0;
  const small = new Int32Array(4096);
  let got = new Int32Array(256);
  const now = performance.now.bind(performance);
  // performance.now()'s own cost: every timed interval below holds about one call of it
  let call = Infinity;
  for (let round = 0; round < 5; round++) {
    const t0 = now();
    for (let i = 0; i < 1e6; i++) now();
    call = Math.min(call, (now() - t0) / 1e6);
  }
  let hit = false;
  let keyId = -1;
  let sidOf;
  let sid = -1;
  let pendingEncode = false;
  let curW;
  let curAt = 0;
  let curT = 0;
  const acc = { stepHit: 0, stepMiss: 0, encHit: 0, encMiss: 0, shared: 0, states: 0, key: 0, value: 0, splice: 0, hits: 0, misses: 0 };
  const w8 = wrap(m, (s, w, n, t, run) => {
    const a = now();
    const at = n - T;
    if (sidOf !== s) {
      sidOf = s;
      const id = shared.add(w, at);
      sid = id < 0 ? ~id : id;
      acc.states++;
    }
    const a2 = now();
    acc.shared += a2 - a;
    const k = keys.add(small, k3Key(shared, sid, s, w, at, t, small));
    const b = now();
    acc.key += b - a2;
    // a key whose first step rewrote another thread is run, as step-memo.ts runs it
    hit = k < 0 && valueAt[~k] >= 0;
    keyId = k;
    curW = w;
    curAt = at;
    curT = t;
    const r = run();
    const c = now();
    if (hit) {
      acc.stepHit += c - b;
      acc.hits++;
      // the splice a build would do: the value's words, this state's other threads put back
      const from = valueAt[~k];
      const gn = arena[from];
      if (gn > got.length) got = new Int32Array(2 * gn);
      for (let i = 0; i < gn; i++) got[i] = arena[from + 1 + i];
      for (let u = 0; u < T; u++) if (u !== t) got[gn - T + u] = w[at + u];
      acc.splice += now() - c;
    } else {
      acc.stepMiss += c - b;
      acc.misses++;
    }
    pendingEncode = true;
    return r;
  });
  // the search's own encode of the successor (reacher binds m.encode when the search starts)
  const enc = m.encode;
  m.encode = (s, out) => {
    if (!pendingEncode) return enc.call(m, s, out);
    pendingEncode = false;
    const a = now();
    const n = enc.call(m, s, out);
    const b = now();
    if (hit) acc.encHit += b - a;
    else {
      acc.encMiss += b - a;
      if (n <= out.length && keyId >= 0) {
        // a new key: the value a build would record, the successor's words (none when it rewrote another thread)
        const c = now();
        if (keyId >= valueAt.length) valueAt = grownInt32(valueAt, keyId + 1);
        let others = true;
        for (let u = 0; u < T; u++) if (u !== curT && out[n - T + u] !== curW[curAt + u]) others = false;
        if (!others) {
          valueAt[keyId] = -1;
          acc.value += now() - c;
          return n;
        }
        if (arenaLen + n + 1 > arena.length) arena = grownInt32(arena, arenaLen + n + 1);
        valueAt[keyId] = arenaLen;
        arena[arenaLen++] = n;
        for (let i = 0; i < n; i++) arena[arenaLen++] = out[i];
        acc.value += now() - c;
      }
    }
    return n;
  };
  const c0 = process.cpuUsage();
  const res = await explore(m, { strategy: 'exhaustive', memoSteps: false, ...(process.env.MAX_STATES ? { maxStates: Number(process.env.MAX_STATES) } : {}) });
  const cu = process.cpuUsage(c0);
  m.encode = enc;
  w8.restore();
  const calls = acc.hits + acc.misses;
  const fix = (x, k) => Math.max(0, x - k * call) / 1000;
  return {
    res,
    cpu: (cu.user + cu.system) / 1e6,
    callUs: call * 1000,
    hits: acc.hits,
    calls,
    states: acc.states,
    stepHit: fix(acc.stepHit, acc.hits),
    encHit: fix(acc.encHit, acc.hits),
    stepMiss: fix(acc.stepMiss, acc.misses),
    encMiss: fix(acc.encMiss, acc.misses),
    shared: fix(acc.shared, calls),
    key: fix(acc.key, calls),
    value: fix(acc.value, acc.misses),
    splice: fix(acc.splice, acc.hits),
    arenaBytes: 4 * arenaLen,
    tableBytes: shared.bytes + keys.bytes,
  };
}

/**
 * MEMO_AB=N: the explorer's own step memoization (`memoSteps`, step-memo.ts) against the search
 * that runs every step, N rounds alternated in this process: each search's CPU
 * (process.cpuUsage), least of the N, and whether every result (verdict, violations with their
 * schedules, every counter) is the one without it.
 */
async function ab(machines, rounds) {
  const cpu = { off: [], on: [] };
  const first = new Map();
  let differ = 0;
  let hits = 0;
  let steps = 0;
  for (let round = 0; round < rounds; round++) {
    for (const mode of ['off', 'on']) {
      const c0 = process.cpuUsage();
      for (const [i, m] of machines.entries()) {
        const r = await explore(m, { strategy: 'exhaustive', memoSteps: mode === 'on' });
        const { timeMs: _t, statesPerSec: _r, ...stats } = r.stats;
        const said = JSON.stringify({ verdict: r.verdict, exhaustive: r.exhaustive, incomplete: r.incomplete, violations: r.violations, stats });
        if (!first.has(i)) first.set(i, said);
        else if (first.get(i) !== said) differ++;
        if (round === 0 && r.memo) {
          hits += r.memo.hits;
          steps += r.memo.steps;
        }
      }
      const c = process.cpuUsage(c0);
      cpu[mode].push((c.user + c.system) / 1e6);
    }
  }
  const least = (v) => Math.min(...v);
  return (
    `  memoSteps off: least ${least(cpu.off).toFixed(2)} CPU-s of [${cpu.off.map((x) => x.toFixed(2)).join(', ')}]; on: least ${least(cpu.on).toFixed(2)} of [${cpu.on.map((x) => x.toFixed(2)).join(', ')}]` +
    ` (${pct(least(cpu.on) - least(cpu.off), least(cpu.off))} %); ${hits}/${steps} steps reused; results that differ from the first search's: ${differ}\n`
  );
}

const pct = (a, b) => (b ? ((100 * a) / b).toFixed(1) : '–');

async function measure(c) {
  if (process.env.MEMO_VERIFY === '0') return undefined;
  const withOps = process.env.MEMO_OPS !== '0';
  const withK4 = process.env.MEMO_K4 !== '0';
  const v = await verify(c.machine, withOps, withK4);
  const out = {
    name: `${c.file.replace(/\.ya?ml$/, '')} / ${c.flavor}`,
    states: v.res.stats.distinctStates,
    verdict: v.res.verdict,
    expansions: v.expansions,
    k1: { hits: v.k1.hits, runs: v.k1.runs, mismatches: v.k1.mismatches, first: v.k1.first, keys: v.k1.keys.size },
    k2: { hits: v.k2.hits, runs: v.k2.runs, mismatches: v.k2.mismatches, first: v.k2.first, keys: v.k2.keys.size },
    k3: { hits: v.k3.hits, runs: v.k3.runs, mismatches: v.k3.mismatches, first: v.k3.first, keys: v.k3.keys.size },
    k4: v.k4 && {
      hits: v.k4.hits,
      runs: v.k4.runs,
      mismatches: v.k4.mismatches,
      first: v.k4.first,
      keys: v.k4.kept,
      heads: v.k4.heads.size,
      sets: v.k4.sets.size,
      full: v.k4.full,
      fullData: v.k4.fullData,
      rewrites: v.k4.rewrites,
      untrapped: v.k4.untrapped,
      reads: v.k4.readsSum,
    },
    sharedParts: v.shared,
    touchedOthers: v.touchedOthers,
    firstTouch: v.firstTouch,
    cpuVerify: v.cpu,
    ops: withOps,
  };
  if (process.env.MEMO_TIME !== '0') out.t = await timing(c.machine);
  return out;
}

function line(r) {
  const k = (name, x) =>
    `  ${name}: ${x.hits} hits (${pct(x.hits, r.expansions)} %), ${x.keys} keys, ${x.runs} steps run again (their key's first step rewrote another thread), ${x.mismatches} mismatches${x.first ? ` (first: ${x.first})` : ''}\n`;
  let s =
    `${r.name}: ${r.verdict}, ${r.states} states (${r.sharedParts} distinct shared parts), ${r.expansions} steps\n` +
    k('K1 (other threads left out)', r.k1) +
    k("K2 (… but a thread's whole word kept while it has a read or write in progress)", r.k2) +
    k("K3 (shared words' id, own thread, t, the others' reads and writes in progress)", r.k3) +
    (r.k4
      ? k("K4 (K3 with the shared words the step read in place of the shared words' id)", r.k4) +
        `    K4: ${r.k4.heads} heads, ${r.k4.sets} read sets, ${(r.k4.reads / Math.max(1, r.k4.keys)).toFixed(1)} places read per entry; entries that read the whole shared part ${r.k4.full} (${r.k4.fullData} after a data renumbering), that rewrote a root array ${r.k4.rewrites}, changed words no element write made ${r.k4.untrapped};` +
        ` misses ${r.expansions - r.k4.hits - r.k4.runs} vs K3's ${r.expansions - r.k3.hits - r.k3.runs}: ${pct(r.k4.hits - r.k3.hits, r.expansions - r.k3.hits - r.k3.runs)} % of K3's misses turned into verified hits\n`
      : '') +
    `  steps that changed another thread's part (renumbering): ${r.touchedOthers}${r.firstTouch ? ` (first: ${r.firstTouch})` : ''}; verified ${r.ops ? 'with ops and effects (step())' : 'without ops (advance)'}, ${r.cpuVerify.toFixed(1)} CPU-s\n`;
  const t = r.t;
  if (t) {
    const saved = t.stepHit + t.encHit;
    const cost = t.shared + t.key + t.value + t.splice;
    const us = (x, n) => ((1e6 * x) / Math.max(1, n)).toFixed(3);
    s +=
      `  timed (K3; one performance.now() of ${t.callUs.toFixed(3)} µs subtracted per interval): search ${t.cpu.toFixed(2)} CPU-s, ${t.hits}/${t.calls} hits;` +
      ` a hit's step ${us(t.stepHit, t.hits)} µs + encode ${us(t.encHit, t.hits)} µs; a miss's step ${us(t.stepMiss, t.calls - t.hits)} µs + encode ${us(t.encMiss, t.calls - t.hits)} µs\n` +
      `    saved on hits ${t.stepHit.toFixed(3)} + ${t.encHit.toFixed(3)} = ${saved.toFixed(3)} s; cost: shared ids ${t.shared.toFixed(3)} s (${us(t.shared, t.states)} µs per state), keys ${t.key.toFixed(3)} s (${us(t.key, t.calls)} µs per step),` +
      ` values ${t.value.toFixed(3)} s, splices ${t.splice.toFixed(3)} s = ${cost.toFixed(3)} s; net ${(saved - cost).toFixed(3)} s = ${pct(saved - cost, t.cpu)} % of the timed search's CPU (an estimate);` +
      ` memory ${(t.tableBytes / 2 ** 20).toFixed(1)} MiB of tables + ${(t.arenaBytes / 2 ** 20).toFixed(1)} MiB of values\n`;
  }
  return s;
}

export default async function (args) {
  const all = await cases();
  if (args[0] === 'all') {
    const rows = [];
    const some = all.filter((c) => !c.file.includes('multipage'));
    if (process.env.MEMO_AB)
      process.stdout.write(
        `${some.length} runs, every one in each round:\n${await ab(
          some.map((c) => c.machine),
          Number(process.env.MEMO_AB),
        )}`,
      );
    for (const c of some) {
      const r = await measure(c);
      if (!r) break;
      rows.push(r);
      process.stdout.write(line(r));
    }
    if (rows.length === 0) return;
    const sum = (f) => rows.reduce((n, r) => n + f(r), 0);
    const e = sum((r) => r.expansions);
    process.stdout.write(
      `${rows.length} runs: ${e} steps; K1 ${sum((r) => r.k1.hits)} hits (${pct(
        sum((r) => r.k1.hits),
        e,
      )} %), ${sum((r) => r.k1.mismatches)} mismatches in ${rows.filter((r) => r.k1.mismatches).length} runs;` +
        ` K2 ${sum((r) => r.k2.hits)} hits (${pct(
          sum((r) => r.k2.hits),
          e,
        )} %), ${sum((r) => r.k2.mismatches)} mismatches in ${rows.filter((r) => r.k2.mismatches).length} runs;` +
        ` K3 ${sum((r) => r.k3.hits)} hits (${pct(
          sum((r) => r.k3.hits),
          e,
        )} %), ${sum((r) => r.k3.runs)} run again, ${sum((r) => r.k3.mismatches)} mismatches in ${rows.filter((r) => r.k3.mismatches).length} runs` +
        (rows[0]?.k4
          ? `; K4 ${sum((r) => r.k4.hits)} hits (${pct(
              sum((r) => r.k4.hits),
              e,
            )} %), ${sum((r) => r.k4.runs)} run again, ${sum((r) => r.k4.mismatches)} mismatches in ${rows.filter((r) => r.k4.mismatches).length} runs`
          : '') +
        (rows[0]?.t
          ? `; timed: saved ${sum((r) => r.t.stepHit + r.t.encHit).toFixed(2)} s, cost ${sum((r) => r.t.shared + r.t.key + r.t.value + r.t.splice).toFixed(2)} s of ${sum((r) => r.t.cpu).toFixed(2)} CPU-s`
          : '') +
        '\n',
    );
    return;
  }
  const want = args[0] ?? 'odirect-vs-fault-multipage';
  const flavors = args.length > 1 ? args.slice(1) : ['linux-2.6.15'];
  for (const fl of flavors) {
    const c = all.find((x) => x.file.includes(want) && x.flavor === fl);
    let one = c;
    if (!one) {
      const file = all.find((x) => x.file.includes(want))?.file;
      if (!file) throw new Error(`no shipped scenario matches "${want}"`);
      one = { file, flavor: fl, machine: createMachine(await loadScenario(path.join(root, 'fixtures/scenarios', file)), await resolveFlavor(fl)) };
    }
    const r = await measure(one);
    if (r) process.stdout.write(line(r));
    if (process.env.MEMO_AB) process.stdout.write(`${one.file} / ${fl}:\n${await ab([one.machine], Number(process.env.MEMO_AB))}`);
  }
}
