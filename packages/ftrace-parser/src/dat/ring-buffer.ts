/**
 * One ring-buffer page (kernel/trace/ring_buffer.c's buffer_data_page): a u64 timestamp, a
 * `commit` word (data length in the low 27 bits, RB_MISSED_EVENTS in bit 31 and
 * RB_MISSED_STORED in bit 30 with the count stored after the data), then events, each
 * behind a 32-bit header of 5-bit type_len and 27-bit time_delta:
 *   0       data, length in the next word      1..28  data of type_len*4 bytes
 *   29      padding (a discarded event)        30     time extend (delta bits 27..58)
 *   31      absolute timestamp (low 59 bits; the top 5 bits carry over)
 * Deltas accumulate from the page timestamp, as libtraceevent's kbuffer does.
 */
import type { PageHeader } from './container.js';

const RB_MISSED_EVENTS = 0x80000000;
const RB_MISSED_STORED = 0x40000000;
const COMMIT_MASK = (1 << 27) - 1;
const TS_MSB = 0xf8n << 56n;
/** A high word below this keeps hi·2^32 + lo below 2^53 with room for a page's deltas. */
const SAFE_HI = 2 ** 20;
const SAFE_TS = 2 ** 52;

/** ts + delta, staying a number while the sum stays far below 2^53. */
function add(ts: Ts, delta: number): Ts {
  if (typeof ts === 'number') {
    const t = ts + delta;
    return t < SAFE_TS ? t : BigInt(ts) + BigInt(delta);
  }
  return ts + BigInt(delta);
}
const TYPE_PADDING = 29;
const TYPE_TIME_EXTEND = 30;
const TYPE_TIME_STAMP = 31;

/**
 * A timestamp: a number while it is below 2^53 (exact, and no allocation per event — the
 * common case, nanoseconds of uptime), a bigint beyond.
 */
export type Ts = number | bigint;

export interface PageSink {
  /** A data event: its payload is `page[start, end)`. */
  event(ts: Ts, page: Buffer, start: number, end: number): void;
  /** The page header says events were lost before this page (count when stored). */
  missed(lost: number | undefined, pageTs: Ts): void;
  /** The page is corrupt from here on; `reason` says how. */
  bad(reason: string): void;
}

export class PageDecoder {
  private readonly u32: (b: Buffer, at: number) => number;

  constructor(
    private readonly header: PageHeader,
    private readonly little: boolean,
    private readonly pageSize: number,
  ) {
    this.u32 = little ? (b, at) => b.readUInt32LE(at) : (b, at) => b.readUInt32BE(at);
  }

  /** The page timestamp: a number when exact, else a bigint. */
  private u64(b: Buffer, at: number): Ts {
    const lo = this.little ? b.readUInt32LE(at) : b.readUInt32BE(at + 4);
    const hi = this.little ? b.readUInt32LE(at + 4) : b.readUInt32BE(at);
    return hi < SAFE_HI ? hi * 2 ** 32 + lo : (BigInt(hi) << 32n) | BigInt(lo);
  }

  /** The long at `at` (commit words and the stored missed count are kernel longs). */
  private long(b: Buffer, at: number): number {
    if (this.header.commitSize === 4) return this.u32(b, at);
    return this.little ? this.u32(b, at) : this.u32(b, at + 4);
  }

  /** Decode the page at `page[at, at + pageSize)`. Returns the number of data events. */
  decode(page: Buffer, at: number, sink: PageSink): number {
    const { dataOffset, commitSize } = this.header;
    const u32 = this.u32;
    let ts = this.u64(page, at);
    const flags = this.long(page, at + 8);
    const size = flags & COMMIT_MASK;
    const data = at + dataOffset;
    const end = data + size;
    if (flags & RB_MISSED_EVENTS) {
      let lost: number | undefined;
      if (flags & RB_MISSED_STORED && end + commitSize <= at + this.pageSize) lost = this.long(page, end);
      sink.missed(lost, ts);
    }
    if (size === 0) return 0;
    if (end > at + this.pageSize) {
      sink.bad(`its commit length ${size} overruns the ${this.pageSize - dataOffset}-byte data area`);
      return 0;
    }
    let n = 0;
    let pos = data;
    while (pos < end) {
      if (pos + 4 > end) {
        sink.bad(`an event header at page offset ${pos - at} runs past the commit length`);
        return n;
      }
      const hdr = u32(page, pos);
      const typeLen = this.little ? hdr & 31 : hdr >>> 27;
      const delta = this.little ? hdr >>> 5 : hdr & 0x7ffffff;
      switch (typeLen) {
        case TYPE_PADDING: {
          if (pos + 8 > end) return n; // the null padding that ends a page
          ts = add(ts, delta);
          pos += 4 + u32(page, pos + 4);
          break;
        }
        case TYPE_TIME_EXTEND:
        case TYPE_TIME_STAMP: {
          if (pos + 8 > end) {
            sink.bad(`a time extend at page offset ${pos - at} runs past the commit length`);
            return n;
          }
          const hi = u32(page, pos + 4);
          if (typeLen === TYPE_TIME_EXTEND) {
            ts = hi < 2 ** 20 ? add(ts, hi * 2 ** 27 + delta) : BigInt(ts) + ((BigInt(hi) << 27n) + BigInt(delta));
          } else {
            const ext = (BigInt(hi) << 27n) + BigInt(delta);
            const abs = ext | (BigInt(ts) & TS_MSB);
            ts = abs < BigInt(SAFE_TS) ? Number(abs) : abs;
          }
          pos += 8;
          break;
        }
        case 0: {
          if (pos + 8 > end) {
            sink.bad(`an event length word at page offset ${pos - at} runs past the commit length`);
            return n;
          }
          const len = (u32(page, pos + 4) - 4 + 3) & ~3;
          const start = pos + 8;
          if (len < 0 || start + len > end) {
            sink.bad(`an event of ${len} bytes at page offset ${pos - at} runs past the commit length`);
            return n;
          }
          ts = add(ts, delta);
          sink.event(ts, page, start, start + len);
          n++;
          pos = start + len;
          break;
        }
        default: {
          const start = pos + 4;
          const stop = start + typeLen * 4;
          if (stop > end) {
            sink.bad(`an event of ${typeLen * 4} bytes at page offset ${pos - at} runs past the commit length`);
            return n;
          }
          ts = add(ts, delta);
          sink.event(ts, page, start, stop);
          n++;
          pos = stop;
        }
      }
    }
    return n;
  }
}
