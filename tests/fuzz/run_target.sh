#!/usr/bin/env bash
# ctest's <name>_fuzz test: runs the libFuzzer binary BIN for SECONDS (env XOP_FUZZ_SECONDS
# overrides) over a fresh copy of its seed corpus SEEDS in WORK/corpus (the source tree is never
# written). Fails on any crash, sanitizer report, leak, timeout or out-of-memory, printing the
# reproducer's path; exits 77 (ctest: skipped) with the reason when there is no fuzz build.
#   run_target.sh BIN SEEDS WORK SECONDS
set -uo pipefail
bin=$1 seeds=$2 work=$3 seconds=${XOP_FUZZ_SECONDS:-$4}
name=$(basename "$bin")
if [ ! -x "$bin" ]; then
  echo "SKIP: no libFuzzer build of $name at $bin (needs clang and libFuzzer; scripts/test or 'scripts/fuzz build' makes it)"
  exit 77
fi
rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts"
cp -r "$seeds"/. "$work/corpus/"
# -timeout: one input taking longer is a hang; -rss_limit_mb: memory blow-up; -error_exitcode
# applies to crashes and sanitizer reports, leaks (ASan's LeakSanitizer) included.
"$bin" "$work/corpus" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
  -print_final_stats=1 -artifact_prefix="$work/artifacts/" -error_exitcode=1 -timeout_exitcode=1 \
  >"$work/log" 2>&1
rc=$?
shopt -s nullglob
found=("$work"/artifacts/*)
if [ "$rc" -ne 0 ] || [ "${#found[@]}" -ne 0 ]; then
  tail -n 60 "$work/log"
  echo "FAIL: $name exited $rc after fuzzing; full log $work/log"
  for f in "${found[@]}"; do
    echo "reproducer: $f   (replay: $bin $f; keep it as a regression seed in $seeds/)"
  done
  exit 1
fi
grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units|stat::new_units_added)' "$work/log" || true
echo "OK: $name fuzzed ${seconds}s from $(ls "$seeds" | wc -l) seeds, corpus now $(ls "$work/corpus" | wc -l) inputs"
