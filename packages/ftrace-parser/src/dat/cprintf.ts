/**
 * C printf of a single conversion (`%-8s`, `%08llx`, `%#x`, `%.*s`, `%5d`), for rendering
 * print fmts the way libtraceevent's printf calls render them. Integers are exact
 * (bigint); the caller has already narrowed them to the width the conversion's length
 * modifier reads.
 */

export interface Spec {
  flags: string;
  /** Field width; `*` takes it from the length argument. */
  width: number | '*' | undefined;
  precision: number | '*' | undefined;
  conv: string;
}

const cache = new Map<string, Spec>();

/** `%-08.3lx` → its parts (length modifiers are dropped: the value is already narrowed). */
export function parseSpec(spec: string): Spec {
  let s = cache.get(spec);
  if (s) return s;
  const m = /^%([-+ #0]*)(\*|\d+)?(?:\.(\*|\d*))?[hlLqjzZt]*([a-zA-Z])/.exec(spec);
  if (!m) s = { flags: '', width: undefined, precision: undefined, conv: spec.slice(-1) };
  else {
    const w = m[2];
    const p = m[3];
    s = {
      flags: m[1]!,
      width: w === undefined ? undefined : w === '*' ? '*' : Number(w),
      precision: p === undefined ? undefined : p === '*' ? '*' : Number(p || 0),
      conv: m[4]!,
    };
  }
  cache.set(spec, s);
  return s;
}

/** Width and precision with a `*` resolved from `lenArg` (a negative width left-justifies). */
function resolve(s: Spec, lenArg: number | undefined): { left: boolean; width: number; precision: number | undefined } {
  let left = s.flags.includes('-');
  let width = 0;
  if (s.width === '*') {
    const w = lenArg ?? 0;
    if (w < 0) left = true;
    width = Math.abs(w);
  } else if (s.width !== undefined) width = s.width;
  let precision: number | undefined;
  if (s.precision === '*') precision = lenArg !== undefined && lenArg >= 0 ? lenArg : undefined;
  else precision = s.precision;
  return { left, width, precision };
}

function pad(body: string, width: number, left: boolean, zero = false): string {
  if (body.length >= width) return body;
  if (left) return body.padEnd(width);
  if (!zero) return body.padStart(width);
  const sign = /^[-+ ]/.test(body) ? body[0]! : body.startsWith('0x') || body.startsWith('0X') ? body.slice(0, 2) : '';
  return sign + body.slice(sign.length).padStart(width - sign.length, '0');
}

/** `%s`-family of `str` (precision cuts, width pads). */
export function printfString(spec: string, str: string, lenArg?: number): string {
  const s = parseSpec(spec);
  const { left, width, precision } = resolve(s, lenArg);
  const body = precision !== undefined ? str.slice(0, precision) : str;
  return pad(body, width, left);
}

/**
 * An integer conversion (`d i u x X o c`) of `value`, a signed or unsigned exact integer
 * already narrowed by the caller to what the length modifier reads.
 */
export function printfInt(spec: string, value: bigint, lenArg?: number): string {
  const s = parseSpec(spec);
  const { left, width, precision } = resolve(s, lenArg);
  const conv = s.conv;
  if (conv === 'c') return pad(String.fromCharCode(Number(BigInt.asUintN(8, value))), width, left);
  const neg = value < 0n;
  const mag = neg ? -value : value;
  let digits = conv === 'x' ? mag.toString(16) : conv === 'X' ? mag.toString(16).toUpperCase() : conv === 'o' ? mag.toString(8) : mag.toString();
  if (precision !== undefined) {
    digits = precision === 0 && mag === 0n ? '' : digits.padStart(precision, '0');
  }
  if (s.flags.includes('#')) {
    if ((conv === 'x' || conv === 'X') && mag !== 0n) digits = `0${conv}${digits}`;
    else if (conv === 'o' && !digits.startsWith('0')) digits = `0${digits}`;
  }
  let sign = '';
  if (conv === 'd' || conv === 'i') sign = neg ? '-' : s.flags.includes('+') ? '+' : s.flags.includes(' ') ? ' ' : '';
  return pad(sign + digits, width, left, s.flags.includes('0') && precision === undefined && !left);
}
