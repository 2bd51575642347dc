#!/usr/bin/env bash
# Every test, as CI runs them: the Windows build (preset `mingw`: azurelinux.exe and the WSL
# simulator, for the Wine tier), the sanitizer build of everything (preset `asan`: clang, ASan + UBSan,
# -O2, -Werror), then all unit and end-to-end tests with those programs (`ctest --preset asan`: the
# end-to-end tests run the instrumented launcher, first-run setup and bridge on real root file
# systems), then each libFuzzer target for a bounded time from the committed corpus.
#
#   scripts/test.sh                     all of it; fuzzing 30 s per target, two at a time
#   scripts/test.sh --fuzz-time 0       no fuzzing
#   scripts/test.sh -- -R lifecycle     arguments after -- go to ctest
#
# Needs what scripts/install-deps.sh installs; the end-to-end tests need root (they skip otherwise).
# The plain developer build has its own: `cmake --build --preset dev && ctest --preset dev`.
set -euo pipefail
cd "$(dirname "$0")/.."

fuzz_time=30
ctest_args=()
while (($#)); do
    case $1 in
    --fuzz-time)
        fuzz_time=${2:?--fuzz-time needs seconds}
        shift 2
        ;;
    --)
        shift
        ctest_args=("$@")
        break
        ;;
    -h | --help)
        sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *)
        echo "test.sh: unknown option $1 (see --help)" >&2
        exit 2
        ;;
    esac
done

# The Windows launcher and the WSL simulator, for the Wine tier (tests/wine); a no-op when built.
cmake --preset mingw >/dev/null
cmake --build --preset mingw
cmake --preset asan >/dev/null
cmake --build --preset asan
ctest --preset asan "${ctest_args[@]}"
if ((fuzz_time > 0)); then
    scripts/fuzz.sh --preset asan -j 2 -t "$fuzz_time"
fi
