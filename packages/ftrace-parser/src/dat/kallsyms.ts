/**
 * The file's copy of /proc/kallsyms: address → `symbol+offset/size`, the way the kernel's
 * `%pS` prints a kprobe location (the first alias at an address wins; a symbol's size runs
 * to the next higher address, as kallsyms_lookup_size_offset() computes it).
 */

export interface SymbolHit {
  name: string;
  offset: number;
  size: number;
  module?: string;
}

export class Kallsyms {
  private addrs: BigUint64Array = new BigUint64Array(0);
  private names: string[] = [];
  private modules: (string | undefined)[] = [];
  private parsed = false;
  private cache = new Map<bigint, SymbolHit | null>();

  constructor(private readonly text: string) {}

  get empty(): boolean {
    return this.text.trim().length === 0;
  }

  private parse(): void {
    this.parsed = true;
    const rows: { addr: bigint; name: string; module?: string; order: number }[] = [];
    let order = 0;
    for (const line of this.text.split('\n')) {
      // `ffffffff81000000 T _stext` or `ffffffffc0000000 t foo\t[mod]`
      const m = /^([0-9a-fA-F]+)\s+\S\s+(\S+)(?:\s+\[([^\]]+)\])?/.exec(line);
      if (!m) continue;
      const addr = BigInt(`0x${m[1]}`);
      if (addr === 0n) continue; // kptr_restrict hides addresses as zeros
      rows.push({ addr, name: m[2]!, module: m[3], order: order++ });
    }
    rows.sort((a, b) => (a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : a.order - b.order));
    this.addrs = new BigUint64Array(rows.length);
    this.names = new Array<string>(rows.length);
    this.modules = new Array<string | undefined>(rows.length);
    rows.forEach((r, i) => {
      this.addrs[i] = r.addr;
      this.names[i] = r.name;
      this.modules[i] = r.module;
    });
  }

  /** The symbol containing `addr`, or undefined when the file has none below it. */
  lookup(addr: bigint): SymbolHit | undefined {
    const hit = this.cache.get(addr);
    if (hit !== undefined) return hit ?? undefined;
    if (!this.parsed) this.parse();
    const a = this.addrs;
    let lo = 0;
    let hi = a.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (a[mid]! <= addr) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (found < 0) {
      this.cache.set(addr, null);
      return undefined;
    }
    const base = a[found]!;
    while (found > 0 && a[found - 1] === base) found--; // first alias
    let next = found + 1;
    while (next < a.length && a[next] === base) next++;
    const size = next < a.length ? Number(a[next]! - base) : 0;
    const result: SymbolHit = { name: this.names[found]!, offset: Number(addr - base), size };
    const mod = this.modules[found];
    if (mod !== undefined) result.module = mod;
    if (this.cache.size < 65536) this.cache.set(addr, result);
    return result;
  }
}

/** `sym+0xoff/0xsize` (plus ` [module]`), as `%pS` prints it; the bare hex address when unknown. */
export function formatSymOffset(ks: Kallsyms, addr: bigint): string {
  const hit = ks.lookup(addr);
  if (!hit) return `0x${addr.toString(16)}`;
  return `${hit.name}+0x${hit.offset.toString(16)}/0x${hit.size.toString(16)}${hit.module ? ` [${hit.module}]` : ''}`;
}

/** `sym` alone, as `%ps` prints it; the bare hex address when unknown. */
export function formatSym(ks: Kallsyms, addr: bigint): string {
  return ks.lookup(addr)?.name ?? `0x${addr.toString(16)}`;
}
