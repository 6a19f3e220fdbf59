/**
 * Payload layouts: a kprobe or tracepoint prints the same `name=value` pairs in the same
 * order on every line (its print format or its fetch arguments do not change during a
 * trace). After one line of an event has been decoded by the generic pair decoder, its
 * names are known; the next lines of that event are checked against them name by name and
 * their values built into one object literal of a fixed shape. No name hashing, no
 * property-by-property object growth. A line that does not match exactly (another name,
 * a non-integer value, extra words) goes back to the generic decoder, so the fields are
 * always the ones decodeFields would make.
 */
import type { FieldValue, Fields } from '@kreplay/core';
import { decodeIntegerRange } from './values.js';

export interface PairLayout {
  /** Field names in print order. */
  readonly names: readonly string[];
  /** Values of the line being decoded (reused: a layout decodes one line at a time). */
  readonly values: FieldValue[];
  /** Builds the fields object from `values` (an object literal: one hidden class per layout). */
  readonly make: (values: FieldValue[]) => Fields;
}

/** Names a layout can hold as literal keys in print order (no integer-like keys, no `__proto__`). */
const PLAIN_NAME = /^[A-Za-z_][A-Za-z0-9_.]*$/;
const MAX_NAMES = 24;

/**
 * The layout of a payload the generic decoder turned into `fields` (clean pairs only), or
 * undefined when the fast path could not reproduce it: only integer values are taken.
 */
export function learnLayout(fields: Fields): PairLayout | undefined {
  const names = Object.keys(fields);
  if (names.length === 0 || names.length > MAX_NAMES) return undefined;
  for (const k of names) {
    const v = fields[k];
    if (k === '__proto__' || !PLAIN_NAME.test(k) || (typeof v !== 'number' && typeof v !== 'bigint')) return undefined;
  }
  return { names, values: new Array<FieldValue>(names.length).fill(0), make: builder(names) };
}

/**
 * A builder of `names`' fields object from their values (one hidden class, an object literal),
 * or undefined when a name cannot be a literal key in print order (integer-like keys are
 * enumerated first, `__proto__` would set the prototype): the caller then stores them one by one.
 */
export function fieldsBuilder(names: string[]): PairLayout['make'] | undefined {
  if (names.length === 0 || names.length > MAX_NAMES) return undefined;
  for (const k of names) if (k === '__proto__' || !PLAIN_NAME.test(k)) return undefined;
  return builder(names);
}

/** Builders by their names (`dev ino pgoff`): one compiled function per distinct layout in the process. */
const builders = new Map<string, PairLayout['make']>();
const MAX_BUILDERS = 1024;

function builder(names: string[]): PairLayout['make'] {
  const key = names.join(' ');
  let make = builders.get(key);
  if (make === undefined) {
    // the keys are plain identifiers-with-dots, quoted by JSON.stringify: nothing else reaches the code
    const body = names.map((k, i) => `${JSON.stringify(k)}: v[${i}]`).join(', ');
    make = new Function('v', `return { ${body} };`) as PairLayout['make'];
    if (builders.size >= MAX_BUILDERS) builders.clear();
    builders.set(key, make);
  }
  return make;
}

/**
 * Decode s[i, n) with `layout`: exactly its names, in order, each `name=integer`, separated
 * by spaces. Undefined when the line differs in any way (the caller decodes it generically).
 */
export function decodeWithLayout(s: string, i: number, n: number, layout: PairLayout): Fields | undefined {
  const names = layout.names;
  const values = layout.values;
  for (let k = 0; k < names.length; k++) {
    while (i < n && s.charCodeAt(i) === 32) i++;
    const name = names[k]!;
    const eq = i + name.length;
    if (eq >= n || s.charCodeAt(eq) !== 61 || !s.startsWith(name, i)) return undefined;
    const v0 = eq + 1;
    const c = v0 < n ? s.charCodeAt(v0) : 32;
    if (!((c >= 48 && c <= 57) || c === 45)) return undefined;
    let v1 = s.indexOf(' ', v0);
    if (v1 < 0 || v1 > n) v1 = n;
    const v = decodeIntegerRange(s, v0, v1);
    if (v === undefined) return undefined;
    values[k] = v;
    i = v1;
  }
  while (i < n && s.charCodeAt(i) === 32) i++;
  return i === n ? layout.make(values) : undefined;
}
