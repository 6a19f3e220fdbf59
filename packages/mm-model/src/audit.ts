/**
 * The read audit: a test hook that sees every shared location a step reads through the step
 * context's accessors (page and mapping fields, PTEs, PTE locks, page flags, the cache tree),
 * named as steps name them in their declared accesses, so test/accesses.test.ts can check that
 * DPOR's dependency relation is built on every read a step really makes. Off (undefined) when
 * the explorer runs.
 */
import type { MappingS, PageFlag, PageS } from './state.js';

/** Called with the location of each read. */
export type ReadAudit = (loc: string) => void;

/** `lock:pfn3` for PG_locked (a lock), `pfn3.flags.uptodate` for the other flags. */
export function flagLoc(pfn: number, f: PageFlag): string {
  return f === 'locked' ? `lock:pfn${pfn}` : `pfn${pfn}.flags.${f}`;
}

const PAGE_FIELD_LOC: Partial<Record<keyof PageS, (pfn: number) => string>> = {
  mapping: (p) => `pfn${p}.mapping`,
  refcount: (p) => `pfn${p}.refcount`,
  mapcount: (p) => `pfn${p}.mapcount`,
  locker: (p) => `lock:pfn${p}`,
  // read only by a sleeper testing its own bit (Ctx.dropWaitAsleep): whether a release of the lock woke it
  waiters: (p) => `lock:pfn${p}`,
  flags: (p) => `pfn${p}.flags.*`,
  data: (p) => `pfn${p}.data`,
};

/** A page whose field reads are reported (`pfn3.flags.*` stands for "some flag of pfn 3"). */
export function auditedPage(p: PageS, audit: ReadAudit): PageS {
  return new Proxy(p, {
    get(t, k) {
      const loc = PAGE_FIELD_LOC[k as keyof PageS];
      if (loc) audit(loc(t.pfn));
      return t[k as keyof PageS];
    },
  });
}

const MAP_FIELD_LOC: Partial<Record<keyof MappingS, string>> = {
  cache: 'tree',
  isize: 'i_size',
  truncateCount: 'truncate_count',
  nrpages: 'nrpages',
  sslWriters: 'seqschedlock.writers',
  sslSequence: 'seqschedlock.sequence',
  invalidateLock: 'invalidate_lock',
  immap: 'i_mmap_lock',
  ilock: 'inode_lock',
  bmap: 'disk',
  hole: 'disk',
  gen: 'disk',
  floor: 'floor',
};

/** A mapping (location prefix `M`, e.g. `M0`) whose field reads are reported. */
export function auditedMap(m: MappingS, M: string, audit: ReadAudit): MappingS {
  return new Proxy(m, {
    get(t, k) {
      const f = MAP_FIELD_LOC[k as keyof MappingS];
      if (f) audit(`${M}.${f}`);
      return t[k as keyof MappingS];
    },
  });
}
