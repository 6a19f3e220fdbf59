#!/usr/bin/env node
// Every file a document names must exist in the repository: the relative target of each
// Markdown link `[text](target)`, and each repository path written in backticks
// (`packages/cli/src/base.ts`, `docs/replay.md`, `kernel-configs/probes/`).
//
// A backticked word is taken for a repository path only when its first component is a
// top-level entry of the repository (packages, fixtures, traces, docs, ...) or it names a
// sibling of the document (`exit-codes.md` in docs/), and it holds no placeholder or pattern
// (`<workload>`, `*`, `{a,b}`, `$R`, `...`, `N`): kernel paths (`mm/filemap.c`), tracefs
// paths and what a command writes (`out/`, `build/`, `dist/`) are not checked. A trailing
// `:LINE`, `#anchor` or `(...)` is dropped first.
//
// Usage: node scripts/check-doc-links.mjs [FILE.md ...]   (default: README.md, DEVELOPERS.md,
// docs/*.md, packages/*/README.md). Prints one line per broken reference, FILE:LINE: what;
// exit 1 when there is one.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Folders a command writes into or a build makes: never shipped, never checked. */
const GENERATED = new Set(['out', 'build', 'dist', 'node_modules', 'release', 'coverage', 'kreplay-ci', 'tmp']);

/** The documents checked by default, relative to the root. */
export function defaultDocuments(root = ROOT) {
  const docs = ['README.md', 'DEVELOPERS.md'];
  for (const f of readdirSync(path.join(root, 'docs')).sort()) if (f.endsWith('.md')) docs.push(`docs/${f}`);
  for (const p of readdirSync(path.join(root, 'packages')).sort()) {
    if (existsSync(path.join(root, 'packages', p, 'README.md'))) docs.push(`packages/${p}/README.md`);
  }
  return docs;
}

function topLevel(root) {
  return new Set(readdirSync(root).filter((n) => !GENERATED.has(n) && n !== '.git'));
}

/** A backticked word or link target without its line number, anchor or call parentheses. */
function bare(ref) {
  return ref
    .replace(/#.*$/, '')
    .replace(/:\d+(?:[-–]\d+)?(?:,\d+)*$/, '')
    .replace(/\(\)$/, '');
}

const PLACEHOLDER = /[<>*{}$?[\]|…]|\.\.\.|\s/;

/**
 * The references of one document that are checked: `{ line, ref, why? }` for each, in order;
 * `why` says what is wrong with a broken one.
 * @param {string} doc path relative to root
 */
export function checkedReferences(doc, root = ROOT) {
  const text = readFileSync(path.join(root, doc), 'utf8');
  const dir = path.dirname(doc);
  const tops = topLevel(root);
  // a package's README names its own files from the package's folder (`test/fixtures/`, `scripts/x.sh`)
  const pkg = /^packages\/[^/]+$/.test(dir) ? dir : undefined;
  const pkgTops = pkg ? topLevel(path.join(root, pkg)) : new Set();
  const siblings = new Set(readdirSync(path.join(root, dir)));
  const out = [];
  const lines = text.split('\n');
  let fence = false;
  lines.forEach((line, i) => {
    if (/^\s*(```|~~~)/.test(line)) {
      fence = !fence;
      return;
    }
    if (fence) return;
    // Markdown links: every relative target must exist (beside the document).
    for (const m of line.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const target = m[1];
      if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#')) continue;
      const file = bare(decodeURI(target));
      if (!file) continue;
      out.push({ line: i + 1, ref: target, ...(existsSync(path.join(root, dir, file)) ? {} : { why: 'link target does not exist' }) });
    }
    // Backticked repository paths.
    for (const m of line.matchAll(/`([^`\n]+)`/g)) {
      const ref = bare(m[1].trim());
      if (!ref || PLACEHOLDER.test(ref) || /^(?:[a-z]+:\/\/|~|\/)/.test(ref)) continue;
      const first = ref.split('/')[0];
      if (ref.includes('/') && (tops.has(first) || pkgTops.has(first))) {
        const found = (tops.has(first) && existsSync(path.join(root, ref))) || (pkgTops.has(first) && existsSync(path.join(root, pkg, ref)));
        out.push({ line: i + 1, ref: m[1], ...(found ? {} : { why: 'no such file or folder in the repository' }) });
      } else if (!ref.includes('/') && dir !== '.' && /\.md$/.test(ref)) {
        // `exit-codes.md` in docs/: a sibling (or a top-level document such as `README.md`)
        const found = siblings.has(ref) || existsSync(path.join(root, ref));
        out.push({ line: i + 1, ref: m[1], ...(found ? {} : { why: `no such file beside ${doc}` }) });
      }
    }
  });
  return out;
}

/** The broken references of one document: `{ line, ref, why }` for each, in order. */
export function brokenReferences(doc, root = ROOT) {
  return checkedReferences(doc, root).filter((r) => r.why !== undefined);
}

function main() {
  const docs = process.argv.length > 2 ? process.argv.slice(2).map((f) => path.relative(ROOT, path.resolve(f))) : defaultDocuments();
  let bad = 0;
  let checked = 0;
  for (const doc of docs) {
    for (const r of checkedReferences(doc)) {
      checked++;
      if (r.why === undefined) continue;
      bad++;
      process.stdout.write(`${doc}:${r.line}: ${r.why}: ${r.ref}\n`);
    }
  }
  process.stdout.write(`${checked} reference(s) checked in ${docs.length} document(s), ${bad} broken\n`);
  process.exitCode = bad ? 1 : 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
