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

/** One kallsyms line as scanKallsyms reads it (offsets into the scanned buffer). */
export interface KallsymsLine {
  /** The address as two 32-bit halves. */
  hi: number;
  lo: number;
  /** The type letter's character code (`T` = 84). */
  type: number;
  nameStart: number;
  nameEnd: number;
  /** `[module]` after a TAB: the name's bounds inside the brackets, or -1. */
  modStart: number;
  modEnd: number;
}

function hexDigit(c: number): number {
  return c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
}

/**
 * Scan kallsyms text (`ffffffff81000000 T _stext`, `ffffffffc0000000 t foo\t[mod]`) line by
 * line over its bytes: `visit` gets each readable line, or undefined for a line it cannot
 * read; it returns false to stop. Byte by byte, no string per line (a kernel has 100 000
 * and more symbols).
 */
export function scanKallsyms(b: Uint8Array, visit: (line: KallsymsLine | undefined) => boolean | void): void {
  const line: KallsymsLine = { hi: 0, lo: 0, type: 0, nameStart: 0, nameEnd: 0, modStart: -1, modEnd: -1 };
  const n = b.length;
  const blank = (c: number): boolean => c === 32 || c === 9;
  for (let pos = 0; pos < n;) {
    let nl = b.indexOf(10, pos);
    if (nl < 0) nl = n;
    let i = pos;
    pos = nl + 1;
    let end = nl;
    if (end > i && b[end - 1] === 13) end--;
    while (i < end && blank(b[i]!)) i++;
    if (i === end) continue;
    const a = i;
    while (i < end && i - a < 16 && hexDigit(b[i]!) >= 0) i++;
    if (i === a || i >= end || !blank(b[i]!)) {
      if (visit(undefined) === false) return;
      continue;
    }
    const split = Math.max(a, i - 8);
    let hi = 0;
    let lo = 0;
    for (let k = a; k < split; k++) hi = hi * 16 + hexDigit(b[k]!);
    for (let k = split; k < i; k++) lo = lo * 16 + hexDigit(b[k]!);
    while (i < end && blank(b[i]!)) i++;
    const type = b[i]!;
    i++;
    if (i >= end || !blank(b[i]!)) {
      if (visit(undefined) === false) return;
      continue;
    }
    while (i < end && blank(b[i]!)) i++;
    const nameStart = i;
    while (i < end && !blank(b[i]!)) i++;
    if (i === nameStart) {
      if (visit(undefined) === false) return;
      continue;
    }
    line.hi = hi;
    line.lo = lo;
    line.type = type;
    line.nameStart = nameStart;
    line.nameEnd = i;
    line.modStart = -1;
    line.modEnd = -1;
    if (b[i] === 9) {
      // `\t[module]`: looked for within the line only
      let open = i + 1;
      while (open < end && b[open] !== 91) open++;
      let close = open + 1;
      while (close < end && b[close] !== 93) close++;
      if (open < end && close < end) {
        line.modStart = open + 1;
        line.modEnd = close;
      }
    }
    if (visit(line) === false) return;
  }
}

/** The symbol table's columns rearranged into `order` (addresses as typed arrays). */
export function inOrder(
  order: number[],
  hi: number[],
  lo: number[],
  names: string[],
): { hi: Float64Array<ArrayBuffer>; lo: Float64Array<ArrayBuffer>; names: string[] } {
  const n = order.length;
  const out = { hi: new Float64Array(n), lo: new Float64Array(n), names: new Array<string>(n) };
  for (let j = 0; j < n; j++) {
    const k = order[j]!;
    out.hi[j] = hi[k]!;
    out.lo[j] = lo[k]!;
    out.names[j] = names[k]!;
  }
  return out;
}

export class Kallsyms {
  /** Addresses as (high 32 bits, low 32 bits), sorted; names and modules beside them. */
  private hi = new Float64Array(0);
  private lo = new Float64Array(0);
  private names: string[] = [];
  private modules: (string | undefined)[] = [];
  private parsed = false;
  private cache = new Map<bigint, SymbolHit | null>();

  /** `data`: the file's kallsyms section as it is stored. */
  constructor(readonly data: Buffer) {}

  get empty(): boolean {
    return this.data.toString('latin1').trim().length === 0;
  }

  /** `ffffffff81000000 T _stext` / `ffffffffc0000000 t foo\t[mod]`, one per line. */
  private parse(): void {
    this.parsed = true;
    const d = this.data;
    const hi: number[] = [];
    const lo: number[] = [];
    const names: string[] = [];
    const modules: (string | undefined)[] = [];
    scanKallsyms(d, (l) => {
      if (!l || (l.hi === 0 && l.lo === 0)) return; // unreadable, or zeros: kptr_restrict hid them
      hi.push(l.hi);
      lo.push(l.lo);
      names.push(d.toString('utf8', l.nameStart, l.nameEnd));
      modules.push(l.modStart < 0 ? undefined : d.toString('utf8', l.modStart, l.modEnd));
    });
    // /proc/kallsyms is sorted but for modules; a stable sort keeps the first alias first
    let sorted = true;
    for (let i = 1; i < hi.length && sorted; i++) sorted = hi[i - 1]! < hi[i]! || (hi[i - 1] === hi[i] && lo[i - 1]! <= lo[i]!);
    const order = hi.map((_, i) => i);
    if (!sorted) order.sort((a, b) => hi[a]! - hi[b]! || lo[a]! - lo[b]! || a - b);
    ({ hi: this.hi, lo: this.lo, names: this.names } = inOrder(order, hi, lo, names));
    this.modules = order.map((k) => modules[k]);
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
