/**
 * `kreplay parse` end to end on the forms public traces are written in (issue 17): every
 * minimal reproduction reads exactly, or fails loudly with a gap (and exit 2 with --strict).
 * The records themselves are pinned by the goldens in fixtures/parser/*.jsonl.
 */
import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { repoRoot, runCli } from './run-cli.js';

const fixture = (name: string): string => path.join(repoRoot, 'fixtures/parser', name);
const tmp = mkdtempSync(path.join(tmpdir(), 'kreplay-public-'));

/** A gzip-stored corpus trace.dat, unpacked (trace.dat is read by name, not through gzip). */
function corpusDat(name: string): string {
  const out = path.join(tmp, name.replace(/\.gz$/, ''));
  writeFileSync(out, gunzipSync(readFileSync(path.join(repoRoot, 'fixtures/corpus/dat', name))));
  return out;
}

async function stats(
  args: string[],
  input?: string,
): Promise<Record<string, unknown> & { events: number; gaps: number; byEvent: Record<string, number>; byCpu: Record<string, number> }> {
  const r = await runCli(['parse', ...args, '--stats', '--json'], input === undefined ? {} : { input });
  expect(r.exitCode).toBe(0);
  return JSON.parse(r.stdout);
}

async function events(file: string): Promise<{ event: string; system?: string; fields: Record<string, unknown>; cpu: number }[]> {
  const r = await runCli(['parse', fixture(file), '--jsonl']);
  expect(r.exitCode).toBe(0);
  return r.stdout
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((x) => x.type === 'event');
}

describe('kreplay parse: forms found in public traces', () => {
  it('a TAB-indented event line is an event; a TAB-led line that is not one is a gap, never dropped', async () => {
    const two =
      '          bash-1     [000]  1.000001: sched_waking: comm=a pid=2 prio=120 target_cpu=000\n\t  bash-1     [000]  1.000002: sched_waking: comm=b pid=3 prio=120 target_cpu=000\n';
    const st = await stats(['-'], two);
    expect(st).toMatchObject({ events: 2, gaps: 0, byEvent: { 'sched:sched_waking': 2 } });
    const bad = await stats([fixture('tab-indented.trace')]);
    expect(bad).toMatchObject({ events: 2, gaps: 1, unparseable: 1 });
    const strict = await runCli(['parse', fixture('tab-indented.trace'), '--strict']);
    expect(strict.exitCode).toBe(2);
    expect(strict.stderr).toMatch(/tab-indented\.trace:3: unparseable line/);
  });

  it('perf script without a [cpu] column: every sample is an event (cpu -1), frames indented with spaces or tabs are its stack', async () => {
    const st = await stats([fixture('perf-script-no-cpu.txt')]);
    expect(st).toMatchObject({ events: 7, gaps: 0 });
    expect(st.byEvent).toEqual({ 'cpu-clock': 2, 'cpu-clock:uhH': 1, 'cycles': 2, 'cycles:uppp': 1, 'task-clock:u': 1 });
    expect(st.byCpu).toEqual({ '-1': 6, '7': 1 });
    const r = await runCli(['parse', fixture('perf-script-no-cpu.txt'), '--format', 'perf', '--strict']);
    expect(r.exitCode).toBe(0);
  });

  it('syscall events as tracefs prints them are sys_enter_*/sys_exit_* with their arguments', async () => {
    const evs = await events('syscalls.trace');
    expect(evs.map((e) => e.event)).toEqual(['sys_enter_ioctl', 'sys_exit_ioctl', 'sys_enter_getpid', 'sys_exit_getpid', 'sys_enter_read', 'sys_exit_read']);
    expect(evs[0]).toMatchObject({ system: 'syscalls', fields: { fd: 255, cmd: 0x5410, arg: 0x7ffe0babe8fc } });
    expect(evs[5]!.fields).toEqual({ ret: -14 });
  });

  it('trace-cmd report -R (raw function_graph, function) and report -l (latency columns) read completely', async () => {
    const raw = await stats([fixture('trace-cmd-report-raw.trace'), '--strict']);
    expect(raw).toMatchObject({ events: 7, gaps: 0 });
    const evs = await events('trace-cmd-report-raw.trace');
    expect(evs[0]!.fields).toEqual({ ip: 'c644ae30', parent_ip: 'c699a65a' });
    expect(evs[1]).toMatchObject({ event: 'funcgraph_entry', fields: { depth: 0 } });
    expect(evs[3]).toMatchObject({ event: 'funcgraph_exit', fields: { depth: 1, overrun: 0 } });
    const l = await stats([fixture('trace-cmd-report-l.trace'), '--strict']);
    expect(l).toMatchObject({ events: 13, gaps: 0, byCpu: { 0: 11, 1: 2 } });
  });

  it('a trace.dat whose ftrace:print format says `char buf; size:0` reads (it crashed, exit 70) and --pretty shows the text', async () => {
    const file = corpusDat('trappy-arm-thermal-print.dat.gz');
    const st = await stats([file, '--strict']);
    expect(st).toMatchObject({ events: 1411, gaps: 0 });
    const r = await runCli(['parse', file, '--pretty']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('print:                 ip=0xc00a081c buf=TRACE_MARKER_START\n');
  });

  it('trace.dat --pretty leaves user addresses alone and prints bprint raw; --render evaluates print fmts and trace_printk', async () => {
    const file = path.join(repoRoot, 'fixtures/dat/print-fmt.dat');
    const pretty = await runCli(['parse', file, '--pretty']);
    expect(pretty.exitCode).toBe(0);
    expect(pretty.stdout).toBe(readFileSync(path.join(repoRoot, 'fixtures/dat/print-fmt.report.txt'), 'latin1'));
    expect(pretty.stdout).toContain('address=0x7f0012345678 ip=0x55d0c0ffee00');
    const rendered = await runCli(['parse', file, '--render']);
    expect(rendered.exitCode).toBe(0);
    expect(rendered.stdout).toBe(readFileSync(path.join(repoRoot, 'fixtures/dat/print-fmt.render.txt'), 'latin1'));
    expect(rendered.stdout).toContain('bprint:               my_driver_probe: hello -5 world from my_driver_probe\n');
    const jsonl = await runCli(['parse', file, '--jsonl']);
    const bprint = jsonl.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .find((x) => x.event === 'bprint');
    expect(bprint.fields.buf).toBe('hello -5 world from my_driver_probe');
  });

  it('function_graph return-address comments, latency tracers (wake/switch records, display-graph) and hwlat are events', async () => {
    const ret = await events('function-graph-retaddr.trace');
    expect(ret[1]).toMatchObject({ event: 'funcgraph_entry', fields: { func: '__rcu_read_lock', caller: 'sched_balance_newidle+0x121/0x780' } });
    const wake = await events('latency-wakeup-rt.trace');
    expect(wake.map((e) => e.event)).toEqual(['wakeup', 'function', 'function', 'context_switch']);
    const graph = await stats([fixture('latency-display-graph.trace'), '--strict']);
    expect(graph).toMatchObject({ events: 13, gaps: 0, clock: 'latency' });
    const hw = await stats([fixture('hwlat.trace'), '--strict']);
    expect(hw).toMatchObject({ events: 12, gaps: 0, byEvent: { 'ftrace:hwlat': 12 } });
  });
});
