/**
 * What a step reads of the shared part of a state (`StepMemo.places`, model.ts), as places: one
 * element of a root array (a page, a mapping, a PTE row, a lock owner, a disk block, a PMD, a row
 * of PTE dirty bits) or that array's length. The encoder (encode.ts `cutRoot`) turns them into the
 * names of the places of the state's words (an array longer than 64 is encoded in chunks of 32:
 * an element names its chunk). What a page or a mapping holds is inside its one place, so reading
 * any field of it reads the place.
 *
 * Two ways of noting, the same places:
 *
 * - `PlaceNotes`: the step's Ctx notes each place at its own accessors (ctx.ts: `rawPage`,
 *   `rawMap`, `pte`, `pteDirty`, `pmd`, `ptlOwner`, the allocators' scans, the writers — a write of
 *   a place is noted as a read of it). What Ctx hands the whole state to (the invariants it judges,
 *   a flavor's `c.state`) gets `PlaceNotes.view`, the state behind the recording Proxy below,
 *   noting into the same list; what reads or writes data generations marks the step `all` (the
 *   renumbering after it reads the whole shared part anyway: data.ts, model.ts `canonical`).
 * - `ReadRecorder`: the step runs on a Proxy of the state whose root arrays note every element
 *   read and written (the oracle: packages/mm-model/test/reads.test.ts runs every step of the
 *   shipped cases both ways and requires the accessors' places to hold the Proxy's).
 *
 * A Proxy's copies: `slice()` with no argument (the copy on write) gives a new Proxy over the
 * copy, which notes under the same field (its elements are where they were). A root value the step
 * replaced by an array that is neither the state's nor such a copy (it built one anew) is reported
 * by `foreign`: the step then depends on the whole state.
 */
import type { MmState } from './state.js';

/** The root arrays whose elements are places, in the order of their numbers in a note. */
export const PLACE_FIELDS = ['pages', 'maps', 'ptes', 'ptl', 'disk', 'pmds', 'pted'] as const;
export const F_PAGES = 0;
export const F_MAPS = 1;
export const F_PTES = 2;
export const F_PTL = 3;
export const F_DISK = 4;
export const F_PMDS = 5;
export const F_PTED = 6;
/** A note's index: the array's length, or every element and the length. */
export const LENGTH = -1;
export const EVERY = -2;

const FIELD_ID = new Map<string, number>(PLACE_FIELDS.map((f, i) => [f, i]));

/** The places a step read: (field number, index) pairs; `all` when it depends on the whole shared part. */
export class PlaceNotes {
  a = new Int32Array(256);
  n = 0;
  all = false;
  private readonly recorder = new ReadRecorder(this);

  begin(): void {
    this.n = 0;
    this.all = false;
    this.recorder.begin();
  }

  note(field: number, index: number): void {
    if (this.n + 2 > this.a.length) {
      const b = new Int32Array(2 * this.a.length);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = field;
    this.a[this.n++] = index;
  }

  /** The recording Proxy's keeper (the oracle runs a whole step on `view`). */
  recorderOf(): ReadRecorder {
    return this.recorder;
  }

  /** The state behind the recording Proxy, noting here: for what reads the whole state object (invariants, `Ctx.state`). */
  view(s: MmState): MmState {
    return this.recorder.root(s);
  }
}

/** What a Proxy of `arr` answers to this: the array behind it. */
const TARGET = Symbol('target');

const isIndex = (p: string | symbol): boolean => typeof p === 'string' && p.length > 0 && p.charCodeAt(0) >= 48 && p.charCodeAt(0) <= 57;

/** The oracle: a state whose root arrays note every element read or written (into `sink`) while `on`. */
export class ReadRecorder {
  on = true;
  /** The copies made through a Proxy since `begin`, and the field each stands for. */
  private readonly copies: unknown[][] = [];
  private readonly copyField: string[] = [];
  /** One handler per field (its traps know the field), made once. */
  private readonly handlers = new Map<string, ProxyHandler<unknown[]>>();
  /** The state `root` gave a Proxy of last, that Proxy, and its arrays' Proxies by field. */
  private lastRoot: MmState | undefined;
  private lastProxy: MmState | undefined;
  private lastArrays = new Map<string, { of: unknown[]; proxy: unknown[] }>();

  constructor(private readonly sink: PlaceNotes) {}

  /** A new step. */
  begin(): void {
    this.copies.length = 0;
    this.copyField.length = 0;
  }

  /** The state as a step should see it: its root arrays behind Proxies. */
  root(s: MmState): MmState {
    if (s === this.lastRoot) return this.lastProxy!;
    const arrays = (this.lastArrays = new Map());
    const p = new Proxy(s, {
      get: (target, prop) => {
        const v = (target as unknown as Record<string | symbol, unknown>)[prop];
        if (typeof prop !== 'string' || !FIELD_ID.has(prop) || !Array.isArray(v)) return v;
        // a step's own root object has its arrays replaced in place (ctx.ts rootW): a Proxy per array it holds
        let a = arrays.get(prop);
        if (a === undefined || a.of !== v) arrays.set(prop, (a = { of: v, proxy: this.arr(prop, v) }));
        return a.proxy;
      },
    });
    this.lastRoot = s;
    this.lastProxy = p;
    return p;
  }

  /** A copy on write of a watched array: a Proxy over it, noting under the same field. */
  private copy(field: string, a: unknown[]): unknown[] {
    this.copies.push(a);
    this.copyField.push(field);
    return this.arr(field, a);
  }

  private arr(field: string, a: unknown[]): unknown[] {
    let h = this.handlers.get(field);
    if (h === undefined) this.handlers.set(field, (h = this.handler(field)));
    return new Proxy(a, h);
  }

  private handler(name: string): ProxyHandler<unknown[]> {
    const field = FIELD_ID.get(name)!;
    // a write is noted as a read: the step's result depends on what the place held (a chunk keeps its other elements)
    const read = (i: number): void => {
      if (this.on) this.sink.note(field, i);
    };
    return {
      get: (target, prop, receiver) => {
        if (isIndex(prop)) {
          read(Number(prop));
          return target[prop as unknown as number];
        }
        if (prop === 'length') {
          read(LENGTH);
          return target.length;
        }
        if (prop === TARGET) return target;
        if (prop === 'slice')
          return (...args: number[]) =>
            args.length === 0 ? this.copy(name, target.slice()) : Array.prototype.slice.apply(receiver, args as [number?, number?]);
        return Reflect.get(target, prop, receiver) as unknown;
      },
      set: (target, prop, v) => {
        if (isIndex(prop)) read(Number(prop));
        else if (prop === 'length') read(LENGTH);
        (target as unknown as Record<string | symbol, unknown>)[prop] = v;
        return true;
      },
      deleteProperty: (target, prop) => {
        if (isIndex(prop)) read(Number(prop));
        return Reflect.deleteProperty(target, prop);
      },
      has: (target, prop) => {
        if (isIndex(prop)) read(Number(prop));
        return Reflect.has(target, prop);
      },
      ownKeys: (target) => {
        read(EVERY);
        return Reflect.ownKeys(target);
      },
      getOwnPropertyDescriptor: (target, prop) => {
        if (isIndex(prop)) read(Number(prop));
        else if (prop === 'length') read(LENGTH);
        return Reflect.getOwnPropertyDescriptor(target, prop);
      },
    };
  }

  /** The state a step made from a Proxy given by `root`: its root values that are Proxies replaced by their arrays (a new root object). */
  unwrap(r: MmState): MmState {
    const out: Record<string, unknown> = { ...r };
    for (const k of PLACE_FIELDS) {
      const v = out[k] as Record<symbol, unknown> | undefined;
      if (Array.isArray(v)) {
        const t = v[TARGET];
        if (t !== undefined) out[k] = t;
      }
    }
    return out as unknown as MmState;
  }

  /**
   * Whether `next` (unwrapped) holds a watched root value that is neither `s`'s array there nor a
   * copy made through a Proxy for that field: the step built it anew, and which of its places it
   * wrote is not known.
   */
  foreign(s: MmState, next: MmState): boolean {
    const n = next as unknown as Record<string, unknown>;
    const o = s as unknown as Record<string, unknown>;
    for (const k of PLACE_FIELDS) {
      const v = n[k];
      if (v === undefined || v === o[k]) continue;
      const i = this.copies.indexOf(v as unknown[]);
      if (i < 0 || this.copyField[i] !== k) return true;
    }
    return false;
  }
}
