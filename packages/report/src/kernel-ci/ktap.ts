/**
 * KTAP version 1 (Documentation/dev-tools/ktap.rst) as the kernel's own parser,
 * tools/testing/kunit/kunit_parser.py (`kunit.py parse`), reads it:
 *
 *   KTAP version 1
 *   1..1
 *   # kreplay replay …
 *       KTAP version 1
 *       # Subtest: 6_1_0-56-amd64.odirect-race
 *       1..4
 *       # error (certain) at 12.000100 on CPU 1 ...   ← a finding, before its rule's result
 *       not ok 1 mapped-page-removed
 *       ok 2 orphan-page-mapped
 *       ...
 *   not ok 1 6_1_0-56-amd64.odirect-race
 *
 * A test without subtests (an explorer verdict, a ci group) is a plain result line with
 * its diagnostics above it.
 */
import { escapedChar, LAYOUT_CONTROLS, printable } from '@kreplay/core';
import { reasonOf, statusOf, type TestNode, type TestRun, type TestStatus } from './tests.js';

// every control character (a diagnostic is one line), and the bidi controls and line separators
const DIAGNOSTIC_UNSAFE = new RegExp(`[\\u0000-\\u001f\\u007f-\\u009f${LAYOUT_CONTROLS}]`, 'g');

/**
 * One diagnostic line, made safe for the parser: control characters become `\xNN` (bidi controls
 * and line separators `\uNNNN`), and the
 * texts kunit_parser gives a meaning wherever they appear (the end-of-KTAP markers of a
 * kernel log, a `# Subtest:` header) are defused, so quoting a kernel log cannot end or
 * restructure the output.
 */
export function diagnostic(text: string): string {
  let t = text.replace(DIAGNOSTIC_UNSAFE, escapedChar);
  t = t.replace(/List of all partitions:|Kernel panic - not syncing: VFS:|reboot: System halted/g, (m) => m.replace(':', ' -'));
  if (/^\s*Subtest:/.test(t)) t = `(${t.trimStart()})`;
  return `# ${t}`;
}

function directive(status: TestStatus, reason: string | undefined): string {
  if (status === 'MISS' || status === 'DONE' || status === 'SKIP')
    return ` # SKIP ${status === 'SKIP' ? '' : `${status.toLowerCase()}: `}${oneLine(reason ?? status.toLowerCase())}`;
  return '';
}

function oneLine(s: string): string {
  return diagnostic(s).slice(2).replace(/#/g, '');
}

function result(status: TestStatus, n: number, node: TestNode): string {
  const ok = status === 'FAIL' || status === 'ERROR' ? 'not ok' : 'ok';
  return `${ok} ${n} ${node.name}${directive(status, reasonOf(node))}`;
}

function emit(node: TestNode, n: number, indent: string, out: string[]): void {
  const status = statusOf(node);
  const diags = [...node.diagnostics, ...(status === 'ERROR' && node.reason ? [`error: ${node.reason}`] : [])];
  const kids = node.children ?? [];
  if (kids.length === 0) {
    for (const d of diags) out.push(`${indent}${diagnostic(d)}`);
    out.push(`${indent}${result(status, n, node)}`);
    return;
  }
  const inner = `${indent}    `;
  out.push(`${inner}KTAP version 1`, `${inner}# Subtest: ${node.name}`, `${inner}1..${kids.length}`);
  for (const d of diags) out.push(`${inner}${diagnostic(d)}`);
  kids.forEach((k, i) => emit(k, i + 1, inner, out));
  out.push(`${indent}${result(status, n, node)}`);
}

export function formatKtap(run: TestRun): string {
  // the plan right after the version line: kunit_parser reads it only there
  const out = ['KTAP version 1', `1..${run.tests.length}`, ...run.header.map(diagnostic)];
  run.tests.forEach((t, i) => emit(t, i + 1, '', out));
  // the diagnostics are escaped above; test names (a workload's, a scenario's) too
  return printable(`${out.join('\n')}\n`);
}
