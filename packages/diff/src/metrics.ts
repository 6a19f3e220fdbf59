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

/** The op fields behaviour counting reads (a structural subset of MmOp). */
export interface CountableOp {
  kind: string;
  ret?: number;
}

/** Add one replayed op to the counters. */
export function countOp(counts: Record<string, number>, op: CountableOp): void {
  switch (op.kind) {
    case 'fault_begin': counts.faults!++; break;
    case 'fault_end':
      if (op.ret !== undefined && op.ret > 0) {
        if (op.ret & VM_FAULT_RETRY) counts.fault_retries!++;
        else if (op.ret & VM_FAULT_ERROR_BITS) counts.fault_errors!++;
      }
      break;
    case 'cache_add': counts.cache_adds!++; break;
    case 'cache_delete': counts.cache_deletes!++; break;
    case 'pte_map': counts.pte_maps!++; break;
    case 'pte_unmap': counts.pte_unmaps!++; break;
    case 'invalidate_begin': counts.invalidates!++; break;
    case 'invalidate_end':
      if (op.ret !== undefined && op.ret < 0) {
        counts.invalidate_failures!++;
        if (op.ret === EBUSY) counts.invalidate_ebusy!++;
      }
      break;
    case 'truncate_begin': counts.truncates!++; break;
    case 'unmap_range': counts.unmaps!++; break;
    default: break;
  }
}
