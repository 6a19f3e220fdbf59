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
    full: 'invalidate_inode_pages2_range returned 0 for a range, yet a PTE in that range maps a page that is not the page cache\'s current page for its index: mmap readers see data from before an O_DIRECT write.',
  },
  'stale-data': {
    short: 'A read that started after a write returned saw older data',
    full: 'A read (read(), a load through a mapping, or a page fault serving one) that started after a write to the same bytes had returned observed an older version of them: an O_DIRECT write, a buffered write, a truncate or a hole punch was undone for that reader.',
  },
  'mapped-beyond-eof': {
    short: 'A PTE maps a page past end of file after truncate returned',
    full: 'When truncate (or a hole punch) returned, a page table entry still mapped a page at an index past the new end of file: an access there must raise SIGBUS, and the mapping shows data the file no longer has.',
  },
  livelock: {
    short: 'A thread can no longer finish under any schedule',
    full: 'A reachable state from which some thread can no longer reach its end under any schedule.',
  },
  deadlock: { short: 'Every live thread is blocked', full: 'A reachable state in which every live thread is blocked.' },
  'bug-on': { short: 'A BUG_ON of the modelled code is reached', full: 'A BUG_ON / VM_BUG_ON of the modelled kernel code is reached.' },
  'trace-inconsistent': {
    short: 'The trace contradicts the page-cache state it implies',
    full: 'The trace contradicts the state its own earlier events imply (a page added twice, removed twice, unmapped more often than mapped) with no gap to explain it.',
  },
};

/** Does this finding reach `--fail-on`? Uncertain findings count: an uncertain error is still an error. */
export function reaches(f: Finding, failOn: FailOn): boolean {
  return reachesFailOn(f.severity, failOn);
}

export function failing(findings: readonly Finding[], failOn: FailOn): boolean {
  return findings.some((f) => reaches(f, failOn));
}
