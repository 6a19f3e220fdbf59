/**
 * Endian-aware reads over a byte buffer, for trace.dat metadata. Every read is bounds
 * checked: running off the end throws `ShortRead`, which the container reader turns into an
 * InputError that names the section being read (a truncated or corrupt file).
 */

const TWO_32 = 2 ** 32;
/** A hi word below this ⇒ hi·2^32 + lo is exact in a double. */
export const MAX_SAFE_HI = 2 ** 21;

export class ShortRead extends Error {
  constructor(
    readonly at: number,
    readonly want: number,
    readonly have: number,
  ) {
    super(`needs ${want} bytes at offset ${at}, only ${Math.max(0, have - at)} left`);
    this.name = 'ShortRead';
  }
}

/** u64 from two u32 halves: a number when exact, a bigint otherwise. */
export function u64From(lo: number, hi: number): number | bigint {
  return hi < MAX_SAFE_HI ? hi * TWO_32 + lo : (BigInt(hi) << 32n) | BigInt(lo);
}

/** s64 from two u32 halves (hi as unsigned): a number when exact, a bigint otherwise. */
export function s64From(lo: number, hi: number): number | bigint {
  if (hi < 0x80000000) return u64From(lo, hi);
  const neg = hi - TWO_32; // signed hi
  if (neg >= -MAX_SAFE_HI) return neg * TWO_32 + lo;
  return (BigInt(neg) << 32n) + BigInt(lo);
}

/** A cursor over `buf` starting at `pos`; `base` is the file offset of buf[0] (for messages). */
export class ByteReader {
  pos: number;
  constructor(
    readonly buf: Buffer,
    readonly little: boolean,
    pos = 0,
    readonly base = 0,
  ) {
    this.pos = pos;
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  /** File offset of the cursor. */
  get offset(): number {
    return this.base + this.pos;
  }

  need(n: number): void {
    if (this.pos + n > this.buf.length) throw new ShortRead(this.base + this.pos, n, this.base + this.buf.length);
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  u16(): number {
    this.need(2);
    const v = this.little ? this.buf.readUInt16LE(this.pos) : this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.little ? this.buf.readUInt32LE(this.pos) : this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  /** u64 as a number (offsets and sizes; anything past 2^53 fails the bounds checks later). */
  u64(): number {
    return Number(this.u64Exact());
  }

  u64Exact(): number | bigint {
    this.need(8);
    const p = this.pos;
    this.pos += 8;
    return this.little ? u64From(this.buf.readUInt32LE(p), this.buf.readUInt32LE(p + 4)) : u64From(this.buf.readUInt32BE(p + 4), this.buf.readUInt32BE(p));
  }

  u64Big(): bigint {
    const v = this.u64Exact();
    return typeof v === 'bigint' ? v : BigInt(v);
  }

  bytes(n: number): Buffer {
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  /** A NUL-terminated string (latin1 keeps bytes intact; kernel names are ASCII). */
  cstring(): string {
    const end = this.buf.indexOf(0, this.pos);
    if (end < 0) throw new ShortRead(this.base + this.pos, this.buf.length - this.pos + 1, this.base + this.buf.length);
    const s = this.buf.toString('utf8', this.pos, end);
    this.pos = end + 1;
    return s;
  }
}
