/**
 * Coherence while reads-from is being chosen: the write-to-write orders that coherence
 * forces, kept per location and grown read by read, so that a partial reads-from whose
 * forced orders already form a cycle is dropped with everything below it.
 *
 * The orders are the ones the `coherence-orders` primitive (check.ts) starts from: the
 * initial write before every other write of its location (co0), po-loc between writes,
 * and for a read r of write w: w before every write po-after r, every write po-before r
 * before w, and w before (after) what a po-later (po-earlier) read of the location reads.
 * Each order only grows as more reads are given a write, and coherence-orders yields no
 * coherence order at all when they are cyclic, so no execution below a cyclic node
 * exists. That holds when the model takes its co from coherence-orders with at least the
 * test's reads, writes, reads-from and co0 (check.ts checks this when it is called).
 *
 * For a model that checks `empty rmw & (fre ; coe)` (atomic), two read-modify-writes that
 * read the same write are dropped too: each one's write must come right after it in co
 * (coherenceOrders in check.ts), so again no coherence order is left.
 */
import type { Val } from './sem.js';

interface LocOrders {
  /** The location's writes; an edge a -> b is count[a * m + b] > 0. */
  ws: number[];
  count: Int32Array;
}

export class CoherenceFrontier {
  private readonly byLoc = new Map<Val, LocOrders>();
  /** Event -> its index in its location's writes (writes only). */
  private readonly slot: Int32Array;
  /** The reads of each location, in event order. */
  private readonly readsOf = new Map<Val, number[]>();
  private readonly rf: Int32Array;
  /** Edges added for each chosen read, to take back on undo. */
  private readonly added: Array<{ orders: LocOrders; edges: number[] }> = [];
  /** Write -> how many RMW reads read it (atomic models only). */
  private readonly rmwReaders: Int32Array;

  constructor(
    n: number,
    private readonly loc: ReadonlyArray<Val | undefined>,
    isRead: (i: number) => boolean,
    isWrite: (i: number) => boolean,
    isInitial: (i: number) => boolean,
    private readonly poBefore: (a: number, b: number) => boolean,
    /** Is i the read of a read-modify-write, in a model whose atomic check makes it exclusive? */
    private readonly exclusiveRead: (i: number) => boolean,
  ) {
    this.rmwReaders = new Int32Array(n);
    this.slot = new Int32Array(n).fill(-1);
    this.rf = new Int32Array(n).fill(-1);
    for (let i = 0; i < n; i++) {
      const l = loc[i];
      if (l === undefined) continue;
      if (isWrite(i)) {
        let o = this.byLoc.get(l);
        if (!o) {
          o = { ws: [], count: new Int32Array(0) };
          this.byLoc.set(l, o);
        }
        this.slot[i] = o.ws.length;
        o.ws.push(i);
      } else if (isRead(i)) {
        const list = this.readsOf.get(l) ?? [];
        list.push(i);
        this.readsOf.set(l, list);
      }
    }
    for (const o of this.byLoc.values()) {
      const m = o.ws.length;
      o.count = new Int32Array(m * m);
      for (const a of o.ws) {
        for (const b of o.ws) {
          if (a === b) continue;
          if ((isInitial(a) && !isInitial(b)) || poBefore(a, b)) o.count[this.slot[a]! * m + this.slot[b]!]!++;
        }
      }
    }
  }

  /**
   * Read r reads from write w: adds the orders this forces. False when they close a cycle
   * (or force w before itself); the orders stay added until undo() either way.
   */
  choose(r: number, w: number): boolean {
    const l = this.loc[r];
    const orders = l === undefined ? undefined : this.byLoc.get(l);
    const edges: number[] = [];
    this.added.push({ orders: orders ?? { ws: [], count: new Int32Array(0) }, edges });
    this.rf[r] = w;
    if (this.exclusiveRead(r) && this.rmwReaders[w]!++ > 0) return false;
    if (!orders || this.loc[w] !== l) return true;
    const m = orders.ws.length;
    const ws = this.slot[w]!;
    let selfLoop = false;
    const add = (a: number, b: number): void => {
      if (a === b) {
        selfLoop = true;
        return;
      }
      const e = a * m + b;
      orders.count[e]!++;
      edges.push(e);
    };
    for (const b of orders.ws) {
      if (this.poBefore(r, b)) add(ws, this.slot[b]!);
      else if (b !== w && this.poBefore(b, r)) add(this.slot[b]!, ws);
    }
    for (const r2 of this.readsOf.get(l!) ?? []) {
      const w2 = this.rf[r2]!;
      if (r2 === r || w2 < 0 || w2 === w || this.loc[w2] !== l) continue;
      if (this.poBefore(r, r2)) add(ws, this.slot[w2]!);
      else if (this.poBefore(r2, r)) add(this.slot[w2]!, ws);
    }
    if (selfLoop) return false;
    for (const e of edges) if (this.reaches(orders, e % m, Math.floor(e / m))) return false;
    return true;
  }

  /** Takes back the last choose(). */
  undo(r: number): void {
    const last = this.added.pop()!;
    for (const e of last.edges) last.orders.count[e]!--;
    if (this.exclusiveRead(r)) this.rmwReaders[this.rf[r]!]!--;
    this.rf[r] = -1;
  }

  /** Is there a path of forced orders from write slot `from` to `to`? */
  private reaches(orders: LocOrders, from: number, to: number): boolean {
    const m = orders.ws.length;
    const seen = new Uint8Array(m);
    const stack = [from];
    seen[from] = 1;
    while (stack.length > 0) {
      const a = stack.pop()!;
      if (a === to) return true;
      for (let b = 0; b < m; b++) {
        if (seen[b] || orders.count[a * m + b]! === 0) continue;
        seen[b] = 1;
        stack.push(b);
      }
    }
    return false;
  }
}
