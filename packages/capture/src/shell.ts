/** Quoting for the POSIX shell scripts kreplay writes for the guest (busybox ash). */

/** Single-quoted: nothing inside is expanded. */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * Double-quoted with `${name}` placeholders turned into shell variables `$KR_NAME`;
 * everything else is literal.
 */
export function shTemplate(s: string): string {
  const parts = s.split(/(\$\{\w+\})/);
  const body = parts
    .map((p) => {
      const m = /^\$\{(\w+)\}$/.exec(p);
      if (m) return `\${KR_${m[1].toUpperCase()}}`;
      return p.replace(/(["\\$`])/g, '\\$1');
    })
    .join('');
  return `"${body}"`;
}
