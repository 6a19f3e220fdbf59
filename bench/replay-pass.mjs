/**
 * One in-process pass of the replay bench (bench/replay.bench.js), as a script of its own: the
 * bench spawns it, and tools that time or count one process (valgrind's callgrind, `node
 * --cpu-prof`, `/usr/bin/time`) run it on a trace by hand, as docs/replay.md's speed sections do.
 *
 *   node bench/replay-pass.mjs CHECKOUT parse|replay|engine TRACE [LOOPS]
 *
 * CHECKOUT is a built kreplay checkout whose libraries the pass runs (this one, or a baseline).
 * Each pass repeats its loop LOOPS times (default 1) and prints one JSON line: `cpuMs`, the first
 * (cold) loop's CPU time (user + sys), `warmCpuMs`, the least of the later loops, and `loopsMs`,
 * every loop's. Module loading and the probe map's resolution come before the loops and are not
 * timed.
 *   - parse: every record read, the payloads decoded of the events replay decodes (its
 *     `fieldsWanted`), each with every field.
 *   - replay: what replayFile does — the same read (of a trace.dat, only the fields replay reads:
 *     its `fieldPlan`) and replay's work on top; records in order replayed as they come
 *     (`inOrder`), else again through the reorder window; then the verbatim citations.
 *   - engine: a bound, not a pass kreplay makes. The trace's ops are collected once (through
 *     `onOp`, held in memory); each loop then copies them 512 at a time (each op and its event:
 *     young objects, as a stream makes them) and applies them to a fresh ReplayEngine. The same
 *     loop without the engine is timed too (`copyMs`): the difference is the engine's own work,
 *     what replay costs when reading and lifting cost nothing. BENCH_ENGINE_COPY_ONLY=1 runs the
 *     copying loops alone: under callgrind, which counts the whole process, the engine's own
 *     instructions are this mode's count less that one's at the same LOOPS.
 *     BENCH_ENGINE_REUSE=1 applies the collected ops themselves, uncopied, with no copying loop:
 *     the engine alone, as callgrind counts it (the engine fills in an op's file and index from
 *     its call's entry, which the first loop has done already; it changes nothing else in them).
 * LOOPS may be 0 (module loading, the probe map and, in `engine` mode, collecting the ops: what
 * a callgrind count at 1 loop less this one leaves is the first loop's).
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [at, mode, trace, loopsArg] = process.argv.slice(2);
if (!at || !['parse', 'replay', 'engine'].includes(mode) || !trace) {
  process.stderr.write('usage: node bench/replay-pass.mjs CHECKOUT parse|replay|engine TRACE [LOOPS]\n');
  process.exit(2);
}
const loops = Math.max(0, Number(loopsArg ?? 1));
const lib = (pkg, file = 'index.js') => import(pathToFileURL(path.join(path.resolve(at), `packages/${pkg}/dist/${file}`)).href);
const { openTraceBatches } = await lib('ftrace-parser');
const { findTraceMeta, readTraceMeta } = await lib('core');
const R = await lib('replay');

const metaFile = findTraceMeta(trace);
const opts = { source: trace, meta: metaFile ? await readTraceMeta(metaFile) : undefined, metaSource: metaFile };
const config = await R.resolveReplayConfig(opts);

/** CPU milliseconds (user + sys) of `fn`. */
async function cpu(fn) {
  const c0 = process.cpuUsage();
  await fn();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
}

const ms = [];
let out = {};
if (mode === 'parse') {
  for (let k = 0; k < loops; k++) {
    let n = 0;
    ms.push(
      await cpu(async () => {
        for await (const b of openTraceBatches(trace, { fields: config.fieldsWanted })) for (const r of b) if (r.type === 'event') n++;
      }),
    );
    out = { events: n };
  }
} else if (mode === 'replay') {
  const open = () => openTraceBatches(trace, { source: trace, fields: config.fieldsWanted, fieldPlan: config.fieldPlan });
  let r;
  for (let k = 0; k < loops; k++) {
    ms.push(
      await cpu(async () => {
        try {
          r = await R.replay(open(), { ...opts, inOrder: true }, config);
        } catch (e) {
          if (e.name !== 'ReorderNeeded') throw e;
          r = await R.replay(open(), opts, config);
        }
        await R.citeVerbatim(trace, r.findings);
      }),
    );
  }
  if (r) out = { events: r.stats.events, ops: r.stats.ops, findings: r.findings.length + r.stats.findingsDropped };
} else {
  const { ReplayEngine } = await lib('replay', 'engine.js');
  const ops = [];
  await R.replay(openTraceBatches(trace, { source: trace, fields: config.fieldsWanted }), { ...opts, onOp: (op) => ops.push(op) }, config);
  const copy = (op) => ({ ...op, event: { ...op.event } });
  let kept = 0;
  const reuse = process.env.BENCH_ENGINE_REUSE === '1';
  const loop = (apply) =>
    cpu(() => {
      const engine = new ReplayEngine({ maxFindings: 10000 });
      if (reuse) {
        for (const op of ops) {
          if (op.event.ts > engine.now) engine.now = op.event.ts;
          engine.apply(op);
        }
        engine.finish();
        return;
      }
      for (let i = 0; i < ops.length; i += 512) {
        const batch = [];
        for (let j = i; j < Math.min(ops.length, i + 512); j++) batch.push(copy(ops[j]));
        if (!apply) {
          kept += batch.length;
          continue;
        }
        for (const op of batch) {
          if (op.event.ts > engine.now) engine.now = op.event.ts;
          engine.apply(op);
        }
      }
      if (apply) engine.finish();
    });
  const copyMs = [];
  const copyOnly = process.env.BENCH_ENGINE_COPY_ONLY === '1';
  for (let k = 0; k < loops; k++) {
    if (!reuse) copyMs.push(await loop(false));
    if (!copyOnly) ms.push(await loop(true));
  }
  out = { ops: ops.length, copied: kept, copyMs: copyMs.map(Math.round), copyWarmMs: loops > 1 ? Math.round(Math.min(...copyMs.slice(1))) : undefined };
}
const round = (x) => Math.round(x * 10) / 10;
console.log(
  JSON.stringify({ mode, ...out, cpuMs: round(ms[0]), warmCpuMs: ms.length > 1 ? round(Math.min(...ms.slice(1))) : undefined, loopsMs: ms.map(Math.round) }),
);
