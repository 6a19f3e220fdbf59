/**
 * The state's canonical words (`Machine.encode`): what `stateKey` says as a string, said as
 * 32-bit words, so the explorer's visited set can hash and compare states without building a
 * string per state.
 *
 * The walk is generic: it encodes whatever plain data the state holds (numbers, strings,
 * booleans, arrays, plain objects, `undefined` holes), so a field another change adds to
 * `MmState`, `PageS`, `MappingS`, `ThreadS` or a frame is encoded without an edit here. The
 * words are self-delimiting (each value starts with a word whose low 3 bits say what it is), so
 * different data never give the same words. An object is its shape (the set of its field names,
 * numbered) and then its values in the order of the field names (sorted as strings), so equal
 * states built in a different field order encode alike, and so do equal states in two encoders
 * that numbered names differently; a field that is `undefined` or
 * `false` is left out, as `stateKey` prints an absent optional field and a false one alike.
 * Anything else (a Map, a class instance, a bigint, a function) makes the whole state fall back
 * to its key string, as words: such states then compare exactly as `stateKey` compares them.
 *
 * Parts (SPIN's "collapse" compression): every object or array that is an element of one of the
 * root's arrays (a page, a mapping, a PTE row, a thread), every one that is an element of an
 * array inside such a part (a thread's frames), and every field of those that holds an object or
 * an array (a frame's locals), is encoded once into the encoder's part table,
 * which numbers parts by their words; the state's words name it by that number. Equal numbers
 * mean equal words, and whether a value is a part depends only on where it sits, so equal words
 * still mean equal states. A state is then a few dozen words, whatever its size, and the visited
 * set hashes and compares those. Parts are found again by identity without a walk: a step shares
 * what it did not touch with the state it started from (state.ts: objects are never changed once
 * made), and the states encoded one after the other are siblings, so the object at an element's
 * place in the last state encoded is usually this very one; a new frame's locals are looked up
 * among those of the frame it replaces (a step that moves a thread keeps its locals unless it
 * sets one). A root value that is the very array of the state decoded last (the parent a search
 * expands: a step copies only what it writes) is not walked at all: its words are copied from
 * the parent's. (A WeakMap from objects to their numbers was measured slower than walking; so
 * was caching each object's words and copying them.)
 *
 * Exchange (`Machine.exchange`, explore's workers): every string, shape and part an encoder
 * numbers is appended to its log of definitions when it is first numbered (after what it uses),
 * so another encoder that reads the log in order can renumber this one's words into its own
 * (`Importer`); a part it did not have is decoded into a new object of its own. Each definition
 * also gets a hash of its content (strings by text, shapes by their field names, parts by their
 * words with every number replaced by the hash of what it names), so `portableHash` gives equal
 * states the same hash in every encoder: the worker that owns a state is chosen by it.
 *
 * Speed: objects of one kind enumerate their fields in one order, so a trie over field names in
 * enumeration order, whose nodes remember their first child, finds an object's shape with one
 * string comparison per field.
 */

import { grownInt32, WordTable, type WordExchange, type WordImporter } from '@kreplay/core';

const TAG_INT = 0;
const TAG_ARRAY = 1;
const TAG_OBJECT = 2;
const TAG_STRING = 3;
/** A number that is not a small integer: the tag, then its float64 bits as two words. */
const TAG_FLOAT = 4;
const TAG_CONST = 5;
/** The fallback: the tag (with the length), then the key string's UTF-16 code units. */
const TAG_KEY = 6;
/** A part (an object or array two levels below the root): its number in the encoder's part table. */
const TAG_PART = 7;
const C_UNDEFINED = 0;
const C_NULL = 1;
const C_TRUE = 2;
/** Kinds of the entries of the log of definitions: [kind, length, payload…]. */
const DEF_STRING = 0;
const DEF_SHAPE = 1;
const DEF_PART = 2;
/** Small integers go in the payload (n * 8 stays a 32-bit integer). */
const SMALL = 2 ** 27;
/**
 * Arrays longer than LONG (a large file's per-page arrays: its cache, blocks, generations; the
 * pages of a large scenario) are encoded as their length and then one part per CHUNK elements:
 * a step that changes one element makes one new chunk, not a new copy of the whole array in the
 * part table (or, for the root's arrays, in every state's words).
 */
export const LONG = 64;
const CHUNK = 32;

class Unencodable extends Error {}

/** `cutRoot`'s name of the root's shape word. */
const PLACE_SHAPE = 0;
/** `cutRoot`'s name of a place of a root value: its field's number (`rootField`, < 127), whether the array is chunked, the element or chunk (-1: the length word). */
function placeName(field: number, slot: number, chunked: boolean): number {
  return ((field + 1) << 24) | (chunked ? 1 << 23 : 0) | (slot + 1);
}

function mix(h: number, x: number): number {
  h = Math.imul(h ^ x, 0x01000193);
  return h ^ (h >>> 13);
}

function textHash(t: string): number {
  let h = 0x811c9dc5 ^ t.length;
  for (let i = 0; i < t.length; i++) h = mix(h, t.charCodeAt(i));
  return h;
}

interface Walk {
  name: string;
  /** The field names from the root to here. */
  names: readonly string[];
  /** The first next field seen here (one comparison in the common case), and every one seen. */
  child: Walk | undefined;
  alt: Map<string, Walk> | undefined;
  plan: Plan | undefined;
}

interface Plan {
  shape: number;
  /** Positions (in enumeration order) of the values, in the order they are encoded. */
  order: Int32Array;
}

/** Objects by element index, with their part numbers. */
interface Seen {
  obj: unknown[];
  part: number[];
}

const seen = (): Seen => ({ obj: [], part: [] });

/**
 * The parts met inside the part being walked, by index, reused from walk to walk: nearly every
 * part walked is one met before (whose record is kept already), so a record of its own per walk
 * was garbage (a third of what a search allocated). Entries from earlier walks past what this
 * walk wrote may remain: an object and its part number are recorded together and never change,
 * so any pair is a true one.
 */
interface Scratch extends Seen {
  /** One past the highest index written since the walk began. */
  n: number;
}

const scratch = (): Scratch => ({ obj: [], part: [], n: 0 });

function note(r: Scratch, i: number, x: unknown, id: number): void {
  r.obj[i] = x;
  r.part[i] = id;
  if (i >= r.n) r.n = i + 1;
}

interface Shape {
  id: number;
  next: Map<number, Shape>;
}

export class StateEncoder<S extends object> implements WordExchange {
  private buf = new Int32Array(256);
  private len = 0;
  private readonly ids = new Map<string, number>();
  /** Object shapes (sets of field ids), numbered: the root is the shape with no fields. */
  private readonly shapes: Shape = { id: 0, next: new Map() };
  private shapeCount = 1;
  /** The field values of the objects being encoded (a nested object's sit above its parent's). */
  private readonly vals: unknown[] = [];
  private sp = 0;
  /**
   * Field names in enumeration order, as tries whose roots are an object with no field: one trie
   * per place an object sits (the root; an element of each of the root's arrays; each depth
   * below), so that the first field of an object already follows its root's first child (one
   * trie for all began every page, thread and frame with a Map lookup). Shapes are numbered by
   * field names, whichever trie met them.
   */
  private readonly walks: Walk[] = [];
  private readonly f64 = new Float64Array(1);
  private readonly f64w = new Int32Array(this.f64.buffer);
  /** How deep the walk is: the root object is 0, its fields' values 1, their elements 2 (parts). */
  private depth = 0;
  /** Which of the root's values the walk is in (its position in the root's plan). */
  private row = 0;
  private readonly parts = new PartTable();
  /** Per root value: the objects last seen at each element index (and their part numbers). */
  private readonly last: Seen[] = [];
  /** Per root value: the objects of the state decoded last (the one a search expands: its successors share them). */
  private readonly parent: Seen[] = [];
  /** While a part is walked: where to look its own parts up (those of the part it replaces), and its record of them. */
  private lookIn: Seen | undefined;
  private readonly record = scratch();
  /** While a part's part is walked (a frame): where to look its field parts up (its locals), and its record of them. */
  private fieldLook: Seen | undefined;
  private readonly fieldRecord = scratch();

  constructor(private readonly keyOf: (s: S) => string) {}

  /** The log of definitions (Machine.exchange), and each string's, shape's and part's portable hash. */
  private defs = new Int32Array(1024);
  private defsLen = 0;
  private readonly strH: number[] = [];
  private readonly shapeH: number[] = [textHash('')];
  private readonly partH: number[] = [];

  private logDef(kind: number, len: number): number {
    const need = this.defsLen + len + 2;
    if (need > this.defs.length) this.defs = grownInt32(this.defs, need);
    this.defs[this.defsLen] = kind;
    this.defs[this.defsLen + 1] = len;
    const at = this.defsLen + 2;
    this.defsLen = need;
    return at;
  }

  definitionsLength(): number {
    return this.defsLen;
  }

  definitions(from: number): Int32Array {
    return this.defs.slice(from, this.defsLen);
  }

  importer(): WordImporter {
    return new Importer(this);
  }

  portableHash(words: Int32Array, n: number): number {
    return this.hashOf(words, 0, n);
  }

  /** The hash of words `w[from..to)` with every number that names something replaced by the hash of what it names. */
  private hashOf(w: Int32Array, from: number, to: number): number {
    let h = 0x811c9dc5 ^ (to - from);
    for (let i = from; i < to;) {
      const word = w[i++]!;
      const p = word >> 3;
      switch (word & 7) {
        case TAG_STRING:
          h = mix(mix(h, TAG_STRING), this.strH[p]!);
          break;
        case TAG_OBJECT:
          h = mix(mix(h, TAG_OBJECT), this.shapeH[p]!);
          break;
        case TAG_PART:
          h = mix(mix(h, TAG_PART), this.partH[p]!);
          break;
        case TAG_FLOAT:
          h = mix(mix(mix(h, word), w[i]!), w[i + 1]!);
          i += 2;
          break;
        case TAG_KEY: {
          h = mix(h, word);
          for (const e = i + (word >>> 3); i < e; i++) h = mix(h, w[i]!);
          break;
        }
        default:
          h = mix(h, word);
      }
    }
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    return h ^ (h >>> 13);
  }

  /** The number of string `t` (Importer). */
  internString(t: string): number {
    return this.id(t);
  }

  nameOf(id: number): string {
    return this.names[id]!;
  }

  /**
   * The number of the part whose words (in this encoder's numbers) are `w`: when new, it is
   * decoded into an object of this encoder's own (Importer).
   */
  internPart(w: Int32Array): number {
    const before = this.parts.size;
    const id = this.parts.add(w, 0, w.length);
    if (id === before) {
      this.at = 0;
      this.dsp = 0;
      this.reading = 2; // below the root's arrays: no parent bookkeeping
      this.imported = undefined;
      this.importing = true;
      const o = this.read(w) as object;
      this.importing = false;
      if (this.at !== w.length) throw new Error(`decode: a part of ${w.length} words, ${this.at} read`);
      this.parts.setObject(id, o);
      // its own parts (a thread's frames, a frame's locals), for `part` to find by identity as it finds a walked part's
      if (this.imported !== undefined) this.parts.setInner(id, this.imported);
      this.defined(id, w, 0, w.length);
    }
    return id;
  }

  /** While `internPart` decodes a part: its own parts by index in their array or object (`part`'s record of a walked part). */
  private importing = false;
  private imported: Seen | undefined;

  private importedAt(i: number, x: unknown, id: number): void {
    const rec = (this.imported ??= seen());
    rec.obj[i] = x;
    rec.part[i] = id;
  }

  /** A new part: its hash, and its words into the log. */
  private defined(id: number, w: Int32Array, from: number, to: number): void {
    this.partH[id] = this.hashOf(w, from, to);
    const at = this.logDef(DEF_PART, to - from);
    this.defs.set(w.subarray(from, to), at);
  }

  /**
   * Where the words of the root's last value begin when that value is field `field`, an array of
   * `count` parts (one word each: an element of one of the root's arrays is a part), so that they
   * are the last `count` words of `words[0..n)`; -1 when not (a state that fell back to its key
   * string, a root whose last field is another). For `Machine.stepMemo` (model.ts).
   */
  lastPartsAt(words: Int32Array, n: number, field: string, count: number): number {
    const w0 = words[0]!;
    if (n === 0 || (w0 & 7) !== TAG_OBJECT) return -1;
    const fields = this.shapeFields[w0 >> 3];
    if (fields === undefined || fields[fields.length - 1] !== field) return -1;
    const at = n - count;
    if (at < 2 || words[at - 1] !== ((count << 3) | TAG_ARRAY)) return -1;
    for (let i = at; i < n; i++) if ((words[i]! & 7) !== TAG_PART) return -1;
    return at;
  }

  /**
   * `StepPlaces.cut` (model.ts): the root's words before `at` (where its last value's parts begin,
   * as `lastPartsAt` found) cut into places — the root's shape word; per root value (an array)
   * its first word (the length) and then one place per element (a part, a small integer or
   * constant: one word; a float: three) or, when it is longer than LONG, per chunk (one word);
   * the last value's first word. Each place is named by `placeName`. Returns the number of places
   * (name at out[2i], start at out[2i + 1]), -1 when the words are not laid out so.
   */
  cutRoot(words: Int32Array, at: number, out: Int32Array): number {
    const w0 = words[0]!;
    if ((w0 & 7) !== TAG_OBJECT) return -1;
    const fields = this.rootFieldsOf(w0 >> 3);
    if (fields === undefined || fields.length === 0) return -1;
    // two words per place (its name, where it starts): k places fit while 2k + 1 < out.length
    const room = out.length;
    if (1 >= room) return -1;
    out[0] = PLACE_SHAPE;
    out[1] = 0;
    let k = 2;
    let p = 1;
    for (let f = 0; f < fields.length; f++) {
      const h = words[p]!;
      if (p >= at || (h & 7) !== TAG_ARRAY) return -1;
      const field = fields[f]!;
      if (k + 1 >= room) return -1;
      out[k++] = placeName(field, -1, false);
      out[k++] = p;
      p++;
      if (f === fields.length - 1) break;
      const n = h >> 3;
      const chunked = n > LONG;
      const slots = chunked ? Math.ceil(n / CHUNK) : n;
      for (let i = 0; i < slots; i++) {
        if (p >= at || k + 1 >= room) return -1;
        out[k++] = placeName(field, i, chunked);
        out[k++] = p;
        const tag = words[p]! & 7;
        if (chunked && tag !== TAG_PART) return -1;
        if (tag === TAG_FLOAT) p += 3;
        else if (tag === TAG_INT || tag === TAG_PART || tag === TAG_CONST || tag === TAG_STRING) p++;
        else return -1;
      }
    }
    return p === at ? k >> 1 : -1;
  }

  /** Per root shape, its fields' numbers (`rootField`) in the order its values are encoded: made once, not a Map lookup per field per state. */
  private readonly rootFieldNumbers: (Int32Array | undefined)[] = [];
  private rootFieldsOf(shape: number): Int32Array | undefined {
    const known = this.rootFieldNumbers[shape];
    if (known !== undefined) return known;
    const fields = this.shapeFields[shape];
    if (fields === undefined) return undefined;
    const numbers = Int32Array.from(fields, (f) => this.rootField(f));
    this.rootFieldNumbers[shape] = numbers;
    return numbers;
  }

  /**
   * The name `cutRoot` gives the place of element `index` (-1: the length word) of the root value
   * numbered `field` (`rootField`), an array of `length` elements.
   */
  rootPlace(field: number, index: number, length: number): number {
    const chunked = length > LONG;
    return index < 0 ? placeName(field, -1, false) : placeName(field, chunked ? Math.floor(index / CHUNK) : index, chunked);
  }

  /** Root field names as the places' names number them (in the order met). */
  private readonly rootFields = new Map<string, number>();
  rootField(name: string): number {
    let id = this.rootFields.get(name);
    if (id === undefined) this.rootFields.set(name, (id = this.rootFields.size));
    return id;
  }

  /** `Machine.encode`: the words of `s` into `out`; returns their count (all of them fit when ≤ out.length). */
  encode(s: S, out: Int32Array): number {
    this.len = 0;
    this.sp = 0;
    this.depth = 0;
    try {
      this.object(s as Record<string, unknown>);
    } catch (e) {
      if (!(e instanceof Unencodable)) throw e;
      this.len = 0;
      this.sp = 0;
      this.depth = 0;
      const k = this.keyOf(s);
      if (!this.byKey.has(k)) this.byKey.set(k, s);
      this.push(TAG_KEY | (k.length << 3));
      for (let i = 0; i < k.length; i++) this.push(k.charCodeAt(i));
    }
    const n = this.len;
    // a state is a few dozen words: a loop, not a subarray view per state and a set()
    if (n <= out.length) for (let i = 0, buf = this.buf; i < n; i++) out[i] = buf[i]!;
    return n;
  }

  private push(w: number): void {
    if (this.len === this.buf.length) this.grow(this.len + 1);
    this.buf[this.len++] = w;
  }

  private grow(need: number): void {
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const b = new Int32Array(cap);
    b.set(this.buf);
    this.buf = b;
  }

  private id(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.ids.size;
      this.ids.set(name, id);
      this.names.push(name);
      this.strH.push(textHash(name));
      const at = this.logDef(DEF_STRING, name.length);
      for (let i = 0; i < name.length; i++) this.defs[at + i] = name.charCodeAt(i);
    }
    return id;
  }

  /** Strings by id, and each shape's field names in the order its values are encoded (for decode). */
  private readonly names: string[] = [];
  private readonly shapeFields: string[][] = [[]];
  /** States that fell back to their key string, by key (decode gives them back). */
  private readonly byKey = new Map<string, S>();

  /**
   * `Machine.decode`: a state whose words `encode` wrote (into this encoder: numbers are its
   * own), equal to the state encoded — the parts are the very objects first encoded with those
   * words, the rest is built anew (field order aside, which no reader of a state depends on).
   */
  decode(w: Int32Array, n: number): S {
    if ((w[0]! & 7) === TAG_KEY) {
      const len = w[0]! >>> 3;
      let k = '';
      for (let i = 1; i <= len; i++) k += String.fromCharCode(w[i]!);
      const s = this.byKey.get(k);
      if (s === undefined) throw new Error('decode: words of a key this encoder never gave');
      this.rowObj.length = 0;
      this.rowShape = -1;
      return s;
    }
    const shape = w[0]! >> 3;
    // rows of the state decoded last can be taken again only when the root has the same fields
    if (shape !== this.rowShape) this.rowObj.length = 0;
    this.rowShape = shape;
    this.at = 1;
    this.reading = 0;
    this.dsp = 0;
    this.wn = n;
    // the root object (as `encode` walks it: its values are at depth 1)
    const s = this.readObject(w, shape, true) as S;
    if (this.at !== n) throw new Error(`decode: ${n} words given, ${this.at} read`);
    if (this.pw.length < n) this.pw = new Int32Array(Math.max(n, this.pw.length * 2));
    // a loop, not a subarray view per state and a set()
    for (let i = 0, pw = this.pw; i < n; i++) pw[i] = w[i]!;
    return s;
  }

  /**
   * Whether root value `i` of the state decoded last (an array or object) has the very words
   * that start at `w[at]` now. Words are self-delimiting (no value's words are a proper prefix
   * of another's), so then the value there is equal to it, and states are never changed once
   * made (state.ts): the decoded state can share it.
   */
  private sameRow(w: Int32Array, i: number): boolean {
    if (this.rowObj[i] === undefined) return false;
    const from = this.rowFrom[i]!;
    const len = this.rowTo[i]! - from;
    const at = this.at;
    if (at + len > this.wn) return false;
    const pw = this.pw;
    for (let k = 0; k < len; k++) if (pw[from + k] !== w[at + k]) return false;
    return true;
  }

  /**
   * An object of shape `shape`: its values are in field-name order in the words, its fields are
   * made in the order the encoder first met them in (the order the model builds such objects
   * in), so that decoded objects and the model's own share their hidden classes.
   */
  private readObject(w: Int32Array, shape: number, root: boolean): Record<string, unknown> {
    const fields = this.shapeFields[shape]!;
    const base = this.dsp;
    this.dsp += fields.length;
    if (root && fields.length > this.rowFrom.length) {
      this.rowFrom = new Int32Array(fields.length);
      this.rowTo = new Int32Array(fields.length);
      this.rowObj.length = 0;
    }
    for (let i = 0; i < fields.length; i++) {
      if (root) {
        // the same array as the state decoded last (consecutive states of a level mostly differ
        // in a thread and a page or two): shared, not built again (its parts' records stay valid)
        if (this.sameRow(w, i)) {
          const len = this.rowTo[i]! - this.rowFrom[i]!;
          this.dvals[base + i] = this.rowObj[i];
          this.rowFrom[i] = this.at;
          this.at += len;
          this.rowTo[i] = this.at;
          continue;
        }
        this.readRow = i;
        this.rowFrom[i] = this.at;
      }
      const x = w[this.at]!;
      const v = this.read(w);
      if (this.importing && (x & 7) === TAG_PART) this.importedAt(i, v, x >> 3);
      this.dvals[base + i] = v;
      if (root) {
        this.rowTo[i] = this.at;
        this.rowObj[i] = typeof v === 'object' ? v : undefined;
      }
    }
    const o: Record<string, unknown> = {};
    const nat = this.natural[shape];
    if (nat === undefined) for (let i = 0; i < fields.length; i++) o[fields[i]!] = this.dvals[base + i];
    else {
      const slot = nat.slot;
      for (let j = 0; j < slot.length; j++) o[nat.names[j]!] = this.dvals[base + slot[j]!];
    }
    this.dsp = base;
    return o;
  }

  /** Values being decoded (a nested object's above its parent's). */
  private readonly dvals: unknown[] = [];
  private dsp = 0;
  /** Per shape met by a walk: its field names in the order first met, and where each one's value is among the encoded ones. */
  private readonly natural: ({ names: readonly string[]; slot: Int32Array } | undefined)[] = [];

  private at = 0;
  /**
   * The words of the state decoded last, and per value of its root: the array or object decoded
   * there and where its words are. A successor that still holds that very array (a step copies
   * what it writes) has those words for it: `encode` copies them instead of walking it.
   */
  private pw = new Int32Array(256);
  private readonly rowObj: unknown[] = [];
  /** The root shape of the state decoded last (-1: none), and how many words are being decoded. */
  private rowShape = -1;
  private wn = 0;
  private rowFrom = new Int32Array(16);
  private rowTo = new Int32Array(16);
  /** How deep `read` is (as `depth` for `encode`), and in which of the root's values. */
  private reading = 0;
  private readRow = 0;

  private read(w: Int32Array): unknown {
    const word = w[this.at++]!;
    const p = word >> 3;
    switch (word & 7) {
      case TAG_INT:
        return p;
      case TAG_ARRAY: {
        // built by push, not `new Array(n)`: a packed array, as the model's own (a holey one
        // would give the model's code a second elements kind to handle at every access)
        const n = p >>> 0;
        if (n > LONG) return this.readChunked(w, n);
        const a: unknown[] = [];
        this.reading++;
        if (this.reading === 1) {
          // the successors of the state decoded share its parts: the encoder finds them by identity
          const par = (this.parent[this.readRow] ??= seen());
          for (let i = 0; i < n; i++) {
            const x = w[this.at]!;
            const v = this.read(w);
            a.push(v);
            if ((x & 7) === TAG_PART) {
              par.obj[i] = v;
              par.part[i] = x >> 3;
            } else par.obj[i] = undefined;
          }
          par.obj.length = n;
        } else if (this.importing) {
          for (let i = 0; i < n; i++) {
            const x = w[this.at]!;
            const v = this.read(w);
            a.push(v);
            if ((x & 7) === TAG_PART) this.importedAt(i, v, x >> 3);
          }
        } else for (let i = 0; i < n; i++) a.push(this.read(w));
        this.reading--;
        return a;
      }
      case TAG_OBJECT: {
        this.reading++;
        const o = this.readObject(w, p, false);
        this.reading--;
        return o;
      }
      case TAG_STRING:
        return this.names[p];
      case TAG_FLOAT:
        this.f64w[0] = w[this.at++]!;
        this.f64w[1] = w[this.at++]!;
        return this.f64[0];
      case TAG_CONST:
        return p === C_UNDEFINED ? undefined : p === C_NULL ? null : p === C_TRUE;
      case TAG_PART:
        return this.parts.object(p);
      default:
        throw new Error(`decode: a word tagged ${word & 7} inside a state`);
    }
  }

  /**
   * An array of `n` > LONG elements (`chunked`): its chunks' elements, in order. At the root's
   * arrays, each element that is a part is recorded with its number (from the record its chunk
   * keeps), as `read` records those of a short array, for the successors' encoding to find by
   * identity; a chunk with no record holds no part.
   */
  private readChunked(w: Int32Array, n: number): unknown[] {
    const a: unknown[] = [];
    const par = this.reading === 0 && !this.importing ? (this.parent[this.readRow] ??= seen()) : undefined;
    for (let i = 0; i < n;) {
      const word = w[this.at++]!;
      if ((word & 7) !== TAG_PART) throw new Error(`decode: a chunk of a long array tagged ${word & 7}`);
      const id = word >> 3;
      const chunk = this.parts.object(id) as unknown[];
      const inner = par === undefined ? undefined : this.parts.inner(id);
      for (let j = 0; j < chunk.length; j++, i++) {
        const v = chunk[j];
        a.push(v);
        if (par === undefined) continue;
        const pid = inner?.part[j];
        if (pid !== undefined && pid >= 0) {
          par.obj[i] = v;
          par.part[i] = pid;
        } else par.obj[i] = undefined;
      }
    }
    if (par !== undefined) par.obj.length = n;
    return a;
  }

  private value(v: unknown): void {
    switch (typeof v) {
      case 'number':
        if (Number.isInteger(v) && v > -SMALL && v < SMALL) this.push((v << 3) | TAG_INT);
        else {
          this.f64[0] = v === 0 ? 0 : Number.isNaN(v) ? NaN : v;
          this.push(TAG_FLOAT);
          this.push(this.f64w[0]!);
          this.push(this.f64w[1]!);
        }
        return;
      case 'string':
        this.push((this.id(v) << 3) | TAG_STRING);
        return;
      case 'boolean':
        this.push(((v ? C_TRUE : C_TRUE + 1) << 3) | TAG_CONST);
        return;
      case 'undefined':
        this.push((C_UNDEFINED << 3) | TAG_CONST);
        return;
      case 'object':
        if (v === null) this.push((C_NULL << 3) | TAG_CONST);
        else this.nested(v);
        return;
      default:
        throw new Unencodable();
    }
  }

  /** An array or an object below the root. */
  private nested(o: object): void {
    this.depth++;
    if (Array.isArray(o)) {
      const n = o.length;
      if (n > LONG) this.chunked(o, n);
      else {
        if (this.len + n + 1 > this.buf.length) this.grow(this.len + n + 1);
        this.buf[this.len++] = (n << 3) | TAG_ARRAY;
        this.elements(o, 0, n);
      }
    } else {
      this.object(o as Record<string, unknown>);
    }
    this.depth--;
  }

  /** Elements `o[from..to)` of an array being encoded (their index in `o` is where identity lookups keep them). */
  private elements(o: unknown[], from: number, to: number): void {
    const parts = this.depth === 1 || this.depth === 3;
    for (let i = from; i < to; i++) {
      const x: unknown = o[i];
      // small integers (most of a state: pfns, counters, cache slots) straight in; the rest through value()
      if (typeof x === 'number' && (x | 0) === x && x > -SMALL && x < SMALL) {
        if (this.len === this.buf.length) this.grow(this.len + 1);
        this.buf[this.len++] = (x << 3) | TAG_INT;
      } else if (parts && typeof x === 'object' && x !== null) this.part(x, i);
      else this.value(x);
    }
  }

  /**
   * The words of each long array encoded so far (its length, its chunks' numbers), and whether
   * its objects were parts there: an array is never changed once made (state.ts), and a mapping
   * a step changed mostly keeps the arrays it did not touch, which are then not walked again.
   */
  private readonly longWords = new WeakMap<unknown[], { parts: boolean; words: Int32Array }>();

  /**
   * An array longer than LONG: its length, then per CHUNK elements the number of the part whose
   * words are those elements' as an array of their own (so a chunk decodes, and travels between
   * encoders, as any part does). Which arrays are chunked depends on their length alone, so equal
   * words still mean equal states.
   */
  private chunked(o: unknown[], n: number): void {
    const parts = this.depth === 1 || this.depth === 3;
    const known = this.longWords.get(o);
    if (known !== undefined && known.parts === parts) {
      const kw = known.words;
      if (this.len + kw.length > this.buf.length) this.grow(this.len + kw.length);
      for (let k = 0; k < kw.length; k++) this.buf[this.len++] = kw[k]!;
      return;
    }
    const start = this.len;
    this.push((n << 3) | TAG_ARRAY);
    // A root array the step changed: the chunks whose elements are all the very values of the
    // same place in the state decoded last (its array there, of the same length) have that
    // chunk's number, read from its words, without a walk.
    let was: unknown[] | undefined;
    let wasAt = 0;
    if (this.depth === 1) {
      const p = this.rowObj[this.row];
      wasAt = this.rowFrom[this.row]! + 1;
      if (Array.isArray(p) && p.length === n && this.pw[wasAt - 1] === ((n << 3) | TAG_ARRAY)) was = p;
    }
    for (let c = 0; c < n; c += CHUNK) {
      const end = Math.min(n, c + CHUNK);
      if (was !== undefined) {
        let same = true;
        for (let i = c; i < end && same; i++) same = o[i] === was[i];
        if (same) {
          this.push(this.pw[wasAt + c / CHUNK]!);
          continue;
        }
      }
      const mark = this.len;
      this.push(((end - c) << 3) | TAG_ARRAY);
      this.elements(o, c, end);
      const before = this.parts.size;
      const id = this.parts.add(this.buf, mark, this.len);
      if (id === before) {
        const chunk = o.slice(c, end);
        this.parts.setObject(id, chunk);
        this.defined(id, this.buf, mark, this.len);
        const inner = this.elementParts(mark + 1, this.len);
        if (inner !== undefined) this.parts.setInner(id, { obj: chunk, part: inner });
      }
      this.len = mark;
      this.push((id << 3) | TAG_PART);
    }
    this.longWords.set(o, { parts, words: this.buf.slice(start, this.len) });
  }

  /**
   * Per element of a chunk whose words are `buf[from..to)`: its part number, or -1 for a value
   * that is not a part; undefined when none is (a chunk of numbers keeps no record). An element
   * is one word, a float three: a chunk's objects are parts (it sits at a depth whose are).
   */
  private elementParts(from: number, to: number): number[] | undefined {
    const out: number[] = [];
    let any = false;
    for (let at = from; at < to;) {
      const x = this.buf[at]!;
      const part = (x & 7) === TAG_PART;
      any ||= part;
      out.push(part ? x >> 3 : -1);
      at += (x & 7) === TAG_FLOAT ? 3 : 1;
    }
    return any ? out : undefined;
  }

  /**
   * An element of one of the root's arrays that is an object or an array (a page, a mapping,
   * a PTE row, a thread): its words go into the part table once, and the state's words hold
   * its number. A step shares what it did not touch with the state it started from, and the
   * states encoded one after the other are mostly siblings, so the object at the same place
   * in the last state encoded is usually this very object: its number is known without a walk.
   */
  private part(x: object, i: number): void {
    let id: number;
    if (this.depth === 1) {
      const last = (this.last[this.row] ??= seen());
      const parent = this.parent[this.row];
      if (last.obj[i] === x) id = last.part[i]!;
      else if (parent !== undefined && parent.obj[i] === x) id = parent.part[i]!;
      else {
        // its own parts (a thread's frames) are looked up among those of the part it replaces
        const was = parent !== undefined && parent.obj[i] !== undefined ? parent.part[i]! : last.part[i];
        this.lookIn = was === undefined ? undefined : this.parts.inner(was);
        this.record.n = 0;
        id = this.partOf(x);
        this.keepInner(id, this.record);
        last.obj[i] = x;
        last.part[i] = id;
      }
    } else {
      // a step makes a new top frame and shares the frames below it
      const look = this.lookIn;
      if (look !== undefined && look.obj[i] === x) id = look.part[i]!;
      else {
        // its object fields (a frame's locals) are looked up among those of the frame it replaces
        const was = look !== undefined && look.obj[i] !== undefined ? look.part[i] : undefined;
        this.fieldLook = was === undefined ? undefined : this.parts.inner(was);
        this.fieldRecord.n = 0;
        id = this.partOf(x);
        this.keepInner(id, this.fieldRecord);
      }
      note(this.record, i, x, id);
    }
    if (this.len === this.buf.length) this.grow(this.len + 1);
    this.buf[this.len++] = (id << 3) | TAG_PART;
  }

  /**
   * A field of an object that is a part two arrays down (a frame) whose value is an object or
   * an array (its locals): a part too. A step that moves a thread makes a new frame but mostly
   * keeps its locals, so they are found by identity among those of the frame it replaces.
   */
  private fieldPart(x: object, i: number): void {
    const look = this.fieldLook;
    const id = look !== undefined && look.obj[i] === x ? look.part[i]! : this.partOf(x);
    note(this.fieldRecord, i, x, id);
    if (this.len === this.buf.length) this.grow(this.len + 1);
    this.buf[this.len++] = (id << 3) | TAG_PART;
  }

  /** Part `id`'s own parts, for lookup by identity, when it has none kept yet: a copy of what its walk recorded. */
  private keepInner(id: number, r: Scratch): void {
    if (r.n > 0 && this.parts.inner(id) === undefined) this.parts.setInner(id, { obj: r.obj.slice(0, r.n), part: r.part.slice(0, r.n) });
  }

  private partOf(x: object): number {
    const mark = this.len;
    this.nested(x);
    const before = this.parts.size;
    const id = this.parts.add(this.buf, mark, this.len);
    if (id === before) {
      this.parts.setObject(id, x);
      this.defined(id, this.buf, mark, this.len);
    }
    this.len = mark;
    return id;
  }

  private object(o: Record<string, unknown>): void {
    const proto = Object.getPrototypeOf(o) as unknown;
    if (proto !== Object.prototype && proto !== null) throw new Unencodable();
    // Follow the fields in enumeration order down the walk trie (objects of one kind meet the
    // same path, so each step is one string comparison); its end knows the shape and the order.
    const base = this.sp;
    const site = this.depth === 2 ? 8 + this.row : this.depth;
    let node = (this.walks[site] ??= { name: '', names: [], child: undefined, alt: undefined, plan: undefined });
    for (const name in o) {
      const v = o[name];
      if (v === undefined || v === false) continue;
      this.vals[this.sp++] = v;
      let c = node.child;
      if (c === undefined || c.name !== name) c = this.walkTo(node, name);
      node = c;
    }
    const plan = node.plan ?? this.planOf(node);
    this.push((plan.shape << 3) | TAG_OBJECT);
    const order = plan.order;
    const root = this.depth === 0;
    const fieldParts = this.depth === 4;
    for (let i = 0; i < order.length; i++) {
      const v = this.vals[base + order[i]!];
      if (root) {
        this.row = i;
        if (v === this.rowObj[i] && typeof v === 'object') {
          this.copyRow(this.rowFrom[i]!, this.rowTo[i]!);
          continue;
        }
      } else if (fieldParts && typeof v === 'object' && v !== null) {
        this.fieldPart(v, i);
        continue;
      }
      this.value(v);
    }
    this.sp = base;
  }

  /** Words `pw[from..to)` of the state decoded last, appended. */
  private copyRow(from: number, to: number): void {
    const need = this.len + to - from;
    if (need > this.buf.length) this.grow(need);
    const buf = this.buf;
    const pw = this.pw;
    for (let k = from, at = this.len; k < to; k++, at++) buf[at] = pw[k]!;
    this.len = need;
  }

  private walkTo(node: Walk, name: string): Walk {
    let c = node.alt?.get(name);
    if (c === undefined) {
      c = { name, names: [...node.names, name], child: undefined, alt: undefined, plan: undefined };
      (node.alt ??= new Map()).set(name, c);
    }
    node.child ??= c;
    return c;
  }

  /** The shape of a walk's field set and the order to emit its values in: by field name. */
  private planOf(node: Walk): Plan {
    const names = node.names;
    const order = names.map((_, i) => i).sort((a, b) => (names[a]! < names[b]! ? -1 : names[a]! > names[b]! ? 1 : 0));
    node.plan = { shape: this.shapeOf(order.map((i) => names[i]!)), order: Int32Array.from(order) };
    if (this.natural[node.plan.shape] === undefined) {
      const slot = new Int32Array(order.length);
      order.forEach((j, i) => (slot[j] = i));
      this.natural[node.plan.shape] = { names, slot };
    }
    return node.plan;
  }

  /** The number of the shape whose field names, in sorted order, are `names` (each new prefix a new shape, logged). */
  shapeOf(names: readonly string[]): number {
    let shape = this.shapes;
    for (const name of names) {
      const id = this.id(name);
      let nx = shape.next.get(id);
      if (nx === undefined) {
        nx = { id: this.shapeCount++, next: new Map() };
        shape.next.set(id, nx);
        const fields = [...this.shapeFields[shape.id]!, name];
        this.shapeFields[nx.id] = fields;
        this.shapeH[nx.id] = textHash(fields.join('\0'));
        const at = this.logDef(DEF_SHAPE, fields.length);
        for (let i = 0; i < fields.length; i++) this.defs[at + i] = this.ids.get(fields[i]!)!;
      }
      shape = nx;
    }
    return shape.id;
  }
}

/**
 * The parts of states (StateEncoder.part), numbered by content: equal words get one number
 * (core's WordTable), with the first object seen with those words.
 */
class PartTable {
  private readonly table = new WordTable();
  /** The first object seen with each part's words. */
  private readonly objects: object[] = [];
  /** Per part: its own parts by index (a thread's frames), when it has any. */
  private readonly inners: (Seen | undefined)[] = [];

  get size(): number {
    return this.table.size;
  }

  inner(id: number): Seen | undefined {
    return this.inners[id];
  }

  setInner(id: number, s: Seen): void {
    this.inners[id] ??= s;
  }

  object(id: number): object {
    return this.objects[id]!;
  }

  setObject(id: number, x: object): void {
    this.objects[id] = x;
  }

  /** The number of the part whose words are `w[from..to)`: the next number (`size` before) when new. */
  add(w: Int32Array, from: number, to: number): number {
    const r = this.table.add(w, to, from);
    return r < 0 ? ~r : r;
  }
}

/**
 * Another encoder's words into this one's numbers (`Machine.exchange`): its definitions are
 * read in log order, each string, shape and part given the number this encoder has for the
 * same content (made when new).
 */
class Importer<S extends object> implements WordImporter {
  private readonly str: number[] = [];
  private readonly shape: number[] = [0];
  private readonly part: number[] = [];

  constructor(private readonly enc: StateEncoder<S>) {}

  define(defs: Int32Array): void {
    for (let i = 0; i < defs.length;) {
      const kind = defs[i]!;
      const from = i + 2;
      const to = from + defs[i + 1]!;
      i = to;
      if (kind === DEF_STRING) {
        let t = '';
        for (let k = from; k < to; k++) t += String.fromCharCode(defs[k]!);
        this.str.push(this.enc.internString(t));
      } else if (kind === DEF_SHAPE) {
        const names: string[] = [];
        for (let k = from; k < to; k++) names.push(this.enc.nameOf(this.str[defs[k]!]!));
        this.shape.push(this.enc.shapeOf(names));
      } else if (kind === DEF_PART) {
        const w = defs.slice(from, to);
        this.translate(w, 0, w.length);
        this.part.push(this.enc.internPart(w));
      } else throw new Error(`exchange: a definition of kind ${kind}`);
    }
  }

  translate(w: Int32Array, from: number, to: number): void {
    for (let i = from; i < to;) {
      const word = w[i]!;
      const p = word >> 3;
      switch (word & 7) {
        case TAG_STRING:
          w[i++] = (this.str[p]! << 3) | TAG_STRING;
          break;
        case TAG_OBJECT:
          w[i++] = (this.shape[p]! << 3) | TAG_OBJECT;
          break;
        case TAG_PART:
          w[i++] = (this.part[p]! << 3) | TAG_PART;
          break;
        case TAG_FLOAT:
          i += 3;
          break;
        case TAG_KEY:
          i += 1 + (word >>> 3);
          break;
        default:
          i++;
      }
    }
  }
}
