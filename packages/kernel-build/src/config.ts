/**
 * Kernel config fragments: parse, merge onto a base .config (what
 * scripts/kconfig/merge_config.sh does: a later assignment replaces an earlier one), and
 * verify after `make olddefconfig` that every requested option survived — Kconfig drops
 * an option silently when its dependencies are not met, and a capture kernel without
 * KPROBE_EVENTS or 9p would fail much later and much less clearly.
 */
import { InputError } from './errors.js';

/** `y`, `m`, a number or a quoted string as written; null for "is not set" / `=n`. */
export type KconfigValue = string | null;

export interface ConfigRequest {
  symbol: string;
  value: KconfigValue;
  file: string;
  line: number;
}

export interface ConfigFragment {
  file: string;
  requests: ConfigRequest[];
}

const ASSIGN = /^CONFIG_([A-Za-z0-9_]+)=(.*)$/;
const NOT_SET = /^# CONFIG_([A-Za-z0-9_]+) is not set$/;
const VALUE = /^(y|m|n|-?\d+|0x[0-9a-fA-F]+|"(?:[^"\\]|\\.)*")$/;

/** Parse a fragment; a line that is neither an assignment, "is not set" nor a comment is an error, and so is a fragment without one request. */
export function parseConfigFragment(text: string, file: string): ConfigFragment {
  const requests: ConfigRequest[] = [];
  const seen = new Map<string, ConfigRequest>();
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    const s = raw.trim();
    if (s === '') return;
    let symbol: string;
    let value: KconfigValue;
    const unset = NOT_SET.exec(s);
    const assign = ASSIGN.exec(s);
    if (unset) {
      symbol = unset[1]!;
      value = null;
    } else if (assign) {
      symbol = assign[1]!;
      const v = assign[2]!.trim();
      if (!VALUE.test(v)) {
        throw new InputError(`CONFIG_${symbol} has a value Kconfig cannot take: ${JSON.stringify(v)}`, {
          file,
          line,
          hint: 'values are y, m, n, a number, 0x-hex, or a "double-quoted string"',
        });
      }
      value = v === 'n' ? null : v;
    } else if (s.startsWith('#')) {
      return;
    } else {
      throw new InputError(`not a kernel config line: ${JSON.stringify(s.slice(0, 80))}`, {
        file,
        line,
        hint: 'write CONFIG_NAME=value or "# CONFIG_NAME is not set"; comments start with #',
      });
    }
    const before = seen.get(symbol);
    if (before && before.value !== value) {
      throw new InputError(`CONFIG_${symbol} is set twice with different values (first at line ${before.line})`, {
        file,
        line,
        hint: 'keep one of the two lines',
      });
    }
    const req = { symbol, value, file, line };
    seen.set(symbol, req);
    if (!before) requests.push(req);
  });
  // A fragment is passed to change the config; one that asks for nothing changes nothing (and
  // still gives the build another identity: a cold build of the base config) — most likely the
  // wrong file. Until session 38 it built "0 options requested, all present", exit 0.
  if (requests.length === 0) {
    throw new InputError(`the config fragment asks for no kernel option: ${text.trim() === '' ? 'it is empty' : 'it holds only comments and blank lines'}`, {
      file,
      hint: 'a fragment holds CONFIG_NAME=value or "# CONFIG_NAME is not set" lines: pass the file with the options you mean to set (kernel-configs/kreplay.config for a capture kernel), or leave this --config-fragment out',
    });
  }
  return { file, requests };
}

/** The effective requests of several fragments in order: a later fragment wins. */
export function effectiveRequests(fragments: ConfigFragment[]): ConfigRequest[] {
  const bySymbol = new Map<string, ConfigRequest>();
  for (const f of fragments)
    for (const r of f.requests) {
      bySymbol.delete(r.symbol);
      bySymbol.set(r.symbol, r);
    }
  return [...bySymbol.values()];
}

export function formatAssignment(symbol: string, value: KconfigValue): string {
  return value === null ? `# CONFIG_${symbol} is not set` : `CONFIG_${symbol}=${value}`;
}

/** Symbol → value of a .config (null = "is not set"); comments and blank lines skipped. */
export function parseDotConfig(text: string): Map<string, KconfigValue> {
  const out = new Map<string, KconfigValue>();
  for (const raw of text.split('\n')) {
    const s = raw.trim();
    const a = ASSIGN.exec(s);
    if (a) {
      out.set(a[1]!, a[2]!);
      continue;
    }
    const u = NOT_SET.exec(s);
    if (u) out.set(u[1]!, null);
  }
  return out;
}

/**
 * Merge the requests onto a base .config as scripts/kconfig/merge_config.sh does: every
 * line for a requested symbol is dropped and the requests are appended in order. Appending
 * matters for choices (tinyconfig's CC_OPTIMIZE_FOR_SIZE vs a requested
 * CC_OPTIMIZE_FOR_PERFORMANCE): Kconfig keeps the choice member it reads last.
 * The result still needs olddefconfig.
 */
export function mergeConfig(baseText: string, requests: ConfigRequest[]): string {
  const want = new Set(requests.map((r) => r.symbol));
  const lines = baseText.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const kept = lines.filter((raw) => {
    const s = raw.trim();
    const sym = ASSIGN.exec(s)?.[1] ?? NOT_SET.exec(s)?.[1];
    return sym === undefined || !want.has(sym);
  });
  const added = requests.map((r) => formatAssignment(r.symbol, r.value));
  return `${[...kept, ...added].join('\n')}\n`;
}

export interface LostOption {
  request: ConfigRequest;
  /** The value in the final .config: a string, null for "is not set", undefined for absent. */
  actual: KconfigValue | undefined;
}

/** Every request whose value the final .config does not have. */
export function findLostOptions(requests: ConfigRequest[], finalConfig: Map<string, KconfigValue>): LostOption[] {
  const lost: LostOption[] = [];
  for (const request of requests) {
    const actual = finalConfig.get(request.symbol);
    const ok = request.value === null ? actual === null || actual === undefined : actual === request.value;
    if (!ok) lost.push({ request, actual });
  }
  return lost;
}

/** What the final .config says about a symbol, as a phrase: "absent", "not set", "=m". */
export function describeActual(actual: KconfigValue | undefined): string {
  if (actual === undefined) return 'absent';
  if (actual === null) return 'not set';
  return `=${actual}`;
}
