/**
 * The table-driven adapter: a ProbeMap (packages/mm-model/src/probe-map.ts) says what each
 * traced event means, so a kernel version is a map file (kernel-configs/probes/<kernel>.yaml),
 * a capture profile's `probes` section, or a user's `--probes` file — never engine code.
 *
 * An event's meaning is looked up by its exact name first (`p_filemap_fault_0`, `my_rmap`,
 * `mm_filemap_add_to_page_cache`), then by `kprobe:<func>` / `kretprobe:<func>` from the
 * probe site the reader decoded, then from an auto-generated name (`p_<func>_<n>`,
 * `r_<func>_<n>`) when the reader printed no site.
 */
import type { FieldValue, TraceEvent } from '@kreplay/ftrace-parser';
import { InputError } from '@kreplay/ftrace-parser';
import type { FieldSpec, FileRef, MmOp, ProbeMap, ProbeMeaning } from '@kreplay/mm-model';
import type { Adapter, Lifted } from './adapter.js';
import { hexDigits, toBigInt, toDev, toSafeNumber, toSigned } from '../fields.js';

type Target = keyof ProbeMeaning['args'];
type Conversion = NonNullable<Exclude<FieldSpec, string>['as']>;

/** The conversion a target gets when the map names only a field. */
const DEFAULT_AS: Record<Target, Conversion> = {
  dev: 'kdev', ino: 'number', index: 'number', pfn: 'pfn', address: 'number', start: 'number',
  end: 'number', ret: 'signed', size: 'number', mapcount: 'signed', order: 'number',
};

/** Unknown device: the probe fetched an inode number but no `s_dev`; replay matches by ino. */
export const UNKNOWN_DEV = '?';

interface Arg { target: Target; field: string; as: Conversion }
type Values = Partial<Record<Target, bigint | string>>;
type Compiled = (ev: TraceEvent) => Lifted;

export interface PageConversion {
  /** `vmemmap_base`; undefined when nobody said, which makes `page` conversions an error. */
  vmemmapBase?: bigint;
  structPageSize: number;
  /** Words for the error when it is missing. */
  missingHint: string;
}

export class ProbeMapAdapter implements Adapter {
  private readonly compiled = new Map<string, Compiled | null>();

  constructor(
    readonly name: string,
    private readonly map: ProbeMap,
    private readonly pages: PageConversion,
  ) {}

  lift(ev: TraceEvent): Lifted {
    let c = this.compiled.get(ev.event);
    if (c === undefined) {
      c = this.compile(ev);
      this.compiled.set(ev.event, c);
    }
    return c === null ? null : c(ev);
  }

  private compile(ev: TraceEvent): Compiled | null {
    const probes = this.map.probes;
    let func = ev.probe?.func;
    let kind: string | undefined = ev.probe?.kind;
    if (!func) {
      const m = /^([pr])_(.+)_\d+$/.exec(ev.event);
      if (m) { kind = m[1] === 'p' ? 'kprobe' : 'kretprobe'; func = m[2]; }
    }
    const meaning = Object.hasOwn(probes, ev.event) ? probes[ev.event]
      : func && Object.hasOwn(probes, `${kind}:${func}`) ? probes[`${kind}:${func}`] : undefined;
    if (!meaning) return null;
    return this.build(meaning, meaning.fn ?? func);
  }

  private build(meaning: ProbeMeaning, fn: string | undefined): Compiled {
    const args: Arg[] = Object.entries(meaning.args).map(([target, spec]) => ({
      target: target as Target,
      field: typeof spec === 'string' ? spec : spec!.field,
      as: (typeof spec === 'string' ? undefined : spec!.as) ?? DEFAULT_AS[target as Target],
    }));
    const op = meaning.op;
    return (ev) => {
      const v: Values = {};
      for (const a of args) {
        const raw = ev.fields[a.field];
        if (raw === undefined) continue;
        const conv = this.convert(raw, a.as, ev);
        if (conv === undefined) return `${a.field}=${String(raw)} is not ${a.as === 'number' ? 'an integer' : `a ${a.as}`}`;
        v[a.target] = conv;
      }
      return makeOp(op, fn, v, ev);
    };
  }

  private convert(raw: FieldValue, as: Conversion, ev: TraceEvent): bigint | string | undefined {
    switch (as) {
      case 'number': case 'pfn': return toBigInt(raw);
      case 'signed': return toSigned(raw);
      case 'hex': return hexDigits(raw);
      case 'kdev': return toDev(raw);
      case 'string': return raw === null ? undefined : String(raw);
      case 'bytes-to-index': { const b = toBigInt(raw); return b === undefined ? undefined : b >> 12n; }
      case 'page': {
        const p = toBigInt(raw);
        if (p === undefined) return undefined;
        const base = this.pages.vmemmapBase;
        if (base === undefined) {
          throw new InputError(`${ev.event} carries a struct page * but the vmemmap base of the traced kernel is unknown, so it cannot become a pfn`, {
            file: ev.source, line: ev.line, hint: this.pages.missingHint,
          });
        }
        const off = p - base;
        const size = BigInt(this.pages.structPageSize);
        if (off < 0n || off % size !== 0n) return undefined;
        return off / size;
      }
    }
  }
}

function num(v: bigint | string | undefined): number | undefined {
  return typeof v === 'bigint' ? toSafeNumber(v) : undefined;
}
function big(v: bigint | string | undefined): bigint | undefined {
  return typeof v === 'bigint' ? v : undefined;
}

function fileOf(v: Values): FileRef | undefined {
  const ino = big(v.ino);
  if (ino === undefined) return undefined;
  return { dev: typeof v.dev === 'string' ? v.dev : UNKNOWN_DEV, ino };
}

/** Build the MmOp of `kind` from converted values; a string when a required value is missing. */
export function makeOp(kind: ProbeMeaning['op'], fn: string | undefined, v: Values, event: TraceEvent): MmOp | string {
  const file = fileOf(v);
  const index = num(v.index);
  const pfn = big(v.pfn);
  switch (kind) {
    case 'cache_add': case 'cache_delete':
      if (!file) return 'no ino';
      if (index === undefined) return 'no page index';
      if (pfn === undefined) return 'no pfn';
      return { kind, file, index, pfn, order: num(v.order) ?? 0, event };
    case 'pte_map': case 'pte_unmap':
      if (pfn === undefined) return 'no page';
      return { kind, pfn, file, index, address: big(v.address), mapcount: num(v.mapcount), event };
    case 'fault_begin':
      return { kind, file, index, address: big(v.address), event };
    case 'fault_end':
      return { kind, file, index, ret: num(v.ret), event };
    case 'invalidate_begin':
      if (fn !== 'invalidate_inode_pages2_range' && fn !== 'invalidate_mapping_pages') return `fn ${fn ?? '(none)'} is not an invalidate function`;
      return { kind, fn, file, start: num(v.start), end: num(v.end), event };
    case 'invalidate_end':
      if (fn !== 'invalidate_inode_pages2_range' && fn !== 'invalidate_mapping_pages') return `fn ${fn ?? '(none)'} is not an invalidate function`;
      return { kind, fn, file, ret: num(v.ret), event };
    case 'truncate_begin':
      if (fn !== 'truncate_pagecache' && fn !== 'truncate_inode_pages_range' && fn !== 'vmtruncate') return `fn ${fn ?? '(none)'} is not a truncate function`;
      return { kind, fn, file, start: num(v.start), end: num(v.end), size: big(v.size), event };
    case 'truncate_end':
      if (fn !== 'truncate_pagecache' && fn !== 'truncate_inode_pages_range' && fn !== 'vmtruncate') return `fn ${fn ?? '(none)'} is not a truncate function`;
      return { kind, fn, file, ret: num(v.ret), event };
    case 'unmap_range':
      return { kind, fn: fn ?? 'unmap_mapping_range', file, start: num(v.start), end: num(v.end), pfn, event };
    case 'isize_set': {
      const size = big(v.size);
      if (!file) return 'no ino';
      if (size === undefined) return 'no size';
      return { kind, file, size, event };
    }
    case 'page_lock': case 'page_unlock':
      if (pfn === undefined) return 'no page';
      return { kind, pfn, event };
  }
}
