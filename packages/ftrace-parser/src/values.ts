/**
 * Exact decoding of the values the kernel prints in event payloads: decimal and 0x-hex
 * integers (number when exact, bigint when wider than 2^53, never a float), quoted strings,
 * `{...}` / `[...]` arrays, and the generic `name=value name=value` payload.
 */
import { names } from './intern.js';
import type { FieldValue, Fields } from '@kreplay/core';

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = -MAX_SAFE;

function isHexDigit(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

function narrow(b: bigint): number | bigint {
  return b <= MAX_SAFE && b >= MIN_SAFE ? Number(b) : b;
}

/** Hex digits s[start, end) without a `0x` prefix (`ino %lx`, `page=%p`) → exact integer; undefined if not hex. */
export function decodeHexDigits(s: string, start = 0, end = s.length): number | bigint | undefined {
  if (end <= start) return undefined;
  if (end - start <= 13) {
    let v = 0;
    for (let i = start; i < end; i++) {
      const c = s.charCodeAt(i);
      const d = c <= 57 ? c - 48 : (c | 32) - 87;
      if (d < 0 || d > 15 || (c > 57 && (c | 32) < 97)) return undefined;
      v = v * 16 + d;
    }
    return v;
  }
  for (let i = start; i < end; i++) if (!isHexDigit(s.charCodeAt(i))) return undefined;
  return narrow(BigInt(`0x${s.slice(start, end)}`));
}

/** `123`, `-16`, `0x1f` in s[start, end) → exact integer; anything else → undefined. */
export function decodeIntegerRange(s: string, start: number, end: number): number | bigint | undefined {
  const n = end - start;
  if (n <= 0) return undefined;
  let i = start;
  const c0 = s.charCodeAt(i);
  if (c0 === 48 && n > 2 && (s.charCodeAt(i + 1) | 32) === 120) return decodeHexDigits(s, i + 2, end);
  let neg = false;
  if (c0 === 45) {
    if (n === 1) return undefined;
    neg = true;
    i++;
  }
  // `%p` prints a (hashed) pointer as 16 hex digits without 0x; no decimal format pads
  // with that many zeros, so a long zero-led run of digits is a pointer, not a count.
  if (!neg && n >= 8 && c0 === 48) return decodeHexDigits(s, start, end);
  if (end - i > 15) {
    for (let j = i; j < end; j++) {
      const d = s.charCodeAt(j) - 48;
      if (d < 0 || d > 9) return undefined;
    }
    return narrow(BigInt(s.slice(start, end)));
  }
  let v = 0;
  for (; i < end; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return undefined;
    v = v * 10 + d;
  }
  return neg && v !== 0 ? -v : v;
}

/** `123`, `-16`, `0x1f` → exact integer; anything else → undefined. */
export function decodeInteger(s: string): number | bigint | undefined {
  return decodeIntegerRange(s, 0, s.length);
}

/** Split `a,b,{c,d}` at top-level commas. */
function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 34) quoted = !quoted;
    else if (quoted) continue;
    else if (c === 123 || c === 91) depth++;
    else if (c === 125 || c === 93) depth--;
    else if (c === 44 && depth === 0) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  out.push(s.slice(start));
  return out;
}

/** One printed value → FieldValue (integers exact, quotes removed, arrays decoded). */
export function decodeValue(s: string): FieldValue {
  const n = s.length;
  if (n === 0) return '';
  const c = s.charCodeAt(0);
  if ((c >= 48 && c <= 57) || c === 45) {
    const v = decodeIntegerRange(s, 0, n);
    if (v !== undefined) return v;
  }
  if (n >= 2) {
    const last = s.charCodeAt(n - 1);
    if (c === 34 && last === 34) return s.slice(1, n - 1);
    if ((c === 123 && last === 125) || (c === 91 && last === 93)) {
      const inner = s.slice(1, n - 1).trim();
      if (inner === '') return [];
      return splitTopLevel(inner).map((e) => decodeValue(e.trim()));
    }
  }
  return s;
}

/** fields[name] = value, also for a payload that names a field `__proto__`. */
export function setField(fields: Fields, name: string, value: FieldValue): void {
  if (name === '__proto__') Object.defineProperty(fields, name, { value, enumerable: true, writable: true, configurable: true });
  else fields[name] = value;
}

function isNameChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 46;
}

function hasAlnum(s: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57)) return true;
  }
  return false;
}

/** Does a `name=` start at i? */
export function pairStartsAt(s: string, i: number, n: number): boolean {
  const start = i;
  while (i < n && isNameChar(s.charCodeAt(i))) i++;
  return i > start && i < n && s.charCodeAt(i) === 61;
}

/** Index just past the bracketed/quoted value starting at i (or n when unclosed). */
function endOfGroup(s: string, i: number, n: number): number {
  const open = s.charCodeAt(i);
  if (open === 34) {
    let j = s.indexOf('"', i + 1);
    while (j >= 0 && j + 1 < n && s.charCodeAt(j + 1) !== 32) j = s.indexOf('"', j + 1);
    return j < 0 || j >= n ? n : j + 1;
  }
  let depth = 0;
  let quoted = false;
  for (let j = i; j < n; j++) {
    const c = s.charCodeAt(j);
    if (c === 34) quoted = !quoted;
    else if (quoted) continue;
    else if (c === 123 || c === 91) depth++;
    else if ((c === 125 || c === 93) && --depth === 0) return j + 1;
  }
  return n;
}

/**
 * Decode a generic payload `name=value name2="a b" arr={1,2} ...` into `fields`.
 * An unquoted value runs to the next space, except that a non-numeric value also takes the
 * following words that are not `name=` pairs and contain a letter or digit (the kernel
 * prints `comm=%s` unquoted, so `prev_comm=Web Content prev_pid=7` keeps its space).
 * Words that are not pairs (`==>` in sched_switch, `dev 8,1` styles) are not dropped:
 * the whole payload is then also kept as `fields.raw`. Returns whether everything was pairs.
 */
export function decodeFields(s: string, fields: Fields, start = 0, end = s.length): boolean {
  const n = end;
  let i = start;
  let clean = true;
  while (i < n) {
    while (i < n && s.charCodeAt(i) === 32) i++;
    if (i >= n) break;
    const nameStart = i;
    while (i < n && isNameChar(s.charCodeAt(i))) i++;
    if (i === nameStart || i >= n || s.charCodeAt(i) !== 61) {
      // not a pair: skip this word
      clean = false;
      while (i < n && s.charCodeAt(i) !== 32) i++;
      continue;
    }
    const name = names.get(s, nameStart, i);
    i++;
    const vStart = i;
    let vEnd: number;
    const c = i < n ? s.charCodeAt(i) : 32;
    let value: FieldValue | undefined;
    if (c === 34 || c === 123 || c === 91) {
      vEnd = endOfGroup(s, i, n);
      // `{...}` followed by more text without a space: take the rest of the word
      while (vEnd < n && s.charCodeAt(vEnd) !== 32) vEnd++;
    } else {
      vEnd = s.indexOf(' ', i);
      if (vEnd < 0 || vEnd > n) vEnd = n;
      value = (c >= 48 && c <= 57) || c === 45 ? decodeIntegerRange(s, vStart, vEnd) : undefined;
      if (value === undefined) {
        // extend over following plain words (`comm=Web Content`)
        for (;;) {
          let w = vEnd;
          while (w < n && s.charCodeAt(w) === 32) w++;
          if (w >= n || pairStartsAt(s, w, n)) break;
          let we = s.indexOf(' ', w);
          if (we < 0 || we > n) we = n;
          if (!hasAlnum(s, w, we)) break;
          vEnd = we;
        }
        value = s.slice(vStart, vEnd);
      }
    }
    setField(fields, name, value ?? decodeValue(s.slice(vStart, vEnd)));
    i = vEnd;
  }
  return clean;
}
