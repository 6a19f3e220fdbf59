import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyOffsets, checkTableRelease, offsetKeys, offsetsFromLayouts, parsePahole } from '../src/fetch-offsets.js';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
// `pahole -C vm_fault,page,file,inode,vm_area_struct,address_space,kiocb,super_block vmlinux`
// on Debian's 6.1.0-56-amd64 (BTF).
const layouts = parsePahole(readFileSync(path.join(dir, 'pahole-6.1.0-56-amd64.txt'), 'utf8'));

describe('struct offsets from a BTF (pahole) dump', () => {
  it('reads members at any nesting depth, offsets from the outermost struct', () => {
    const t = offsetsFromLayouts(
      layouts,
      [
        'vm_fault.vma',
        'vm_fault.pgoff',
        'vm_fault.address',
        'vm_fault.flags',
        'vm_fault.page',
        'vm_area_struct.vm_pgoff',
        'vm_area_struct.vm_file',
        'file.f_inode',
        'file.f_mapping',
        'inode.i_sb',
        'inode.i_mapping',
        'inode.i_ino',
        'inode.i_size',
        'address_space.host',
        'address_space.nrpages',
        'page.flags',
        'page.mapping',
        'page.index',
        'page._mapcount',
        'page._refcount',
        'kiocb.ki_filp',
        'kiocb.ki_pos',
        'super_block.s_dev',
        'page',
      ],
      '6.1.0-56-amd64',
      'fixture',
    );
    // What pahole reads of this kernel (the fixture is its output).
    expect(t.offsets).toEqual({
      'vm_fault.vma': 0,
      'vm_fault.pgoff': 16,
      'vm_fault.address': 24,
      'vm_fault.flags': 40,
      'vm_fault.page': 80,
      'vm_area_struct.vm_pgoff': 104,
      'vm_area_struct.vm_file': 112,
      'file.f_inode': 32,
      'file.f_mapping': 216,
      'inode.i_sb': 40,
      'inode.i_mapping': 48,
      'inode.i_ino': 64,
      'inode.i_size': 80,
      'address_space.host': 0,
      'address_space.nrpages': 128,
      'page.flags': 0,
      'page.mapping': 24,
      'page.index': 32,
      'page._mapcount': 48,
      'page._refcount': 52,
      'kiocb.ki_filp': 0,
      'kiocb.ki_pos': 8,
      'super_block.s_dev': 16,
    });
    expect(t.sizes.page).toBe(64);
    expect(t.sizes.vm_fault).toBe(112);
  });

  it('names a member the kernel does not have, and a struct BTF does not list', () => {
    expect(() => offsetsFromLayouts(layouts, ['page.no_such'], 'r', 's')).toThrow(/struct page has no member no_such in kernel r/);
    expect(() => offsetsFromLayouts(layouts, ['folio.index'], 'r', 's')).toThrow(/struct folio is not in the BTF/);
  });

  it('fills {struct.member} placeholders of fetch expressions', () => {
    const t = offsetsFromLayouts(layouts, ['inode.i_ino', 'address_space.host', 'page.mapping'], 'r', 's');
    const expr = '+{inode.i_ino}(+{address_space.host}(+{page.mapping}($arg1))):u64';
    expect(offsetKeys(expr)).toEqual(['inode.i_ino', 'address_space.host', 'page.mapping']);
    expect(applyOffsets(expr, t, 'kprobe x')).toBe('+64(+0(+24($arg1))):u64');
    expect(() => applyOffsets('+{page.index}($arg1)', t, 'kprobe x')).toThrow(/kprobe x: no offset for page.index/);
  });

  it('refuses a declared table read from another release', () => {
    const t = { release: '6.1.0-55-amd64', source: 'x', offsets: {}, sizes: {} };
    expect(() => checkTableRelease(t, '6.1.0-56-amd64')).toThrow(/offsets table is for kernel 6.1.0-55-amd64, but the booted kernel is 6.1.0-56-amd64/);
    expect(() => checkTableRelease(t, '6.1.0-55-amd64')).not.toThrow();
  });
});
