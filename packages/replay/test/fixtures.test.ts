/**
 * The hand-written 6.1-format fixtures under fixtures/replay/: each folder holds trace.txt,
 * meta.json (kernel release, vmemmap base) and expected.json (the findings, golden).
 * UPDATE_GOLDEN=1 rewrites the goldens; review the diff before committing it.
 */
import { describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringifyJson } from '@kreplay/core';
import type { Finding } from '@kreplay/core';
import { replayFile } from '@kreplay/replay';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../fixtures/replay');
const dirs = readdirSync(root, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

const brief = (f: Finding) => ({ rule: f.rule, certainty: f.certainty, file: f.file, index: f.index });

async function run(name: string) {
  return replayFile(path.join(root, name, 'trace.txt'), { source: 'trace.txt' });
}

function golden(findings: Finding[]): string {
  return `${stringifyJson({ findings }, 2)}\n`;
}

describe('fixtures/replay goldens', () => {
  it.each(dirs)('%s replays to its expected findings', async (name) => {
    const r = await run(name);
    const file = path.join(root, name, 'expected.json');
    if (process.env.UPDATE_GOLDEN || !existsSync(file)) writeFileSync(file, golden(r.findings));
    expect(golden(r.findings)).toBe(readFileSync(file, 'utf8'));
  });
});

describe('fixture variants', () => {
  const rules = ['mapped-page-removed', 'orphan-page-mapped', 'stale-after-invalidate'];

  it.each(rules)('%s: the rule fires, certain, on the clean trace', async (rule) => {
    const r = await run(rule);
    expect(r.findings.some((f) => f.rule === rule && f.certainty === 'certain')).toBe(true);
    expect(r.findings.every((f) => f.certainty === 'certain' && f.severity === 'error')).toBe(true);
  });

  it.each(rules)('%s: cut by [LOST EVENTS] on an involved CPU, the same findings become uncertain', async (rule) => {
    const base = await run(rule);
    const lost = await run(`${rule}-lost`);
    expect(lost.findings.map((f) => ({ ...brief(f), certainty: 'uncertain' }))).toEqual(base.findings.map((f) => ({ ...brief(f), certainty: 'uncertain' })));
    expect(lost.findings.some((f) => f.certainty === 'uncertain')).toBe(true);
    expect(lost.findings.find((f) => f.certainty === 'uncertain')!.explanation).toMatch(/Uncertain: the ring buffer lost \d+ events on CPU \d/);
  });

  it.each(rules)('%s: unrelated noise (sched, irq, other files, markers) changes nothing', async (rule) => {
    const base = await run(rule);
    const noisy = await run(`${rule}-noise`);
    expect(noisy.findings.map(brief)).toEqual(base.findings.map(brief));
    expect(noisy.stats.unknownEvents).toBeGreaterThan(0);
  });

  it('pages and mappings that predate the trace are adopted, not flagged', async () => {
    const r = await run('adopted-mid-life');
    expect(r.findings).toEqual([]);
    expect(r.stats.adopted.pages).toBe(2);
    expect(r.stats.adopted.mappings).toBe(2);
    expect(r.stats.adopted.calls).toBe(2);
  });

  it('6.1 doing it right (unmap before removal, fresh page after) is clean', async () => {
    const r = await run('clean-odirect');
    expect(r.findings).toEqual([]);
    expect(r.stats.byOp.pte_unmap).toBe(2);
    expect(r.stats.latency.invalidate.count).toBe(1);
    expect(r.stats.latency.truncate.count).toBe(1);
    expect(r.stats.latency.fault.count).toBe(2);
  });

  it('every finding cites its own event and names the racing tasks and CPUs', async () => {
    for (const rule of rules) {
      const r = await run(rule);
      for (const f of r.findings) {
        expect(f.events.some((e) => e.ts === f.ts && e.pid === f.pid)).toBe(true);
        for (const e of f.events) expect(f.explanation).toContain(`line ${e.line}`);
        const tasks = new Set(f.events.map((e) => `${e.comm}-${e.pid} on CPU ${e.cpu}`));
        for (const t of tasks) expect(f.explanation).toContain(t);
      }
    }
  });

  it('the same input gives byte-identical findings', async () => {
    const a = await run('stale-after-invalidate-noise');
    const b = await run('stale-after-invalidate-noise');
    expect(golden(a.findings)).toBe(golden(b.findings));
  });
});
