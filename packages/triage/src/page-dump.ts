/**
 * `dump_page()` output, 2.6 to 6.x (mm/debug.c, mm/page_alloc.c bad_page):
 *
 *   page:c1171e00 flags:0x80000000 mapping:00000000 mapcount:1 count:0         2.6.1x bad_page
 *   flags:0x20000084 mapping:00000000 mapcount:1 count:0                       2.6.0x bad_page
 *   page->flags = 4000082c / page->count = 1 / page->mapping = ...             2.6 page_remove_rmap "Eeek!"
 *   page:ffffea000c274880 count:0 mapcount:0 mapping:ffff88.. index:0x0        3.x–4.x (+ "page flags:" / "flags:")
 *   page:ffffea0001e28000 refcount:2 mapcount:1 mapping:ffff.. index:0x0 pfn:0x..   4.16–6.5
 *   head:ffffea.. order:2 compound_mapcount:0 compound_pincount:0               5.x–6.0 compound head
 *   page: refcount:0 mapcount:0 mapping:0000000000000000 index:0x2e pfn:0x7deea  6.6+ (no pointer)
 *   head: order:2 mapcount:0 entire_mapcount:0 nr_pages_mapped:0 pincount:0    6.6+ large folio
 *   memcg:ffff.. / aops:ext4_da_aops ino:c dentry name:"file" / flags: 0x..(uptodate|lru|node=0|zone=1)
 *   page_type: 0xffffffff() / raw: ... / page dumped because: VM_BUG_ON_FOLIO(folio_mapped(folio))
 */

export interface PageFlags {
  /** As printed (`0xfff0000000400c`). */
  raw: string;
  /** Flag names the kernel printed (`referenced`, `uptodate`, ...); null when it printed hex only (2.6). */
  names: string[] | null;
  /** `node=0`, `zone=1`, `lastcpupid=0x7ff` and the like. */
  fields: Record<string, string>;
}

export interface PageDump {
  /** 1-based input line where the dump starts. */
  line: number;
  /** Which layout was read (see the file header). */
  layout: string;
  /** `struct page *` as printed (hashed since 4.15), null when not printed. */
  address: string | null;
  refcount: number | null;
  mapcount: number | null;
  /** `struct address_space *` as printed; null for NULL / `(null)`. */
  mapping: string | null;
  /** Page index in its file, as printed (`0x2e`). */
  index: string | null;
  /** Page frame number (`0x7deea`). */
  pfn: string | null;
  /** A compound page or large folio: its order and head-page counts. */
  head: { order: number | null; address?: string; fields: Record<string, string> } | null;
  flags: PageFlags | null;
  pageType: string | null;
  /** `aops:` line: the file's address_space operations, inode, dentry name. */
  aops: string | null;
  ino: string | null;
  dentry: string | null;
  memcg: string | null;
  /** `page dumped because:` */
  reason: string | null;
}

const NULLISH = /^(?:\(null\)|0+)$/;
const TOKEN = /([a-z_]+):\s*(\(null\)|"[^"]*"|[^\s]+)/g;

function num(v: string | undefined): number | null {
  if (v === undefined) return null;
  const n = /^-?\d+$/.test(v) ? Number(v) : /^0x[0-9a-f]+$/i.test(v) ? Number.parseInt(v, 16) : NaN;
  return Number.isSafeInteger(n) ? n : null;
}

function tokens(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  TOKEN.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = TOKEN.exec(text)) !== null) out[m[1]!] = m[2]!;
  return out;
}

function parseFlags(raw: string, list: string | undefined): PageFlags {
  if (list === undefined) return { raw, names: null, fields: {} };
  const names: string[] = [];
  const fields: Record<string, string> = {};
  for (const part of list
    .split('|')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq > 0) fields[part.slice(0, eq)] = part.slice(eq + 1);
    else names.push(part);
  }
  return { raw, names, fields };
}

/** Does this line start a page dump? */
export function startsPageDump(text: string): boolean {
  const t = text.trim();
  return (
    /^page:\s*(?:[0-9a-f]+\s+)?(?:ref)?count:/.test(t) ||
    /^page:\s*[0-9a-f]+\s+flags:/.test(t) ||
    /^page:\s*[0-9a-f]+\s+refcount:/.test(t) ||
    /^flags:0x[0-9a-f]+ mapping:/.test(t) ||
    /^Eeek! page_mapcount\(page\) went negative!/.test(t)
  );
}

/**
 * Reads one dump line by line. `feed` returns false at the first line that is not part of
 * the dump (the caller then handles that line itself).
 */
export class PageDumpReader {
  private readonly d: PageDump;
  private done = false;
  /** Consecutive lines that were not the dump's (another task's line printed in the middle). */
  private misses = 0;

  constructor(line: number) {
    this.d = {
      line,
      layout: 'unknown',
      address: null,
      refcount: null,
      mapcount: null,
      mapping: null,
      index: null,
      pfn: null,
      head: null,
      flags: null,
      pageType: null,
      aops: null,
      ino: null,
      dentry: null,
      memcg: null,
      reason: null,
    };
  }

  get dump(): PageDump {
    return this.d;
  }

  /** Whether the reader still expects dump lines (it gives up after two foreign lines in a row). */
  get active(): boolean {
    return !this.done;
  }

  feed(text: string): boolean {
    if (this.done) return false;
    const ok = this.line(text.trim());
    if (ok) this.misses = 0;
    else if (this.d.layout === 'unknown' || ++this.misses >= 2) this.done = true;
    return ok;
  }

  private line(t: string): boolean {
    const d = this.d;
    let m: RegExpExecArray | null;
    if ((m = /^page:\s*([0-9a-f]+)?\s*(.*)$/.exec(t)) && d.layout === 'unknown') {
      const tk = tokens(m[2]!);
      d.address = m[1] ?? null;
      d.refcount = num(tk['refcount'] ?? tk['count']);
      d.mapcount = num(tk['mapcount']);
      if (tk['mapping'] !== undefined) d.mapping = NULLISH.test(tk['mapping']) ? null : tk['mapping'];
      d.index = tk['index'] ?? null;
      d.pfn = tk['pfn'] ?? null;
      if (tk['flags'] !== undefined) d.flags = parseFlags(tk['flags'], undefined);
      if (tk['compound_mapcount'] !== undefined) d.head = { order: null, fields: { compound_mapcount: tk['compound_mapcount'] } };
      d.layout =
        tk['flags'] !== undefined
          ? 'bad_page 2.6 (page:ptr flags: mapping: mapcount: count:)'
          : tk['refcount'] !== undefined
            ? d.address
              ? 'dump_page 4.16–6.5 (page:ptr refcount:)'
              : 'dump_page 6.6+ (page: refcount:, no pointer)'
            : 'dump_page 3.x–4.15 (page:ptr count:)';
      return true;
    }
    if (d.layout === 'unknown' && (m = /^flags:(0x[0-9a-f]+) (mapping:.*)$/.exec(t))) {
      const tk = tokens(m[2]!);
      d.flags = parseFlags(m[1]!, undefined);
      d.mapping = tk['mapping'] !== undefined && !NULLISH.test(tk['mapping']) ? tk['mapping'] : null;
      d.mapcount = num(tk['mapcount']);
      d.refcount = num(tk['count']);
      d.layout = 'bad_page 2.6.0x (flags: mapping: mapcount: count:)';
      return true;
    }
    if (d.layout === 'unknown' && /^Eeek! page_mapcount\(page\) went negative!/.test(t)) {
      const c = /\((-?\d+)\)/.exec(t);
      d.mapcount = c ? num(c[1]) : null;
      d.layout = 'page_remove_rmap 2.6 (Eeek! page->flags/count/mapping)';
      d.reason = 'page_mapcount went negative';
      return true;
    }
    if (d.layout === 'unknown') return false;
    if ((m = /^page->(flags|count|mapping|index)\s*=\s*(\S+)/.exec(t))) {
      if (m[1] === 'flags') d.flags = parseFlags(`0x${m[2]!.replace(/^0x/, '')}`, undefined);
      if (m[1] === 'count') d.refcount = num(m[2]);
      if (m[1] === 'mapping') d.mapping = NULLISH.test(m[2]!) ? null : m[2]!;
      if (m[1] === 'index') d.index = m[2]!;
      return true;
    }
    if ((m = /^head:\s*([0-9a-f]{8,16})?\s*(order:.*)$/.exec(t))) {
      const tk = tokens(m[2]!);
      const { order, ...rest } = tk;
      d.head = { order: num(order), fields: rest };
      if (m[1]) d.head.address = m[1];
      return true;
    }
    if (/^(?:compound_mapcount|compound_pincount):\s*\S+/.test(t)) {
      d.head = { order: d.head?.order ?? null, fields: { ...(d.head?.fields ?? {}), ...tokens(t) } };
      return true;
    }
    if ((m = /^(?:page )?flags:\s*(0x[0-9a-f]+)\s*(?:\(([^)]*)\))?/.exec(t))) {
      d.flags = parseFlags(m[1]!, m[2]);
      return true;
    }
    if ((m = /^page_type:\s*(.*)$/.exec(t))) {
      d.pageType = m[1]!;
      return true;
    }
    if ((m = /^aops:\s*(\S+)(?:\s+ino:\s*(\S+))?(?:\s+dentry name(?:\([^)]*\))?:\s*"(.*)")?/.exec(t))) {
      d.aops = m[1]!;
      d.ino = m[2] ?? null;
      d.dentry = m[3] ?? null;
      return true;
    }
    if ((m = /^(?:memcg:|page->mem_cgroup:)\s*(\S+)/.exec(t))) {
      d.memcg = m[1]!;
      return true;
    }
    if ((m = /^page dumped because:\s*(.*)$/.exec(t))) {
      d.reason = m[1]!;
      return true;
    }
    if (
      /^(?:raw|head):\s+[0-9a-f]{8,16}\b/.test(t) ||
      /^(?:anon|shmem|swap|ksm|file)\b.*(?:mapping|aops)/.test(t) ||
      /^Trying to fix it up, but a reboot is needed/.test(t)
    ) {
      return true;
    }
    return false;
  }
}
