/**
 * Tracepoint formats as the booted kernel states them (`events/<system>/<event>/format`):
 * the guest copies the format file of every tracepoint a profile enables, capture keeps
 * them in meta.json, and a profile's meanings are checked against what the kernel prints,
 * so a meaning that names a field a kernel does not print fails the capture instead of
 * yielding a trace whose events replay cannot use.
 */
import type { GuestShare } from './guest-files.js';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '@kreplay/core';
import type { CaptureProfile } from './profile.js';
import { readOpt } from './outcome.js';

/** The file name a format is copied to in the guest's out/formats/ (`filemap.mm_filemap_fault.format`). */
export function formatFileName(event: string): string {
  return `${event.replace(':', '.')}.format`;
}

export interface TracepointFormat {
  /** `print fmt:` — the format string as the kernel wrote it (without its arguments). */
  printFmt: string;
  /** Field names the print format prints (`name=%…` or `name %…`), in order. */
  printed: string[];
  /** The record's fields (`field:unsigned long i_ino;` → i_ino), common_* excluded: what filters may use. */
  fields: string[];
}

/** Parse a tracefs format file. Undefined when it has no `print fmt:` line. */
export function parseFormat(text: string): TracepointFormat | undefined {
  const fields: string[] = [];
  for (const m of text.matchAll(/^\s*field:([^;]*);/gm)) {
    const name = /([A-Za-z_]\w*)\s*(?:\[[^\]]*\])?\s*$/.exec(m[1]!)?.[1];
    if (name && !name.startsWith('common_')) fields.push(name);
  }
  const pm = /^print fmt:\s*"((?:[^"\\]|\\.)*)"/m.exec(text);
  if (!pm) return undefined;
  const printFmt = pm[1]!;
  const printed: string[] = [];
  // `name=%…` and `name %…`: a word directly before a conversion, joined by `=` or a space
  for (const m of printFmt.matchAll(/([A-Za-z_]\w*)(?:=(?:0x)?|\s+(?:0x)?)%/g)) printed.push(m[1]!);
  return { printFmt, printed, fields };
}

/**
 * The fields a meaning may read from an event of this format: what it prints, plus what
 * the trace reader derives from a printed `ofs` (the filemap decoder of
 * packages/ftrace-parser: `index`, and for an `ofs=%lld-%lld` range `last_ofs`/`last_index`).
 */
export function readableFields(f: TracepointFormat): string[] {
  const out = [...f.printed];
  if (f.printed.includes('ofs')) {
    out.push('index');
    if (/ofs=%\w+-%/.test(f.printFmt)) out.push('last_ofs', 'last_index');
  }
  return out;
}

/** The guest files formats are copied to, read back: `system:event` → format text. */
export async function readFormats(guest: GuestShare, outDir: string, profile: CaptureProfile): Promise<Record<string, string>> {
  const dir = join(outDir, 'formats');
  const present = new Set(await readdir(dir).catch(() => [] as string[]));
  const out: Record<string, string> = {};
  for (const t of profile.tracepoints) {
    const f = formatFileName(t.event);
    if (!present.has(f)) continue;
    const text = await readOpt(guest, join(dir, f));
    if (text !== undefined) out[t.event] = text;
  }
  return out;
}

/**
 * Every field a tracepoint's meaning reads must be one the kernel prints: an InputError
 * (exit 2) naming the profile's tracepoint, the field and what the format prints.
 * Tracepoints without a format (none captured) are not judged.
 */
export function checkMeaningsAgainstFormats(profile: CaptureProfile, formats: Record<string, string>, profileFile?: string, release?: string): void {
  for (const t of profile.tracepoints) {
    if (!t.meaning || formats[t.event] === undefined) continue;
    const f = parseFormat(formats[t.event]!);
    if (!f) continue;
    for (const spec of Object.values(t.meaning.args)) {
      const fields = typeof spec === 'string' ? [spec] : typeof spec!.field === 'string' ? [spec!.field] : spec!.field;
      const field = fields.join(' or ');
      if (!fields.some((x) => readableFields(f).includes(x))) {
        throw new InputError(
          `the meaning of ${t.event} reads field "${field}", which ${release ?? 'this kernel'} does not print (print fmt: "${f.printFmt}")`,
          {
            file: profileFile,
            hint: `use one of: ${readableFields(f).join(', ')} (events/${t.event.replace(':', '/')}/format of that kernel)`,
          },
        );
      }
    }
  }
}
