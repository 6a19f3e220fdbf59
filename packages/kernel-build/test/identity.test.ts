import { describe, expect, it } from '@jest/globals';
import { buildKey, buildMeta, canonicalJson, treeKey, type BuildIdentity } from '../src/index.js';

const base: BuildIdentity = {
  source: { kind: 'debian', kernelVersion: '6.1.192', package: 'linux-source-6.1', packageVersion: '6.1.192-2' },
  arch: 'x86_64',
  base: 'tinyconfig',
  fragments: [
    { name: 'kreplay.config', sha256: 'a'.repeat(64) },
    { name: 'debug-vm.config', sha256: 'b'.repeat(64) },
  ],
  patches: [],
  compiler: 'gcc (Debian 12.2.0-14) 12.2.0',
};
const patched: BuildIdentity = { ...base, patches: [{ name: 'fix.patch', sha256: 'c'.repeat(64) }] };

describe('build identity keys', () => {
  it('are stable: the same identity always gives the same 16-hex keys, whatever the key order', () => {
    const shuffled = JSON.parse(canonicalJson({ ...base, compiler: base.compiler })) as BuildIdentity;
    expect(buildKey(base)).toMatch(/^[0-9a-f]{16}$/);
    expect(buildKey(shuffled)).toBe(buildKey(base));
    expect(canonicalJson({ b: 1, a: { d: 2, c: [3, { f: 4, e: 5 }] } })).toBe('{"a":{"c":[3,{"e":5,"f":4}],"d":2},"b":1}');
  });

  it('share the tree between builds that differ only by patches', () => {
    expect(treeKey(patched)).toBe(treeKey(base));
    expect(buildKey(patched)).not.toBe(buildKey(base));
  });

  const variants: [string, BuildIdentity][] = [
    ['source version', { ...base, source: { ...base.source, packageVersion: '6.1.193-1', kernelVersion: '6.1.193' } }],
    ['base config', { ...base, base: 'defconfig' }],
    ['fragment content', { ...base, fragments: [base.fragments[0]!, { name: 'debug-vm.config', sha256: 'd'.repeat(64) }] }],
    ['fragment order', { ...base, fragments: [base.fragments[1]!, base.fragments[0]!] }],
    ['compiler', { ...base, compiler: 'gcc (Debian 13.1.0) 13.1.0' }],
  ];
  it.each(variants)('change the tree and the build with the %s', (_what, v) => {
    expect(treeKey(v)).not.toBe(treeKey(base));
    expect(buildKey(v)).not.toBe(buildKey(base));
  });

  it('change the build (not the tree) with patch content and patch order', () => {
    const two: BuildIdentity = {
      ...base,
      patches: [
        { name: 'a.patch', sha256: '1'.repeat(64) },
        { name: 'b.patch', sha256: '2'.repeat(64) },
      ],
    };
    const swapped: BuildIdentity = { ...two, patches: [two.patches[1]!, two.patches[0]!] };
    const edited: BuildIdentity = { ...two, patches: [two.patches[0]!, { name: 'b.patch', sha256: '3'.repeat(64) }] };
    expect(new Set([buildKey(two), buildKey(swapped), buildKey(edited)]).size).toBe(3);
    expect(new Set([treeKey(two), treeKey(swapped), treeKey(edited)]).size).toBe(1);
  });

  it('ignore names and paths: a renamed fragment or a moved tree with the same content is the same build', () => {
    const renamed: BuildIdentity = { ...base, fragments: base.fragments.map((f) => ({ ...f, name: `renamed-${f.name}` })) };
    expect(buildKey(renamed)).toBe(buildKey(base));
    const dirA: BuildIdentity = { ...base, source: { kind: 'dir', kernelVersion: '6.1.192', path: '/a/linux', fingerprint: 'git:abc:123' } };
    const dirB: BuildIdentity = { ...dirA, source: { ...dirA.source, path: '/b/linux' } };
    const dirEdited: BuildIdentity = { ...dirA, source: { ...dirA.source, fingerprint: 'git:abc:456' } };
    expect(buildKey(dirB)).toBe(buildKey(dirA));
    expect(buildKey(dirEdited)).not.toBe(buildKey(dirA));
  });

  it('go into the meta record capture writes, with the patch hashes', () => {
    const meta = buildMeta(patched);
    expect(meta).toMatchObject({ key: buildKey(patched), source: 'debian:linux-source-6.1=6.1.192-2', kernelVersion: '6.1.192', base: 'tinyconfig' });
    expect(meta.patches).toEqual([{ name: 'fix.patch', sha256: 'c'.repeat(64) }]);
  });
});
