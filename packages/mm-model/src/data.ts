/**
 * Contents as versions (docs/flavors.md "Data"). The model does not hold bytes; it holds
 * *which write* produced them. Every write to a page index of a file — an O_DIRECT write,
 * a buffered write reaching the page, truncate or a hole punch turning the bytes into
 * zeros — takes the next **generation** of that (file, index); the data a disk block or a
 * page holds is a **tag** naming (file, index, generation). A read observes one tag: it is
 * stale (rule stale-data) when the tag belongs to another (file, index), or its generation
 * is older than the newest write to those bytes that had returned when the read started
 * (MappingS.floor, sampled into ThreadS.obs).
 *
 * Generations only ever compare by order, so states that differ only in the numbers are
 * the same state: canonicalData renumbers the generations of every (file, index) to
 * 0, 1, 2, … in their order, after every step, and the state space stays finite.
 */
import { copyPage } from './copy.js';
import { NONE, type MappingS, type MmState, type PageS, type ThreadS } from './state.js';

/**
 * What a page holds on a machine that does not track data (Env.dataUntracked: no thread runs a
 * program that reads it, Program.readsData): read in or written, but which version is not kept.
 * Whether a page has been read (NONE or not) is still kept: a page made uptodate without data is
 * a read I/O completing (Ctx.setFlag). Negative like NONE, so no generation is counted for it.
 */
export const UNTRACKED = -2;

/**
 * The state with every page's data that is not NONE replaced by UNTRACKED (the state itself when
 * none is): on a machine no thread of which reads data, two states that differ only in which
 * version a page holds have the same future — the same steps, the same judgements (only a user
 * read, Ctx.beginRead → observe, judges a page's version; write-back and read I/O only copy it).
 */
export function untrackData(s: MmState): MmState {
  let pages: (PageS | undefined)[] | undefined;
  const ps = s.pages;
  for (let i = 0; i < ps.length; i++) {
    const p = ps[i];
    if (p === undefined || p.data < 0) continue;
    pages ??= ps.slice();
    pages[i] = copyPage(p, { data: UNTRACKED });
  }
  // A disk block too: write-back copies a page's UNTRACKED into its block, and a block written
  // before (the scenario's own data) held a version; the two are one state when nothing reads
  // them (since 2026-12-06, session 32: a store then a write-back made more states untracked than
  // tracked). A free block (NONE) stays free.
  let disk: number[] | undefined;
  for (let b = 0; b < s.disk.length; b++) {
    if (s.disk[b]! < 0) continue;
    disk ??= s.disk.slice();
    disk[b] = UNTRACKED;
  }
  return pages === undefined && disk === undefined ? s : { ...s, ...(pages ? { pages } : {}), ...(disk ? { disk } : {}) };
}

const FILE_UNIT = 2 ** 20;
const GEN_UNIT = 2 ** 32;
/** Limits of the encoding: 4096 files, 2^20 page indexes, 2^21 generations. */
const MAX_FILES = 4096;
const MAX_INDEX = FILE_UNIT;
const MAX_GEN = 2 ** 21;

/** The tag of the data of (file, index) as generation `gen` wrote it. */
export function dataTag(file: number, index: number, gen: number): number {
  if (file < 0 || file >= MAX_FILES || index < 0 || index >= MAX_INDEX || gen < 0 || gen >= MAX_GEN) {
    throw new Error(`data tag out of range: file ${file} index ${index} gen ${gen}`);
  }
  return gen * GEN_UNIT + file * FILE_UNIT + index;
}
export function tagFile(tag: number): number {
  return Math.floor((tag % GEN_UNIT) / FILE_UNIT);
}
export function tagIndex(tag: number): number {
  return tag % FILE_UNIT;
}
export function tagGen(tag: number): number {
  return Math.floor(tag / GEN_UNIT);
}

/** `M0[3]v2` (or `none`), for effects and messages. */
export function tagText(tag: number, fileLoc: (file: number) => string = (f) => `M${f}`): string {
  return tag === NONE ? 'no data' : tag === UNTRACKED ? 'data (not tracked)' : `${fileLoc(tagFile(tag))}[${tagIndex(tag)}]v${tagGen(tag)}`;
}

/**
 * What a read I/O of (file, index) gets from the disk now: zeros past EOF (the filesystem's
 * readpage clamps to i_size: 2.6.23 fs/mpage.c:201 do_mpage_readpage `last_block_in_file`,
 * 6.1 fs/ext4/readpage.c ext4_mpage_readpages `ext4_readpage_limit`), zeros of a hole, or
 * the block's data.
 */
export function diskData(s: MmState, file: number, index: number): number {
  const m = s.maps[file]!;
  const eofPages = Math.ceil(m.isize / 4096);
  const b = index < m.bmap.length ? m.bmap[index]! : NONE;
  if (index >= eofPages || b === NONE) return dataTag(file, index, index < m.hole.length ? m.hole[index]! : 0);
  return s.disk[b]!;
}

/** Does observing `tag` in a read of (file, index) that started at `floor` see older data? */
export function staleTag(tag: number, file: number, index: number, floor: number): boolean {
  if (tag < 0) return false; // NONE or UNTRACKED: a flavor or a machine that does not track data, nothing to judge
  return tagFile(tag) !== file || tagIndex(tag) !== index || tagGen(tag) < floor;
}

/**
 * Renumber the generations of every (file, index) to 0..k-1 in their order, everywhere
 * they occur (page data, disk blocks, holes, gen, floor, in-flight reads and writes).
 * Returns the state itself when it is already canonical.
 */
export function canonicalData(s: MmState): MmState {
  return alreadyCanonical(s) ? s : renumber(s);
}

/** Per (file, index) of the check below: bit g set when generation g occurs. Reused: no allocation per step. */
let present = new Int32Array(256);
let fileBase = new Int32Array(16);

/**
 * True when every (file, index) has exactly the generations 0..gen[index] somewhere in the
 * state — the renumbering would change nothing (the common case: most steps write no data).
 * False also when the bitmask check cannot tell (a generation ≥ 30, an index past `gen`):
 * `renumber` then decides.
 */
export function alreadyCanonical(s: MmState): boolean {
  const maps = s.maps;
  if (fileBase.length <= maps.length) fileBase = new Int32Array(maps.length * 2 + 1);
  let total = 0;
  for (let f = 0; f < maps.length; f++) {
    fileBase[f] = total;
    total += maps[f]!.gen.length;
  }
  if (present.length < total) present = new Int32Array(total * 2);
  present.fill(0, 0, total);
  // asked once per state a search expands: no closure, no allocation
  for (const p of s.pages) if (p && !markTag(maps, p.data)) return false;
  for (const t of s.disk) if (!markTag(maps, t)) return false;
  for (let f = 0; f < maps.length; f++) {
    const m = maps[f]!;
    for (let ix = 0; ix < m.hole.length; ix++) if (!mark(maps, f, ix, m.hole[ix]!)) return false;
    for (let ix = 0; ix < m.floor.length; ix++) if (!mark(maps, f, ix, m.floor[ix]!)) return false;
  }
  for (const t of s.threads) {
    if (t.obs && !mark(maps, t.obs[0]!, t.obs[1]!, t.obs[2]!)) return false;
    if (t.wrote) for (let i = 0; i < t.wrote.length; i += 3) if (!mark(maps, t.wrote[i]!, t.wrote[i + 1]!, t.wrote[i + 2]!)) return false;
  }
  for (let f = 0; f < maps.length; f++) {
    const gen = maps[f]!.gen;
    const base = fileBase[f]!;
    for (let ix = 0; ix < gen.length; ix++) {
      const g = gen[ix]!;
      if (g < 0 || g >= 30 || (present[base + ix]! | (1 << g)) !== (2 << g) - 1) return false;
    }
  }
  return true;
}

/** alreadyCanonical: note generation `gen` of (file, index) in `present`; false when the bitmask cannot say. */
function mark(maps: MmState['maps'], file: number, index: number, gen: number): boolean {
  if (file < 0 || file >= maps.length || index >= maps[file]!.gen.length || gen < 0 || gen >= 30) return false;
  present[fileBase[file]! + index]! |= 1 << gen;
  return true;
}

function markTag(maps: MmState['maps'], t: number): boolean {
  return t < 0 || mark(maps, tagFile(t), tagIndex(t), tagGen(t));
}

function renumber(s: MmState): MmState {
  const seen = new Map<number, Set<number>>(); // file * MAX_INDEX + index → generations
  const note = (file: number, index: number, gen: number): void => {
    const k = file * MAX_INDEX + index;
    let set = seen.get(k);
    if (!set) {
      set = new Set();
      seen.set(k, set);
    }
    set.add(gen);
  };
  const noteTag = (t: number): void => {
    if (t >= 0) note(tagFile(t), tagIndex(t), tagGen(t));
  };
  for (const p of s.pages) if (p) noteTag(p.data);
  for (const t of s.disk) noteTag(t);
  s.maps.forEach((m, f) => {
    m.hole.forEach((g, ix) => note(f, ix, g));
    m.gen.forEach((g, ix) => note(f, ix, g));
    m.floor.forEach((g, ix) => note(f, ix, g));
  });
  for (const t of s.threads) {
    if (t.obs) note(t.obs[0]!, t.obs[1]!, t.obs[2]!);
    if (t.wrote) for (let i = 0; i < t.wrote.length; i += 3) note(t.wrote[i]!, t.wrote[i + 1]!, t.wrote[i + 2]!);
  }
  const rank = new Map<number, Map<number, number>>();
  let identity = true;
  for (const [k, set] of seen) {
    const sorted = [...set].sort((a, b) => a - b);
    const r = new Map<number, number>();
    sorted.forEach((g, i) => {
      r.set(g, i);
      if (g !== i) identity = false;
    });
    rank.set(k, r);
  }
  if (identity) return s;
  const g2 = (file: number, index: number, gen: number): number => rank.get(file * MAX_INDEX + index)!.get(gen)!;
  const t2 = (t: number): number => (t < 0 ? t : dataTag(tagFile(t), tagIndex(t), g2(tagFile(t), tagIndex(t), tagGen(t))));
  const maps: MappingS[] = s.maps.map((m, f) => ({
    ...m,
    hole: m.hole.map((g, ix) => g2(f, ix, g)),
    gen: m.gen.map((g, ix) => g2(f, ix, g)),
    floor: m.floor.map((g, ix) => g2(f, ix, g)),
  }));
  const threads: ThreadS[] = s.threads.map((t) => {
    if (!t.obs && !t.wrote) return t;
    const nt: { -readonly [K in keyof ThreadS]: ThreadS[K] } = { ...t };
    if (t.obs) nt.obs = [t.obs[0]!, t.obs[1]!, g2(t.obs[0]!, t.obs[1]!, t.obs[2]!)];
    if (t.wrote) {
      const w: number[] = [];
      for (let i = 0; i < t.wrote.length; i += 3) w.push(t.wrote[i]!, t.wrote[i + 1]!, g2(t.wrote[i]!, t.wrote[i + 1]!, t.wrote[i + 2]!));
      nt.wrote = w;
    }
    return nt;
  });
  return {
    ...s,
    pages: s.pages.map((p) => (p && p.data >= 0 ? { ...p, data: t2(p.data) } : p)),
    disk: s.disk.map(t2),
    maps,
    threads,
  };
}
