/**
 * The ELF and image headers capture reads from the user's files (--kernel, the vmlinux beside it,
 * busybox): a file that is not what it should be, or is corrupt, is an answer ("not an image", "no
 * PVH note", "not static"), never a crash or a hang.
 */
import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InputError } from '@kreplay/core';
import { userKernel } from '../src/kernel.js';
import { hasPvhNote, isStaticElf } from '../src/tools.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'kreplay-elf-'));
let n = 0;
function file(data: Buffer): string {
  const p = path.join(tmp, `f${n++}`);
  writeFileSync(p, data);
  return p;
}

interface Seg {
  type: number;
  data: Buffer;
}

/** An ELF64 little-endian file: its program headers (56 bytes each, or `phentsize`) right after the header, each segment's bytes after them. */
function elf(segs: Seg[], over: { phentsize?: number; phoff?: bigint; cls?: number } = {}): Buffer {
  const phentsize = over.phentsize ?? 56;
  const head = Buffer.alloc(64);
  head.writeUInt32BE(0x7f454c46, 0);
  head[4] = over.cls ?? 2;
  head[5] = 1;
  head.writeBigUInt64LE(over.phoff ?? 64n, 32);
  head.writeUInt16LE(phentsize, 54);
  head.writeUInt16LE(segs.length, 56);
  const ph = Buffer.alloc(Math.max(phentsize, 56) * segs.length);
  let at = 64 + ph.length;
  segs.forEach((s, i) => {
    const p = i * phentsize;
    if (p + 56 > ph.length) return;
    ph.writeUInt32LE(s.type, p);
    ph.writeBigUInt64LE(BigInt(at), p + 8);
    ph.writeBigUInt64LE(BigInt(s.data.length), p + 32);
    at += s.data.length;
  });
  return Buffer.concat([head, ph, ...segs.map((s) => s.data)]);
}

/** One ELF note: namesz, descsz, type, the name (NUL-terminated, padded to 4) and a 4-byte desc. */
function note(name: string, type: number, namesz = name.length + 1): Buffer {
  const b = Buffer.alloc(12 + Math.ceil((name.length + 1) / 4) * 4 + 4);
  b.writeUInt32LE(namesz, 0);
  b.writeUInt32LE(4, 4);
  b.writeUInt32LE(type, 8);
  b.write(name, 12, 'latin1');
  return b;
}

const PT_INTERP = 3;
const PT_NOTE = 4;
const PT_LOAD = 1;

describe('hasPvhNote', () => {
  it('finds Xen note 18 (XEN_ELFNOTE_PHYS32_ENTRY) among other notes, and nothing else passes for it', async () => {
    expect(
      await hasPvhNote(
        file(
          elf([
            { type: PT_LOAD, data: Buffer.alloc(8) },
            { type: PT_NOTE, data: Buffer.concat([note('GNU', 3), note('Xen', 18)]) },
          ]),
        ),
      ),
    ).toBe(true);
    expect(await hasPvhNote(file(elf([{ type: PT_NOTE, data: Buffer.concat([note('Xen', 17), note('GNU', 18)]) }])))).toBe(false);
    expect(await hasPvhNote(file(elf([{ type: PT_LOAD, data: note('Xen', 18) }])))).toBe(false);
  });

  it('says no, without throwing or looping, for files whose headers do not hold together', async () => {
    const cases: Buffer[] = [
      Buffer.alloc(0),
      Buffer.from('\x7fELF'),
      Buffer.from('not an elf at all, but long enough to hold a header of sixty-four bytes'),
      elf([{ type: PT_NOTE, data: note('Xen', 18) }], { cls: 1 }), // ELF32: not read
      elf([{ type: PT_NOTE, data: note('Xen', 18) }], { phentsize: 4 }), // entries too small to hold a program header
      elf([{ type: PT_NOTE, data: note('Xen', 18) }], { phoff: 1n << 60n }), // headers past any file
      elf([{ type: PT_NOTE, data: note('Xen', 18) }], { phoff: 1n << 20n }), // headers past this file's end
      elf([{ type: PT_NOTE, data: note('Xen', 18, 0x80000000) }]), // a name size that wraps a 32-bit sum
      elf([{ type: PT_NOTE, data: note('Xen', 18, 0xffffffff) }]),
      elf([{ type: PT_NOTE, data: note('Xen', 18).subarray(0, 14) }]), // the note cut inside its name
    ];
    for (const c of cases) expect(await hasPvhNote(file(c))).toBe(false);
    // a segment whose size runs past the end of the file: read as far as the file goes
    const past = elf([{ type: PT_NOTE, data: note('Xen', 18) }]);
    past.writeBigUInt64LE(1n << 62n, 64 + 32);
    expect(await hasPvhNote(file(past))).toBe(true);
  });
});

describe('isStaticElf', () => {
  it('is true without PT_INTERP, false with it, and false for what is not a readable ELF64', async () => {
    expect(await isStaticElf(file(elf([{ type: PT_LOAD, data: Buffer.alloc(8) }])))).toBe(true);
    expect(
      await isStaticElf(
        file(
          elf([
            { type: PT_LOAD, data: Buffer.alloc(8) },
            { type: PT_INTERP, data: Buffer.from('/lib/ld.so\0') },
          ]),
        ),
      ),
    ).toBe(false);
    expect(await isStaticElf(process.execPath)).toBe(false); // node itself is dynamically linked
    expect(await isStaticElf(file(Buffer.from('#!/bin/sh\n')))).toBe(false);
    expect(await isStaticElf(file(elf([{ type: PT_LOAD, data: Buffer.alloc(8) }], { phentsize: 8 })))).toBe(false);
  });
});

describe('userKernel (--kernel PATH)', () => {
  it('says a file too short to be an image is not one (exit 2), not an internal error', async () => {
    for (const data of [Buffer.alloc(0), Buffer.from('x\n'), Buffer.from('\x7fEL')]) {
      const p = file(data);
      const e = await userKernel(p).catch((err: unknown) => err);
      expect(e).toBeInstanceOf(InputError);
      expect((e as InputError).message).toMatch(/not an x86 bzImage or vmlinux/);
    }
  });
});
