import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProbeMapSchema, loadProbeMap, probeMapConflicts } from '@kreplay/core';
import { loadProfile, parseProfile, profileFunctions, profileOffsetKeys, profileProbeMap } from '../src/profile.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const profilesDir = path.join(repo, 'kernel-configs/capture');
const tmp = mkdtempSync(path.join(tmpdir(), 'kreplay-profile-'));

function expectInputError(f: () => unknown, message: RegExp, file: string, line: number): void {
  try {
    f();
  } catch (e) {
    expect(e).toMatchObject({ name: 'InputError', file, line });
    expect((e as Error).message).toMatch(message);
    return;
  }
  throw new Error('expected an InputError');
}

const minimal = `name: t
tracepoints:
  - event: filemap:mm_filemap_add_to_page_cache
    filter: "i_ino == \${ino}"
kprobes:
  - function: filemap_fault
    fetch:
      ino: "+{inode.i_ino}(+{file.f_inode}(+{vm_area_struct.vm_file}(+{vm_fault.vma}($arg1)))):u64"
    meaning: { op: fault_begin, args: { ino: ino } }
  - function: filemap_fault
    type: kretprobe
    fetch: { ret: "$retval:x64" }
`;

describe('capture profiles', () => {
  it('fills defaults: nokaslr, 32 MiB per-CPU buffer, mono clock, fault-around untouched', () => {
    const p = parseProfile(minimal, 'min.yaml');
    expect(p).toMatchObject({ nokaslr: true, bufferSizeKb: 32768, traceClock: 'mono', faultAroundBytes: 'default', filePages: 16 });
    expect(p.kprobes[0].type).toBe('kprobe');
    expect(profileFunctions(p)).toEqual(['filemap_fault']);
    expect(profileOffsetKeys(p)).toEqual(['file.f_inode', 'inode.i_ino', 'vm_area_struct.vm_file', 'vm_fault.vma']);
  });

  it('every shipped profile validates, and its meanings form a valid probe map', async () => {
    const files = readdirSync(profilesDir).filter((f) => f.endsWith('.yaml'));
    const expected = [
      'odirect-race.yaml',
      'odirect-dropper.yaml',
      'truncate-racer.yaml',
      'odirect-race-faultaround.yaml',
      'read-invalidate.yaml',
      'remap-truncate.yaml',
    ];
    expect(files).toEqual(expect.arrayContaining(expected));
    // a kernel that renamed what the profiles probe has its own folder, one profile per workload
    const own = readdirSync(path.join(profilesDir, 'linux-6.12')).filter((f) => f.endsWith('.yaml'));
    expect(own.sort()).toEqual([...expected].sort());
    for (const f of [...files, ...own.map((o) => path.join('linux-6.12', o))]) {
      const p = await loadProfile(path.join(profilesDir, f));
      const map = profileProbeMap(p, '0xffffea0000000000', 64);
      expect(ProbeMapSchema.parse(map)).toEqual(map);
      expect([f, Object.values(map.probes).filter((m) => m.op === 'fault_begin').length]).toEqual([f, 1]);
      expect([f, map.probes['kretprobe:filemap_fault']?.op]).toEqual([f, 'fault_end']);
      // a task's exit, unfiltered: without it replay reads each pid as one task for its whole life
      // (a pid given to a new task inherits the old one's mappings; session 42)
      expect([f, p.tracepoints.find((t) => t.event === 'sched:sched_process_exit')]).toEqual([
        f,
        { event: 'sched:sched_process_exit', meaning: { op: 'task_exit', args: {} } },
      ]);
      // the meanings capture writes into meta.json are the shipped map's: replay refuses a
      // meta.json whose probes say another op or function than its kernel's map
      const shipped = await loadProbeMap(path.join(repo, 'kernel-configs/probes', f.startsWith('linux-6.12') ? 'linux-6.12.yaml' : 'linux-6.1.yaml'));
      expect([f, probeMapConflicts(shipped, map)]).toEqual([f, []]);
    }
  });

  it('extends another profile: keys override, probe lists append', async () => {
    const fa = await loadProfile(path.join(profilesDir, 'odirect-race-faultaround.yaml'));
    const base = await loadProfile(path.join(profilesDir, 'odirect-race.yaml'));
    expect(fa.name).toBe('odirect-race-faultaround');
    expect(base.faultAroundBytes).toBe(4096);
    expect(fa.faultAroundBytes).toBe('default');
    const tr = await loadProfile(path.join(profilesDir, 'truncate-racer.yaml'));
    expect(tr.kprobes.slice(0, base.kprobes.length)).toEqual(base.kprobes);
    expect(profileFunctions(tr)).toEqual(expect.arrayContaining(['truncate_pagecache', 'truncate_inode_pages_range', 'filemap_fault']));
  });

  it('a wrong value is reported at its file and line', () => {
    const bad = minimal.replace('type: kretprobe', 'type: uprobe');
    expectInputError(() => parseProfile(bad, 'bad.yaml'), /kprobes\.1\.type: Invalid option/, 'bad.yaml', 11);
    expectInputError(() => parseProfile('name: t\nbufferSizeKb: 10\n', 'small.yaml'), /bufferSizeKb/, 'small.yaml', 2);
    expectInputError(() => parseProfile('name: t\nfaultAroundBytes: 1000\n', 'fa.yaml'), /faultAroundBytes/, 'fa.yaml', 2);
    expectInputError(() => parseProfile('name: t\nkprobez: []\n', 'typo.yaml'), /Unrecognized key/, 'typo.yaml', 2); // the unknown key's own line
  });

  it('rejects unknown filter variables, argument fetches on kretprobes and duplicate event names', () => {
    expectInputError(() => parseProfile(minimal.replace('${ino}', '${inode}'), 'v.yaml'), /unknown \$\{variable\} in filter/, 'v.yaml', 4);
    expectInputError(() => parseProfile(minimal.replace('"$retval:x64"', '"$arg1:x64"'), 'r.yaml'), /a kretprobe cannot fetch arguments/, 'r.yaml', 12);
    const dup = `${minimal}  - function: filemap_fault\n`;
    expectInputError(() => parseProfile(dup, 'd.yaml'), /event name filemap_fault is used twice/, 'd.yaml', 13);
  });

  it('reports YAML syntax errors and errors inside an extended profile at their own file', () => {
    expectInputError(() => parseProfile('name: [unclosed\n', 's.yaml'), /not valid YAML/, 's.yaml', 2);
    const base = path.join(tmp, 'base.yaml');
    writeFileSync(base, 'name: base\nkprobes:\n  - function: "bad name"\n');
    const child = path.join(tmp, 'child.yaml');
    writeFileSync(child, 'extends: base.yaml\nname: child\nkprobes:\n  - function: ok_fn\n    type: nope\n');
    expectInputError(() => parseProfile('extends: base.yaml\nname: c\n', path.join(tmp, 'c.yaml')), /kprobes\.0\.function/, base, 3);
    writeFileSync(base, 'name: base\n');
    expectInputError(
      () => parseProfile('extends: base.yaml\nname: c\nkprobes:\n  - function: f\n    type: nope\n', path.join(tmp, 'c.yaml')),
      /kprobes\.0\.type/,
      path.join(tmp, 'c.yaml'),
      5,
    );
    expectInputError(() => parseProfile('extends: missing.yaml\nname: c\n', path.join(tmp, 'm.yaml')), /cannot read missing.yaml/, path.join(tmp, 'm.yaml'), 1);
  });
});

describe('shipped traces', () => {
  it('every meta.json under traces/ validates against the capture meta schema, and reads back through the core reader unchanged', async () => {
    const { CaptureMetaSchema } = await import('../src/meta.js');
    const { readTraceMeta, writeTraceMeta } = await import('@kreplay/core');
    const tmp = mkdtempSync(path.join(tmpdir(), 'kreplay-meta-'));
    const traces = path.join(repo, 'traces');
    const metas = readdirSync(traces, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => path.join(traces, d.name, 'meta.json'))
      .filter((f) => {
        try {
          return JSON.parse(readFileSync(f, 'utf8')).schema === 'kreplay-capture-meta/1';
        } catch {
          return false;
        }
      });
    expect(metas.length).toBeGreaterThanOrEqual(5);
    for (const f of metas) {
      const r = CaptureMetaSchema.safeParse(JSON.parse(readFileSync(f, 'utf8')));
      expect([f, r.success ? 'ok' : r.error.issues[0]]).toEqual([f, 'ok']);
      // The capture side writes what the reading side reads: write it as capture does, read it back.
      const out = path.join(tmp, 'meta.json');
      await writeTraceMeta(out, r.data!);
      expect(await readTraceMeta(out)).toEqual(JSON.parse(readFileSync(f, 'utf8')));
      expect(readFileSync(out, 'utf8')).toBe(readFileSync(f, 'utf8'));
    }
    rmSync(tmp, { recursive: true, force: true });
  });
});
