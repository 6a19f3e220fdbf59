// Capture one kernel build under one workload through the capture library, so meta.json
// carries the build's identity (base, fragments, patch hashes).
// usage (from the repository root, after npm run build):
//   node traces/pair-filemap-recheck/capture-pair.mjs BUILD_DIR PROFILE WORKLOAD RUNS DURATION_MS OUT [FILE_PAGES]
import { capture, loadProfile, kernelImageFromBuild } from '../../packages/capture/dist/index.js';
import { readBuildResult } from '../../packages/core/dist/index.js';
const [buildDir, profileFile, workload, runs, durationMs, out, filePages] = process.argv.slice(2);
const build = await readBuildResult(buildDir);
const profile = await loadProfile(profileFile);
if (filePages) profile.filePages = Number(filePages);
const t0 = Date.now();
const res = await capture({
  kernel: kernelImageFromBuild(build), offsets: build.offsets, profile, profileFile, workload,
  durationMs: Number(durationMs), runs: Number(runs), accel: 'tcg', outDir: out,
  onProgress: (m) => process.stderr.write(`${m}\n`),
});
for (const r of res.runs) {
  const m = r.meta;
  const w = m.workload.result;
  console.log(JSON.stringify({ dir: r.dir, release: m.kernel.release, events: m.trace.events, gz: m.trace.gzipBytes, lost: m.buffer.lost,
    result: w, findings: m.kernelLog.findings.map((f) => `${f.kind}: ${f.text}`) }));
}
console.log(JSON.stringify({ timings: res.timings, wallMs: Date.now() - t0 }));
