/**
 * A growing byte buffer that text lines are written into as bytes (the `--pretty` view):
 * digits and payload strings go straight in, without building a JavaScript string per value.
 */

const DIGITS = Buffer.from('0123456789abcdef', 'latin1');

export class ByteSink {
  buf: Buffer;
  len = 0;

  constructor(size = 1 << 16) {
    this.buf = Buffer.allocUnsafe(size);
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  byte(c: number): void {
    this.reserve(1);
    this.buf[this.len++] = c;
  }

  /** Bytes `src[start, end)`. */
  copy(src: Buffer, start: number, end: number): void {
    const n = end - start;
    this.reserve(n);
    if (n < 48) {
      // a loop beats Buffer#copy's call overhead for the short pieces lines are made of
      const b = this.buf;
      let at = this.len;
      for (let i = start; i < end; i++) b[at++] = src[i]!;
    } else src.copy(this.buf, this.len, start, end);
    this.len += n;
  }

  /** A byte string: each character's code is one byte. */
  latin1(s: string): void {
    this.reserve(s.length);
    this.len += this.buf.write(s, this.len, 'latin1');
  }

  text(s: string): void {
    this.reserve(s.length * 3);
    this.len += this.buf.write(s, this.len, 'utf8');
  }

  /** A non-negative integer below 2^53 in base 10 or 16. */
  uint(n: number, base: 10 | 16): void {
    this.reserve(20);
    const b = this.buf;
    let end = this.len;
    let v = n;
    do {
      end++;
      v = Math.floor(v / base);
    } while (v > 0);
    let at = end;
    v = n;
    do {
      const q = Math.floor(v / base);
      b[--at] = DIGITS[v - q * base]!;
      v = q;
    } while (v > 0);
    this.len = end;
  }

  /** A signed integer (|n| < 2^53) in base 10. */
  int(n: number): void {
    if (n < 0) {
      this.byte(45);
      this.uint(-n, 10);
    } else this.uint(n, 10);
  }

  /** `n` nanoseconds (0 ≤ n < 2^53) as `%5llu.%09llu`: seconds right-aligned to 5, nanoseconds to 9 digits. */
  timestamp(n: number): void {
    this.reserve(32);
    const b = this.buf;
    const secs = Math.floor(n / 1e9);
    let ns = n - secs * 1e9;
    let digits = 1;
    for (let v = secs; v >= 10; v = Math.floor(v / 10)) digits++;
    let at = this.len;
    for (let k = digits; k < 5; k++) b[at++] = 32;
    let end = at + digits;
    for (let v = secs, k = end; k > at; v = Math.floor(v / 10)) b[--k] = 48 + (v % 10);
    b[end++] = 46;
    for (let k = end + 8; k >= end; k--) {
      const q = Math.floor(ns / 10);
      b[k] = 48 + (ns - q * 10);
      ns = q;
    }
    this.len = end + 9;
  }

  /** `n` (0 ≤ n < 2^53) as `%12llu`: right-aligned to 12 digits. */
  counter(n: number): void {
    this.reserve(32);
    let digits = 1;
    for (let v = n; v >= 10; v = Math.floor(v / 10)) digits++;
    for (let i = digits; i < 12; i++) this.buf[this.len++] = 32;
    this.uint(n, 10);
  }

  /** `n` in base 10, zero-padded to `width` digits. */
  padded(n: number, width: number): void {
    this.reserve(width + 20);
    let digits = 1;
    for (let v = n; v >= 10; v = Math.floor(v / 10)) digits++;
    for (let i = digits; i < width; i++) this.buf[this.len++] = 48;
    this.uint(n, 10);
  }
}
