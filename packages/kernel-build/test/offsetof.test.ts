import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { compileCommandFrom, deriveOffsets, offsetsSource, parseOffsetsAsm, PROBED_FIELDS } from '../src/index.js';
import { makeFakeTree } from './fake-tree.js';
import { describeWithTools, TOOLS } from '../../../test-support/tools.js';

const CMD_6_1 = `cmd_mm/filemap.o := gcc -Wp,-MMD,mm/.filemap.o.d -nostdinc -I./arch/x86/include -I./include -include ./include/linux/kconfig.h -D__KERNEL__ -O2    -DKBUILD_MODFILE='"mm/filemap"' -DKBUILD_BASENAME='"filemap"' -DKBUILD_MODNAME='"filemap"' -D__KBUILD_MODNAME=kmod_filemap -c -o mm/filemap.o mm/filemap.c   ; ./tools/objtool/objtool --orc   mm/filemap.o

source_mm/filemap.o := mm/filemap.c
`;

describe('struct offsets by offsetof()', () => {
  it('generates one marker per struct size and per probed field', () => {
    const src = offsetsSource();
    for (const [s, fields] of Object.entries(PROBED_FIELDS)) {
      expect(src).toContain(`KREPLAY_VALUE("${s}.__size", sizeof(struct ${s}));`);
      for (const f of fields) expect(src).toContain(`KREPLAY_VALUE("${s}.${f}", offsetof(struct ${s}, ${f}));`);
    }
  });

  it("reuses kbuild's own flags for mm/filemap.o, compiling to assembly instead, without its dependency file or objtool", () => {
    const cmd = compileCommandFrom(CMD_6_1, 'mm/filemap.o', '/w/o.c', '/w/o.s');
    expect(cmd).toBe("gcc -nostdinc -I./arch/x86/include -I./include -include ./include/linux/kconfig.h -D__KERNEL__ -O2    -S -o '/w/o.s' '/w/o.c'");
    expect(compileCommandFrom(CMD_6_1.replace('cmd_', 'savedcmd_'), 'mm/filemap.o', 'i.c', 'o.s')).toContain('-S -o');
    expect(() => compileCommandFrom('source_x := y\n', 'mm/filemap.o', 'i.c', 'o.s')).toThrow(/no compile command/);
  });

  it('reads markers back, sorted, with 64-bit constants as hex', () => {
    const asm =
      '\t.ascii "->vm_fault.pgoff $16"\n#APP\n.ascii "->page.__size 64"\n.ascii "->vm_fault.vma $0"\n.ascii "->const.VMEMMAP_BASE_L4 $-24189255811072"\n.ascii "->const.PAGE_SIZE $4096"\n';
    expect(parseOffsetsAsm(asm)).toEqual({
      offsets: { 'vm_fault.pgoff': 16, 'vm_fault.vma': 0 },
      sizes: { page: 64 },
      constants: { PAGE_SIZE: 4096, VMEMMAP_BASE_L4: '0xffffea0000000000' },
    });
  });

  describeWithTools([TOOLS.gcc], 'against a tree (fake headers, real gcc)', () => {
    let tree: string;
    beforeAll(async () => {
      tree = await makeFakeTree();
      await fs.writeFile(
        path.join(tree, 'mm/.filemap.o.cmd'),
        'cmd_mm/filemap.o := gcc -Wp,-MMD,mm/.filemap.o.d -I./include -c -o mm/filemap.o mm/filemap.c\n',
      );
    });
    afterAll(async () => {
      await fs.rm(tree, { recursive: true, force: true });
    });

    it("gives the compiler's layout of every probed struct", async () => {
      const t = await deriveOffsets(tree, path.join(tree, 'work'));
      expect(t.offsets['vm_fault.vma']).toBe(0);
      expect(t.offsets['vm_fault.pgoff']).toBe(16);
      expect(t.offsets['vm_fault.page']).toBe(72);
      expect(t.offsets['vm_area_struct.vm_flags']).toBe(40);
      expect(t.offsets['inode.i_ino']).toBe(64);
      expect(t.offsets['file.f_mapping']).toBe(216);
      expect(t.offsets['page._refcount']).toBe(52);
      expect(t.sizes.page).toBe(64);
      expect(t.constants).toEqual({ PAGE_SIZE: 4096, VMEMMAP_BASE_L4: '0xffffea0000000000' });
      expect(Object.keys(t.offsets)).toHaveLength(Object.values(PROBED_FIELDS).flat().length);
    });

    it('quotes the compiler when a probed field does not exist in this kernel', async () => {
      const mm = path.join(tree, 'include/linux/mm.h');
      await fs.writeFile(mm, (await fs.readFile(mm, 'utf8')).replace('int _mapcount; int _refcount; unsigned long memcg;', 'int _refcount;'));
      await expect(deriveOffsets(tree, path.join(tree, 'work'))).rejects.toThrow(/no member named '_mapcount'/);
    });
  });
});
