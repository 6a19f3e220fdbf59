/**
 * Renderings of a LitmusResult. The text is herd7's output for the LKMM, line for line,
 * without the two lines that cannot be reproduced byte for byte: `Time` (it varies) and
 * herd7's `Hash=` digest.
 */
import type { LitmusResult } from './check.js';
import type { Judgement } from './judge.js';

export function formatHerd(r: LitmusResult): string {
  const lines = [`Test ${r.name} ${r.kind}`, `States ${r.states.length}`];
  for (const s of r.states) lines.push(s.map((b) => `${b.ref}=${b.value};`).join(' '));
  lines.push(r.ok ? 'Ok' : 'No');
  lines.push('Witnesses', `Positive: ${r.witnesses.positive} Negative: ${r.witnesses.negative}`);
  for (const f of r.flags) lines.push(`Flag ${f}`);
  lines.push(`Condition ${r.condition}`);
  lines.push(`Observation ${r.name} ${r.observation} ${r.pos} ${r.neg}`);
  return `${lines.join('\n')}\n`;
}

/** The JSON form of one result (and its judgement, when asked for). */
export function resultJson(r: LitmusResult, j?: Judgement): Record<string, unknown> {
  return {
    name: r.name,
    file: r.file,
    model: r.model,
    kind: r.kind,
    condition: r.condition,
    states: r.states.map((s) => Object.fromEntries(s.map((b) => [b.ref, b.value]))),
    ok: r.ok,
    witnesses: r.witnesses,
    observation: { verdict: r.observation, positive: r.pos, negative: r.neg },
    flags: r.flags,
    expected: r.expectation ? { result: r.expectation.outcome, datarace: r.expectation.datarace } : null,
    ...(r.ignoredByModel.length > 0 ? { ignoredByModel: r.ignoredByModel } : {}),
    ...(r.unknownInCondition.length > 0 ? { unknownInCondition: r.unknownInCondition } : {}),
    ...(j ? { judgement: { verdict: j.verdict, message: j.message } } : {}),
    stats: { pathCombinations: r.stats.pathCombinations, rfCandidates: r.stats.rfCandidates, executions: r.stats.executions },
  };
}

/**
 * The warning a result carries when the model ignores a grace period the test has (see
 * LitmusResult.ignoredByModel), or null.
 */
export function ignoredWarning(r: LitmusResult): string | null {
  if (r.ignoredByModel.length === 0) return null;
  const calls = r.ignoredByModel.map((set) => (set === 'Sync-srcu' ? 'synchronize_srcu()' : 'synchronize_rcu()')).join(' and ');
  return (
    `${r.name}: no check of model ${r.model.name} refers to ${r.ignoredByModel.join(' or ')}, so ${calls} waits for no reader under it: ` +
    'this verdict is the one without the grace-period guarantee (the LKMM models linux-6.1 and linux-6.12 give it)'
  );
}

/**
 * The warning a result carries when its condition names what the test never mentions (a
 * location no thread takes and the initial state does not declare, a register its thread
 * never sets), or null: herd7 and kreplay read it as 0 everywhere, so a typo reads as "Never".
 */
export function unknownWarning(r: LitmusResult): string | null {
  if (r.unknownInCondition.length === 0) return null;
  return (
    `${r.name}: the condition names ${r.unknownInCondition.join(', ')}, which the test never mentions (no parameter, declaration or assignment): ` +
    'it is 0 in every execution, so the verdict is about a value nothing sets (a typo?)'
  );
}
