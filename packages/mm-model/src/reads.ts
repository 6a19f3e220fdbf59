/**
 * What a step reads and writes of the shared part of a state (`StepMemo.places`, model.ts): the
 * step runs on a Proxy of the state whose root arrays (pages, maps, ptes, ptl, disk, pmds, pted:
 * every root value but `threads`) note each element read and written. A step reaches the state
 * only through its Ctx, which holds the state it was given and the copies it makes of it (ctx.ts:
 * copy on write); the invariants it judges and a flavor's `c.state` get that same state. So
 * whatever the step looks at — a page by pfn, a mapping, a PTE row, a lock word, a disk block,
 * the length of an array, a scan for a free pfn or block — goes through these arrays.
 *
 * A place of the state's words (encode.ts `cutRoot`) is one element of a root array (a page, a
 * mapping, a PTE row, a lock owner, a disk block) or, for an array longer than 64, a chunk of 32;
 * an element read or written names its place. What a page or a mapping holds is inside its one
 * place, so reading any field of it reads the place.
 *
 * Copies: `slice()` with no argument (the copy on write) gives a new Proxy over the copy, which
 * notes under the same field (its elements are where they were); the copy's own reads and writes
 * are noted as the original's places. Writing an element (set, delete, push, pop, a length) of
 * such a copy is a write of its place. A root value the step replaced by an array that is neither
 * the state's nor such a copy (it built one anew) is reported by `foreign`: the caller then
 * takes the step to depend on the whole state.
 */
import type { MmState } from './state.js';

/** Root values that are arrays the recorder watches, by name. */
const WATCHED = new Set(['pages', 'maps', 'ptes', 'ptl', 'disk', 'pmds', 'pted']);

const isIndex = (p: string | symbol): boolean => typeof p === 'string' && p.length > 0 && p.charCodeAt(0) >= 48 && p.charCodeAt(0) <= 57;

/** What a Proxy of `arr` answers to this: the array behind it. */
const TARGET = Symbol('target');

export class ReadRecorder {
  /** Noting (a step runs); off, reads and writes go through unnoted. */
  on = false;
  /** Reads and writes since `begin`: the field, then the index (-1: the length; -2: every element). */
  readonly reads: (string | number)[] = [];
  readonly writes: (string | number)[] = [];
  /** The copies made through a Proxy since `begin`, and the field each stands for. */
  private readonly copies: unknown[][] = [];
  private readonly copyField: string[] = [];
  /** One handler per field (its traps know the field), made once. */
  private readonly handlers = new Map<string, ProxyHandler<unknown[]>>();
  /** The state `root` gave a Proxy of last, that Proxy, and its arrays' Proxies by field. */
  private lastRoot: MmState | undefined;
  private lastProxy: MmState | undefined;
  private lastArrays = new Map<string, unknown[]>();

  /** A new step: the lists are emptied. */
  begin(): void {
    this.reads.length = 0;
    this.writes.length = 0;
    this.copies.length = 0;
    this.copyField.length = 0;
  }

  /** The state as a step should see it: its watched root arrays behind Proxies. */
  root(s: MmState): MmState {
    if (s === this.lastRoot) return this.lastProxy!;
    const arrays = (this.lastArrays = new Map());
    const p = new Proxy(s, {
      get: (target, prop) => {
        const v = (target as unknown as Record<string | symbol, unknown>)[prop];
        if (typeof prop !== 'string' || !WATCHED.has(prop) || !Array.isArray(v)) return v;
        let a = arrays.get(prop);
        if (a === undefined) arrays.set(prop, (a = this.arr(prop, v)));
        return a;
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

  private handler(field: string): ProxyHandler<unknown[]> {
    const read = (i: number): void => {
      if (this.on) this.reads.push(field, i);
    };
    const wrote = (i: number): void => {
      if (this.on) this.writes.push(field, i);
    };
    return {
      get: (target, prop, receiver) => {
        if (isIndex(prop)) {
          read(Number(prop));
          return target[prop as unknown as number];
        }
        if (prop === 'length') {
          read(-1);
          return target.length;
        }
        if (prop === TARGET) return target;
        // the copy on write: a Proxy over the copy, noting under this field; a part of the array is read
        if (prop === 'slice')
          return (...args: number[]) =>
            args.length === 0 ? this.copy(field, target.slice()) : Array.prototype.slice.apply(receiver, args as [number?, number?]);
        return Reflect.get(target, prop, receiver) as unknown;
      },
      set: (target, prop, v) => {
        if (isIndex(prop)) wrote(Number(prop));
        else if (prop === 'length') wrote(-1);
        (target as unknown as Record<string | symbol, unknown>)[prop] = v;
        return true;
      },
      deleteProperty: (target, prop) => {
        if (isIndex(prop)) wrote(Number(prop));
        return Reflect.deleteProperty(target, prop);
      },
      has: (target, prop) => {
        if (isIndex(prop)) read(Number(prop));
        return Reflect.has(target, prop);
      },
      ownKeys: (target) => {
        read(-2);
        return Reflect.ownKeys(target);
      },
      getOwnPropertyDescriptor: (target, prop) => {
        if (isIndex(prop)) read(Number(prop));
        else if (prop === 'length') read(-1);
        return Reflect.getOwnPropertyDescriptor(target, prop);
      },
    };
  }

  /** The state a step made from a Proxy given by `root`: its root values that are Proxies replaced by their arrays (a new root object). */
  unwrap(r: MmState): MmState {
    const out: Record<string, unknown> = { ...r };
    for (const k of WATCHED) {
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
    for (const k of WATCHED) {
      const v = n[k];
      if (v === undefined || v === o[k]) continue;
      const i = this.copies.indexOf(v as unknown[]);
      if (i < 0 || this.copyField[i] !== k) return true;
    }
    return false;
  }
}
