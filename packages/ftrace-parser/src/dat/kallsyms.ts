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
  /** Addresses as (high 32 bits, low 32 bits), sorted; names and modules beside them. */
  private hi = new Float64Array(0);
  private lo = new Float64Array(0);
  private names: string[] = [];
  private modules: (string | undefined)[] = [];
  private parsed = false;
  private cache = new Map<bigint, SymbolHit | null>();

  /** `text`: the file's kallsyms section as it is stored. */
  constructor(readonly text: string) {}

  get empty(): boolean {
    return this.text.trim().length === 0;
  }

  /** `ffffffff81000000 T _stext` / `ffffffffc0000000 t foo\t[mod]`, one per line. */
  private parse(): void {
    this.parsed = true;
    const text = this.text;
    const hi: number[] = [];
    const lo: number[] = [];
    const names: string[] = [];
    const modules: (string | undefined)[] = [];
    for (let pos = 0; pos < text.length;) {
      let nl = text.indexOf('\n', pos);
      if (nl < 0) nl = text.length;
      const line = text.slice(pos, nl);
      pos = nl + 1;
      const sp = line.indexOf(' ');
      if (sp <= 0 || sp > 16 || sp + 3 >= line.length) continue;
      const split = Math.max(0, sp - 8);
      const h = split > 0 ? parseInt(line.slice(0, split), 16) : 0;
      const l = parseInt(line.slice(split, sp), 16);
      if (Number.isNaN(h) || Number.isNaN(l) || (h === 0 && l === 0)) continue; // zeros: kptr_restrict hid them
      const tab = line.indexOf('\t', sp + 3);
      hi.push(h);
      lo.push(l);
      names.push((tab < 0 ? line.slice(sp + 3) : line.slice(sp + 3, tab)).trimEnd());
      const open = tab < 0 ? -1 : line.indexOf('[', tab);
      modules.push(open < 0 ? undefined : line.slice(open + 1, line.indexOf(']', open) >>> 0));
    }
    // /proc/kallsyms is sorted but for modules; a stable sort keeps the first alias first
    const order = hi.map((_, i) => i);
    let sorted = true;
    for (let i = 1; i < hi.length && sorted; i++) sorted = hi[i - 1]! < hi[i]! || (hi[i - 1] === hi[i] && lo[i - 1]! <= lo[i]!);
    if (!sorted) order.sort((a, b) => hi[a]! - hi[b]! || lo[a]! - lo[b]! || a - b);
    this.hi = Float64Array.from(order, (i) => hi[i]!);
    this.lo = Float64Array.from(order, (i) => lo[i]!);
    this.names = order.map((i) => names[i]!);
    this.modules = order.map((i) => modules[i]);
  }

  /** The symbol containing `addr`, or undefined when the file has none below it. */
  lookup(addr: bigint): SymbolHit | undefined {
    const hit = this.cache.get(addr);
    if (hit !== undefined) return hit ?? undefined;
    if (!this.parsed) this.parse();
    const ah = Number(addr >> 32n);
    const al = Number(addr & 0xffffffffn);
    const { hi, lo } = this;
    const le = (i: number): boolean => hi[i]! < ah || (hi[i] === ah && lo[i]! <= al);
    let a = 0;
    let b = hi.length - 1;
    let found = -1;
    while (a <= b) {
      const mid = (a + b) >> 1;
      if (le(mid)) {
        found = mid;
        a = mid + 1;
      } else b = mid - 1;
    }
    if (found < 0) {
      this.cache.set(addr, null);
      return undefined;
    }
    const same = (i: number, j: number): boolean => hi[i] === hi[j] && lo[i] === lo[j];
    while (found > 0 && same(found - 1, found)) found--; // first alias
    let next = found + 1;
    while (next < hi.length && same(next, found)) next++;
    const at = (i: number): bigint => (BigInt(hi[i]!) << 32n) | BigInt(lo[i]!);
    const size = next < hi.length ? Number(at(next) - at(found)) : 0;
    const result: SymbolHit = { name: this.names[found]!, offset: Number(addr - at(found)), size };
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
