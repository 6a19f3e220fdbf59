/**
 * The one document loader: YAML or JSON text (JSON is read as YAML 1.2, so one parser
 * serves both) validated by a zod schema, with every error naming file:line and a hint.
 * Duplicate keys are errors, not silently "last one wins". Scenarios, capture profiles,
 * probe maps, ci configs, meta.json and replay JSON all come through here.
 *
 * Large machine-written JSON (replay results) takes JSON.parse's fast path; yaml is then
 * only asked where a problem is, to find its line, and repeated keys are found by a scan of
 * their own (`repeatedJsonKey`), since JSON.parse keeps the last one.
 */
import { LineCounter, isMap, isNode, isSeq, parseDocument, visit, type Document, type Node as YamlNode } from 'yaml';
import type { z } from 'zod';
import { InputError } from './errors.js';
import { readInputText } from './text.js';

export type DocPath = readonly (string | number)[];

/** A parsed document: its plain value and where each of its parts is. */
export interface ParsedDoc {
  file: string;
  data: unknown;
  /** 1-based line of the value at `path`, or of its nearest existing parent. */
  lineOf(path: DocPath): number | undefined;
}

export interface DocumentOptions {
  /** What the document is, for messages (`scenario`, `probe map`, `meta.json`). */
  what: string;
  /** What the user can do when it is wrong (where the format is described). */
  hint: string;
  /** Machine-written JSON (possibly large): parse with JSON.parse and locate errors lazily. */
  fastJson?: boolean;
}

const DUPLICATE_HINT = 'each key may appear once in a mapping; remove or rename the repeated one';

/** Texts above this size are read with JSON.parse first even when not declared fastJson. */
const FAST_JSON_BYTES = 4 << 20;

function yamlLineOf(doc: Document, counter: LineCounter): (path: DocPath) => number | undefined {
  return (path) => {
    let node: unknown = doc.contents;
    let line = isNode(node) && node.range ? counter.linePos(node.range[0]).line : undefined;
    for (const key of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => String((p.key as { value?: unknown } | null)?.value) === String(key));
        if (!pair) break;
        const k = pair.key as YamlNode | null;
        if (k?.range) line = counter.linePos(k.range[0]).line;
        node = pair.value;
      } else if (isSeq(node) && typeof key === 'number') {
        node = node.items[key];
        if (isNode(node) && node.range) line = counter.linePos(node.range[0]).line;
      } else break;
    }
    return line;
  };
}

function parseYaml(text: string, file: string, opts: DocumentOptions): ParsedDoc {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    // the yaml parser recurses per level and words its own stack overflow as a syntax error
    // ("not valid YAML/JSON: Maximum call stack size exceeded"): a YAML value nested about a
    // thousand deep is too deep for any kreplay document, as JSON past MAX_JSON_DEPTH is
    if (/Maximum call stack/i.test(e.message)) throw yamlDepthError(file, counter.linePos(e.pos[0]).line, opts);
    const dup = /Map keys must be unique/.test(e.message);
    throw new InputError(dup ? `duplicate key in ${opts.what}` : `not valid YAML/JSON: ${e.message.split('\n')[0]}`, {
      file,
      line: counter.linePos(e.pos[0]).line,
      hint: dup ? DUPLICATE_HINT : opts.hint,
    });
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    // yaml refuses aliases that expand past maxAliasCount ("billion laughs"): the input's fault, not ours
    if (!(e instanceof ReferenceError) || !/alias/i.test(e.message)) throw e;
    let line: number | undefined;
    visit(doc, {
      Alias(_k, node) {
        if (node.range) line = counter.linePos(node.range[0]).line;
        return visit.BREAK;
      },
    });
    throw new InputError(`${opts.what} uses YAML aliases that expand too far (more than 100 copies of one anchor)`, {
      file,
      ...(line !== undefined ? { line } : {}),
      hint: `write the repeated values out instead of through anchors and aliases (&name / *name); ${opts.hint}`,
    });
  }
  const lineOf = yamlLineOf(doc, counter);
  const deep = deepestPath(data);
  if (deep !== undefined) throw yamlDepthError(file, lineOf(deep) ?? 1, opts);
  return { file, data, lineOf };
}

function yamlDepthError(file: string, line: number, opts: DocumentOptions): InputError {
  return new InputError(`${opts.what} nests sequences and mappings more than ${MAX_JSON_DEPTH} levels deep`, { file, line, hint: opts.hint });
}

/**
 * The path of the first value nested deeper than MAX_JSON_DEPTH in a parsed YAML value, or
 * undefined: the limit JSON text has (checkJsonDepth), for YAML, whose parser reads some
 * hundreds of levels before its stack runs out. Iterative, so the walk cannot overflow either.
 */
function deepestPath(data: unknown): DocPath | undefined {
  const todo: Array<{ value: unknown; path: (string | number)[] }> = [{ value: data, path: [] }];
  while (todo.length > 0) {
    const { value, path } = todo.pop()!;
    if (value === null || typeof value !== 'object') continue;
    if (path.length >= MAX_JSON_DEPTH) return path;
    if (Array.isArray(value)) value.forEach((v, i) => todo.push({ value: v, path: [...path, i] }));
    else for (const [k, v] of Object.entries(value)) todo.push({ value: v, path: [...path, k] });
  }
  return undefined;
}

function lineAt(text: string, pos: number): number {
  let line = 1;
  for (let i = 0; i < pos && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** A JSON syntax error as JSON.parse words it (clearer for JSON than a YAML parser's), at its line. */
function jsonSyntaxError(text: string, file: string, e: unknown, opts: DocumentOptions): InputError {
  const msg = e instanceof Error ? e.message : String(e);
  const m = /position (\d+)/.exec(msg);
  // Without a position in the message (V8 often leaves it out), the YAML parser's first error
  // is where the JSON goes wrong; "Unexpected end of JSON input" is at the end.
  const yamlPos = m ? undefined : parseDocument(text, { prettyErrors: false }).errors[0]?.pos[0];
  const pos = m ? Number(m[1]) : /end of JSON/i.test(msg) || yamlPos === undefined ? text.trimEnd().length : yamlPos;
  const line = lineAt(text, pos);
  return new InputError(`not valid JSON: ${msg}`, { file, line, hint: opts.hint });
}

/**
 * Where the first repeated key of an object is in JSON text that JSON.parse accepted (the
 * offset of its opening quote), or -1. JSON.parse keeps the last of repeated keys without a
 * word; the fast path asks this instead of the YAML parser, in one pass that jumps from quote
 * to quote. Keys are compared as JSON reads them (a key with escapes is unescaped first).
 * (Keeping keys as offsets compared in place, instead of a Set per object, measured slower.)
 */
export function repeatedJsonKey(text: string): number {
  return scanJson(text).dup;
}

/**
 * Deepest nesting any kreplay document has use for: its own are a dozen levels deep. Deeper
 * JSON parses, but a value nested thousands deep overflows the stack of whatever walks it
 * later (JSON.stringify of a merged result, the YAML parser, a schema).
 */
export const MAX_JSON_DEPTH = 256;

/** An InputError when JSON text (that JSON.parse accepted) nests deeper than MAX_JSON_DEPTH. */
export function checkJsonDepth(text: string, file: string, opts: Pick<DocumentOptions, 'what' | 'hint'>): void {
  const deep = scanJson(text, true).deep;
  if (deep >= 0) throw depthError(text, deep, file, opts);
}

/**
 * An InputError when JSON text (that JSON.parse accepted) nests deeper than MAX_JSON_DEPTH or
 * repeats a key in one object, as the loader words them: for JSON read with JSON.parse outside
 * the loader (explore shard results, a ci shard's KCIDB files), which keeps the last of two
 * equal keys without a word.
 */
export function checkJsonText(text: string, file: string, opts: Pick<DocumentOptions, 'what' | 'hint'>): void {
  const { dup, deep } = scanJson(text);
  if (deep >= 0) throw depthError(text, deep, file, opts);
  if (dup >= 0) throw duplicateError(text, dup, file, opts);
}

function duplicateError(text: string, at: number, file: string, opts: Pick<DocumentOptions, 'what'>): InputError {
  return new InputError(`duplicate key in ${opts.what}`, { file, line: lineAt(text, at), hint: DUPLICATE_HINT });
}

/** One pass over JSON text: the first repeated key (`dup`), and where nesting first passes MAX_JSON_DEPTH (`deep`), or -1. */
function scanJson(text: string, depthOnly = false): { dup: number; deep: number } {
  /** Per open object its keys so far; null for an open array. */
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      const start = i;
      for (i++; ; i++) {
        const q = text.indexOf('"', i);
        if (q < 0) return { dup: -1, deep: -1 }; // not JSON: JSON.parse said so already
        let bs = 0;
        for (let k = q - 1; k > start && text.charCodeAt(k) === 92; k--) bs++;
        i = q;
        if (bs % 2 === 0) break;
      }
      if (expectKey && !depthOnly) {
        const keys = stack[stack.length - 1]!;
        // an escape is looked for inside the key only: text.lastIndexOf('\\', i) searched back
        // to the start of the text when none came before the key, for every key (quadratic: a
        // 4.5 MB JSON without a backslash took 300 s, session 37)
        let escaped = false;
        for (let k = start + 1; k < i && !escaped; k++) escaped = text.charCodeAt(k) === 92;
        const key = escaped ? (JSON.parse(text.slice(start, i + 1)) as string) : text.slice(start + 1, i);
        if (keys.has(key)) return { dup: start, deep: -1 };
        keys.add(key);
        expectKey = false;
      }
    } else if (c === 123 /* { */) {
      if (stack.push(depthOnly ? null : new Set()) > MAX_JSON_DEPTH) return { dup: -1, deep: i };
      expectKey = !depthOnly;
    } else if (c === 91 /* [ */) {
      if (stack.push(null) > MAX_JSON_DEPTH) return { dup: -1, deep: i };
      expectKey = false;
    } else if (c === 125 /* } */ || c === 93 /* ] */) {
      stack.pop();
      expectKey = false;
    } else if (c === 44 /* , */) expectKey = (stack[stack.length - 1] ?? null) !== null;
  }
  return { dup: -1, deep: -1 };
}

function depthError(text: string, at: number, file: string, opts: Pick<DocumentOptions, 'what' | 'hint'>): InputError {
  return new InputError(`${opts.what} nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep`, { file, line: lineAt(text, at), hint: opts.hint });
}

/** Parse YAML or JSON text; syntax errors and duplicate keys become InputErrors with file:line. */
export function parseDocumentText(text: string, file: string, opts: DocumentOptions): ParsedDoc {
  const looksJson = /^\s*[[{]/.test(text);
  if (looksJson && !opts.fastJson && text.length <= FAST_JSON_BYTES) {
    try {
      JSON.parse(text);
    } catch (e) {
      throw jsonSyntaxError(text, file, e, opts);
    }
    checkJsonDepth(text, file, opts);
  }
  if (opts.fastJson || text.length > FAST_JSON_BYTES) {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (e) {
      if (looksJson) throw jsonSyntaxError(text, file, e, opts);
      return parseYaml(text, file, opts);
    }
    checkJsonText(text, file, opts);
    let located: ParsedDoc | undefined;
    return {
      file,
      data,
      lineOf: (path) => {
        located ??= (() => {
          try {
            return parseYaml(text, file, opts);
          } catch {
            return undefined;
          }
        })();
        return located?.lineOf(path);
      },
    };
  }
  return parseYaml(text, file, opts);
}

/** A zod issue's path as document keys; an unrecognised key points at the key itself. */
export function issuePath(issue: z.core.$ZodIssue): (string | number)[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  const keys = (issue as { keys?: string[] }).keys;
  if (issue.code === 'unrecognized_keys' && keys?.length) path.push(keys[0]!);
  return path;
}

/** Validate a parsed document; the first issue becomes an InputError at its line. */
export function validateDocument<S extends z.ZodType>(doc: ParsedDoc, schema: S, opts: DocumentOptions): z.output<S> {
  const r = schema.safeParse(doc.data);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const path = issuePath(issue);
  // a key holding a line break is quoted as JSON: the message is one line whatever the file's keys say
  const where = path.length ? path.map((k) => (typeof k === 'string' && /[\n\r]/.test(k) ? JSON.stringify(k) : k)).join('.') : '(top level)';
  // zod says a required key left out as "Invalid input: expected string, received undefined"
  const expected = (issue as { expected?: string }).expected;
  const said = issue.code === 'invalid_type' && / received undefined$/.test(issue.message) && expected ? `missing (expected ${expected})` : issue.message;
  throw new InputError(`invalid ${opts.what}: ${where}: ${said}`, { file: doc.file, line: doc.lineOf(path) ?? 1, hint: opts.hint });
}

/** Parse and validate text in one call. */
export function parseDocumentWith<S extends z.ZodType>(text: string, file: string, schema: S, opts: DocumentOptions): { value: z.output<S>; doc: ParsedDoc } {
  const doc = parseDocumentText(text, file, opts);
  return { value: validateDocument(doc, schema, opts), doc };
}

/** Read a file as text; a missing or unreadable file, or one that is not UTF-8, is an InputError naming it. */
export async function readDocumentFile(file: string, opts: Pick<DocumentOptions, 'what' | 'hint'>): Promise<string> {
  return readInputText(file, opts);
}

/** Read, parse and validate a YAML/JSON file. */
export async function loadDocument<S extends z.ZodType>(file: string, schema: S, opts: DocumentOptions): Promise<{ value: z.output<S>; doc: ParsedDoc }> {
  return parseDocumentWith(await readDocumentFile(file, opts), file, schema, opts);
}
