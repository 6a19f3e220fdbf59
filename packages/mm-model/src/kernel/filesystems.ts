/**
 * A program refuses a file whose filesystem takes another kernel path than the one it models
 * (docs/flavors.md, sessions 18 and 41): an input error at the thread, instead of an answer for
 * code that filesystem never runs.
 */
import { ArgError, type Program } from '../program.js';
import type { FsKind } from '../env.js';
import type { Ctx } from '../ctx.js';

/** The filesystem of the step's `file` (the kernel takes per-filesystem paths: XFS's i_rwsem, shmem, large folios). */
export const fsOf = (c: Ctx): FsKind => c.env.files[c.num('file')]!.fs;

/** `p`, refusing a file (its `file` argument, or the file its `mm` maps) of a filesystem not in `kinds`. */
export function onFilesystems(flavor: string, name: string, p: Program, kinds: readonly FsKind[]): Program {
  return {
    ...p,
    start: (args, env) => {
      const l = p.start(args, env);
      const file = typeof l.file === 'number' ? l.file : typeof l.vma === 'number' ? env.vmas[l.vma]?.file : undefined;
      const fs = file === undefined ? undefined : env.files[file]?.fs;
      if (fs !== undefined && !kinds.includes(fs)) {
        throw new ArgError(
          'file' in args || !('mm' in args) ? 'file' : 'mm',
          `${flavor} models ${name} on ${kinds.join(', ')} files, not on ${fs} (the kernel takes another path there)${fs === 'hugetlbfs' ? ': hugetlb_fault, hugetlb_punch and migrate_hugetlb are the hugetlbfs programs' : fs === 'secretmem' ? ': secretmem_fault is the secretmem program' : ''}`,
        );
      }
      return l;
    },
  };
}
