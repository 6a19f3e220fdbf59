/**
 * Lost events against a naive oracle: small random traces on three CPUs, some of whose events
 * print one timestamp, with one `CPU:N [LOST 1 EVENTS]` mark, printed as the kernel prints it
 * (right before CPU N's next event: kernel/trace/trace.c print_trace_line). The lost event ran
 * on CPU N after its previous event and before that next one (in the same microsecond as either:
 * other CPUs' events there tie with it); the oracle replays the trace once per event it may have been
 * (a page added, removed, mapped or unmapped, on either page) at each time in that window, mark
 * left out. A finding reported certain must arise in every such trace that does not contradict
 * itself more than the trace without the lost event does.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { Finding } from '@kreplay/core';
import { parseTraceString } from '@kreplay/ftrace-parser';
import { replay, resolveReplayConfig, type ReplayOptions } from '@kreplay/replay';

const VM = 0xffffea0000000000n;
const page = (pfn: number) => `0x${(VM + BigInt(pfn) * 64n).toString(16)}`;
/** The property's traces stand for ones on a clock that orders CPUs (as --trace-clock mono says). */
const OPTS: ReplayOptions = { vmemmapBase: VM, source: 't.txt', traceClock: 'mono' };

type Kind = 'add' | 'del' | 'map' | 'unmap';
interface Ev {
  cpu: number;
  k: Kind;
  pfn: number;
}
/** Page pfn's index in the one file (ino 0x2a). */
const idx = (pfn: number) => pfn - 0x10;

function body(e: Ev): string {
  switch (e.k) {
    case 'add':
      return `mm_filemap_add_to_page_cache: dev 8:16 ino 2a pfn=0x${e.pfn.toString(16)} ofs=${idx(e.pfn) * 4096} order=0`;
    case 'del':
      return `mm_filemap_delete_from_page_cache: dev 8:16 ino 2a pfn=0x${e.pfn.toString(16)} ofs=${idx(e.pfn) * 4096} order=0`;
    case 'map':
      return `p_page_add_file_rmap_0: (page_add_file_rmap+0x0/0x150) arg1=${page(e.pfn)} index=${idx(e.pfn)} ino=42 dev=8388624`;
    case 'unmap':
      return `p_page_remove_rmap_0: (page_remove_rmap+0x0/0x1c0) arg1=${page(e.pfn)}`;
  }
}

/** `ts` in µs. */
const line = (e: Ev, ts: number) =>
  `${`t${e.cpu}-${10 + e.cpu}`.padStart(22)} [${String(e.cpu).padStart(3, '0')}] ..... ${`1.${String(ts).padStart(6, '0')}`.padStart(12)}: ${body(e)}`;
const text = (lines: string[]) => ['# tracer: nop', '#', ...lines].join('\n') + '\n';

/** Rule, page and the event that broke it (its time and CPU: the visible events keep theirs in every variant). */
const key = (f: Finding) => `${f.rule} ${f.index} ${f.ts} ${f.cpu}`;

const EV: fc.Arbitrary<Ev> = fc.record({
  cpu: fc.integer({ min: 0, max: 2 }),
  k: fc.constantFrom<Kind>('add', 'del', 'map', 'unmap'),
  pfn: fc.integer({ min: 0x10, max: 0x11 }),
});

/**
 * Events at even µs, each at the time of the one before or 2 µs later (`tied`: ties across and
 * within CPUs); the gap precedes the `nth` event of CPU `cpu` (taken modulo its count).
 */
const TRACE = fc.array(EV, { minLength: 3, maxLength: 8 }).chain((events) =>
  fc.record({
    events: fc.constant(events),
    tied: fc.array(fc.boolean(), { minLength: events.length, maxLength: events.length }),
    cpu: fc.integer({ min: 0, max: 2 }),
    nth: fc.nat(7),
  }),
);

/** Replay as the property does (under `clockSkew`, when given): the findings of a trace's text. */
async function oracle(clockSkew: bigint | undefined): Promise<(t: string) => Promise<Finding[]>> {
  const config = await resolveReplayConfig(OPTS);
  const opts: ReplayOptions = clockSkew === undefined ? OPTS : { ...OPTS, clockSkew };
  return async (t) => (await replay(parseTraceString(t, { source: 't.txt' }), opts, config)).findings;
}

/** A TRACE case's event times, µs. */
function timesOf(events: readonly Ev[], tied: readonly boolean[]): number[] {
  const times: number[] = [];
  for (let i = 0; i < events.length; i++) times.push(i > 0 && tied[i] ? times[i - 1]! : 2 * (i + 1));
  return times;
}

/**
 * Every certain finding of `gapped` arises in each variant (the trace with one hidden event put
 * back) that does not contradict itself more than `lines` without it do. Returns how many
 * variants were judged.
 */
async function judgeVariants(findingsOf: (t: string) => Promise<Finding[]>, gapped: string, lines: string[], variants: Array<() => string[]>): Promise<number> {
  const certain = (await findingsOf(gapped)).filter((f) => f.certainty === 'certain');
  if (certain.length === 0) return 0;
  // the trace without the lost event contradicts itself this much; a variant that contradicts it more is not one a kernel wrote
  const plain = new Set((await findingsOf(text(lines))).filter((f) => f.rule === 'trace-inconsistent').map(key));
  let judged = 0;
  for (const variant of variants) {
    const found = await findingsOf(text(variant()));
    if (found.some((f) => f.rule === 'trace-inconsistent' && !plain.has(key(f)))) continue;
    const keys = new Set(found.map(key));
    judged++;
    for (const f of certain) expect([f.explanation, keys.has(key(f))]).toEqual([f.explanation, true]);
  }
  return judged;
}

const KINDS = ['add', 'del', 'map', 'unmap'] as const;

describe('lost events: a finding is certain only if every event the gap may hide leaves it', () => {
  it.each([
    ['', undefined],
    [" under --clock-skew 2 µs (other CPUs' events that close are tried in either order, in the variants too)", 2000n],
  ])('against the naive oracle: each event the gap may hide, at each time it may have run%s', async (_, clockSkew) => {
    const findingsOf = await oracle(clockSkew);
    let judged = 0;
    await fc.assert(
      fc.asyncProperty(TRACE, async ({ events, tied, cpu, nth }) => {
        const mine = events.map((e, i) => ({ e, i })).filter(({ e }) => e.cpu === cpu);
        if (mine.length === 0) return;
        const next = mine[nth % mine.length]!.i;
        const prev = mine[(nth % mine.length) - 1]?.i;
        const times = timesOf(events, tied);
        const ts = (i: number) => times[i]!;
        const lines = events.map((e, i) => line(e, ts(i)));
        // when it may have run: right after CPU `cpu`'s previous event, at each time between, right
        // before its next event (in the same microsecond as either: other CPUs' events there tie with it)
        const when: Array<[t: number, at: number]> = [];
        if (prev !== undefined) when.push([ts(prev), prev + 1]);
        for (let t = (prev === undefined ? 0 : ts(prev)) + 1; t < ts(next); t += 2) when.push([t, events.findIndex((_, i) => ts(i) > t)]);
        when.push([ts(next), next]);
        const variants = when.flatMap(([t, at]) =>
          KINDS.flatMap((k) => [0x10, 0x11].map((pfn) => () => [...lines.slice(0, at), line({ cpu, k, pfn }, t), ...lines.slice(at)])),
        );
        judged += await judgeVariants(findingsOf, text([...lines.slice(0, next), `CPU:${cpu} [LOST 1 EVENTS]`, ...lines.slice(next)]), lines, variants);
      }),
      { numRuns: 300, seed: 25 },
    );
    // the property was asked of traces with certain findings and plausible lost events
    expect(judged).toBeGreaterThan(100);
  });

  it.each([
    ['', undefined],
    [' under --clock-skew 2 µs', 2000n],
  ])("a line no reader understood: its event may have run on any CPU, up to the next line's time (tied with it)%s", async (_, clockSkew) => {
    // A gap on no CPU ended at the next event on any CPU, even one in the same microsecond as
    // another CPU's event after it: that event was taken to follow the lost one.
    const findingsOf = await oracle(clockSkew);
    let judged = 0;
    await fc.assert(
      fc.asyncProperty(TRACE, async ({ events, tied, nth }) => {
        const at = nth % events.length;
        const times = timesOf(events, tied);
        const lines = events.map((e, i) => line(e, times[i]!));
        // the lines are in time order: the unreadable one ran between its neighbours' times, on any CPU
        const variants: Array<() => string[]> = [];
        for (let t = at > 0 ? times[at - 1]! : 1; t <= times[at]!; t++)
          for (const cpu of [0, 1, 2])
            for (const k of KINDS) for (const pfn of [0x10, 0x11]) variants.push(() => [...lines.slice(0, at), line({ cpu, k, pfn }, t), ...lines.slice(at)]);
        judged += await judgeVariants(findingsOf, text([...lines.slice(0, at), 'this line is not a trace line', ...lines.slice(at)]), lines, variants);
      }),
      { numRuns: 150, seed: 25 },
    );
    expect(judged).toBeGreaterThan(100);
  });
});
