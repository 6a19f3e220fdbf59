/**
 * Traces of `fixtures/replay/mapped-page-removed` repeated: the same race (a page removed from
 * the page cache while a PTE still maps it) on the pages and as many times as asked, 1 ms apart,
 * each a page of its own pfn and struct page. Replay keeps 10000 findings per rule: a trace of
 * 10001 races is one replay counts past its cap.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './run-cli.js';

const FIXTURE = path.join(repoRoot, 'fixtures/replay/mapped-page-removed');
const VMEMMAP = 0xffffea0000000000n;
const PFN = 0x1234n;

/** Writes DIR/trace.txt and DIR/meta.json: for each `[index, times]`, that many races on page `index` of 8:16/2a. */
export function writeRaceTrace(dir: string, races: ReadonlyArray<readonly [index: number, times: number]>): string {
  const lines = readFileSync(path.join(FIXTURE, 'trace.txt'), 'utf8').split('\n');
  const head = lines.filter((l) => l.startsWith('#'));
  const block = lines.filter((l) => l && !l.startsWith('#'));
  const out: string[] = [];
  let k = 0n;
  for (const [index, times] of races) {
    const pfn = PFN + BigInt(index);
    for (let i = 0; i < times; i++, k++) {
      for (const l of block) {
        out.push(
          l
            .replace(/(\d+)\.(\d{6}):/, (_, s: string, us: string) => {
              const t = BigInt(s) * 1_000_000n + BigInt(us) + k * 1000n;
              return `${t / 1_000_000n}.${String(t % 1_000_000n).padStart(6, '0')}:`;
            })
            // ofs is the byte offset (index << PAGE_SHIFT), as mm_filemap_* print it
            .replace('ofs=0 ', `ofs=${index * 4096} `)
            .replace('pfn=0x1234 ', `pfn=0x${pfn.toString(16)} `)
            .replaceAll('0xffffea0000048d00', `0x${(VMEMMAP + pfn * 64n).toString(16)}`),
        );
      }
    }
  }
  const header = head.map((l) => (l.startsWith('# entries-in-buffer') ? `# entries-in-buffer/entries-written: ${out.length}/${out.length}   #P:2` : l));
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'trace.txt'), `${[...header, ...out].join('\n')}\n`);
  copyFileSync(path.join(FIXTURE, 'meta.json'), path.join(dir, 'meta.json'));
  return dir;
}
