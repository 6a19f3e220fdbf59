/**
 * The table-driven adapter: a ProbeMap (packages/core/src/probe-map.ts) says what each
 * traced event means, so a kernel version is a map file (kernel-configs/probes/<kernel>.yaml),
 * a capture profile's `probes` section, or a user's `--probes` file — never engine code.
 *
 * An event's meaning is looked up by its exact name first (`p_filemap_fault_0`, `my_rmap`,
 * `mm_filemap_add_to_page_cache`), then by `kprobe:<func>` / `kretprobe:<func>` from the
 * probe site the reader decoded, then from an auto-generated name (`p_<func>_<n>`,
 * `r_<func>_<n>`) when the reader printed no site.
 */
import type { FieldValue, Fields, ProbeSite, TraceEvent } from '@kreplay/core';
import { InputError } from '@kreplay/core';
import type { FieldSpec, FileRef, InvalidateFn, MmOp, MmOpKind, ProbeMap, ProbeMeaning } from '@kreplay/core';
import type { Adapter, Lifted, Lifter, Unusable } from './adapter.js';
import { bytesToIndex, hexDigits, narrow, toBig, toDev, toInt, toNumber, toSigned, type Int } from '../fields.js';

type Target = keyof ProbeMeaning['args'];
type Conversion = NonNullable<Exclude<FieldSpec, string>['as']>;
type Value = Int | string;

/** The conversion a target gets when the map names only a field. */
const DEFAULT_AS: Record<Target, Conversion> = {
  dev: 'kdev',
  ino: 'number',
  index: 'number',
  pfn: 'pfn',
  address: 'number',
  start: 'number',
  end: 'number',
  ret: 'signed',
  size: 'number',
  mapcount: 'signed',
  order: 'number',
  nr: 'number',
  folio: 'pfn',
  faultFlags: 'number',
  vmFlags: 'number',
  mapping: 'number',
};

/**
 * The largest folio order a page-cache event can carry: PUD_ORDER, x86-64's 1 GiB hugetlb
 * folio (hugetlb_add_to_page_cache adds it at a base-page index, 6.7+). Page-cache folios of
 * regular files stop at MAX_PAGECACHE_ORDER (HPAGE_PMD_ORDER, 9).
 */
export const MAX_FOLIO_ORDER = 18;

/**
 * Every pfn is below 2^52: a physical address is at most 64 bits (phys_addr_t) and a page at
 * least 4 KiB (PAGE_SHIFT >= 12), and a pfn is a physical address shifted right by PAGE_SHIFT
 * (include/linux/pfn.h, PFN_DOWN / PHYS_PFN). So a pfn and the pfns of its folio (at most
 * 2^MAX_FOLIO_ORDER pages on) are exact JS numbers, which the shadow keys pages by. A value at
 * or past 2^52, or negative, is no page frame number: its event is not used (as a number,
 * 2^53 + 1 is 2^53, so two such pfns would have silently been one page).
 */
export const PFN_LIMIT = 2 ** 52;

const PFN_LIMIT_BIG = BigInt(PFN_LIMIT);

/** A converted pfn, as read, when it is one (0 <= pfn < PFN_LIMIT), else undefined: checked on every op, so no conversion and no allocation. */
export function pfnValue(v: Value | undefined): Int | undefined {
  if (typeof v === 'bigint') return v >= 0n && v < PFN_LIMIT_BIG ? v : undefined;
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < PFN_LIMIT ? v : undefined;
}

/** Why a pfn read from an event is not a page frame number (undefined: it is one, or none was read). */
function badPfn(v: Value | undefined): string | undefined {
  if (v === undefined || typeof v === 'string' || pfnValue(v) !== undefined) return undefined;
  return `pfn 0x${v.toString(16)} is not a page frame number (pfns are below 2^52)`;
}

/** Unknown device: the probe fetched an inode number but no `s_dev`; replay matches by ino. */
export const UNKNOWN_DEV = '?';

/** Converted values of one event, by target (one reused object per meaning: no allocation per event). */
export type Values = Partial<Record<Target, Value>>;

/**
 * A Values object with every target present (undefined), always in the same order: every
 * meaning's object then has one hidden class, so makeOp's reads of it stay monomorphic
 * (objects grown in each map's argument order made them megamorphic).
 */
function emptyValues(): Values {
  return {
    dev: undefined,
    ino: undefined,
    index: undefined,
    pfn: undefined,
    address: undefined,
    start: undefined,
    end: undefined,
    ret: undefined,
    size: undefined,
    mapcount: undefined,
    order: undefined,
    nr: undefined,
    folio: undefined,
    faultFlags: undefined,
    vmFlags: undefined,
    mapping: undefined,
  };
}

/** `field`: read first; `alt`: the fields tried in order when the event lacks it. */
export interface Arg {
  target: Target;
  field: string;
  alt: readonly string[] | undefined;
  as: Conversion;
  read: (raw: FieldValue, ev: TraceEvent) => Value | undefined;
}

/** Why an argument's raw value made its event unusable (`field`: the one it was read from). */
function notConvertible(a: Arg, field: string, raw: FieldValue): string {
  return `${field}=${String(raw)} is not ${a.as === 'number' ? 'an integer' : `a ${a.as}`}`;
}

/** The targets a Values object has (a map's other keys are converted, never stored). */
const TARGETS: ReadonlySet<string> = new Set(Object.keys(emptyValues()));

/** Makes a reader of one text from its converters and `why` (argsReader). */
export type ReaderFactory = (...fns: unknown[]) => (f: Fields, v: Values, ev: TraceEvent) => string | undefined;

/** A number per converter function, for the key of argsReader's factories. */
const converterIds = new WeakMap<Arg['read'], number>();
let converters = 0;
function converterId(read: Arg['read']): number {
  let id = converterIds.get(read);
  if (id === undefined) converterIds.set(read, (id = converters++));
  return id;
}

/**
 * A function that reads one meaning's arguments from an event's fields, converts them and
 * stores them in `v` (a target whose fields the event lacks gets undefined), in the map's
 * order; it returns why the event is unusable at the first value that does not convert (the
 * arguments after it are not read), else undefined. Generated per meaning, so that each
 * field's read is a named load of its own (`f["page"]`: one event's fields objects, one
 * hidden class), each conversion a call site that sees one converter (inlinable), and each
 * store a named store — where a loop over the arguments made one keyed load, one call of
 * five converters and a switch on the target serve every argument of every event (a
 * megamorphic load and call per argument). Names are quoted by JSON.stringify: nothing else
 * of the map reaches the code, and `f["x"]` reads what `f[name]` read.
 */
export function argsReader(args: readonly Arg[], factories = new Map<string, ReaderFactory>()): (f: Fields, v: Values, ev: TraceEvent) => string | undefined {
  const q = JSON.stringify;
  const body = args
    .map((a, k) => {
      const names = [a.field, ...(a.alt ?? [])];
      const store = (x: string) => (TARGETS.has(a.target) ? `v[${q(a.target)}] = ${x};` : '');
      return [
        `raw = f[${q(names[0])}]; j = 0;`,
        ...names.slice(1).map((n, i) => `if (raw === undefined) { raw = f[${q(n)}]; j = ${i + 1}; }`),
        `if (raw === undefined) { ${store('undefined')} }`,
        `else { x = read${k}(raw, ev); if (x === undefined) return why(${k}, j, raw); ${store('x')} }`,
      ].join('\n');
    })
    .join('\n');
  // `factories`: one per reader text and converters (by identity) made so far, an adapter's.
  // Meanings that read the same fields into the same targets with the same converters (a map's
  // add and delete tracepoints, its two rmap probes) get their readers from one factory: closures
  // of one function literal share its feedback and its optimized code, so V8 compiles that text
  // once, where a factory per meaning (a script of its own each) made each reader a compile of its
  // own; the readers' calls still see one converter each. `why` differs: it is an argument.
  const key = `${args.map((a) => converterId(a.read)).join(',')}\n${body}`;
  let factory = factories.get(key);
  if (factory === undefined) {
    factory = new Function(
      ...args.map((_a, k) => `read${k}`),
      'why',
      `return function readArgs(f, v, ev) {\nlet raw, j, x;\n${body}\nreturn undefined;\n};`,
    ) as ReaderFactory;
    factories.set(key, factory);
  }
  const why = (k: number, j: number, raw: FieldValue): string => {
    const a = args[k]!;
    return notConvertible(a, j === 0 ? a.field : a.alt![j - 1]!, raw);
  };
  return factory(...args.map((a) => a.read), why);
}

export interface PageConversion {
  /** `vmemmap_base`; undefined when nobody said, which makes `page` conversions an error. */
  vmemmapBase?: bigint;
  structPageSize: number;
  /** Words for the error when it is missing. */
  missingHint: string;
}

/**
 * V8's internalized copy of a name. The map's field names are strings its parser made, not
 * internalized, and a keyed load (`fields[name]`) with such a key first looks the string up
 * in V8's string table — once per argument of every event.
 */
function internalized(name: string): string {
  return Object.keys({ [name]: 0 })[0]!;
}

/** FileRefs interned by (dev, ino), so ops of one file share one object (the shadow keys files by it). */
export class FileRefs {
  private readonly byDev = new Map<string, Map<Int, FileRef>>();
  /** The ref returned last: consecutive events mostly name one file (two Map lookups saved per event). */
  private lastDev: string | undefined;
  private lastIno: Int | undefined;
  private last: FileRef | undefined;
  /** The inodes of `lastDev`. */
  private lastByIno: Map<Int, FileRef> | undefined;

  get(dev: string, ino: Int): FileRef {
    if (ino === this.lastIno && dev === this.lastDev) return this.last!;
    const f = this.lookup(dev, ino);
    this.lastDev = dev;
    this.lastIno = ino;
    this.last = f;
    return f;
  }

  private lookup(dev: string, ino: Int): FileRef {
    // a trace names one device mostly: its inodes' Map is found without a lookup by the device's string
    let m = dev === this.lastDev ? this.lastByIno : this.byDev.get(dev);
    if (!m) {
      m = new Map();
      this.byDev.set(dev, m);
    }
    this.lastByIno = m;
    let f = m.get(ino);
    if (!f) {
      f = { dev, ino: BigInt(ino) };
      m.set(ino, f);
    }
    return f;
  }
}

/** The lifter of events a map does not know (sched, irq, ...). */
const unknownEvent: Lifter = () => null;

/** How many distinct pfns of each origin pfnsApart() keeps before it stops adding. */
const PFN_CHECK_MAX = 1 << 16;

export class ProbeMapAdapter implements Adapter {
  private readonly compiled = new Map<string, Lifter>();
  /**
   * Distinct pfns of ops, by origin: read from a struct page * (`as: page`, through the
   * vmemmap base and struct page size) or printed by the trace (the page-cache tracepoints'
   * `pfn=`). Kept until one pfn has both origins; see pfnsApart().
   */
  private readonly pagePfns = new Set<bigint>();
  private readonly printedPfns = new Set<bigint>();
  private pfnsMeet = false;
  private readonly devs = new Map<FieldValue, string | undefined>();
  private readonly readers = new Map<Conversion, Arg['read']>();
  private readonly readerFactories = new Map<string, ReaderFactory>();
  readonly files: FileRefs;

  constructor(
    readonly name: string,
    private readonly map: ProbeMap,
    private readonly pages: PageConversion,
    files?: FileRefs,
  ) {
    this.files = files ?? new FileRefs();
  }

  lift(ev: TraceEvent): Lifted {
    return this.lifterFor(ev)(ev);
  }

  lifterFor(ev: TraceEvent): Lifter {
    let c = this.compiled.get(ev.event);
    if (c === undefined) {
      c = this.compile(ev) ?? unknownEvent;
      this.compiled.set(ev.event, c);
    }
    return c;
  }

  private compile(ev: TraceEvent): Lifter | undefined {
    const found = meaningOf(this.map, ev.event, ev.probe);
    return found ? this.build(found.meaning, found.meaning.fn ?? found.func) : undefined;
  }

  private build(meaning: ProbeMeaning, fn: string | undefined): Lifter {
    const args: Arg[] = Object.entries(meaning.args).map(([target, spec]) => {
      const as = (typeof spec === 'string' ? undefined : spec!.as) ?? DEFAULT_AS[target as Target];
      const fields = typeof spec === 'string' ? [spec] : typeof spec!.field === 'string' ? [spec!.field] : spec!.field;
      return {
        target: target as Target,
        field: internalized(fields[0]!),
        alt: fields.length > 1 ? fields.slice(1).map(internalized) : undefined,
        as,
        read: this.reader(as),
      };
    });
    // the kind internalized: every op's kind is then compared by pointer with the kinds the
    // engine switches on (a map's parser makes its own strings)
    const op = internalized(meaning.op) as ProbeMeaning['op'];
    // a probe's `mapcount` is page->_mapcount read at function entry (biased: -1 = unmapped);
    // the op's is the number of PTEs after the change, as the model counts
    const mapcountAfter = op === 'pte_map' ? 2 : op === 'pte_unmap' ? 0 : undefined;
    const v = emptyValues();
    const pfnArg = args.find((a) => a.target === 'pfn');
    const orderArg = args.find((a) => a.target === 'order');
    // the pages an unusable event names, when its pfn (and order) can be read
    const unusable = (reason: string, ev: TraceEvent): Unusable => {
      const rawOf = (a: Arg | undefined) => (a ? [a.field, ...(a.alt ?? [])].map((f) => ev.fields[f]).find((x) => x !== undefined) : undefined);
      const read = (a: Arg | undefined) => {
        const raw = rawOf(a);
        return raw === undefined ? undefined : a!.read(raw, ev);
      };
      const pfn = toBig(pfnValue(read(pfnArg)));
      const order = rawOf(orderArg) !== undefined ? toNumber(read(orderArg)) : 0;
      return pfn === undefined || order === undefined ? { unusable: reason } : { unusable: reason, pfns: subpages(pfn, order) };
    };
    const readArgs = argsReader(args, this.readerFactories);
    return (ev) => {
      const why = readArgs(ev.fields, v, ev);
      if (why !== undefined) return unusable(why, ev);
      if (mapcountAfter !== undefined && typeof v.mapcount === 'number') v.mapcount += mapcountAfter;
      const made = makeOp(op, fn, v, ev, this.files);
      if (typeof made === 'string') return unusable(made, ev);
      const shaped = made as unknown as ShapedOp;
      if (!this.pfnsMeet && pfnArg !== undefined && shaped.pfn !== undefined) this.notePfns(pfnArg.as === 'page', shaped.pfn, shaped.order ?? 0);
      return made;
    };
  }

  private notePfns(fromPage: boolean, pfn: bigint, order: number): void {
    const mine = fromPage ? this.pagePfns : this.printedPfns;
    const other = fromPage ? this.printedPfns : this.pagePfns;
    // subpages' pfns, counted out here: an array per op (of one pfn, mostly) was garbage on every op until the origins meet
    const n = order > 0 ? 1 << Math.min(order, 10) : 1;
    for (let j = 0; j < n; j++) {
      const p = j === 0 ? pfn : pfn + BigInt(j);
      if (other.has(p)) {
        this.pfnsMeet = true;
        this.pagePfns.clear();
        this.printedPfns.clear();
        return;
      }
      if (mine.size < PFN_CHECK_MAX) mine.add(p);
    }
  }

  /**
   * When ops read pfns both from struct page pointers and as printed pfns, and no pfn came
   * from both: the counts of each. A wrong vmemmap base (another boot's, under KASLR) or
   * struct page size shifts or scales every pointer's pfn, so the pages the PTE probes map
   * are never the pages the page-cache tracepoints add and remove, and no rule that joins
   * the two can fire. Undefined when the two agree somewhere or one origin is absent.
   */
  pfnsApart(): { fromPages: number; printed: number } | undefined {
    if (this.pfnsMeet || this.pagePfns.size === 0 || this.printedPfns.size === 0) return undefined;
    return { fromPages: this.pagePfns.size, printed: this.printedPfns.size };
  }

  /** One converter per conversion for all of this adapter's meanings, so that meanings reading alike share a reader's code (argsReader). */
  private reader(as: Conversion): Arg['read'] {
    let r = this.readers.get(as);
    if (r === undefined) this.readers.set(as, (r = this.makeReader(as)));
    return r;
  }

  private makeReader(as: Conversion): Arg['read'] {
    switch (as) {
      case 'number':
      case 'pfn':
        return toInt;
      case 'signed':
        return toSigned;
      case 'hex':
        return hexDigits;
      case 'bytes-to-index':
        return bytesToIndex;
      case 'string':
        return (raw) => (raw === null ? undefined : String(raw));
      case 'kdev': {
        // the last device read, then every one seen (a trace names a few devices, one mostly)
        let lastRaw: FieldValue | undefined;
        let lastDev: string | undefined;
        return (raw) => {
          if (raw === lastRaw && raw !== undefined) return lastDev;
          let d = this.devs.get(raw);
          if (d === undefined && !this.devs.has(raw)) {
            d = toDev(raw);
            this.devs.set(raw, d);
          }
          lastRaw = raw;
          lastDev = d;
          return d;
        };
      }
      case 'page': {
        const size = this.pages.structPageSize;
        return (raw, ev) => {
          const base = this.pages.vmemmapBase;
          if (base === undefined) {
            throw new InputError(`${ev.event} carries a struct page * but the vmemmap base of the traced kernel is unknown, so it cannot become a pfn`, {
              file: ev.source,
              line: ev.line,
              hint: this.pages.missingHint,
            });
          }
          const p = typeof raw === 'bigint' ? raw : toBig(toInt(raw));
          if (p === undefined || p < base) return undefined;
          // one bigint subtraction; the offset (pfn × sizeof(struct page)) is exact as a number
          const off = narrow(p - base);
          if (typeof off !== 'number' || off % size !== 0) return undefined;
          return off / size;
        };
      }
    }
  }
}

/** The pfns of a folio of 2^order pages (order capped as replay caps it). */
export function subpages(pfn: bigint, order: number): bigint[] {
  const n = 1 << Math.min(Math.max(order, 0), 10);
  const out: bigint[] = [];
  for (let j = 0; j < n; j++) out.push(pfn + BigInt(j));
  return out;
}

/**
 * What `map` says an event means: by its exact name, else by `kprobe:<func>` /
 * `kretprobe:<func>` from its probe site or its auto-generated name; undefined when the
 * map does not know it.
 */
export function meaningOf(map: ProbeMap, event: string, probe: ProbeSite | undefined): { meaning: ProbeMeaning; func: string | undefined } | undefined {
  const probes = map.probes;
  let func = probe?.func;
  let kind: string | undefined = probe?.kind;
  if (!func) {
    const m = /^([pr])_(.+)_\d+$/.exec(event);
    if (m) {
      kind = m[1] === 'p' ? 'kprobe' : 'kretprobe';
      func = m[2];
    }
  }
  const meaning = Object.hasOwn(probes, event) ? probes[event] : func && Object.hasOwn(probes, `${kind}:${func}`) ? probes[`${kind}:${func}`] : undefined;
  return meaning ? { meaning, func } : undefined;
}

/**
 * Functions that install the PTE of a fault on a file's VMA and map either the file's page or,
 * on a write fault in a private mapping, the new anonymous copy the fault made of it:
 * 6.1.192 mm/memory.c:4417-4424 (do_set_pte: `if (write && !(vma->vm_flags & VM_SHARED))`
 * page_add_new_anon_rmap, else page_add_file_rmap), 6.12.118 mm/memory.c:5045-5051
 * (set_pte_range: folio_add_new_anon_rmap, else folio_add_file_rmap_ptes).
 */
const COPY_MAPPERS: ReadonlySet<string> = new Set(['do_set_pte', 'set_pte_range']);
/** include/linux/mm_types.h (6.1.192:1012, 6.12.118:1436): `FAULT_FLAG_WRITE = 1 << 0`. */
const FAULT_FLAG_WRITE = 1n;
/** include/linux/mm.h (6.1.192:279, 6.12.118:278): `#define VM_SHARED 0x00000008`. */
const VM_SHARED = 8n;

/**
 * Whether a COPY_MAPPERS PTE maps a private write fault's anonymous copy (`yes`), the file's page
 * (undefined) or either, as far as the probe's fields tell (`maybe`). A read fault (the fault
 * flags without FAULT_FLAG_WRITE) or a shared VMA maps the file's page; a write fault in a VMA
 * without VM_SHARED maps the copy. A page whose ->mapping is not NULL at entry is the file's: the
 * copy is a page just allocated (6.1.192 do_cow_fault, mm/memory.c:4649, alloc_page_vma), and a
 * free page's ->mapping is NULL (mm/page_alloc.c:1289, "non-NULL mapping" is a bad page). A NULL
 * ->mapping is the copy's or a file page's that left the page cache (mm/filemap.c:143,
 * page_cache_delete): an orphan, which is what orphan-page-mapped looks for.
 */
/**
 * STALE_THROUGH_NULL: a fetch through a NULL pointer (`+64(+0(+24($arg1)))` with page->mapping
 * NULL) fails and writes nothing, so the field prints the bytes its slot held before — another
 * event's, which may even pass the probe's filter. 6.1.192 kernel/trace/trace_probe_tmpl.h:113-125
 * returns on a failed dereference before the store, and 155-157 ignores a failed final read;
 * copy_from_kernel_nofault refuses an address below TASK_SIZE_MAX + PAGE_SIZE without touching the
 * destination (arch/x86/mm/maccess.c:17-18, mm/maccess.c:31-32). So a PTE probe's file is dropped
 * when it fetched `mapping` and read 0 (a mapping probe that names its page's file some other way,
 * through the VMA, loses only what replay can take from the page's own history).
 */
function isNull(v: Value | undefined): boolean {
  return v !== undefined && typeof v !== 'string' && BigInt(v) === 0n;
}

function anonCopy(v: Values): 'yes' | 'maybe' | undefined {
  const flags = v.faultFlags;
  const vm = v.vmFlags;
  const write = typeof flags === 'string' || flags === undefined ? undefined : (BigInt(flags) & FAULT_FLAG_WRITE) !== 0n;
  const shared = typeof vm === 'string' || vm === undefined ? undefined : (BigInt(vm) & VM_SHARED) !== 0n;
  if (write === false || shared === true) return undefined;
  if (write === true && shared === false) return 'yes';
  const mapping = v.mapping;
  if (mapping !== undefined && typeof mapping !== 'string' && BigInt(mapping) !== 0n) return undefined;
  return 'maybe';
}

const INVALIDATE_FNS: ReadonlySet<string> = new Set<InvalidateFn>(['invalidate_inode_pages2_range', 'invalidate_mapping_pages', 'mapping_try_invalidate']);
function isInvalidateFn(fn: string | undefined): fn is InvalidateFn {
  return fn !== undefined && INVALIDATE_FNS.has(fn);
}

/**
 * An op with every field any kind has, in one order. Every op the adapters make is built
 * from it (`shapedOp`), so all of them share one hidden class: the sorter, the tie grouping
 * and the engine load `op.kind`, `op.event`, `op.file`, ... once per event at sites that
 * then see one shape, where a literal per kind (a dozen shapes, each kind's optional fields
 * left out) made every such load megamorphic. A field the kind does not have is present and
 * undefined: what reading it gave before; JSON.stringify leaves it out as it left out an
 * absent one; readers of ops (the engine, ties.ts, the Perfetto export) test values, not
 * `in` or own keys, where the answer could differ.
 */
export interface ShapedOp {
  kind: MmOpKind;
  fn: string | undefined;
  file: FileRef | undefined;
  index: number | undefined;
  pfn: bigint | undefined;
  order: number | undefined;
  nr: number | undefined;
  address: bigint | undefined;
  mapcount: number | undefined;
  ret: number | undefined;
  start: number | undefined;
  end: number | undefined;
  size: bigint | undefined;
  text: string | undefined;
  anon: 'yes' | 'maybe' | undefined;
  event: TraceEvent;
}

/** A ShapedOp of `kind` with no field but its event set (makeOp and the explore adapter fill in what the kind has). */
export function shapedOp(kind: MmOpKind, event: TraceEvent): ShapedOp {
  return {
    kind,
    fn: undefined,
    file: undefined,
    index: undefined,
    pfn: undefined,
    order: undefined,
    nr: undefined,
    address: undefined,
    mapcount: undefined,
    ret: undefined,
    start: undefined,
    end: undefined,
    size: undefined,
    text: undefined,
    anon: undefined,
    event,
  };
}

/** Build the MmOp of `kind` from converted values (one shape for every kind: ShapedOp); a string when a required value is missing. */
export function makeOp(kind: ProbeMeaning['op'], fn: string | undefined, v: Values, event: TraceEvent, files: FileRefs): MmOp | string {
  const ino = v.ino;
  const file = ino === undefined || typeof ino === 'string' ? undefined : files.get(typeof v.dev === 'string' ? v.dev : UNKNOWN_DEV, ino);
  const index = toNumber(v.index);
  const o = shapedOp(kind, event);
  switch (kind) {
    case 'cache_add':
    case 'cache_delete': {
      const pfn = toBig(pfnValue(v.pfn));
      if (!file) return 'no ino';
      if (index === undefined) return 'no page index';
      if (pfn === undefined) return badPfn(v.pfn) ?? 'no pfn';
      const order = toNumber(v.order) ?? 0;
      // a folio of order n covers 2^n indexes and 2^n pfns, both aligned to 2^n
      // (VM_BUG_ON_FOLIO(index & (folio_nr_pages(folio) - 1)) in __filemap_add_folio, 6.12
      // mm/filemap.c; the buddy allocator hands out naturally aligned compound pages)
      if (!Number.isInteger(order) || order < 0 || order > MAX_FOLIO_ORDER) return `order ${v.order} is not a folio order (0..${MAX_FOLIO_ORDER})`;
      if (order > 0) {
        const n = 2 ** order;
        if (index % n !== 0) return `index ${index} is not aligned to its order-${order} folio`;
        if (pfn % BigInt(n) !== 0n) return `pfn 0x${pfn.toString(16)} is not aligned to its order-${order} folio`;
      }
      o.file = file;
      o.index = index;
      o.pfn = pfn;
      o.order = order;
      break;
    }
    case 'pte_map':
    case 'pte_unmap': {
      const pfn = toBig(pfnValue(v.pfn));
      if (pfn === undefined) return badPfn(v.pfn) ?? 'no page';
      const nr = v.nr === undefined ? undefined : toNumber(v.nr);
      if (v.nr !== undefined && (nr === undefined || nr < 1 || nr > 2 ** MAX_FOLIO_ORDER)) return `nr=${String(v.nr)} is not a page count`;
      let pageIndex = index;
      if (v.folio !== undefined) {
        const folio = toBig(v.folio)!;
        const sub = pfn - folio;
        if (sub < 0n || sub >= BigInt(2 ** MAX_FOLIO_ORDER)) return `page pfn 0x${pfn.toString(16)} is not in its folio at pfn 0x${folio.toString(16)}`;
        if (pageIndex !== undefined) pageIndex += Number(sub);
      }
      o.pfn = pfn;
      o.nr = nr;
      // a page whose ->mapping is NULL is in no page cache, and a file read through it is not its:
      // the fetch through NULL fails and leaves the field's earlier bytes (STALE_THROUGH_NULL)
      o.file = kind === 'pte_map' && isNull(v.mapping) && !(fn !== undefined && COPY_MAPPERS.has(fn)) ? undefined : file;
      o.index = pageIndex;
      o.address = toBig(v.address);
      o.mapcount = toNumber(v.mapcount);
      if (kind === 'pte_map' && fn !== undefined && COPY_MAPPERS.has(fn)) o.anon = anonCopy(v);
      break;
    }
    case 'fault_begin':
      o.file = file;
      o.index = index;
      o.address = toBig(v.address);
      break;
    case 'fault_end':
      o.file = file;
      o.index = index;
      o.ret = toNumber(v.ret);
      break;
    case 'invalidate_begin':
      if (!isInvalidateFn(fn)) return `fn ${fn ?? '(none)'} is not an invalidate function`;
      o.fn = fn;
      o.file = file;
      o.start = toNumber(v.start);
      o.end = toNumber(v.end);
      break;
    case 'invalidate_end':
      if (!isInvalidateFn(fn)) return `fn ${fn ?? '(none)'} is not an invalidate function`;
      o.fn = fn;
      o.file = file;
      o.ret = toNumber(v.ret);
      break;
    case 'truncate_begin':
      if (fn !== 'truncate_pagecache' && fn !== 'truncate_inode_pages_range' && fn !== 'vmtruncate') return `fn ${fn ?? '(none)'} is not a truncate function`;
      o.fn = fn;
      o.file = file;
      o.start = toNumber(v.start);
      o.end = toNumber(v.end);
      o.size = toBig(v.size);
      break;
    case 'truncate_end':
      if (fn !== 'truncate_pagecache' && fn !== 'truncate_inode_pages_range' && fn !== 'vmtruncate') return `fn ${fn ?? '(none)'} is not a truncate function`;
      o.fn = fn;
      o.file = file;
      o.ret = toNumber(v.ret);
      break;
    case 'unmap_range':
      o.fn = fn ?? 'unmap_mapping_range';
      o.file = file;
      o.start = toNumber(v.start);
      o.end = toNumber(v.end);
      o.pfn = toBig(v.pfn);
      break;
    case 'isize_set': {
      const size = toBig(v.size);
      if (!file) return 'no ino';
      if (size === undefined) return 'no size';
      o.file = file;
      o.size = size;
      break;
    }
    case 'page_lock':
    case 'page_unlock': {
      const pfn = toBig(v.pfn);
      if (pfn === undefined) return 'no page';
      o.pfn = pfn;
      break;
    }
    case 'task_exit':
      break; // the event's own task exits: its pid and CPU are the event's
  }
  return o as MmOp;
}
