/**
 * Cited trace lines, verbatim. The parser decodes a line into fields (`ino=12` becomes the
 * number 12, `mapping=0x0` the number 0), and no summary of fields prints what the trace
 * printed. So after a replay one more pass reads the text of exactly the lines the
 * findings cite, and each cited event carries it (`text`): a reader can grep the trace for
 * what a report shows. Memory: only the cited lines, each cut at MAX_CITED_CHARS; the pass
 * stops at the last cited line. Lines are counted as the parser counts them (split at LF,
 * gzip decompressed). A trace.dat has records, not lines: nothing to quote.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import type { Finding } from '@kreplay/core';

/** Longest cited line kept (longer ones are cut and end in `…`). */
export const MAX_CITED_CHARS = 2000;

const TRACE_DAT_MAGIC = Buffer.from([0x17, 0x08, 0x44, 0x74, 0x72, 0x61, 0x63, 0x69, 0x6e, 0x67]);

async function head(file: string): Promise<Buffer> {
  const fh = await open(file, 'r');
  try {
    const b = Buffer.alloc(16);
    const { bytesRead } = await fh.read(b, 0, 16, 0);
    return b.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** The text of `wanted` lines (1-based) of a text trace, gzip or not. */
export async function readLines(file: string, wanted: ReadonlySet<number>, signal?: AbortSignal): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  if (wanted.size === 0) return out;
  const magic = await head(file);
  if (magic.subarray(0, TRACE_DAT_MAGIC.length).equals(TRACE_DAT_MAGIC)) return out;
  const last = Math.max(...wanted);
  const raw = createReadStream(file, { highWaterMark: 1 << 18 });
  const input = magic[0] === 0x1f && magic[1] === 0x8b ? raw.pipe(createGunzip()) : raw;
  let line = 1;
  let parts: Buffer[] = [];
  let kept = 0;
  const keep = (b: Buffer) => {
    if (kept > MAX_CITED_CHARS * 4) return; // bytes: enough for the characters kept
    parts.push(b);
    kept += b.length;
  };
  const finish = () => {
    let text = Buffer.concat(parts).toString('utf8');
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (text.length > MAX_CITED_CHARS) text = `${text.slice(0, MAX_CITED_CHARS)}…`;
    out.set(line, text);
    parts = [];
    kept = 0;
  };
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      if (signal?.aborted) throw signal.reason;
      let start = 0;
      for (;;) {
        const nl = chunk.indexOf(10, start);
        if (nl < 0) {
          if (wanted.has(line) && start < chunk.length) keep(chunk.subarray(start));
          break;
        }
        if (wanted.has(line)) {
          keep(chunk.subarray(start, nl));
          finish();
        }
        line++;
        start = nl + 1;
        if (line > last) return out;
      }
    }
    if (wanted.has(line) && parts.length) finish();
    return out;
  } finally {
    raw.destroy();
  }
}

/** Give every event the findings cite the text of its line in `file` (the trace they were replayed from). */
export async function citeVerbatim(file: string, findings: readonly Finding[], signal?: AbortSignal): Promise<void> {
  const wanted = new Set<number>();
  for (const f of findings) for (const e of f.events) wanted.add(e.line);
  if (wanted.size === 0) return;
  const text = await readLines(file, wanted, signal);
  for (const f of findings) {
    for (const e of f.events) {
      const t = text.get(e.line);
      if (t !== undefined) e.text = t;
    }
  }
}
