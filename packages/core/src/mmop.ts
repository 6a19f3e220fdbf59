/**
 * MmOp: one kernel operation the model understands (DESIGN.md "Core types").
 * Adapters lift TraceEvents into MmOps; the model's steps emit the MmOps a traced kernel
 * would show; replay drives state with them. Pages are identified by pfn, files by FileRef.
 */
import type { TraceEvent } from './records.js';
import type { FileRef } from './rules.js';

interface OpBase {
  /** Where the op came from (a parsed trace event), for citations. Absent for ops a model step emitted. */
  event?: TraceEvent;
}

export interface FaultBeginOp extends OpBase {
  kind: 'fault_begin';
  file?: FileRef;
  index?: number;
  address?: bigint;
}
export interface FaultEndOp extends OpBase {
  kind: 'fault_end';
  file?: FileRef;
  index?: number;
  ret?: number;
}
export interface CacheAddOp extends OpBase {
  kind: 'cache_add';
  file: FileRef;
  index: number;
  pfn: bigint;
  order: number;
}
export interface CacheDeleteOp extends OpBase {
  kind: 'cache_delete';
  file: FileRef;
  index: number;
  pfn: bigint;
  order: number;
}
/**
 * rmap add: a PTE now maps pfn (page_add_file_rmap / do_set_pte). `nr` > 1: nr PTEs map
 * the pages pfn … pfn+nr−1 of one folio, at indexes index … and addresses address, +4096, …
 * (6.12 folio_add_file_rmap_ptes / set_pte_range); `mapcount` is then the first page's.
 */
export interface PteMapOp extends OpBase {
  kind: 'pte_map';
  pfn: bigint;
  nr?: number;
  file?: FileRef;
  index?: number;
  address?: bigint;
  mapcount?: number;
  /**
   * Set when the PTE may map a private write fault's new anonymous copy instead of the file's
   * page (do_set_pte / set_pte_range, which map either): `yes` when the probe's fault and VMA
   * flags say it does, `maybe` when the trace cannot tell. Unset: a file page's mapping.
   */
  anon?: 'yes' | 'maybe';
}
/** rmap remove: PTEs mapping pfn (… pfn+nr−1) were zapped (page_remove_rmap, folio_remove_rmap_ptes). */
export interface PteUnmapOp extends OpBase {
  kind: 'pte_unmap';
  pfn: bigint;
  nr?: number;
  file?: FileRef;
  index?: number;
  address?: bigint;
  mapcount?: number;
}
/** mapping_try_invalidate: what invalidate_mapping_pages runs, and what 6.12's fadvise(DONTNEED) calls directly. */
export type InvalidateFn = 'invalidate_inode_pages2_range' | 'invalidate_mapping_pages' | 'mapping_try_invalidate';
export interface InvalidateBeginOp extends OpBase {
  kind: 'invalidate_begin';
  fn: InvalidateFn;
  file?: FileRef;
  start?: number;
  end?: number;
}
export interface InvalidateEndOp extends OpBase {
  kind: 'invalidate_end';
  fn: InvalidateFn;
  file?: FileRef;
  ret?: number;
}
export type TruncateFn = 'truncate_pagecache' | 'truncate_inode_pages_range' | 'vmtruncate';
export interface TruncateBeginOp extends OpBase {
  kind: 'truncate_begin';
  fn: TruncateFn;
  file?: FileRef;
  start?: number;
  end?: number;
  size?: bigint;
}
export interface TruncateEndOp extends OpBase {
  kind: 'truncate_end';
  fn: TruncateFn;
  file?: FileRef;
  ret?: number;
}
export interface UnmapRangeOp extends OpBase {
  kind: 'unmap_range';
  fn: string;
  file?: FileRef;
  start?: number;
  end?: number;
  pfn?: bigint;
}
export interface IsizeSetOp extends OpBase {
  kind: 'isize_set';
  file: FileRef;
  size: bigint;
}
export interface PageLockOp extends OpBase {
  kind: 'page_lock';
  pfn: bigint;
}
export interface PageUnlockOp extends OpBase {
  kind: 'page_unlock';
  pfn: bigint;
}
/**
 * The event's own task exits (`sched_process_exit` fires in do_exit for the current task,
 * kernel/exit.c:878 of 6.1 (`tsk = current`)): its pid may be given to another task later (kernel/pid.c
 * alloc_pid, idr_alloc_cyclic wraps at pid_max), so nothing replay keeps per pid carries over.
 */
export interface TaskExitOp extends OpBase {
  kind: 'task_exit';
}
/** A model-only step or a workload marker: carried through, never changes state. */
export interface MarkerOp extends OpBase {
  kind: 'marker';
  text: string;
}

export type MmOp =
  | FaultBeginOp
  | FaultEndOp
  | CacheAddOp
  | CacheDeleteOp
  | PteMapOp
  | PteUnmapOp
  | InvalidateBeginOp
  | InvalidateEndOp
  | TruncateBeginOp
  | TruncateEndOp
  | UnmapRangeOp
  | IsizeSetOp
  | PageLockOp
  | PageUnlockOp
  | TaskExitOp
  | MarkerOp;

export type MmOpKind = MmOp['kind'];
