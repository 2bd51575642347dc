#!/usr/bin/env bash
# Builds the libFuzzer targets (preset `fuzz`: clang, ASan + UBSan) and runs each one for a bounded
# time, seeded from the committed corpus in fuzz/corpus/<target>/.
#
#   scripts/fuzz.sh                    every target, 30 s each
#   scripts/fuzz.sh -t 3600 ini        one target for an hour (a deeper local run)
#   scripts/fuzz.sh --regress          only replay the committed corpus (no new inputs)
#   scripts/fuzz.sh --preset asan -t 20  with the CI's sanitizer build (clang, unit tests too)
#   scripts/fuzz.sh -j 2 -t 60         two targets at a time (CI: 30 s each on 2 cores)
#
# New interesting inputs go to build/<preset>/corpus/<target>/ (not the repo). A crash stops the run
# with a non-zero exit and leaves the input in build/<preset>/crashes/<target>/: fix the bug, then commit
# the input into fuzz/corpus/<target>/ so every later run replays it as a regression test.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=30
jobs=1
regress=false
preset=fuzz
targets=()
while (($#)); do
    case $1 in
    -t | --time)
        seconds=$2
        shift 2
        ;;
    -j | --jobs)
        jobs=$2
        shift 2
        ;;
    --regress)
        regress=true
        shift
        ;;
    --preset)
        preset=$2
        shift 2
        ;;
    -h | --help)
        sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    -*)
        echo "fuzz.sh: unknown option $1 (see --help)" >&2
        exit 2
        ;;
    *)
        targets+=("$1")
        shift
        ;;
    esac
done
if ((${#targets[@]} == 0)); then
    mapfile -t targets < <(find fuzz/corpus -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort)
fi

cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" --target "${targets[@]/#/fuzz_}"
out=build/$preset

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# fuzz_one TARGET: one target's run; its report goes to $out/TARGET.report, its status is ours.
fuzz_one() {
    local t=$1 bin=$out/bin/fuzz_$1 seeds=fuzz/corpus/$1 work=$out/corpus/$1 crashes=$out/crashes/$1
    mkdir -p "$work" "$crashes"
    exec >"$out/$t.report" 2>&1
    printf '\n=== fuzz_%s: ' "$t"
    if $regress; then
        printf 'replaying %s\n' "$seeds"
        "$bin" -runs=0 "$seeds" 2>&1 | tail -n 2
        return "${PIPESTATUS[0]}"
    fi
    printf '%s s, seeds %s\n' "$seconds" "$seeds"
    # -rss_limit_mb: our readers must stay bounded on any input; -max_len covers the seeds.
    if ! "$bin" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 -max_len=65536 \
        -artifact_prefix="$crashes/" -print_final_stats=1 "$work" "$seeds" >"$out/$t.log" 2>&1; then
        grep -E 'ERROR|SUMMARY|Test unit written' "$out/$t.log" | head -n 8
        echo "fuzz_$t FAILED: log $out/$t.log, input in $crashes/"
        return 1
    fi
    grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "$out/$t.log" |
        tr '\n' ' ' | sed 's/stat:://g'
    printf ' corpus %s inputs\n' "$(find "$work" -type f | wc -l)"
}

status=0
running=0
for t in "${targets[@]}"; do
    if ((running >= jobs)); then
        wait -n || status=1
        running=$((running - 1))
    fi
    fuzz_one "$t" &
    running=$((running + 1))
done
while ((running > 0)); do
    wait -n || status=1
    running=$((running - 1))
done
for t in "${targets[@]}"; do
    cat "$out/$t.report"
done
exit $status
