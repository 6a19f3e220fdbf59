/**
 * Ops counted by kind: a slot per kind in an array, found by a switch on the kind. A Map cost
 * a hash lookup to read and another to write per op, and an object counted by a varying key
 * a megamorphic keyed load and store; the engine counts every op it applies.
 */
import type { MmOpKind } from '@kreplay/core';

/** Every kind, in slot order (`slot` below gives each its index). */
const KINDS = [
  'fault_begin',
  'fault_end',
  'cache_add',
  'cache_delete',
  'pte_map',
  'pte_unmap',
  'invalidate_begin',
  'invalidate_end',
  'truncate_begin',
  'truncate_end',
  'unmap_range',
  'isize_set',
  'page_lock',
  'page_unlock',
  'marker',
  'task_exit',
] as const satisfies readonly MmOpKind[];
/** A kind missing from KINDS would be counted but never printed: this fails to compile then. */
const everyKindListed: [Exclude<MmOpKind, (typeof KINDS)[number]>] extends [never] ? true : never = true;
void everyKindListed;

function slot(kind: MmOpKind): number {
  switch (kind) {
    case 'fault_begin':
      return 0;
    case 'fault_end':
      return 1;
    case 'cache_add':
      return 2;
    case 'cache_delete':
      return 3;
    case 'pte_map':
      return 4;
    case 'pte_unmap':
      return 5;
    case 'invalidate_begin':
      return 6;
    case 'invalidate_end':
      return 7;
    case 'truncate_begin':
      return 8;
    case 'truncate_end':
      return 9;
    case 'unmap_range':
      return 10;
    case 'isize_set':
      return 11;
    case 'page_lock':
      return 12;
    case 'page_unlock':
      return 13;
    case 'marker':
      return 14;
    case 'task_exit':
      return 15;
    default:
      return unknownKind(kind);
  }
}

function unknownKind(kind: never): never {
  throw new Error(`op kind ${String(kind)} has no counter slot`);
}

export class OpCounts {
  private readonly n: number[];

  constructor(from?: OpCounts) {
    this.n = from ? from.n.slice() : new Array<number>(KINDS.length).fill(0);
  }

  add(kind: MmOpKind): void {
    this.n[slot(kind)]!++;
  }

  get(kind: MmOpKind): number {
    return this.n[slot(kind)]!;
  }

  /** The kinds counted at least once, by name (what `--stats` prints as `byOp`). */
  toRecord(): Partial<Record<MmOpKind, number>> {
    const out: Partial<Record<MmOpKind, number>> = {};
    for (const kind of [...KINDS].sort()) if (this.get(kind) > 0) out[kind] = this.get(kind);
    return out;
  }

  toJSON(): Partial<Record<MmOpKind, number>> {
    return this.toRecord();
  }
}
