/**
 * Which worker of the parallel search (parallel.ts, worker.ts) owns a state: a pure function of
 * the state's content, the same in every worker, however each machine numbered its strings,
 * shapes and parts. For a machine whose words end with one word per thread
 * (`Machine.stepMemo.threadsAt`) it is the portable hash (`WordExchange.portableHash`) of the
 * shared words alone (those before the threads'); any other state's is that of all its words.
 *
 * By the shared words alone, every state with the same shared part is expanded by one worker,
 * and a step memo's key begins with the expanding state's shared part (step-memo.ts): the keys
 * are split between the workers, none met by two, so the workers' memos together reuse every
 * step one memo on one thread would (but those the one-thread search recorded before a handover
 * for another worker's states). A step that leaves the shared part as it was (a thread's local
 * work) stays with its worker. Owned by a hash of the full words, a key met by both workers
 * missed in both. A state kept as a row (state-table.ts) has its owner from its shared number,
 * whose hash is computed once and kept: a reused step's successor (step-memo-rows.ts) needs no
 * word copied or hashed to find its owner.
 */
import type { WordExchange } from '@kreplay/core';
import { IntVec } from './graph.js';
import type { StateTable } from './state-table.js';

/** The worker that owns a state of hash `hash` (an owner hash, `Owners`): every worker picks the same one. */
export function ownerOf(hash: number, workers: number): number {
  return (hash >>> 0) % workers;
}

export class Owners {
  /** Per shared number of `table.shared`, the portable hash of its words (numbers below `hashes.length` are known). */
  private readonly hashes = new IntVec(1 << 12);
  private buf = new Int32Array(256);

  constructor(
    private readonly exchange: WordExchange,
    /** `Machine.stepMemo.threadsAt`, when the machine lays its words out so. */
    private readonly threadsAt: ((words: Int32Array, n: number) => number) | undefined,
    private readonly T: number,
    readonly workers: number,
    /** The visited set whose rows `ofRow` is asked about (its shared numbers key the kept hashes). */
    private readonly table?: StateTable,
  ) {}

  /** The owner of the state whose words are `words[0..n)`. */
  ofWords(words: Int32Array, n: number): number {
    const at = this.threadsAt ? this.threadsAt(words, n) : -1;
    return ownerOf(this.exchange.portableHash(words, at < 0 || at !== n - this.T ? n : at), this.workers);
  }

  /** The owner of the state whose row (state-table.ts) is `rows[base..base + T]`, its shared number the table's. */
  ofRow(rows: Int32Array, base: number): number {
    const s = rows[base]!;
    // laid out in threads: its shared words are its shared entry; else all its words are
    return ownerOf(this.sharedHash(s < 0 ? ~s : s), this.workers);
  }

  /** The portable hash of the table's shared entry `id` (numbered in insertion order: those before it are computed too). */
  private sharedHash(id: number): number {
    const hashes = this.hashes;
    const table = this.table!;
    while (hashes.length <= id) {
      const k = hashes.length;
      const need = table.shared.bytesOf(k);
      if (need > this.buf.length) this.buf = new Int32Array(Math.max(need, 2 * this.buf.length));
      hashes.push(this.exchange.portableHash(this.buf, table.shared.wordsOf(k, this.buf)));
    }
    return hashes.a[id]!;
  }
}
