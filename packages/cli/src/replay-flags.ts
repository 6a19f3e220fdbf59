/** Flags every command that replays traces shares (replay, diff, report), and what they mean to ReplayOptions. */
import { Flags } from '@oclif/core';
import { InputError } from '@kreplay/core';
import { checkTraceClock, TRACE_CLOCK_NAMES } from '@kreplay/replay';

export const REPLAY_TRUST_FLAGS = {
  'perf-lost-events-shown': Flags.boolean({
    description:
      'perf script traces were printed with --show-lost-events, so their lost events are in them (without it, a perf script trace counts as possibly missing events anywhere)',
  }),
  'clock-skew': Flags.string({
    description:
      "how far apart the CPUs' trace clocks may be, in the trace's time units (nanoseconds; cycles on x86-tsc): events of different CPUs this close are tried in every order, as ties are. Without it a per-CPU clock (local, perf, x86-tsc), or a trace that does not name its clock, orders no two CPUs' events",
  }),
  'trace-clock': Flags.string({
    description: `the trace clock the traces were recorded with, for traces that do not name it (tracefs or trace-cmd report text without meta.json, perf script without its clock header): ${TRACE_CLOCK_NAMES.join(', ')}. Without it such a trace is read as on a per-CPU clock (the tools' default); a trace.dat's or meta.json's clock wins, and one that differs is an error`,
  }),
};

/** What the shared flags ask of replay. */
export function replayTrust(flags: { 'perf-lost-events-shown'?: boolean; 'clock-skew'?: string; 'trace-clock'?: string }): {
  perfLostEventsShown?: true;
  clockSkew?: bigint;
  traceClock?: string;
} {
  const out: { perfLostEventsShown?: true; clockSkew?: bigint; traceClock?: string } = {};
  if (flags['trace-clock'] !== undefined) out.traceClock = checkTraceClock(flags['trace-clock']);
  if (flags['perf-lost-events-shown']) out.perfLostEventsShown = true;
  const s = flags['clock-skew'];
  if (s !== undefined) {
    if (!/^\d{1,18}$/.test(s)) {
      throw new InputError(`--clock-skew ${JSON.stringify(s)} is not a whole number of the trace's time units`, {
        hint: 'give nanoseconds as digits, e.g. --clock-skew 20000 for 20 µs (0: the clocks agree, order events of different CPUs by their timestamps)',
      });
    }
    out.clockSkew = BigInt(s);
  }
  return out;
}
