import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from './run-cli.js';
import { itWithTools, TOOLS } from '../../../test-support/tools.js';

/** Debian's `chromium` package (installed by .ci/run); KREPLAY_CHROMIUM names another binary. */
const CHROMIUM = process.env.KREPLAY_CHROMIUM ?? 'chromium';

async function chromium(dir: string, args: string[]): Promise<string> {
  const r = await execa(CHROMIUM, [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', `--user-data-dir=${path.join(dir, 'chromium-profile')}`, ...args,
  ], { reject: false, timeout: 90_000 });
  if (r.failed && (r as { code?: string }).code === 'ENOENT') {
    throw new Error(`${CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium) or set KREPLAY_CHROMIUM`);
  }
  if (r.exitCode !== 0) throw new Error(`${CHROMIUM} exited ${r.exitCode}: ${String(r.stderr).slice(-2000)}`);
  return String(r.stdout);
}

/**
 * What the page shows once laid out, measured inside Chromium: the rendered text (innerText
 * skips what CSS hides) and, per timeline, the lane and task labels that have a size on screen.
 * Injected into a copy of the report (the report itself carries no script).
 */
const PROBE = `<script>
const box = (el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
const out = {
  text: document.body.innerText,
  findings: [...document.querySelectorAll('article.finding h3')].filter(box).map((h) => h.innerText),
  timelines: [...document.querySelectorAll('svg.timeline')].map((svg) => ({
    visible: box(svg),
    lanes: [...svg.querySelectorAll('text.lane')].filter(box).map((t) => t.textContent),
    tasks: [...svg.querySelectorAll('text.task')].filter(box).map((t) => t.textContent),
    citedFills: [...svg.querySelectorAll('g.cited circle')].filter(box).map((c) => c.getAttribute('fill')),
  })),
};
const pre = document.createElement('pre'); pre.id = 'kreplay-probe'; pre.textContent = JSON.stringify(out); document.body.appendChild(pre);
</script>`;

function probeOf(dom: string): { text: string; findings: string[]; timelines: Array<{ visible: boolean; lanes: string[]; tasks: string[]; citedFills: string[] }> } {
  const m = /<pre id="kreplay-probe">([\s\S]*?)<\/pre>/.exec(dom);
  if (!m) throw new Error(`the probe did not run; DOM starts: ${dom.slice(0, 500)}`);
  return JSON.parse(m[1]!.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&'));
}

describe('kreplay report', () => {
  let dir: string;
  let html: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'kreplay-report-'));
    const r = await runCli(['report', '--base', 'fixtures/diff/clean-1', '--patched', 'fixtures/diff/race', '--html', path.join(dir, 'r.html'), '--perfetto', path.join(dir, 'p.json')]);
    expect(r.exitCode).toBe(0);
    html = readFileSync(path.join(dir, 'r.html'), 'utf8');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is one self-contained file: no scripts, no external styles, fonts, images or links', () => {
    expect(html).not.toMatch(/<script|<link|@import|url\(|src=|href="(?!#)/i);
    expect(html).toContain("Content-Security-Policy\" content=\"default-src 'none'");
  });

  itWithTools([TOOLS.chromium], 'renders in headless Chromium with the findings listed and the racing tasks on the timeline', async () => {
    const probePage = path.join(dir, 'probe.html');
    writeFileSync(probePage, html.replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/, '').replace('</body>', `${PROBE}\n</body>`));
    const seen = probeOf(await chromium(dir, ['--dump-dom', `file://${probePage}`]));
    expect(seen.text).toContain('REGRESSION: 2 new, 0 fixed, 0 unchanged');
    expect(seen.findings).toEqual([
      expect.stringMatching(/new\s*error\s*mapped-page-removed on 8:0\/c index 0/),
      expect.stringMatching(/new\s*error\s*stale-after-invalidate on 8:0\/c index 0/),
    ]);
    expect(seen.text).toContain('fixtures/diff/race/trace.txt:18');
    expect(seen.timelines).toHaveLength(2);
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
    expect(ev.filter((e) => e.name === 'thread_name').map((e) => (e.args as { name: string }).name).sort()).toEqual(['kr_dio-301', 'kr_fault-302']);
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

  it('needs --html and at least one input (exit 2)', async () => {
    expect((await runCli(['report', 'fixtures/diff/race'])).exitCode).toBe(2);
    expect((await runCli(['report', '--html', path.join(dir, 'x.html')])).exitCode).toBe(2);
  });
});
