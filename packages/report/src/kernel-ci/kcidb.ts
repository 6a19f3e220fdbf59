/**
 * KCIDB I/O schema v5 JSON (kernelci/kcidb-io; the schema this writes against is vendored
 * in packages/report/schema/ and every output is validated against it in the tests): one
 * checkout and one build per kernel of the run, one test per node of the test tree, with
 * its dot-separated `path` (`kreplay.<kernel>.<workload>.<rule>`), its `status`, the file
 * its output is in as `log_url` and the other files as `output_files`, and the diagnostics
 * as `log_excerpt`.
 *
 * Ids are `<origin>:<hash>` of what the object is about: a checkout and a build, of the kernel's
 * label; a test, of the run (its inputs' names), of the test path and of everything the run's
 * tests say (statuses, reasons, diagnostics, files). KCIDB merges objects that share an id, a
 * later submission's fields over an earlier one's, and CI jobs reuse paths (a capture folder, a
 * side named `patched`): ids from names alone let Tuesday's PASS replace Monday's FAIL of another
 * trace. With the content in, submitting one result twice is the same submission, and results
 * that differ in anything are different tests.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { InputError, stringifyJson } from '@kreplay/core';
import { reasonOf, statusOf, type TestNode, type TestRun } from './tests.js';

export const KCIDB_VERSION = { major: 5, minor: 3 } as const;

export interface KcidbOptions {
  /** The CI system's name in every id and `origin` (`^[a-z0-9_]+$`); default `kreplay`. */
  origin?: string;
  /**
   * Where the files a test names are published, as a URL ending in `/` (a CI job's
   * artifacts, `file:///…/kreplay-ci/`); relative file names are resolved against it.
   * Absolute paths become file: URLs. Without it, files are left out.
   */
  artifactsUrl?: string;
}

/** The KCIDB maximum for log_excerpt. */
const EXCERPT_MAX = 16384;

function id(origin: string, ...parts: string[]): string {
  return `${origin}:${createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, 24)}`;
}

/** A file as a URL: relative names against the artifacts URL, absolute paths as file: URLs. */
export function artifactUrl(file: string, base: string | undefined): string | undefined {
  if (path.isAbsolute(file)) return pathToFileURL(file).href;
  if (base === undefined) return undefined;
  return new URL(file.split(path.sep).map(encodeURIComponent).join('/'), base).href;
}

function excerpt(node: TestNode): string | undefined {
  const reason = reasonOf(node);
  const text = [...(reason ? [reason] : []), ...node.diagnostics].join('\n');
  if (!text) return undefined;
  // eslint-disable-next-line no-control-regex -- KCIDB strings carry no NUL
  const clean = `${text.replace(/\u0000/g, '\\x00')}\n`;
  return clean.length <= EXCERPT_MAX ? clean : `${clean.slice(0, EXCERPT_MAX - 40)}\n… (${clean.length} characters in all)\n`;
}

export function kcidbJson(run: TestRun, opts: KcidbOptions = {}): Record<string, unknown> {
  const origin = opts.origin ?? 'kreplay';
  if (!/^[a-z0-9_]+$/.test(origin))
    throw new InputError(`KCIDB origin ${JSON.stringify(origin)} is not a CI system name`, {
      hint: 'use lower-case letters, digits and _ only (KCIDB: ^[a-z0-9_]+$)',
    });
  const checkouts = run.builds.map((b) => ({
    id: id(origin, 'checkout', b.key),
    origin,
    comment: `${b.role}: ${b.label}`,
    misc: { kernel: b.label, role: b.role },
  }));
  const builds = run.builds.map((b, i) => ({
    id: id(origin, 'build', b.key),
    origin,
    checkout_id: checkouts[i]!.id,
    comment: `${b.role}: ${b.label}`,
    misc: { kernel: b.label, role: b.role },
  }));
  const said = createHash('sha256').update(JSON.stringify(run.tests)).digest('hex');
  const tests: Array<Record<string, unknown>> = [];
  const add = (node: TestNode, parentPath: string, buildId: string) => {
    const p = `${parentPath}.${node.name}`;
    const files = (node.files ?? []).map((f) => ({ f, url: artifactUrl(f, opts.artifactsUrl) })).filter((x) => x.url !== undefined);
    const text = excerpt(node);
    const reason = reasonOf(node);
    tests.push({
      id: id(origin, 'test', run.key, said, buildId, p),
      origin,
      build_id: buildId,
      path: p,
      status: statusOf(node),
      ...(reason ? { comment: reason } : {}),
      ...(files[0] ? { log_url: files[0].url } : {}),
      ...(files.length > 1 ? { output_files: files.slice(1).map((x) => ({ name: path.basename(x.f), url: x.url })) } : {}),
      ...(text ? { log_excerpt: text } : {}),
      misc: { tool: run.tool },
    });
    for (const k of node.children ?? []) add(k, p, buildId);
  };
  for (const t of run.tests) add(t, 'kreplay', builds[t.build]!.id);
  return { version: { ...KCIDB_VERSION }, checkouts, builds, tests };
}

export function formatKcidb(run: TestRun, opts: KcidbOptions = {}): string {
  return `${stringifyJson(kcidbJson(run, opts), 2)}\n`;
}
