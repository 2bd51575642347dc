#!/usr/bin/env bash
# Benchmark: `azurelinux image build` against the reference pipeline a person would otherwise run,
#   umoci unpack --image LAYOUT:latest bundle && tar -c -C bundle/rootfs . | pigz -6 > ref.tar.gz
# on the cached Debian minbase 3-layer OCI image (tests/e2e/lib/rootfs-cache.sh). Runs alternate
# ours/reference after one untimed warm-up of each (both then read the layout from the page cache);
# every run starts from an empty output directory after a `sync`. Reports median wall time, the ratio
# ours/reference (target <= 0.67), peak RSS of each (ours: target < 64 MiB) and output sizes.
#
# Second section (skip with --no-large): the same image plus a layer of ~200 MiB of data (one large
# file and many 1 MiB ones, part compressible, part not) to show that our peak RSS does not grow
# with the image.
#
# Usage: bench/image_build.sh [BUILD_DIR] [-n RUNS] [--no-large] [--drop-caches] [--strict]
#   BUILD_DIR      where `azurelinux` was built (default: build/dev); or set AZL_BIN
#   -n RUNS        timed runs of each (default 5)
#   --drop-caches  drop the page cache before every run instead of warming it (root, writable /proc)
#   --strict       exit 1 when a target is missed
# Needs root and: mmdebstrap umoci tar pigz time attr libcap2-bin (see scripts/install-deps.sh).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=tests/e2e/lib/rootfs-cache.sh
source "$repo/tests/e2e/lib/rootfs-cache.sh"

runs=5 large=1 drop_caches=0 strict=0 build_dir=$repo/build/dev
while (($#)); do
    case $1 in
    -n) runs=${2:?-n needs a number}; shift 2 ;;
    --no-large) large=0; shift ;;
    --drop-caches) drop_caches=1; shift ;;
    --strict) strict=1; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
    *) build_dir=$1; shift ;;
    esac
done
azl=${AZL_BIN:-$build_dir/bin/azurelinux}
[[ -x $azl ]] || e2e_fail "no azurelinux at $azl: build it (cmake --build --preset dev) or pass BUILD_DIR"
azl=$(realpath "$azl")
[[ $runs =~ ^[1-9][0-9]*$ ]] || e2e_fail "-n wants a positive number, not '$runs'"
e2e_require_root
e2e_require_tools umoci tar pigz /usr/bin/time
if ((drop_caches)) && [[ ! -w /proc/sys/vm/drop_caches ]]; then
    e2e_fail "--drop-caches: /proc/sys/vm/drop_caches is not writable here"
fi
unset SOURCE_DATE_EPOCH
layout=$(azl_oci_layout)
work=$(mktemp -d "${TMPDIR:-/tmp}/azl-bench.XXXXXX")
e2e_on_exit "cd / && rm -rf -- '$work'"
cd "$work"

# Leaves the page cache as both contenders will find it, and nothing pending from the last run.
settle() {
    rm -rf -- out
    mkdir out
    sync
    if ((drop_caches)); then
        echo 3 >/proc/sys/vm/drop_caches
    fi
}

# run_ours LAYOUT / run_reference LAYOUT: one timed run; appends "WALL_SECONDS PEAK_RSS_KIB" to
# ours.times / reference.times and leaves the output in out/.
run_ours() {
    settle
    /usr/bin/time -f '%e %M' -a -o "$2" "$azl" --quiet image build --no-wsl-files --from "$1" -o out/ours.wsl >/dev/null
}
run_reference() {
    settle
    # time's %M is the largest of umoci, tar and pigz (the kernel keeps the max over waited children).
    # shellcheck disable=SC2016 # $1 is expanded by the inner sh
    /usr/bin/time -f '%e %M' -a -o "$2" sh -c '
        umoci unpack --image "$1:latest" out/bundle >/dev/null &&
        tar --xattrs --xattrs-include="*" --numeric-owner -c -C out/bundle/rootfs . | pigz -6 >out/ref.tar.gz' \
        sh "$1"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
max() { sort -n | tail -n 1; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }
verdict() { if (($1)); then echo "met"; else echo "MISSED"; fi; }

missed=0
# bench LABEL LAYOUT: warm-up, RUNS alternating timed runs, summary.
bench() {
    local label=$1 src=$2 i ours_size ref_size
    : >ours.times
    : >reference.times
    echo
    echo "== $label: $src"
    if ((!drop_caches)); then
        echo "warm-up (untimed)"
        run_ours "$src" /dev/null
        run_reference "$src" /dev/null
    fi
    for ((i = 1; i <= runs; i++)); do
        run_ours "$src" ours.times
        ours_size=$(stat -c %s out/ours.wsl)
        run_reference "$src" reference.times
        ref_size=$(stat -c %s out/ref.tar.gz)
        printf 'run %d: ours %ss %s, reference %ss %s\n' "$i" \
            "$(tail -n 1 ours.times | cut -d ' ' -f 1)" "$(mib "$(tail -n 1 ours.times | cut -d ' ' -f 2)")" \
            "$(tail -n 1 reference.times | cut -d ' ' -f 1)" "$(mib "$(tail -n 1 reference.times | cut -d ' ' -f 2)")"
    done
    local ours_t ref_t ours_rss ref_rss ratio
    ours_t=$(cut -d ' ' -f 1 ours.times | median)
    ref_t=$(cut -d ' ' -f 1 reference.times | median)
    ours_rss=$(cut -d ' ' -f 2 ours.times | max)
    ref_rss=$(cut -d ' ' -f 2 reference.times | max)
    ratio=$(awk -v a="$ours_t" -v b="$ref_t" 'BEGIN { printf "%.2f", a / b }')
    local ratio_ok rss_ok
    ratio_ok=$(awk -v r="$ratio" 'BEGIN { print (r <= 0.67) ? 1 : 0 }')
    rss_ok=$((ours_rss < 64 * 1024 ? 1 : 0))
    ((ratio_ok && rss_ok)) || missed=1
    echo "-- $label, median of $runs runs ($(nproc) CPUs):"
    printf '   wall time   ours %6.2fs   reference %6.2fs   ratio %s (target <= 0.67: %s)\n' \
        "$ours_t" "$ref_t" "$ratio" "$(verdict "$ratio_ok")"
    printf '   peak RSS    ours %s   reference %s   (ours target < 64 MiB: %s)\n' \
        "$(mib "$ours_rss")" "$(mib "$ref_rss")" "$(verdict "$rss_ok")"
    printf '   output      ours %s bytes   reference %s bytes (%s)\n' "$ours_size" "$ref_size" \
        "$(awk -v a="$ours_size" -v b="$ref_size" 'BEGIN { printf "%+.1f%%", (a / b - 1) * 100 }')"
}

# The large image: the cached layout plus one more uncompressed layer of ~200 MiB, cached beside it.
large_layout() (
    set -euo pipefail
    _azl_prepare_cache
    local cache dir tmp
    cache=$(azl_cache_dir)
    dir="$cache/bench-large-oci-v$AZL_OCI_LAYOUT_VERSION"
    if [[ ! -f $dir/index.json ]]; then
        tmp=$(mktemp -d "$cache/.bench-large.XXXXXX")
        e2e_on_exit "rm -rf -- '$tmp'"
        e2e_log "building $dir (the e2e layout plus a ~200 MiB layer)"
        cp -a -- "$layout" "$tmp/oci"
        mkdir -p "$tmp/layer/opt/bench/small"
        # 120 MiB of base64 text (compresses ~25%), 80 x 1 MiB of random bytes (does not compress).
        head -c $((90 << 20)) /dev/urandom | base64 -w 76 >"$tmp/layer/opt/bench/large.txt"
        local i
        for ((i = 0; i < 80; i++)); do
            head -c $((1 << 20)) /dev/urandom >"$tmp/layer/opt/bench/small/$i.bin"
        done
        tar -C "$tmp/layer" --numeric-owner --owner=0 --group=0 -cf "$tmp/layer.tar" opt
        umoci raw add-layer --history.created_by "bench: ~200 MiB of data" \
            --image "$tmp/oci:$E2E_OCI_TAG" "$tmp/layer.tar"
        umoci gc --layout "$tmp/oci"
        rm -rf -- "$dir"
        mv -T -- "$tmp/oci" "$dir"
    fi
    printf '%s\n' "$dir"
)

echo "azurelinux: $azl"
echo "reference:  umoci $(umoci --version | awk '{ print $3 }'), $(tar --version | head -n 1), pigz -6 ($(pigz --version 2>&1))"
bench "Debian minbase, 3-layer OCI layout" "$layout"
if ((large)); then
    big=$(large_layout)
    bench "the same + a ~200 MiB layer" "$big"
fi
if ((strict && missed)); then
    exit 1
fi
