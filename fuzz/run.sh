#!/usr/bin/env bash
# Builds every fuzz target with libFuzzer on the stable toolchain, then runs each for SECONDS
# (default 60) from the seeds in corpus/TARGET. Exits non-zero when a target finds a crash (the
# input is kept in fuzz/artifacts/TARGET/) or fails to run.
#
#   bash fuzz/run.sh [SECONDS] [TARGET...]
#
# No cargo-fuzz and no nightly: libfuzzer-sys builds libFuzzer itself (with the C++ compiler),
# and the flags below are the ones `cargo fuzz build --sanitizer none` passes to rustc, all
# stable (cargo-fuzz also forces -Ccodegen-units=1, which speeds up the fuzzed code under LTO;
# there is no LTO here, and the build is what CI waits for). Without a sanitizer, a crash is a
# panic (libfuzzer-sys aborts on it), an overflow or an out-of-bounds index caught by the debug
# assertions, an input that takes more than 10 s, or more than 2 GB of memory.
set -euo pipefail
cd "$(dirname "$0")"

seconds=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    for f in fuzz_targets/*.rs; do targets+=("$(basename "$f" .rs)"); done
fi

# rustc's own host triple: with --target, RUSTFLAGS reach the fuzzed code only, not build
# scripts and proc macros.
triple=$(rustc -vV | sed -n 's/^host: //p')
flags=(
    # SanitizerCoverage: the edge counters and PC table libFuzzer reads its coverage from,
    # comparison tracing (so it learns the values the code compares input with), and the
    # stack depth, which it also counts as progress.
    -Cpasses=sancov-module
    -Cllvm-args=-sanitizer-coverage-level=4
    -Cllvm-args=-sanitizer-coverage-inline-8bit-counters
    -Cllvm-args=-sanitizer-coverage-pc-table
    -Cllvm-args=-sanitizer-coverage-trace-compares
    -Cllvm-args=-sanitizer-coverage-stack-depth
    # Branch folding would merge the branches the counters tell apart.
    -Cllvm-args=-simplifycfg-branch-fold-threshold=0
    # Code may check cfg(fuzzing); libfuzzer-sys's fuzz_target! does.
    --cfg fuzzing
    # Overflow and debug assertions turn silent wrong results into crashes.
    -Cdebug-assertions
    -Coverflow-checks
)
export RUSTFLAGS="${flags[*]} ${RUSTFLAGS:-}"
export CARGO_TARGET_DIR="$PWD/target"

start=$(date +%s)
bins=()
for t in "${targets[@]}"; do bins+=(--bin "$t"); done
cargo build --release --target "$triple" "${bins[@]}"
echo "fuzz: built ${#targets[@]} targets in $(($(date +%s) - start)) s"

failed=()
for t in "${targets[@]}"; do
    # New inputs go to work/ (not committed); corpus/ holds the seeds and is only read.
    mkdir -p "work/corpus/$t" "artifacts/$t" corpus/"$t"
    log="work/$t.log"
    status=0
    "target/$triple/release/$t" \
        -max_total_time="$seconds" \
        -timeout=10 \
        -rss_limit_mb=2048 \
        -max_len=8192 \
        -print_final_stats=1 \
        -artifact_prefix="artifacts/$t/" \
        "work/corpus/$t" "corpus/$t" >"$log" 2>&1 || status=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
    if [ "$status" -ne 0 ]; then
        echo "fuzz: $t FAILED (exit $status) after ${runs:-?} runs; last lines of $log:"
        tail -n 40 "$log"
        ls -1 "artifacts/$t" | sed "s|^|fuzz: crash input: fuzz/artifacts/$t/|"
        failed+=("$t")
    else
        echo "fuzz: $t ok: ${runs:-?} runs in $seconds s, $cov"
    fi
done

echo "fuzz: $((${#targets[@]} - ${#failed[@]})) passed, ${#failed[@]} failed"
if [ ${#failed[@]} -ne 0 ]; then
    echo "fuzz: failed: ${failed[*]}; replay a crash with" \
        "fuzz/target/$triple/release/TARGET fuzz/artifacts/TARGET/crash-..."
    exit 1
fi
