/**
 * Field conversions of the probe-map schema (packages/core/src/probe-map.ts): how a
 * decoded trace field becomes an MmOp field. Integers stay JS numbers while they are exact
 * (the reader gives numbers up to 2^53) and become bigints only beyond — replay converts
 * millions of fields a second. Every function returns `undefined` when the value cannot be
 * read as asked, so the adapter can say which field was unusable.
 */
import type { FieldValue } from '@kreplay/core';

/** An exact integer: a number while it fits, a bigint beyond. */
export type Int = number | bigint;

const U64 = 1n << 64n;
const I64_MAX = (1n << 63n) - 1n;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = -MAX_SAFE;

/** A bigint as a number when exact. */
export function narrow(b: bigint): Int {
  return b <= MAX_SAFE && b >= MIN_SAFE ? Number(b) : b;
}

/** An integer as printed: number, bigint, or a decimal / 0x-hex / negative string. */
export function toInt(v: FieldValue | undefined): Int | undefined {
  if (typeof v === 'number') return Number.isInteger(v) ? v : undefined;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'string') {
    const s = v.trim();
    if (/^-?\d+$/.test(s)) return narrow(BigInt(s));
    if (/^0x[0-9a-f]+$/i.test(s)) return narrow(BigInt(s));
    if (/^-0x[0-9a-f]+$/i.test(s)) return narrow(-BigInt(s.slice(1)));
  }
  return undefined;
}

export function toBigInt(v: FieldValue | undefined): bigint | undefined {
  const i = toInt(v);
  return i === undefined ? undefined : BigInt(i);
}

/**
 * Hex printed without `0x` (`%lx`, the filemap tracepoints' `ino 2a`): a string is read as
 * hex digits; a number the trace reader already decoded (ftrace-parser decodes the filemap
 * tracepoints' `ino` exactly) is taken as it is.
 */
export function hexDigits(v: FieldValue | undefined): Int | undefined {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 ? v : undefined;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'string') {
    const s = v.trim().replace(/^0x/i, '');
    return /^[0-9a-f]+$/i.test(s) ? narrow(BigInt(`0x${s}`)) : undefined;
  }
  return undefined;
}

/** A u64 as printed, reinterpreted as signed (kretprobe `$retval`: 0xfffffffffffffff0 → -16). */
export function toSigned(v: FieldValue | undefined): Int | undefined {
  if (typeof v === 'number') return Number.isInteger(v) ? v : undefined;
  const b = typeof v === 'bigint' ? v : toBigInt(v);
  if (b === undefined) return undefined;
  return narrow(b > I64_MAX && b < U64 ? b - U64 : b);
}

/** Kernel dev_t (`major << 20 | minor`) or an already printed `major:minor`. */
export function toDev(v: FieldValue | undefined): string | undefined {
  if (typeof v === 'string' && /^\d+:\d+$/.test(v.trim())) return v.trim();
  const i = toInt(v);
  if (i === undefined || i < 0) return undefined;
  const b = BigInt(i);
  return `${b >> 20n}:${b & 0xfffffn}`;
}

/** A byte offset as a page index (`ofs` / 4096). */
export function bytesToIndex(v: FieldValue | undefined): Int | undefined {
  const i = toInt(v);
  if (i === undefined) return undefined;
  return typeof i === 'number' ? Math.floor(i / 4096) : narrow(i >> 12n);
}

/** A number that fits a JS number exactly (page indexes, return values, counts). */
export function toNumber(v: Int | string | undefined): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') {
    const n = narrow(v);
    return typeof n === 'number' ? n : undefined;
  }
  return undefined;
}

/**
 * The bigints toBig made last, direct-mapped by the number's low bits: a trace names the same
 * pfns and addresses over and over (a page's add, maps, unmaps and removal), and a hit costs
 * a comparison where a miss allocates. Bigints are immutable values, so sharing one is safe.
 */
const BIG_SLOTS = 4096;
const bigNums: number[] = new Array<number>(BIG_SLOTS).fill(-1);
const bigVals: bigint[] = new Array<bigint>(BIG_SLOTS).fill(-1n);

/**
 * A number's slot: its low bits mixed with the bits above a page's offset. By the low bits
 * alone, every page-aligned address (a fault's, 4 KiB apart) fell in slot 0 and each one
 * allocated a new bigint; pfns (consecutive numbers) still get distinct slots.
 */
export function bigSlot(v: number): number {
  return (v ^ (v >>> 12)) & (BIG_SLOTS - 1);
}

export function toBig(v: Int | string | undefined): bigint | undefined {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') {
    const slot = bigSlot(v);
    if (bigNums[slot] === v) return bigVals[slot];
    const b = BigInt(v);
    bigNums[slot] = v;
    bigVals[slot] = b;
    return b;
  }
  return undefined;
}
