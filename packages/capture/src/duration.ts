import { InputError } from '@kreplay/ftrace-parser';

/** `3s`, `500ms`, `2m`, or a bare number of seconds → milliseconds. */
export function parseDuration(text: string, flag = '--duration'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/.exec(text);
  if (!m) throw new InputError(`${flag} ${JSON.stringify(text)} is not a duration`, { hint: 'write it as 3s, 500ms or 1m' });
  const n = Number(m[1]);
  const ms = m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000;
  return Math.round(ms);
}
