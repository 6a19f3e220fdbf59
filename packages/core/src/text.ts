/**
 * Input files as text, decoded strictly. Node's `readFile(file, 'utf8')` turns every byte that
 * is not UTF-8 into U+FFFD without a word: a damaged scenario, shard or schedule would be read
 * as a different one. Here such a byte is an InputError at its line.
 */
import { readFile } from 'node:fs/promises';
import { InputError, readErrorWhy } from './errors.js';

const STRICT = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** What to call the file in a message, and what the user can do. */
export interface TextWhat {
  what: string;
  hint: string;
}

/** The 1-based line and the offset of the first byte of `bytes` that does not decode as UTF-8. */
export function firstBadUtf8(bytes: Uint8Array): { line: number; offset: number } | undefined {
  let line = 1;
  for (let i = 0; i < bytes.length;) {
    const b = bytes[i]!;
    if (b < 0x80) {
      if (b === 0x0a) line++;
      i++;
      continue;
    }
    // the lead byte says the length; the continuation bytes and the ranges RFC 3629 excludes
    // (overlong forms, surrogates, past U+10FFFF) follow Unicode's table 3-7
    const n = b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (n === 0 || i + n > bytes.length) return { line, offset: i };
    const lo = b === 0xe0 ? 0xa0 : b === 0xf0 ? 0x90 : 0x80;
    const hi = b === 0xed ? 0x9f : b === 0xf4 ? 0x8f : 0xbf;
    const c1 = bytes[i + 1]!;
    if (c1 < lo || c1 > hi) return { line, offset: i };
    for (let k = 2; k < n; k++) {
      const c = bytes[i + k]!;
      if (c < 0x80 || c > 0xbf) return { line, offset: i };
    }
    i += n;
  }
  return undefined;
}

/** `bytes` as text; a byte that is not UTF-8 is an InputError naming the file and its line. */
export function decodeInputText(bytes: Uint8Array, file: string, what: TextWhat): string {
  try {
    return STRICT.decode(bytes);
  } catch {
    const bad = firstBadUtf8(bytes) ?? { line: 1, offset: 0 };
    throw new InputError(`${what.what} is not UTF-8: byte 0x${bytes[bad.offset]?.toString(16).padStart(2, '0') ?? '??'} at offset ${bad.offset}`, {
      file,
      line: bad.line,
      hint: `${what.hint} (a text file in UTF-8; was it damaged, or written in another encoding?)`,
    });
  }
}

/** Read an input file as strict UTF-8 text; a missing or unreadable file is an InputError naming it. */
export async function readInputText(file: string, what: TextWhat): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw new InputError(`cannot read ${what.what}: ${readErrorWhy(e)}`, { file, hint: what.hint, cause: e });
  }
  return decodeInputText(bytes, file, what);
}
