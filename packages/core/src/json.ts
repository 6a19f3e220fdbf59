/**
 * JSON for records that hold bigints. A bigint is written as a bare JSON integer, so the
 * output is valid JSON and exact for any reader that keeps big integers (jq 1.7, Python).
 * Keys are written in insertion order; callers build objects in a fixed order so the same
 * input gives byte-identical output.
 */
import { LAYOUT_CONTROLS } from './escape.js';

const MARK = '\u0000bigint:';

/**
 * DEL and the C1 controls (U+007F–U+009F): JSON allows them raw inside strings, and
 * JSON.stringify leaves them so, but a terminal that shows the output acts on them (U+009B is
 * CSI, which starts an escape sequence); likewise the bidi controls and line separators
 * (LAYOUT_CONTROLS), which reorder or break the text shown around them. Nothing else in JSON
 * text holds them, so every one found is inside a string.
 */
const RAW_CONTROL = new RegExp(`[\\u007f-\\u009f${LAYOUT_CONTROLS}]`);
const RAW_CONTROLS = new RegExp(RAW_CONTROL.source, 'g');

/**
 * `text` (JSON text) with DEL, the C1 controls and the layout controls written `\u007f` …
 * `\u009f`, `\u202e` …: the same values to any JSON reader, nothing a terminal acts on
 * (JSON.stringify already escapes U+0000–U+001F).
 */
function escapeJsonControls(text: string): string {
  if (!RAW_CONTROL.test(text)) return text;
  return text.replace(RAW_CONTROLS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Every JSON kreplay writes (stdout, files): bigints exact; DEL, C1 and the layout controls escaped. */
export function stringifyJson(value: unknown, indent?: number): string {
  const text = JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? `${MARK}${v.toString()}` : v), indent);
  if (text === undefined) return 'null';
  // JSON.stringify escapes U+0000 inside strings, so the marker only ever appears as our own.
  return escapeJsonControls(text.replace(/"\\u0000bigint:(-?\d+)"/g, '$1'));
}
