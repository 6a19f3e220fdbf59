// Seeded mutations of kreplay's input files, for scripts/fuzz.mjs (which runs the built CLI on
// them) and scripts/test/fuzz.test.ts (which runs the library readers in process). Every choice
// comes from one PRNG seeded per case, so a case is reproduced by its seed, edge and index alone.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';

/**
 * The files of `root/dir` whose names match `re`, in name order: a case picks its fixture from
 * this list by index, and readdir's order is the filesystem's (ext4: hash order), so unsorted it
 * would make the same seed pick other files on another machine.
 */
export function fixtureFiles(root, dir, re) {
  return readdirSync(path.join(root, dir))
    .filter((f) => re.test(f))
    .sort()
    .map((f) => path.join(root, dir, f));
}

/** `root/dir/D/name` for each folder D of `root/dir` that holds one, in name order (as fixtureFiles). */
export function inEachDir(root, dir, name) {
  return readdirSync(path.join(root, dir))
    .sort()
    .filter((d) => existsSync(path.join(root, dir, d, name)))
    .map((d) => path.join(root, dir, d, name));
}

/** mulberry32: a small, fast, seeded PRNG; `next()` is in [0, 1). */
export function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n) => Math.floor(next() * n);
  const pick = (xs) => xs[int(xs.length)];
  return { next, int, pick };
}

/** The seed of case `index` of `edge` under run seed `seed` (FNV-1a over the three). */
export function caseSeed(seed, edge, index) {
  let h = 0x811c9dc5;
  for (const c of `${seed}/${edge}/${index}`) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return h;
}

/** Numbers a field should refuse or survive: huge, negative, not a number. */
export const NASTY_NUMBERS = [
  '99999999999999999999999',
  '18446744073709551616',
  '-1',
  '-9223372036854775809',
  'NaN',
  '1e309',
  '-0',
  '0x7fffffff',
  '4294967296',
  '1.5',
];
/** Strings a field that names a file must never follow to the host. */
export const NASTY_PATHS = ['../../../../etc/passwd', '/etc/passwd', '..', '/', 'a/../../b', '\u0000x', 'C:\\Windows'];
const INVALID_UTF8 = [Buffer.from([0xff]), Buffer.from([0xc3, 0x28]), Buffer.from([0xe2, 0x82]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0x80, 0x80])];

const lineStarts = (buf) => {
  const starts = [0];
  for (let i = 0; i < buf.length; i++) if (buf[i] === 10 && i + 1 < buf.length) starts.push(i + 1);
  return starts;
};
const splitLines = (buf) => {
  const starts = lineStarts(buf);
  return starts.map((s, i) => buf.subarray(s, i + 1 < starts.length ? starts[i + 1] : buf.length));
};

/** Byte-level mutations, for any file; `boundaries` are offsets of a structure's edges. */
export const BYTE_MUTATORS = {
  bitflip(buf, r) {
    const out = Buffer.from(buf);
    const n = 1 + r.int(8);
    for (let i = 0; i < n && out.length > 0; i++) out[r.int(out.length)] ^= 1 << r.int(8);
    return { data: out, what: `${n} bit flips`, damaged: true };
  },
  truncate(buf, r, boundaries) {
    const at = boundaries.length > 0 && r.next() < 0.7 ? r.pick(boundaries) + r.pick([-1, 0, 0, 1]) : r.int(buf.length);
    const cut = Math.max(0, Math.min(buf.length - 1, at));
    return { data: buf.subarray(0, cut), what: `truncated at byte ${cut} of ${buf.length}`, damaged: true };
  },
  overwriteWord(buf, r, boundaries) {
    const out = Buffer.from(buf);
    const width = r.pick([1, 2, 4, 8]);
    const base = boundaries.length > 0 && r.next() < 0.5 ? r.pick(boundaries) : r.int(Math.max(1, buf.length - width));
    const at = Math.max(0, Math.min(out.length - width, base));
    // Little-endian: all ones, zero, the largest and the least signed value of that width.
    const fill = r.pick(['ones', 'zero', 'max', 'min']);
    for (let i = 0; i < width; i++)
      out[at + i] = fill === 'zero' ? 0 : fill === 'ones' ? 0xff : i < width - 1 ? (fill === 'max' ? 0xff : 0) : fill === 'max' ? 0x7f : 0x80;
    return { data: out, what: `${width} bytes at ${at} set to ${fill}`, damaged: true };
  },
  nul(buf, r) {
    const at = r.int(buf.length + 1);
    return { data: Buffer.concat([buf.subarray(0, at), Buffer.alloc(1 + r.int(4)), buf.subarray(at)]), what: `NUL bytes at ${at}`, damaged: true };
  },
  invalidUtf8(buf, r) {
    const at = r.int(buf.length + 1);
    return { data: Buffer.concat([buf.subarray(0, at), r.pick(INVALID_UTF8), buf.subarray(at)]), what: `invalid UTF-8 at ${at}`, damaged: true };
  },
};

/** Line-level mutations, for text files. */
export const LINE_MUTATORS = {
  duplicateLine(buf, r) {
    const lines = splitLines(buf);
    const i = r.int(lines.length);
    lines.splice(i, 0, lines[i]);
    return { data: Buffer.concat(lines), what: `line ${i + 1} twice`, damaged: false };
  },
  removeLine(buf, r) {
    const lines = splitLines(buf);
    const i = r.int(lines.length);
    lines.splice(i, 1);
    return { data: Buffer.concat(lines), what: `line ${i + 1} removed`, damaged: false };
  },
  swapLines(buf, r) {
    const lines = splitLines(buf);
    const i = r.int(lines.length);
    const j = r.int(lines.length);
    [lines[i], lines[j]] = [lines[j], lines[i]];
    return { data: Buffer.concat(lines), what: `lines ${i + 1} and ${j + 1} swapped`, damaged: false };
  },
  truncateLine(buf, r) {
    const starts = lineStarts(buf);
    const i = r.int(starts.length);
    const end = i + 1 < starts.length ? starts[i + 1] - 1 : buf.length;
    const cut = starts[i] + r.int(Math.max(1, end - starts[i]));
    return { data: buf.subarray(0, cut), what: `cut in line ${i + 1} at byte ${cut}`, damaged: cut < end };
  },
  hugeNumber(buf, r) {
    const text = buf.toString('latin1');
    const runs = [...text.matchAll(/\d+/g)];
    if (runs.length === 0) return BYTE_MUTATORS.bitflip(buf, r);
    const m = r.pick(runs);
    const n = r.pick(NASTY_NUMBERS);
    return {
      data: Buffer.from(text.slice(0, m.index) + n + text.slice(m.index + m[0].length), 'latin1'),
      what: `number ${m[0]} at ${m.index} -> ${n}`,
      damaged: true,
    };
  },
  overlongLine(buf, r, _b, opts = {}) {
    const lines = splitLines(buf);
    const i = r.int(lines.length);
    const size = r.pick(opts.small ? [5_000, 70_000] : [70_000, 1_100_000, 17_000_000]);
    const line = lines[i];
    const pad = Buffer.alloc(size, r.pick(['a', ' ', '0', '(']));
    const nl = line.length > 0 && line[line.length - 1] === 10;
    lines[i] = Buffer.concat([nl ? line.subarray(0, line.length - 1) : line, pad, nl ? Buffer.from('\n') : Buffer.alloc(0)]);
    return { data: Buffer.concat(lines), what: `line ${i + 1} made ${size} bytes longer`, damaged: true };
  },
  manyLines(buf, r, _b, opts = {}) {
    const lines = splitLines(buf);
    const i = r.int(lines.length);
    const n = r.pick(opts.small ? [100, 2_000] : [10_000, 200_000]);
    const copies = Array(n).fill(lines[i].length > 0 && lines[i][lines[i].length - 1] === 10 ? lines[i] : Buffer.concat([lines[i], Buffer.from('\n')]));
    return { data: Buffer.concat([...lines.slice(0, i), ...copies, ...lines.slice(i)]), what: `line ${i + 1} repeated ${n} times`, damaged: false };
  },
};

const DEEP = 5000;
const deepArray = (n) => '['.repeat(n) + ']'.repeat(n);

/** Paths of every node of a parsed JSON/YAML value (root first). */
function nodes(value, at = [], out = []) {
  out.push(at);
  if (value !== null && typeof value === 'object') for (const k of Object.keys(value)) nodes(value[k], [...at, Array.isArray(value) ? Number(k) : k], out);
  return out;
}
function getAt(v, p) {
  return p.reduce((x, k) => x[k], v);
}
function setAt(v, p, x) {
  if (p.length === 0) return x;
  getAt(v, p.slice(0, -1))[p[p.length - 1]] = x;
  return v;
}

/**
 * Structural mutations of a JSON or YAML document: a node replaced by a nasty value, removed,
 * a `__proto__` / `constructor` key added, a path field pointed outside, deep nesting. Returns
 * the text (JSON or YAML as the input was), or null when the input does not parse.
 */
export function mutateDocument(text, r, format, opts = {}) {
  let doc;
  try {
    doc = format === 'json' ? JSON.parse(text) : YAML.parse(text);
  } catch {
    return null;
  }
  const all = nodes(doc);
  const p = r.pick(all);
  const kind = r.pick(['number', 'string', 'path', 'remove', 'proto', 'type', 'deep', 'duplicateKey', 'bigArray']);
  const what = `${kind} at ${p.join('.') || '(root)'}`;
  const str = (d) => (format === 'json' ? JSON.stringify(d, null, 2) : YAML.stringify(d, { aliasDuplicateObjects: false }));
  switch (kind) {
    case 'number': {
      const n = r.pick(NASTY_NUMBERS);
      const raw = `__NASTY_${r.int(1e9)}__`;
      doc = setAt(doc, p, raw);
      return { data: Buffer.from(str(doc).replace(JSON.stringify(raw), n).replace(raw, n)), what: `${what} = ${n}`, damaged: true };
    }
    case 'string':
      return {
        data: Buffer.from(str(setAt(doc, p, r.pick(['', '\u0000', 'x'.repeat(opts.small ? 5_000 : 100_000), '\u202e', '\ud800'])))),
        what,
        damaged: true,
      };
    case 'path':
      return { data: Buffer.from(str(setAt(doc, p, r.pick(NASTY_PATHS)))), what, damaged: true };
    case 'remove':
      if (p.length === 0) return { data: Buffer.from(''), what: 'empty document', damaged: true };
      {
        const parent = getAt(doc, p.slice(0, -1));
        if (Array.isArray(parent)) parent.splice(p[p.length - 1], 1);
        else delete parent[p[p.length - 1]];
      }
      return { data: Buffer.from(str(doc)), what, damaged: true };
    case 'proto': {
      const target = getAt(doc, p);
      const key = r.pick(['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty']);
      const val = r.pick([{ polluted: true }, 'x', 1, null, []]);
      if (target === null || typeof target !== 'object' || Array.isArray(target))
        return { data: Buffer.from(str(setAt(doc, p, val))), what: `${what} replaced`, damaged: true };
      // JSON.stringify cannot write a __proto__ key it reads as the prototype: splice it in as text.
      const body = str(target);
      const entry = format === 'json' ? `${JSON.stringify(key)}: ${JSON.stringify(val)}` : `${key}: ${JSON.stringify(val)}`;
      const spliced =
        format === 'json'
          ? body.replace(/^\{/, `{${entry}${Object.keys(target).length > 0 ? ',' : ''}`)
          : `${entry}\n${Object.keys(target).length > 0 ? body : ''}`;
      const marker = `__KEY_${r.int(1e9)}__`;
      const whole = str(setAt(doc, p, marker));
      if (format === 'json') return { data: Buffer.from(whole.replace(JSON.stringify(marker), spliced)), what: `${what} key ${key}`, damaged: true };
      if (p.length === 0) return { data: Buffer.from(spliced), what: `${what} key ${key}`, damaged: true };
      return { data: Buffer.from(str(setAt(doc, p, { ...target, [key]: val }))), what: `${what} key ${key}`, damaged: true };
    }
    case 'type':
      return { data: Buffer.from(str(setAt(doc, p, r.pick([null, true, [], {}, 0, 'x'])))), what, damaged: true };
    case 'deep': {
      const marker = `__DEEP_${r.int(1e9)}__`;
      const s = str(setAt(doc, p, marker));
      const nest = deepArray(opts.small ? 1500 : DEEP);
      return {
        data: Buffer.from(s.replace(format === 'json' ? JSON.stringify(marker) : marker, nest)),
        what: `${what} nested ${opts.small ? 1500 : DEEP} deep`,
        damaged: true,
      };
    }
    case 'duplicateKey': {
      const s = str(doc);
      const lines = s.split('\n');
      const withKey = lines.map((l, i) => [l, i]).filter(([l]) => /^\s*"?[A-Za-z_][\w.-]*"?\s*:/.test(l));
      if (withKey.length === 0) return { data: Buffer.from(s), what: 'no key to repeat', damaged: false };
      const [l, i] = r.pick(withKey);
      if (format === 'json' && /[{[]\s*$/.test(l)) return { data: Buffer.from(s), what: 'no scalar key to repeat', damaged: false };
      const copy = format === 'json' && !/,\s*$/.test(l) ? `${l},` : l;
      lines.splice(i, 0, copy);
      return { data: Buffer.from(lines.join('\n')), what: `line ${i + 1} key repeated`, damaged: true };
    }
    case 'bigArray': {
      const marker = `__BIG_${r.int(1e9)}__`;
      const s = str(setAt(doc, p, marker));
      const n = opts.small ? 2_000 : 200_000;
      const big = `[${Array(n).fill('0').join(',')}]`;
      return { data: Buffer.from(s.replace(format === 'json' ? JSON.stringify(marker) : marker, big)), what: `${what} an array of ${n}`, damaged: true };
    }
  }
  throw new Error(`unknown kind ${kind}`);
}

/**
 * One mutation of `buf`: `kind` text, binary, json or yaml; `boundaries` for binary truncation;
 * `opts.small` keeps overlong and repeated lines to sizes a unit test can afford.
 */
export function mutate(buf, r, kind, boundaries = [], opts = {}) {
  if (kind === 'json' || kind === 'yaml') {
    if (r.next() < 0.7) {
      const m = mutateDocument(buf.toString('utf8'), r, kind, opts);
      if (m !== null) return m;
    }
  }
  const table = kind === 'binary' ? BYTE_MUTATORS : { ...BYTE_MUTATORS, ...LINE_MUTATORS };
  const name = r.pick(Object.keys(table));
  const m = table[name](buf, r, boundaries, opts);
  return { ...m, what: `${name}: ${m.what}` };
}

/**
 * Offsets where a trace.dat's structures begin or end: its header fields, every ASCII section
 * name (header_page, header_event, options, flyrecord, ...), and every 4 KiB page.
 */
export function datBoundaries(buf) {
  const out = new Set([0, 3, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24]);
  const text = buf.toString('latin1');
  for (const m of text.matchAll(/[\x20-\x7e]{6,}\0?/g)) {
    out.add(m.index);
    out.add(m.index + m[0].length);
    out.add(m.index + m[0].length + 8);
  }
  for (let o = 4096; o < buf.length; o += 4096) out.add(o);
  return [...out].filter((o) => o < buf.length).sort((a, b) => a - b);
}
