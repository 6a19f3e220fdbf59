/**
 * The shipped Linux 6.12 captures (traces/<workload>-6.12/, Debian's 6.12.117+deb12-amd64):
 * each replays clean with the linux-6.12 map, with zero unusable events; the tracepoint
 * formats each meta.json kept are the shipped ones; and every shipped capture (6.1 and 6.12)
 * replays the same without its meta.json, its kernel told by its own events.
 */
import { describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openTraceBatches } from '@kreplay/ftrace-parser';
import { replay, replayFile } from '@kreplay/replay';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const traces = path.join(repo, 'traces');
const formats = path.join(repo, 'kernel-configs', 'probes', 'formats', 'linux-6.12');
const WORKLOADS = ['odirect-race', 'odirect-dropper', 'truncate-racer', 'odirect-race-faultaround', 'read-invalidate', 'remap-truncate'];
const shipped612 = WORKLOADS.map((w) => `${w}-6.12`);
const shipped61 = ['odirect-race', 'odirect-dropper', 'truncate-racer', 'odirect-race-faultaround', 'read-invalidate', 'remap-truncate'];

describe('shipped Linux 6.12 traces', () => {
  it('one per workload, each with its meta.json', () => {
    const dirs = readdirSync(traces)
      .filter((d) => d.endsWith('-6.12') && existsSync(path.join(traces, d, 'meta.json')))
      .sort();
    expect(dirs).toEqual([...shipped612].sort());
  });

  it.each(shipped612)('%s replays clean with the linux-6.12 map: no finding, no unusable event, no gap', async (name) => {
    const r = await replayFile(path.join(traces, name, 'trace.txt.gz'), { maxFindings: 100 });
    const meta = r.meta as { kernel: { release: string }; buffer: { lost: number }; workload: { result: Record<string, number> } };
    expect(meta.kernel.release).toMatch(/^6\.12\.\d+\+deb12-amd64$/);
    expect([r.trace.kernel, r.trace.kernelReason]).toEqual(['linux-6.12', `meta.json kernel ${meta.kernel.release}`]);
    expect(r.findings.map((f) => `${f.rule}: ${f.message}`)).toEqual([]);
    expect(r.stats.unusableEvents).toEqual({});
    expect([r.stats.gaps, r.stats.lostEvents, meta.buffer.lost]).toEqual([0, 0, 0]);
    expect(r.stats.ops).toBeGreaterThan(100);
    expect(meta.workload.result.mismatches).toBe(0);
    // the kernel's own mapcount agreed with replay's on every rmap event
    expect(r.stats.mapcountResyncs).toBe(0);
  });

  it('the formats each capture kept are the shipped ones (read from the same kernel)', () => {
    for (const name of shipped612) {
      const meta = JSON.parse(readFileSync(path.join(traces, name, 'meta.json'), 'utf8')) as { tracepointFormats: Record<string, string> };
      expect(Object.keys(meta.tracepointFormats).length).toBeGreaterThan(0);
      for (const [ev, text] of Object.entries(meta.tracepointFormats)) {
        const file = path.join(formats, ...ev.split(':'), 'format');
        expect([name, ev, existsSync(file)]).toEqual([name, ev, true]);
        expect(text).toBe(readFileSync(file, 'utf8'));
      }
    }
  });
});

describe("remap-truncate on Debian's own 6.1.192 (the kernel without the 74207de2ba10 backport, docs/backport-6.1.md)", () => {
  it('replays clean with the linux-6.1 map: every PTE the remapper got was removed before truncate removed its page', async () => {
    const r = await replayFile(path.join(traces, 'remap-truncate', 'trace.txt.gz'), { maxFindings: 100 });
    const meta = r.meta as { kernel: { release: string }; buffer: { lost: number }; workload: { result: Record<string, number> } };
    expect([meta.kernel.release, r.trace.kernel]).toEqual(['6.1.0-57-amd64', 'linux-6.1']);
    expect(r.findings.map((f) => `${f.rule}: ${f.message}`)).toEqual([]);
    expect([r.stats.unusableEvents, r.stats.gaps, r.stats.lostEvents, meta.buffer.lost]).toEqual([{}, 0, 0, 0]);
    expect(r.stats.byOp.pte_map).toBe(r.stats.byOp.pte_unmap);
    expect(r.stats.byOp.pte_map).toBeGreaterThan(50);
    expect(meta.workload.result.remaps).toBeGreaterThan(50);
  });
});

describe('shipped traces without their meta.json', () => {
  it.each([...shipped612, ...shipped61])("%s: the trace's own events choose its kernel, and it replays the same", async (name) => {
    const file = path.join(traces, name, 'trace.txt.gz');
    const withMeta = await replayFile(file, { maxFindings: 100 });
    const bare = await replay(openTraceBatches(file, { source: file }), { source: file, vmemmapBase: withMeta.trace.vmemmapBase, maxFindings: 100 });
    expect(bare.trace.kernel).toBe(withMeta.trace.kernel);
    // read-invalidate on 6.1 shows only events both maps know: the default (6.1) is then right too
    expect(bare.trace.kernelReason).toMatch(name === 'read-invalidate' ? /^default \(no meta\.json; no event tells the kernels apart\)$/ : /^trace evidence: /);
    expect([bare.stats.ops, bare.stats.byOp, bare.stats.unusableEvents]).toEqual([withMeta.stats.ops, withMeta.stats.byOp, withMeta.stats.unusableEvents]);
    expect(bare.findings.map((f) => f.rule)).toEqual(withMeta.findings.map((f) => f.rule));
  });
});
