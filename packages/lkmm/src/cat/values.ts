/**
 * Values of the cat language: event sets and relations (bitsets over one execution's events),
 * tags, sets of values, tuples, single events and pairs (the elements of sets and relations
 * when a function maps over them), functions, and lazily enumerated sets (what `with x from`
 * iterates over).
 */
import type { Bits } from '../rel.js';
import { bitsKey } from '../rel.js';
import type { Formal } from './ast.js';

export type Value =
  | { k: 'set'; b: Bits }
  | { k: 'rel'; b: Bits }
  /** `0` and `{}`: empty, as whatever it meets. */
  | { k: 'empty' }
  /** `_`: everything, as whatever it meets. */
  | { k: 'unv' }
  | { k: 'tag'; name: string }
  | { k: 'vset'; items: Value[] }
  | { k: 'tuple'; items: Value[] }
  | { k: 'event'; i: number }
  | { k: 'pair'; a: number; b: number }
  | { k: 'clo'; params: Formal[]; tuple: boolean; env: Locals | null; name: string; code: (G: Value[], L: Locals | null) => Value }
  | { k: 'prim'; name: string; fn: (arg: Value) => Value }
  /** A set of values enumerated on demand; iterating it twice gives the same values. */
  | { k: 'gen'; items: () => Iterable<Value> };

/** Local bindings (function parameters, let-in), innermost first. */
export interface Locals {
  readonly name: string;
  readonly v: Value;
  readonly up: Locals | null;
}

export const EMPTY: Value = { k: 'empty' };
export const UNV: Value = { k: 'unv' };

export function typeName(v: Value): string {
  switch (v.k) {
    case 'set':
      return 'event set';
    case 'rel':
      return 'relation';
    case 'vset':
    case 'gen':
      return 'set of values';
    case 'clo':
    case 'prim':
      return 'function';
    default:
      return v.k;
  }
}

/** A canonical key, so sets of values hold each value once. */
export function valueKey(v: Value): string {
  switch (v.k) {
    case 'set':
      return `s${bitsKey(v.b)}`;
    case 'rel':
      return `r${bitsKey(v.b)}`;
    case 'empty':
      return '0';
    case 'unv':
      return '_';
    case 'tag':
      return `'${v.name}`;
    case 'event':
      return `e${v.i}`;
    case 'pair':
      return `p${v.a},${v.b}`;
    case 'tuple':
      return `(${v.items.map(valueKey).join(',')})`;
    case 'vset':
      return `{${v.items.map(valueKey).sort().join(',')}}`;
    default:
      return `#${v.k}`;
  }
}

/** A set of values without repeats, in first-seen order. */
export function makeVset(items: Iterable<Value>): Value {
  const seen = new Set<string>();
  const out: Value[] = [];
  for (const v of items) {
    const key = valueKey(v);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(v);
  }
  return { k: 'vset', items: out };
}

export function elements(v: Value): Iterable<Value> | null {
  if (v.k === 'vset') return v.items;
  if (v.k === 'gen') return v.items();
  if (v.k === 'empty') return [];
  return null;
}
