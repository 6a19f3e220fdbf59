/**
 * The README's command lines, run as written: every `kreplay …` line of its ```sh blocks whose
 * inputs ship with the repository runs from a folder that sees the repository's files (outputs
 * land there, not in the clone), and exits as its comment says — `exit N`, `clean` (0), else
 * 0 or 1 (a verdict, never a usage error). `A && B` fails when A's exit would skip B. Lines
 * that boot QEMU or build a kernel, read a file only the user has, a pipe, run the 1.4 M-state
 * search or write Perfetto JSON of the shipped pair (66 MB) are skipped, each for a reason the
 * test names.
 */
import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoRoot, runCli } from './run-cli.js';

interface Step {
  text: string;
  args: string[];
  stdoutTo?: string;
  comment: string;
  after?: '&&' | ';';
}

/** Split on white space outside quotes; quotes removed. */
function words(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote = '';
  let any = false;
  for (const ch of s) {
    if (quote) {
      if (ch === quote) quote = '';
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      any = true;
    } else if (/\s/.test(ch)) {
      if (cur || any) out.push(cur);
      cur = '';
      any = false;
    } else cur += ch;
  }
  if (cur || any) out.push(cur);
  return out;
}

/** The README's sh blocks as commands: continuations joined, comments split off, `;`/`&&` chains split, $VARs of the block expanded. */
function readmeCommands(md: string): Array<{ line: string; steps: Step[] }> {
  const blocks = [...md.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
  const out: Array<{ line: string; steps: Step[] }> = [];
  for (const block of blocks) {
    const vars = new Map<string, string>();
    for (const line of block.replace(/\\\n\s*/g, '').split('\n')) {
      const assign = /^([A-Z_]+)=(\S+)$/.exec(line.trim());
      if (assign) {
        vars.set(assign[1]!, assign[2]!);
        continue;
      }
      if (!/\bkreplay\b/.test(line)) continue;
      const hash = line.search(/\s#\s/);
      const code = (hash < 0 ? line : line.slice(0, hash)).trim();
      const comment = hash < 0 ? '' : line.slice(hash).trim();
      const expanded = code.replace(/\$([A-Z_]+)/g, (m, v: string) => vars.get(v) ?? m);
      const parts = expanded.split(/\s*(&&|;)\s*/);
      const steps: Step[] = [];
      for (let i = 0; i < parts.length; i += 2) {
        const text = parts[i]!;
        const w = words(text);
        const gt = w.indexOf('>');
        steps.push({ text, args: gt < 0 ? w : w.slice(0, gt), stdoutTo: gt < 0 ? undefined : w[gt + 1], comment, after: parts[i + 1] as Step['after'] });
      }
      out.push({ line: code, steps });
    }
  }
  return out;
}

const OUTPUT_FLAGS = new Set(['--out', '--trace-out', '--perfetto-out', '--html', '--perfetto', '--scenario-out', '--litmus-out']);

/** Why a step cannot run here, or undefined. Inputs are looked up in `cwd`, where earlier steps' outputs are. */
function skipReason(step: Step, cwd: string): string | undefined {
  const [cmd, sub, ...rest] = step.args;
  if (cmd !== 'kreplay' || step.args.includes('|')) return 'a pipe or another program';
  if (sub === 'capture' || sub === 'kernel' || rest.includes('--repro')) return 'boots QEMU or builds a kernel';
  if (rest.includes('--workers')) return 'the 1.4 M-state search (about a minute)';
  if (rest.includes('--perfetto')) return 'writes 66 MB of Perfetto JSON (report.test.ts runs --perfetto)';
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (OUTPUT_FLAGS.has(a)) {
      i++;
      continue;
    }
    // a path: has a folder or a file extension (not a shard's i/n, not linux-6.1)
    if (a.startsWith('-') || /^\d+\/\d+$/.test(a) || !(a.includes('/') || /\.[a-z][a-z0-9]*$/i.test(a))) continue;
    if (/[*<>]/.test(a) || !existsSync(path.join(cwd, a))) return `needs ${a}, a file the user has`;
  }
  return undefined;
}

function expectedExit(comment: string): number[] {
  const m = /\bexit (\d)\b/.exec(comment);
  if (m) return [Number(m[1])];
  if (/\bclean\b/.test(comment)) return [0];
  return [0, 1];
}

describe("README's command lines", () => {
  it('run from a copy of the repository and exit as their comments say', async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'kreplay-readme-'));
    try {
      for (const e of readdirSync(repoRoot)) if (e !== '.git') symlinkSync(path.join(repoRoot, e), path.join(cwd, e));
      const ran: string[] = [];
      const skipped: string[] = [];
      const wrong: string[] = [];
      // two lines at a time (the machine's two cores); a line that reads a file an earlier line
      // writes (cex.trace, race.yaml) waits for that line
      const written = new Map<string, Promise<void>>();
      let slots = 2;
      const queue: Array<() => void> = [];
      const slot = async () => {
        if (slots > 0) slots--;
        else await new Promise<void>((go) => queue.push(go));
      };
      const free = () => {
        const next = queue.shift();
        if (next) next();
        else slots++;
      };
      const runLine = async (line: string, steps: Step[]) => {
        for (const [i, step] of steps.entries()) {
          const why = skipReason(step, cwd);
          if (why) {
            skipped.push(`${step.text}: ${why}`);
            return;
          }
          const r = await runCli(step.args.slice(1), { cwd });
          if (step.stdoutTo) writeFileSync(path.join(cwd, step.stdoutTo), r.stdout);
          ran.push(step.text);
          const want = i === steps.length - 1 ? expectedExit(step.comment) : step.after === '&&' ? [0] : [0, 1];
          if (!want.includes(r.exitCode) || r.stderr.includes('internal error')) {
            wrong.push(
              `${line}\n  step "${step.text}" exited ${r.exitCode}, README says ${want.join(' or ')}${step.after === '&&' && r.exitCode !== 0 ? ' (so the command after && never runs)' : ''}\n  ${r.stderr.split('\n').slice(0, 2).join('\n  ')}`,
            );
            return;
          }
        }
      };
      const lines: Array<Promise<void>> = [];
      for (const { line, steps } of readmeCommands(readFileSync(path.join(repoRoot, 'README.md'), 'utf8'))) {
        const tokens = steps.flatMap((st) => st.args);
        const deps = tokens.flatMap((t) => written.get(t) ?? []);
        const done = (async () => {
          await Promise.all(deps);
          await slot();
          try {
            await runLine(line, steps);
          } finally {
            free();
          }
        })();
        for (const [i, t] of tokens.entries()) if (OUTPUT_FLAGS.has(tokens[i - 1] ?? '')) written.set(t, done);
        for (const st of steps) if (st.stdoutTo) written.set(st.stdoutTo, done);
        lines.push(done);
      }
      await Promise.all(lines);
      expect(wrong.sort()).toEqual([]);
      // the extraction must find the README's runnable lines, not quietly skip them
      expect(ran.length).toBeGreaterThanOrEqual(15);
      expect(ran).toEqual(expect.arrayContaining(['kreplay replay traces/odirect-race/trace.txt.gz', 'kreplay replay cex.trace', 'kreplay explore race.yaml']));
      for (const s of skipped)
        expect(s).toMatch(
          /: (a pipe or another program|boots QEMU or builds a kernel|the 1\.4 M-state search \(about a minute\)|writes 66 MB of Perfetto JSON \(report\.test\.ts runs --perfetto\)|needs \S+, a file the user has)$/,
        );
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  }, 120_000);
});
