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

export interface TepSymbol {
  name: string;
  /** Offset of the address from the symbol. */
  offset: bigint;
}

export class TepSymbols {
  private addrs: bigint[] = [];
  private names: string[] = [];
  private parsed = false;
  private readonly cache = new Map<bigint, TepSymbol | null>();

  constructor(private readonly text: string) {}

  private parse(): void {
    this.parsed = true;
    const entries: { addr: bigint; name: string }[] = [];
    for (const line of this.text.split('\n')) {
      if (line === '') continue;
      // `%16llx %c %s`: up to 16 hex digits, one type letter, the name up to white space
      const m = /^\s*([0-9a-fA-F]{1,16})\s+(\S)\s+(\S+)/.exec(line);
      if (!m) break; // trace-cmd stops reading kallsyms at a line it cannot parse
      const type = m[2]!;
      const name = m[3]!;
      if (name.startsWith('$') || type === 'A' || type === 'a') continue;
      entries.push({ addr: BigInt(`0x${m[1]}`), name });
    }
    // registered one by one onto the head of a list, then sorted stably by address
    entries.reverse();
    const order = entries.map((_, i) => i);
    order.sort((a, b) => {
      const x = entries[a]!.addr, y = entries[b]!.addr;
      return x < y ? -1 : x > y ? 1 : a - b;
    });
    this.addrs = order.map((i) => entries[i]!.addr);
    this.names = order.map((i) => entries[i]!.name);
  }

  /** The symbol `%ps`/`%pS` prints for `addr`, or undefined (then the address is printed). */
  lookup(addr: bigint): TepSymbol | undefined {
    const hit = this.cache.get(addr);
    if (hit !== undefined) return hit ?? undefined;
    if (!this.parsed) this.parse();
    const a = this.addrs;
    const n = a.length;
    // a binary search that stops at the first probe that matches: `addr` equals the
    // probed symbol's address, or lies strictly between it and the next one (the entry
    // after the last is a sentinel at address 0)
    let lo = 0;
    let hi = n;
    let found = -1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const p = a[mid]!;
      const next = mid + 1 < n ? a[mid + 1]! : 0n;
      if (addr === p || (addr > p && addr < next)) {
        found = mid;
        break;
      }
      if (addr < p) hi = mid;
      else lo = mid + 1;
    }
    const result = found < 0 ? null : { name: this.names[found]!, offset: addr - a[found]! };
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
