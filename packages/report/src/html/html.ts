/**
 * Structural escaping for the HTML report: every piece of markup is built with the `html`
 * tagged template, which escapes every interpolated value unless it is itself markup made by
 * `html` (or a constant declared `trusted`). A string — a task's comm, a file name, a
 * finding's message, anything from a trace — can therefore never become markup, whoever
 * writes the next `${x}`: forgetting an escape is impossible, double escaping is visible.
 *
 * Text from outside (comm names are whatever a process called itself) is also made safe for
 * bidirectional layout: Unicode's explicit direction controls (RLO, LRI, ...) are removed,
 * and each run of right-to-left letters is wrapped in a first-strong isolate (U+2068 …
 * U+2069, what `<bdi>` does, but valid in attributes, <title> and SVG text too), so a
 * right-to-left comm shows as itself without reordering the pid, numbers and words around it.
 */

const MARKUP = Symbol('kreplay.html');

/** Markup: only `html` and `trusted` make it. */
export interface Html {
  readonly [MARKUP]: true;
  readonly text: string;
}

function markup(text: string): Html {
  return { [MARKUP]: true, text };
}

export function isHtml(v: unknown): v is Html {
  return typeof v === 'object' && v !== null && (v as { [MARKUP]?: boolean })[MARKUP] === true;
}

/** What may go into `${}`: markup, text (escaped), numbers, lists of either; null/undefined/false are nothing. */
export type HtmlValue = Html | string | number | bigint | null | undefined | false | readonly HtmlValue[];

// Explicit bidi controls: LRE RLE PDF LRO RLO (U+202A-E), LRI RLI FSI PDI (U+2066-9),
// LRM RLM (U+200E-F) and the Arabic letter mark (U+061C).
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/g;
// Runs of right-to-left letters (Hebrew, Arabic, Syriac, Thaana, NKo, Samaritan, ..., their
// presentation forms, and the RTL supplementary blocks), with the spaces and marks between them.
const RTL_RUN =
  /[\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFF\u{10800}-\u{10FFF}\u{1E800}-\u{1EFFF}](?:[\s\u0300-\u036F]*[\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFF\u{10800}-\u{10FFF}\u{1E800}-\u{1EFFF}])*/gu;

/** Untrusted text made safe for bidi layout: controls removed, right-to-left runs isolated. */
export function isolateBidi(text: string): string {
  return text.replace(BIDI_CONTROLS, '').replace(RTL_RUN, (run) => `\u2068${run}\u2069`);
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text as HTML text or attribute value (inside double or single quotes). */
export function escapeHtml(text: string): string {
  return isolateBidi(text).replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

function render(v: HtmlValue): string {
  if (v === null || v === undefined || v === false) return '';
  if (isHtml(v)) return v.text;
  if (Array.isArray(v)) return (v as readonly HtmlValue[]).map(render).join('');
  return escapeHtml(String(v));
}

/** The one way to write markup: html`<td>${text}</td>` escapes `text`; nested html`` passes through. */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return markup(out);
}

/** A constant written in this package's source (the stylesheet): never pass data here. */
export function trusted(constant: string): Html {
  return markup(constant);
}

/** Join markup with a separator (itself markup). */
export function join(parts: readonly Html[], sep: Html = markup('')): Html {
  return markup(parts.map((p) => p.text).join(sep.text));
}

/** Parts one per line; an absent or empty one takes no line, so no blank line stands where it would be. */
export function lines(parts: ReadonlyArray<Html | ''>): Html {
  return join(
    parts.filter((p): p is Html => p !== '' && p.text !== ''),
    markup('\n'),
  );
}
