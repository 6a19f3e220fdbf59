/**
 * Which files `kreplay litmus` reads: files as named, folders (every *.litmus below them),
 * and glob patterns (`*`, `?`, `**`, `[...]`) for shells that pass them through quoted.
 * The order is deterministic: arguments in order, each folder's or pattern's files sorted.
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '@kreplay/core';

function walk(dir: string, out: string[]): void {
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.isFile() && e.name.endsWith('.litmus')) out.push(p);
  }
}

function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      // **/ matches any number of folders (none included)
      if (pattern[i + 2] === '/') {
        re += '(?:.*/)?';
        i += 2;
      } else {
        re += '.*';
        i++;
      }
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        re += `[${pattern
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

const GLOB = /[*?[]/;

export function expandLitmusPaths(args: string[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const add = (p: string): void => {
    if (!seen.has(p)) {
      seen.add(p);
      out.push(p);
    }
  };
  for (const arg of args) {
    if (GLOB.test(arg)) {
      const parts = arg.split('/');
      const firstGlob = parts.findIndex((p) => GLOB.test(p));
      const base = parts.slice(0, firstGlob).join('/') || (arg.startsWith('/') ? '/' : '.');
      const all: string[] = [];
      try {
        walkAll(base, all);
      } catch {
        throw new InputError(`no such folder ${base} (from the pattern ${arg})`, { hint: 'check the path; quote patterns so kreplay expands them' });
      }
      const re = globToRegExp(arg);
      const shown = (p: string): string => (base === '.' && arg.startsWith('./') ? `./${p}` : p);
      const hits = all
        .map(shown)
        .filter((p) => re.test(p))
        .sort();
      if (hits.length === 0) throw new InputError(`no file matches ${arg}`, { hint: 'check the pattern (** matches folders, * a name part)' });
      hits.forEach(add);
      continue;
    }
    let st;
    try {
      st = statSync(arg);
    } catch {
      throw new InputError(`no such file or folder: ${arg}`, {
        hint: "name .litmus files, folders holding them, or quoted patterns such as 'tests/**/*.litmus'",
      });
    }
    if (st.isDirectory()) {
      const found: string[] = [];
      walk(arg, found);
      if (found.length === 0) throw new InputError(`no .litmus file in ${arg}`, { hint: 'kreplay reads files whose names end in .litmus' });
      found.forEach(add);
    } else add(arg);
  }
  return out;
}

function walkAll(dir: string, out: string[]): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = dir === '.' ? e.name : path.join(dir, e.name);
    if (e.isDirectory()) walkAll(p, out);
    else if (e.isFile()) out.push(p);
  }
}
