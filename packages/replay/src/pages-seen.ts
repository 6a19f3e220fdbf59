/**
 * Which page-cache pages a trace showed in the cache: per file, the indexes the trace named as
 * the cache's page there (a cache_add, a cache_delete, a PTE of a page first seen mapped with
 * its file and index), as sorted, disjoint, non-adjacent ranges.
 *
 * A diff needs it to call a base finding gone: a patched run that never showed the page says
 * nothing about it (docs/diff.md, session 33). It is bounded for any trace length: at most
 * PAGES_SEEN_RANGES ranges over all files; a page that would need one more is not recorded and
 * the set says it is not complete (`complete: false`), which a diff reads as "may have shown any
 * page" — never as "showed none".
 */
import type { FileKey } from '@kreplay/core';

/** Ranges kept at most, over all files (each file's first range counts). */
export const PAGES_SEEN_RANGES = 4096;

/** The set as the replay result and its JSON carry it. */
export interface PagesSeen {
  /** False when a page was not recorded for want of room: the trace may have shown any page. */
  complete: boolean;
  /** File key (`8:16/2a`) → inclusive index ranges `[start, end]`, ascending, disjoint, non-adjacent; keys in code-unit order. */
  files: Record<FileKey, Array<[number, number]>>;
}

export class PagesSeenSet {
  /** Per file, ranges as a flat sorted array `[start0, end0, start1, end1, …]`. */
  private readonly byFile = new Map<FileKey, number[]>();
  private ranges = 0;
  private complete = true;
  /** The file and range (its position in the flat array) the last add touched: a trace mostly names one file's pages in order. */
  private lastFile: FileKey | undefined;
  private lastList: number[] | undefined;
  private lastAt = 0;

  constructor(private readonly cap = PAGES_SEEN_RANGES) {}

  add(file: FileKey, index: number): void {
    let r = file === this.lastFile ? this.lastList : this.byFile.get(file);
    if (r !== undefined && r === this.lastList) {
      const at = this.lastAt;
      if (at < r.length && r[at]! <= index && index <= r[at + 1]!) return;
    }
    if (r === undefined) {
      if (this.ranges >= this.cap) {
        this.complete = false;
        return;
      }
      r = [];
      this.byFile.set(file, r);
    }
    this.lastFile = file;
    this.lastList = r;
    this.lastAt = this.insert(r, index);
  }

  /** Put index into r; returns the position of the range that holds it (or the last one, when it was not recorded). */
  private insert(r: number[], index: number): number {
    const n = r.length / 2;
    // the first range that ends at index - 1 or later: index joins it, or goes before it
    let lo = 0,
      hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (r[2 * mid + 1]! < index - 1) lo = mid + 1;
      else hi = mid;
    }
    const at = 2 * lo;
    if (lo < n && r[at]! <= index + 1) {
      if (index < r[at]!) r[at] = index;
      if (index > r[at + 1]!) {
        r[at + 1] = index;
        // now adjacent to (or reaching) the next range: one range
        if (lo + 1 < n && r[at + 2]! <= index + 1) {
          r[at + 1] = Math.max(index, r[at + 3]!);
          r.splice(at + 2, 2);
          this.ranges--;
        }
      }
      return at;
    }
    if (this.ranges >= this.cap) {
      this.complete = false;
      return Math.max(0, r.length - 2);
    }
    r.splice(at, 0, index, index);
    this.ranges++;
    return at;
  }

  toJSON(): PagesSeen {
    const files: PagesSeen['files'] = {};
    for (const key of [...this.byFile.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
      const r = this.byFile.get(key)!;
      const out: Array<[number, number]> = [];
      for (let i = 0; i < r.length; i += 2) out.push([r[i]!, r[i + 1]!]);
      if (out.length) files[key] = out;
    }
    return { complete: this.complete, files };
  }
}

/** Whether `seen` holds index of file (a binary search over the file's ranges). */
export function pageSeen(seen: PagesSeen, file: FileKey, index: number): boolean {
  const r = seen.files[file];
  if (!r) return false;
  let lo = 0,
    hi = r.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (r[mid]![1] < index) lo = mid + 1;
    else hi = mid;
  }
  return lo < r.length && r[lo]![0] <= index;
}
