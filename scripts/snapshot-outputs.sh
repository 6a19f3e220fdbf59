#!/usr/bin/env bash
# Runs the CLI over every shipped trace, pair and scenario and writes each output to a folder,
# so a refactor can show that nothing a user sees changed:
#   scripts/snapshot-outputs.sh /tmp/before   (on the old commit)
#   scripts/snapshot-outputs.sh /tmp/after    (on the new one)
#   diff -r /tmp/before /tmp/after && echo byte-identical
# Timing figures are switched off (--no-timing) or filtered, everything else is compared as is.
set -u
out=${1:?usage: scripts/snapshot-outputs.sh OUTDIR}
cd "$(dirname "$0")/.."
mkdir -p "$out"
K="node packages/cli/bin/run.js"
run() { # name, command...
  local name=$1; shift
  "$@" > "$out/$name.out" 2> "$out/$name.err"; echo "exit $?" >> "$out/$name.out"
  sed -i -E 's/[0-9.]+ ?(ms|s|events\/s|M events\/s|k events\/s|states\/s)\b/<t>/g' "$out/$name.err"
}
for t in $(find traces -name 'trace.txt.gz' | sort); do
  n=$(echo "$t" | tr '/' '_')
  run "replay-$n" $K replay "$t" --no-timing
  run "replay-json-$n" $K replay "$t" --json --no-timing
  run "replay-sarif-$n" $K replay "$t" --format sarif --no-timing
  run "parse-$n" $K parse "$t" --stats --json
done
for w in odirect-race truncate-racer; do
  b=traces/pair-filemap-recheck/base/$w p=traces/pair-filemap-recheck/patched/$w
  run "diff-$w" $K diff "$b" "$p"
  run "diff-json-$w" $K diff "$b" "$p" --format json
  run "diff-junit-$w" $K diff "$b" "$p" --format junit
done
for s in fixtures/scenarios/*.yaml; do
  n=$(basename "$s" .yaml)
  [ "$n" = odirect-vs-fault-multipage ] && continue
  for f in linux-2.6.15 linux-2.6.15-seqschedlock linux-2.6.23 linux-6.1; do
    run "explore-$n-$f" $K explore "$s" --flavor $f --json
    sed -i -E 's/"(ms|elapsedMs|statesPerSecond|executionsPerSecond)":[0-9.e+-]+/"\1":0/g' "$out/explore-$n-$f.out"
  done
done
run explore-random $K explore fixtures/scenarios/odirect-vs-fault-multipage.yaml --random --seed 1 --runs 200 --json
sed -i -E 's/"(ms|elapsedMs|statesPerSecond|executionsPerSecond)":[0-9.e+-]+/"\1":0/g' "$out/explore-random.out"
run explore-trace $K explore fixtures/scenarios/truncate-vs-fault.yaml --flavor fixtures/flavors/no-truncate-count-recheck.js --trace-out "$out/cex.trace" --perfetto-out "$out/cex.perfetto.json"
sed -i -E 's/[0-9.]+ ?(ms|s)\b/<t>/g' "$out/explore-trace.out"
run report $K report --base traces/pair-filemap-recheck/base/odirect-race --patched traces/pair-filemap-recheck/patched/odirect-race --html "$out/report.html"
ls "$out" | wc -l
