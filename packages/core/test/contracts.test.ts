import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  EnvironmentError,
  findTraceMeta,
  isInputError,
  loadProbeMap,
  metaCandidates,
  metaRelease,
  parseProbeMap,
  probeMapFromMeta,
  readTraceMeta,
  writeFileAtomic,
  writeTraceMeta,
  type ProbeMap,
} from '@kreplay/core';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const tmp = mkdtempSync(path.join(tmpdir(), 'kreplay-contracts-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function metaFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('meta.json'))
    .map((f) => path.join(dir, f));
}

describe('the meta.json contract', () => {
  it("finds a trace's meta.json in one order: beside the file by name, then the folder's", () => {
    expect(metaCandidates('d/run.trace.gz')).toEqual(['d/run.trace.gz.meta.json', 'd/run.trace.meta.json', 'd/run.meta.json', 'd/meta.json']);
    expect(metaCandidates('d/meta.json')).toEqual(['d/meta.json.meta.json', 'd/meta.meta.json']);
    const dir = path.join(tmp, 'find');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'meta.json'), '{}');
    expect(findTraceMeta(path.join(dir, 'trace.txt.gz'))).toBe(path.join(dir, 'meta.json'));
    writeFileSync(path.join(dir, 'trace.meta.json'), '{}');
    expect(findTraceMeta(path.join(dir, 'trace.txt.gz'))).toBe(path.join(dir, 'trace.meta.json'));
    expect(findTraceMeta('-')).toBeUndefined();
  });

  it('reads every shipped meta.json, captured or hand-written, and what it writes reads back the same', async () => {
    const files = [...metaFiles(path.join(repo, 'traces')), ...metaFiles(path.join(repo, 'fixtures'))];
    expect(files.length).toBeGreaterThan(30);
    for (const f of files) {
      const meta = await readTraceMeta(f);
      expect(metaRelease(meta)).toMatch(/^\d+\.\d+/);
      expect(meta).toEqual(JSON.parse(readFileSync(f, 'utf8')));
      const out = path.join(tmp, 'rt.json');
      await writeTraceMeta(out, meta);
      expect(await readTraceMeta(out)).toEqual(meta);
    }
  });

  it('refuses a meta.json of another contract version, with its line', async () => {
    const f = path.join(tmp, 'v2.json');
    writeFileSync(f, '{\n  "kernel": { "release": "6.1.0" },\n  "schema": "kreplay-capture-meta/2"\n}\n');
    const e = await readTraceMeta(f).catch((x: unknown) => x);
    expect(isInputError(e)).toBe(true);
    expect(e).toMatchObject({ file: f, line: 3 });
    expect((e as Error).message).toContain('another version of kreplay');
  });

  // Each reaches a text output as it is: the kernel release and the clock replay's header and
  // warnings, the workload name KTAP's test name, the counters the diff's table (session 44).
  it.each([
    [
      'a workload counter name',
      { workload: { name: 'w', result: { 'ok': 1, 'writes\n::error::pwned': 193 } } },
      6,
      'workload.result."writes\\n::error::pwned": counter name',
    ],
    ['a workload counter value', { workload: { name: 'w', result: { touches: '7041\n::error::x' } } }, 5, 'workload.result.touches'],
    ['a nested counter name', { workload: { result: { phase: { 'a\nb': 1 } } } }, 5, 'workload.result.phase."a\\nb"'],
    ['a counter value in a list', { workload: { result: { seen: ['x', 'y\nz'] } } }, 6, 'workload.result.seen.1'],
    ['the workload name', { workload: { name: 'w\n::warning::x' } }, 3, 'workload.name'],
    ['the workload as a string', { workload: 'w\nx' }, 2, 'workload'],
    ['the kernel release', { kernel: { release: '6.1.0\n::warning::x' } }, 3, 'kernel.release'],
    ['the kernel as a string', { kernel: '6.1.0\nx' }, 2, 'kernel'],
    ['the trace clock', { buffer: { clock: 'mono\n::warning::x' } }, 3, 'buffer.clock'],
    ['a kernel log kind', { kernelLog: { findings: [{ kind: 'WARN\nx' }] } }, 5, 'kernelLog.findings.0.kind'],
    ["the test file's device", { workload: { testFile: { dev: '254:0\n', ino: 12 } } }, 4, 'workload.testFile.dev'],
    ['the trace file', { trace: { file: 'trace.txt.gz\nx' } }, 3, 'trace.file'],
    ['vmemmapBase', { vmemmapBase: '0xffffea0000000000\nx' }, 2, 'vmemmapBase'],
  ])('refuses a line break in %s, at its line, and says the key on one line', async (_what, body, line, where) => {
    const f = path.join(tmp, 'line-break.json');
    writeFileSync(f, `${JSON.stringify(body, null, 2)}\n`);
    const e = await readTraceMeta(f).catch((x: unknown) => x);
    expect(isInputError(e)).toBe(true);
    expect(e).toMatchObject({ file: f, line });
    expect((e as Error).message).toContain(`invalid meta.json: ${where}: `);
    expect((e as Error).message).toContain('one line of text');
    expect((e as Error).message).not.toContain('\n');
  });

  it('keeps a tab, and text without a line break, in the same fields', async () => {
    const f = path.join(tmp, 'tab.json');
    writeFileSync(f, JSON.stringify({ kernel: { release: '6.1.0\tx' }, workload: { name: 'w', result: { 'a b': 'x\ty', 'n': 1 } } }));
    await expect(readTraceMeta(f)).resolves.toMatchObject({ workload: { result: { 'a b': 'x\ty' } } });
  });
});

describe('the probe-map contract', () => {
  it('loads every shipped probe map, and a map survives meta.json and JSON round trips', async () => {
    const dir = path.join(repo, 'kernel-configs/probes');
    const maps = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    expect(maps.length).toBeGreaterThan(0);
    for (const f of maps) {
      const map = await loadProbeMap(path.join(dir, f));
      expect(Object.keys(map.probes).length).toBeGreaterThan(0);
      expect(parseProbeMap(JSON.stringify(map), 'rt.json')).toEqual(map);
      const meta = path.join(tmp, `${f}.meta.json`);
      await writeTraceMeta(meta, { kernel: { release: '6.1.0' }, probes: map });
      expect(probeMapFromMeta((await readTraceMeta(meta)).probes, meta)).toEqual(map);
    }
  });

  it('takes a bare probes record in meta.json, and names the probe at fault in a bad one', () => {
    const bare: ProbeMap['probes'] = { my_rmap: { op: 'pte_map', args: { pfn: { field: 'p', as: 'page' } } } };
    expect(probeMapFromMeta(bare, 'm.json')).toEqual({ probes: bare });
    expect(() => probeMapFromMeta({ probes: { x: { op: 'nope' } } }, 'm.json')).toThrow(/bad probes section: probes\.probes\.x\.op/);
  });

  it('refuses a probe map of another contract version', () => {
    expect(() => parseProbeMap('schema: kreplay-probes/9\nprobes: {}\n', 'p.yaml')).toThrow(/another version of kreplay/);
  });
});

describe('writing an output', () => {
  it('replaces a file whole or not at all, and a failed write is an environment error naming the file', async () => {
    const f = path.join(tmp, 'out.txt');
    await writeFileAtomic(f, 'one');
    await writeFileAtomic(f, 'two');
    expect(readFileSync(f, 'utf8')).toBe('two');
    expect(readdirSync(tmp).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    const missing = path.join(tmp, 'no-such-dir', 'x.txt');
    const e = await writeFileAtomic(missing, 'x').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(EnvironmentError);
    expect((e as Error).message).toBe(`cannot write ${missing}: its folder does not exist`);
    const dirAsFile = path.join(tmp, 'find');
    expect(statSync(dirAsFile).isDirectory()).toBe(true);
    await expect(writeFileAtomic(dirAsFile, 'x')).rejects.toThrow(/it is a folder|cannot write/);
  });
});
