/** Small helpers shared by the cat and litmus readers. */

/**
 * Skips an OCaml comment `(* ... *)` (nested) that starts at `i`. Returns the offset after
 * it and the number of newlines inside, or null when it is not closed.
 */
export function skipOcamlComment(text: string, i: number): { end: number; newlines: number } | null {
  let depth = 1;
  let newlines = 0;
  let k = i + 2;
  while (depth > 0) {
    if (k >= text.length) return null;
    if (text[k] === '(' && text[k + 1] === '*') {
      depth++;
      k += 2;
    } else if (text[k] === '*' && text[k + 1] === ')') {
      depth--;
      k += 2;
    } else {
      if (text[k] === '\n') newlines++;
      k++;
    }
  }
  return { end: k, newlines };
}

/** Steps a mixed-radix counter (the last digit fastest); false once it wraps around. */
export function nextCombination(idx: number[], sizes: number[]): boolean {
  let k = idx.length - 1;
  while (k >= 0 && idx[k] === sizes[k]! - 1) {
    idx[k] = 0;
    k--;
  }
  if (k < 0) return false;
  idx[k]!++;
  return true;
}
