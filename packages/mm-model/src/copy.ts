/**
 * The copies a step makes of what it writes (Ctx: copy on write), built as one object literal
 * per known field list rather than by a spread or `Object.assign`.
 *
 * Why: V8 (Node 20) gives a spread copy site a cache per hidden class of what it copies; a site
 * that has met more than four classes goes megamorphic for good (~160–260 ns a copy instead of
 * ~20 ns), and the copies a megamorphic spread makes are split objects (four fields in the
 * object, the rest in a separate array) under classes of their own, which keep every other copy
 * site megamorphic too (docs/explore.md, session 9, second pass). A literal with fixed fields
 * makes one class, so pages, mappings and roots copied here share a class with each other and
 * with the pages the allocator and the initial state make (same fields, same order).
 *
 * The field list is chosen without asking the object for its keys: a page or mapping with none
 * of its optional fields set takes the literal; one with any (large folios, secretmem, the 6.12
 * truncate and hugetlb fields) is copied generically, as before, which is rare. A patch is laid
 * over the copy field by field, so a patch that sets an optional field gives the object it gave
 * before. A field state.ts does not know (a flavor patch's own, set by its `initialState` or by
 * a patch: flavor.ts allows it) would be lost by a literal: a flavor that is not built in, or
 * the first such field met in a built-in one, switches every later copy in the process to the
 * generic one (`copyGenerically`, `noteFields`, `laid`).
 *
 * The field order of these objects reaches no output: the encoder encodes an object's values in
 * field-name order (encode.ts), and nothing else enumerates a page's, a mapping's or the root's
 * fields.
 */
import type { MappingS, MmState, PageS } from './state.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The optional fields: an object with any of them set is copied generically. */
export const PAGE_OPTIONAL = ['order', 'pmap', 'entire', 'nodirect', 'waiters'] as const;
export const MAP_OPTIONAL = ['eofSettled', 'faultMutex'] as const;

/** A page without optional fields, in the order `Ctx.allocPage` and the initial state build pages. */
function plainPage(p: PageS): Mutable<PageS> {
  return {
    pfn: p.pfn,
    mapping: p.mapping,
    index: p.index,
    flags: p.flags,
    refcount: p.refcount,
    mapcount: p.mapcount,
    locker: p.locker,
    data: p.data,
  };
}

/** A mapping without optional fields, in the order the initial state builds mappings. */
function plainMap(m: MappingS): Mutable<MappingS> {
  return {
    cache: m.cache,
    isize: m.isize,
    truncateCount: m.truncateCount,
    nrpages: m.nrpages,
    sslWriters: m.sslWriters,
    sslSequence: m.sslSequence,
    invalidateLock: m.invalidateLock,
    immap: m.immap,
    coherent: m.coherent,
    ilock: m.ilock,
    bmap: m.bmap,
    hole: m.hole,
    gen: m.gen,
    floor: m.floor,
  };
}

function rootWithPmds(s: MmState): Mutable<MmState> {
  return { pages: s.pages, maps: s.maps, ptes: s.ptes, ptl: s.ptl, disk: s.disk, pmds: s.pmds, threads: s.threads };
}

/** The 2.6 flavors' root while a PTE is dirty (they have no PMDs); a root with both is copied generically. */
function rootWithPted(s: MmState): Mutable<MmState> {
  return { pages: s.pages, maps: s.maps, ptes: s.ptes, ptl: s.ptl, disk: s.disk, pted: s.pted, threads: s.threads };
}

function rootWithoutPmds(s: MmState): Mutable<MmState> {
  return { pages: s.pages, maps: s.maps, ptes: s.ptes, ptl: s.ptl, disk: s.disk, threads: s.threads };
}

/**
 * Every field state.ts declares is in a literal above or in an optional list: one it adds to
 * neither fails to compile here (a literal's type is checked for the required fields).
 */
type Unlisted<T, Opt> = Exclude<keyof { [K in keyof T as T[K] extends Exclude<T[K], undefined> ? never : K]: 1 }, Opt>;
const listed: [Unlisted<PageS, (typeof PAGE_OPTIONAL)[number]>, Unlisted<MappingS, (typeof MAP_OPTIONAL)[number]>, Unlisted<MmState, 'pmds' | 'pted'>] extends [
  never,
  never,
  never,
]
  ? true
  : never = true;
void listed;

const KNOWN: ReadonlySet<string> = new Set([
  ...Object.keys(plainPage({} as PageS)),
  ...PAGE_OPTIONAL,
  ...Object.keys(plainMap({} as MappingS)),
  ...MAP_OPTIONAL,
  ...Object.keys(rootWithPmds({} as MmState)),
  ...Object.keys(rootWithPted({} as MmState)),
]);

/** False once a field state.ts does not know was met: from then on every copy is generic (see above). */
let literals = true;

function noteField(name: string): void {
  if (!KNOWN.has(name)) literals = false;
}

/**
 * Every later copy in this process generic: for a flavor that is not built in. A flavor module's
 * steps may patch in fields of their own, and with `--workers` a thread can decode a peer's page
 * that carries one before any patch of its own has set it (so `laid` never met it there); only the
 * built-in flavors' patches are typed against state.ts.
 */
export function copyGenerically(): void {
  literals = false;
}

/** Check a state's pages, mappings and root for fields state.ts does not know (the initial state: a flavor may add its own). */
export function noteFields(s: MmState): void {
  for (const k of Object.keys(s)) noteField(k);
  for (const p of s.pages) if (p !== undefined) for (const k of Object.keys(p)) noteField(k);
  for (const m of s.maps) for (const k of Object.keys(m)) noteField(k);
}

/** `patch`'s fields over `o`, as `Object.assign` lays them, one store each. */
function laid<T extends object>(o: T, patch: Partial<T>): T {
  for (const k in patch) {
    // every field a literal has is defined: an undefined one is optional or unknown
    if (o[k] === undefined) noteField(k);
    o[k] = patch[k]!;
  }
  return o;
}

/** `{ ...p, ...patch }`. */
export function copyPage(p: PageS, patch: Partial<PageS>): PageS {
  if (!literals || p.order !== undefined || p.pmap !== undefined || p.entire !== undefined || p.nodirect !== undefined || p.waiters !== undefined) {
    return Object.assign({ ...p }, patch);
  }
  return laid(plainPage(p), patch);
}

/** `{ ...m, ...patch }`. */
export function copyMap(m: MappingS, patch: Partial<MappingS>): MappingS {
  if (!literals || m.eofSettled !== undefined || m.faultMutex !== undefined) return Object.assign({ ...m }, patch);
  return laid(plainMap(m), patch);
}

/** `{ ...s }`: the root a step then sets fields of in place. */
export function copyRoot(s: MmState): Mutable<MmState> {
  if (!literals) return { ...s };
  if (s.pted !== undefined) return s.pmds === undefined ? rootWithPted(s) : { ...s };
  return s.pmds === undefined ? rootWithoutPmds(s) : rootWithPmds(s);
}
