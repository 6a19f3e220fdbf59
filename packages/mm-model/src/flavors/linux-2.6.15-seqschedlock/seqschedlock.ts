/**
 * include/linux/seqschedlock.h from the seed patch (the CONFIG_SMP variants), as steps:
 * every atomic_read/atomic_inc/atomic_dec is one step, and each smp_rmb()/smp_wmb() in the
 * header is a step boundary. Each access carries its LKMM kind and the fences around it
 * (`lk`, cited by the header's line), which `explore --memory-model lkmm` turns into litmus tests.
 */
import type { Ctx } from '../../ctx.js';
import { lk, r, w, type StepDef } from '../../program.js';

export const SEQSCHEDLOCK_SUCCESS = 0;
export const SEQSCHEDLOCK_WRITER_RACE = 1;
export const SEQSCHEDLOCK_WRITER_RUNNING = 2;
const WHERE = 'include/linux/seqschedlock.h';
/** A line of the seed patch's include/linux/seqschedlock.h (the header starts at line 226 of the posted text). */
const SEED = (line: number): string => `${WHERE}:${line} (seed patch, docs/seed/2005-12-13-arcangeli-seqschedlock.txt:${line + 225})`;

const writersLoc = (c: Ctx) => `${c.M(c.num('file'))}.seqschedlock.writers`;
const sequenceLoc = (c: Ctx) => `${c.M(c.num('file'))}.seqschedlock.sequence`;

/** write_seqschedlock(): atomic_inc(&sl->writers); smp_wmb(). */
export function writeSeqschedlock(next: string): StepDef {
  return {
    label: 'write_seqschedlock(&mapping->invalidate_lock): atomic_inc(&sl->writers); smp_wmb()',
    where: `${WHERE} write_seqschedlock()`,
    acc: (c) => [lk(w(writersLoc(c)), 'atomic_inc', c.map(c.num('file')).sslWriters, SEED(41), { after: ['smp_wmb'] })],
    run: (c) => {
      const m = c.map(c.num('file'));
      c.updMap(c.num('file'), { sslWriters: m.sslWriters + 1 }, `seqschedlock.writers ${m.sslWriters}→${m.sslWriters + 1}`);
      c.goto(next);
    },
  };
}

/** write_seqschedunlock(): smp_wmb(); atomic_inc(&sl->sequence); smp_wmb(); atomic_dec(&sl->writers). */
export function writeSeqschedunlock(prefix: string, next: string): Record<string, StepDef> {
  return {
    [`${prefix}1`]: {
      label: 'write_seqschedunlock(&mapping->invalidate_lock): smp_wmb(); atomic_inc(&sl->sequence)',
      where: `${WHERE} write_seqschedunlock()`,
      acc: (c) => [lk(w(sequenceLoc(c)), 'atomic_inc', c.map(c.num('file')).sslSequence, SEED(48), { before: ['smp_wmb'], after: ['smp_wmb'] })],
      run: (c) => {
        const m = c.map(c.num('file'));
        c.updMap(c.num('file'), { sslSequence: m.sslSequence + 1 }, `seqschedlock.sequence ${m.sslSequence}→${m.sslSequence + 1}`);
        c.goto(`${prefix}2`);
      },
    },
    [`${prefix}2`]: {
      label: 'write_seqschedunlock: smp_wmb(); atomic_dec(&sl->writers)',
      where: `${WHERE} write_seqschedunlock()`,
      acc: (c) => [lk(w(writersLoc(c)), 'atomic_dec', c.map(c.num('file')).sslWriters, SEED(50))],
      run: (c) => {
        const m = c.map(c.num('file'));
        c.updMap(c.num('file'), { sslWriters: m.sslWriters - 1 }, `seqschedlock.writers ${m.sslWriters}→${m.sslWriters - 1}`);
        c.goto(next);
      },
    },
  };
}

/**
 * read_seqschedlock(): sequence1 = atomic_read(&sl->sequence); smp_rmb(); writers = ...;
 * smp_rmb(); sequence2 = ...; smp_rmb(); then WRITER_RUNNING / WRITER_RACE / SUCCESS
 * (*sequence = sequence1). The verdict lands in local `ssl_ret`, the sample in `ssl_seq`.
 */
export function readSeqschedlock(prefix: string, decide: (c: Ctx, verdict: number) => void): Record<string, StepDef> {
  return {
    [`${prefix}1`]: {
      label: 'read_seqschedlock(): sequence1 = atomic_read(&sl->sequence); smp_rmb()',
      where: `${WHERE} read_seqschedlock()`,
      acc: (c) => [lk(r(sequenceLoc(c)), 'atomic_read', c.map(c.num('file')).sslSequence, SEED(63), { after: ['smp_rmb'] })],
      run: (c) => {
        c.set('ssl_s1', c.map(c.num('file')).sslSequence);
        c.goto(`${prefix}2`);
      },
    },
    [`${prefix}2`]: {
      label: 'read_seqschedlock(): writers = atomic_read(&sl->writers); smp_rmb()',
      where: `${WHERE} read_seqschedlock()`,
      acc: (c) => [lk(r(writersLoc(c)), 'atomic_read', c.map(c.num('file')).sslWriters, SEED(65), { after: ['smp_rmb'] })],
      run: (c) => {
        c.set('ssl_w', c.map(c.num('file')).sslWriters);
        c.goto(`${prefix}3`);
      },
    },
    [`${prefix}3`]: {
      label:
        'read_seqschedlock(): sequence2 = atomic_read(&sl->sequence); smp_rmb(); return writers ? WRITER_RUNNING : sequence1 != sequence2 ? WRITER_RACE : SUCCESS',
      where: `${WHERE} read_seqschedlock()`,
      acc: (c) => [lk(r(sequenceLoc(c)), 'atomic_read', c.map(c.num('file')).sslSequence, SEED(67), { after: ['smp_rmb'] })],
      run: (c) => {
        const s2 = c.map(c.num('file')).sslSequence;
        let verdict: number;
        if (c.num('ssl_w')) verdict = SEQSCHEDLOCK_WRITER_RUNNING;
        else if (c.num('ssl_s1') !== s2) verdict = SEQSCHEDLOCK_WRITER_RACE;
        else {
          verdict = SEQSCHEDLOCK_SUCCESS;
          c.set('invalidate_lock', c.num('ssl_s1'));
        }
        c.effect(`read_seqschedlock → ${verdictName(verdict)}`);
        decide(c, verdict);
      },
    },
  };
}

/**
 * read_seqschedunlock(prev): smp_rmb(); writers = atomic_read(&sl->writers); smp_rmb();
 * sequence = atomic_read(&sl->sequence); WRITER_RUNNING / WRITER_RACE (sequence != prev) / SUCCESS.
 */
export function readSeqschedunlock(prefix: string, decide: (c: Ctx, verdict: number) => void): Record<string, StepDef> {
  return {
    [`${prefix}1`]: {
      label: 'read_seqschedunlock(): smp_rmb(); writers = atomic_read(&sl->writers); smp_rmb()',
      where: `${WHERE} read_seqschedunlock()`,
      acc: (c) => [lk(r(writersLoc(c)), 'atomic_read', c.map(c.num('file')).sslWriters, SEED(86), { before: ['smp_rmb'], after: ['smp_rmb'] })],
      run: (c) => {
        c.set('ssl_w', c.map(c.num('file')).sslWriters);
        c.goto(`${prefix}2`);
      },
    },
    [`${prefix}2`]: {
      label:
        'read_seqschedunlock(): sequence = atomic_read(&sl->sequence); return writers ? WRITER_RUNNING : sequence != prev_sequence ? WRITER_RACE : SUCCESS',
      where: `${WHERE} read_seqschedunlock()`,
      acc: (c) => [lk(r(sequenceLoc(c)), 'atomic_read', c.map(c.num('file')).sslSequence, SEED(88))],
      run: (c) => {
        const seq = c.map(c.num('file')).sslSequence;
        let verdict: number;
        if (c.num('ssl_w')) verdict = SEQSCHEDLOCK_WRITER_RUNNING;
        else if (seq !== c.num('invalidate_lock')) verdict = SEQSCHEDLOCK_WRITER_RACE;
        else verdict = SEQSCHEDLOCK_SUCCESS;
        c.effect(`read_seqschedunlock → ${verdictName(verdict)}`);
        decide(c, verdict);
      },
    },
  };
}

function verdictName(v: number): string {
  return v === SEQSCHEDLOCK_SUCCESS ? 'SUCCESS' : v === SEQSCHEDLOCK_WRITER_RACE ? 'WRITER_RACE' : 'WRITER_RUNNING';
}
