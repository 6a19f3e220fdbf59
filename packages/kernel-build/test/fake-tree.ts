/**
 * A fake kernel tree for kernel-build tests: no kernel, no network. Its Makefile has the
 * targets kreplay runs (tinyconfig, defconfig, olddefconfig, bzImage, modules,
 * modules_install) and behaves like kbuild where kreplay depends on it:
 * - olddefconfig drops CONFIG_NEEDS_DEP unless CONFIG_DEP=y (a Kconfig dependency) and
 *   drops symbols no Kconfig defines;
 * - bzImage "compiles" mm/filemap.c (printing "  CC      mm/filemap.o" like kbuild),
 *   fails with the compiler's own error when filemap.c contains BROKEN, writes
 *   mm/.filemap.o.cmd with a real gcc command against fake headers (for the offsets
 *   step), and writes vmlinux, bzImage, System.map and include/config/kernel.release.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const FAKE_MAKEFILE = `VERSION = 6
PATCHLEVEL = 1
SUBLEVEL = 192
EXTRAVERSION =
LOCALVERSION ?=

tinyconfig:
\tcp base.config .config
defconfig:
\tcp base.config .config
\techo CONFIG_DEFCONFIG_ONLY=y >> .config
olddefconfig:
\t@sh ./olddefconfig.sh

bzImage:
\t@echo "  CC      mm/filemap.o"
\t@gcc -I./include -c -o mm/filemap.o mm/filemap.c
\t@echo "cmd_mm/filemap.o := gcc -Wp,-MMD,mm/.filemap.o.d -I./include -DKBUILD_MODFILE='\\"mm/filemap\\"' -c -o mm/filemap.o mm/filemap.c   ; true" > mm/.filemap.o.cmd
\t@mkdir -p include/config arch/x86/boot
\t@echo "$(VERSION).$(PATCHLEVEL).$(SUBLEVEL)$(LOCALVERSION)" > include/config/kernel.release
\t@cp mm/filemap.o vmlinux
\t@cp mm/filemap.o arch/x86/boot/bzImage
\t@echo "ffffffff81000000 T _text" > System.map
\t@echo "Kernel: arch/x86/boot/bzImage is ready"
modules:
\t@echo "  CC [M]  drivers/fake.o"
modules_install:
\t@mkdir -p $(INSTALL_MOD_PATH)/lib/modules/fake && echo fake > $(INSTALL_MOD_PATH)/lib/modules/fake/modules.dep
`;

/** olddefconfig: keep the last assignment of each symbol, then apply the rules above. */
const OLDDEFCONFIG = `#!/bin/sh
awk '
  /^CONFIG_[A-Za-z0-9_]+=/ { s = $0; sub(/=.*/, "", s); v[s] = $0; if (!(s in seen)) { seen[s] = 1; order[++n] = s } next }
  /^# CONFIG_[A-Za-z0-9_]+ is not set/ { s = $2; v[s] = $0; if (!(s in seen)) { seen[s] = 1; order[++n] = s } next }
  END {
    for (i = 1; i <= n; i++) { s = order[i]; if (s == "CONFIG_NEEDS_DEP" && v["CONFIG_DEP"] != "CONFIG_DEP=y") continue; if (s == "CONFIG_NO_SUCH_OPTION") continue; print v[s] }
  }' .config > .config.new && mv .config.new .config
`;

export const FAKE_KCONFIG = `config DEP
	bool "a dependency"
	help
	  Some help text that mentions
	  depends on something that is not a dependency.

config NEEDS_DEP
	bool "needs DEP"
	depends on DEP

config DEFCONFIG_ONLY
	bool "set by defconfig"

config THING
	int "a number"

choice
	prompt "flavour"
config FLAVOUR_A
	bool "a"
config FLAVOUR_B
	bool "b"
endchoice
`;

export const FAKE_FILEMAP = `#include <linux/mm.h>
int filemap_fault(struct vm_fault *vmf)
{
	/* Did it get truncated? */
	if (vmf->pgoff != 0)
		return 1;
	return 0;
}
`;

/** Fake headers: the structs capture probes, with layouts a test can predict. */
export const FAKE_MM_H = `#ifndef FAKE_MM_H
#define FAKE_MM_H
#define PAGE_SIZE 4096UL
#define __VMEMMAP_BASE_L4 0xffffea0000000000UL
struct vm_area_struct { unsigned long vm_start, vm_end; void *vm_mm; unsigned long vm_pgoff; struct file *vm_file; unsigned long vm_flags; };
struct vm_fault { struct vm_area_struct *vma; unsigned int gfp_mask; unsigned long pgoff; unsigned long address; unsigned int flags; void *pmd; void *pud; void *orig_pte; void *cow_page; struct page *page; };
struct page { unsigned long flags; void *lru[2]; struct address_space *mapping; unsigned long index; unsigned long private; int _mapcount; int _refcount; unsigned long memcg; };
struct folio { unsigned long flags; void *lru[2]; struct address_space *mapping; unsigned long index; void *private; int _mapcount; int _refcount; };
struct address_space { struct inode *host; char pad[120]; unsigned long nrpages; };
struct kiocb { struct file *ki_filp; long long ki_pos; };
#endif
`;

export const FAKE_FS_H = `#ifndef FAKE_FS_H
#define FAKE_FS_H
struct super_block { char pad[16]; unsigned int s_dev; };
struct inode { char pad[40]; struct super_block *i_sb; struct address_space *i_mapping; char pad2[8]; unsigned long i_ino; char pad3[8]; long long i_size; };
struct file { char pad[32]; struct inode *f_inode; char pad2[176]; struct address_space *f_mapping; };
#endif
`;

export async function makeFakeTree(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kreplay-fake-linux-'));
  const files: Record<string, string> = {
    'Makefile': FAKE_MAKEFILE,
    'Kconfig': FAKE_KCONFIG,
    'olddefconfig.sh': OLDDEFCONFIG,
    'base.config': '# base\nCONFIG_BASE=y\n# CONFIG_DEP is not set\nCONFIG_FLAVOUR_A=y\n',
    'mm/filemap.c': FAKE_FILEMAP,
    'include/linux/stddef.h': '#include <stddef.h>\n',
    'include/linux/mm.h': FAKE_MM_H,
    'include/linux/fs.h': FAKE_FS_H,
  };
  for (const [rel, text] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await fs.writeFile(path.join(dir, rel), text);
  }
  return dir;
}

/** A unified diff against the fake tree's mm/filemap.c. */
export const FAKE_PATCH = `Drop the check (a test patch).

--- a/mm/filemap.c
+++ b/mm/filemap.c
@@ -2,7 +2,6 @@
 int filemap_fault(struct vm_fault *vmf)
 {
 	/* Did it get truncated? */
-	if (vmf->pgoff != 0)
-		return 1;
+	(void)vmf;
 	return 0;
 }
`;
