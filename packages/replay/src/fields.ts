/**
 * Field conversions of the probe-map schema (packages/mm-model/src/probe-map.ts): how a
 * decoded trace field becomes an MmOp field. Every function returns `undefined` when the
 * value cannot be read as asked, so the adapter can say which field was unusable.
 */
import type { FieldValue } from '@kreplay/ftrace-parser';

const U64 = 1n << 64n;
const I64_MAX = (1n << 63n) - 1n;

/** An integer as printed: number, bigint, or a decimal / 0x-hex / negative string. */
export function toBigInt(v: FieldValue | undefined): bigint | undefined {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : undefined;
  if (typeof v === 'string') {
    const s = v.trim();
    if (/^-?\d+$/.test(s)) return BigInt(s);
    if (/^0x[0-9a-f]+$/i.test(s)) return BigInt(s);
    if (/^-0x[0-9a-f]+$/i.test(s)) return -BigInt(s.slice(1));
  }
  return undefined;
}

/**
 * Hex printed without `0x` (`%lx`, the filemap tracepoints' `ino 2a`). A reader may have
 * decoded `10` as the decimal number 10; its digits are re-read as hex, which is exact
 * because `%lx` prints no leading zeros and the reader keeps integers exact.
 */
export function hexDigits(v: FieldValue | undefined): bigint | undefined {
  if (typeof v === 'bigint' || typeof v === 'number') {
    if (typeof v === 'number' && !Number.isInteger(v)) return undefined;
    const s = v.toString();
    return /^\d+$/.test(s) ? BigInt(`0x${s}`) : undefined;
  }
  if (typeof v === 'string') {
    const s = v.trim().replace(/^0x/i, '');
    return /^[0-9a-f]+$/i.test(s) ? BigInt(`0x${s}`) : undefined;
  }
  return undefined;
}

/** A u64 as printed, reinterpreted as signed (kretprobe `$retval`: 0xfffffffffffffff0 → -16). */
export function toSigned(v: FieldValue | undefined): bigint | undefined {
  const b = toBigInt(v);
  if (b === undefined) return undefined;
  if (b > I64_MAX && b < U64) return b - U64;
  return b;
}

/** Kernel dev_t (`major << 20 | minor`) or an already printed `major:minor`. */
export function toDev(v: FieldValue | undefined): string | undefined {
  if (typeof v === 'string' && /^\d+:\d+$/.test(v.trim())) return v.trim();
  const b = toBigInt(v);
  if (b === undefined || b < 0n) return undefined;
  return `${b >> 20n}:${b & 0xfffffn}`;
}

/** A number that fits a JS number exactly (page indexes, return values, counts). */
export function toSafeNumber(b: bigint | undefined): number | undefined {
  if (b === undefined) return undefined;
  if (b > BigInt(Number.MAX_SAFE_INTEGER) || b < BigInt(Number.MIN_SAFE_INTEGER)) return undefined;
  return Number(b);
}

export const PAGE_SHIFT = 12n;
