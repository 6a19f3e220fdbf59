/**
 * Judging a result against the test's `Result:` comment the way the kernel's
 * tools/memory-model/scripts/judgelitmus.sh does (LKMM mode):
 *
 * - "DATARACE" in the Result: line and a "Flag data-race" in the output go together;
 *   either one without the other fails;
 * - Result: DEADLOCK passes only when no execution exists (Observation ... Never 0 0),
 *   and no execution at all fails any other Result:;
 * - otherwise the Observation must be the predicted word (Maybe accepts anything), and a
 *   mismatch is forgiven when a data race was modeled.
 *
 * judgelitmus.sh greps the Observation line for the word, so a test whose name contains
 * "Never" would pass any Never prediction; kreplay compares the verdict itself.
 */
import type { LitmusResult } from './check.js';

export type JudgeVerdict = 'pass' | 'forgiven' | 'fail' | 'none';

export interface Judgement {
  verdict: JudgeVerdict;
  /** The Result: word (Never, Sometimes, Always, DEADLOCK, Maybe, ...), or null without a Result: line. */
  expected: string | null;
  /** judgelitmus.sh's message for a failure or a forgiven mismatch. */
  message: string | null;
}

export function judge(r: LitmusResult): Judgement {
  const exp = r.expectation;
  if (!exp) return { verdict: 'none', expected: null, message: 'no Result: line' };
  const modeled = r.flags.includes('data-race');
  if (exp.datarace && !modeled) return { verdict: 'fail', expected: exp.outcome, message: '!!! Predicted data race not modeled' };
  if (!exp.datarace && modeled) return { verdict: 'fail', expected: exp.outcome, message: '!!! Unexpected data race modeled' };
  const deadlock = r.pos === 0 && r.neg === 0;
  if (exp.outcome === 'DEADLOCK') {
    return deadlock
      ? { verdict: 'pass', expected: exp.outcome, message: null }
      : { verdict: 'fail', expected: exp.outcome, message: '!!! Unexpected non-DEADLOCK verification' };
  }
  if (deadlock) return { verdict: 'fail', expected: exp.outcome, message: `!!! Unexpected non-${exp.outcome} deadlock` };
  if (r.observation === exp.outcome || exp.outcome === 'Maybe') return { verdict: 'pass', expected: exp.outcome, message: null };
  if (modeled) return { verdict: 'forgiven', expected: exp.outcome, message: `--- Forgiven non-${exp.outcome} verification` };
  return { verdict: 'fail', expected: exp.outcome, message: `!!! Unexpected non-${exp.outcome} verification` };
}
