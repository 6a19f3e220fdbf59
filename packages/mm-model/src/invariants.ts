/**
 * The model's invariants, stated once and whole, as a TLA+ specification states them: each
 * a named predicate over a state (and, for an action invariant, over the transition that
 * must not break it), returning what it finds broken in the words of its rule
 * (docs/rules.md). Where the kernel checks the invariant itself, the predicate carries the
 * name of that check and cites it; the others are promises the kernel makes and never checks.
 *
 *   WarnOnPageMapped      [action: a page leaves the page cache]
 *       the page is not mapped: page_mapcount(page) = 0                 rule mapped-page-removed
 *   OrphanPageMapped      [action: page_add_file_rmap(page) for the PTE of (file, index)]
 *       page->mapping = file /\ the cache's page at index = page         rule orphan-page-mapped
 *   StaleAfterInvalidate  [action: an invalidate of [start, end] returns success]
 *       \A PTE of file at index i in [start, end]: it maps the cache's page at i
 *                                                                        rule stale-after-invalidate
 *   StaleAtEnd            [state: every thread has finished]
 *       StaleAfterInvalidate again over every range promised coherent   rule stale-after-invalidate
 *   StaleData             [action: a user read of (file, index) that started with floor F observes tag T]
 *       T is data of (file, index) /\ gen(T) >= F                        rule stale-data
 *   MappedBeyondEof       [action: a truncate returns; state: every thread has finished]
 *       \A PTE/PMD of a non-shmem file whose truncate has returned:
 *           its index < ceil(i_size / PAGE_SIZE)                        rule mapped-beyond-eof
 *   FreedWhileUnmappedDirect [action: a page's last reference is dropped]
 *       the page is in the kernel direct map                           rule freed-while-unmapped-direct
 *   StaleAfterPunch       [action: a hole punch updates the block map]
 *       no page cached in the hole was read from the blocks it freed   rule stale-data
 *
 * The step context (ctx.ts) judges each action invariant inside the primitive that performs
 * the action, so every flavor — built in or a user's — gets them without asking;
 * Machine.final() (model.ts) judges StaleAtEnd. The kernel's own BUG_ON()s inside a path
 * (rule bug-on) are not here: they stay in that path's steps, where the kernel has them.
 * Deadlock and livelock are judged by the explorer on the state graph.
 */
import type { ModelViolation } from '@kreplay/core';
import { fileKey } from '@kreplay/core';
import { pteName, type Env, type VmaEnv } from './env.js';
import { NONE, PAGE_SIZE, hex, type MmState, type PageS } from './state.js';
import { staleTag, tagText } from './data.js';

/**
 * WarnOnPageMapped: a page leaving the page cache is not mapped by any PTE.
 * The kernel's own check, on the mapcount as here:
 * - the seed patch (linux-2.6.15-seqschedlock) resurrects it in __remove_from_page_cache():
 *   `WARN_ON(page_mapped(page) && !PageSwapCache(page))` (its mm/filemap.c hunk @@ -116,6 +116,9 @@);
 * - linux-6.1.192 mm/filemap.c:153-158 filemap_unaccount_folio():
 *   `VM_BUG_ON_FOLIO(folio_mapped(folio), folio)`, else "BUG: Bad page cache in process %s pfn:%05lx".
 * - linux-2.6.23.17 mm/filemap.c:123 __remove_from_page_cache(): `BUG_ON(page_mapped(page))` (the flavor
 *   also fires it as bug-on: flavors/linux-2.6.15/invalidate.ts bugOnMappedRemove).
 * 2.6.15 does not check; the model judges it on every flavor alike.
 *
 * @param page the page as it was in the cache, just before the removal
 * @param s the state after the removal (its PTEs are the ones still mapping the page)
 */
export function warnOnPageMapped(env: Env, s: MmState, page: PageS): ModelViolation[] {
  if (page.mapcount === 0) return [];
  const file = page.mapping;
  const ptes = ptesMapping(env, s, page.pfn);
  // a PMD maps 512 PTE slots of one folio: name the first few
  const by = ptes.length > 8 ? ` by ${ptes.slice(0, 8).join(', ')} and ${ptes.length - 8} more PTE slots` : ptes.length > 0 ? ` by ${ptes.join(', ')}` : '';
  return [
    violation(
      env,
      'mapped-page-removed',
      `pfn ${hex(page.pfn)} (index ${page.index}) left the page cache of ${env.files[file]!.name} while mapped` + ` (mapcount ${page.mapcount})${by}`,
      file,
      page.index,
      page.pfn,
    ),
  ];
}

/**
 * OrphanPageMapped: page_add_file_rmap() maps only the page cache's current page for the
 * PTE's index — a mapping that starts for a page already removed (page->mapping NULL) or
 * replaced is one no invalidate or truncate will ever find. No kernel check exists: in 6.1
 * filemap_fault() rechecks `folio->mapping != mapping` under the folio lock and retries
 * (linux-6.1.192 mm/filemap.c:3280), which is what keeps it true there; 2.6.15's do_no_page() relies on its
 * truncate_count recheck under the PTE lock. Judged at the rmap, where a trace shows the
 * mapping (`pte_map`), so a rendered counterexample replays as the same rule.
 *
 * @param s the state in which the rmap is added (the PTE (vma, i) now maps pfn)
 */
export function orphanPageMapped(env: Env, s: MmState, vma: VmaEnv, i: number, pfn: number): ModelViolation[] {
  const page = s.pages[pfn]!;
  const index = vma.pgoff + i;
  const cur = cachedAt(s, vma.file, index);
  if (page.mapping === vma.file && cur === pfn) return [];
  const why =
    page.mapping === NONE
      ? 'page->mapping is NULL (it already left the page cache)'
      : `the page cache holds ${cur === NONE ? 'no page' : `pfn ${hex(cur)}`} at index ${index}`;
  return [violation(env, 'orphan-page-mapped', `PTE ${pteName(env, vma, i)} mapped pfn ${hex(pfn)}, but ${why}`, vma.file, index, pfn)];
}

/**
 * StaleAfterInvalidate: once invalidate_inode_pages2_range() over [start, end] of a file
 * returned 0 (or the O_DIRECT write that called it returned), every PTE in the range maps
 * the page cache's current page. The kernel promises it ("Return: -EBUSY if any pages could
 * not be invalidated", linux-6.1.192 mm/truncate.c:649) and never checks it; the nearest
 * check, dio_warn_stale_pagecache() (mm/filemap.c:3741), fires only when the invalidate
 * *fails*.
 *
 * @param by who returned success, for the message (`invalidate_inode_pages2_range`, `the O_DIRECT write`)
 */
export function staleAfterInvalidate(env: Env, s: MmState, file: number, start: number, end: number, by: string): ModelViolation[] {
  return staleMappings(env, s, file, start, end).map((st) =>
    violation(env, 'stale-after-invalidate', `${by} returned success, yet ${st.text}`, file, st.index, st.pfn),
  );
}

/**
 * StaleAtEnd: StaleAfterInvalidate once more, in the final state, over every range an
 * invalidate promised coherent during the run (a racing fault may install the stale PTE
 * after the invalidate returned).
 */
export function staleAtEnd(env: Env, s: MmState): ModelViolation[] {
  const out: ModelViolation[] = [];
  s.maps.forEach((m, file) => {
    for (const [start, end] of m.coherent) {
      for (const st of staleMappings(env, s, file, start, end)) {
        out.push(
          violation(
            env,
            'stale-after-invalidate',
            `at the end, after an invalidate of ${env.files[file]!.name}[${start}..${end}] returned success: ${st.text}`,
            file,
            st.index,
            st.pfn,
          ),
        );
      }
    }
  });
  return out;
}

/**
 * StaleData: a user read (read(), a load through a mapping) that started after a write to
 * the same bytes had returned observes that write's data or newer — never an older
 * generation, never another file's or index's data (a reused block). What the seed's mail
 * asks of O_DIRECT ("once the read/write O_DIRECT call returned [faults] definitely should
 * not see the old data anymore"), and what truncate and hole punch promise for the zeros
 * they leave. No kernel check exists.
 *
 * @param obs the read: [file, index, floor] (ThreadS.obs)
 * @param tag what it observed (data.ts)
 */
export function staleData(env: Env, obs: readonly number[], tag: number, how: string): ModelViolation[] {
  const file = obs[0]!;
  const index = obs[1]!;
  const floor = obs[2]!;
  if (!staleTag(tag, file, index, floor)) return [];
  const name = env.files[file]!.name;
  const loc = (f: number) => env.files[f]?.loc ?? `M${f}`;
  const want = `${loc(file)}[${index}]v${floor} or newer`;
  return [
    {
      rule: 'stale-data',
      message: `${how} of ${name} index ${index} saw ${tagText(tag, loc)}, but a write of those bytes had returned before it started (${want})`,
      file: fileKey(env.files[file]!.ref),
      index,
    },
  ];
}

/**
 * MappedBeyondEof: once a truncate that set i_size has returned (`eofSettled`), no PTE or PMD
 * maps a page at or past ceil(i_size / PAGE_SIZE): an access there must raise SIGBUS. The
 * kernel promises it and does not check it (linux-6.12.117 mm/memory.c:5110-5119 and
 * mm/filemap.c:3662-3670, 74207de2ba10: "Do not allow to map with PTEs beyond i_size and with
 * PMD across i_size to preserve SIGBUS semantics"). shmem/tmpfs is exempt: it "for long time
 * intentionally mapped with PMDs across i_size" (same places).
 */
export function mappedBeyondEof(env: Env, s: MmState, file: number): ModelViolation[] {
  const m = s.maps[file]!;
  if (!m.eofSettled || env.files[file]!.fs === 'tmpfs') return [];
  const eof = Math.ceil(m.isize / PAGE_SIZE);
  const out: ModelViolation[] = [];
  for (const v of env.vmas) {
    if (v.file !== file) continue;
    const row = s.ptes[v.id]!;
    for (let i = 0; i < row.length; i++) {
      const index = v.pgoff + i;
      if (row[i] === NONE || index < eof) continue;
      out.push(
        violation(
          env,
          'mapped-beyond-eof',
          `${pteName(env, v, i)} (index ${index}) maps pfn ${hex(row[i]!)} of ${env.files[file]!.name}, at or past EOF ` +
            `(i_size ${m.isize}: ${eof} page${eof === 1 ? '' : 's'}) after the truncate returned`,
          file,
          index,
          row[i]!,
        ),
      );
      break; // one per VMA: a PMD maps hundreds of pages
    }
  }
  return out;
}

/** MappedBeyondEof over every file, in the final state. */
export function mappedBeyondEofAtEnd(env: Env, s: MmState): ModelViolation[] {
  return s.maps.flatMap((_, file) => mappedBeyondEof(env, s, file));
}

/**
 * FreedWhileUnmappedDirect: a page goes back to the page allocator only while it is in the
 * kernel's direct map. secretmem removes its pages from the direct map
 * (set_direct_map_invalid_noflush, linux-6.12.117 mm/secretmem.c:144) and must restore the
 * entry before the last folio_put (mm/secretmem.c:161-162, 6f86d0534fdd): the next owner of a
 * page freed without it oopses on its first kernel access ("BUG: unable to handle page fault
 * for address … not-present page"). No kernel check exists before that oops.
 *
 * @param page the page as it was just before its last reference was dropped
 */
export function freedWhileUnmappedDirect(env: Env, page: PageS): ModelViolation[] {
  if (!page.nodirect) return [];
  const f = page.mapping === NONE ? undefined : page.mapping;
  const v: ModelViolation = {
    rule: 'freed-while-unmapped-direct',
    message:
      `pfn ${hex(page.pfn)} went back to the page allocator while absent from the kernel direct map` +
      ' (set_direct_map_default_noflush() had not run): its next owner faults on its first kernel access',
    pfn: page.pfn,
  };
  if (f !== undefined) {
    v.file = fileKey(env.files[f]!.ref);
    v.index = page.index;
  }
  return [v];
}

/**
 * StaleAfterPunch: a hole punch removes the range's pages from the cache, then changes the
 * filesystem's block map (the blocks are freed, the range reads as zeros). A page that was
 * read from the old blocks in between (`stale` pfns, recorded by the read that filled it) and
 * is still cached when the block map changes shows data the file no longer has — or, once
 * the blocks are reused, another file's. 730633f0b7f9 (v5.15) closes it with invalidate_lock;
 * the kernel does not check it.
 *
 * @param stale pfns cached in [start, end] whose contents came from the blocks being freed
 */
export function staleAfterPunch(env: Env, s: MmState, file: number, start: number, end: number, stale: readonly number[]): ModelViolation[] {
  const m = s.maps[file]!;
  const out: ModelViolation[] = [];
  for (let ix = start; ix <= end && ix < m.cache.length; ix++) {
    const pfn = m.cache[ix]!;
    if (pfn === NONE || !stale.includes(pfn)) continue;
    out.push(
      violation(
        env,
        'stale-data',
        `the hole punch of ${env.files[file]!.name}[${start}..${end}] freed the blocks, yet pfn ${hex(pfn)} at index ${ix}` +
          ' holds data read from them after the punch emptied the page cache',
        file,
        ix,
        pfn,
      ),
    );
  }
  return out;
}

/** PTEs in [start, end] of `file` that do not map the page cache's current page. */
export function staleMappings(env: Env, s: MmState, file: number, start: number, end: number): { text: string; index: number; pfn: number }[] {
  const out: { text: string; index: number; pfn: number }[] = [];
  for (const v of env.vmas) {
    if (v.file !== file) continue;
    const row = s.ptes[v.id]!;
    for (let i = 0; i < row.length; i++) {
      const index = v.pgoff + i;
      const pfn = row[i]!;
      if (pfn === NONE || index < start || index > end) continue;
      const cur = cachedAt(s, file, index);
      if (cur === pfn) continue;
      out.push({
        index,
        pfn,
        text: `PTE ${pteName(env, v, i)} (index ${index}) maps pfn ${hex(pfn)}, ` + `not the page cache's ${cur === NONE ? 'empty slot' : `pfn ${hex(cur)}`}`,
      });
    }
  }
  return out;
}

/** `mm1:0x10000` for every PTE that maps pfn. */
export function ptesMapping(env: Env, s: MmState, pfn: number): string[] {
  const out: string[] = [];
  for (const v of env.vmas) {
    const row = s.ptes[v.id]!;
    for (let i = 0; i < row.length; i++) if (row[i] === pfn) out.push(pteName(env, v, i));
  }
  return out;
}

/** The pfn the page cache of `file` holds at `index`, NONE for a hole. */
function cachedAt(s: MmState, file: number, index: number): number {
  return s.maps[file]!.cache[index] ?? NONE;
}

function violation(env: Env, rule: ModelViolation['rule'], message: string, file: number, index: number, pfn: number): ModelViolation {
  return { rule, message, file: fileKey(env.files[file]!.ref), index, pfn };
}
