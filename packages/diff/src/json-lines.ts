/**
 * Where in a JSON text a value lives, so errors about user-supplied JSON name file:line.
 * A small scanner over the text: it skips values until it reaches the requested path.
 */

/** 1-based line of character offset `pos`. */
export function lineAt(text: string, pos: number): number {
  let line = 1;
  for (let i = 0; i < pos && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** Line of the byte offset a JSON.parse SyntaxError names (`... at position 123`), if any. */
export function syntaxErrorLine(text: string, err: unknown): number | undefined {
  const m = /position (\d+)/.exec(err instanceof Error ? err.message : String(err));
  if (m) return lineAt(text, Number(m[1]));
  // Node 20 says "Unexpected end of JSON input" without a position: the problem is at the end.
  return /end of JSON/i.test(String((err as Error)?.message)) ? lineAt(text, text.length) : undefined;
}

class Scanner {
  pos = 0;
  constructor(readonly text: string) {}

  ws(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos]!)) this.pos++;
  }

  string(): string {
    const start = this.pos;
    this.pos++; // opening quote
    while (this.pos < this.text.length && this.text[this.pos] !== '"') this.pos += this.text[this.pos] === '\\' ? 2 : 1;
    this.pos++;
    return JSON.parse(this.text.slice(start, this.pos)) as string;
  }

  /** Skip one value; when `path` is non-empty, descend and return the offset of the target. */
  value(path: readonly PropertyKey[]): number | undefined {
    this.ws();
    const c = this.text[this.pos];
    if (path.length === 0) return this.pos;
    if (c === '{') {
      this.pos++;
      for (;;) {
        this.ws();
        if (this.text[this.pos] === '}') return undefined;
        const key = this.string();
        this.ws();
        this.pos++; // colon
        if (key === String(path[0])) return this.value(path.slice(1));
        this.skip();
        this.ws();
        if (this.text[this.pos] === ',') this.pos++;
        else return undefined;
      }
    }
    if (c === '[') {
      this.pos++;
      for (let i = 0; ; i++) {
        this.ws();
        if (this.text[this.pos] === ']') return undefined;
        if (i === Number(path[0])) return this.value(path.slice(1));
        this.skip();
        this.ws();
        if (this.text[this.pos] === ',') this.pos++;
        else return undefined;
      }
    }
    return undefined;
  }

  /** Skip one complete value. */
  skip(): void {
    this.ws();
    const c = this.text[this.pos];
    if (c === '"') { this.string(); return; }
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      this.pos++;
      for (;;) {
        this.ws();
        if (this.text[this.pos] === close || this.pos >= this.text.length) { this.pos++; return; }
        if (c === '{') { this.string(); this.ws(); this.pos++; }
        this.skip();
        this.ws();
        if (this.text[this.pos] === ',') this.pos++;
      }
    }
    while (this.pos < this.text.length && !/[\s,\]}]/.test(this.text[this.pos]!)) this.pos++;
  }
}

/** 1-based line of the value at `path` (zod issue paths) in valid JSON text; the closest parent's line when absent. */
export function lineOfPath(text: string, path: readonly PropertyKey[]): number {
  for (let n = path.length; n >= 0; n--) {
    const pos = new Scanner(text).value(path.slice(0, n));
    if (pos !== undefined) return lineAt(text, pos);
  }
  return 1;
}
