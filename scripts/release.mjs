#!/usr/bin/env node
/**
 * Release tarballs (docs/release.md). `npm run release` builds afresh and has lerna run this
 * in every package folder in dependency order (`lerna exec`); run by hand it packs the
 * package in the current folder. Each package is staged in a temp folder with what its
 * package.json `files` names, taken from the package or, for data the packages share in a
 * clone (kernel-configs/probes, kernel-configs/capture, fixtures/scenarios), from the
 * repository root, where @kreplay/core's shippedPath finds it; then `npm pack` writes the
 * tarball into release/ (or $KREPLAY_RELEASE_DIR).
 *
 * The CLI package `kreplay` bundles its whole runtime: the tarballs of the kreplay packages
 * it uses (packed before it, as lerna orders them) and the third-party packages at exactly
 * the versions and layout package-lock.json records. So `npm install -g kreplay-<v>.tgz`
 * needs no registry and no cache, and never asks a registry for a @kreplay name (that scope
 * is not ours on the public registry). The library tarballs declare their dependencies as
 * usual, for a project that installs them together.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.resolve(process.env.KREPLAY_RELEASE_DIR ?? path.join(ROOT, 'release'));
const CLI = 'kreplay';

const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));
const isOurs = (name) => name === CLI || name.startsWith('@kreplay/');
const fail = (message) => {
  throw new Error(`release: ${message}`);
};

/** Workspace packages by name: { name → folder relative to ROOT }. */
function workspaces() {
  const lock = readJson(path.join(ROOT, 'package-lock.json')).packages;
  const byName = {};
  for (const [loc, entry] of Object.entries(lock)) {
    if (entry.link && loc.startsWith('node_modules/')) byName[loc.slice('node_modules/'.length)] = entry.resolved;
  }
  byName[CLI] = 'packages/cli';
  return byName;
}

/** The tarball `npm pack` names for a package. */
function tarballName(manifest) {
  return `${manifest.name.replace(/^@/, '').replace('/', '-')}-${manifest.version}.tgz`;
}

/** Copy what `files` names into the stage: from the package, else from the repository root. */
function stageFiles(pkgDir, stage, manifest) {
  for (const own of ['package.json', 'README.md']) if (existsSync(path.join(pkgDir, own))) cpSync(path.join(pkgDir, own), path.join(stage, own));
  for (const entry of manifest.files ?? fail(`${manifest.name} has no "files" list`)) {
    const own = path.join(pkgDir, entry);
    const shared = path.join(ROOT, entry);
    const from = existsSync(own) ? own : existsSync(shared) ? shared : undefined;
    if (!from) {
      fail(`${manifest.name}: "files" entry ${entry} is neither in ${path.relative(ROOT, pkgDir)}/ nor at the repository root (run npm run build first?)`);
    }
    cpSync(from, path.join(stage, entry), { recursive: true });
  }
}

function npmPack(stage) {
  mkdirSync(OUT, { recursive: true });
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', OUT], { cwd: stage, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const [info] = JSON.parse(out);
  return info;
}

/** A lock entry's or manifest's run-time dependencies: [name, optional]. */
function depsOf(entry) {
  const optionalPeers = entry.peerDependenciesMeta ?? {};
  return [
    ...Object.keys(entry.dependencies ?? {}).map((n) => [n, false]),
    ...Object.keys(entry.optionalDependencies ?? {}).map((n) => [n, true]),
    ...Object.keys(entry.peerDependencies ?? {}).map((n) => [n, Boolean(optionalPeers[n]?.optional)]),
  ];
}

/** Where Node looks for `name` from the package at `at` (a folder path), nearest first. */
function lookups(at, name) {
  const parts = at ? at.split('/') : [];
  const found = [];
  for (let n = parts.length; n >= 0; n--) {
    if (n > 0 && parts[n - 1] === 'node_modules') continue;
    const base = parts.slice(0, n).join('/');
    found.push(`${base ? `${base}/` : ''}node_modules/${name}`);
  }
  return found;
}

/**
 * The bundle's node_modules layout: stage path → { ident: name@version, src: where it is in
 * this install }. The kreplay libraries sit at node_modules/@kreplay/<name>; each dependency
 * is the version package-lock.json resolves for its dependent here, placed at the top when
 * that name is free there, else nested under the dependent (npm's rule, run breadth first
 * from the CLI, so the CLI's own versions take the top). Every edge is checked afterwards.
 */
function bundleLayout(lock, cli, libraries) {
  const manifestOf = (folder) => readJson(path.join(ROOT, folder, 'package.json'));
  const placed = new Map([['', { ident: `${cli.name}@${cli.version}`, src: cli.folder, ours: true }]]);
  for (const [name, folder] of libraries) placed.set(`node_modules/${name}`, { ident: `${name}@${manifestOf(folder).version}`, src: folder, ours: true });
  const queue = [...placed.keys()];
  const edges = [];
  while (queue.length > 0) {
    const at = queue.shift();
    const { src, ours } = placed.get(at);
    for (const [name, optional] of depsOf(ours ? manifestOf(src) : lock[src])) {
      if (isOurs(name)) {
        if (!placed.has(`node_modules/${name}`)) fail(`${src} needs ${name}, which is not in the bundle`);
        continue;
      }
      const to = lookups(src, name).find((loc) => lock[loc]);
      if (!to) {
        if (optional) continue;
        fail(`${src} needs ${name}, which package-lock.json does not have (run npm install)`);
      }
      if (lock[to].link) fail(`${name} is a link in package-lock.json (${to}); a release bundles only registry packages`);
      const ident = `${name}@${lock[to].version}`;
      edges.push({ at, name, ident });
      const visible = lookups(at, name).find((loc) => placed.has(loc));
      if (visible && placed.get(visible).ident === ident) continue;
      const dest = visible ? `${at ? `${at}/` : ''}node_modules/${name}` : `node_modules/${name}`;
      placed.set(dest, { ident, src: to });
      queue.push(dest);
    }
  }
  for (const { at, name, ident } of edges) {
    const got = lookups(at, name).find((loc) => placed.has(loc));
    if (placed.get(got)?.ident !== ident)
      fail(`in the bundle ${at || cli.name} would load ${got ? placed.get(got).ident : 'nothing'} for ${name}, not ${ident}`);
  }
  return placed;
}

/**
 * Stage the CLI with everything it runs on in node_modules/: the kreplay packages from their
 * release tarballs, the third-party ones copied from this install (bundleLayout).
 */
function stageBundle(stage, manifest, names) {
  const lock = readJson(path.join(ROOT, 'package-lock.json')).packages;
  const libraries = new Map(); // every kreplay package the CLI reaches → folder
  const visit = (folder) => {
    for (const dep of Object.keys(readJson(path.join(ROOT, folder, 'package.json')).dependencies ?? {})) {
      if (!isOurs(dep) || libraries.has(dep)) continue;
      libraries.set(dep, names[dep] ?? fail(`${dep} is not a package of this workspace`));
      visit(libraries.get(dep));
    }
  };
  visit(names[manifest.name]);
  const layout = bundleLayout(lock, { name: manifest.name, version: manifest.version, folder: names[manifest.name] }, [...libraries].sort());

  let thirdParty = 0;
  for (const [at, { src, ours }] of [...layout].sort(([a], [b]) => a.length - b.length || a.localeCompare(b))) {
    if (!at) continue;
    const dest = path.join(stage, at);
    if (ours) {
      const tgz = path.join(OUT, tarballName(readJson(path.join(ROOT, src, 'package.json'))));
      if (!existsSync(tgz)) fail(`${path.relative(ROOT, tgz)} is missing: the libraries are packed before the CLI (npm run release)`);
      mkdirSync(dest, { recursive: true });
      execFileSync('tar', ['-xzf', tgz, '-C', dest, '--strip-components=1']);
      continue;
    }
    const from = path.join(ROOT, src);
    if (!existsSync(from)) fail(`${src} is in package-lock.json but not installed (run npm ci)`);
    cpSync(from, dest, { recursive: true, filter: (f) => !path.relative(from, f).split(path.sep).includes('node_modules') });
    thirdParty++;
  }
  const bundled = { ...manifest, bundleDependencies: Object.keys(manifest.dependencies ?? {}).sort() };
  writeFileSync(path.join(stage, 'package.json'), `${JSON.stringify(bundled, null, 2)}\n`);
  return { kreplay: libraries.size, thirdParty };
}

function main() {
  const pkgDir = path.resolve(process.argv[2] ?? process.cwd());
  const manifest = readJson(path.join(pkgDir, 'package.json'));
  const stage = mkdtempSync(path.join(tmpdir(), 'kreplay-release-'));
  try {
    stageFiles(pkgDir, stage, manifest);
    let note = '';
    if (manifest.name === CLI) {
      const n = stageBundle(stage, manifest, workspaces());
      note = ` (bundles ${n.kreplay} kreplay packages and ${n.thirdParty} third-party packages)`;
    }
    const info = npmPack(stage);
    const file = path.join(OUT, info.filename);
    process.stdout.write(
      `${file.startsWith(ROOT + path.sep) ? path.relative(ROOT, file) : file}: ${info.entryCount} files, ${(info.size / 1024).toFixed(0)} KiB${note}\n`,
    );
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

try {
  main();
} catch (e) {
  process.stderr.write(`${e.message}\n`);
  process.exitCode = 1;
}
