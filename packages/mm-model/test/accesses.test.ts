/**
 * DPOR trusts the accesses steps declare. This test walks the full state space of every
 * shipped scenario on every flavor it names and checks that each change a step makes to the
 * state is covered by a declared write (or lock operation) on the matching location.
 */
import { describe, expect, test } from '@jest/globals';
import { readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import {
  Ctx,
  NONE,
  PAGE_FLAGS,
  PG,
  createMachine,
  loadScenario,
  parseScenario,
  pteLoc,
  resolveFlavor,
  type Env,
  type Flavor,
  type MmState,
  type Scenario,
} from '@kreplay/mm-model';
import { type Access } from '@kreplay/core';
import { RACES, SCENARIOS } from './helpers/scenarios.js';

/** Locations whose value differs between two states. */
function changedLocs(env: Env, a: MmState, b: MmState): string[] {
  const out: string[] = [];
  const n = Math.max(a.pages.length, b.pages.length);
  for (let pfn = 0; pfn < n; pfn++) {
    const p = a.pages[pfn];
    const q = b.pages[pfn];
    if (p === q) continue;
    if (!p) {
      out.push('alloc');
      continue;
    }
    if (!q) {
      out.push(`pfn${pfn}.refcount`);
      continue;
    }
    if (p.mapping !== q.mapping) out.push(`pfn${pfn}.mapping`);
    if (p.refcount !== q.refcount) out.push(`pfn${pfn}.refcount`);
    if (p.mapcount !== q.mapcount) out.push(`pfn${pfn}.mapcount`);
    // read_pages hands a held PG_locked to the I/O completion (Env.endIo): who holds it changes, not whether it is
    // held; the model declares the hand-over as the folio's bio, which end_io reads (linux-6.12/readahead.ts)
    const handOver = p.locker !== NONE && q.locker === env.endIo && p.locker !== q.locker && !((p.flags ^ q.flags) & PG.locked);
    if (handOver) out.push(`pfn${pfn}.bio`);
    else if (p.locker !== q.locker || (p.flags ^ q.flags) & PG.locked) out.push(`lock:pfn${pfn}`);
    // the folio's wait queue (PageS.waiters): a sleeper queueing itself writes `pfnN.waiters`; the release that wakes
    // the sleepers (the lock word changes with it) writes the lock
    if ((p.waiters ?? 0) !== (q.waiters ?? 0) && !out.includes(`lock:pfn${pfn}`)) out.push(`pfn${pfn}.waiters`);
    if (p.data !== q.data) out.push(`pfn${pfn}.data`);
    if (p.entire !== q.entire || (p.pmap ?? []).join() !== (q.pmap ?? []).join()) out.push(`pfn${pfn}.mapcount`);
    if (p.order !== q.order) out.push(`pfn${pfn}.mapping`);
    if (!!p.nodirect !== !!q.nodirect) out.push(`pfn${pfn}.direct`);
    for (const f of PAGE_FLAGS) if (f !== 'locked' && (p.flags ^ q.flags) & PG[f]) out.push(`pfn${pfn}.flags.${f}`);
  }
  a.maps.forEach((m, i) => {
    const o = b.maps[i]!;
    if (m === o) return;
    const M = env.files[i]!.loc;
    if (m.cache.join() !== o.cache.join()) out.push(`${M}.tree`);
    if (m.isize !== o.isize) out.push(`${M}.i_size`);
    if (m.truncateCount !== o.truncateCount) out.push(`${M}.truncate_count`);
    if (m.nrpages !== o.nrpages) out.push(`${M}.nrpages`);
    if (m.sslWriters !== o.sslWriters) out.push(`${M}.seqschedlock.writers`);
    if (m.sslSequence !== o.sslSequence) out.push(`${M}.seqschedlock.sequence`);
    if (m.invalidateLock !== o.invalidateLock) out.push(`${M}.invalidate_lock`);
    if (m.immap !== o.immap) out.push(`${M}.i_mmap_lock`);
    if (m.ilock !== o.ilock) out.push(`${M}.inode_lock`);
    const blocks = (s: MmState, mm: typeof m) => mm.bmap.map((bl) => (bl < 0 ? 'h' : `${bl}:${s.disk[bl]}`)).join();
    if (blocks(a, m) !== blocks(b, o) || m.hole.join() !== o.hole.join() || m.gen.join() !== o.gen.join()) out.push(`${M}.disk`);
    if (m.floor.join() !== o.floor.join()) out.push(`${M}.floor`);
    if (!!m.eofSettled !== !!o.eofSettled) out.push(`${M}.eof`);
    if (m.faultMutex !== o.faultMutex) out.push(`${M}.hugetlb_fault_mutex`);
  });
  for (const v of env.vmas) {
    const x = a.ptes[v.id]!;
    const y = b.ptes[v.id]!;
    // the PTE's dirty bit (MmState.pted) is part of the entry: a change of it is a write of the PTE
    const dx = a.pted?.[v.id];
    const dy = b.pted?.[v.id];
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i] || (dx?.[i] ?? 0) !== (dy?.[i] ?? 0)) out.push(pteLoc(env, v, i));
  }
  a.ptl.forEach((o, i) => {
    if (o !== b.ptl[i]) out.push(env.ptls[i]!.loc);
  });
  (b.pmds ?? []).forEach((o, i) => {
    if (o !== (a.pmds ?? [])[i]) out.push(env.ptls[i]!.loc.replace(/^ptl:/, 'pmd:'));
  });
  return out;
}

/** `file function() version`: every step cites the kernel function it stands for (user-space steps say so). */
const WHERE = /^([a-z0-9_/.-]+\.[ch](:[0-9, -]+)? [A-Za-z0-9_]+\(\)|user space: )/;
const LOC = /^(M\d+\.[a-z_.]+|pfn\d+\.[a-z_.]+|lock:pfn\d+|(ptl|pmd):[\w.-]+:\d+|pte:[\w.-]+:0x[0-9a-f]+|alloc|end_io\.pending)$/;

/**
 * Locations `step` reads through the Ctx accessors, by running the step again with the audit
 * hook, and the state it leaves before the machine renumbers data generations (data.ts), so
 * changes are compared as the step made them. A machine-level step (a thread's program
 * sequence) touches nothing shared: undefined.
 */
function readsOf(flavor: Flavor, env: Env, s: MmState, t: number): { reads: Set<string>; next: MmState } | undefined {
  const frames = s.threads[t]!.frames;
  const f = frames[frames.length - 1]!;
  const proc = flavor.procs[f.proc];
  if (!proc) return undefined;
  const reads = new Set<string>();
  const c = new Ctx(env, s, t, true, (loc) => reads.add(loc));
  proc.steps[f.pc]!.run(c);
  return { reads, next: c.finish() };
}

function covered(loc: string, acc: readonly Access[]): boolean {
  if (loc.endsWith('.flags.*')) {
    const pfn = loc.slice(0, -'.flags.*'.length);
    return acc.some((a) => a.loc.startsWith(`${pfn}.flags.`) || a.loc === `lock:${pfn}`);
  }
  return acc.some((a) => a.loc === loc);
}

const SLOW = new Set(['odirect-vs-fault-multipage.yaml']);
const RACE_DIRS = readdirSync(RACES).sort();
const files = [
  ...readdirSync(SCENARIOS)
    .filter((f) => f.endsWith('.yaml') && !SLOW.has(f))
    .sort()
    .map((f) => join(SCENARIOS, f)),
  ...RACE_DIRS.map((d) => join(RACES, d, 'scenario.yaml')),
];

/** What every step of every state of `sc` on its `expect` flavors does not cite or declare. */
async function undeclared(sc: Scenario, file: string): Promise<string[]> {
  const missing = new Set<string>();
  for (const key of Object.keys(sc.expect ?? {})) {
    const flavor = await resolveFlavor(/[\\/]|\.m?js$/.test(key) ? resolve(dirname(file), key) : key);
    const m = createMachine(sc, flavor);
    const seen = new Set<string>([m.key(m.initial())]);
    const queue: MmState[] = [m.initial()];
    for (let i = 0; i < queue.length; i++) {
      const s = queue[i]!;
      for (let t = 0; t < m.threads.length; t++) {
        const info = m.next(s, t);
        if (!info) continue;
        if (!WHERE.test(info.where ?? '') || !info.where!.endsWith(` ${flavor.version}`)) missing.add(`${flavor.name}: "${info.label}" cites "${info.where}"`);
        for (const a of info.accesses) if (!LOC.test(a.loc)) missing.add(`${flavor.name}: "${info.label}" names location ${a.loc}`);
        if (!info.enabled) continue;
        const r = m.step(s, t);
        const raw = readsOf(flavor, m.env, s, t);
        for (const loc of raw?.reads ?? []) {
          if (!covered(loc, info.accesses)) missing.add(`${flavor.name}: "${info.label}" reads ${loc.replace(/\d+/g, 'N')}`);
        }
        const declared = new Set(info.accesses.filter((a) => a.mode === 'write').map((a) => a.loc));
        for (const loc of changedLocs(m.env, s, raw?.next ?? r.state)) {
          if (!declared.has(loc)) missing.add(`${flavor.name}: "${info.label}" changes ${loc.replace(/\d+/g, 'N')}`);
        }
        const k = m.key(r.state);
        if (!seen.has(k)) {
          seen.add(k);
          queue.push(r.state);
        }
      }
    }
  }
  return [...missing];
}

describe.each(files.map((f) => [f.replace(/^.*\/fixtures\//, ''), f] as const))('%s', (_name, file) => {
  test('every step cites its source, declares what it reads, and every state change is a declared write', async () => {
    expect(await undeclared(await loadScenario(file), file)).toEqual([]);
  });
});

// No shipped scenario has a page with buffers (PG_private), whose reference the paths that
// release them drop: the same audit on pages with buffers, mapped and not.
const PRIVATE = (program: string, args: string) => `
name: private-pages
flavor: linux-6.1
files:
  - name: data
    dev: "8:1"
    ino: 0x2a
    size: 8192
    pages:
      - { index: 0, flags: [uptodate, private] }
      - { index: 1, flags: [uptodate, private] }
processes:
  - name: p
    vmas:
      - { file: data, start: 0x10000, pgoff: 0, pages: 2, ptes: [0] }
threads:
  - { name: t, program: ${program}, args: ${args} }
  - { name: f, program: fault, args: { mm: p, address: 0x11000 } }
expect: { linux-2.6.15: clean, linux-2.6.15-seqschedlock: clean, linux-2.6.23: clean, linux-6.1: clean, linux-6.12: clean }
`;
describe.each([
  ['invalidate_mapping_pages', '{ file: data, start: 0, end: 1 }'],
  ['invalidate_inode_pages2_range', '{ file: data, start: 0, end: 1 }'],
  ['truncate', '{ file: data, size: 0 }'],
])('pages with buffers: %s', (program, args) => {
  test('every step cites its source, declares what it reads, and every state change is a declared write', async () => {
    expect(await undeclared(parseScenario(PRIVATE(program, args), 'private.yaml'), 'private.yaml')).toEqual([]);
  });
});

// No shipped scenario reaches 2.6.23's do_wp_page, a store landing in a write fault's window, a zap of a PTE the
// write fault left dirty, or writeback's page_mkclean of a dirty PTE (session 21): the same audit on scenarios that do.
const WRITE_FAULTS_2623 = (pages: string, ptes: string, threads: string) => `
name: write-faults-2623
flavor: linux-2.6.23
files:
  - { name: data, dev: "8:1", ino: 0x2a, size: 8192, pages: [${pages}] }
processes:
  - name: p
    vmas:
      - { file: data, start: 0x10000, pages: 2${ptes} }
threads:
${threads}
expect: { linux-2.6.23: clean }
`;
describe.each([
  [
    'an O_DIRECT write of page 0 writes back a page a store dirtied through its PTE, then the store again',
    WRITE_FAULTS_2623(
      '{ index: 0 }, { index: 1 }',
      ', ptes: [1]',
      `  - { name: dio, program: odirect_write, args: { file: data, offset: 0, length: 4096 } }
  - name: st
    program: store
    args: { mm: p, index: 1 }
    then:
      - { program: store, args: { mm: p, index: 1 } }`,
    ),
  ],
  [
    'two stores write-fault one page while invalidate_inode_pages2_range unmaps it',
    WRITE_FAULTS_2623(
      '{ index: 0, flags: [uptodate, private] }',
      '',
      `  - { name: inv, program: invalidate_inode_pages2_range, args: { file: data, start: 0, end: 0 } }
  - { name: st, program: store, args: { mm: p, index: 0 } }
  - { name: st2, program: store, args: { mm: p, index: 0 } }`,
    ),
  ],
])('linux-2.6.23 write faults: %s', (_name, yaml) => {
  test('every step cites its source, declares what it reads, and every state change is a declared write', async () => {
    expect(await undeclared(parseScenario(yaml, 'write-faults-2623.yaml'), 'write-faults-2623.yaml')).toEqual([]);
  });
});
