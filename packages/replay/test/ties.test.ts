/**
 * Timestamp ties against a naive oracle: small random traces whose CPUs print the same
 * times, replayed once with ties treated as concurrent, and once per order the timestamps
 * and each CPU's own order allow (every such order enumerated, re-stamped with distinct
 * times so the plain replay needs no search). A finding reported certain must arise in
 * every order; every finding reported must arise in some order; and the search must leave
 * the state exactly as it found it (selfCheck).
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import type { Finding } from '@kreplay/core';
import { parseTraceString } from '@kreplay/ftrace-parser';
import { interleavings, replay, replayFile, resolveReplayConfig, type ReplayOptions } from '@kreplay/replay';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const VM = 0xffffea0000000000n;
const page = (pfn: number) => `0x${(VM + BigInt(pfn) * 64n).toString(16)}`;
/** The property's traces stand for ones on a clock that orders CPUs (as --trace-clock mono says). */
const OPTS: ReplayOptions = { vmemmapBase: VM, source: 't.txt', traceClock: 'mono' };

/** One event of a CPU's lane (its task is `t<cpu>-<10+cpu>`). */
type Ev =
  | { k: 'add' | 'del'; pfn: number; idx: number }
  | { k: 'map'; pfn: number; idx: number; mapcount?: number }
  | { k: 'set'; pfn: number; addr: number }
  | { k: 'unmap'; pfn: number; mapcount?: number }
  | { k: 'inval'; start: number; end: number }
  | { k: 'ret' };

function body(e: Ev): string {
  switch (e.k) {
    case 'add':
      return `mm_filemap_add_to_page_cache: dev 8:16 ino 2a pfn=0x${e.pfn.toString(16)} ofs=${e.idx * 4096} order=0`;
    case 'del':
      return `mm_filemap_delete_from_page_cache: dev 8:16 ino 2a pfn=0x${e.pfn.toString(16)} ofs=${e.idx * 4096} order=0`;
    case 'map':
      return `p_page_add_file_rmap_0: (page_add_file_rmap+0x0/0x150) arg1=${page(e.pfn)} index=${e.idx} ino=42 dev=8388624${e.mapcount === undefined ? '' : ` mapcount=${e.mapcount}`}`;
    case 'set':
      return `p_do_set_pte_0: (do_set_pte+0x0/0x1a0) arg1=0xffffc900 arg2=${page(e.pfn)} arg3=0x7f000000${e.addr}000`;
    case 'unmap':
      return `p_page_remove_rmap_0: (page_remove_rmap+0x0/0x1c0) arg1=${page(e.pfn)}${e.mapcount === undefined ? '' : ` mapcount=${e.mapcount}`}`;
    case 'inval':
      return `p_invalidate_inode_pages2_range_0: (invalidate_inode_pages2_range+0x0/0x2b0) arg1=0xffff8880 arg2=${e.start} arg3=${e.end} ino=42 dev=8388624`;
    case 'ret':
      return 'r_invalidate_inode_pages2_range_0: (kiocb_invalidate_post_direct_write+0x3a/0x70 <- invalidate_inode_pages2_range) arg1=0x0';
  }
}

interface Placed {
  cpu: number;
  ts: number;
  ev: Ev;
}

const usec = (n: number) => `1.${String(n).padStart(6, '0')}`;
function line(p: Placed, ts: number): string {
  return `${`t${p.cpu}-${10 + p.cpu}`.padStart(22)} [${String(p.cpu).padStart(3, '0')}] ..... ${usec(ts).padStart(12)}: ${body(p.ev)}`;
}
const text = (lines: string[]) => `# tracer: nop\n#\n${lines.join('\n')}\n`;

/** The trace as printed: merged by time, ties by CPU (as tracefs may print them). */
function printed(lanes: Placed[][]): string {
  const all = lanes.flat().map((p, i) => ({ p, i }));
  all.sort((a, b) => a.p.ts - b.p.ts || a.p.cpu - b.p.cpu || a.i - b.i);
  return text(all.map(({ p }) => line(p, p.ts)));
}

/**
 * Every order the timestamps and each CPU's own order allow: with clocks that may disagree by
 * `skew` (µs here), an event may run before another CPU's event printed up to `skew` earlier.
 */
function linearizations(lanes: Placed[][], skew = 0): Placed[][] {
  const out: Placed[][] = [];
  const pos = lanes.map(() => 0);
  const cur: Placed[] = [];
  const total = lanes.reduce((n, l) => n + l.length, 0);
  const walk = () => {
    if (cur.length === total) {
      out.push([...cur]);
      return;
    }
    let min = Infinity;
    lanes.forEach((l, i) => {
      if (pos[i]! < l.length) min = Math.min(min, l[pos[i]!]!.ts);
    });
    lanes.forEach((l, i) => {
      if (pos[i]! >= l.length || l[pos[i]!]!.ts > min + skew) return;
      cur.push(l[pos[i]!]!);
      pos[i]!++;
      walk();
      pos[i]!--;
      cur.pop();
    });
  };
  walk();
  return out;
}

/** rule, page-cache identity and pfn: what "the same finding" means across orders. */
const key = (f: Finding) => `${f.rule} ${f.file} ${f.index} ${/pfn (0x[0-9a-f]+)/.exec(f.message)?.[1]}`;

const EV: fc.Arbitrary<Ev> = fc.oneof(
  fc.record({ k: fc.constantFrom('add' as const, 'del' as const), pfn: fc.integer({ min: 1, max: 3 }), idx: fc.integer({ min: 0, max: 1 }) }),
  fc.record(
    {
      k: fc.constant('map' as const),
      pfn: fc.integer({ min: 1, max: 3 }),
      idx: fc.integer({ min: 0, max: 1 }),
      mapcount: fc.option(fc.integer({ min: -1, max: 1 }), { nil: undefined }),
    },
    { requiredKeys: ['k', 'pfn', 'idx'] },
  ),
  fc.record({ k: fc.constant('set' as const), pfn: fc.integer({ min: 1, max: 3 }), addr: fc.integer({ min: 1, max: 2 }) }),
  fc.record(
    { k: fc.constant('unmap' as const), pfn: fc.integer({ min: 1, max: 3 }), mapcount: fc.option(fc.integer({ min: -1, max: 1 }), { nil: undefined }) },
    { requiredKeys: ['k', 'pfn'] },
  ),
  fc.record({ k: fc.constant('inval' as const), start: fc.integer({ min: 0, max: 1 }), end: fc.integer({ min: 0, max: 1 }) }),
);

/** Two or three CPUs, a few events each with times from 1..3 µs (many ties); an invalidate's return follows it on its CPU. */
const TRACE = fc
  .array(fc.array(fc.tuple(EV, fc.integer({ min: 0, max: 1 })), { minLength: 1, maxLength: 4 }), { minLength: 2, maxLength: 3 })
  .map((cpus) =>
    cpus.map((evs, cpu) => {
      let ts = 1;
      const lane: Placed[] = [];
      for (const [ev, step] of evs) {
        ts += step;
        lane.push({ cpu, ts, ev });
        if (ev.k === 'inval') lane.push({ cpu, ts, ev: { k: 'ret' } });
      }
      return lane;
    }),
  )
  .filter((lanes) => linearizations(lanes).length <= 400);

/**
 * The oracle's judgement of one random trace: replayed as printed (ties, and with `skewUs` the
 * orders that clock skew leaves open, searched), and once per order the oracle enumerates. Every
 * finding reported must arise in some order; a certain one in every order; none is certain when
 * some order is clean. Returns how many orders there were.
 */
async function agreesWithOracle(lanes: Placed[][], skewUs = 0): Promise<number> {
  const config = await resolveReplayConfig(OPTS);
  const findingsOf = async (t: string, extra: ReplayOptions = {}) =>
    (await replay(parseTraceString(t, { source: 't.txt' }), { ...OPTS, ...extra }, config)).findings;
  const searched = await findingsOf(printed(lanes), { selfCheck: true, ...(skewUs ? { clockSkew: BigInt(skewUs * 1000) } : {}) });
  const orders = linearizations(lanes, skewUs);
  const perOrder: Set<string>[] = [];
  for (const order of orders) perOrder.push(new Set((await findingsOf(text(order.map((p, i) => line(p, i + 1))))).map(key)));
  for (const f of searched) {
    expect(perOrder.some((s) => s.has(key(f)))).toBe(true);
    if (f.certainty === 'certain') expect(perOrder.every((s) => s.has(key(f)))).toBe(true);
  }
  if (perOrder.some((s) => s.size === 0)) expect(searched.filter((f) => f.certainty === 'certain')).toEqual([]);
  return orders.length;
}

describe('timestamp ties: a finding is certain only if every order the timestamps allow raises it', () => {
  it('against the naive oracle: all orders enumerated on small random traces', async () => {
    await fc.assert(
      fc.asyncProperty(TRACE, async (lanes) => {
        await agreesWithOracle(lanes);
      }),
      { numRuns: 200 },
    );
  });

  it('against the naive oracle under --clock-skew: every order clocks that far apart allow', async () => {
    // lanes step 0 or 1 µs; a 1 µs skew lets an event run before another CPU's event printed 1 µs
    // earlier, which the plain tie search (one timestamp) takes as ordered
    let widened = 0;
    await fc.assert(
      fc.asyncProperty(
        TRACE.filter((lanes) => linearizations(lanes, 1).length <= 400),
        async (lanes) => {
          if ((await agreesWithOracle(lanes, 1)) > linearizations(lanes).length) widened++;
        },
      ),
      { numRuns: 150 },
    );
    // the property was asked of traces the skew gives more orders than their ties
    expect(widened).toBeGreaterThan(20);
  });

  it('cuts a run of close events longer than a group holds, and counts the cut as a gap', async () => {
    // 5000 events, each 1 µs after the last, alternating CPUs: under a 2 µs skew they never pause
    const lanes: Placed[][] = [[], []];
    for (let i = 0; i < 5000; i++) lanes[i % 2]!.push({ cpu: i % 2, ts: i + 1, ev: { k: 'add', pfn: i + 1, idx: i } });
    const r = await replay(parseTraceString(printed(lanes), { source: 't.txt' }), { ...OPTS, clockSkew: 2000n });
    expect(r.verdict.gaps).toBe(1);
    expect(r.stats.ties.groups).toBe(2);
    expect(r.stats.pages).toBe(5000);
  });

  it('the classic false race: a PTE mapped and zapped in the same microsecond as the removal on another CPU', async () => {
    // CPU 1 maps the page; CPU 0 unmaps it (invalidate) and removes it: one printed time.
    // Ordered by CPU this reads "unmap of an unmapped page, removal, then a map of a
    // removed page" — trace-inconsistent and orphan-page-mapped, both false.
    const lanes: Placed[][] = [
      [
        { cpu: 0, ts: 1, ev: { k: 'add', pfn: 1, idx: 0 } },
        { cpu: 0, ts: 5, ev: { k: 'unmap', pfn: 1 } },
        { cpu: 0, ts: 5, ev: { k: 'del', pfn: 1, idx: 0 } },
      ],
      [{ cpu: 1, ts: 5, ev: { k: 'map', pfn: 1, idx: 0 } }],
    ];
    const r = await replay(parseTraceString(printed(lanes), { source: 't.txt' }), { ...OPTS, selfCheck: true });
    expect(r.findings).toEqual([]);
    expect(r.stats.ties).toMatchObject({ groups: 1, searched: 1, cleanOrderChosen: 1 });
    // but the trace cannot show which order ran: those rules are not passed (it read "clean", every KTAP rule ok)
    expect(r.verdict.status).toBe('clean');
    // (stale-after-invalidate: the trace has no invalidate, nothing to judge)
    expect(r.verdict.unjudged?.map((u) => u.rule)).toEqual(['stale-after-invalidate', 'mapped-page-removed', 'orphan-page-mapped', 'trace-inconsistent']);
    const tie = r.verdict.unjudged!.find((u) => u.rule === 'mapped-page-removed')!;
    expect(tie.reason).toMatch(
      /^1 set of events on several CPUs with one timestamp \(the first at t\.txt:\d+\) raises mapped-page-removed in an order the timestamps allow, and nothing in the order replayed \(there: .+\)$/,
    );
    // which page, and what would have happened: the finding itself, not only its rule
    const found = tie.reason.replace(/^.*\(there: (.*)\)$/, '$1');
    expect(found).toMatch(/pfn 0x1/);
    expect(r.warnings.join('\n')).toContain(found);
  });

  it('a race that every order shows stays certain', async () => {
    // removed while mapped (map well before), and the removal ties with an unrelated event
    const lanes: Placed[][] = [
      [
        { cpu: 0, ts: 1, ev: { k: 'add', pfn: 1, idx: 0 } },
        { cpu: 0, ts: 2, ev: { k: 'map', pfn: 1, idx: 0 } },
      ],
      [
        { cpu: 1, ts: 5, ev: { k: 'del', pfn: 1, idx: 0 } },
        { cpu: 1, ts: 6, ev: { k: 'add', pfn: 2, idx: 1 } },
      ],
    ];
    lanes[0]!.push({ cpu: 0, ts: 5, ev: { k: 'add', pfn: 3, idx: 1 } });
    const r = await replay(parseTraceString(printed(lanes), { source: 't.txt' }), { ...OPTS, selfCheck: true });
    expect(r.findings.map((f) => [f.rule, f.certainty])).toEqual([
      ['mapped-page-removed', 'certain'],
      ['trace-inconsistent', 'certain'],
    ]);
  });

  it('bounds the search: a set with more orders than the bound is replayed as printed, its findings uncertain', () => {
    expect(interleavings([[1, 2], [3]], 10)).toEqual([
      [1, 2, 3],
      [1, 3, 2],
      [3, 1, 2],
    ]);
    expect(
      interleavings(
        [
          [1, 2, 3, 4, 5, 6, 7],
          [8, 9, 10, 11, 12, 13, 14],
        ],
        3000,
      ),
    ).toBeUndefined(); // 3432 orders
  });

  it('a set with more orders than the bound, clean as printed, judges none of the rules an order may raise', async () => {
    // CPU 0 maps and unmaps the page n times; CPU 1 removes it from the cache and adds it back n
    // times; all in one microsecond. As printed (CPU 0 first) nothing is wrong; a removal between
    // a map and its unmap is mapped-page-removed. n = 3 is 924 orders (searched), n = 4 is 12,870
    // (more than MAX_TIE_ORDERS): before, n = 4 read clean with every rule judged.
    const tied = (n: number) => {
      const lanes: Placed[][] = [[{ cpu: 0, ts: 1, ev: { k: 'add', pfn: 1, idx: 0 } }], []];
      for (let i = 0; i < n; i++) lanes[0]!.push({ cpu: 0, ts: 5, ev: { k: 'map', pfn: 1, idx: 0 } }, { cpu: 0, ts: 5, ev: { k: 'unmap', pfn: 1 } });
      for (let i = 0; i < n; i++) lanes[1]!.push({ cpu: 1, ts: 5, ev: { k: 'del', pfn: 1, idx: 0 } }, { cpu: 1, ts: 5, ev: { k: 'add', pfn: 1, idx: 0 } });
      lanes[0]!.push({ cpu: 0, ts: 9, ev: { k: 'del', pfn: 1, idx: 0 } });
      return replay(parseTraceString(printed(lanes), { source: 't.txt' }), OPTS);
    };
    const searched = await tied(3);
    expect(searched.stats.ties).toMatchObject({ searched: 1, unsearched: 0, cleanOrderChosen: 1 });
    const rules = (r: Awaited<ReturnType<typeof tied>>) => (r.verdict.unjudged ?? []).map((u) => u.rule).sort();
    expect(rules(searched)).toEqual(['mapped-page-removed', 'orphan-page-mapped', 'stale-after-invalidate', 'trace-inconsistent']);
    const big = await tied(4);
    expect(big.stats.ties).toMatchObject({ searched: 0, unsearched: 1 });
    expect(big.findings).toEqual([]);
    expect(big.verdict.status).toBe('clean');
    expect(rules(big)).toEqual(['mapped-page-removed', 'orphan-page-mapped', 'stale-after-invalidate', 'stale-data', 'trace-inconsistent']);
    const why = big.verdict.unjudged!.find((u) => u.rule === 'mapped-page-removed')!.reason;
    expect(why).toMatch(
      /^1 set of events on several CPUs with one timestamp \(the first at t\.txt:\d+\) has more than 4096 orders the timestamps allow, too many to try, and was replayed as printed$/,
    );
    expect(big.warnings.join('\n')).toContain(`${why}: replay cannot tell what the other orders raise`);
  });
});

describe('timestamp ties on real captures of a correct 6.1 kernel', () => {
  // The shipped base captures print µs; printed at 100 µs (every time rounded down to a
  // multiple of 100 µs, the file's own order kept) they hold hundreds of tied groups, as a
  // coarse clock would. Ordered by CPU, they read as races that a correct kernel never ran.
  const coarse = (file: string, q: number) =>
    gunzipSync(readFileSync(file))
      .toString('utf8')
      .replace(/ (\d+)\.(\d{6}): /g, (_, s: string, us: string) => ` ${s}.${String(Math.floor(Number(us) / q) * q).padStart(6, '0')}: `);

  it.each(['truncate-racer/run-2', 'odirect-race/run-1'])('base/%s at a 100 µs clock has no certain finding', async (run) => {
    const dir = path.join(root, 'traces/pair-filemap-recheck/base', run);
    if (!existsSync(dir)) return;
    const meta = JSON.parse(readFileSync(path.join(dir, 'meta.json'), 'utf8'));
    const r = await replay(parseTraceString(coarse(path.join(dir, 'trace.txt.gz'), 100), { source: 'coarse.txt' }), { source: 'coarse.txt', meta });
    expect(r.stats.ties.groups).toBeGreaterThan(20);
    expect(r.findings.filter((f) => f.certainty === 'certain')).toEqual([]);
    // and at the printed µs it is clean
    expect((await replayFile(path.join(dir, 'trace.txt.gz'))).findings).toEqual([]);
  });
});
