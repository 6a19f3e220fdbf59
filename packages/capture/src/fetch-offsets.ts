/**
 * Struct member offsets for kprobe fetch arguments, for exactly the kernel being booted.
 *
 * 6.1 has no BTF-typed probe arguments, so a fetch like "vmf->vma->vm_file->f_inode->i_ino"
 * is written in a profile as `+{inode.i_ino}(+{file.f_inode}(+{vm_area_struct.vm_file}(+{vm_fault.vma}($arg1))))`
 * and the `{struct.member}` placeholders are filled from the kernel's own BTF (pahole on
 * its vmlinux) or from a declared table for that exact release — never from another build.
 */
import { z } from 'zod';
import { InputError } from '@kreplay/core';

export const OffsetsTableSchema = z
  .object({
    /** `uname -r` of the kernel these offsets were read from. */
    release: z.string().min(1),
    /** Where they came from (`pahole vmlinux`, `BTF of linux-image-…`). */
    source: z.string().min(1),
    /** `struct.member` → byte offset. */
    offsets: z.record(z.string().regex(/^\w+\.\w+$/), z.number().int().nonnegative()),
    /** `struct` → sizeof. */
    sizes: z.record(z.string().regex(/^\w+$/), z.number().int().positive()).default({}),
  })
  .strict();
export type OffsetsTable = z.infer<typeof OffsetsTableSchema>;

export interface StructLayout {
  size?: number;
  /** member → offset from the start of the outermost struct (first occurrence wins) */
  members: Map<string, number>;
}

/**
 * Parse `pahole -C a,b,c vmlinux` output. pahole prints members of anonymous nested
 * structs and unions with offsets from the start of the outermost struct, so every
 * `name; /* offset size *\/` line is a member at that offset, at any nesting depth.
 */
export function parsePahole(text: string): Map<string, StructLayout> {
  const out = new Map<string, StructLayout>();
  let current: StructLayout | undefined;
  let depth = 0;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (depth === 0) {
      const open = /^struct\s+(\w+)\s*\{$/.exec(line);
      if (open) {
        current = { members: new Map() };
        out.set(open[1], current);
        depth = 1;
      }
      continue;
    }
    if (!current) continue;
    const size = /^\/\*\s*size:\s*(\d+)/.exec(line);
    if (size && depth === 1) current.size = Number(size[1]);
    // `type name;  /* off size */`, `type name:3; /* off: bit size */`, `} name; /* off size */`
    const member = /([A-Za-z_]\w*)(?:\[[^\]]*\])*(?::\d+)?\s*;\s*\/\*\s*(\d+)(?::\s*\d+)?\s+\d+\s*\*\//.exec(line);
    if (member && !current.members.has(member[1])) current.members.set(member[1], Number(member[2]));
    const opens = (line.match(/\{/g) ?? []).length;
    const closes = (line.match(/\}/g) ?? []).length;
    depth += opens - closes;
    if (depth === 0) current = undefined;
  }
  return out;
}

/** Build an offsets table for the given `struct.member` keys from pahole's layouts. */
export function offsetsFromLayouts(layouts: Map<string, StructLayout>, keys: readonly string[], release: string, source: string): OffsetsTable {
  const table: OffsetsTable = { release, source, offsets: {}, sizes: {} };
  for (const key of [...new Set(keys)].sort()) {
    const [struct, member] = key.split('.');
    const layout = layouts.get(struct);
    if (!layout) {
      throw new InputError(`struct ${struct} is not in the BTF of kernel ${release}`, {
        hint: 'check the struct name in the profile (pahole -C NAME vmlinux lists it)',
      });
    }
    if (member === undefined) {
      if (layout.size === undefined) throw new InputError(`pahole printed no size for struct ${struct}`);
      table.sizes[struct] = layout.size;
      continue;
    }
    const off = layout.members.get(member);
    if (off === undefined) {
      throw new InputError(`struct ${struct} has no member ${member} in kernel ${release}`, {
        hint: `members: ${[...layout.members.keys()].join(', ')}`,
      });
    }
    table.offsets[key] = off;
    if (layout.size !== undefined) table.sizes[struct] = layout.size;
  }
  return table;
}

const PLACEHOLDER = /\{(\w+)\.(\w+)\}/g;

/** The `struct.member` keys a fetch expression refers to. */
export function offsetKeys(expr: string): string[] {
  return [...expr.matchAll(PLACEHOLDER)].map((m) => `${m[1]}.${m[2]}`);
}

/** Replace `{struct.member}` by its offset from the table; a missing key is an input error. */
export function applyOffsets(expr: string, table: OffsetsTable, where: string): string {
  return expr.replace(PLACEHOLDER, (_all, s: string, m: string) => {
    const off = table.offsets[`${s}.${m}`];
    if (off === undefined) {
      throw new InputError(`${where}: no offset for ${s}.${m} in the table for ${table.release}`, {
        hint: "derive offsets from the kernel's BTF (omit the offsets table) or add the member to the table",
      });
    }
    return String(off);
  });
}

/** A declared table is only valid for the release it was read from. */
export function checkTableRelease(table: OffsetsTable, release: string, file?: string): void {
  if (table.release !== release) {
    throw new InputError(`offsets table is for kernel ${table.release}, but the booted kernel is ${release}`, {
      file,
      hint: "struct layouts differ between builds: derive offsets from this kernel's BTF instead",
    });
  }
}
