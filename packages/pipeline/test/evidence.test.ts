import { describe, expect, it } from '@jest/globals';
import type { Finding } from '@kreplay/core';
import { timelineSvg } from '@kreplay/report';
import { collectWindows, loadCiConfig } from '@kreplay/pipeline';

describe('the per-finding timeline', () => {
  it('reads the events around a finding from its trace, numbering the cited ones', async () => {
    const src = new URL('../../../fixtures/diff/race/trace.txt', import.meta.url).pathname;
    const finding: Finding = {
      rule: 'mapped-page-removed',
      severity: 'error',
      certainty: 'certain',
      message: 'm',
      ts: 100000500000n,
      cpu: 0,
      pid: 301,
      events: [
        { line: 15, source: src, ts: 100000260000n, cpu: 1, pid: 302, comm: 'kr_fault', summary: '' },
        { line: 18, source: src, ts: 100000500000n, cpu: 0, pid: 301, comm: 'kr_dio', summary: '' },
      ],
      explanation: 'e',
    };
    const [w] = await collectWindows(src, [finding], { marginNs: 160_000n });
    expect(w!.racing).toEqual([
      { pid: 302, comm: 'kr_fault' },
      { pid: 301, comm: 'kr_dio' },
    ]);
    expect(w!.events.map((e) => [e.line, e.cited])).toEqual([
      [13, 0],
      [14, 0],
      [15, 1],
      [16, 0],
      [17, 0],
      [18, 2],
      [19, 0],
    ]);
    const svg = timelineSvg(w!, 'race').text;
    expect(svg).toContain('kr_fault-302 (racing)');
    expect(svg).toContain('>CPU 0<');
    expect(svg).toContain('>CPU 1<');
  });

  it('names explorer trace markers by their op', async () => {
    const src = new URL('../../../fixtures/parser/kreplay-explore.trace', import.meta.url).pathname;
    const f: Finding = {
      rule: 'orphan-page-mapped',
      severity: 'error',
      certainty: 'certain',
      message: 'm',
      ts: 1000004000n,
      cpu: 0,
      pid: 100,
      events: [
        { line: 13, source: src, ts: 1000001000n, cpu: 0, pid: 100, comm: 'fault', summary: '' },
        { line: 16, source: src, ts: 1000004000n, cpu: 0, pid: 100, comm: 'fault', summary: '' },
      ],
      explanation: 'e',
    };
    const [w] = await collectWindows(src, [f]);
    expect(w!.events.map((e) => [e.name, e.phase])).toEqual([
      ['fault', 'begin'],
      ['invalidate_inode_pages2_range', 'begin'],
      ['delete_from_page_cache', 'point'],
      ['pte_map', 'point'],
      ['step', 'point'],
    ]);
    expect(w!.events[0]!.detail).toBe('dev=0:5 ino=2a index=0 addr=0x10000');
  });

  it('shows lost events on a CPU inside the window, the reason a finding is uncertain', async () => {
    const src = new URL('../../../fixtures/replay/mapped-page-removed-lost/trace.txt', import.meta.url).pathname;
    const f: Finding = {
      rule: 'mapped-page-removed',
      severity: 'error',
      certainty: 'uncertain',
      message: 'm',
      ts: 100000210000n,
      cpu: 1,
      pid: 211,
      events: [
        { line: 17, source: src, ts: 100000152000n, cpu: 0, pid: 210, comm: 'mmapper', summary: '' },
        { line: 21, source: src, ts: 100000210000n, cpu: 1, pid: 211, comm: 'fadvise', summary: '' },
      ],
      explanation: 'e',
    };
    const [w] = await collectWindows(src, [f]);
    expect(w!.events.filter((e) => e.phase === 'gap')).toEqual([expect.objectContaining({ cpu: 1, line: 19, name: 'lost 3 events' })]);
    expect(timelineSvg(w!, 't').text).toContain('lost 3 events on CPU 1 (line 19)');
  });

  it('keeps a bounded number of events on each side of the finding', async () => {
    const path = new URL('../../../fixtures/diff/race/trace.txt', import.meta.url).pathname;
    const f: Finding = {
      rule: 'mapped-page-removed',
      severity: 'error',
      certainty: 'certain',
      message: 'm',
      ts: 0n,
      cpu: 0,
      pid: 301,
      events: [{ line: 17, source: path, ts: 100000400000n, cpu: 0, pid: 301, comm: 'kr_dio', summary: '' }],
      explanation: 'e',
    };
    const [w] = await collectWindows(path, [f], { perSide: 1 });
    expect(w!.events.map((e) => e.line)).toEqual([16, 17, 18]);
    expect(w!.dropped).toBe(3);
  });
});

describe('the ci config', () => {
  it('the shipped example config is valid', async () => {
    const { config } = await loadCiConfig(new URL('../../../kreplay.config.example.json', import.meta.url).pathname);
    expect(config.base.kernel).toBe('debian');
    expect(config.patched.kernel).toMatch(/\/build\/patched$/);
    expect(config.capture.workloads.length).toBeGreaterThan(0);
  });
});
