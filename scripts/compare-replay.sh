#!/usr/bin/env bash
# Replays traces with this checkout and another built one and compares what a user sees, byte
# for byte: `kreplay replay --format json --no-timing` and `--stats --no-timing` (stdout,
# stderr, exit code), so a change meant to be invisible (speed work) can show it is.
#   scripts/compare-replay.sh /path/to/other/checkout [TRACE...]
# With no TRACE: every .trace, trace.txt, trace.txt.gz and .dat under traces/ and fixtures/.
# stderr's "still working" progress line (printed past 15 s of wall time) is left out.
set -u
other=$(cd "${1:?usage: scripts/compare-replay.sh OTHER_CHECKOUT [TRACE...]}" && pwd); shift
cd "$(dirname "$0")/.."
here=$(pwd)
if [ $# -eq 0 ]; then
  set -- $(find traces fixtures \( -name '*.trace' -o -name 'trace.txt' -o -name 'trace.txt.gz' -o -name '*.dat' \) | sort)
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
same=0; differ=0
for t in "$@"; do
  for mode in json stats; do
    args=(--format json); [ "$mode" = stats ] && args=(--stats)
    for side in here other; do
      root=$here; [ "$side" = other ] && root=$other
      node "$root/packages/cli/bin/run.js" replay "$t" "${args[@]}" --no-timing > "$out/$side.out" 2> "$out/$side.err"
      echo "exit $?" >> "$out/$side.out"
      sed -i '/still working/d' "$out/$side.err"
    done
    if cmp -s "$out/here.out" "$out/other.out" && cmp -s "$out/here.err" "$out/other.err"; then
      same=$((same + 1))
    else
      differ=$((differ + 1)); echo "DIFFERS: $t ($mode)"
      diff "$out/other.out" "$out/here.out" | head -5
    fi
  done
done
echo "$same outputs identical, $differ differ ($# traces, json and --stats each)"
[ "$differ" -eq 0 ]
