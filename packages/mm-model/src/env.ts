/**
 * The static part of a scenario instantiated for the model: files, mms, VMAs and page
 * tables never change during a run, so they live here rather than in the state.
 */
import type { FileRef } from '@kreplay/core';
import type { ThreadInfo } from '@kreplay/core';
import { PAGE_SIZE, PTRS_PER_PTE, hex } from './state.js';

export interface FileEnv {
  id: number;
  name: string;
  ref: FileRef;
  /** Location prefix in accesses: `M0`, `M1`, ... */
  loc: string;
  /**
   * The filesystem the file lives on (scenario `fs`): which large folios it may hold and
   * whether shmem's exceptions apply (`tmpfs` is shmem_mapping() mounted huge=always).
   */
  fs: FsKind;
}

export const FS_KINDS = ['ext4', 'xfs', 'tmpfs', 'secretmem', 'hugetlbfs'] as const;

/**
 * The most pages a file of the model spans (16 MiB). The state keeps a slot per page index of
 * every file up to its highest one in use, and every step copies and every search hashes those
 * slots: a scenario that names a 4 GiB file (or an offset there) makes each state a million
 * slots and the search never ends. Scenario fields and program arguments stay below this. A
 * multiple of the largest folio (order 9), so an aligned folio that starts below it ends inside it.
 */
export const MAX_FILE_PAGES = 4096;
export const MAX_FILE_BYTES = MAX_FILE_PAGES * PAGE_SIZE;

/**
 * The most files a scenario declares. Each adds its page slots to every state (above), and the
 * data tags number at most 4096 files (data.ts): 20 000 one-page files were an internal error.
 */
export const MAX_FILES = 64;

/** The most threads a scenario runs: the explorer keeps thread sets as 32-bit masks (30 threads, with room for its flags). */
export const MAX_THREADS = 30;

export type FsKind = (typeof FS_KINDS)[number];

export interface MmEnv {
  id: number;
  name: string;
}

/** A shared file mapping (VM_SHARED): `pages` pages of `file` from `pgoff`, at `start`. */
export interface VmaEnv {
  id: number;
  mm: number;
  file: number;
  start: number;
  pgoff: number;
  pages: number;
  /** Per page of the VMA: index into Env.ptls of the page table holding its PTE. */
  ptl: number[];
}

/** One page table (one PMD entry's worth of PTEs) and its lock. */
export interface PtlEnv {
  mm: number;
  pmd: number;
  /** `ptl:mm1:0` */
  loc: string;
}

export interface Env {
  files: FileEnv[];
  mms: MmEnv[];
  vmas: VmaEnv[];
  ptls: PtlEnv[];
  threads: ThreadInfo[];
  /**
   * No thread runs a program that reads data (Program.readsData): pages hold `UNTRACKED`
   * (data.ts) instead of the version they were read or written with.
   */
  dataUntracked?: boolean;
  /**
   * The thread id of the I/O completion context (`end_io`, a daemon: ThreadInfo.daemon) the machine
   * adds when some thread runs a program that submits reads and goes on before they complete
   * (Program.endIo); a folio whose read is in flight is locked by it (PageS.locker).
   */
  endIo?: number;
}

export function vmaAddress(v: VmaEnv, i: number): number {
  return v.start + i * PAGE_SIZE;
}

/** `mm1:0x10000`: a PTE named by its mm and virtual address, in messages and effects. */
export function pteName(env: Env, v: VmaEnv, i: number): string {
  return `${env.mms[v.mm]!.name}:${hex(vmaAddress(v, i))}`;
}

/** `pte:mm1:0x10000`: a PTE as an access location. */
export function pteLoc(env: Env, v: VmaEnv, i: number): string {
  return `pte:${pteName(env, v, i)}`;
}

/** The VMA and page slot covering `address` in mm `mm`, or undefined. */
export function findVma(env: Env, mm: number, address: number): { vma: VmaEnv; i: number } | undefined {
  for (const v of env.vmas) {
    if (v.mm !== mm) continue;
    if (address >= v.start && address < v.start + v.pages * PAGE_SIZE) {
      return { vma: v, i: Math.floor((address - v.start) / PAGE_SIZE) };
    }
  }
  return undefined;
}

/** Page-table number of an address (the PMD slot): PTRS_PER_PTE pages share one ptl. */
export function pmdOf(address: number): number {
  return Math.floor(address / (PAGE_SIZE * PTRS_PER_PTE));
}
