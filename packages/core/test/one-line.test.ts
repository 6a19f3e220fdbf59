/**
 * The one-line text rule (core one-line.ts), shared by meta.json's schema and replay JSON's: a
 * newline is refused, a carriage return is not (every output escapes it, and replay JSON holds it
 * where a trace's comm did).
 */
import { describe, expect, it } from '@jest/globals';
import { hasLineBreak, MetaJsonSchema, oneLineMessage, oneLineText, printable } from '@kreplay/core';

describe('oneLineText', () => {
  const schema = oneLineText('kreplay test');
  it('refuses a newline anywhere, with the message that names the writer', () => {
    for (const s of ['a\nb', '\n', 'x\r\n::error::y']) {
      expect(hasLineBreak(s)).toBe(true);
      const r = schema.safeParse(s);
      expect(r.success).toBe(false);
      expect(r.error?.issues[0]?.message).toBe(oneLineMessage('kreplay test'));
    }
  });
  it('keeps a carriage return, a tab and other controls: no output prints them as a line start', () => {
    for (const s of ['', 'a\rb', 'a\tb', 'x\u001b[2J', 'a\u2028b']) {
      expect(hasLineBreak(s)).toBe(false);
      expect(schema.safeParse(s).success).toBe(true);
    }
    // the text outputs write it as an escape, never as the carriage return a terminal acts on
    expect(printable('6.1.0\r::error::x')).toBe('6.1.0\\x0d::error::x');
  });
  it("is meta.json's rule: the same strings refused and kept", () => {
    for (const s of ['a\nb', 'a\rb', 'a\tb']) {
      expect(MetaJsonSchema.safeParse({ kernel: { release: s } }).success).toBe(schema.safeParse(s).success);
      expect(MetaJsonSchema.safeParse({ workload: { result: { [s]: s } } }).success).toBe(schema.safeParse(s).success);
    }
  });
});
