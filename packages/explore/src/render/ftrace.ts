/**
 * A counterexample as an ftrace text trace, as docs/trace-format.md specifies: a nop-tracer
 * trace file whose header line and events are the explorer-trace contract's
 * (packages/core/src/contracts/explore-trace.ts: `# kreplay: explore format=1 …`, the 6.1
 * filemap tracepoints, `kreplay:<op>` markers, thread t as task `<name>-<101+t>` on CPU t,
 * step k at 1.000000 s + k µs). This file says which events each step of a run shows.
 */
import { encodeExploreTrace, encodeOpEvent, stepMarker, type Machine } from '@kreplay/core';
import type { ScheduledStep } from '../run-schedule.js';
import type { FoundViolation } from '../types.js';

export interface FtraceHeader {
  scenario: string;
  flavor: string;
}

export function renderFtrace<S>(machine: Machine<S>, v: FoundViolation, steps: readonly ScheduledStep[], h: FtraceHeader): string {
  const header = {
    scenario: h.scenario,
    flavor: h.flavor,
    schedule: v.schedule,
    cycle: v.cycle,
    then: steps.filter((st) => st.after).map((st) => st.thread),
    rule: v.rule,
  };
  const events = steps.flatMap((st) =>
    (st.ops.length > 0 ? st.ops.map(encodeOpEvent) : [stepMarker(st.label)]).map((event) => ({ thread: st.thread, step: st.n, event })),
  );
  return encodeExploreTrace(
    header,
    machine.threads.map((t) => t.name),
    events,
  );
}
