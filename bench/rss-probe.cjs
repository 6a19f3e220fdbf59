// Preloaded into a benchmarked child (`node --require bench/rss-probe.cjs ...`): when the
// child exits it writes its peak RSS (KiB) and CPU time (µs) as JSON to $KREPLAY_BENCH_RSS.
const fs = require('node:fs');
process.on('exit', () => {
  const out = process.env.KREPLAY_BENCH_RSS;
  if (!out) return;
  const u = process.resourceUsage();
  fs.writeFileSync(out, JSON.stringify({ maxRssKb: u.maxRSS, cpuUs: u.userCPUTime + u.systemCPUTime }));
});
