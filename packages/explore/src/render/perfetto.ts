/**
 * A counterexample as Chrome trace JSON (Perfetto UI, chrome://tracing): one track per
 * thread, one slice per step, the violation as an instant event, and flow arrows for lock
 * hand-offs. A hand-off is derived from declared accesses only: a release of a lock loc by
 * one thread followed by the next acquire of it by another (Access.lock tags them; untagged
 * writes to a loc named `lock:*` count as acquire/release in turn).
 */
import type { Machine } from '@kreplay/core';
import { encodeOpEvent, stringifyJson } from '@kreplay/core';
import type { ScheduledStep } from '../run-schedule.js';
import type { FoundViolation } from '../types.js';
import type { FtraceHeader } from './ftrace.js';

const PID = 1;
/** Each step is a 10 µs slot; its slice fills 8 µs of it. */
const SLOT = 10;
const DUR = 8;

interface LockUse {
  loc: string;
  kind: 'acquire' | 'release';
}

function lockUses(st: ScheduledStep, held: Map<string, number>): LockUse[] {
  const uses: LockUse[] = [];
  for (const a of st.accesses) {
    if (a.lock) uses.push({ loc: a.loc, kind: a.lock });
    else if (a.mode === 'write' && a.loc.startsWith('lock:')) {
      uses.push({ loc: a.loc, kind: held.get(a.loc) === st.thread ? 'release' : 'acquire' });
    }
  }
  return uses;
}

export function renderPerfetto<S>(machine: Machine<S>, v: FoundViolation, steps: readonly ScheduledStep[], h: FtraceHeader): string {
  const tid = (t: number): number => 101 + t;
  const events: Record<string, unknown>[] = [
    { ph: 'M', name: 'process_name', pid: PID, tid: 0, args: { name: `kreplay explore ${h.scenario} on ${h.flavor}` } },
  ];
  machine.threads.forEach((th, t) => {
    events.push({ ph: 'M', name: 'thread_name', pid: PID, tid: tid(t), args: { name: `${th.name} (T${t}: ${th.program})` } });
    events.push({ ph: 'M', name: 'thread_sort_index', pid: PID, tid: tid(t), args: { sort_index: t } });
  });

  const held = new Map<string, number>();
  const lastRelease = new Map<string, ScheduledStep>();
  let flowId = 0;
  for (const st of steps) {
    const ts = st.n * SLOT;
    const args: Record<string, unknown> = { step: st.n, effect: st.effect };
    if (st.where) args['where'] = st.where;
    if (st.ops.length > 0)
      args['ops'] = st.ops.map((op) => {
        const e = encodeOpEvent(op);
        return `${e.name}: ${e.body}`;
      });
    if (st.inCycle) args['cycle'] = true;
    if (st.after) args['afterCounterexample'] = true;
    events.push({ ph: 'X', cat: 'step', name: st.label, pid: PID, tid: tid(st.thread), ts, dur: DUR, args });
    for (const u of lockUses(st, held)) {
      if (u.kind === 'acquire') {
        const from = lastRelease.get(u.loc);
        if (from && from.thread !== st.thread) {
          flowId++;
          events.push({ ph: 's', cat: 'lock', name: `hand-off ${u.loc}`, id: flowId, pid: PID, tid: tid(from.thread), ts: from.n * SLOT + 1 });
          events.push({ ph: 'f', bp: 'e', cat: 'lock', name: `hand-off ${u.loc}`, id: flowId, pid: PID, tid: tid(st.thread), ts: ts + 1 });
        }
        held.set(u.loc, st.thread);
      } else {
        lastRelease.set(u.loc, st);
        held.delete(u.loc);
      }
    }
    for (const x of st.violations) {
      events.push({ ph: 'i', s: 't', cat: 'violation', name: x.rule, pid: PID, tid: tid(st.thread), ts: ts + DUR, args: { message: x.message } });
    }
  }
  if (v.at !== 'step') {
    const at = (v.schedule.length + 1) * SLOT;
    events.push({ ph: 'i', s: 'g', cat: 'violation', name: v.rule, pid: PID, tid: 0, ts: at, args: { message: v.message } });
  }
  return `${stringifyJson({ traceEvents: events, displayTimeUnit: 'ns', otherData: { scenario: h.scenario, flavor: h.flavor, rule: v.rule, schedule: v.schedule.join(',') } }, 1)}\n`;
}
