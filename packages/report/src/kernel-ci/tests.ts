/**
 * The test tree that the kernel-CI formats (KTAP, KCIDB) print: one top-level test per
 * kernel × workload × scenario, each with its rules (or thresholds) as subtests and the
 * findings as diagnostic lines. KTAP and KCIDB are two renderings of one tree, so a result
 * says the same in both.
 *
 * Statuses are KCIDB's, in its priority order (the status of a parent is the highest of
 * its children's, except that PASS beside a DONE child is DONE: `statusOf`): FAIL, ERROR,
 * MISS, PASS, DONE, SKIP. KTAP renders FAIL and ERROR as
 * `not ok`, PASS as `ok`, and MISS, DONE and SKIP as `ok … # SKIP reason` (docs/formats.md).
 */

export const STATUS_PRIORITY = ['FAIL', 'ERROR', 'MISS', 'PASS', 'DONE', 'SKIP'] as const;
export type TestStatus = (typeof STATUS_PRIORITY)[number];

export interface TestNode {
  /** One KCIDB path segment: letters, digits, `_` and `-` (see `segment`). */
  name: string;
  /** Leaves carry one; a parent's is the highest of its children's. */
  status?: TestStatus;
  /** One line: why a test was skipped, missed, errored or only done. */
  reason?: string;
  /** Lines a reader needs: the findings, what was replayed, the thresholds. */
  diagnostics: string[];
  children?: TestNode[];
  /** Files the test's output is in (the first is KCIDB's `log_url`), as given: relative to the artifacts URL, or absolute. */
  files?: string[];
}

/** A kernel the tests ran on (a KCIDB checkout and build). */
export interface TestBuild {
  /** Identity of the kernel as kreplay knows it (release, flavor, side label). */
  key: string;
  /** What a reader calls it (`6.1.0-56-amd64`, `linux-2.6.15`, `debian-6.1`). */
  label: string;
  /** What the build is in this run (`base`, `patched`, `traced`, `model`). */
  role: string;
}

export interface TestRun {
  /** `kreplay replay`, `kreplay diff`, `kreplay explore`, `kreplay ci`. */
  tool: string;
  /** What was run on, as a stable string: part of every KCIDB id (the same inputs give the same ids). */
  key: string;
  /** Comment lines above the plan (KTAP) or nowhere (KCIDB). */
  header: string[];
  builds: TestBuild[];
  /** Top-level tests; `build` is an index into `builds`. */
  tests: Array<TestNode & { build: number }>;
}

/** A name as one KCIDB path segment (and a KTAP test name without `#`): other characters become `_`. */
export function segment(name: string): string {
  const s = name.replace(/[^A-Za-z0-9_-]+/g, '_').replace(/^_+|_+$/g, '');
  return s || '_';
}

/** A top-level test name from the parts that identify it (kernel, workload, scenario), joined by `.`. */
export function testName(...parts: Array<string | undefined>): string {
  return parts
    .filter((p): p is string => p !== undefined && p !== '')
    .map(segment)
    .join('.');
}

/**
 * The status of a node: its own, or the highest-priority status among its children — except
 * that a parent passes only when every child that ran passed: children that passed beside
 * one that is DONE (a rule not judged, a threshold nothing could compare, a rule over a trace
 * with holes) make the parent DONE, not PASS. KCIDB's priority puts PASS above DONE, so the
 * plain rule would call a trace whose rules were mostly not judged a pass.
 */
export function statusOf(node: TestNode): TestStatus {
  if (node.status !== undefined) return node.status;
  const kids = (node.children ?? []).map(statusOf);
  if (kids.length === 0) return 'MISS';
  const top = STATUS_PRIORITY.find((s) => kids.includes(s))!;
  return top === 'PASS' && kids.includes('DONE') ? 'DONE' : top;
}

/**
 * Why a node is not a pass, for its KTAP directive and KCIDB comment: its own reason, else
 * (a parent made DONE by its children) the children that were not a pass, with theirs.
 */
export function reasonOf(node: TestNode): string | undefined {
  if (node.reason !== undefined || node.status !== undefined || statusOf(node) !== 'DONE') return node.reason;
  const done = (node.children ?? []).filter((k) => statusOf(k) === 'DONE');
  return `not a pass: ${done.map((k) => `${k.name}: ${reasonOf(k) ?? 'done'}`).join('; ')}`;
}

/** Multi-line text as diagnostic lines (no empty lines). */
export function lines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l !== '');
}
