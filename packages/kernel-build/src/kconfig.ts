/**
 * Why did olddefconfig drop an option? Read the tree's Kconfig files for the symbol's
 * definition, its `depends on` lines and the `if`/`menu` blocks around it, and name the
 * dependencies the final .config does not satisfy. Only a hint for the error message:
 * Kconfig's full expression language is not evaluated, only the symbols it mentions.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { KconfigValue } from './config.js';

export interface KconfigDefinition {
  symbol: string;
  file: string;
  line: number;
  /** `depends on` expressions of the entry, then of the enclosing `if` and `menu` blocks. */
  depends: string[];
  /** false: no prompt, so it is on only if something selects it. */
  hasPrompt: boolean;
  /** Defined inside a `choice` block: exactly one member of the choice is on. */
  inChoice: boolean;
}

/** Columns of a line's leading whitespace (tabs to multiples of 8). */
function indentOf(line: string): number {
  let col = 0;
  for (const ch of line) {
    if (ch === ' ') col++;
    else if (ch === '\t') col = (Math.floor(col / 8) + 1) * 8;
    else break;
  }
  return col;
}

const ENTRY = /^\s*(?:menu)?config\s+([A-Za-z0-9_]+)\s*$/;
const ENDS_ENTRY = /^\s*(config|menuconfig|choice|endchoice|menu|endmenu|if|endif|source|comment|mainmenu)\b/;
const PROMPT = /^\s*(?:(?:bool|tristate|string|int|hex)\s+"|prompt\s+")/;

/** Definitions found in one Kconfig file's text. */
export function scanKconfig(text: string, file: string): KconfigDefinition[] {
  const defs: KconfigDefinition[] = [];
  const blocks: { kind: 'if' | 'menu'; depends: string[] }[] = [];
  let entry: KconfigDefinition | undefined;
  let menu: { kind: 'menu'; depends: string[] } | undefined;
  let choiceDepth = 0;
  let helpIndent = -1;
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    // help text runs while lines are blank or indented deeper than the `help` keyword
    if (helpIndent >= 0) {
      if (raw.trim() === '' || indentOf(raw) > helpIndent) return;
      helpIndent = -1;
    }
    if (/^\s*(---)?help(---)?\s*$/.test(raw)) {
      helpIndent = indentOf(raw);
      return;
    }
    const s = raw.replace(/#.*$/, '');
    if (/^\s*choice\b/.test(s)) choiceDepth++;
    if (/^\s*endchoice\b/.test(s)) choiceDepth = Math.max(0, choiceDepth - 1);
    if (ENDS_ENTRY.test(s)) {
      if (entry) entry.depends.push(...blocks.flatMap((b) => b.depends));
      entry = undefined;
      menu = undefined;
    }
    const m = ENTRY.exec(s);
    if (m) {
      entry = { symbol: m[1]!, file, line: i + 1, depends: [], hasPrompt: false, inChoice: choiceDepth > 0 };
      defs.push(entry);
      return;
    }
    const ifm = /^\s*if\s+(.+?)\s*$/.exec(s);
    if (ifm) {
      blocks.push({ kind: 'if', depends: [ifm[1]!] });
      return;
    }
    if (/^\s*endif\b/.test(s)) {
      popBlock(blocks, 'if');
      return;
    }
    if (/^\s*menu\s+"/.test(s)) {
      menu = { kind: 'menu', depends: [] };
      blocks.push(menu);
      return;
    }
    if (/^\s*endmenu\b/.test(s)) {
      popBlock(blocks, 'menu');
      return;
    }
    const dep = /^\s*depends\s+on\s+(.+?)\s*$/.exec(s);
    if (dep) {
      if (entry) entry.depends.push(dep[1]!);
      else if (menu) menu.depends.push(dep[1]!);
      return;
    }
    if (entry && PROMPT.test(s)) entry.hasPrompt = true;
  });
  if (entry) entry.depends.push(...blocks.flatMap((b) => b.depends));
  return defs;
}

function popBlock(blocks: { kind: string }[], kind: string): void {
  for (let i = blocks.length - 1; i >= 0; i--) {
    if (blocks[i]!.kind === kind) {
      blocks.splice(i, 1);
      return;
    }
  }
}

/** Every Kconfig* file under `root` (relative paths, sorted), skipping build output. */
export async function listKconfigFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(rel: string): Promise<void> {
    const entries = await fs.readdir(path.join(root, rel), { withFileTypes: true });
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(r);
      else if (e.isFile() && e.name.startsWith('Kconfig')) out.push(r);
    }
  }
  await walk('');
  return out.sort();
}

/** Definitions of the given symbols anywhere in the tree. */
export async function findDefinitions(root: string, symbols: Set<string>): Promise<Map<string, KconfigDefinition[]>> {
  const found = new Map<string, KconfigDefinition[]>();
  for (const file of await listKconfigFiles(root)) {
    const text = await fs.readFile(path.join(root, file), 'utf8');
    for (const def of scanKconfig(text, file)) {
      if (!symbols.has(def.symbol)) continue;
      const list = found.get(def.symbol) ?? [];
      list.push(def);
      found.set(def.symbol, list);
    }
  }
  return found;
}

/** Symbols an expression needs on (or off, after `!`) that the final .config has otherwise. */
export function unmetSymbols(expr: string, finalConfig: Map<string, KconfigValue>): string[] {
  const tokens = expr.match(/!=|[!=()]|&&|\|\||\$\([^)]*\)|"[^"]*"|[A-Za-z0-9_]+/g) ?? [];
  const unmet: string[] = [];
  tokens.forEach((t, i) => {
    if (!/^[A-Za-z0-9_]+$/.test(t) || /^(y|m|n|\d+)$/.test(t)) return;
    if (tokens[i + 1] === '=' || tokens[i + 1] === '!=' || tokens[i - 1] === '=' || tokens[i - 1] === '!=') return;
    const v = finalConfig.get(t);
    const on = v === 'y' || v === 'm';
    if (tokens[i - 1] === '!' ? on : !on) unmet.push(tokens[i - 1] === '!' ? `${t}=${v}` : `${t} is not set`);
  });
  return [...new Set(unmet)];
}

/** One sentence on why `symbol` could not keep its requested value. */
export function explainLoss(symbol: string, defs: KconfigDefinition[] | undefined, finalConfig: Map<string, KconfigValue>): string {
  if (!defs || defs.length === 0) return `no Kconfig file in this tree defines ${symbol} (misspelt, or not in this kernel version)`;
  return defs
    .map((d) => {
      const where = `${d.file}:${d.line}`;
      const unmet = [...new Set(d.depends.flatMap((e) => unmetSymbols(e, finalConfig)))];
      const deps = d.depends.length ? `depends on ${d.depends.map((e) => `(${e})`).join(' && ')}` : 'no dependencies';
      const prompt = d.hasPrompt ? '' : '; it has no prompt, so only a `select` from another option turns it on';
      const choice = d.inChoice
        ? '; it is one member of a choice, and another member was chosen (request the member you want; a fragment line overrides the base)'
        : '';
      return `${where}: ${deps}${unmet.length ? ` — unmet: ${unmet.join(', ')}` : ''}${prompt}${choice}`;
    })
    .join('; ');
}
