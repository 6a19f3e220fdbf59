/**
 * What each rule's finding says: pure functions from the replayed state around a violation
 * to a draft (message, explanation, the events it cites). Every event the explanation
 * mentions is cited; tasks are named `comm-pid on CPU n`.
 */
import type { TraceEvent } from '@kreplay/core';
import type { RuleId } from '@kreplay/core';
import type { Fact } from './certainty.js';
import { at, during, hex, pageText, plural, who } from './cite.js';
import type { FileState, MapCite, PageRec, Promise_ } from './shadow.js';

/** A finding before certainty and citation are settled (findings.ts does that). */
export interface Draft {
  rule: RuleId;
  /** The page it is about (its sync point and CPUs decide certainty; its identity goes to diff). */
  rec: PageRec;
  /** The event that broke the rule. */
  ev: TraceEvent;
  message: string;
  explanation: string;
  /** Other events the explanation mentions. */
  others: TraceEvent[];
  /** The page facts the finding rests on (certainty.ts): a gap or an unsure mark on one makes it uncertain. */
  needs: readonly Fact[];
  /** Set by the tie search (ties.ts) when the finding does not arise, or is uncertain, in another order the timestamps allow: why. */
  tie?: string;
  /** Certain only if no events were lost on any CPU after this sequence number (instead of the page's sync point and CPUs). */
  sinceAnyCpu?: number;
}

const CACHE: readonly Fact[] = ['cache'];
const MAP: readonly Fact[] = ['map'];
const BOTH: readonly Fact[] = ['cache', 'map'];
export const FACTS = { cache: CACHE, map: MAP, both: BOTH } as const;

const KERNEL_CHECK =
  'The kernel checks this itself: 6.1 reports "BUG: Bad page cache" (VM_BUG_ON_FOLIO(folio_mapped(folio)) with CONFIG_DEBUG_VM); the seed patch\'s WARN_ON(page_mapped(page)) in __remove_from_page_cache fires on it.';

export function mapsText(maps: MapCite[]): string {
  if (maps.length === 0) return 'mapped before the trace shows';
  return maps.map((m) => `${who(m.ev)} mapped it at ${at(m.ev)}${m.fault ? ` in a fault that began at ${at(m.fault)}` : ''}`).join('; ');
}

function mapEvents(maps: MapCite[]): TraceEvent[] {
  return maps.flatMap((m) => (m.fault ? [m.fault, m.ev] : [m.ev]));
}

/** `ev` removed rec from the page cache while PTEs mapped it; `call` is the remover's invalidate/truncate entry. */
export function mappedPageRemoved(rec: PageRec, ev: TraceEvent, call: TraceEvent | undefined, fn: string | undefined): Draft {
  const mappers = rec.maps.length ? mapsText(rec.maps) : 'the mappings were made before the trace shows';
  return {
    rule: 'mapped-page-removed',
    rec,
    ev,
    message: `${pageText(rec)} removed from the page cache while mapped by ${plural(rec.mapcount, 'PTE')}`,
    explanation: `${who(ev)} removed ${pageText(rec)} from the page cache at ${at(ev)}${during(call, fn)} while ${plural(rec.mapcount, 'PTE')} still mapped it: ${mappers}. Nothing unmapped it in between, so those tasks keep reading and writing a page the file no longer owns. ${KERNEL_CHECK}`,
    others: [...(call ? [call] : []), ...mapEvents(rec.maps)],
    needs: MAP,
  };
}

/** `ev` installed a PTE for index `index` of `f` mapping rec, which is not the cache's page there; `fault` is the mapper's fault entry. */
export function orphanMapped(rec: PageRec, ev: TraceEvent, fault: TraceEvent | undefined, f: FileState | undefined, index: number | undefined): Draft {
  const del = rec.inCache ? undefined : rec.del;
  const cur = f && index !== undefined ? f.cache.get(index) : undefined;
  const race =
    fault && del && fault.ts <= del.ts
      ? ` Its fault began at ${at(fault)}, before the removal, found the page still cached and installed the PTE without rechecking page->mapping.`
      : fault
        ? ` It was in a fault that began at ${at(fault)}.`
        : '';
  const why = rec.inCache
    ? `but the PTE is for index ${index} of ino ${hex(f!.ref.ino)}, where the page cache holds ${cur ? `pfn ${hex(cur.pfn)}` : 'no page'}`
    : `but ${del ? `${who(del)} had removed it from the page cache at ${at(del)}${during(rec.delCall, rec.delFn)}` : 'it had left the page cache'}`;
  const after = rec.inCache
    ? " The PTE maps a page that is not the file's page for that index: reads through it see another page's data."
    : ` The new PTE maps a page whose mapping is NULL${cur && cur !== rec ? ` while the cache holds pfn ${hex(cur.pfn)} for that index${cur.add ? ` (added at ${at(cur.add)})` : ''}` : ''}: its data is no longer the file's, and no later invalidate or truncate will find this PTE to zap it.`;
  return {
    rule: 'orphan-page-mapped',
    rec,
    ev,
    message: `PTE installed for ${pageText(rec)} ${rec.inCache ? `at index ${index}, which the page cache does not hold it for` : 'after it left the page cache'}`,
    explanation: `${who(ev)} mapped ${pageText(rec)} at ${at(ev)}, ${why}.${race}${after}`,
    others: [...(fault ? [fault] : []), ...(del ? [del] : []), ...(del && rec.delCall ? [rec.delCall] : []), ...(cur?.add && cur !== rec ? [cur.add] : [])],
    needs: CACHE,
  };
}

/** Removed page g is still mapped inside range `p`, promised coherent; `atEnd`: judged at the end of the trace. */
/**
 * A fault mapped `g` (served the load from it) after an invalidate_inode_pages2_range over its
 * index returned 0 with `g` still cached — `g` was cached before that invalidate began, so it
 * holds data from before the O_DIRECT write the invalidate served.
 */
export function staleDataServed(g: PageRec, f: FileState, map: TraceEvent, fault: TraceEvent | undefined): Draft {
  const s = g.survived!;
  const range = `index ${g.index} of ino ${hex(f.ref.ino)}`;
  return {
    rule: 'stale-data',
    rec: g,
    ev: map,
    sinceAnyCpu: g.bornSeq,
    needs: FACTS.cache,
    message: `${pageText(g)} served a fault after an invalidate of it returned 0 with the page still cached`,
    explanation:
      `${pageText(g)} was cached${g.add ? ` (added by ${who(g.add)} at ${at(g.add)})` : ''} before ${who(s.ret)} entered invalidate_inode_pages2_range over ${range}${s.begin ? ` at ${at(s.begin)}` : ''}, ` +
      `and was still the cache's page when that returned 0 at ${at(s.ret)}. ${who(map)} then mapped it at ${at(map)}${fault ? ` (in the fault entered at ${at(fault)})` : ''}: ` +
      "the load it serves reads data from before the invalidate — an O_DIRECT write's old data, though the write was promised coherence.",
    others: [...(g.add ? [g.add] : []), ...(s.begin ? [s.begin] : []), s.ret, ...(fault ? [fault] : [])],
  };
}

export function staleMapped(g: PageRec, f: FileState, p: Promise_, atEnd: boolean): Draft {
  const cur = g.index !== undefined ? f.cache.get(g.index) : undefined;
  const range = `indexes ${p.start}..${p.end === Number.MAX_SAFE_INTEGER ? 'end' : p.end} of ino ${hex(f.ref.ino)}`;
  const inv = `${who(p.ret)} returned 0 from invalidate_inode_pages2_range over ${range}${p.begin ? ` (entered at ${at(p.begin)})` : ''} at ${at(p.ret)}`;
  const removed = g.del ? `removed from the page cache by ${who(g.del)} at ${at(g.del)}` : 'no longer in the page cache';
  const now = cur
    ? `the cache's page for index ${g.index} is pfn ${hex(cur.pfn)}${cur.add ? ` (added at ${at(cur.add)})` : ''}`
    : `the cache holds no page for index ${g.index}`;
  const what = atEnd
    ? `When the trace ends, ${pageText(g)}, ${removed}, is still mapped (${mapsText(g.maps)}), though ${inv}.`
    : `${inv}, yet ${pageText(g)}, ${removed}, is still mapped: ${mapsText(g.maps)}.`;
  return {
    rule: 'stale-after-invalidate',
    rec: g,
    ev: atEnd ? (g.maps[g.maps.length - 1]?.ev ?? p.ret) : p.ret,
    message: `${pageText(g)} stays mapped after invalidate_inode_pages2_range returned 0`,
    explanation: `${what} Now ${now}; reads through that mapping see data from before the invalidate (an O_DIRECT write's old data)${atEnd ? '' : ', though the invalidate reported success'}.`,
    others: [...(p.begin ? [p.begin] : []), p.ret, ...(g.del ? [g.del] : []), ...mapEvents(g.maps), ...(cur?.add ? [cur.add] : [])],
    needs: BOTH,
  };
}
