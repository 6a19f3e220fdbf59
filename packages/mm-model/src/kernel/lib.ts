/**
 * Helpers the kernel programs share: argument parsing for the scenario-facing programs,
 * radix-tree gang lookups, access lists. Nothing here is version specific.
 */
import type { Access } from '@kreplay/core';
import type { Ctx } from '../ctx.js';
import { ArgError, r, w } from '../program.js';
import { MAX_FILE_BYTES, MAX_FILE_PAGES, findVma, pteLoc, type Env } from '../env.js';
import { NONE, PAGE_SIZE, type Locals } from '../state.js';

/** `~0UL` as a page index: "to the end of the file". */
export const END = 0x7fffffff;
/** PAGEVEC_SIZE (2.6: 14; 6.1's folio_batch: 15). */
export const PAGEVEC_SIZE_2_6 = 14;
export const PAGEVEC_SIZE_6_1 = 15;
/** The fault's result as `fault_end ret` shows it (docs/trace-format.md): 0 ok, 1 SIGBUS. */
export const FAULT_OK = 0;
export const FAULT_SIGBUS = 1;
export const EIO = -5;
export const EBUSY = -16;
export const ENOTBLK = -15;

function intArg(args: Readonly<Record<string, unknown>>, name: string, dflt?: number): number {
  const v = args[name];
  if (v === undefined) {
    if (dflt === undefined) throw new ArgError(name, `argument ${name} is required`);
    return dflt;
  }
  const n = typeof v === 'string' && /^(0x[0-9a-f]+|\d+)$/i.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw new ArgError(name, `argument ${name} must be a non-negative integer (got ${JSON.stringify(v)})`);
  }
  return n;
}

/** Refuses a byte range (or size) that reaches past the model's largest file (env.ts MAX_FILE_PAGES). */
export function withinFile(name: string, end: number): void {
  if (end > MAX_FILE_BYTES) {
    throw new ArgError(name, `argument ${name} reaches byte ${end}, past the model's largest file (${MAX_FILE_PAGES} pages, ${MAX_FILE_BYTES} bytes)`);
  }
}

function known(args: Readonly<Record<string, unknown>>, names: string[]): void {
  for (const k of Object.keys(args)) {
    if (!names.includes(k)) throw new ArgError(k, `unknown argument ${k} (this program takes: ${names.join(', ')})`);
  }
}

export function fileArg(args: Readonly<Record<string, unknown>>, env: Env): number {
  const v = args.file;
  if (v === undefined) {
    if (env.files.length === 1) return 0;
    throw new ArgError('file', `argument file is required when the scenario has several files (${env.files.map((f) => f.name).join(', ')})`);
  }
  const f = env.files.find((x) => x.name === v);
  if (!f) throw new ArgError('file', `unknown file ${JSON.stringify(v)} (files: ${env.files.map((x) => x.name).join(', ')})`);
  return f.id;
}

/** fault / fault_around: `{ mm, address }` or `{ mm, index }` (the VMA's page for that file index). */
export function faultArgs(args: Readonly<Record<string, unknown>>, env: Env): Locals {
  known(args, ['mm', 'address', 'index']);
  let mm = 0;
  if (args.mm !== undefined) {
    const m = env.mms.find((x) => x.name === args.mm);
    if (!m) throw new ArgError('mm', `unknown process ${JSON.stringify(args.mm)} (processes: ${env.mms.map((x) => x.name).join(', ') || 'none'})`);
    mm = m.id;
  } else if (env.mms.length === 0) {
    throw new ArgError('mm', 'a fault needs a process that maps the file: declare one under processes: with a VMA');
  } else if (env.mms.length !== 1) {
    throw new ArgError('mm', 'argument mm (the faulting process) is required when the scenario has several processes');
  }
  let address: number;
  if (args.address !== undefined) address = intArg(args, 'address');
  else {
    const index = intArg(args, 'index');
    const v = env.vmas.find((x) => x.mm === mm && index >= x.pgoff && index < x.pgoff + x.pages);
    if (!v) throw new ArgError('index', `no VMA of ${env.mms[mm]?.name ?? 'the process'} maps file index ${index}`);
    address = v.start + (index - v.pgoff) * PAGE_SIZE;
  }
  const hit = findVma(env, mm, address);
  if (!hit) throw new ArgError('address', `address 0x${address.toString(16)} is not inside a VMA of ${env.mms[mm]?.name ?? 'the process'}`);
  return { vma: hit.vma.id, i: hit.i, file: hit.vma.file, index: hit.vma.pgoff + hit.i, pfn: NONE };
}

/** invalidate_*: `{ file, start, end }` in page indexes, end inclusive (default: the whole file). */
export function rangeArgs(args: Readonly<Record<string, unknown>>, env: Env): Locals {
  known(args, ['file', 'start', 'end']);
  const start = intArg(args, 'start', 0);
  const end = intArg(args, 'end', END);
  if (end < start) throw new ArgError('end', `end (${end}) is before start (${start})`);
  return { file: fileArg(args, env), start, end };
}

/** truncate: `{ file, size }` in bytes. */
export function truncateArgs(args: Readonly<Record<string, unknown>>, env: Env): Locals {
  known(args, ['file', 'size']);
  const size = intArg(args, 'size');
  withinFile('size', size);
  return { file: fileArg(args, env), size };
}

/** odirect_write: `{ file, offset, length }` in bytes (default one page at 0). */
export function odirectArgs(args: Readonly<Record<string, unknown>>, env: Env): Locals {
  known(args, ['file', 'offset', 'length']);
  const offset = intArg(args, 'offset', 0);
  const length = intArg(args, 'length', PAGE_SIZE);
  if (length === 0) throw new ArgError('length', 'length must be at least 1 byte');
  withinFile(offset + length > MAX_FILE_BYTES && offset < MAX_FILE_BYTES ? 'length' : 'offset', offset + length);
  if (offset % 512 !== 0 || length % 512 !== 0) {
    throw new ArgError(offset % 512 !== 0 ? 'offset' : 'length', 'O_DIRECT needs offset and length aligned to 512 bytes');
  }
  const first = Math.floor(offset / PAGE_SIZE);
  const last = Math.floor((offset + length - 1) / PAGE_SIZE);
  return { file: fileArg(args, env), offset, length, first, last };
}

/**
 * `{ file, offset, length }` in bytes, whole pages only (punch_hole, write): the locals
 * file, offset, length and the page indexes first..last. `what` names the operation in errors.
 */
export function pageRangeArgs(args: Readonly<Record<string, unknown>>, env: Env, what: string): Locals {
  known(args, ['file', 'offset', 'length']);
  const offset = intArg(args, 'offset', 0);
  const length = intArg(args, 'length', PAGE_SIZE);
  if (offset % PAGE_SIZE || length % PAGE_SIZE || length === 0) {
    throw new ArgError(offset % PAGE_SIZE ? 'offset' : 'length', `the model ${what} whole pages: offset and length must be multiples of 4096 (length > 0)`);
  }
  withinFile(offset + length > MAX_FILE_BYTES && offset < MAX_FILE_BYTES ? 'length' : 'offset', offset + length);
  return { file: fileArg(args, env), offset, length, first: offset / PAGE_SIZE, last: (offset + length) / PAGE_SIZE - 1 };
}

/** read: `{ file, index }`. */
export function readArgs(args: Readonly<Record<string, unknown>>, env: Env): Locals {
  known(args, ['file', 'index']);
  const index = intArg(args, 'index', 0);
  if (index >= MAX_FILE_PAGES) throw new ArgError('index', `argument index must be below ${MAX_FILE_PAGES}, the model's largest file in pages`);
  return { file: fileArg(args, env), index, pfn: NONE };
}

/** Cached pages of `file` with index in [from, to], in index order, at most `max`. */
export function gangLookup(c: Ctx, file: number, from: number, to: number, max: number): number[] {
  const cache = c.map(file).cache;
  const out: number[] = [];
  for (let ix = from; ix < cache.length && ix <= to && out.length < max; ix++) {
    // a large folio fills several slots: the lookup returns it once (its first slot in range)
    if (cache[ix] !== NONE && cache[ix] !== out[out.length - 1]) out.push(cache[ix]!);
  }
  return out;
}

/** Accesses of a gang lookup that takes a reference on every page it returns. */
export function lookupAcc(c: Ctx, file: number, pfns: readonly number[]): Access[] {
  return [r(`${c.M(file)}.tree`), ...pfns.map((p) => w(`${c.P(p)}.refcount`))];
}

export function putAll(c: Ctx, pfns: readonly number[]): void {
  for (const p of pfns) c.ref(p, -1);
}

export function pteAcc(c: Ctx, mode: 'read' | 'write'): Access {
  const v = c.env.vmas[c.num('vma')]!;
  return { loc: pteLoc(c.env, v, c.num('i')), mode };
}

export function ptlLoc(c: Ctx): string {
  const v = c.env.vmas[c.num('vma')]!;
  return c.env.ptls[v.ptl[c.num('i')]!]!.loc;
}

/** The fault's VMA, page slot and page-table lock id. */
export function faultSite(c: Ctx) {
  const vma = c.env.vmas[c.num('vma')]!;
  const i = c.num('i');
  return { vma, i, ptl: vma.ptl[i]!, address: vma.start + i * PAGE_SIZE };
}

export function faultBegin(c: Ctx): void {
  const { vma, address } = faultSite(c);
  c.op({ kind: 'fault_begin', file: c.fileRef(vma.file), index: c.num('index'), address: BigInt(address) });
}

/** Finish the fault: emit fault_end and return from the program. */
export function faultEnd(c: Ctx, ret: number): void {
  c.op({ kind: 'fault_end', file: c.fileRef(c.num('file')), index: c.num('index'), ret });
  c.ret(ret);
}

/** Pages whose index lies at or past `first` (truncate's `lstart` rounded up). */
export function pagesFrom(size: number): number {
  return Math.ceil(size / PAGE_SIZE);
}

/**
 * What the orphan-page-mapped judgement of page_add_file_rmap reads (page->mapping and the
 * cache slot): declared with the rmap so DPOR orders it against removals.
 */
export function installAcc(c: Ctx, pfn: number, file: number): Access[] {
  return [w(`${c.P(pfn)}.mapcount`), r(`${c.P(pfn)}.mapping`), r(`${c.M(file)}.tree`)];
}

/** What a page-cache removal writes (tree, mapping, nrpages) and its mapped-page-removed judgement reads (mapcount). */
export function removeAcc(c: Ctx, pfn: number): Access[] {
  const p = c.page(pfn);
  const file = p.mapping;
  if (file === NONE) return [r(`${c.P(pfn)}.mapping`)];
  return [w(`${c.M(file)}.tree`), w(`${c.M(file)}.nrpages`), w(`${c.P(pfn)}.mapping`), r(`${c.P(pfn)}.mapcount`)];
}

/** What judging stale-after-invalidate over [start, end] reads: the PTEs there and the tree. */
export function coherentAcc(c: Ctx, file: number, start: number, end: number): Access[] {
  const a: Access[] = [r(`${c.M(file)}.tree`)];
  for (const v of c.env.vmas) {
    if (v.file !== file) continue;
    for (let i = 0; i < v.pages; i++) {
      const ix = v.pgoff + i;
      if (ix >= start && ix <= end) a.push(r(pteLoc(c.env, v, i)));
    }
  }
  return a;
}

/** Next page of the current pagevec (`pvec`, cursor `i`), or `done` when it is exhausted. */
export function advance(c: Ctx, nextPc: string, donePc: string): void {
  const i = c.num('i') + 1;
  c.set('i', i);
  c.goto(i < c.list('pvec').length ? nextPc : donePc);
}

/** The page under the pagevec cursor. */
export function cur(c: Ctx): number {
  return c.list('pvec')[c.num('i')]!;
}

/** What a read I/O completing on pfn reads (the disk and i_size of its file: data.ts diskData) and writes (its data). */
export function readIoAcc(c: Ctx, pfn: number, file: number): Access[] {
  return [r(`${c.M(file)}.disk`), r(`${c.M(file)}.i_size`), w(`${c.P(pfn)}.data`)];
}

/** What a write's return reads and writes: the floor of its file (a read starting later must see it). */
export function floorAcc(c: Ctx, file: number): Access {
  return w(`${c.M(file)}.floor`);
}

/** The inode lock's access location (`M0.i_rwsem`: i_sem, i_mutex, i_rwsem alike). */
export function ilockLoc(c: Ctx, file: number): string {
  return `${c.M(file)}.inode_lock`;
}

/** filemap_invalidate_lock{,_shared}(mapping): take the file's invalidate_lock (6.1+). */
export function takeInvalidateLock(c: Ctx, file: number, shared: boolean): void {
  c.updMap(file, { invalidateLock: c.takeLock(c.map(file).invalidateLock, shared) }, `invalidate_lock +${shared ? 'shared' : 'exclusive'}`);
}

/** filemap_invalidate_unlock{,_shared}(mapping): drop the file's invalidate_lock (6.1+). */
export function dropInvalidateLock(c: Ctx, file: number, shared: boolean): void {
  c.updMap(file, { invalidateLock: c.dropLock(c.map(file).invalidateLock, shared) }, `invalidate_lock -${shared ? 'shared' : 'exclusive'}`);
}
