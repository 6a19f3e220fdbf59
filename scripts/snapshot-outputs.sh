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
  done
done
run explore-random $K explore fixtures/scenarios/odirect-vs-fault-multipage.yaml --random --seed 1 --runs 200 --json
run explore-trace $K explore fixtures/scenarios/truncate-vs-fault.yaml --flavor fixtures/flavors/no-truncate-count-recheck.js --trace-out "$out/cex.trace" --perfetto-out "$out/cex.perfetto.json"
run report $K report --base traces/pair-filemap-recheck/base/odirect-race --patched traces/pair-filemap-recheck/patched/odirect-race --html "$out/report.html"
# Wall-clock figures differ run to run: blank them everywhere (JSON keys that are timings, and
# "N unit/s" or "N ms" in text), and the output folder's own name.
for f in "$out"/*.out "$out"/*.err; do
  sed -i -E -e 's/"(seconds|ms|elapsedMs|timeMs|[A-Za-z]*PerSec(ond)?)": ?[0-9.e+-]+/"\1":0/g' \
    -e 's/[0-9][0-9.]* ?(ms|s|[A-Za-z ]+\/s)\b/<t>/g' -e "s#$out#OUT#g" "$f"
done
ls "$out" | wc -l
