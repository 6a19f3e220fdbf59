/**
 * The text rendering of a TriageResult (JSON is the object itself, through stringifyJson).
 */
import type { Frame } from './frames.js';
import type { TriageResult, SplatTriage } from './triage.js';
import type { ReproResult } from './reproduce.js';

const TOP_FRAMES = 10;

function frameText(f: Frame): string {
  const off = f.offset !== null ? `+0x${f.offset.toString(16)}${f.size !== null ? `/0x${f.size.toString(16)}` : ''}` : '';
  return `${f.unreliable ? '? ' : ''}${f.function}${off}${f.module ? ` [${f.module}]` : ''}${f.inline ? ' [inline]' : ''}`;
}

function kv(k: string, v: string): string {
  return `    ${k.padEnd(9)} ${v}`;
}

function kernelText(s: SplatTriage, r: TriageResult): string {
  if (!s.kernel) return 'unknown (the report names no release)';
  const from =
    s.kernelFrom === 'splat'
      ? ''
      : s.kernelFrom === 'option'
        ? ' (--release)'
        : s.kernelFrom === 'log'
          ? ` (from the log's "Linux version" line ${s.kernelLine ?? r.release?.line})`
          : ` (from the text around the splat, line ${s.kernelLine ?? r.release?.line})`;
  return `${s.kernel}${from}`;
}

function splatText(s: SplatTriage, r: TriageResult): string[] {
  const L: string[] = [];
  L.push(`[${s.index}] ${s.title}    (lines ${s.lines.first}–${s.lines.last})`);
  if (s.duplicateOf !== null) {
    L.push(kv('same as', `splat ${s.duplicateOf} (the same title and call trace printed again: a quoted copy or a repeat)`));
    // a repeat is read in full only when --splat left its first copy out (then it was modelled)
    if (s.model === null) return L;
  }
  L.push(kv('kind', `${s.kind}: ${s.header.text.slice(0, 110)}`));
  L.push(kv('kernel', kernelText(s, r)));
  const task = s.task ? `${s.task.comm ?? '?'}${s.task.pid !== null ? ` pid ${s.task.pid}` : ''}` : '-';
  L.push(kv('task', `${task}, cpu ${s.cpu ?? '-'}${s.at ? `, at ${s.at}` : ''}${s.panicked ? ', then the kernel panicked' : ''}`));
  if (s.ip) L.push(kv('ip', frameText(s.ip)));
  L.push(kv('culprit', s.culprit ? `${s.culprit.function} (${s.culprit.from}, line ${s.culprit.line})` : '- (no frame outside the reporting machinery)'));
  if (s.frames.length) {
    const shown = s.frames.slice(0, TOP_FRAMES).map(frameText);
    L.push(kv('frames', shown[0]!));
    for (const f of shown.slice(1)) L.push(kv('', f));
    if (s.frames.length > TOP_FRAMES) L.push(kv('', `... ${s.frames.length - TOP_FRAMES} more`));
  }
  for (const st of s.stacks.filter((x) => x.frames !== s.frames && x.label !== 'call trace' && x.label !== 'unlabelled')) {
    L.push(
      kv(
        'stack',
        `${st.label}${st.task?.pid !== undefined ? ` (pid ${st.task.pid})` : ''}: ${st.frames
          .slice(0, 5)
          .map((f) => f.function)
          .join(' < ')}${st.frames.length > 5 ? ' < ...' : ''}`,
      ),
    );
  }
  if (s.page) {
    const p = s.page;
    const parts = [
      p.refcount !== null ? `refcount ${p.refcount}` : null,
      p.mapcount !== null ? `mapcount ${p.mapcount}` : null,
      `mapping ${p.mapping ?? 'NULL'}`,
      p.index !== null ? `index ${p.index}` : null,
      p.pfn !== null ? `pfn ${p.pfn}` : null,
      p.head?.order !== undefined && p.head.order !== null ? `order ${p.head.order}` : null,
    ].filter(Boolean);
    L.push(kv('page', parts.join(', ')));
    if (p.flags)
      L.push(
        kv(
          'flags',
          `${p.flags.raw}${p.flags.names ? ` (${[...p.flags.names, ...Object.entries(p.flags.fields).map(([k, v]) => `${k}=${v}`)].join('|')})` : ' (hex only: this kernel prints no names)'}`,
        ),
      );
    if (p.aops) L.push(kv('file', `${p.aops}${p.ino ? ` ino ${p.ino}` : ''}${p.dentry !== null ? ` "${p.dentry}"` : ''}`));
    if (p.reason) L.push(kv('because', p.reason));
  }
  if (s.truncated) L.push(kv('TRUNCATED', `${s.truncated}: what follows is what the splat has`));
  L.push(kv('rule', `${s.rule ?? 'none'} — ${s.ruleBecause}`));
  const rp = s.paths.reporter;
  L.push(kv('path', rp ? `${rp.program ?? '-'} (${rp.label}): ${rp.because}` : 'none of the frames belongs to a path kreplay knows'));
  for (const o of s.paths.others) L.push(kv('', `${o.program ?? '-'} (${o.label}, the other access): ${o.because}`));
  if (s.model) L.push(...modelText(s));
  return L;
}

function modelText(s: SplatTriage): string[] {
  const m = s.model!;
  const L: string[] = [];
  const head = { 'schedule': 'SCHEDULE', 'unreachable': 'CANNOT REACH', 'incomplete': 'INCOMPLETE', 'not-modelled': 'not modelled' }[m.status];
  L.push(kv('model', `${head}: ${m.because}`));
  if (m.flavor) L.push(kv('flavor', `${m.flavor.name}: ${m.flavor.because}`));
  if (m.scenario) {
    for (const t of m.scenario.threads) L.push(kv('thread', `${t.name}: ${t.program} (${t.from}) — ${t.because}`));
    for (const n of m.scenario.notes) L.push(kv('note', n));
  }
  if (m.explore) {
    L.push(
      kv(
        'explored',
        `${m.explore.verdict} (${m.explore.strategy}${m.explore.incomplete.length ? `, cut: ${m.explore.incomplete.join(', ')}` : ''}): ${m.explore.distinctStates} distinct states${m.explore.timeMs === undefined ? '' : `, ${m.explore.timeMs} ms`}`,
      ),
    );
  }
  if (m.schedule) {
    L.push(kv('reached', `${m.schedule.rule}: ${m.schedule.message}`));
    L.push('', ...m.schedule.table.split('\n').map((l) => `      ${l}`));
  }
  return L;
}

export function reproText(rr: ReproResult): string[] {
  const L: string[] = [];
  L.push(kv('repro', rr.summary));
  L.push(kv('kernel', `${rr.kernel} (profile ${rr.profile}: ${rr.profileBecause})`));
  for (const run of rr.runs) {
    L.push(kv(`run ${run.index}`, `${run.caught ? (run.uncertainOnly ? 'CAUGHT (uncertain)' : 'CAUGHT') : 'not caught'}: ${run.summary}`));
  }
  for (const sp of rr.guestSplats) L.push(kv('guest', `the guest kernel printed: ${sp.title}${sp.sameTitle ? " (the report's title)" : ''}`));
  return L;
}

export function formatTriageText(results: ReadonlyArray<{ result: TriageResult; repro?: ReproResult }>): string {
  const out: string[] = [];
  for (const { result: r, repro } of results) {
    out.push(`${r.source}: ${r.splats.length} splat(s) in ${r.lines} line(s)`);
    for (const w of r.warnings) out.push(`  warning: ${w}`);
    for (const s of r.splats) out.push('', ...splatText(s, r));
    if (r.logStacks.length) {
      out.push(
        '',
        `  other stacks in the log: ${r.logStacks.map((x) => `${x.task ?? '?'} (line ${x.line}${x.path ? `, ${x.path.program ?? x.path.label}` : ''})`).join('; ')}`,
      );
    }
    if (repro) out.push('', ...reproText(repro));
    out.push('');
  }
  return `${out.join('\n')}\n`;
}

/** The HTML report's view of a triage (structurally the report package's TriageView). */
export function triageView(
  r: TriageResult,
  repro?: ReproResult,
): {
  source: string;
  splats: Array<{
    title: string;
    kind: string;
    facts: Array<[string, string]>;
    frames: string[];
    model: {
      status: 'schedule' | 'unreachable' | 'incomplete' | 'not-modelled';
      because: string;
      threads: string[];
      schedule?: { rule: string; threads: string[]; steps: Array<{ n: number; thread: number; label: string; effect?: string }> };
    } | null;
  }>;
  repro?: { summary: string; runs: string[] };
} {
  return {
    source: r.source,
    splats: r.splats.map((s) => {
      const facts: Array<[string, string]> = [
        ['kernel', kernelText(s, r)],
        ['task', s.task ? `${s.task.comm ?? '?'}${s.task.pid !== null ? ` pid ${s.task.pid}` : ''}` : '-'],
        ['culprit', s.culprit ? `${s.culprit.function} (${s.culprit.from})` : '-'],
        ['rule', `${s.rule ?? 'none'} — ${s.ruleBecause}`],
        ['path', s.paths.reporter ? `${s.paths.reporter.program ?? '-'} (${s.paths.reporter.label}): ${s.paths.reporter.because}` : '-'],
      ];
      if (s.page) {
        const p = s.page;
        facts.push(['page', `refcount ${p.refcount ?? '?'}, mapcount ${p.mapcount ?? '?'}, mapping ${p.mapping ?? 'NULL'}, index ${p.index ?? '?'}`]);
        if (p.flags) facts.push(['flags', `${p.flags.raw} ${p.flags.names ? p.flags.names.join('|') : '(hex only)'}`]);
        if (p.reason) facts.push(['dumped because', p.reason]);
      }
      if (s.truncated) facts.push(['truncated', s.truncated]);
      const m = s.model;
      const names = m?.scenario?.threads.map((t) => t.name) ?? [];
      return {
        title: s.title,
        kind: s.kind,
        facts,
        frames: s.frames.slice(0, 20).map(frameText),
        model: m
          ? {
              status: m.status,
              because: m.because,
              threads: m.scenario?.threads.map((t) => `${t.name}: ${t.program} (${t.from}) — ${t.because}`) ?? [],
              ...(m.schedule
                ? {
                    schedule: {
                      rule: m.schedule.rule,
                      threads: names,
                      steps: m.schedule.steps.map((st) => ({
                        n: st.n,
                        thread: names.indexOf(st.thread),
                        label: st.label,
                        ...(st.effect ? { effect: st.effect } : {}),
                      })),
                    },
                  }
                : {}),
            }
          : null,
      };
    }),
    ...(repro
      ? {
          repro: {
            summary: repro.summary,
            runs: repro.runs.map((x) => `run ${x.index}: ${x.caught ? (x.uncertainOnly ? 'caught (uncertain)' : 'caught') : 'not caught'} — ${x.summary}`),
          },
        }
      : {}),
  };
}
