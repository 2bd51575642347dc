#!/usr/bin/env bash
# Benchmark: the launcher's install and launch against what they cannot beat.
#   install: `azurelinux install --from guest.wsl --root` vs `mkdir D && tar -xzf guest.wsl -C D`
#            (extraction is the floor; GNU tar with --xattrs --numeric-owner -p, as WSL's bsdtar
#            extracts). Target: median ratio <= 1.2.
#   launch:  `azurelinux run -- true` on a running instance (the launcher enters the instance's
#            namespaces, as WSL does) vs the least a sandbox per launch costs: `bwrap` with new
#            pid/ipc/uts namespaces, the rootfs, /proc and /dev, running true. Target: median
#            ratio <= 1.5.
# On the cached Debian guest tree (tests/e2e/lib/rootfs-cache.sh) made into a .wsl (gzip level 6) by
# `azurelinux image build`. Runs alternate ours/reference after one untimed warm-up of each; every
# install goes to a fresh directory on the same file system (/dev/shm unless AZL_BENCH_TMPDIR).
#
# Usage: bench/install.sh [BUILD_DIR] [-n RUNS] [--strict]
#   BUILD_DIR  where `azurelinux` was built (default: build/dev); or set AZL_BIN
#   -n RUNS    timed runs of each (default 5 installs; launches: 20 × RUNS)
#   --strict   exit 1 when a target is missed
# Needs root, bubblewrap, tar, python3.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=tests/e2e/lib/rootfs-cache.sh
source "$repo/tests/e2e/lib/rootfs-cache.sh"

runs=5 strict=0 build_dir=$repo/build/dev
while (($#)); do
    case $1 in
    -n) runs=${2:?-n needs a number}; shift 2 ;;
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
e2e_require_tools bwrap tar python3
guest_tar=$(azl_guest_tar)
base=${AZL_BENCH_TMPDIR:-$(e2e_scratch_base)}
work=$(mktemp -d "$base/azl-bench-install.XXXXXX")
e2e_on_exit "cd / && rm -rf -- '$work'"
cd "$work"
export XDG_DATA_HOME=$work/data XDG_RUNTIME_DIR=$work/runtime AZL_SANDBOX_DRIVE_C=$work/c
mkdir -p "$XDG_RUNTIME_DIR" "$AZL_SANDBOX_DRIVE_C"

e2e_log "making guest.wsl from $guest_tar"
"$azl" --quiet image build --from "$guest_tar" --no-wsl-files -o guest.wsl >/dev/null
e2e_log "guest.wsl: $(du -h guest.wsl | cut -f1) compressed, $(du -sh --apparent-size "$guest_tar" | cut -f1) of tar"

# timed OUTFILE CMD...: appends the wall time of CMD in seconds to OUTFILE (EPOCHREALTIME: no
# process of ours between the two reads).
timed() {
    local out=$1 t0 t1
    shift
    t0=$EPOCHREALTIME
    "$@" >/dev/null
    t1=$EPOCHREALTIME
    python3 -c "print(${t1/,/.} - ${t0/,/.})" >>"$out"
}

ours_install() { "$azl" --quiet install --from guest.wsl --name "B$1" --root; }
ref_install() { mkdir "ref$1" && tar --xattrs --xattrs-include='*' --numeric-owner -xpzf guest.wsl -C "ref$1"; }
cleanup_run() {
    "$azl" --quiet uninstall --name "B$1" --yes >/dev/null
    rm -rf -- "ref$1"
}

e2e_log "install: warm-up, then $runs runs of each, alternating"
ours_install 0 >/dev/null
ref_install 0
cleanup_run 0
: >ours.install
: >ref.install
for i in $(seq 1 "$runs"); do
    timed ours.install ours_install "$i"
    timed ref.install ref_install "$i"
    cleanup_run "$i"
done

e2e_log "launch: one instance, warm-up, then $((20 * runs)) launches of each, alternating"
"$azl" --quiet install --from guest.wsl --name L --root >/dev/null
rootfs=$XDG_DATA_HOME/azurelinux/distros/L/rootfs
"$azl" run --name L -- true
bare=(bwrap --unshare-pid --unshare-ipc --unshare-uts --die-with-parent --bind "$rootfs" / --proc /proc
    --dev /dev --clearenv --setenv PATH /usr/bin:/bin -- /bin/true)
"${bare[@]}"
: >ours.launch
: >ref.launch
for _ in $(seq 1 $((20 * runs))); do
    timed ours.launch "$azl" run --name L -- true
    timed ref.launch "${bare[@]}"
done
"$azl" --quiet uninstall --name L --yes >/dev/null

python3 - "$strict" <<'PY'
import statistics, sys
strict = sys.argv[1] == "1"
def med(name):
    return statistics.median(float(x) for x in open(name))
rows = [("install", med("ours.install"), med("ref.install"), 1.2, "mkdir && tar -xzf"),
        ("launch", med("ours.launch"), med("ref.launch"), 1.5, "bwrap ... true")]
missed = False
for what, ours, ref, target, ref_name in rows:
    ratio = ours / ref
    ok = ratio <= target
    missed |= not ok
    print(f"{what:8} ours {ours*1000:8.1f} ms   reference ({ref_name}) {ref*1000:8.1f} ms   "
          f"ratio {ratio:5.2f} (target <= {target}) {'ok' if ok else 'MISSED'}")
sys.exit(1 if (strict and missed) else 0)
PY
