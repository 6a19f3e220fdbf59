// A jest reporter that prints, once, after jest's own summary: every group of tests that was
// skipped because a system tool is missing (or on purpose, KREPLAY_SKIP_QEMU=1), the tools,
// and the one apt-get line that installs them all. Entries come from test-support/tools.ts.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';

export function skipSummary(lines) {
  const entries = lines.filter(Boolean).map((l) => JSON.parse(l));
  if (entries.length === 0) return '';
  const byReason = new Map();
  const packages = new Set();
  for (const e of entries) {
    const optional = e.missing.length > 0 && e.missing.every((t) => t.optional);
    const reason = e.optedOut
      ? `skipped on request (${e.optedOut})`
      : optional
        ? `${e.missing.map((t) => t.name).join(', ')} not installed (${e.missing.map((t) => `${t.optional}; to run it: ${t.apt}`).join('; ')})`
        : `${e.missing.map((t) => t.name).join(', ')} not installed (${e.missing.map((t) => t.apt).join(' ')})`;
    for (const t of e.missing) if (!t.optional) for (const p of t.apt.split(' ')) packages.add(p);
    if (!byReason.has(reason)) byReason.set(reason, []);
    byReason.get(reason).push(`${e.title}${e.file ? ` [${e.file}]` : ''}`);
  }
  const out = [`kreplay: ${entries.length} group(s) of tests SKIPPED (system tools missing here, or skipped on request):`];
  for (const [reason, groups] of [...byReason].sort()) {
    out.push(`  ${reason}:`);
    for (const g of [...new Set(groups)].sort()) out.push(`    - ${g}`);
  }
  if (packages.size) out.push(`  install them: apt-get install ${[...packages].sort().join(' ')}   (bash .ci/run installs everything)`);
  out.push('  KREPLAY_STRICT_TOOLS=1 turns a missing tool into a failure (.ci/run runs strict).');
  if (entries.some((e) => e.missing.length > 0 && e.missing.every((t) => t.optional)))
    out.push('  An optional live comparison stays skipped under KREPLAY_STRICT_TOOLS=1: its committed goldens ran.');
  return `${out.join('\n')}\n`;
}

export default class SkipReporter {
  onRunComplete() {
    const log = process.env.KREPLAY_SKIP_LOG;
    if (!log || !existsSync(log)) return;
    const text = skipSummary(readFileSync(log, 'utf8').split('\n'));
    if (process.env.KREPLAY_SKIP_LOG_MADE === '1') rmSync(path.dirname(log), { recursive: true, force: true });
    if (text) process.stderr.write(`\n${text}`);
  }
}
