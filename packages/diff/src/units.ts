/** A duration in ns as the largest readable unit (fixed precision, so output is byte-stable). */
export function fmtNs(ns: number | null): string {
  if (ns === null) return '-';
  if (ns < 1e3) return `${ns.toFixed(0)}ns`;
  if (ns < 1e6) return `${(ns / 1e3).toFixed(1)}µs`;
  if (ns < 1e9) return `${(ns / 1e6).toFixed(2)}ms`;
  return `${(ns / 1e9).toFixed(3)}s`;
}
