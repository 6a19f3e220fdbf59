import { describe, expect, it } from '@jest/globals';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import {
  effectiveRequests,
  explainLoss,
  findDefinitions,
  findLostOptions,
  mergeConfig,
  parseConfigFragment,
  parseDotConfig,
  scanKconfig,
} from '../src/index.js';
import { FAKE_KCONFIG, makeFakeTree } from './fake-tree.js';

describe('config fragments', () => {
  it('reads assignments, "is not set" lines and =n, skipping comments', () => {
    const f = parseConfigFragment('# a comment\nCONFIG_A=y\n\n# CONFIG_B is not set\nCONFIG_C=n\nCONFIG_D="x y"\nCONFIG_E=0x10\n', 'frag.config');
    expect(f.requests.map((r) => [r.symbol, r.value, r.line])).toEqual([
      ['A', 'y', 2],
      ['B', null, 4],
      ['C', null, 5],
      ['D', '"x y"', 6],
      ['E', '0x10', 7],
    ]);
  });

  it('rejects a line that is not Kconfig, naming file and line', () => {
    expect(() => parseConfigFragment('CONFIG_A=y\nKPROBES=y\n', 'k.config')).toThrow(
      expect.objectContaining({ name: 'InputError', file: 'k.config', line: 2 }),
    );
    expect(() => parseConfigFragment('CONFIG_A=yes\n', 'k.config')).toThrow(/value Kconfig cannot take/);
  });

  it.each([
    ['empty (0 bytes)', '', 'it is empty'],
    ['blank lines', '\n  \n\n', 'it is empty'],
    ['comments only', '# kreplay options go here\n\n# CONFIG_A=y is a comment, not an "is not set" line\n', 'it holds only comments and blank lines'],
  ])('refuses a fragment that asks for no option (%s), naming the file', (_what, text, why) => {
    expect(() => parseConfigFragment(text, 'k.config')).toThrow(
      expect.objectContaining({
        name: 'InputError',
        file: 'k.config',
        message: `the config fragment asks for no kernel option: ${why}`,
        hint: expect.stringContaining('or leave this --config-fragment out'),
      }),
    );
  });

  it('rejects one symbol set twice to different values in one fragment', () => {
    expect(() => parseConfigFragment('CONFIG_A=y\nCONFIG_A=m\n', 'k.config')).toThrow(
      expect.objectContaining({ line: 2, message: expect.stringMatching(/set twice.*line 1/) }),
    );
  });

  it('lets a later fragment override an earlier one', () => {
    const a = parseConfigFragment('CONFIG_A=y\nCONFIG_B=y\n', 'a.config');
    const b = parseConfigFragment('# CONFIG_A is not set\n', 'b.config');
    expect(effectiveRequests([a, b]).map((r) => [r.symbol, r.value, r.file])).toEqual([
      ['B', 'y', 'a.config'],
      ['A', null, 'b.config'],
    ]);
  });
});

describe('merging onto a base config', () => {
  it('drops the base lines of requested symbols and appends the requests, so a requested choice member is read last', () => {
    const base = '# CONFIG_CC_OPTIMIZE_FOR_PERFORMANCE is not set\nCONFIG_CC_OPTIMIZE_FOR_SIZE=y\nCONFIG_KEEP=y\n';
    const req = parseConfigFragment('CONFIG_CC_OPTIMIZE_FOR_PERFORMANCE=y\n', 'f.config').requests;
    const merged = mergeConfig(base, req);
    expect(merged).toBe('CONFIG_CC_OPTIMIZE_FOR_SIZE=y\nCONFIG_KEEP=y\nCONFIG_CC_OPTIMIZE_FOR_PERFORMANCE=y\n');
    expect(parseDotConfig(merged).get('CONFIG_KEEP')).toBeUndefined();
    expect(parseDotConfig(merged).get('KEEP')).toBe('y');
  });
});

describe('verifying that requested options survived olddefconfig', () => {
  const requests = effectiveRequests([parseConfigFragment('CONFIG_A=y\nCONFIG_B=m\n# CONFIG_C is not set\nCONFIG_D=8\n', 'f.config')]);

  it('accepts a final config with every requested value (unset may also be absent)', () => {
    expect(findLostOptions(requests, parseDotConfig('CONFIG_A=y\nCONFIG_B=m\nCONFIG_D=8\n'))).toEqual([]);
  });

  it('reports each option that changed or vanished, with the line that asked for it', () => {
    const lost = findLostOptions(requests, parseDotConfig('CONFIG_B=y\nCONFIG_C=y\nCONFIG_D=8\n'));
    expect(lost.map((l) => [l.request.symbol, l.request.line, l.actual])).toEqual([
      ['A', 1, undefined],
      ['B', 2, 'y'],
      ['C', 3, 'y'],
    ]);
  });
});

describe('explaining a lost option from the Kconfig files', () => {
  const final = parseDotConfig('# CONFIG_DEP is not set\nCONFIG_FLAVOUR_A=y\n');

  it('names the unmet dependency, ignoring "depends on" inside help text', () => {
    const defs = scanKconfig(FAKE_KCONFIG, 'Kconfig');
    const dep = defs.find((d) => d.symbol === 'DEP')!;
    expect(dep.depends).toEqual([]);
    expect(
      explainLoss(
        'NEEDS_DEP',
        defs.filter((d) => d.symbol === 'NEEDS_DEP'),
        final,
      ),
    ).toBe('Kconfig:7: depends on (DEP) — unmet: DEP is not set');
  });

  it('says when a symbol is a choice member, has no prompt, or is not defined at all', () => {
    const defs = scanKconfig(FAKE_KCONFIG, 'Kconfig');
    expect(
      explainLoss(
        'FLAVOUR_B',
        defs.filter((d) => d.symbol === 'FLAVOUR_B'),
        final,
      ),
    ).toMatch(/one member of a choice/);
    const noPrompt = scanKconfig('config SELECTED_ONLY\n\tbool\n', 'x/Kconfig');
    expect(explainLoss('SELECTED_ONLY', noPrompt, final)).toMatch(/no prompt, so only a `select`/);
    expect(explainLoss('TYPO', undefined, final)).toMatch(/no Kconfig file in this tree defines TYPO/);
  });

  it('adds the conditions of enclosing if blocks and menus', () => {
    const text = 'menu "Net"\n\tdepends on NET\nif INET\nconfig P9\n\ttristate "9p"\n\tdepends on NET_9P\nendif\nendmenu\nconfig OUTSIDE\n\tbool "o"\n';
    const defs = scanKconfig(text, 'fs/Kconfig');
    expect(defs.find((d) => d.symbol === 'P9')!.depends).toEqual(['NET_9P', 'NET', 'INET']);
    expect(defs.find((d) => d.symbol === 'OUTSIDE')!.depends).toEqual([]);
  });

  it("finds definitions across a tree's Kconfig files", async () => {
    const tree = await makeFakeTree();
    await fs.mkdir(path.join(tree, 'fs/9p'), { recursive: true });
    await fs.writeFile(path.join(tree, 'fs/9p/Kconfig'), 'config 9P_FS\n\ttristate "9p"\n\tdepends on INET && NET_9P\n');
    const found = await findDefinitions(tree, new Set(['9P_FS', 'NEEDS_DEP', 'ABSENT']));
    expect(found.get('9P_FS')?.map((d) => `${d.file}:${d.line}`)).toEqual(['fs/9p/Kconfig:1']);
    expect(found.get('NEEDS_DEP')).toHaveLength(1);
    expect(found.has('ABSENT')).toBe(false);
    await fs.rm(tree, { recursive: true, force: true });
  });
});
