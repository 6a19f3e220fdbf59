#!/usr/bin/env node
/**
 * The package floors (docs/ARCHITECTURE.md): which kreplay packages each package's shipped code
 * may import. `npm run lint` and .ci/run run this check; it fails on an upward import, an
 * import of an unknown or undeclared package, a relative import that leaves its package, and a
 * library that prints or exits (only the CLI does).
 *
 * Adding a package is one line in FLOORS. A package folder with no line fails the check (fail
 * closed), and so does an import of a name that is in no line.
 *
 *   node scripts/check-imports.mjs [--root DIR] [--graph]
 *
 * Only shipped code is checked (src/, and bin/ where a package has one): tests import more, as
 * devDependencies.
 */
import { builtinModules } from 'node:module';
import { readdirSync, readFileSync, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const LIBRARIES = 'every library';

/**
 * package name → the kreplay packages its src may import, or LIBRARIES (every package in this
 * table but the CLI). `prints: true` lets a package call process.exit and write to
 * process.stdout/stderr or console: the CLI alone.
 */
export const FLOORS = {
  '@kreplay/core': { imports: [] },
  '@kreplay/ftrace-parser': { imports: ['@kreplay/core'] },
  '@kreplay/mm-model': { imports: ['@kreplay/core'] },
  '@kreplay/explore': { imports: ['@kreplay/core'] },
  '@kreplay/capture': { imports: ['@kreplay/core'] },
  '@kreplay/kernel-build': { imports: ['@kreplay/core'] },
  '@kreplay/lkmm': { imports: ['@kreplay/core'] },
  '@kreplay/replay': { imports: ['@kreplay/core', '@kreplay/ftrace-parser'] },
  '@kreplay/diff': { imports: ['@kreplay/core', '@kreplay/replay', '@kreplay/ftrace-parser'] },
  '@kreplay/report': { imports: ['@kreplay/core', '@kreplay/replay', '@kreplay/diff'] },
  // report → scenario and schedule (mm-model), explored (explore), captured (capture), replayed (replay)
  '@kreplay/triage': { imports: ['@kreplay/core', '@kreplay/mm-model', '@kreplay/explore', '@kreplay/capture', '@kreplay/replay'] },
  '@kreplay/pipeline': { imports: LIBRARIES },
  'kreplay': { imports: LIBRARIES, prints: true },
};

/**
 * Imports the floors forbid but that are allowed until the move that removes them lands. An
 * exception whose import is gone fails the check too, so the line is deleted with the import.
 */
export const EXCEPTIONS = [
  // { from: '@kreplay/report', to: '@kreplay/ftrace-parser', why: 'what moves it out, and where' },
];

const SELF = fileURLToPath(import.meta.url);
const TABLE = `${path.relative(process.cwd(), SELF) || SELF} (FLOORS)`;
const SOURCE = /\.(?:[cm]?ts|tsx|[cm]?js)$/;
const BUILTIN = new Set(builtinModules);
const PRINTS = new Set(['exit', 'stdout', 'stderr', 'exitCode', 'abort', 'reallyExit']);

/** What `name` may import, as a set (LIBRARIES expanded). */
function allowed(name) {
  const floor = FLOORS[name];
  if (!floor) return new Set();
  if (floor.imports === LIBRARIES) return new Set(Object.keys(FLOORS).filter((n) => n !== name && !FLOORS[n].prints));
  return new Set(floor.imports);
}

/** `@scope/name/sub` → `@scope/name`; `name/sub` → `name`. */
function packageOf(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

function* sourceFiles(dir) {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* sourceFiles(full);
    else if (SOURCE.test(entry.name)) yield full;
  }
}

/** `pathToFileURL(x)` or `pathToFileURL(x).href`: a module file the user named (a flavor), not a package. */
function isFileUrl(node) {
  const call = ts.isPropertyAccessExpression(node) && node.name.text === 'href' ? node.expression : node;
  return ts.isCallExpression(call) && ts.isIdentifier(call.expression) && call.expression.text === 'pathToFileURL';
}

/** Every module specifier in a file (static, re-export, dynamic, require, import type), and every print/exit. */
function scan(file) {
  const text = readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const specifiers = [];
  const prints = [];
  const lineOf = (node) => sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
  const literal = (node) => (node && ts.isStringLiteralLike(node) ? node.text : undefined);
  const visit = (node) => {
    let spec;
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) spec = literal(node.moduleSpecifier);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) spec = literal(node.moduleReference.expression);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) spec = literal(node.argument.literal);
    else if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const isImport = callee.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(callee) && callee.text === 'require';
      if (isImport || isRequire) {
        spec = literal(node.arguments[0]);
        if (spec === undefined && node.arguments.length > 0 && !isFileUrl(node.arguments[0])) {
          specifiers.push({ spec: undefined, line: lineOf(node) });
        }
      }
    } else if (ts.isPropertyAccessExpression(node) && ts.isIdentifier(node.expression)) {
      const obj = node.expression.text;
      if ((obj === 'process' && PRINTS.has(node.name.text)) || obj === 'console') prints.push({ what: `${obj}.${node.name.text}`, line: lineOf(node) });
    }
    if (spec !== undefined) specifiers.push({ spec, line: lineOf(node) });
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return { specifiers, prints };
}

/** The workspace's packages: folder, name, declared dependencies. */
function packages(root) {
  const dir = path.join(root, 'packages');
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(path.join(dir, e.name, 'package.json')))
    .map((e) => {
      const folder = path.join(dir, e.name);
      const manifest = JSON.parse(readFileSync(path.join(folder, 'package.json'), 'utf8'));
      const runtime = { ...manifest.dependencies, ...manifest.optionalDependencies, ...manifest.peerDependencies };
      return { folder, name: manifest.name, runtime: new Set(Object.keys(runtime)) };
    })
    .sort((a, b) => a.folder.localeCompare(b.folder));
}

/**
 * Check a workspace (`exceptions`: EXCEPTIONS, or a test's own). Returns the problems (`file:line: message`, sorted) and the package graph
 * (package → the kreplay packages its shipped code imports).
 */
export function checkImports(root, { exceptions = EXCEPTIONS } = {}) {
  const problems = [];
  const graph = new Map();
  const pkgs = packages(root);
  const known = new Set(Object.keys(FLOORS));
  const rel = (f) => path.relative(root, f);
  const report = (file, line, message) => problems.push({ file: rel(file), line, message });

  for (const pkg of pkgs) {
    const manifest = path.join(pkg.folder, 'package.json');
    if (!pkg.name || !FLOORS[pkg.name]) {
      report(manifest, 1, `package ${pkg.name ?? '(no name)'} has no floor: add one line for it to ${TABLE}`);
      continue;
    }
    const may = allowed(pkg.name);
    const excepted = new Set(exceptions.filter((x) => x.from === pkg.name).map((x) => x.to));
    for (const dep of pkg.runtime) {
      if (known.has(dep) && !may.has(dep) && !excepted.has(dep)) {
        report(
          manifest,
          1,
          `${pkg.name} depends on ${dep}, above its floor (${[...may].join(', ') || 'no kreplay package'}); move it to devDependencies if only tests use it`,
        );
      }
    }
    const uses = new Set();
    graph.set(pkg.name, uses);
    for (const sub of ['src', 'bin']) {
      for (const file of sourceFiles(path.join(pkg.folder, sub))) {
        const { specifiers, prints } = scan(file);
        if (!FLOORS[pkg.name].prints) {
          for (const p of prints) report(file, p.line, `${p.what} in library ${pkg.name}: only the CLI prints or exits; return the result, or take a callback`);
        }
        for (const { spec, line } of specifiers) {
          if (spec === undefined) {
            report(
              file,
              line,
              'import() or require() of a computed name: the floors cannot be checked; import a literal name (or a user-named file as pathToFileURL(path).href)',
            );
            continue;
          }
          if (spec.startsWith('.')) {
            const target = path.resolve(path.dirname(file), spec);
            if (target !== pkg.folder && !target.startsWith(pkg.folder + path.sep)) {
              report(file, line, `'${spec}' reaches outside ${pkg.name}: import the other package by its name`);
            }
            continue;
          }
          if (path.isAbsolute(spec) || spec.startsWith('file:')) {
            report(file, line, `'${spec}' is an absolute path: import packages by name`);
            continue;
          }
          if (spec.startsWith('node:') || BUILTIN.has(spec) || BUILTIN.has(packageOf(spec))) continue;
          const name = packageOf(spec);
          if (name === pkg.name) continue;
          const ours = name === 'kreplay' || name.startsWith('@kreplay/');
          if (ours && !known.has(name)) {
            report(file, line, `${name} is in no floor: add one line for it to ${TABLE}`);
            continue;
          }
          if (ours) {
            uses.add(name);
            if (!may.has(name) && !excepted.has(name)) {
              const floor = [...may].join(', ') || 'no kreplay package';
              report(file, line, `${pkg.name} must not import ${name} (upward or sideways); it may import: ${floor}`);
            }
          }
          if (!pkg.runtime.has(name)) {
            report(file, line, `${name} is not in ${pkg.name}'s dependencies: an installed copy would not find it`);
          }
        }
      }
    }
  }
  const present = new Set(pkgs.map((p) => p.name));
  for (const x of exceptions) {
    if (present.has(x.from) && !graph.get(x.from)?.has(x.to)) {
      problems.push({ file: rel(SELF), line: 1, message: `the exception ${x.from} → ${x.to} is no longer used: delete it from EXCEPTIONS` });
    }
  }
  problems.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.message.localeCompare(b.message));
  return { problems, graph, packages: pkgs.length };
}

function main(argv) {
  let root = path.resolve(path.dirname(SELF), '..');
  const at = argv.indexOf('--root');
  if (at >= 0) root = path.resolve(argv[at + 1] ?? '.');
  if (!existsSync(path.join(root, 'packages')) || !statSync(path.join(root, 'packages')).isDirectory()) {
    process.stderr.write(`check-imports: no packages/ folder in ${root}\n`);
    return 2;
  }
  const { problems, graph, packages: n } = checkImports(root);
  if (argv.includes('--graph')) {
    for (const [name, uses] of graph) process.stdout.write(`${name} → ${[...uses].sort().join(', ') || '(none)'}\n`);
  }
  for (const p of problems) process.stderr.write(`${p.file}:${p.line}: ${p.message}\n`);
  if (problems.length > 0) {
    process.stderr.write(`check-imports: ${problems.length} problem${problems.length === 1 ? '' : 's'} (the floors: ${TABLE})\n`);
    return 1;
  }
  process.stdout.write(`check-imports: ${n} packages keep their floors\n`);
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === SELF) process.exitCode = main(process.argv.slice(2));
