/**
 * Behaviour metrics a diff compares: per-op-kind counters of the replayed trace, named in
 * kernel words. Replay counts MmOps; `countsFromOps` folds those counts into these names.
 */
export interface MetricDef {
  name: string;
  description: string;
}

export const BEHAVIOUR_METRICS: readonly MetricDef[] = [
  { name: 'faults', description: 'file page faults (filemap_fault / page_fault_user entries)' },
  { name: 'fault_retries', description: 'faults that returned VM_FAULT_RETRY (or another retry code) and were redone' },
  { name: 'fault_errors', description: 'faults that returned VM_FAULT_SIGBUS or another error' },
  { name: 'cache_adds', description: 'pages added to the page cache (mm_filemap_add_to_page_cache)' },
  { name: 'cache_deletes', description: 'pages removed from the page cache (mm_filemap_delete_from_page_cache)' },
  { name: 'pte_maps', description: 'PTEs installed for file pages (page_add_file_rmap / do_set_pte)' },
  { name: 'pte_unmaps', description: 'PTEs of file pages zapped (page_remove_rmap)' },
  { name: 'invalidates', description: 'invalidate_inode_pages2_range / invalidate_mapping_pages calls' },
  { name: 'invalidate_failures', description: 'invalidates that returned an error (-EBUSY, -EIO)' },
  { name: 'invalidate_ebusy', description: 'invalidates that returned -EBUSY (a page could not be dropped)' },
  { name: 'truncates', description: 'truncate_pagecache / truncate_inode_pages_range calls' },
  { name: 'unmaps', description: 'unmap_mapping_range / unmap_mapping_pages / unmap_mapping_folio calls' },
];

export const METRIC_NAMES: readonly string[] = BEHAVIOUR_METRICS.map((m) => m.name);

const EBUSY = -16;
/** vm_fault_t bits of 6.1 (include/linux/mm_types.h). */
const VM_FAULT_RETRY = 0x400;
const VM_FAULT_ERROR_BITS = 0x0001 | 0x0002 | 0x0010 | 0x0020 | 0x0040 | 0x0800; // OOM SIGBUS HWPOISON HWPOISON_LARGE SIGSEGV FALLBACK

/** Zeroed counters, in the fixed metric order. */
export function emptyCounts(): Record<string, number> {
  const c: Record<string, number> = {};
  for (const n of METRIC_NAMES) c[n] = 0;
  return c;
}

/** What behaviour counting reads from a replay's stats (ReplayStats `byOp` and `returns`). */
export interface OpStats {
  /** MmOps per kind. */
  byOp?: Record<string, number | undefined>;
  /** Return values per kernel function: `filemap_fault` → {`0x400`: n}, `invalidate_inode_pages2_range` → {`-16`: n}. */
  returns?: Record<string, Record<string, number>>;
}

const FAULT_FNS = ['filemap_fault', 'handle_mm_fault', '__do_fault', 'do_fault'];
const INVALIDATE_FNS = ['invalidate_inode_pages2_range', 'invalidate_inode_pages2'];

/** Behaviour counters of one replay, in the fixed metric order. */
export function countsFromStats(s: OpStats): Record<string, number> {
  const c = emptyCounts();
  const op = (k: string) => s.byOp?.[k] ?? 0;
  c.faults = op('fault_begin');
  c.cache_adds = op('cache_add');
  c.cache_deletes = op('cache_delete');
  c.pte_maps = op('pte_map');
  c.pte_unmaps = op('pte_unmap');
  c.invalidates = op('invalidate_begin');
  c.truncates = op('truncate_begin');
  c.unmaps = op('unmap_range');
  // The first fault function the trace has return values for (a fault is counted once even
  // when several nested fault functions are probed).
  const faultFn = FAULT_FNS.find((f) => s.returns?.[f]);
  for (const [value, n] of Object.entries((faultFn && s.returns?.[faultFn]) || {})) {
    const ret = Number(value);
    if (!Number.isFinite(ret) || ret <= 0) continue;
    if (ret & VM_FAULT_RETRY) c.fault_retries! += n;
    else if (ret & VM_FAULT_ERROR_BITS) c.fault_errors! += n;
  }
  for (const fn of INVALIDATE_FNS) {
    for (const [value, n] of Object.entries(s.returns?.[fn] ?? {})) {
      const ret = Number(value);
      if (!(ret < 0)) continue;
      c.invalidate_failures! += n;
      if (ret === EBUSY) c.invalidate_ebusy! += n;
    }
  }
  return c;
}
