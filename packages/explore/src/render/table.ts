/**
 * A counterexample as a per-thread interleaving table: one column per thread, one row per
 * step, the state change beside it, the violation where it happened.
 */
import type { Machine } from '@kreplay/core';
import type { ScheduledStep } from '../run-schedule.js';
import type { FoundViolation } from '../types.js';

export function renderTable<S>(machine: Machine<S>, v: FoundViolation, steps: readonly ScheduledStep[]): string {
  const T = machine.threads.length;
  const header = ['#', ...machine.threads.map((th) => `${th.name} (T${th.id})`), 'effect'];
  const rows: string[][] = steps.map((st) => {
    const cells = Array.from({ length: T }, (_, t) => (t === st.thread ? st.label : ''));
    const mark = st.inCycle ? `${st.n}↻` : String(st.n);
    const notes = st.violations.map((x) => `!! ${x.rule}`);
    return [mark, ...cells, [st.effect, ...notes].filter(Boolean).join('  ')];
  });
  const width = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((x, c) => (c === cells.length - 1 ? x : x.padEnd(width[c]!)))
      .join(' | ')
      .trimEnd();
  const rule = width.map((w, c) => '-'.repeat(c === width.length - 1 ? Math.max(w, 6) : w)).join('-+-');
  const lines = [line(header), rule, ...rows.map(line)];
  if (v.cycle && v.cycle.length > 0) lines.push(`(steps marked ↻ repeat forever)`);
  if (v.at === 'final') lines.push(`at the end: ${v.rule}: ${v.message}`);
  if (v.at === 'state') lines.push(`then: ${v.rule}: ${v.message}`);
  return lines.join('\n');
}
