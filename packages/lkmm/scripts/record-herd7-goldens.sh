#!/bin/sh
# Records herd7's output for every shipped litmus test under every shipped model, as the
# goldens test/golden.test.ts checks kreplay against. Needs herd7 7.58 (see
# docs/memory-model.md for how it was built); run from anywhere:
#   sh packages/lkmm/scripts/record-herd7-goldens.sh [path/to/herd7]
# The files are herd7's stdout, unchanged (Time and Hash lines included; the test ignores them).
set -eu
HERD7=${1:-herd7}
here=$(cd "$(dirname "$0")/.." && pwd)
fix=$here/test/fixtures
for model in linux-6.1 linux-6.12; do
  for set in kernel-litmus-tests paulmckrcu-litmus; do
    (cd "$fix/$set" && find . -name '*.litmus' | sort) | while read -r rel; do
      out=$fix/herd7/$model/$set/${rel#./}.out
      mkdir -p "$(dirname "$out")"
      (cd "$here/models/$model" && "$HERD7" -conf linux-kernel.cfg "$fix/$set/${rel#./}") > "$out"
    done
  done
  # the seed patch's seqschedlock set (fixtures/litmus/seqschedlock, gen-seqschedlock.mjs)
  ssl=$here/../../fixtures/litmus/seqschedlock
  mkdir -p "$fix/herd7/$model/seqschedlock"
  for f in "$ssl"/*.litmus; do
    (cd "$here/models/$model" && "$HERD7" -conf linux-kernel.cfg "$f") > "$fix/herd7/$model/seqschedlock/$(basename "$f").out"
  done
done
# tests without a final condition (test/fixtures/no-condition/README.md), also under the SC model
for model in linux-6.1 linux-6.12 sc; do
  mkdir -p "$fix/herd7/$model/no-condition"
  for f in "$fix"/no-condition/*.litmus; do
    (cd "$here/models/$model" && "$HERD7" -conf linux-kernel.cfg "$f") > "$fix/herd7/$model/no-condition/$(basename "$f").out"
  done
done
