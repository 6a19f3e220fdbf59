import { describe, expect, it } from '@jest/globals';
import { parseProfile } from '../src/profile.js';
import { guestScript, tracefsPlan } from '../src/guest-script.js';
import { shQuote, shTemplate } from '../src/shell.js';
import type { OffsetsTable } from '../src/fetch-offsets.js';

const profile = parseProfile(
  `name: t
faultAroundBytes: 4096
tracepoints:
  - event: filemap:mm_filemap_add_to_page_cache
    filter: "i_ino == \${ino} && s_dev == \${dev}"
kprobes:
  - function: page_add_file_rmap
    fetch:
      page: "$arg1:x64"
      ino: "+{inode.i_ino}(+{address_space.host}(+{page.mapping}($arg1))):u64"
    filter: "ino == \${ino}"
  - function: filemap_fault
    type: kretprobe
    fetch: { ret: "$retval:x64" }
    filter: 'comm ~ "kr-*"'
`,
  't.yaml',
);
const offsets: OffsetsTable = {
  release: '6.1.0-56-amd64',
  source: 'test',
  offsets: { 'inode.i_ino': 64, 'address_space.host': 0, 'page.mapping': 24 },
  sizes: { page: 64 },
};

describe('guest tracefs plan', () => {
  it('defines kprobes with offsets filled in, then filters, then enables', () => {
    expect(tracefsPlan(profile, offsets)).toEqual([
      {
        label: 'kprobe page_add_file_rmap',
        file: 'kprobe_events',
        append: true,
        value: 'p:kreplay/page_add_file_rmap page_add_file_rmap page=$arg1:x64 ino=+64(+0(+24($arg1))):u64',
      },
      { label: 'kprobe filemap_fault_ret', file: 'kprobe_events', append: true, value: 'r:kreplay/filemap_fault_ret filemap_fault ret=$retval:x64' },
      {
        label: 'filter of filemap:mm_filemap_add_to_page_cache',
        file: 'events/filemap/mm_filemap_add_to_page_cache/filter',
        value: 'i_ino == ${ino} && s_dev == ${dev}',
      },
      { label: 'filter of kprobe page_add_file_rmap', file: 'events/kreplay/page_add_file_rmap/filter', value: 'ino == ${ino}' },
      { label: 'filter of kprobe filemap_fault_ret', file: 'events/kreplay/filemap_fault_ret/filter', value: 'comm ~ "kr-*"' },
      { label: 'enable filemap:mm_filemap_add_to_page_cache', file: 'events/filemap/mm_filemap_add_to_page_cache/enable', value: '1' },
      { label: 'enable kprobe page_add_file_rmap', file: 'events/kreplay/page_add_file_rmap/enable', value: '1' },
      { label: 'enable kprobe filemap_fault_ret', file: 'events/kreplay/filemap_fault_ret/enable', value: '1' },
    ]);
  });

  it('writes a script that checks kallsyms, every tracefs write, and dumps text per run', () => {
    const s = guestScript({
      profile,
      offsets,
      workloadBinary: 'kr-odirect-race',
      durationMs: 1500,
      runs: 2,
      functions: ['filemap_fault', 'page_add_file_rmap'],
      traceCmd: false,
    });
    expect(s).toContain('grep -w -F -e filemap_fault -e page_add_file_rmap -e vmemmap_base /proc/kallsyms');
    // exact name, text symbol, in the kernel or a module (`name\t[module]`), not `name.cold`
    expect(s).toContain('grep -qE " [tTwW] $fn([[:space:]]|\\$)" $O/kallsyms.txt');
    expect(s).toContain('tw \'filter of kprobe page_add_file_rmap\' $T/events/kreplay/page_add_file_rmap/filter "ino == ${KR_INO}"');
    expect(s).toContain("tw 'fault_around_bytes' /sys/kernel/debug/fault_around_bytes 4096");
    // every line carries its thread group (the `(tgid)` column), set before tracing starts
    expect(s).toContain("tw 'record-tgid' $T/options/record-tgid 1");
    expect(s.indexOf("tw 'record-tgid'")).toBeLessThan(s.indexOf("tw 'tracing_on' $T/tracing_on 1"));
    expect(s).toContain('/bin/kr-odirect-race $F 16 1500');
    expect(s).toContain('while [ $i -le 2 ]');
    // the workload's output reaches the console prefixed, so no line of it reads as a protocol line
    expect(s).toContain("sed 's/^/workload| /' $D/workload.out");
    expect(s).not.toMatch(/^\s*cat \$D\/workload\.out/m);
    expect(s.indexOf('cat $T/trace > $D/trace.txt')).toBeGreaterThan(s.indexOf("tw 'tracing_on' $T/tracing_on 0", s.indexOf('phase workload')));
    // Every write into tracefs goes through the checked writer.
    expect(s.split('\n').filter((l) => /> *\$T\//.test(l) && !/^\s*(tw|if \[ "\$4")/.test(l.trim()))).toEqual([]);
    expect(s).not.toContain('trace-cmd');
  });

  it("with trace-cmd, saves the kernel's saved_tgids beside each run's trace.dat, after the trace (session 44)", () => {
    const s = guestScript({ profile, offsets, workloadBinary: 'kr-odirect-race', durationMs: 1500, runs: 2, functions: ['filemap_fault'], traceCmd: true });
    // a trace.dat names no thread groups: the table the text's `(tgid)` column is read from, tracing off
    expect(s).toContain('cat $T/saved_tgids > $D/saved_tgids 2>/dev/null || rm -f $D/saved_tgids');
    expect(s.indexOf('cat $T/saved_tgids')).toBeGreaterThan(s.indexOf('/bin/trace-cmd extract -o $D/trace.dat'));
    expect(s.indexOf('cat $T/saved_tgids')).toBeGreaterThan(s.indexOf("tw 'tracing_on' $T/tracing_on 0", s.indexOf('phase workload')));
    expect(s.indexOf('cat $T/saved_tgids')).toBeLessThan(s.indexOf('i=$((i + 1))'));
  });

  it('quotes values for the guest shell', () => {
    expect(shQuote("it's")).toBe(`'it'\\''s'`);
    expect(shTemplate('comm ~ "kr-*" && ino == ${ino}')).toBe('"comm ~ \\"kr-*\\" && ino == ${KR_INO}"');
    expect(shTemplate('$arg1 `x`')).toBe('"\\$arg1 \\`x\\`"');
  });
});
