/**
 * oclif's own command-line errors (an unknown flag, a missing argument, a value not among a
 * flag's options, an unknown command) in the house format of every kreplay error: what went
 * wrong, where (the command and the flag), and a `hint:` line — never oclif's own wording
 * with its "See more help with --help" tail, never a stack.
 */
import type { Command } from '@oclif/core';

/** Edit distance, for "did you mean". */
function distance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0]!;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = d[j]!;
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return d[b.length]!;
}

/** The closest of `names` to `word`, when close enough to be a typo. */
export function closest(word: string, names: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const n of names) {
    const dist = distance(word, n);
    if (dist < bestD) [best, bestD] = [n, dist];
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

export interface UsageProblem {
  /** One line: what is wrong. */
  what: string;
  hint: string;
}

type Cmd = Pick<typeof Command, 'flags' | 'args'> | undefined;

/** Rewrite an oclif parse error of command `id` (as the user typed it, `kernel build`). */
export function usageProblem(err: Error, id: string, cmd: Cmd): UsageProblem {
  const help = `kreplay ${id} --help`;
  const flagNames = Object.entries(cmd?.flags ?? {}).flatMap(([name, f]) => [
    `--${name}`,
    ...((f as { char?: string }).char ? [`-${(f as { char?: string }).char}`] : []),
  ]);
  const raw = err.message.replace(/\n?See more help with --help\s*$/, '').trim();
  const name = err.constructor.name;
  const e = err as Error & { flags?: string[]; args?: Array<{ name: string; description?: string }> };
  if (name === 'NonExistentFlagsError' && e.flags) {
    const guesses = e.flags.map((f) => closest(f.replace(/=.*/, ''), flagNames)).filter((g): g is string => g !== undefined);
    return {
      what: `unknown flag${e.flags.length > 1 ? 's' : ''} ${e.flags.join(', ')}`,
      hint: `${guesses.length ? `did you mean ${[...new Set(guesses)].join(', ')}? ` : ''}${help} lists the flags`,
    };
  }
  if (name === 'RequiredArgsError' && e.args) {
    const names = e.args.map((a) => a.name.toUpperCase());
    return {
      what: `missing ${names.length > 1 ? 'arguments' : 'argument'} ${names.join(' ')}${e.args.length === 1 && e.args[0]!.description ? ` (${e.args[0]!.description})` : ''}`,
      hint: `kreplay ${id} ${Object.keys(cmd?.args ?? {})
        .map((a) => a.toUpperCase())
        .join(' ')} ...; ${help} shows the usage`,
    };
  }
  if (name === 'UnexpectedArgsError' && e.args) {
    const want = Object.keys(cmd?.args ?? {}).length;
    return {
      what: `unexpected argument${e.args.length > 1 ? 's' : ''} ${(e.args as unknown as string[]).map((a) => JSON.stringify(a)).join(', ')}`,
      hint: `kreplay ${id} takes ${want === 0 ? 'no arguments (only flags)' : `${want} argument${want > 1 ? 's' : ''}`}; quote a value with spaces; ${help} shows the usage`,
    };
  }
  const option = /^Expected --([\w-]+)=(.*) to be one of: (.*)$/s.exec(raw);
  if (option) {
    const choices = option[3]!.split(', ');
    const guess = closest(option[2]!, choices);
    return {
      what: `--${option[1]} ${JSON.stringify(option[2])} is not one of ${choices.join(', ')}`,
      hint: guess ? `did you mean --${option[1]} ${guess}?` : `choose one of ${choices.join(', ')}`,
    };
  }
  const parsing = /^Parsing --([\w-]+)\s*\n\s*(.*)$/s.exec(raw);
  if (parsing) {
    return { what: `--${parsing[1]}: ${parsing[2]!.replace(/^Expected/, 'expected').trim()}`, hint: `${help} says what --${parsing[1]} takes` };
  }
  const needsValue = /^Flag --([\w-]+) expects a value/.exec(raw);
  if (needsValue) return { what: `--${needsValue[1]} needs a value`, hint: `write --${needsValue[1]} VALUE; ${help} says what it takes` };
  // "The following error occurred:\n  --json=true cannot also be provided when using --format"
  const reasons = /^The following errors? occurred:\s*\n([\s\S]*)$/.exec(raw);
  if (reasons) {
    // oclif colours these lines; the escapes are what is removed
    const lines = reasons[1]!
      .split('\n')
      // eslint-disable-next-line no-control-regex
      .map((l) => l.replace(/\x1b\[[0-9;]*m/g, '').trim())
      .filter(Boolean);
    // "Missing required flag source": name it as typed, and say what it takes
    const missing = lines.map((l) => /^Missing required flag ([\w-]+)$/.exec(l)?.[1]);
    if (missing.every((m) => m !== undefined)) {
      const described = missing.map((m) => {
        const d = (cmd?.flags?.[m] as { description?: string } | undefined)?.description;
        return `--${m} ${d ? `takes ${d}` : 'VALUE'}`;
      });
      return {
        what: `missing required flag${missing.length > 1 ? 's' : ''} ${missing.map((m) => `--${m}`).join(', ')}`,
        hint: `${described.join('; ')}; ${help} shows the usage`,
      };
    }
    return { what: lines.map((l) => l.replace(/=true\b/g, '')).join('; '), hint: `${help} says which flags go together` };
  }
  return {
    what: raw
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .join(' '),
    hint: `${help} shows the usage`,
  };
}

/** The message printed for a usage problem: `error: kreplay ID: what` and the hint. */
export function formatUsage(p: UsageProblem, id: string): string {
  return `error: kreplay ${id}: ${p.what}\n  hint: ${p.hint}`;
}

/** An unknown command (`kreplay replya`), with the closest command as a hint. */
export function unknownCommand(id: string, commands: readonly string[]): string {
  const shown = id.replace(/:/g, ' ');
  const guess = closest(shown, commands);
  return `error: kreplay: unknown command "${shown}"\n  hint: ${guess ? `did you mean kreplay ${guess}? ` : ''}kreplay --help lists the commands`;
}
