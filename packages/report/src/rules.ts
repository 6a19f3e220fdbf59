/**
 * What each rule means, in a sentence (SARIF rule metadata, JUnit test names, text legends).
 */
import { reachesFailOn, type FailOn, type Finding, type RuleId } from '@kreplay/core';

export const RULE_HELP: Record<RuleId, { short: string; full: string }> = {
  'mapped-page-removed': {
    short: 'A page left the page cache while a PTE still mapped it',
    full: 'A page was removed from the page cache while at least one page table entry still mapped it, so a task keeps using a page the file no longer owns. The seed patch\'s WARN_ON(page_mapped(page)) and 6.x\'s "BUG: Bad page cache" catch this.',
  },
  'orphan-page-mapped': {
    short: 'A PTE was installed for a page no longer in the page cache',
    full: 'A page table entry was installed for a page after it had left the page cache (page->mapping == NULL): the mapping shows stale data and no invalidate or truncate will ever zap it.',
  },
  'stale-after-invalidate': {
    short: 'An invalidate returned success while a stale page stayed mapped',
    full: "invalidate_inode_pages2_range returned 0 for a range, yet a PTE in that range maps a page that is not the page cache's current page for its index: mmap readers see data from before an O_DIRECT write.",
  },
  'livelock': {
    short: 'A thread can no longer finish under any schedule',
    full: 'A reachable state from which some thread can no longer reach its end under any schedule.',
  },
  'deadlock': { short: 'Every live thread is blocked', full: 'A reachable state in which every live thread is blocked.' },
  'bug-on': { short: 'A BUG_ON of the modelled code is reached', full: 'A BUG_ON / VM_BUG_ON of the modelled kernel code is reached.' },
  'trace-inconsistent': {
    short: 'The trace contradicts the page-cache state it implies',
    full: 'The trace contradicts the state its own earlier events imply (a page added twice, removed twice, unmapped more often than mapped) with no gap to explain it.',
  },
  'mapped-beyond-eof': {
    short: 'A PTE or PMD maps a page past EOF after the truncate returned',
    full: 'After a truncate that shrank i_size returned, a page table entry (often a PMD of a large folio) still maps a page at or past ceil(i_size / PAGE_SIZE) of a regular file: an access there succeeds instead of raising SIGBUS (74207de2ba10, fa04f5b60fda). tmpfs is exempt.',
  },
  'freed-while-unmapped-direct': {
    short: 'A page went back to the allocator while absent from the kernel direct map',
    full: 'A page whose kernel direct-map entry had been removed (secretmem) was freed before the entry was restored: its next owner oopses on the first kernel access to it (6f86d0534fdd, CVE-2025-40272).',
  },
  'stale-data': {
    short: 'The page cache holds data the file no longer has',
    full: "A read that started after a write to the same bytes returned observed older data (an O_DIRECT write's old data through read(), a mapping or a fault), or a page in the page cache holds data older than the file's, e.g. a hole punch emptied the page cache over its range, and before it changed the block map a read or fault cached a page filled from the blocks being freed: the hole reads old data (or, once the blocks are reused, another file's) (730633f0b7f9).",
  },
};

/** Does this finding reach `--fail-on`? Uncertain findings count: an uncertain error is still an error. */
export function reaches(f: Finding, failOn: FailOn): boolean {
  return reachesFailOn(f.severity, failOn);
}

export function failing(findings: readonly Finding[], failOn: FailOn): boolean {
  return findings.some((f) => reaches(f, failOn));
}
