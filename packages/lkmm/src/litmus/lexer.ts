/**
 * Tokens of C litmus tests and of the kernel's linux-kernel.def: C tokens with line numbers,
 * plus `/\` and `\/` for conditions. C comments (slash-star and slash-slash) are skipped everywhere;
 * OCaml comments `(* *)` only where herd7 allows them (outside the thread code), which the
 * caller asks for with `ocamlComments`.
 */
import { InputError } from '@kreplay/core';
import { skipOcamlComment } from '../text.js';

export type TokKind = 'id' | 'num' | 'punct' | 'eof';

export interface Token {
  k: TokKind;
  v: string;
  line: number;
  /** Offset of the token's first character in the text. */
  at: number;
}

const PUNCT3 = ['<<=', '>>='];
const PUNCT2 = ['==', '!=', '<=', '>=', '&&', '||', '/\\', '\\/', '->', '++', '--', '<<', '>>', '=>'];
const PUNCT1 = '(){}[];,*&+-/%^|~!=<>:?.\\';

export function lexC(text: string, file: string, opts: { ocamlComments: boolean; line?: number; offset?: number }): Token[] {
  const toks: Token[] = [];
  let i = opts.offset ?? 0;
  let line = opts.line ?? 1;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    if (c === '\n') {
      line++;
      i++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f') {
      i++;
      continue;
    }
    if (c === '/' && text[i + 1] === '/') {
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const start = line;
      i += 2;
      while (i < n && !(text[i] === '*' && text[i + 1] === '/')) {
        if (text[i] === '\n') line++;
        i++;
      }
      if (i >= n) throw new InputError('unterminated /* comment', { file, line: start, hint: 'close it with */' });
      i += 2;
      continue;
    }
    if (opts.ocamlComments && c === '(' && text[i + 1] === '*') {
      const skip = skipOcamlComment(text, i);
      if (!skip) throw new InputError('unterminated (* comment', { file, line, hint: 'close it with *)' });
      line += skip.newlines;
      i = skip.end;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_]/.test(text[j]!)) j++;
      toks.push({ k: 'id', v: text.slice(i, j), line, at: i });
      i = j;
      continue;
    }
    if (/[0-9]/.test(c)) {
      let j = i + 1;
      if (c === '0' && (text[j] === 'x' || text[j] === 'X')) {
        j++;
        while (j < n && /[0-9a-fA-F]/.test(text[j]!)) j++;
      } else while (j < n && /[0-9]/.test(text[j]!)) j++;
      while (j < n && /[uUlL]/.test(text[j]!)) j++;
      toks.push({ k: 'num', v: text.slice(i, j), line, at: i });
      i = j;
      continue;
    }
    const three = text.slice(i, i + 3);
    if (PUNCT3.includes(three)) {
      toks.push({ k: 'punct', v: three, line, at: i });
      i += 3;
      continue;
    }
    const two = text.slice(i, i + 2);
    if (PUNCT2.includes(two)) {
      toks.push({ k: 'punct', v: two, line, at: i });
      i += 2;
      continue;
    }
    if (PUNCT1.includes(c)) {
      toks.push({ k: 'punct', v: c, line, at: i });
      i++;
      continue;
    }
    throw new InputError(`unexpected character ${JSON.stringify(c)}`, { file, line, hint: 'C litmus tests use C syntax (see docs/memory-model.md)' });
  }
  toks.push({ k: 'eof', v: '', line, at: n });
  return toks;
}

/** Parses a C integer literal (decimal or hex, suffixes ignored). */
export function parseIntLiteral(text: string): number {
  const t = text.replace(/[uUlL]+$/, '');
  return t.startsWith('0x') || t.startsWith('0X') ? parseInt(t.slice(2), 16) : parseInt(t, 10);
}
