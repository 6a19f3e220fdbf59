/**
 * Text made safe to show: the characters a terminal or a viewer acts on instead of showing,
 * written as escapes. Untrusted text (trace lines, comm names, bug reports, file names) reaches
 * the text reports and error messages through `printable`, and JSON through stringifyJson.
 */

/**
 * Unicode format characters that reorder or break the text around them where it is shown, as a
 * regular-expression class body: the explicit bidi controls (LRE … RLO U+202A–U+202E, LRI … PDI
 * U+2066–U+2069, LRM and RLM U+200E–U+200F, the Arabic letter mark U+061C), with which a comm
 * name or a report line can make a terminal or an editor show text in another order than it
 * holds ("Trojan Source", CVE-2021-42574), and the line and paragraph separators U+2028–U+2029,
 * at which some viewers break a line.
 */
export const LAYOUT_CONTROLS = '\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069';

/** One character as text shows it escaped: `\xNN` below U+0100, `\uNNNN` above. */
export function escapedChar(c: string): string {
  const n = c.charCodeAt(0);
  return n < 0x100 ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
}

// C0 but newline and tab, DEL, C1, and the layout controls
const UNPRINTABLE = new RegExp(`[\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f${LAYOUT_CONTROLS}]`, 'g');

/**
 * Text as a terminal may show it: control characters — an escape sequence that recolours, moves
 * the cursor, clears the screen or retitles the terminal, a carriage return that overwrites the
 * line, C1 controls — are written as \xNN instead of acted on, and the bidi controls and line
 * separators (LAYOUT_CONTROLS) as \uNNNN. Newlines and tabs stay. Error messages and the text
 * reports (which quote trace lines, comm names, bug report lines) pass through it; JSON output
 * is escaped by JSON itself (core's stringifyJson).
 */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, escapedChar);
}

/**
 * `text` as one line wherever it is shown: each newline written `\x0a`. For names kreplay takes
 * from the file system and prints inside its lines — a trace's path (the `source` of every event
 * and citation), a run folder's: a folder unpacked from someone's artifact may be named
 * `run-1\n::error::…`, which the text outputs (they keep newlines) printed as a line of its own, a
 * workflow command on a CI runner's log. The file is still opened by its real name.
 */
export function oneLine(text: string): string {
  return text.includes('\n') ? text.replace(/\n/g, escapedChar) : text;
}
