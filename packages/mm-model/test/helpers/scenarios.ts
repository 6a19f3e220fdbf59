import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMachine, parseScenario, resolveFlavor, type MmMachine, type MmState } from '@kreplay/mm-model';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
export const SCENARIOS = resolve(ROOT, 'fixtures/scenarios');
export const FLAVORS = resolve(ROOT, 'fixtures/flavors');
export const RACES = resolve(ROOT, 'fixtures/races');

/**
 * A machine from an inline YAML scenario. `trackData`: every program counts as reading page
 * data, so the machine tracks data versions in pages and disk blocks (a test that looks at what
 * reached the disk needs them: untracked, a page's data and a written block are both UNTRACKED).
 */
export async function machineOf(yaml: string, flavor: string, opts: { trackData?: boolean } = {}): Promise<MmMachine> {
  const f = await resolveFlavor(flavor);
  const programs = opts.trackData ? Object.fromEntries(Object.entries(f.programs).map(([name, p]) => [name, { ...p, readsData: true }])) : f.programs;
  return createMachine(parseScenario(yaml, 'inline.yaml'), { ...f, programs });
}

/**
 * Steps thread t while `until` is false and it can run (at most 300 steps); the labels and effects of its steps.
 * Where t is blocked and the machine's I/O completion (`end_io`, Env.endIo) can step, that steps instead (its
 * labels are among t's): a read t submitted completes while t waits for it, as in the kernel.
 */
export function drive(m: MmMachine, s: MmState, t: number, until: (s: MmState) => boolean = () => false) {
  const labels: string[] = [];
  const effects: string[] = [];
  for (let k = 0; k < 300 && !until(s); k++) {
    let n = m.next(s, t);
    let u = t;
    if (n && !n.enabled && m.env.endIo !== undefined && m.next(s, m.env.endIo)?.enabled === true) {
      u = m.env.endIo;
      n = m.next(s, u);
    }
    if (!n || !n.enabled) break;
    labels.push(n.label);
    const r = m.step(s, u);
    effects.push(r.effect);
    s = r.state;
  }
  return { s, labels, effects: effects.join(' | ') };
}

/** Completes every read in flight (the machine's `end_io` steps while it can); s itself without one. */
export function completeIo(m: MmMachine, s: MmState): MmState {
  const io = m.env.endIo;
  if (io === undefined) return s;
  while (m.next(s, io)?.enabled === true) s = m.step(s, io).state;
  return s;
}

/** A linux-6.1 scenario head: file `data` (size bytes, the cached pages given) mapped by process `p` (no threads: append them). */
export function linux61File(pages: string, size = 4096, vmaPages = 2, start = '0x10000'): string {
  return `
flavor: linux-6.1
files:
  - { name: data, dev: "8:1", ino: 0x2a, size: ${size}, pages: [${pages}] }
processes:
  - name: p
    vmas:
      - { file: data, start: ${start}, pages: ${vmaPages} }`;
}

/** Run thread ids in order from the initial state; returns every step's result. */
export function run<S>(
  m: { initial(): S; step(s: S, t: number): { state: S; ops: unknown[]; violations: { rule: string }[]; effect: string } },
  schedule: number[],
) {
  let s = m.initial();
  const steps = [];
  for (const t of schedule) {
    const r = m.step(s, t);
    steps.push(r);
    s = r.state;
  }
  return { state: s, steps };
}

/** One cached uptodate page at index 0 of `data`, mapped by `mapper` when `mapped`. */
export function onePage(opts: { mapped?: boolean; threads: string }): string {
  return `
flavor: linux-2.6.15
files:
  - { name: data, dev: "8:1", ino: 0x2a, size: 4096, pages: [{ index: 0, pfn: 7 }] }
processes:
  - name: mapper
    vmas:
      - { file: data, start: 0x10000, pages: 1${opts.mapped ? ', ptes: [0]' : ''} }
threads:
${opts.threads}
`;
}
