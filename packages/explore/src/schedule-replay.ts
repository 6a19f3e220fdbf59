/**
 * One recorded schedule, run as it was recorded (shuttle's ReplayScheduler): the schedule a
 * previous run reported for a counterexample (`--schedule FILE`), then a livelock's cycle
 * once. Every violation the steps reach is reported with the steps up to it; at the end the
 * final invariants or a deadlock are judged as after any execution, and a livelock's cycle
 * closes in the state graph, where explore() confirms it by an unreduced search. Never
 * exhaustive: one schedule is not every interleaving.
 */
import { InputError, type Machine, type StepInfo } from '@kreplay/core';
import type { RunContext } from './context.js';
import { judgeEnd, survey, threadLabel } from './ends.js';
import { StateGraph } from './graph.js';
import type { SearchStrategy } from './strategy.js';
import type { ExploreOptions, ExploreResult, RecordedSchedule } from './types.js';

export class ScheduleReplay implements SearchStrategy {
  readonly name = 'schedule' as const;
  readonly exhaustive = false;
  readonly coverage = 'sampled' as const;

  /** @param source where the schedule came from, for errors (`cex.trace`) */
  constructor(
    readonly recorded: RecordedSchedule,
    private readonly opts: Pick<ExploreOptions, 'onEnd'> & { source?: string } = {},
  ) {}

  async search<S>(machine: Machine<S>, ctx: RunContext): Promise<StateGraph> {
    const graph = StateGraph.forMachine(machine as Machine<unknown>);
    ctx.distinct = () => graph.size;
    ctx.incomplete.add('schedule');
    let s = machine.initial();
    let node = graph.node(machine.key(s), 0, -1, -1).id;
    ctx.visit(0);
    const ran: number[] = [];
    const look = (): ReturnType<typeof survey> => {
      const seen = survey(machine, s);
      graph.setFinished(node, seen.finished);
      return seen;
    };
    for (const t of [...this.recorded.schedule, ...(this.recorded.cycle ?? [])]) {
      const { next } = look();
      this.check(machine, t, next[t], ran.length + 1);
      const r = machine.step(s, t);
      ran.push(t);
      s = r.state;
      node = graph.node(machine.key(s), 0, node, t).id;
      ctx.visit(ran.length);
      if (r.violations.length > 0) ctx.book.addAll(r.violations, [...ran], 'step');
    }
    const { next, finished, enabled } = look();
    judgeEnd(machine, ctx, s, next, finished, enabled, () => [...ran], this.opts.onEnd);
    ctx.endExecution();
    return graph;
  }

  annotate(result: ExploreResult): void {
    result.replayed = this.recorded;
  }

  /** A schedule that does not fit the machine (another scenario or flavor, an edited file) is the user's input error. */
  private check<S>(machine: Machine<S>, t: number, info: StepInfo | null | undefined, k: number): void {
    const T = machine.threads.length;
    const from = this.opts.source ? ` (${this.opts.source})` : '';
    const hint = 'run the schedule on the scenario and flavor that reported it (the trace header and --json output name both)';
    if (!Number.isInteger(t) || t < 0 || t >= T) {
      throw new InputError(`step ${k} of the schedule${from} runs thread ${t}, but the scenario has threads 0..${T - 1}`, { hint });
    }
    if (!info || !info.enabled) {
      const who = threadLabel(machine as Machine<unknown>, t);
      const state = info ? `blocked there at "${info.label}"${info.blockedOn ? ` (waiting for ${info.blockedOn})` : ''}` : 'finished there';
      throw new InputError(`step ${k} of the schedule${from} runs ${who}, which is ${state}`, { hint });
    }
  }
}
