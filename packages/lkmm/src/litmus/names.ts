/**
 * What a test's condition names that the test never mentions: a location no thread takes as
 * a parameter and the initial state does not declare (`zz` for `z`), or a register its thread
 * never declares or assigns (`0:r7`). herd7 reads both as 0 in every execution, and kreplay
 * prints the same verdict — but a typo then reads as "Never": the outcome forbidden. The
 * litmus command warns (docs/memory-model.md).
 */
import type { CStmt, LitmusTest, Prop, StateRef } from './ast.js';

function registersOf(body: readonly CStmt[], out: Set<string>): void {
  for (const s of body) {
    switch (s.t) {
      case 'decl':
      case 'assign':
        out.add(s.name);
        break;
      case 'block':
        registersOf(s.body, out);
        break;
      case 'if':
        registersOf([s.then, ...(s.else ? [s.else] : [])], out);
        break;
      case 'while':
        registersOf([s.body], out);
        break;
      default:
        break;
    }
  }
}

function refsOf(p: Prop, out: StateRef[]): void {
  switch (p.t) {
    case 'not':
      refsOf(p.p, out);
      break;
    case 'and':
    case 'or':
    case 'implies':
      refsOf(p.a, out);
      refsOf(p.b, out);
      break;
    case 'eq':
    case 'ne':
      out.push(p.ref);
      break;
    case 'eqref':
      out.push(p.a, p.b);
      break;
    default:
      break;
  }
}

/** The condition's references the test never mentions, as herd7 prints them (`zz`, `0:r7`), in order. */
export function unknownInCondition(test: LitmusTest): string[] {
  const locations = new Set<string>();
  const registers = test.threads.map(() => new Set<string>());
  for (const i of test.init) {
    if (i.thread === null) locations.add(i.name);
    else registers[i.thread]?.add(i.name);
    if (i.value?.t === 'addr') locations.add(i.value.name);
  }
  for (const t of test.threads) {
    for (const p of t.params) locations.add(p.name);
    registersOf(t.body, registers[t.id]!);
  }
  const refs: StateRef[] = [];
  refsOf(test.condition.prop, refs);
  const out: string[] = [];
  for (const r of refs) {
    const known = r.thread === null ? locations.has(r.name) : (registers[r.thread]?.has(r.name) ?? true);
    const text = r.thread === null ? r.name : `${r.thread}:${r.name}`;
    if (!known && !out.includes(text)) out.push(text);
  }
  return out;
}
