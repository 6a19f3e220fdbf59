/**
 * The report reader piece by piece: console prefixes, frames of every kernel generation,
 * page dumps from 2.6 to 6.x, headers to kinds and titles, and bad input. Lines marked
 * "real" are copied from public reports (fixtures/reports/README.md names the sources);
 * the others are written in the format the cited kernel code prints.
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { isInputError } from '@kreplay/core';
import { builtinFlavors } from '@kreplay/mm-model';
import {
  checkReport,
  LineSource,
  modelledFunctions,
  normalizeLine,
  ruleOf,
  PageDumpReader,
  parseFrameLine,
  parseIpLine,
  parseReport,
  textLines,
} from '@kreplay/triage';

function dump(text: string) {
  const lines = text.split('\n');
  const r = new PageDumpReader(1);
  for (const l of lines) r.feed(l);
  return r.dump;
}

describe('console prefixes', () => {
  it.each([
    [
      '[  413.263409][T16632] kernel BUG at include/linux/highmem.h:202!',
      { ts: '413.263409', caller: 'T16632', text: 'kernel BUG at include/linux/highmem.h:202!' },
    ],
    [
      '[  483.600289][    C1] rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:',
      { ts: '483.600289', caller: 'C1', text: 'rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:' },
    ],
    ['[   12.5] [ T99]  dump_stack+0x4b/0x69', { caller: 'T99', text: ' dump_stack+0x4b/0x69' }],
    ['<4>[   36.018992]  show_stack+0x2c/0x44', { ts: '36.018992', text: ' show_stack+0x2c/0x44' }],
    [
      'Jan 21 19:36:25 p54-1 kernel: [19888.292883] WARNING: CPU: 45 PID: 40869 at mm/truncate.c:359 truncate_inode_pages_range+0x38c/0x960',
      { ts: '19888.292883', text: 'WARNING: CPU: 45 PID: 40869 at mm/truncate.c:359 truncate_inode_pages_range+0x38c/0x960' },
    ],
    ['Feb 01 14:13:27 [kernel] kernel BUG at mm/filemap.c:128!', { text: 'kernel BUG at mm/filemap.c:128!' }],
    ['2007-01-06 04:19:03.788181500 <4>BUG: warning at mm/truncate.c:60/cancel_dirty_page()', { text: 'BUG: warning at mm/truncate.c:60/cancel_dirty_page()' }],
    ['[Fri Apr 15 15:56:10 2022]  bch2_write+0x1cb/0x430 [bcachefs]', { text: ' bch2_write+0x1cb/0x430 [bcachefs]' }],
    ['> > [   59.301256] kernel BUG at mm/filemap.c:154!', { quoted: true, text: 'kernel BUG at mm/filemap.c:154!' }],
    // journalctl -o short-iso / -o short-monotonic: the host and "kernel:" after the date (read as no splat before session 39)
    ['2026-12-07T04:00:00+0000 build-7 kernel: kernel BUG at mm/filemap.c:154!', { text: 'kernel BUG at mm/filemap.c:154!' }],
    ['2026-12-07T04:00:00.123456+00:00 build-7 kernel:  dump_stack+0x4b/0x69', { text: ' dump_stack+0x4b/0x69' }],
    [
      '[  100.000011] build-7.lab kernel: BUG: Bad page cache in process trunc  pfn:156c00',
      { ts: '100.000011', text: 'BUG: Bad page cache in process trunc  pfn:156c00' },
    ],
    // kernel text that names a kernel is not a prefix when no date or timestamp came first
    ['Booting kernel: done', { text: 'Booting kernel: done' }],
  ])('%s', (raw, want) => {
    expect(normalizeLine(raw, 7)).toMatchObject({ n: 7, prefixed: want.text !== raw, ...want });
  });

  it('reads CRLF text, undoes quoted-printable and joins lines a mailer wrapped', () => {
    const text = [
      '[    1.000000] one',
      '[    1.000001] two',
      '[    1.000002] three',
      '[   59.296485] page: refcount:3 mapcount:1 mapping:00000000828f872f',
      'index:0x0 pfn:0x13ab4f',
      '[   59.298188] flags:',
      '0x2ffff800000002d(locked|referenced|node=3D0|lastcpu=',
      'pid=3D0x1ffff)',
    ].join('\r\n');
    const lines = textLines(text);
    expect(lines.map((l) => l.text)).toEqual([
      'one',
      'two',
      'three',
      'page: refcount:3 mapcount:1 mapping:00000000828f872f index:0x0 pfn:0x13ab4f',
      'flags: 0x2ffff800000002d(locked|referenced|node=0|lastcpupid=0x1ffff)',
    ]);
    expect(lines.map((l) => l.n)).toEqual([1, 2, 3, 4, 6]);
  });

  it('drops control characters, so escape sequences in a report never reach the terminal', () => {
    const log = `${'[    1.000000] an ordinary line of a kernel log\n'.repeat(4)}[    2.000000] \u001b[2J\u001b]0;owned\u0007kernel BUG at mm/filemap.c:128!\u009b31m`;
    expect(textLines(log)[4]!.text).toBe('[2J]0;ownedkernel BUG at mm/filemap.c:128!31m');
  });

  it('ends a line at a lone CR too: a log saved with CR line ends is not one line cut at 4096 characters', () => {
    const splat = ['kernel BUG at mm/filemap.c:123!', 'CPU: 0 PID: 1 Comm: a Not tainted 6.1.0 #1', 'Call Trace:', ' filemap_unaccount_folio+0x1/0x2'];
    // the old reader saw one line: 30 splats read as "no kernel splat in 1 line(s)"
    const r = parseReport(Array.from({ length: 30 }, () => splat.join('\r')).join('\r'), 'cr.txt');
    expect([r.lines, r.splats.length, r.warnings]).toEqual([120, 30, []]);
    // CR CR LF (a serial capture) is one line end; a CR at the end of one chunk and LF at the start of the next too
    expect(textLines('a\r\r\nb\r\nc').map((l) => l.text)).toEqual(['a', 'b', 'c']);
    const src = new LineSource('chunks');
    const got = [...src.push('a\r'), ...src.push('\nb\r'), ...src.push('c\r'), ...src.end()].map((l) => l.text);
    expect(got).toEqual(['a', 'b', 'c']);
  });

  it('says when it cut a line, and where (it used to cut lines over 4096 characters without a word)', () => {
    const log = [
      '[ 1.0] kernel BUG at mm/filemap.c:1!',
      `[ 1.0] Modules linked in: ${'m '.repeat(3000)}`,
      '[ 1.0] Call Trace:',
      '[ 1.0]  filemap_fault+0x1/0x2',
      '',
    ].join('\n');
    expect(parseReport(log, 'long.txt').warnings).toEqual([
      '1 line(s) longer than 4096 characters were cut to their first 4096 (the first at line 2); what they held past that was not read',
    ]);
    // a runaway line, streamed in chunks, is counted once, at its own line
    const src = new LineSource('runaway');
    src.push('[ 1.0] first\n');
    for (let i = 0; i < 10; i++) src.push('x'.repeat(10_000));
    src.push('\n[ 1.0] last\n');
    src.end();
    expect(src.warnings()).toEqual([
      '1 line(s) longer than 4096 characters were cut to their first 4096 (the first at line 2); what they held past that was not read',
    ]);
  });

  it('counts the call traces outside a splat it does not keep (they name the other racing tasks)', () => {
    const stack = (i: number): string => `task:t${i} state:D stack:0 pid:${i} ppid:1 flags:0x0\nCall Trace:\n filemap_fault+0x1/0x2\n`;
    const r = parseReport(
      `${Array.from({ length: 203 }, (_, i) => stack(i)).join('')}kernel BUG at mm/filemap.c:1!\nCall Trace:\n filemap_fault+0x1/0x2\n`,
      'many.txt',
    );
    expect(r.stacks).toHaveLength(200);
    expect(r.warnings).toEqual([
      '3 more call trace(s) outside any splat after the first 200 were counted, not read (the model looks for other racing tasks in the first 200 only)',
    ]);
  });

  it('reads the splat after a flood of one repeated WARN (it was left unread past the first 500, and triage exited 0)', () => {
    const warn = (i: number): string =>
      `[${i}.0] WARNING: CPU: 0 PID: 1 at fs/foo.c:${i} foo_bar+0x1/0x2\n[${i}.1] Call Trace:\n[${i}.2]  foo_bar+0x1/0x2\n[${i}.3] ---[ end trace ]---\n`;
    const bug = 'kernel BUG at mm/filemap.c:1!\nCall Trace:\n filemap_fault+0x1/0x2\n';
    const flood = Array.from({ length: 1200 }, (_, i) => warn(i)).join('');
    const r = parseReport(`${flood}${bug}`, 'flood.txt');
    expect(r.splats.map((s) => s.title)).toEqual([...Array(500).fill('WARNING in foo_bar'), 'kernel BUG in filemap_fault']);
    expect(r.warnings).toEqual(['700 more splat(s) were read but not listed: each repeats one listed (the same title and call trace)']);
    // 500 different splats are kept, and repeats only while fewer than 500 are listed; a new one past them is still counted, not read
    const other = (i: number): string => `WARNING: CPU: 0 PID: 1 at fs/foo.c:1 f${i}+0x1/0x2\nCall Trace:\n f${i}+0x1/0x2\n---[ end trace ]---\n`;
    const r2 = parseReport(`${Array.from({ length: 501 }, (_, i) => other(i)).join('')}${other(0).repeat(3)}${bug}`, 'many.txt');
    expect(r2.splats).toHaveLength(500);
    expect(r2.warnings).toEqual([
      '3 more splat(s) were read but not listed: each repeats one listed (the same title and call trace)',
      '2 more splat(s) after the first 500 different ones were counted, not read',
    ]);
  });

  it('refuses binary data with an InputError naming the file', () => {
    let err: unknown;
    try {
      textLines('\u0000\u0001garbage', 'vmcore');
    } catch (e) {
      err = e;
    }
    expect(isInputError(err)).toBe(true);
    expect((err as Error).message).toMatch(/not a kernel log: it holds a NUL byte/);
  });
});

describe('frames', () => {
  it.each([
    [' shmem_undo_range+0x6fd/0x18f0', { function: 'shmem_undo_range', offset: 0x6fd, size: 0x18f0, unreliable: false, module: null }],
    [' ? __pfx_kthread+0x10/0x10', { function: '__pfx_kthread', unreliable: true }],
    [' [<ffffffff8112ab2c>] ? remove_from_page_cache+0x20/0x27', { function: 'remove_from_page_cache', unreliable: true }],
    [' [<c0103cfb>] dump_trace+0x215/0x21a', { function: 'dump_trace', offset: 0x215 }],
    [' iomap_releasepage+0x58/0xc0 [xfs]', { function: 'iomap_releasepage', module: 'xfs' }],
    [' [<ffffffff8808f6d3>] :ext4dev:ext4_file_write+0x23/0xc0', { function: 'ext4_file_write', module: 'ext4dev' }],
    [' __filemap_remove_folio+0x210/0x330 mm/filemap.c:225', { function: '__filemap_remove_folio', source: 'mm/filemap.c:225' }],
    [' page_cache_delete mm/filemap.c:145 [inline]', { function: 'page_cache_delete', inline: true, source: 'mm/filemap.c:145', offset: null }],
    [' [c0000000fd9d3b80] [c0000000003f5d1c] fn_x+0x1c/0x2a0 (unreliable)', { function: 'fn_x', unreliable: true }],
    [' [filemap_flush+10/16] __remove_from_page_cache+0x1a/0x40', { function: '__remove_from_page_cache' }],
    ['  __switch_to+0x2b0/0x6e0 (T)', { function: '__switch_to' }],
    [' xdp_test_run_batch.constprop.0+0x362/0x1816', { function: 'xdp_test_run_batch.constprop.0' }],
  ])('%s', (line, want) => {
    const fs = parseFrameLine(line, 3)!;
    expect(fs).toHaveLength(1);
    expect(fs[0]).toMatchObject({ line: 3, ...want });
  });

  it('reads two frames on one 2.6 line and none on register or code lines', () => {
    expect(parseFrameLine(' <c01408bf> __pagevec_free+0x1f/0x30  <c01431ad> __pagevec_release_nonlru+0x5d/0x80', 1)!.map((f) => f.function)).toEqual([
      '__pagevec_free',
      '__pagevec_release_nonlru',
    ]);
    expect(parseFrameLine('RIP: 0010:folio_unlock+0x13d/0x160', 1)).toBeNull();
    expect(parseFrameLine('Code: b0 f0 00 00 00 e9 5d f6 00 00 48 c7', 1)).toBeNull();
    expect(parseFrameLine(' [<001cf410>] 0x1cf410', 1)).toEqual([]);
  });

  it.each([
    ['RIP: 0010:filemap_unaccount_folio+0x153/0x1f0', 'filemap_unaccount_folio'],
    ['RIP: 0010:[<ffffffff8027733c>]  [<ffffffff8027733c>] unlock_page+0x17/0x31', 'unlock_page'],
    ['EIP is at invalidate_complete_page2+0x45/0x84', 'invalidate_complete_page2'],
    ['pc : folio_unlock+0x2c/0x80', 'folio_unlock'],
  ])('instruction pointer %s', (line, fn) => {
    expect(parseIpLine(line, 1)?.function).toBe(fn);
  });
});

describe('page dumps', () => {
  it('2.6.1x bad_page (mm/page_alloc.c: page:ptr flags: mapping: mapcount: count:)', () => {
    expect(dump('page:c1171e00 flags:0x80000000 mapping:00000000 mapcount:1 count:0')).toMatchObject({
      address: 'c1171e00',
      mapping: null,
      mapcount: 1,
      refcount: 0,
      flags: { raw: '0x80000000', names: null },
      layout: expect.stringMatching(/^bad_page 2\.6/),
    });
  });

  it('2.6 page_remove_rmap "Eeek!" (page->flags / page->count / page->mapping)', () => {
    expect(dump('Eeek! page_mapcount(page) went negative! (-1)\n  page->flags = 4000082c\n  page->count = 1\n  page->mapping = f7c3d2a4')).toMatchObject({
      mapcount: -1,
      refcount: 1,
      mapping: 'f7c3d2a4',
      flags: { raw: '0x4000082c' },
      reason: 'page_mapcount went negative',
    });
  });

  it('3.10 (real): count:, "page flags:" and the reason', () => {
    expect(
      dump(
        'page:ffffea000c274880 count:0 mapcount:0 mapping:ffff880279688308 index:0x0\npage flags: 0x2fffff00020000(mappedtodisk)\npage dumped because: non-NULL mapping',
      ),
    ).toMatchObject({
      refcount: 0,
      mapcount: 0,
      mapping: 'ffff880279688308',
      index: '0x0',
      flags: { raw: '0x2fffff00020000', names: ['mappedtodisk'] },
      reason: 'non-NULL mapping',
      layout: expect.stringMatching(/count:/),
    });
  });

  it('4.19 (real): compound_mapcount on the page line', () => {
    expect(
      dump(
        'page:ffffea0105ca9380 count:1 mapcount:0 mapping:ffff88ff7712c180 index:0x0 compound_mapcount: 0\nflags: 0x500000000008100(slab|head)\nraw: 0500000000008100 dead000000000100 dead000000000200 ffff88ff7712c180\npage dumped because: VM_BUG_ON_PAGE(PageSlab(page))',
      ),
    ).toMatchObject({
      refcount: 1,
      head: { fields: { compound_mapcount: '0' } },
      flags: { names: ['slab', 'head'] },
      reason: 'VM_BUG_ON_PAGE(PageSlab(page))',
    });
  });

  it('6.x large folio (real): no pointer, head: order, aops with a dentry, node/zone fields', () => {
    const d = dump(
      [
        'page: refcount:515 mapcount:0 mapping:0000000099fef6e1 index:0x0 pfn:0x156c00',
        'head: order:9 mapcount:1 entire_mapcount:1 nr_pages_mapped:0 pincount:0',
        'aops:hugetlbfs_aops ino:dcc dentry name(?):"my_hugepage_file"',
        'flags: 0x17ffffc00000c1(locked|waiters|head|node=0|zone=2|lastcpupid=0x1fffff)',
        'page_type: f4(hugetlb)',
        'page dumped because: still mapped when deleted',
      ].join('\n'),
    );
    expect(d).toMatchObject({
      address: null,
      refcount: 515,
      pfn: '0x156c00',
      head: { order: 9, fields: { entire_mapcount: '1' } },
      aops: 'hugetlbfs_aops',
      ino: 'dcc',
      dentry: 'my_hugepage_file',
      pageType: 'f4(hugetlb)',
      flags: { names: ['locked', 'waiters', 'head'], fields: { node: '0', zone: '2', lastcpupid: '0x1fffff' } },
      reason: 'still mapped when deleted',
    });
  });
});

describe('splats: kinds and titles', () => {
  const one = (text: string) => parseReport(text).splats[0]!;
  it.each([
    [
      'BUG: Bad page cache in process kr-fault  pfn:0d000\npage: refcount:3 mapcount:1 mapping:00000000cf1f4692 index:0x1 pfn:0xd000\npage dumped because: still mapped when deleted\nCall Trace:\n dump_stack_lvl+0x4b/0x69\n filemap_unaccount_folio+0x1c/0x1c0\n __filemap_remove_folio+0x38/0x1c0\n invalidate_inode_pages2_range+0x1e0/0x4f0',
      'bad-page-cache',
      'BUG: Bad page cache in filemap_unaccount_folio',
    ],
    [
      '------------[ cut here ]------------\nWARNING: CPU: 1 PID: 4242 at mm/truncate.c:225 truncate_inode_partial_folio+0x5c/0x300\nRIP: 0010:truncate_inode_partial_folio+0x5c/0x300\nCall Trace:\n truncate_inode_pages_range+0x1a0/0x540',
      'warning',
      'WARNING in truncate_inode_partial_folio',
    ],
    [
      'BUG: KASAN: use-after-free in filemap_fault+0x802/0xbe0\nRead of size 8 at addr ffff88801d2a7b10 by task syz/1\nCall Trace:\n filemap_fault+0x802/0xbe0\n __do_fault+0x1d7/0x360',
      'kasan',
      'KASAN: use-after-free Read in filemap_fault',
    ],
    [
      'INFO: task kr-write:77 blocked for more than 122 seconds.\nCall Trace:\n __schedule+0x2eb/0x8d0\n schedule+0x46/0xb0\n io_schedule+0x12/0x40\n folio_wait_bit_common+0x136/0x330\n __folio_lock+0x17/0x30',
      'hung-task',
      'INFO: task hung in folio_wait_bit_common',
    ],
    [
      'Badness in __remove_from_page_cache at mm/filemap.c:119\n [<c0103cfb>] dump_stack+0x19/0x1b\n [<c01546a6>] __remove_from_page_cache+0x7e/0x80\n [<c01546c2>] invalidate_complete_page+0x1a/0x47',
      'warning',
      'WARNING in __remove_from_page_cache',
    ],
  ])('%#', (text, kind, title) => {
    expect(one(text)).toMatchObject({ kind, title });
  });

  it('a header with nothing after it is reported truncated, not dropped', () => {
    const s = one('[ 1.0] kernel BUG at mm/filemap.c:1498!\n');
    expect(s).toMatchObject({ kind: 'bug', title: 'kernel BUG in corrupted', truncated: 'the log ends before the call trace' });
  });

  it('lines of other tasks (printk caller ids) inside a splat are noise, not frames', () => {
    const s = parseReport(
      [
        '[ 1.0][  T10] kernel BUG at mm/filemap.c:1499!',
        '[ 1.1][  T11] 9pnet_virtio: no channels available for device syz',
        '[ 1.2][  T10] RIP: 0010:folio_unlock+0xb3/0xd0',
        '[ 1.3][  T10] Call Trace:',
        '[ 1.4][  T11]  unrelated_frame+0x1/0x2',
        '[ 1.5][  T10]  netfs_perform_write+0xc04/0x2140',
      ].join('\n'),
    ).splats[0]!;
    expect(s.frames.map((f) => f.function)).toEqual(['netfs_perform_write']);
    expect(s.noise).toBe(2);
    expect(s.task?.pid).toBe(10);
  });

  it("keeps print_bad_pte's page dump, task line and call trace in its splat (the dump comes after the header)", () => {
    // mm/memory.c print_bad_pte(): the header, dump_page(page, "bad pte"), the addr:/file: lines,
    // dump_stack(). The page line used to end the splat at its header, so the release on the
    // CPU line and the zap's call trace were lost.
    const r = parseReport(
      [
        'BUG: Bad page map in process a.out  pte:8000000123456025 pmd:12345067',
        'page:ffffea0004d15940 refcount:1 mapcount:-1 mapping:ffff888100a1b2c8 index:0x3 pfn:0x134565',
        'aops:ext4_da_aops ino:c dentry name:"file0"',
        'flags: 0x200000000000002c(referenced|uptodate|lru|node=0|zone=2)',
        'page dumped because: bad pte',
        'addr:00007f0000003000 vm_flags:000000fb anon_vma:0000000000000000 mapping:ffff888100a1b2c8 index:3',
        'file:file0 fault:ext4_filemap_fault mmap:ext4_file_mmap read_folio:ext4_read_folio',
        'CPU: 0 PID: 5000 Comm: a.out Not tainted 6.12.9-amd64 #1',
        'Call Trace:',
        ' <TASK>',
        ' dump_stack_lvl+0x5d/0x80',
        ' print_bad_pte+0x1a3/0x260',
        ' zap_pte_range+0x1c6/0x7a0',
        ' unmap_page_range+0x2a4/0x500',
        ' </TASK>',
      ].join('\n'),
    );
    expect(r.splats).toHaveLength(1);
    expect(r.stacks).toHaveLength(0);
    const s = r.splats[0]!;
    expect(s).toMatchObject({ title: 'BUG: Bad page map', kernel: '6.12.9-amd64', lines: { first: 1, last: 15 } });
    expect(s.page).toMatchObject({ mapcount: -1, reason: 'bad pte' });
    expect(s.frames.map((f) => f.function)).toContain('zap_pte_range');
  });
});

describe('oops forms a kernel prints without a file or a header of its own (2026-12-07, session 41)', () => {
  it('reads a BUG and a WARN of a kernel built without CONFIG_DEBUG_BUGVERBOSE (lib/bug.c, kernel/panic.c)', () => {
    // before: neither was a header; the BUG's splat was lost, and with it the report's answer
    const bug = parseReport(
      [
        '[   59.301256] Kernel BUG at filemap_unaccount_folio+0x153/0x1f0 [verbose debug info unavailable]',
        '[   59.301635] invalid opcode: 0000 [#1] PREEMPT SMP NOPTI',
        '[   59.302144] CPU: 4 PID: 17354 Comm: umount Not tainted 6.1.0-13-amd64 #1 Debian 6.1.55-1',
        '[   59.304291] RIP: 0010:filemap_unaccount_folio+0x153/0x1f0',
        '[   59.304300] Call Trace:',
        '[   59.304301]  <TASK>',
        '[   59.304302]  __filemap_remove_folio+0x38/0x1c0',
        '[   59.304303]  </TASK>',
      ].join('\n'),
    );
    expect(bug.splats).toHaveLength(1);
    expect(bug.splats[0]).toMatchObject({ kind: 'bug', title: 'kernel BUG in filemap_unaccount_folio', at: null, fields: { verbose: 'no' } });
    const warn = parseReport(
      [
        'WARNING: CPU: 1 PID: 4242 at truncate_inode_partial_folio+0x5c/0x300',
        'RIP: 0010:truncate_inode_partial_folio+0x5c/0x300',
        'Call Trace:',
        ' truncate_inode_pages_range+0x1a0/0x540',
      ].join('\n'),
    );
    expect(warn.splats[0]).toMatchObject({ kind: 'warning', title: 'WARNING in truncate_inode_partial_folio', cpu: 1, task: { pid: 4242 } });
  });

  it("reads x86's Bad pagetable oops and its die() headers (arch/x86/mm/fault.c pgtable_bad, dumpstack.c __die_header)", () => {
    // the media report's first oops: before, its three splats started at the Bad page map after it
    const media = parseReport(
      readFileSync(new URL('../../../fixtures/reports/linux-media-2011-01-25-shmem-remove-from-page-cache/report.txt', import.meta.url), 'utf8'),
    );
    expect(media.splats.map((s) => s.title)).toEqual([
      'Bad pagetable',
      'BUG: Bad page map',
      'kernel BUG in __remove_from_page_cache',
      'BUG: scheduling while atomic in exit_mm',
    ]);
    expect(media.splats[0]).toMatchObject({ lines: { first: 1, last: 14 }, task: { comm: 'vdr-sxfe', pid: 22841 } });
    const df = parseReport(
      ['double fault: 0000 [#1] PREEMPT SMP NOPTI', 'RIP: 0010:filemap_fault+0x12/0x800', 'Call Trace:', ' <TASK>', ' __do_fault+0x3a/0x100', ' </TASK>'].join(
        '\n',
      ),
    );
    expect(df.splats.map((s) => [s.kind, s.title])).toEqual([['other', 'double fault in filemap_fault']]);
    // after a kernel BUG, its own invalid opcode line still continues it
    expect(parseReport('kernel BUG at mm/filemap.c:128!\ninvalid opcode: 0000 [#1] SMP\nRIP: 0010:f+0x1/0x2\nCall Trace:\n g+0x1/0x2').splats).toHaveLength(1);
  });

  it.each([
    ['RIP: 0010:filemap_fault+0x12/0x800', 'x86', 'its RIP: line'],
    ['EIP:    0060:[<c0154a08>]    Not tainted VLI', 'x86', 'its EIP: line'],
    ['pc : filemap_fault+0x12/0x800', 'arm64', 'its pc : line'],
    ['pc : [<c0154a08>]    lr : [<c0154a00>]    psr: 60000013', 'arm', 'its pc : [<...>] line'],
    ['NIP:  c000000000412b8c LR: c000000000412b70 CTR: 0000000000000000', 'powerpc', 'its NIP: line'],
    ['epc : filemap_fault+0x12/0x800', 'riscv', 'its epc : line'],
    ['Krnl PSW : 0704c00180000000 000000000041d2c2 (filemap_fault+0x12/0x800)', 's390', 'its Krnl PSW : line'],
    [' <TASK>', 'x86', 'its <TASK> marks'],
    [' el0_svc+0x2c/0x84', 'arm64', 'its frame el0_svc'],
    [' entry_SYSCALL_64_after_hwframe+0x44/0xae', 'x86', 'its frame entry_SYSCALL_64_after_hwframe'],
  ])('reads the CPU from %j', (line, name, from) => {
    const s = parseReport(
      ['kernel BUG at mm/filemap.c:128!', 'CPU: 0 PID: 1 Comm: x Not tainted 6.1.0 #1', 'Call Trace:', line, ' filemap_fault+0x12/0x800'].join('\n'),
    ).splats[0]!;
    expect(s.arch).toEqual({ name, ordering: name === 'x86' || name === 's390' ? 'tso' : 'weak', from });
  });

  it("reads the CPU from arm64's Call trace: label and from a release that names it, else none", () => {
    const s = (label: string, release: string) =>
      parseReport(['kernel BUG at mm/filemap.c:128!', `CPU: 0 PID: 1 Comm: x Not tainted ${release} #1`, label, ' filemap_fault+0x12/0x800'].join('\n'))
        .splats[0]!.arch;
    expect(s('Call trace:', '6.1.0')).toMatchObject({ name: 'arm64', from: "its 'Call trace:' label" });
    expect(s('Call Trace:', '6.1.0-13-arm64')).toMatchObject({ name: 'arm64', from: 'its release 6.1.0-13-arm64' });
    expect(s('Call Trace:', '5.14.0-70.el9.ppc64le')).toMatchObject({ name: 'powerpc', ordering: 'weak' });
    expect(s('Call Trace:', '6.1.0-13-amd64')).toMatchObject({ name: 'x86', ordering: 'tso' });
    expect(s('Call Trace:', '6.1.0')).toBeNull();
  });
});

describe('rules from a BUG without its page dump', () => {
  const modelled = modelledFunctions(builtinFlavors());
  const bug = (fn: string, release: string) =>
    parseReport(
      [
        'kernel BUG at mm/filemap.c:128!',
        'invalid opcode: 0000 [#1] SMP',
        `CPU: 0 PID: 1 Comm: t Not tainted ${release} #1`,
        `RIP: 0010:${fn}+0x10/0x80`,
        'Call Trace:',
        ' truncate_inode_pages_range+0x1a0/0x540',
      ].join('\n'),
    ).splats[0]!;
  it.each([
    ['__remove_from_page_cache', '2.6.35.10', 'mapped-page-removed'],
    ['__delete_from_page_cache', '4.4.0', 'mapped-page-removed'],
    ['__delete_from_page_cache', '4.9.0', null],
    ['filemap_unaccount_folio', '6.1.0', 'mapped-page-removed'],
    ['delete_from_page_cache', '3.10.0', null],
  ])('kernel BUG in %s on %s → %s', (fn, release, rule) => {
    expect(ruleOf(bug(fn, release), modelled).rule).toBe(rule);
  });
});

describe('a hung task: waiting for a page lock, or for writeback', () => {
  const modelled = modelledFunctions(builtinFlavors());
  const hung = (...frames: string[]) =>
    parseReport(
      [
        'INFO: task t:123 blocked for more than 143 seconds.',
        '      Not tainted 6.1.0 #1',
        'task:t               state:D stack:0     pid:123   ppid:1      flags:0x00004000',
        'Call Trace:',
        ' <TASK>',
        ' __schedule+0x34d/0x9e0',
        ' schedule+0x5a/0xd0',
        ' io_schedule+0x42/0x70',
        ...frames.map((f) => ` ${f}+0x10/0x80`),
        ' </TASK>',
      ].join('\n'),
    ).splats[0]!;
  // folio_wait_bit_common waits for PG_locked or PG_writeback: a writeback wait was read as a page-lock deadlock
  it.each([
    [['folio_wait_bit_common', 'folio_wait_writeback', 'truncate_inode_pages_range'], null, /for writeback to end \(called from folio_wait_writeback\)/],
    [['sync_page', '__wait_on_bit', 'wait_on_page_writeback_range', 'filemap_fdatawait'], null, /called from wait_on_page_writeback_range/],
    [['folio_wait_bit_common', '__folio_lock', 'truncate_inode_pages_range'], 'deadlock', /a page lock or the invalidate lock/],
    [['folio_wait_bit_common', 'do_read_cache_folio', 'read_cache_folio'], 'deadlock', /a page lock or the invalidate lock/],
  ])('%j → %s', (frames, rule, because) => {
    const r = ruleOf(hung(...frames), modelled);
    expect(r.rule).toBe(rule);
    expect(r.because).toMatch(because);
  });
});

describe('bad input', () => {
  it('an empty report and a log without a splat are input errors that say so', () => {
    expect(() => checkReport(parseReport('', 'empty.txt'))).toThrow(/the report is empty/);
    expect(() => checkReport(parseReport('[    0.000000] Linux version 6.1.0-13-amd64\n[    1.0] eth0: link up\n', 'boot.log'))).toThrow(
      /no kernel splat in 2 line\(s\)/,
    );
  });
});
