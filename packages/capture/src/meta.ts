/**
 * meta.json as `kreplay capture` writes it: everything about how a trace was captured, next
 * to it, so a trace can be replayed and compared without guessing. The strict schema of the
 * capture side of the contract in @kreplay/core (contracts/meta.ts): core's reader reads
 * what this writes (test: capture's meta round trip).
 */
import { z } from 'zod';
import { META_SCHEMA_ID, ProbeMapSchema } from '@kreplay/core';
import { CaptureProfileSchema } from './profile.js';
import { OffsetsTableSchema } from './fetch-offsets.js';

const LogFindingSchema = z
  .object({
    kind: z.enum(['panic', 'oops', 'bug', 'bad-page-cache', 'warn', 'hung-task', 'rcu-stall']),
    line: z.number().int().positive(),
    text: z.string(),
  })
  .strict();

const CpuStatsSchema = z
  .object({
    cpu: z.number().int().nonnegative(),
    entries: z.number().int().nonnegative(),
    overrun: z.number().int().nonnegative(),
    commitOverrun: z.number().int().nonnegative(),
    dropped: z.number().int().nonnegative(),
    readEvents: z.number().int().nonnegative(),
    bytes: z.number().int().nonnegative(),
  })
  .strict();

export const CaptureMetaSchema = z
  .object({
    schema: z.literal(META_SCHEMA_ID),
    kernel: z
      .object({
        /** `uname -r` inside the guest. */
        release: z.string(),
        /** `debian:<package>=<version>` or `path:<image>`. */
        source: z.string(),
        image: z.string(),
        /** What QEMU booted: the image itself, or its vmlinux through the PVH entry. */
        booted: z.enum(['image', 'vmlinux (PVH)']).optional(),
        configFragment: z.string().nullable(),
        patches: z.array(z.string()),
        cmdline: z.string(),
      })
      .strict(),
    profile: z
      .object({
        file: z.string().nullable(),
        resolved: CaptureProfileSchema,
        /** kprobe_events as the kernel read it back. */
        kprobeEvents: z.array(z.string()),
      })
      .strict(),
    offsets: OffsetsTableSchema,
    /**
     * The booted kernel's `events/<system>/<event>/format` of each tracepoint the profile
     * enabled, by `system:event` (absent in metas written before formats were kept).
     */
    tracepointFormats: z.record(z.string(), z.string()).optional(),
    /** What each traced probe means to replay (same schema as `kreplay replay --probes`). */
    probes: ProbeMapSchema,
    vmemmapBase: z.string().nullable(),
    faultAroundBytes: z.number().int().nullable(),
    workload: z
      .object({
        name: z.string(),
        durationMs: z.number().int().positive(),
        filePages: z.number().int().positive(),
        testFile: z.object({ path: z.string(), ino: z.number().int(), dev: z.string() }).strict(),
        exitCode: z.number().int().nullable(),
        result: z.record(z.string(), z.union([z.number(), z.string()])),
      })
      .strict(),
    run: z.object({ index: z.number().int().positive(), of: z.number().int().positive() }).strict(),
    accel: z.object({ requested: z.enum(['auto', 'kvm', 'tcg']), used: z.enum(['kvm', 'tcg']), note: z.string() }).strict(),
    qemu: z.object({ version: z.string(), smp: z.number().int(), memMb: z.number().int() }).strict(),
    buffer: z
      .object({
        sizeKb: z.number().int(),
        clock: z.string(),
        perCpu: z.array(CpuStatsSchema),
        /** Events lost to ring-buffer overruns, summed over CPUs. */
        lost: z.number().int().nonnegative(),
        /** Per kprobe of the run: hits and misses (kprobe_profile). */
        kprobes: z.array(z.object({ event: z.string(), hits: z.number().int().nonnegative(), misses: z.number().int().nonnegative() }).strict()),
        /** Probe hits the kernel could not record, summed over kprobes. */
        probeMisses: z.number().int().nonnegative(),
        allowLost: z.boolean(),
      })
      .strict(),
    trace: z
      .object({
        file: z.string(),
        bytes: z.number().int().nonnegative(),
        gzipBytes: z.number().int().nonnegative(),
        events: z.number().int().nonnegative(),
        /** Consecutive events of different CPUs with equal timestamps (their true order is unknown). */
        crossCpuTies: z.number().int().nonnegative(),
        sha256: z.string(),
        traceDat: z.string().nullable(),
      })
      .strict(),
    kernelLog: z.object({ file: z.string(), findings: z.array(LogFindingSchema) }).strict(),
    /** Wall-clock milliseconds per capture phase (host clock; guest phases from console timestamps). */
    timings: z.record(z.string(), z.number().nonnegative()),
    kreplay: z.object({ version: z.string() }).strict(),
  })
  .strict();
export type CaptureMeta = z.infer<typeof CaptureMetaSchema>;
