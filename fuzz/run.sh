#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan) in build-fuzz/ and runs each for a while.
#
#   fuzz/run.sh [SECONDS] [TARGET...]     default: 60 seconds, every target
#
# One fuzzer at a time, in one process (no -jobs/-workers: those fork and log to files). New
# inputs go to build-fuzz/corpus/<target>/ (seeded from fuzz/corpus/<target>/, which is left
# unchanged); crashes to build-fuzz/crashes/<target>/.
# Minimize a crash with:
#   build-fuzz/fuzz/<target> -minimize_crash=1 -runs=10000 <crash-file>
# and add the result to fuzz/corpus/<target>/ named after what it found.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
seconds="${1:-60}"
shift || true
build="$root/build-fuzz"
all=(fuzz_base64 fuzz_sql_tokenizer fuzz_pipeline_request fuzz_value fuzz_jwt fuzz_bindings
     fuzz_client_url
     fuzz_route fuzz_admin fuzz_hrana_service fuzz_data_api)
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=("${all[@]}")
fi

if [ ! -f "$build/CMakeCache.txt" ]; then
  CC=clang CXX=clang++ cmake -DQUARRY_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -S "$root" -B "$build"
fi
nice -n 10 cmake --build "$build" --target "${targets[@]}" -j "${JOBS:-2}"

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
failed=()
for target in "${targets[@]}"; do
  corpus="$build/corpus/$target"
  crashes="$build/crashes/$target"
  mkdir -p "$corpus" "$crashes"
  echo "== $target: ${seconds}s"
  # The end-to-end target creates files: run it in a scratch folder.
  workdir="$build/work/$target"
  mkdir -p "$workdir"
  if ! (cd "$workdir" && nice -n 10 "$build/fuzz/$target" \
          -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 \
          -max_len=8192 -dict="$root/fuzz/hrana.dict" -artifact_prefix="$crashes/" \
          -print_final_stats=1 "$corpus" "$root/fuzz/corpus/$target"); then
    failed+=("$target")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz/run.sh: crashes in: ${failed[*]} (see $build/crashes/)" >&2
  exit 1
fi
echo "fuzz/run.sh: no crashes"
