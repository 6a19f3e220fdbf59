import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from './run-cli.js';
import { itWithTools, TOOLS } from '../../../test-support/tools.js';

/** Debian's `chromium` package (installed by .ci/run); KREPLAY_CHROMIUM names another binary. */
const CHROMIUM = process.env.KREPLAY_CHROMIUM ?? 'chromium';

async function chromium(dir: string, args: string[]): Promise<string> {
  const r = await execa(
    CHROMIUM,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      `--user-data-dir=${path.join(dir, 'chromium-profile')}`,
      ...args,
    ],
    { reject: false, timeout: 90_000 },
  );
  if (r.failed && (r as { code?: string }).code === 'ENOENT') {
    throw new Error(`${CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium) or set KREPLAY_CHROMIUM`);
  }
  if (r.exitCode !== 0) throw new Error(`${CHROMIUM} exited ${r.exitCode}: ${String(r.stderr).slice(-2000)}`);
  return String(r.stdout);
}

/**
 * What the page shows once laid out, measured inside Chromium: the rendered text (innerText
 * skips what CSS hides), the page height, each race card, per timeline the lane and task
 * labels that have a size on screen and the colour each task is drawn in, the colour of each
 * task's swatch in the card titles, and where each character of a task label lands on screen
 * (to see that a right-to-left comm does not reorder the pid after it). Injected into a copy
 * of the report (the report itself carries no script).
 */
const PROBE = `<script>
const box = (el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
const svgChars = (t) => [...t.textContent].map((c, i) => { try { return { c, x: t.getStartPositionOfChar(i).x }; } catch { return { c, x: null }; } });
const htmlChars = (el) => {
  const out = []; const walk = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) for (let i = 0; i < n.data.length; i++) {
    const r = document.createRange(); r.setStart(n, i); r.setEnd(n, i + 1); const b = r.getBoundingClientRect(); out.push({ c: n.data[i], x: b.width ? b.left : null });
  }
  return out;
};
const out = {
  text: document.body.innerText,
  height: document.documentElement.scrollHeight,
  mail: document.querySelector('pre.mail')?.innerText ?? null,
  findings: [...document.querySelectorAll('article.finding h3')].filter(box).map((h) => h.innerText),
  swatches: [...document.querySelectorAll('article.finding p.tasks')].map((p) => [...p.querySelectorAll('span.swatch')].map((s) => ({ colour: getComputedStyle(s).backgroundColor, task: s.nextSibling.textContent })).concat([{ chars: htmlChars(p) }])),
  timelines: [...document.querySelectorAll('svg.timeline')].map((svg) => ({
    visible: box(svg),
    lanes: [...svg.querySelectorAll('text.lane')].filter(box).map((t) => t.textContent),
    tasks: [...svg.querySelectorAll('text.task')].filter(box).map((t) => t.textContent),
    legend: [...svg.querySelectorAll('g.legend')].map((g) => ({ fill: g.querySelector('rect').getAttribute('fill'), label: g.querySelector('text').textContent, chars: svgChars(g.querySelector('text')) })),
    citedFills: [...svg.querySelectorAll('g.cited circle')].filter(box).map((c) => c.getAttribute('fill')),
  })),
};
const pre = document.createElement('pre'); pre.id = 'kreplay-probe'; pre.textContent = JSON.stringify(out); document.body.appendChild(pre);
</script>`;

interface Seen {
  text: string;
  height: number;
  mail: string | null;
  findings: string[];
  swatches: Array<Array<{ colour?: string; task?: string; chars?: Array<{ c: string; x: number | null }> }>>;
  timelines: Array<{
    visible: boolean;
    lanes: string[];
    tasks: string[];
    citedFills: string[];
    legend: Array<{ fill: string; label: string; chars: Array<{ c: string; x: number | null }> }>;
  }>;
}

function probeOf(dom: string): Seen {
  const m = /<pre id="kreplay-probe">([\s\S]*?)<\/pre>/.exec(dom);
  if (!m) throw new Error(`the probe did not run; DOM starts: ${dom.slice(0, 500)}`);
  return JSON.parse(
    m[1]!
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&amp;/g, '&'),
  );
}

/** Render `html` (with the probe) in headless Chromium and return what it measured. */
async function render(dir: string, name: string, html: string): Promise<Seen> {
  const probePage = path.join(dir, `${name}.probe.html`);
  writeFileSync(probePage, html.replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/, '').replace('</body>', `${PROBE}\n</body>`));
  return probeOf(await chromium(dir, ['--window-size=1100,2400', '--dump-dom', `file://${probePage}`]));
}

describe('kreplay report', () => {
  let dir: string;
  let html: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'kreplay-report-'));
    const r = await runCli([
      'report',
      '--base',
      'fixtures/diff/clean-1',
      '--patched',
      'fixtures/diff/race',
      '--html',
      path.join(dir, 'r.html'),
      '--perfetto',
      path.join(dir, 'p.json'),
    ]);
    expect(r.exitCode).toBe(0);
    html = readFileSync(path.join(dir, 'r.html'), 'utf8');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is one self-contained file: no scripts, no external styles, fonts, images or links', () => {
    expect(html).not.toMatch(/<script|<link|@import|url\(|src=|href="(?!#)/i);
    expect(html).toContain('Content-Security-Policy" content="default-src \'none\'');
  });

  itWithTools([TOOLS.chromium], 'renders in headless Chromium with the race listed once and the racing tasks on the timeline', async () => {
    const seen = await render(dir, 'r', html);
    expect(seen.text).toContain('REGRESSION: 2 new (2 of them on too few runs to tell from chance), 0 fixed, 0 unchanged');
    // One race broke two rules on one page: one card naming both.
    expect(seen.findings).toEqual([expect.stringMatching(/new\s*error\s*mapped-page-removed, stale-after-invalidate on 8:0\/c index 0$/)]);
    expect(seen.text).toContain('fixtures/diff/race/trace.txt:18');
    expect(seen.timelines).toHaveLength(1);
    for (const t of seen.timelines) {
      expect(t.visible).toBe(true);
      expect(t.lanes).toEqual(['CPU 0', 'CPU 1']);
      expect(t.tasks).toEqual(expect.arrayContaining(['kr_fault-302 (racing)', 'kr_dio-301 (racing)']));
      // Every cited event is drawn in its racing task's colour, not the grey of bystanders.
      expect(t.citedFills.length).toBeGreaterThanOrEqual(4);
      expect(t.citedFills).not.toContain('#a0a0a0');
    }
    await chromium(dir, ['--window-size=1100,2400', `--screenshot=${path.join(dir, 'report.png')}`, `file://${path.join(dir, 'r.html')}`]);
    expect(statSync(path.join(dir, 'report.png')).size).toBeGreaterThan(20_000);
  });

  it('writes the replayed trace as Chrome trace JSON: tasks, spans, page-cache instants, findings', () => {
    const p = JSON.parse(readFileSync(path.join(dir, 'p-patched-1.json'), 'utf8'));
    const ev = p.traceEvents as Array<Record<string, unknown>>;
    expect(
      ev
        .filter((e) => e.name === 'thread_name')
        .map((e) => (e.args as { name: string }).name)
        .sort(),
    ).toEqual(['kr_dio-301', 'kr_fault-302']);
    expect(ev.filter((e) => e.ph === 'B').map((e) => e.name)).toEqual(['fault', 'invalidate_inode_pages2_range']);
    expect(ev.filter((e) => e.ph === 'E')).toHaveLength(2);
    expect(ev.filter((e) => e.ph === 'i' && e.s === 't').map((e) => e.name)).toEqual(['cache_add', 'pte_map', 'cache_delete']);
    expect(ev.filter((e) => e.s === 'g').map((e) => e.name)).toEqual(['error: mapped-page-removed', 'error: stale-after-invalidate']);
    expect(ev.find((e) => e.name === 'cache_add')!.ts).toBe(100000100);
    // The base side gets its own file.
    expect(JSON.parse(readFileSync(path.join(dir, 'p-base-1.json'), 'utf8')).traceEvents.some((e: { s?: string }) => e.s === 'g')).toBe(false);
  });

  it('is byte-identical when run twice on the same input', async () => {
    const again = path.join(dir, 'again.html');
    await runCli(['report', '--base', 'fixtures/diff/clean-1', '--patched', 'fixtures/diff/race', '--html', again]);
    expect(readFileSync(again, 'utf8')).toBe(html);
  });

  it('prints a summary to paste into a mail (--format text, the default without --html), and JSON with --json', async () => {
    const t = await runCli(['report', '--base', 'fixtures/diff/clean-1', '--patched', 'fixtures/diff/race']);
    expect(t.exitCode).toBe(0);
    const lines = t.stdout.split('\n');
    expect(lines.slice(0, 13)).toEqual([
      'kreplay: REGRESSION: 2 new (2 of them on too few runs to tell from chance), 0 fixed, 0 unchanged; races: 1 new (seen 2 times; 1 of them on too few runs to tell from chance), 0 fixed, 0 unchanged',
      '  base:    fixtures/diff/clean-1 (1 run, 8 events, 0 gaps)',
      '  patched: fixtures/diff/race (1 run, 7 events, 0 gaps)',
      '  why: new error mapped-page-removed, stale-after-invalidate (kr_fault in filemap_fault vs kr_dio in invalidate_inode_pages2_range) on 8:0/c index 0',
      '',
      'New in patched:',
      '  1. mapped-page-removed, stale-after-invalidate [error, certain]',
      '     mapped-page-removed: A page left the page cache while a PTE still mapped it',
      '     stale-after-invalidate: An invalidate returned success while a stale page stayed mapped',
      '     tasks:  kr_fault in filemap_fault vs kr_dio in invalidate_inode_pages2_range',
      '     pages:  8:0/c index 0',
      '     seen:   2 times: base 0 (in 0 runs), patched 2 (in 1 run)',
      "     new:    seen in 1 of 1 patched run, not in the 1 base run that could show it: the base may have it too, unseen (p = 0.50, Fisher's exact test on runs; p < 0.01 needs more runs a side), so not shown to be the patch's",
    ]);
    expect(lines.slice(13)).toEqual([
      expect.stringMatching(/^ {5}first: {2}pfn 0x1234 \(ino 0xc on 8:0, index 0\) removed from the page cache while mapped/),
      expect.stringMatching(/^ {7}fixtures\/diff\/race\/trace\.txt:14 {2}kr_fault-302 \[001\] /),
      expect.stringMatching(/^ {7}fixtures\/diff\/race\/trace\.txt:15 {2}kr_fault-302 \[001\] /),
      expect.stringMatching(/^ {7}fixtures\/diff\/race\/trace\.txt:17 {2}kr_dio-301 \[000\] /),
      expect.stringMatching(/^ {7}fixtures\/diff\/race\/trace\.txt:18 {2}kr_dio-301 \[000\] /),
      '',
      'Fixed by patched: none',
      '',
      'In both: none',
      '',
    ]);
    // The HTML shows the same text at the top.
    expect(html).toContain(
      '<pre class="mail">kreplay: REGRESSION: 2 new (2 of them on too few runs to tell from chance), 0 fixed, 0 unchanged; races: 1 new (seen 2 times;',
    );
    const j = await runCli(['report', '--base', 'fixtures/diff/clean-1', '--patched', 'fixtures/diff/race', '--json']);
    const parsed = JSON.parse(j.stdout);
    expect(parsed.diff).toMatchObject({ regression: true, new: 2 });
    expect(parsed.races).toEqual([
      expect.objectContaining({
        state: 'new',
        rules: ['mapped-page-removed', 'stale-after-invalidate'],
        certainty: 'certain',
        occurrences: 2,
        tasks: [
          { comm: 'kr_fault', fn: 'filemap_fault' },
          { comm: 'kr_dio', fn: 'invalidate_inode_pages2_range' },
        ],
      }),
    ]);
  });

  it('says on its summary line (stderr, what a CI log shows) that runs which saw nothing or have holes are not a clean run', async () => {
    // a copy of fixtures/replay/clean-odirect with a lost-events record: no finding, 1 gap
    const holes = path.join(dir, 'holes');
    mkdirSync(holes, { recursive: true });
    copyFileSync('fixtures/replay/clean-odirect/meta.json', path.join(holes, 'meta.json'));
    const lines = readFileSync('fixtures/replay/clean-odirect/trace.txt', 'utf8').split('\n');
    lines.splice(24, 0, 'CPU:1 [LOST 4 EVENTS]');
    writeFileSync(path.join(holes, 'trace.txt'), lines.join('\n'));
    // nothing but the header: no event at all (inconclusive)
    const empty = path.join(dir, 'empty.txt');
    writeFileSync(empty, '# tracer: nop\n#\n');
    const said = async (input: string) =>
      (await runCli(['report', input, '--html', path.join(dir, 'x.html')])).stderr.split('\n').find((l) => l.startsWith('1 input(s)'));
    expect(await said('fixtures/replay/clean-odirect/trace.txt')).toBe('1 input(s), 0 finding(s)');
    // before 2026-12-06 both said only "1 input(s), 0 finding(s)", as a clean run does
    expect(await said(path.join(holes, 'trace.txt'))).toBe('1 input(s), 0 finding(s), but 1 trace with holes or rules not judged: not a clean run');
    expect(await said(empty)).toBe('1 input(s), 0 finding(s); 1 INCONCLUSIVE (nothing to judge)');
  });

  it('needs at least one input, and --base with --patched (exit 2)', async () => {
    expect((await runCli(['report', '--html', path.join(dir, 'x.html')])).exitCode).toBe(2);
    expect((await runCli(['report', '--base', 'fixtures/diff/race', '--html', path.join(dir, 'x.html')])).exitCode).toBe(2);
  });
});

describe('kreplay report: one race, one card, one colour per task', () => {
  let dir: string;
  let html: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'kreplay-report-demo-'));
    // The three patched runs of the demo pair: the same race (kr-write's invalidate vs
    // kr-fault's fault) on 11 to 15 pages per run, 83 findings; the racing pids differ per run.
    const r = await runCli(['report', 'traces/pair-filemap-recheck/patched/odirect-race', '--html', path.join(dir, 'demo.html')]);
    expect(r.exitCode).toBe(0);
    html = readFileSync(path.join(dir, 'demo.html'), 'utf8');
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  itWithTools(
    [TOOLS.chromium],
    "shows each run's race as one card listing its pages, each task in one colour everywhere, the mail summary on top",
    async () => {
      const seen = await render(dir, 'demo', html);
      expect(seen.findings).toEqual([
        expect.stringMatching(/orphan-page-mapped on 254:0\/c index 2-4, 6-15 \(13 pages\)$/),
        expect.stringMatching(/orphan-page-mapped on 254:0\/c index 0-1, 3-4, 6-7, 9, 11-13, 15 \(11 pages\)$/),
        expect.stringMatching(/orphan-page-mapped on 254:0\/c index 0-11, 13-15 \(15 pages\)$/),
      ]);
      // 39 cards of about 370 px each before; three cards now.
      expect(seen.height).toBeLessThan(6000);
      expect(seen.mail).toMatch(/^kreplay: 83 findings in 3 races, 3 traces\n/);
      expect(seen.mail).toContain('     tasks:  kr-write in invalidate_inode_pages2_range vs kr-fault in filemap_fault');
      // A task keeps its colour across findings: in every timeline legend and card title.
      const colours = new Map<string, Set<string>>();
      const note = (task: string, colour: string) => colours.set(task, (colours.get(task) ?? new Set()).add(colour));
      for (const t of seen.timelines) for (const l of t.legend) if (l.label.endsWith('(racing)')) note(l.label.replace(/-\d+ \(racing\)$/, ''), l.fill);
      const hex = (rgb: string) => `#${(rgb.match(/\d+/g) ?? []).map((n) => Number(n).toString(16).padStart(2, '0')).join('')}`;
      for (const card of seen.swatches) for (const s of card) if (s.task) note(s.task.trim().replace(/ in$/, ''), hex(s.colour!));
      expect([...colours.keys()].sort()).toEqual(['kr-fault', 'kr-write']);
      for (const [task, set] of colours) expect({ task, colours: [...set] }).toEqual({ task, colours: [expect.any(String)] });
      expect(colours.get('kr-write')).not.toEqual(colours.get('kr-fault'));
    },
    120_000,
  );
});

describe('kreplay report: untrusted text in the page', () => {
  let dir: string;
  let html: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'kreplay-report-bidi-'));
    // The race fixture with hostile task names: a right-to-left override plus Hebrew, and markup.
    mkdirSync(path.join(dir, 'race'));
    const text = readFileSync('fixtures/diff/race/trace.txt', 'utf8')
      .replace(/ {4}kr_fault-302/g, '\u202E\u05E9\u05DC\u05D5\u05DD-302')
      .replace(/ {6}kr_dio-301/g, '   <s>dio&-301');
    writeFileSync(path.join(dir, 'race', 'trace.txt'), text);
    copyFileSync('fixtures/diff/race/meta.json', path.join(dir, 'race', 'meta.json'));
    const r = await runCli(['report', path.join(dir, 'race'), '--html', path.join(dir, 'r.html')]);
    expect(r.exitCode).toBe(0);
    html = readFileSync(path.join(dir, 'r.html'), 'utf8');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('escapes markup and drops bidi controls from trace text', () => {
    expect(html).not.toContain('<s>');
    expect(html).toContain('&lt;s&gt;dio&amp;-301');
    expect(html).not.toMatch(/[\u202A-\u202E]/);
    expect(html).toContain('\u2068\u05E9\u05DC\u05D5\u05DD\u2069-302');
  });

  itWithTools([TOOLS.chromium], 'shows a right-to-left comm as itself, without reordering the pid and words after it', async () => {
    const seen = await render(dir, 'bidi', html);
    const heb = (c: string) => /[\u0590-\u05FF]/.test(c);
    const after = (chars: Array<{ c: string; x: number | null }>, from: number) =>
      chars.slice(from).filter((p) => p.x !== null && p.c.trim() !== '' && !/[\u2068\u2069]/.test(p.c));
    // SVG legend: "שלום-302 (racing)": every character after the Hebrew run lies to its right, in order.
    const legend = seen.timelines[0]!.legend.find((l) => l.label.includes('-302'))!;
    const hebX = legend.chars.filter((p) => heb(p.c)).map((p) => p.x!);
    const tail = after(
      legend.chars,
      legend.chars.findIndex((p) => p.c === '-'),
    );
    expect(tail.map((p) => p.c).join('')).toBe('-302(racing)');
    for (let i = 1; i < tail.length; i++) expect(tail[i]!.x).toBeGreaterThan(tail[i - 1]!.x!);
    expect(tail[0]!.x).toBeGreaterThanOrEqual(Math.max(...hebX) - 0.5);
    // The card's task line: "שלום in filemap_fault vs <s>dio& in ...": " in filemap_fault" reads left to right after the name.
    const chars = seen.swatches[0]!.find((s) => s.chars)!.chars!;
    const rest = after(
      chars,
      chars.findIndex((p) => p.c === 'i'),
    );
    expect(
      rest
        .slice(0, 15)
        .map((p) => p.c)
        .join(''),
    ).toBe('infilemap_fault');
    for (let i = 1; i < 15; i++) expect(rest[i]!.x).toBeGreaterThan(rest[i - 1]!.x!);
    expect(rest[0]!.x).toBeGreaterThan(Math.max(...chars.filter((p) => heb(p.c)).map((p) => p.x!)));
  });
});
