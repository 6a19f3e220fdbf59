/**
 * Inline SVG for the HTML report: a per-CPU timeline of the events around a finding (racing
 * tasks in colour, everyone else grey, cited events numbered) and latency histograms.
 * Pure functions of their inputs; coordinates are rounded so output is byte-stable.
 */
import { cpuName, onCpu } from '@kreplay/core';
import { fmtNs, type Histogram } from '@kreplay/diff';
import { OTHER_TASKS_COLOUR, TaskColours } from '../race-groups.js';
import { html, join, type Html } from './html.js';
import type { FindingWindow, TimelineEvent } from './window.js';

const OTHER = OTHER_TASKS_COLOUR;

const r1 = (x: number) => Math.round(x * 10) / 10;

/**
 * The timeline of one finding's window, with one lane per CPU that has an event in it.
 * `colours` gives each racing task its report-wide colour (a fresh palette when omitted).
 */
export function timelineSvg(w: FindingWindow, title: string, colours: TaskColours = new TaskColours()): Html {
  const colourOf = (pid: number, racing: FindingWindow['racing']): string => colours.colour(pid, racing.find((r) => r.pid === pid)?.comm ?? '', racing);
  const cpus = [...new Set(w.events.map((e) => e.cpu))].sort((a, b) => a - b);
  const W = 960,
    left = 70,
    right = 20,
    lane = 56,
    top = 26;
  const legendRows = Math.ceil((w.racing.length + 1 + w.events.filter((e) => e.phase === 'gap').length) / 3);
  const H = top + cpus.length * lane + 34 + legendRows * 20;
  const span = Number(w.endTs - w.startTs) || 1;
  const x = (ts: bigint) => r1(left + (Number(ts - w.startTs) / span) * (W - left - right));
  const y = (cpu: number) => top + cpus.indexOf(cpu) * lane + lane / 2;
  const out: Html[] = [];
  out.push(html`<svg class="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="${title}">`);
  out.push(html`<title>${title}</title>`);
  for (const cpu of cpus) {
    const yy = y(cpu);
    out.push(html`<line x1="${left}" y1="${yy}" x2="${W - right}" y2="${yy}" stroke="#ddd"/>`);
    out.push(html`<text x="8" y="${yy + 4}" class="lane">${cpuName(cpu)}</text>`);
  }
  // Entry→return spans of the same task and function, as bars.
  // A kprobe with no kretprobe on its function in the window is a point, not a span.
  const returning = new Set(w.events.filter((e) => e.phase === 'end').map((e) => e.name.replace(/ ret$/, '')));
  const open = new Map<string, TimelineEvent>();
  for (const e of w.events) {
    const fn = e.name.replace(/ ret$/, '');
    const key = `${e.pid}/${fn}`;
    if (e.phase === 'begin' && returning.has(fn)) open.set(key, e);
    else if (e.phase === 'end') {
      const b = open.get(key);
      const x0 = b ? x(b.ts) : left;
      out.push(
        html`<rect x="${x0}" y="${y(e.cpu) - 9}" width="${r1(Math.max(2, x(e.ts) - x0))}" height="18" rx="3" fill="${colourOf(e.pid, w.racing)}" fill-opacity="0.18" stroke="${colourOf(e.pid, w.racing)}" stroke-opacity="0.5"><title>${`${e.comm}-${e.pid} ${fn}${b ? '' : ' (entry before the window)'}`}</title></rect>`,
      );
      open.delete(key);
    }
  }
  for (const b of open.values()) {
    out.push(
      html`<rect x="${x(b.ts)}" y="${y(b.cpu) - 9}" width="${r1(Math.max(2, W - right - x(b.ts)))}" height="18" rx="3" fill="${colourOf(b.pid, w.racing)}" fill-opacity="0.1" stroke-dasharray="3 2" stroke="${colourOf(b.pid, w.racing)}"><title>${`${b.comm}-${b.pid} ${b.name} (returns after the window)`}</title></rect>`,
    );
  }
  // Events: uncited ones first, so the cited ones are drawn on top.
  const sorted = [...w.events].sort((a, b) => (a.cited ? 1 : 0) - (b.cited ? 1 : 0));
  // Labels of cited events go above the lane, or below when they would overlap the last one.
  const labelEnd = new Map<string, number>();
  const placeLabel = (cpu: number, xx: number, text: string): number | undefined => {
    const half = text.length * 3.1;
    for (const [slot, dy] of [
      ['above', -14],
      ['below', 24],
    ] as const) {
      const key = `${cpu}/${slot}`;
      if ((labelEnd.get(key) ?? -Infinity) < xx - half - 4) {
        labelEnd.set(key, xx + half);
        return dy;
      }
    }
    return undefined;
  };
  for (const e of sorted) {
    if (e.phase === 'gap') {
      // The events were lost before this point on that CPU: the bar sits just left of it.
      const xx = Math.max(left, x(e.ts) - 14),
        yy = y(e.cpu);
      out.push(
        html`<g class="gap"><rect x="${r1(xx - 3)}" y="${yy - 16}" width="6" height="32" fill="#222" fill-opacity="0.3" stroke="#222" stroke-dasharray="2 2"><title>${`${e.source}:${e.line}  ${cpuName(e.cpu)}: ${e.detail}`}</title></rect></g>`,
      );
      continue;
    }
    const c = colourOf(e.pid, w.racing);
    const tip = `${e.source}:${e.line}  ${e.comm}-${e.pid}${e.cpu >= 0 ? ` [${e.cpu}]` : ''} ${fmtNs(Number(e.ts - w.startTs))}: ${e.name} ${e.detail}`;
    if (e.cited) {
      const xx = x(e.ts),
        yy = y(e.cpu);
      // Near an edge the label hangs inward instead of being cut off.
      const half = e.name.length * 3.1;
      const [lx, anchor] = xx + half > W - 4 ? [r1(xx + 9), 'end'] : xx - half < 4 ? [r1(xx - 9), 'start'] : [xx, 'middle'];
      const dy = placeLabel(e.cpu, anchor === 'end' ? xx - half : anchor === 'start' ? xx + half : xx, e.name);
      out.push(
        html`<g class="cited"><circle cx="${xx}" cy="${yy}" r="9" fill="${c}" stroke="#222" stroke-width="1.5"><title>${tip}</title></circle><text x="${xx}" y="${yy + 4}" text-anchor="middle" class="num">${e.cited}</text>${dy === undefined ? '' : html`<text x="${lx}" y="${yy + dy}" text-anchor="${anchor}" class="evname" fill="${c}">${e.name}</text>`}</g>`,
      );
    } else {
      out.push(html`<rect x="${r1(x(e.ts) - 1.5)}" y="${y(e.cpu) - 6}" width="3" height="12" fill="${c}"><title>${tip}</title></rect>`);
    }
  }
  // Time axis, relative to the window start.
  const axisY = top + cpus.length * lane + 6;
  out.push(html`<line x1="${left}" y1="${axisY}" x2="${W - right}" y2="${axisY}" stroke="#888"/>`);
  for (let i = 0; i <= 4; i++) {
    const xx = r1(left + (i / 4) * (W - left - right));
    out.push(
      html`<line x1="${xx}" y1="${axisY}" x2="${xx}" y2="${axisY + 4}" stroke="#888"/><text x="${xx}" y="${axisY + 16}" text-anchor="${i === 0 ? 'start' : i === 4 ? 'end' : 'middle'}" class="tick">+${fmtNs((span * i) / 4)}</text>`,
    );
  }
  // Legend: the racing tasks, then everyone else.
  const gaps = w.events.filter((e) => e.phase === 'gap');
  const legend = [
    ...w.racing.map((r) => ({ label: `${r.comm}-${r.pid} (racing)`, colour: colourOf(r.pid, w.racing) })),
    { label: 'other tasks', colour: OTHER },
    ...gaps.map((g) => ({ label: `${g.name}${onCpu(g.cpu)} (line ${g.line})`, colour: '#555' })),
  ];
  legend.forEach((l, i) => {
    const lx = left + (i % 3) * 290,
      ly = axisY + 30 + Math.floor(i / 3) * 20;
    out.push(
      html`<g class="legend"><rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${l.colour}"/><text x="${lx + 18}" y="${ly}" class="task">${l.label}</text></g>`,
    );
  });
  out.push(html`</svg>`);
  return join(
    out,
    html`
`,
  );
}

export interface HistogramSeries {
  label: string;
  colour: string;
  h: Histogram;
}

/** Latency histogram(s) on a log2 time axis; each series normalised to its own sample count. */
export function histogramSvg(title: string, series: readonly HistogramSeries[]): Html {
  const W = 460,
    H = 200,
    left = 44,
    right = 12,
    top = 24,
    bottom = 40;
  const all = series.flatMap((s) => s.h.buckets.map(([b]) => Math.max(1, b)));
  if (all.length === 0) return html``;
  const lo = Math.floor(Math.log2(Math.min(...all)));
  const hi = Math.ceil(Math.log2(Math.max(...series.map((s) => Math.max(1, s.h.maxNs))) + 1));
  const bins = Math.max(1, hi - lo);
  const binW = (W - left - right) / bins;
  const frac = series.map((s) => {
    const f = new Array<number>(bins).fill(0);
    for (const [b, n] of s.h.buckets) f[Math.min(bins - 1, Math.max(0, Math.floor(Math.log2(Math.max(1, b))) - lo))]! += n / Math.max(1, s.h.count);
    return f;
  });
  const ymax = Math.max(0.01, ...frac.flat());
  const out: Html[] = [];
  out.push(html`<svg class="histogram" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" role="img" aria-label="${title}">`);
  out.push(html`<title>${title}</title><text x="${left}" y="14" class="htitle">${title}</text>`);
  const barW = binW / series.length;
  series.forEach((s, si) => {
    frac[si]!.forEach((f, i) => {
      if (f === 0) return;
      const h = ((H - top - bottom) * f) / ymax;
      out.push(
        html`<rect x="${r1(left + i * binW + si * barW)}" y="${r1(H - bottom - h)}" width="${r1(Math.max(1, barW - 1))}" height="${r1(h)}" fill="${s.colour}"><title>${`${s.label}: ${(f * 100).toFixed(1)}% in [${fmtNs(2 ** (lo + i))}, ${fmtNs(2 ** (lo + i + 1))})`}</title></rect>`,
      );
    });
  });
  out.push(html`<line x1="${left}" y1="${H - bottom}" x2="${W - right}" y2="${H - bottom}" stroke="#888"/>`);
  const step = Math.max(1, Math.ceil(bins / 6));
  for (let i = 0; i <= bins; i += step)
    out.push(html`<text x="${r1(left + i * binW)}" y="${H - bottom + 14}" text-anchor="middle" class="tick">${fmtNs(2 ** (lo + i))}</text>`);
  out.push(html`<text x="8" y="${top + 8}" class="tick">${(ymax * 100).toFixed(0)}%</text>`);
  series.forEach((s, si) => {
    const lx = left + si * 150;
    out.push(
      html`<rect x="${lx}" y="${H - 14}" width="10" height="10" fill="${s.colour}"/><text x="${lx + 14}" y="${H - 5}" class="task">${`${s.label} (n=${s.h.count})`}</text>`,
    );
  });
  out.push(html`</svg>`);
  return join(
    out,
    html`
`,
  );
}
