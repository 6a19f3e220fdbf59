/**
 * `kreplay ci merge`: the output folders of a config's shards (`kreplay ci --shard i/n`,
 * one per CI job) gathered into the folder one unsharded `kreplay ci` would have written —
 * every group's reports and captures copied, the summaries written again from the merged
 * result. Shards of another config or of another plan (the workloads the config's traces
 * named when the job ran), a group in two folders and a group no folder has are
 * input errors: a merge never reports on less than the whole run. Every output is written
 * through core's atomic writer: a folder that cannot be made or written is an environment
 * error (exit 3) naming the path, never a half-merged folder that looks whole.
 */
import { cp, lstat, readdir, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import {
  checkJsonText,
  checkOutputFolder,
  decodeInputText,
  InputError,
  outputError,
  parseDocumentWith,
  readErrorWhy,
  stringifyJson,
  writeFileAtomic,
} from '@kreplay/core';
import type { LoadedCiConfig } from './ci-config.js';
import { checkGroupFiles, checkGroupName, configIdentity, kcidbOf, writeSummary, type CiGroupResult, type CiResult } from './ci.js';

const KernelFailedSchema = z.object({ kernel: z.string(), message: z.string(), hint: z.string().optional() }).strict();

const SummarySchema = z
  .object({
    output: z.string(),
    base: z.string(),
    patched: z.string(),
    config: z.string(),
    kreplay: z.string().optional(),
    planned: z.array(z.string()),
    shard: z.string().optional(),
    groups: z.array(
      z
        .object({
          name: z.string(),
          verdict: z.enum(['regression', 'no-regression', 'inconclusive']),
          regression: z.boolean(),
          reasons: z.array(z.string()),
          inconclusive: z.array(z.string()),
          unusableEvents: z.object({ base: z.number(), patched: z.number() }).strict(),
          gaps: z.object({ base: z.number(), patched: z.number() }).strict(),
          unjudged: z.array(z.string()).optional(),
          patchedLeftOut: z.number().int().positive().optional(),
          thresholdsNotJudged: z.array(z.string()).min(1).optional(),
          notJudgedNew: z
            .object({
              findings: z.number().int().positive(),
              rules: z.array(z.string()).min(1),
              unnamed: z.array(z.string()).min(1).optional(),
              uncertain: z.array(z.string()).min(1).optional(),
            })
            .strict()
            .optional(),
          notJudgedFixed: z
            .object({ findings: z.number().int().positive(), rules: z.array(z.string()).min(1) })
            .strict()
            .optional(),
          kernelFailed: z
            .object({ base: KernelFailedSchema.optional(), patched: KernelFailedSchema.optional() })
            .strict()
            .refine((k) => k.base !== undefined || k.patched !== undefined, 'names no side')
            .optional(),
          findings: z
            .object({
              new: z.number(),
              newByChance: z.number().optional(),
              fixed: z.number(),
              fixedByChance: z.number().optional(),
              unchanged: z.number(),
              risen: z.number().optional(),
              unjudged: z.number().optional(),
              maybeNew: z.number().optional(),
            })
            .strict(),
          files: z.array(z.string()),
        })
        .strict(),
    ),
    verdict: z.enum(['regression', 'no-regression', 'inconclusive']),
    regression: z.boolean(),
  })
  .strict();

async function readSummary(dir: string): Promise<CiResult> {
  const file = path.join(dir, 'summary.json');
  const bytes = await readFile(file).catch(() => {
    throw new InputError(`${dir} is not the output of kreplay ci: it has no summary.json`, {
      hint: 'pass the folders the shard jobs wrote (kreplay ci --shard i/n --output DIR)',
    });
  });
  const what = { what: 'ci summary', hint: 'pass folders written by this version of kreplay ci' };
  const summary = parseDocumentWith(decodeInputText(bytes, file, what), file, SummarySchema, what).value;
  // Each name is a folder the merge copies from the shard and into the output: one plain
  // path component, as kreplay ci itself checks, or a summary.json could copy any folder anywhere.
  for (const name of [...summary.planned, ...summary.groups.map((g) => g.name)]) checkGroupName(name, file);
  // Each report name becomes a URL in summary.kcidb.json and a line of summary.txt: only the reports kreplay ci writes.
  for (const g of summary.groups) checkGroupFiles(g.name, g.files, file);
  // The merge reads each group's `regression` flag and recomputes the run's verdict from them:
  // a group whose flag disagrees with its verdict (or a run verdict its groups do not give) is
  // a summary.json that was edited, and merged it could turn a regression into a pass.
  const hint = "pass the shard's output folder as its job wrote it, or run that shard again";
  for (const g of summary.groups) {
    if (g.regression !== (g.verdict === 'regression') || (g.verdict === 'inconclusive') !== g.inconclusive.length > 0)
      throw new InputError(
        `workload ${g.name} says verdict ${g.verdict} but regression ${g.regression} and ${g.inconclusive.length} inconclusive reason(s): its summary.json was edited`,
        { file, hint },
      );
    // a kernel failure is the patched kernel's regression, or (the base kernel's) no verdict
    const failed = g.kernelFailed && (g.kernelFailed.base ? 'inconclusive' : 'regression');
    if (failed && g.verdict !== failed)
      throw new InputError(`workload ${g.name} says verdict ${g.verdict} but a kernel failure that gives ${failed}: its summary.json was edited`, {
        file,
        hint,
      });
  }
  const regression = summary.groups.some((g) => g.regression);
  const verdict = regression ? 'regression' : summary.groups.some((g) => g.verdict === 'inconclusive') ? 'inconclusive' : 'no-regression';
  if (summary.regression !== regression || summary.verdict !== verdict)
    throw new InputError(`the run's verdict ${summary.verdict} is not what its workloads give (${verdict}): its summary.json was edited`, { file, hint });
  return summary;
}

/** Whether anything is at p, a link to nothing included (checkPlainTree then names it). */
async function lexists(p: string): Promise<boolean> {
  return lstat(p).then(
    () => true,
    () => false,
  );
}

/** Whether p is a regular file (not a link, not a folder). */
async function isFile(p: string): Promise<boolean> {
  return lstat(p).then(
    (st) => st.isFile(),
    () => false,
  );
}

/**
 * A group's diff.kcidb.json names its files by URL; without a configured artifactsUrl that
 * is the file: URL of the shard's output folder, which becomes the merged folder's.
 */
async function rebaseKcidb(groupDir: string, files: readonly string[], from: string, to: string): Promise<void> {
  if (from === to) return;
  const rebase = (u: unknown) => (typeof u === 'string' && u.startsWith(from) ? `${to}${u.slice(from.length)}` : u);
  for (const f of files.filter((x) => x.endsWith('.kcidb.json'))) {
    const file = path.join(groupDir, path.basename(f));
    let doc: { tests?: Array<{ log_url?: unknown; output_files?: Array<{ url: unknown }> }> };
    try {
      const what = { what: `the shard's ${path.basename(f)}`, hint: "pass the shard's output folder as its job wrote it" };
      const text = decodeInputText(await readFile(file), file, what);
      doc = JSON.parse(text) as typeof doc;
      // written again below: a document nested thousands deep would overflow the stack there; a
      // repeated key would lose its first value without a word
      checkJsonText(text, file, what);
    } catch (e) {
      if (e instanceof InputError) throw e;
      throw new InputError(`cannot read the shard's ${path.basename(f)}: ${readErrorWhy(e)}`, {
        file,
        hint: "pass the shard's output folder as its job wrote it",
      });
    }
    for (const t of doc.tests ?? []) {
      if (t.log_url !== undefined) t.log_url = rebase(t.log_url);
      for (const o of t.output_files ?? []) o.url = rebase(o.url);
    }
    await writeFileAtomic(file, `${stringifyJson(doc, 2)}\n`);
  }
}

/**
 * A shard's folder holds the files and folders kreplay ci wrote, nothing else: it comes with a
 * job's artifacts, and a symbolic link in it would be copied as a link into the merged output
 * (whatever it points at on the merging machine, published with the reports), or let the merge
 * write through it. Devices and FIFOs are refused too (a FIFO would block the copy).
 */
async function checkPlainTree(p: string, shardDir: string): Promise<void> {
  const st = await lstat(p);
  if (st.isDirectory()) {
    for (const e of (await readdir(p)).sort()) await checkPlainTree(path.join(p, e), shardDir);
    return;
  }
  if (st.isFile()) return;
  const what = st.isSymbolicLink() ? `a symbolic link (to ${await readlink(p).catch(() => '?')})` : 'not a regular file or folder';
  throw new InputError(`${what}, where a shard's output folder holds only the files and folders kreplay ci wrote`, {
    file: p,
    hint: `pass the output folder ${shardDir} as its job wrote it (an artifact download keeps no links); the merge copies nothing a link points at`,
  });
}

/** A shard's folder copied into the merged output; a failure to write there is an environment error naming it. */
async function copyOut(from: string, to: string): Promise<void> {
  await cp(from, to, { recursive: true }).catch((e: unknown) => {
    throw outputError(to, e);
  });
}

/**
 * `version`: the kreplay that merges. Given, every shard must have been written by that
 * version: another one may judge, word or count a group differently, and the merged run
 * would be none that one kreplay writes.
 */
export async function mergeCi(dirs: readonly string[], loaded: LoadedCiConfig, opts: { version?: string } = {}): Promise<CiResult> {
  if (dirs.length === 0) throw new InputError('nothing to merge', { hint: 'kreplay ci merge --config CONFIG DIR... (the output folders of the shard jobs)' });
  const cfg = loaded.config;
  const identity = configIdentity(cfg);
  const out = path.resolve(cfg.output);
  const shards = await Promise.all(dirs.map(async (dir) => ({ dir, summary: await readSummary(dir) })));
  const found = new Map<string, { dir: string; wrote: string; group: CiGroupResult }>();
  const plan = JSON.stringify(shards[0]!.summary.planned);
  for (const { dir, summary } of shards) {
    if (opts.version !== undefined && summary.kreplay !== opts.version) {
      throw new InputError(
        `${dir} was written by ${summary.kreplay ? `kreplay ${summary.kreplay}` : 'a kreplay that does not record its version'}; this is kreplay ${opts.version}`,
        { hint: 'run every shard and the merge with one kreplay release' },
      );
    }
    if (summary.config !== identity) {
      throw new InputError(`${dir} holds a run of another config than ${loaded.file} (config ${summary.config}, this one ${identity})`, {
        hint: 'merge the shards of one config with that config; the config hash covers everything but "output"',
      });
    }
    // One config can plan other workloads when its traces changed between jobs: a group outside
    // the plan the merge follows would be dropped, and its regression with it.
    // a Set: a list lookup per group was quadratic (100,000 workloads in a 40 MB summary.json: 20 s)
    const planned = new Set(summary.planned);
    const outside = summary.groups.filter((g) => !planned.has(g.name)).map((g) => g.name);
    if (JSON.stringify(summary.planned) !== plan || outside.length > 0) {
      throw new InputError(
        `${dir} planned other workloads (${summary.planned.join(', ')}${outside.length ? `; it ran ${outside.join(', ')} besides` : ''}) than ${shards[0]!.dir} (${shards[0]!.summary.planned.join(', ')})`,
        {
          hint: 'the shard jobs saw different traces for one config: run every shard again on the same traces',
        },
      );
    }
    for (const group of summary.groups) {
      const seen = found.get(group.name);
      if (seen)
        throw new InputError(`workload ${group.name} is in both ${seen.dir} and ${dir}`, {
          hint: "give each shard's folder once; shards of one plan never share a workload",
        });
      found.set(group.name, { dir, wrote: summary.output, group });
    }
  }
  const planned = shards[0]?.summary.planned ?? [];
  if (planned.length === 0) {
    // kreplay ci always plans a workload (a config's capture.workloads, or its traces'): a merge of
    // nothing would read "nothing compared", exit 0, as if the run had passed
    throw new InputError(`${shards[0]!.dir} planned no workload: no kreplay ci run writes that`, {
      hint: "pass the shard's output folder as its job wrote it, or run that shard again",
    });
  }
  const missing = planned.filter((g) => !found.has(g));
  if (missing.length > 0) {
    throw new InputError(`the shards given hold ${found.size} of ${planned.length} workloads; missing: ${missing.join(', ')}`, {
      hint: 'pass the output folder of every shard job (kreplay ci plan lists them); a failed job has to run again',
    });
  }
  const groups: CiGroupResult[] = [];
  await checkOutputFolder(out);
  for (const name of planned) {
    const { dir, wrote, group } = found.get(name)!;
    const from = path.resolve(dir);
    if (from !== out) {
      if (!(await lexists(path.join(from, name)))) {
        throw new InputError(`${dir} lists workload ${name} in its summary.json but has no ${name} folder`, {
          hint: "pass the shard's output folder as its job wrote it",
        });
      }
      await checkPlainTree(path.join(from, name), dir);
      const absent = [];
      for (const f of group.files) if (!(await isFile(path.join(from, f)))) absent.push(f);
      if (absent.length) {
        throw new InputError(`${dir} lists ${absent.join(', ')} in its summary.json but has no such file`, {
          file: path.join(dir, 'summary.json'),
          hint: "pass the shard's output folder as its job wrote it",
        });
      }
      await copyOut(path.join(from, name), path.join(out, name));
      await rebaseKcidb(path.join(out, name), group.files, kcidbOf({ ...cfg, output: wrote }).artifactsUrl!, kcidbOf({ ...cfg, output: out }).artifactsUrl!);
      for (const side of ['base', 'patched']) {
        const captures = path.join(from, 'captures', side, name);
        if (await lexists(captures)) {
          // captures/ and captures/SIDE/ too: a link there would take the copy outside the shard
          for (const up of [path.join(from, 'captures'), path.dirname(captures)]) if ((await lstat(up)).isSymbolicLink()) await checkPlainTree(up, dir);
          await checkPlainTree(captures, dir);
          await copyOut(captures, path.join(out, 'captures', side, name));
        }
      }
    }
    groups.push(group);
  }
  const first = shards[0]!.summary;
  const regression = groups.some((g) => g.regression);
  const result: CiResult = {
    output: out,
    base: first.base,
    patched: first.patched,
    config: identity,
    ...(opts.version ? { kreplay: opts.version } : {}),
    planned,
    groups,
    verdict: regression ? 'regression' : groups.some((g) => g.verdict === 'inconclusive') ? 'inconclusive' : 'no-regression',
    regression,
  };
  await writeSummary(result, cfg);
  return result;
}
