// A text trace of many address spaces with no `(tgid)` column: PIDS pids, each faulting PAGES pages
// of one file at addresses of its own (the lines of fixtures/replay/mapped-page-removed). Replay
// asks, for each PTE of such a trace, which other address space mapped a page at that address
// (Shadow.otherThreadsAt, docs/replay.md session 43): this measures that lookup's cost.
//
//   node bench/gen-address-spaces.mjs PIDS PAGES > /tmp/as/trace.txt
//   cp fixtures/replay/mapped-page-removed/meta.json /tmp/as/
//   /usr/bin/time -f "%e s %U u" node packages/cli/bin/run.js replay /tmp/as/trace.txt --no-timing --stats
const P = Number(process.argv[2]),
  M = Number(process.argv[3]);

const L = [];
L.push('# tracer: nop', '#', `# entries-in-buffer/entries-written: ${P * M * 6}/${P * M * 6}   #P:2`, '#');
let t = 100_000_000; // microseconds
const ts = () => {
  t += 1;
  return `${Math.floor(t / 1e6)}.${String(t % 1e6).padStart(6, '0')}`;
};
let pfn = 0x10000;
for (let m = 0; m < M; m++)
  for (let p = 0; p < P; p++) {
    const pid = 1000 + p,
      comm = `w${p}`,
      addr = (0x7f0000000000n + BigInt(m) * 0x1000n + BigInt(p) * 0x100000000n).toString(16);
    const f = pfn++;
    const page = (0xffffea0000000000n + BigInt(f) * 0x40n).toString(16);
    const h = `${(comm + '-' + pid).padStart(16)} [000] .....`;
    L.push(`${h} ${ts()}: page_fault_user: address=0x${addr} ip=0x401a2c error_code=0x4`);
    L.push(`${h} ${ts()}: p_filemap_fault_0: (filemap_fault+0x0/0x5a0) arg1=0xffffc90000abfd98`);
    L.push(`${h} ${ts()}: mm_filemap_add_to_page_cache: dev 8:16 ino 2a pfn=0x${f.toString(16)} ofs=${(m * P + p) * 4096} order=0`);
    L.push(`${h} ${ts()}: r_filemap_fault_0: (__do_fault+0x3c/0x140 <- filemap_fault) arg1=0x204`);
    L.push(`${h} ${ts()}: p_do_set_pte_0: (do_set_pte+0x0/0x1a0) arg1=0xffffc90000abfd98 arg2=0x${page} arg3=0x${addr}`);
    L.push(`${h} ${ts()}: p_page_add_file_rmap_0: (page_add_file_rmap+0x0/0x150) arg1=0x${page} arg2=0xffff888003b00000 arg3=0x0`);
  }
console.log(L.join('\n'));
