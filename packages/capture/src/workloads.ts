/**
 * The racing workloads (C sources in packages/capture/c/), compiled statically with the
 * host gcc and cached by a hash of their sources and the compiler's version.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError, readErrorWhy, releaseSeries, shippedPath } from '@kreplay/core';
import { run } from './tools.js';

/** packages/capture/c, from src/ (tests) and dist/ (built) alike. */
export const C_DIR = fileURLToPath(new URL('../c/', import.meta.url));

export interface Workload {
  name: string;
  source: string;
  description: string;
  /** Profile the workload is meant to be traced with (kernel-configs/capture/<name>.yaml). */
  profile: string;
}

export const WORKLOADS: readonly Workload[] = [
  {
    name: 'odirect-race',
    source: 'odirect-race.c',
    profile: 'odirect-race',
    description: 'O_DIRECT writer racing mmap faults; coherency check after every write',
  },
  {
    name: 'odirect-dropper',
    source: 'odirect-dropper.c',
    profile: 'odirect-dropper',
    description: 'odirect-race plus a posix_fadvise(DONTNEED) cache dropper',
  },
  {
    name: 'truncate-racer',
    source: 'truncate-racer.c',
    profile: 'truncate-racer',
    description: 'odirect-race plus a shrink/regrow truncater, SIGBUS accounted',
  },
  { name: 'read-invalidate', source: 'read-invalidate.c', profile: 'read-invalidate', description: 'buffered reads racing O_DIRECT and fadvise invalidation' },
  {
    name: 'remap-truncate',
    source: 'remap-truncate.c',
    profile: 'remap-truncate',
    description: 'the last page mapped alone on fresh page tables (fault-around on) racing a slow shrink/regrow truncater',
  },
];

export function findWorkload(name: string): Workload {
  const w = WORKLOADS.find((x) => x.name === name);
  if (!w) throw new InputError(`unknown workload ${name}`, { hint: `one of: ${WORKLOADS.map((x) => x.name).join(', ')}` });
  return w;
}

/** kernel-configs/ (capture profiles live in kernel-configs/capture/): the repository's in a clone, the package's own when installed. */
export const KERNEL_CONFIGS_DIR = dirname(shippedPath(import.meta.url, 'kernel-configs/capture'));

/**
 * The profile a workload is traced with by default: `kernel-configs/capture/<profile>.yaml`
 * (written for 6.1), or `kernel-configs/capture/linux-<major>.<minor>/<profile>.yaml` when
 * the kernel's release (or a series prefix such as `6.12.`) has its own — kernels that
 * renamed the probed functions (6.12: folio_add_file_rmap_ptes for page_add_file_rmap, ...).
 */
export function defaultProfilePath(w: Workload, release?: string): string {
  const series = release === undefined ? undefined : releaseSeries(release);
  if (series) {
    const own = join(KERNEL_CONFIGS_DIR, 'capture', `linux-${series}`, `${w.profile}.yaml`);
    if (existsSync(own)) return own;
  }
  return join(KERNEL_CONFIGS_DIR, 'capture', `${w.profile}.yaml`);
}

/** Binary name inside the guest. */
export function workloadBinary(w: Workload): string {
  return `kr-${w.name}`;
}

/**
 * Compile (or reuse) a user's C program — a bug report's reproducer — statically with the
 * host gcc, as the guest runs workloads: `<binary> FILE PAGES DURATION_MS`, where FILE is
 * the traced test file. It may include `kr.h`. Cached by a hash of its text and gcc's version.
 */
export async function compileUserProgram(source: string, cacheDir: string): Promise<string> {
  let text: Buffer;
  try {
    text = await readFile(source);
  } catch (e) {
    throw new InputError(`cannot read the reproducer: ${readErrorWhy(e)}`, { file: source, hint: 'pass the path of a C source file (--repro prog.c)' });
  }
  const gccVersion = (await run('gcc', ['--version'], { what: 'gcc --version' })).split('\n')[0];
  const dir = join(cacheDir, 'workloads');
  await mkdir(dir, { recursive: true });
  const bin = join(dir, `kr-repro-${createHash('sha256').update(gccVersion).update(text).digest('hex').slice(0, 12)}`);
  if (!existsSync(bin)) {
    const tmp = `${bin}.tmp${process.pid}`;
    try {
      await run('gcc', ['-static', '-O2', '-pthread', '-w', '-I', C_DIR, '-x', 'c', '-o', tmp, source], { what: `gcc ${source}` });
    } catch (e) {
      throw new InputError(`the reproducer does not compile: ${(e as Error).message.split('\n').slice(0, 12).join('\n')}`, {
        file: source,
        hint: 'it is built with gcc -static -pthread for the guest; fix the errors above',
      });
    }
    await rename(tmp, bin);
  }
  return bin;
}

/** Compile (or reuse) the static binary of each workload; returns name → path. */
export async function compileWorkloads(ws: readonly Workload[], cacheDir: string): Promise<Map<string, string>> {
  const gccVersion = (await run('gcc', ['--version'], { what: 'gcc --version' })).split('\n')[0];
  const headers = (await readdir(C_DIR)).filter((f) => f.endsWith('.h')).sort();
  const headerText = await Promise.all(headers.map((h) => readFile(join(C_DIR, h))));
  const out = new Map<string, string>();
  const dir = join(cacheDir, 'workloads');
  await mkdir(dir, { recursive: true });
  for (const w of ws) {
    const h = createHash('sha256')
      .update(gccVersion)
      .update(await readFile(join(C_DIR, w.source)));
    for (const t of headerText) h.update(t);
    const bin = join(dir, `${workloadBinary(w)}-${h.digest('hex').slice(0, 12)}`);
    if (!existsSync(bin)) {
      const tmp = `${bin}.tmp${process.pid}`;
      await run('gcc', ['-static', '-O2', '-pthread', '-Wall', '-o', tmp, join(C_DIR, w.source)], { what: `gcc ${w.source}` });
      await rename(tmp, bin);
    }
    out.set(w.name, bin);
  }
  return out;
}
