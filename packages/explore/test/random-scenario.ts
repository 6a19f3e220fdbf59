/**
 * Small random scenarios for a built-in flavor (docs/scenarios.md): one or two files of one to
 * three pages, each page cached or not with random flags (on linux-6.12 an xfs or tmpfs file may
 * hold an order-1 folio), one or two processes mapping the files (some PTEs present), and two or
 * three threads running the flavor's programs with random valid arguments, some with a later call
 * (`then`). Seeded (SplitMix32): the same (seed, stream) gives the same scenario on every machine.
 * A scenario the flavor refuses (an argument it does not take there) is the caller's to skip.
 */
import { stringifyJson } from '@kreplay/core';
import { SplitMix32 } from '../src/index.js';

const PAGE = 4096;

/** Programs that need a filesystem these scenarios never declare (hugetlbfs, secretmem). */
const SPECIAL = new Set(['hugetlb_fault', 'hugetlb_punch', 'migrate_hugetlb', 'secretmem_fault']);

interface FileSpec {
  name: string;
  pages: number;
  size: number;
  fs?: string;
  cached: Array<{ index: number; flags: string[]; order?: number }>;
}

export interface RandomScenario {
  /** The scenario as a plain object (what parseScenario reads; JSON is YAML). */
  body: Record<string, unknown>;
  /** Its text, as a scenario file holds it. */
  text: string;
}

/** Scenario number `stream` of seed `seed` for a flavor offering `programs`; `flavor` names it in the file. */
export function randomScenario(seed: number, stream: number, flavor: string, programs: readonly string[]): RandomScenario {
  const g = SplitMix32.forStream(seed, stream);
  const below = (n: number) => g.below(n);
  const chance = (p: number) => g.next() / 2 ** 32 < p;
  const pick = <T>(xs: readonly T[]): T => xs[below(xs.length)]!;
  const folios = flavor === 'linux-6.12';

  const files: FileSpec[] = [];
  for (let f = 0, n = chance(0.3) ? 2 : 1; f < n; f++) {
    const pages = 1 + below(3);
    const fs = folios && chance(0.35) ? pick(['xfs', 'tmpfs']) : undefined;
    // mostly whole pages; sometimes a size that ends inside the last page
    const size = chance(0.2) ? pages * PAGE - 512 * (1 + below(7)) : pages * PAGE;
    const cached: FileSpec['cached'] = [];
    for (let index = 0; index < pages; index++) {
      if (cached.some((c) => c.order && index < c.index + (1 << c.order))) continue;
      if (!chance(0.55)) continue;
      const flags: string[] = [];
      if (chance(0.85)) flags.push('uptodate');
      if (flags.length && chance(0.25)) flags.push('dirty');
      if (chance(0.08)) flags.push('writeback');
      if (chance(0.1)) flags.push('private');
      const order = fs && index % 2 === 0 && index + 1 < pages && chance(0.5) ? 1 : 0;
      cached.push({ index, flags, ...(order ? { order } : {}) });
    }
    files.push({ name: `f${f}`, pages, size, ...(fs ? { fs } : {}), cached });
  }

  const processes: Array<{ name: string; vmas: Array<Record<string, unknown>> }> = [];
  for (let p = 0, n = chance(0.25) ? 2 : 1; p < n; p++) {
    const vmas = files.map((f, i) => {
      const ptes = f.cached.filter((c) => c.flags.includes('uptodate') && chance(0.3)).map((c) => c.index);
      return { file: f.name, start: 0x10000 * (1 + 2 * i), pgoff: 0, pages: f.pages, ...(ptes.length ? { ptes } : {}) };
    });
    processes.push({ name: `p${p}`, vmas });
  }

  const usable = programs.filter((x) => !SPECIAL.has(x));
  const call = (): { program: string; args: Record<string, unknown> } => {
    const program = pick(usable);
    const fi = below(files.length);
    const f = files[fi]!;
    const file = f.name;
    const pageIx = () => below(f.pages);
    const bytesIn = (unit: number) => unit * below(Math.floor((f.pages * PAGE) / unit));
    switch (program) {
      case 'fault':
      case 'fault_around':
      case 'load':
      case 'store':
        return { program, args: { mm: pick(processes).name, index: pageIx() } };
      case 'truncate':
        return { program, args: { file, size: chance(0.5) ? PAGE * below(f.pages + 1) : 512 * below(f.pages * 8 + 1) } };
      case 'invalidate_inode_pages2_range':
      case 'invalidate_mapping_pages': {
        if (chance(0.3)) return { program, args: { file } };
        const start = pageIx();
        return { program, args: { file, start, end: start + below(f.pages - start) } };
      }
      case 'odirect_write': {
        const offset = chance(0.7) ? PAGE * pageIx() : bytesIn(512);
        return { program, args: { file, offset, length: 512 * (1 + below((f.pages * PAGE - offset) / 512)) } };
      }
      case 'read':
        return { program, args: { file, index: below(f.pages + 1) } };
      case 'punch_hole':
      case 'write': {
        const first = pageIx();
        return { program, args: { file, offset: first * PAGE, length: PAGE * (1 + below(f.pages - first)) } };
      }
      case 'fadvise': {
        const offset = chance(0.5) ? 0 : PAGE * pageIx();
        return { program, args: { file, offset, length: chance(0.4) ? 0 : PAGE * (1 + below(f.pages)) } };
      }
      case 'readahead': {
        const order = f.fs && chance(0.5) && f.pages >= 2 ? 1 : 0;
        return { program, args: { file, index: order ? 0 : pageIx(), order } };
      }
      default:
        throw new Error(`random-scenario: no arguments known for program ${program}`);
    }
  };

  const threads = [];
  for (let t = 0, n = chance(0.2) ? 3 : 2; t < n; t++) {
    const first = call();
    const then = chance(0.25) ? [call()] : undefined;
    threads.push({ name: `t${t}`, ...first, ...(then ? { then } : {}) });
  }

  const body = {
    name: `random-${seed}-${stream}`,
    flavor,
    files: files.map((f, i) => ({
      name: f.name,
      ino: 0x2a + i,
      size: f.size,
      ...(f.fs ? { fs: f.fs } : {}),
      pages: f.cached.map((c) => ({ index: c.index, flags: c.flags, ...(c.order ? { order: c.order } : {}) })),
    })),
    processes,
    threads,
  };
  return { body, text: stringifyJson(body, 2) };
}
