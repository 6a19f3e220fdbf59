/**
 * Symbol and printk-format lookups the way `trace-cmd report` resolves them, for the text
 * views (`--pretty`): trace-cmd (lib/trace-cmd/trace-util.c) loads the file's kallsyms
 * into libtraceevent, leaving out `$`-names (arm mapping symbols) and absolute symbols
 * (types `A`/`a`: x86-64 per-CPU offsets such as `__per_cpu_end` would otherwise name user
 * addresses), and stops at the first line it cannot read. libtraceevent sorts the symbols
 * by address (registration order reversed, stable sort) and binary-searches them: an
 * address belongs to the symbol at or below it only while it stays below the next
 * symbol's address, so an address past the last symbol names nothing. Aliases at one
 * address resolve as that search lands, which this class reproduces step by step.
 *
 * (The event fields, by contrast, use kallsyms.ts: the kernel's own `%pS`, whose sizes
 * run to the next symbol and which knows every symbol.)
 */
import { inOrder, scanKallsyms } from './kallsyms.js';

export interface TepSymbol {
  name: string;
  /** Offset of the address from the symbol. */
  offset: bigint;
}

export class TepSymbols {
  /** Addresses as (high 32 bits, low 32 bits), in search order; names beside them. */
  private hi = new Float64Array(0);
  private lo = new Float64Array(0);
  private names: string[] = [];
  private parsed = false;
  private readonly cache = new Map<bigint, TepSymbol | null>();

  constructor(private readonly data: Buffer) {}

  /** The kallsyms as trace-cmd loads it (see the class comment). */
  private parse(): void {
    this.parsed = true;
    const d = this.data;
    const hi: number[] = [];
    const lo: number[] = [];
    const names: string[] = [];
    scanKallsyms(d, (l) => {
      if (!l) return false; // trace-cmd stops reading kallsyms at a line it cannot read
      if (d[l.nameStart] === 36 || l.type === 65 || l.type === 97) return; // `$x`, `A`, `a`
      hi.push(l.hi);
      lo.push(l.lo);
      names.push(d.toString('latin1', l.nameStart, l.nameEnd));
    });
    // registered one by one onto the head of a list, then sorted stably by address: equal
    // addresses end up last-registered first
    const n = hi.length;
    let ascending = true;
    for (let k = 1; k < n && ascending; k++) ascending = hi[k - 1]! < hi[k]! || (hi[k - 1] === hi[k] && lo[k - 1]! <= lo[k]!);
    const order = new Array<number>(n);
    if (ascending) {
      // the file is in address order (kallsyms is, but for modules): file order, with each
      // run of equal addresses reversed
      for (let k = 0; k < n;) {
        let e = k + 1;
        while (e < n && hi[e] === hi[k] && lo[e] === lo[k]) e++;
        for (let j = k; j < e; j++) order[j] = e - 1 - (j - k);
        k = e;
      }
    } else {
      for (let k = 0; k < n; k++) order[k] = k;
      order.sort((x, y) => hi[x]! - hi[y]! || lo[x]! - lo[y]! || y - x);
    }
    ({ hi: this.hi, lo: this.lo, names: this.names } = inOrder(order, hi, lo, names));
  }

  /** The symbol `%ps`/`%pS` prints for `addr`, or undefined (then the address is printed). */
  lookup(addr: bigint): TepSymbol | undefined {
    const hit = this.cache.get(addr);
    if (hit !== undefined) return hit ?? undefined;
    if (!this.parsed) this.parse();
    const { hi, lo } = this;
    const n = hi.length;
    const ah = Number(addr >> 32n);
    const al = Number(addr & 0xffffffffn);
    const lt = (k: number): boolean => ah < hi[k]! || (ah === hi[k] && al < lo[k]!);
    const eq = (k: number): boolean => ah === hi[k] && al === lo[k];
    // a binary search that stops at the first probe that matches: `addr` equals the
    // probed symbol's address, or lies strictly between it and the next one (the entry
    // after the last is a sentinel at address 0, which nothing lies below)
    let a = 0;
    let b = n;
    let found = -1;
    while (a < b) {
      const mid = (a + b) >> 1;
      if (eq(mid) || (!lt(mid) && mid + 1 < n && lt(mid + 1))) {
        found = mid;
        break;
      }
      if (lt(mid)) b = mid;
      else a = mid + 1;
    }
    const result = found < 0 ? null : { name: this.names[found]!, offset: addr - ((BigInt(hi[found]!) << 32n) | BigInt(lo[found]!)) };
    if (this.cache.size < 65536) this.cache.set(addr, result);
    return result ?? undefined;
  }
}

/**
 * The file's printk formats (`0xffffffff81a2b3c4 : "format\n"`, one per line), as
 * trace-cmd registers them: the text after `: `, a leading and a trailing quote and a
 * final `\n` escape before that quote removed, other escapes kept as written.
 */
export class PrintkFormats {
  private map: Map<bigint, string> | undefined;

  constructor(private readonly text: string) {}

  get(addr: bigint): string | undefined {
    if (!this.map) {
      this.map = new Map();
      for (const line of this.text.split('\n')) {
        if (line === '') continue;
        const colon = line.indexOf(':');
        if (colon < 0) break;
        const addrText = line.slice(0, colon).trim().replace(/^0x/i, '');
        const m = /^[0-9a-fA-F]+/.exec(addrText);
        const at = m ? BigInt(`0x${m[0]}`) : 0n;
        let fmt = line.slice(colon + 2);
        if (fmt.startsWith('"')) fmt = fmt.slice(1);
        // the `\n` goes only together with a closing quote (libtraceevent looks two
        // characters before where the quote was)
        if (fmt.endsWith('"')) {
          fmt = fmt.slice(0, -1);
          if (fmt.endsWith('\\n')) fmt = fmt.slice(0, -2);
        }
        // the list is searched newest first: the last registration of an address wins
        this.map.set(at, fmt);
      }
    }
    return this.map.get(addr);
  }
}
