#!/usr/bin/env bash
# Runs clang-tidy (14) with the project's .clang-tidy over every project source: common, rootfs,
# packaging, oobe, integration, launcher (src and app), fuzz, tests/unit and tests/support, and the
# Windows-only files (src/win32/, cmd_image_windows.cpp) through the mingw-w64 configuration.
# Prints each finding; exits 1 if there is any (the config makes every warning an error).
#
#   scripts/tidy.sh                       everything, 2 jobs (about 25 min on 2 cores: not in CI yet)
#   scripts/tidy.sh -j 4 -B /tmp/tidy     more jobs, another build directory
#   scripts/tidy.sh rootfs/src/flatten.cpp oobe/src/answers.cpp   only these files
#   scripts/tidy.sh --no-windows          skip the mingw-w64 files (no cross compiler installed)
#
# It only configures (no build): the compile databases are DIR/linux (preset `asan`: clang, with
# the fuzz targets) and DIR/windows (preset `mingw`); DIR defaults to build/tidy. The apps' unity
# batches are split back into their files, so each file is checked on its own. Per-file times
# (wall, CPU) go to DIR/times.txt; the slowest are printed at the end.
# Needs: clang-tidy (Debian: clang-tidy, i.e. clang-tidy-14), clang, python3, cmake, ninja.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

jobs=2
dir=build/tidy
windows=true
only=()
while (($#)); do
    case $1 in
    -j | --jobs)
        jobs=$2
        shift 2
        ;;
    -B | --build-dir)
        dir=$2
        shift 2
        ;;
    --no-windows)
        windows=false
        shift
        ;;
    -h | --help)
        sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    -*)
        echo "tidy.sh: unknown option $1 (see --help)" >&2
        exit 2
        ;;
    *)
        only+=("$(realpath -m "$1")")
        shift
        ;;
    esac
done

tidy=$(command -v clang-tidy-14 || command -v clang-tidy || true)
if [[ -z $tidy ]]; then
    echo "tidy.sh: clang-tidy not found (Debian: apt-get install clang-tidy, or scripts/install-deps.sh)" >&2
    exit 2
fi
mkdir -p "$dir"
dir=$(realpath "$dir")

# configure PRESET SUBDIR — a compile database only; Unity batches become one entry per file.
configure() {
    local log="$dir/$2.configure.log"
    if ! cmake --preset "$1" -B "$dir/$2" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >"$log" 2>&1; then
        echo "tidy.sh: configuring preset $1 in $dir/$2 failed; see $log" >&2
        tail -5 "$log" >&2
        exit 2
    fi
    python3 - "$dir/$2/compile_commands.json" <<'EOF'
import json, re, sys
path = sys.argv[1]
entries = []
for e in json.load(open(path)):
    if "/Unity/unity_" not in e["file"]:
        entries.append(e)
        continue
    for member in re.findall(r'#include "([^"]+)"', open(e["file"]).read()):
        m = dict(e, file=member)
        if "command" in m:
            m["command"] = m["command"].replace(e["file"], member)
        if "arguments" in m:
            m["arguments"] = [a.replace(e["file"], member) for a in m["arguments"]]
        entries.append(m)
json.dump(entries, open(path, "w"), indent=1)
EOF
}

# files DATABASE [EXCLUDE_LIST] — the project's sources in DATABASE (not generated ones), minus EXCLUDE_LIST.
files() {
    python3 - "$root" "$@" <<'EOF'
import json, os, sys
root, db = sys.argv[1], sys.argv[2]
exclude = set(open(sys.argv[3]).read().split()) if len(sys.argv) > 3 else set()
dirs = ("common/", "rootfs/", "packaging/", "oobe/", "integration/", "launcher/", "fuzz/",
        "tests/unit/", "tests/support/")
seen = set()
for e in json.load(open(db)):
    f = os.path.normpath(os.path.join(e["directory"], e["file"]))
    rel = os.path.relpath(f, root)
    if rel.startswith(dirs) and f not in exclude and f not in seen:
        seen.add(f)
        print(f)
EOF
}

# The suppression rule: `// NOLINT(check): why` (also NOLINTNEXTLINE, NOLINTBEGIN); a bare NOLINT
# silences every check on its line, and a suppression without a reason cannot be reviewed.
sources=(common rootfs packaging oobe integration launcher fuzz tests/unit tests/support)
if bad=$(grep -rn -E 'NOLINT' --include='*.cpp' --include='*.hpp' "${sources[@]}" \
    | grep -v -E 'NOLINT(NEXTLINE|BEGIN)?\([a-z0-9.,-]+\): [^ ]|NOLINTEND\([a-z0-9.,-]+\)'); then
    echo "tidy.sh: NOLINT without a check name and a reason ('// NOLINT(check): why'):" >&2
    printf '%s\n' "$bad" >&2
    exit 1
fi

configure asan linux
files "$dir/linux/compile_commands.json" >"$dir/files.linux"
: >"$dir/files.windows"
win_args=()
if $windows; then
    if ! command -v x86_64-w64-mingw32-g++-posix >/dev/null; then
        echo "tidy.sh: x86_64-w64-mingw32-g++-posix not found (scripts/install-deps.sh); use --no-windows to skip" >&2
        exit 2
    fi
    configure mingw windows
    files "$dir/windows/compile_commands.json" "$dir/files.linux" >"$dir/files.windows"
    # clang as the mingw-w64 target, with the cross compiler's own libstdc++ headers.
    win_args+=(--extra-arg-before=--target=x86_64-w64-mingw32)
    while read -r inc; do
        [[ $inc == */include/c++* ]] && win_args+=("--extra-arg=-isystem$inc")
    done < <(x86_64-w64-mingw32-g++-posix -xc++ -E -v /dev/null 2>&1 \
        | sed -n '/#include <...> search starts here:/,/End of search list./p' | sed 's/^ *//')
fi

# The work list: "linux|windows FILE" lines, optionally only the files named on the command line.
list="$dir/work"
{
    sed 's/^/linux /' "$dir/files.linux"
    sed 's/^/windows /' "$dir/files.windows"
} >"$list"
if ((${#only[@]})); then
    grep -F -f <(printf ' %s\n' "${only[@]}") "$list" >"$list.only" || true
    for f in "${only[@]}"; do
        grep -qF " $f" "$list.only" || { echo "tidy.sh: $f is in no compile database" >&2; exit 2; }
    done
    mv "$list.only" "$list"
fi
total=$(wc -l <"$list")

out="$dir/out"
rm -rf "$out"
mkdir -p "$out"
export tidy out dir
export win_args_joined="${win_args[*]:-}"
# check KIND FILE — one clang-tidy run; its output in $out/N.txt, "wall user+sys file rc" in $out/N.time.
check() {
    local kind=$1 file=$2 name rc=0 extra=()
    name=$(printf '%s' "$file" | md5sum | cut -c1-16)
    [[ $kind == windows ]] && read -r -a extra <<<"$win_args_joined"
    TIMEFORMAT="%R %U %S"
    { time "$tidy" --quiet -p "$dir/$kind" "${extra[@]}" "$file" >"$out/$name.txt" 2>"$out/$name.err" || rc=$?; } 2>"$out/$name.clock"
    awk -v f="$file" -v rc="$rc" '{printf "%s %.1f %s %s\n", $1, $2 + $3, f, rc}' "$out/$name.clock" >"$out/$name.time"
    if ((rc != 0)); then
        printf 'x'
    else
        printf '.'
    fi
}
export -f check

echo "clang-tidy: $total files, $jobs jobs ($("$tidy" --version | grep -o 'version [0-9.]*'))"
start=$(date +%s)
xargs -P "$jobs" -L 1 bash -c 'check "$@"' _ <"$list"
echo
elapsed=$(($(date +%s) - start))

cat "$out"/*.time | sort -rn >"$dir/times.txt"
failed=0
while read -r _ _ file rc; do
    ((rc == 0)) && continue
    failed=$((failed + 1))
    name=$(printf '%s' "$file" | md5sum | cut -c1-16)
    echo "--- ${file#"$root"/}"
    cat "$out/$name.txt"
    # clang-tidy's own errors (a file that does not compile, a bad config); not its statistics.
    grep -v -E '^[0-9]+ (warnings?|errors?)( and [0-9]+ errors?)? generated\.$|^Suppressed |^Use -header-filter|warnings? treated as errors$' \
        "$out/$name.err" || true
done <"$dir/times.txt"

cpu=$(awk '{s += $2} END {printf "%.0f", s}' "$dir/times.txt")
echo "slowest files (wall s, CPU s):"
head -5 "$dir/times.txt" | awk -v r="$root/" '{sub(r, "", $3); printf "  %6s %6s  %s\n", $1, $2, $3}'
# Findings are reported once per place even when several files include the same header.
findings=$(cat "$out"/*.txt | grep -E '^/.*:[0-9]+:[0-9]+: (warning|error): ' | sort -u || true)
count=$(printf '%s' "$findings" | grep -c . || true)
if ((count > 0)); then
    echo "findings per check:"
    printf '%s\n' "$findings" | grep -o '\[[^]]*\]$' | tr -d '[]' | sed 's/,-warnings-as-errors//' \
        | tr ',' '\n' | sort | uniq -c | sort -rn | sed 's/^/  /'
fi
echo "clang-tidy: $total files in ${elapsed}s wall (${cpu}s CPU), $count findings, $failed files failed"
((failed == 0))
