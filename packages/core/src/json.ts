/**
 * JSON for records that hold bigints. A bigint is written as a bare JSON integer, so the
 * output is valid JSON and exact for any reader that keeps big integers (jq 1.7, Python).
 * Keys are written in insertion order; callers build objects in a fixed order so the same
 * input gives byte-identical output.
 */
const MARK = '\u0000bigint:';

export function stringifyJson(value: unknown, indent?: number): string {
  const text = JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? `${MARK}${v.toString()}` : v), indent);
  if (text === undefined) return 'null';
  // JSON.stringify escapes U+0000 inside strings, so the marker only ever appears as our own.
  return text.replace(/"\\u0000bigint:(-?\d+)"/g, '$1');
}
