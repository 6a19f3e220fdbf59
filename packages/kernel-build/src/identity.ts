/**
 * A kernel build's identity: what went into it (source, base config, fragments, patches,
 * compiler). Two keys come out of it:
 * - the tree key (source + arch + base + fragments + compiler): one build tree per tree
 *   key, so builds that differ only by patches share objects and rebuild incrementally;
 * - the build key (tree key + ordered patch hashes): one cached output per build key.
 * Keys hash content, never paths, so a fragment moved or renamed keeps its key.
 */
import { createHash } from 'node:crypto';

export type BaseConfig = 'tinyconfig' | 'defconfig';

export interface SourceIdentity {
  kind: 'debian' | 'dir';
  /** Kernel version from the tree's Makefile, e.g. 6.1.192. */
  kernelVersion: string;
  /** Debian package name and version (kind debian). */
  package?: string;
  packageVersion?: string;
  /** Absolute path of the user's tree (kind dir; not part of the key). */
  path?: string;
  /** Content fingerprint of the user's tree (kind dir): git HEAD + dirty diff, or a stat walk. */
  fingerprint?: string;
}

export interface HashedInput {
  name: string;
  sha256: string;
}

export interface BuildIdentity {
  source: SourceIdentity;
  arch: 'x86_64';
  base: BaseConfig;
  fragments: HashedInput[];
  patches: HashedInput[];
  /** `gcc --version` first line: a different compiler is a different build. */
  compiler: string;
}

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** JSON with object keys sorted at every level: the same value always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

const KEY_LENGTH = 16;

/** What the source contributes to a key: its content, not where it lives. */
function sourceKeyPart(s: SourceIdentity): unknown {
  return s.kind === 'debian'
    ? { kind: s.kind, package: s.package, packageVersion: s.packageVersion, kernelVersion: s.kernelVersion }
    : { kind: s.kind, kernelVersion: s.kernelVersion, fingerprint: s.fingerprint };
}

export function treeKey(id: BuildIdentity): string {
  const part = {
    source: sourceKeyPart(id.source),
    arch: id.arch,
    base: id.base,
    fragments: id.fragments.map((f) => f.sha256),
    compiler: id.compiler,
  };
  return sha256(canonicalJson(part)).slice(0, KEY_LENGTH);
}

export function buildKey(id: BuildIdentity): string {
  const part = { tree: treeKey(id), patches: id.patches.map((p) => p.sha256) };
  return sha256(canonicalJson(part)).slice(0, KEY_LENGTH);
}

/** The identity as capture's meta.json records it. */
export interface BuildMeta {
  key: string;
  source: string;
  kernelVersion: string;
  base: BaseConfig;
  fragments: HashedInput[];
  patches: HashedInput[];
  compiler: string;
}

export function buildMeta(id: BuildIdentity): BuildMeta {
  const s = id.source;
  const source = s.kind === 'debian' ? `debian:${s.package}=${s.packageVersion}` : `dir:${s.path ?? '?'}@${s.fingerprint ?? '?'}`;
  return {
    key: buildKey(id),
    source,
    kernelVersion: s.kernelVersion,
    base: id.base,
    fragments: id.fragments,
    patches: id.patches,
    compiler: id.compiler,
  };
}
