import { describe, expect, it } from '@jest/globals';
import { isCompileStep, parseKbuildStep, summarizeBuildFailure } from '../src/index.js';

describe('kbuild output', () => {
  it('recognises compile steps for progress', () => {
    expect(parseKbuildStep('  CC      mm/filemap.o')).toEqual({ verb: 'CC', target: 'mm/filemap.o' });
    expect(parseKbuildStep('  CC [M]  fs/9p/vfs_file.o')).toEqual({ verb: 'CC [M]', target: 'fs/9p/vfs_file.o' });
    expect(isCompileStep(parseKbuildStep('  LD      vmlinux')!)).toBe(false);
    expect(parseKbuildStep('mm/filemap.c:3280:5: error: x')).toBeUndefined();
  });

  it('quotes the first compiler error with its file and line, and its function context', () => {
    const out = [
      '  CC      mm/truncate.o',
      'mm/filemap.c: In function ‘filemap_fault’:',
      'mm/filemap.c:3280:13: error: ‘foliox’ undeclared (first use in this function); did you mean ‘folio’?',
      ' 3280 |         if (foliox->mapping != mapping) {',
      '      |             ^~~~~~',
      'mm/filemap.c:3290:1: error: second error',
      'make[2]: *** [scripts/Makefile.build:250: mm/filemap.o] Error 1',
    ];
    const f = summarizeBuildFailure(out);
    expect(f).toMatchObject({ file: 'mm/filemap.c', line: 3280 });
    expect(f.quote[0]).toContain('In function');
    expect(f.quote[1]).toContain('‘foliox’ undeclared');
    expect(f.quote.join('\n')).not.toContain('make[2]');
    expect(f.environment).toBeUndefined();
  });

  it('blames the machine for a missing header or tool, naming the package', () => {
    expect(summarizeBuildFailure(['tools/objtool/elf.c:10:10: fatal error: gelf.h: No such file or directory']).environment).toBe('libelf-dev');
    expect(summarizeBuildFailure(['/bin/sh: 1: flex: not found']).environment).toBe('flex');
    expect(summarizeBuildFailure(['scripts/sign-file.c:25:10: fatal error: openssl/opensslv.h: No such file or directory']).environment).toBe('libssl-dev');
  });

  it("falls back to linker errors, then to make's own error lines", () => {
    expect(summarizeBuildFailure(["ld: mm/filemap.o: in function `x':", "filemap.c:(.text+0x1): undefined reference to `y'"]).quote).toEqual([
      "filemap.c:(.text+0x1): undefined reference to `y'",
    ]);
    const f = summarizeBuildFailure(['something odd', 'make: *** [Makefile:1234: vmlinux] Error 2']);
    expect(f.quote).toContain('make: *** [Makefile:1234: vmlinux] Error 2');
  });
});
