#!/usr/bin/env bash
# Runs one libFuzzer target for a fixed time (ctest's fuzz_* tests; also by hand):
#   run_fuzzer.sh FUZZER SEED_DIR WORK_DIR SECONDS MAX_LEN TIMEOUT [DICT]
# New inputs go to WORK_DIR/corpus (never into the checked-in seeds), findings to
# WORK_DIR/artifacts/. Any crash, hang (an input over TIMEOUT seconds), out-of-memory (over 2 GB)
# or sanitizer report makes libFuzzer exit non-zero, and so fails the test; the log names the
# artifact, which `FUZZER ARTIFACT` replays. LOWBIT_FUZZ_ARGS adds libFuzzer flags.
set -euo pipefail
if [[ $# -lt 6 ]]; then
  echo "usage: $0 FUZZER SEED_DIR WORK_DIR SECONDS MAX_LEN TIMEOUT [DICT]" >&2
  exit 2
fi
fuzzer=$1 seeds=$2 work=$3 seconds=$4 max_len=$5 timeout=$6 dict=${7:-}
mkdir -p "$work/corpus" "$work/artifacts"
args=(-max_total_time="$seconds" -max_len="$max_len" -timeout="$timeout" -rss_limit_mb=2048
      -print_final_stats=1 -artifact_prefix="$work/artifacts/")
if [[ -n "$dict" && -f "$dict" ]]; then args+=(-dict="$dict"); fi
# More libFuzzer flags for long runs, e.g. LOWBIT_FUZZ_ARGS="-use_value_profile=1".
read -r -a extra <<< "${LOWBIT_FUZZ_ARGS:-}"
args+=("${extra[@]}")
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
exec "$fuzzer" "${args[@]}" "$work/corpus" "$seeds"
