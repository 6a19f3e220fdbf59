/** Flags every command that replays traces shares (replay, diff, report). */
import { Flags } from '@oclif/core';

export const PERF_LOST_EVENTS_SHOWN = {
  'perf-lost-events-shown': Flags.boolean({
    description:
      'perf script traces were printed with --show-lost-events, so their lost events are in them (without it, a perf script trace counts as possibly missing events anywhere)',
  }),
};
