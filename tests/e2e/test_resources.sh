#!/usr/bin/env bash
# Resource exhaustion and permissions, end to end: `image build`, `install` and `backup` on small
# tmpfs file systems that fill up (caught by the free-space pre-check, and by ENOSPC half-way), a
# read-only output directory and a read-only $XDG_DATA_HOME, no bwrap on PATH, and a guest without
# useradd. Each must end with one clear error line (plus at most a hint) naming the file system or
# tool and the fix, a non-zero exit, and nothing partial left: no temporary file, no staging
# directory, no half-written image, no distribution in `list` that was not there before.
#
# Needs root (mounts); exits 77 (skipped) otherwise.
# Usage: test_resources.sh PATH/TO/azurelinux
set -euo pipefail
azl_bin=$(realpath "${1:?usage: $0 PATH/TO/azurelinux}")
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib/rootfs-cache.sh
source "$here/lib/rootfs-cache.sh"

if [[ $(id -u) -ne 0 ]]; then
    echo "resources: skipped, the tests mount file systems and need root"
    exit 77
fi
e2e_require_tools bwrap python3 mount umount
e2e_scratch
trap 'printf "FAIL: line %s: %s\n" "$LINENO" "$BASH_COMMAND" >&"$E2E_STDERR"' ERR
export XDG_DATA_HOME=$E2E_TMP/data XDG_RUNTIME_DIR=$E2E_TMP/runtime AZL_SANDBOX_DRIVE_C=$E2E_TMP/c
mkdir -p "$XDG_RUNTIME_DIR" "$AZL_SANDBOX_DRIVE_C" "$XDG_DATA_HOME"
azl() { e2e_azl "$azl_bin" "$@"; }

# Every mount of ours goes when the test does, before the scratch directory is removed.
mounts=()
cleanup() {
    local m n
    for n in $("$azl_bin" list --json 2>/dev/null | python3 -c 'import json,sys; print(" ".join(d["name"] for d in json.load(sys.stdin)))'); do
        "$azl_bin" terminate --name "$n" >/dev/null 2>&1 || true
    done
    for m in "${mounts[@]}"; do
        umount -l "$m" 2>/dev/null || true
    done
    cd / && rm -rf -- "$E2E_TMP"
}
e2e_on_exit cleanup

# small_fs DIR SIZE [ro]: a tmpfs of SIZE at DIR (read-only with ro).
small_fs() {
    mkdir -p "$1"
    mount -t tmpfs -o "size=$2${3:+,$3}" tmpfs "$1"
    mounts+=("$1")
}

# read_only_bind DIR: DIR becomes a read-only bind mount of itself (as root, permission bits do not
# stop us; a read-only mount does).
read_only_bind() {
    mount --bind "$1" "$1"
    mounts+=("$1")
    mount -o remount,bind,ro "$1"
}

bad_inputs=0
# What runs the program in expect_error: e.g. (env PATH=DIR) to take tools away from it only.
runner=()
# expect_error EXPECTED_TEXT CMD...: CMD fails with "azurelinux: ..." whose first line contains
# EXPECTED_TEXT, plus at most a hint line; the first line is left in $first and the hint in $hint.
expect_error() {
    local want=$1 rc=0
    shift
    bad_inputs=$((bad_inputs + 1))
    e2e_azl "${runner[@]}" "$azl_bin" --quiet "$@" >"$E2E_TMP/out" 2>"$E2E_TMP/err" || rc=$?
    ((rc != 0)) || e2e_fail "$* succeeded; expected: $want"
    [[ -z ${E2E_SHOW:-} ]] || cat "$E2E_TMP/err" >&2
    first=$(grep -v '^  hint: ' "$E2E_TMP/err" | tail -n 1)
    hint=$(grep '^  hint: ' "$E2E_TMP/err" || true)
    [[ $first == "azurelinux: "*"$want"* ]] || { cat "$E2E_TMP/err" >&2; e2e_fail "$*: expected '$want', got: $first"; }
    # Ours, that is: what a guest program prints on the terminal during setup is the guest's.
    local lines
    if [[ ${guest_output:-no} == yes ]]; then
        lines=$(grep -c '^azurelinux: ' "$E2E_TMP/err")
    else
        lines=$(grep -v '^  hint: ' "$E2E_TMP/err" | grep -vc '^Installing \|^Backing up ')
    fi
    ((lines == 1)) || { cat "$E2E_TMP/err" >&2; e2e_fail "$*: more than one error line"; }
}

# expect_empty DIR: nothing at all in DIR (no temporary file, no staging directory, no output).
expect_empty() {
    [[ -z $(ls -A "$1") ]] || { ls -lAR "$1" >&2; e2e_fail "left behind in $1"; }
}

names() { azl list --json | python3 -c 'import json,sys; print(" ".join(d["name"] + ":" + d["state"] for d in json.load(sys.stdin)))'; }

# The N of "needed ~N MiB" in the last error.
needed_mib() {
    [[ $first =~ needed\ ~([0-9.]+)\ MiB ]] || e2e_fail "no 'needed ~N MiB' in: $first"
    printf '%s\n' "${BASH_REMATCH[1]}"
}

e2e_check "fixtures: a 6 MiB tree that does not compress, and one of 3000 tiny files"
mkdir -p tree/etc tree/bin many/etc many/bin
printf 'ID=e2e\nVERSION_ID=1\n' >tree/etc/os-release
head -c $((6 << 20)) /dev/urandom >tree/bin/blob
cp tree/etc/os-release many/etc/
for i in $(seq 1 3000); do echo "$i"; done | split -l 1 -a 4 - many/etc/tiny.
e2e_run azl --quiet image build --from tree --no-wsl-files --level 1 -o tree.wsl >/dev/null
e2e_run azl --quiet image build --from many --no-wsl-files --level 1 -o many.wsl >/dev/null
e2e_run azl --quiet install --from tree.wsl --name Full --root >/dev/null
small_fs "$E2E_TMP/full" 2m
full=$E2E_TMP/full

e2e_check "disk full: image build, gzip (ENOSPC half-way: needed estimated from the ratio so far)"
expect_error "no space left on $full for $full/out.wsl (needed ~" image build --from tree --no-wsl-files --level 1 -o "$full/out.wsl"
[[ $first == *", 2.0 MiB free)" ]] || e2e_fail "free space: $first"
needed=$(needed_mib)
python3 -c 'import sys; n = float(sys.argv[1]); assert 5.5 <= n <= 7, n' "$needed" || e2e_fail "needed ~$needed MiB for a 6 MiB random blob"
[[ $hint == *"free some space on $full"* ]] || e2e_fail "hint: $hint"
expect_empty "$full"

e2e_check "disk full: image build, no compression (refused by the pre-check, before writing)"
expect_error "no space left on $full for $full/out.tar (needed ~6.0 MiB, 2.0 MiB free)" image build --from tree --no-wsl-files --compression none -o "$full/out.tar"
expect_empty "$full"

e2e_check "disk full: install into \$XDG_DATA_HOME on the full file system (pre-check; ENOSPC half-way)"
before=$(XDG_DATA_HOME=$full/data names)
XDG_DATA_HOME=$full/data expect_error "no space left on $full for $full/data/azurelinux/distros/T/rootfs (needed more than 6.0 MiB" install --from tree.wsl --name T --root
# 3000 files of a few bytes: 20 KiB compressed, so the pre-check passes; their blocks do not fit.
XDG_DATA_HOME=$full/data expect_error "no space left on $full for $full/data/azurelinux/distros/M/rootfs (needed ~" install --from many.wsl --name M --root
# A page each on tmpfs: about 12 MiB, though the content is 15 KiB.
needed=$(needed_mib)
python3 -c 'import sys; n = float(sys.argv[1]); assert 11 <= n <= 13, n' "$needed" || e2e_fail "needed ~$needed MiB for 3000 files"
[[ $(XDG_DATA_HOME=$full/data names) == "$before" ]] || e2e_fail "list changed: $(XDG_DATA_HOME=$full/data names)"
expect_empty "$full/data/azurelinux/distros"

e2e_check "disk full: backup to the full file system (tar.gz half-way; tar refused by the pre-check)"
expect_error "no space left on $full for $full/b.tar.gz (needed ~" backup --name Full -o "$full/b.tar.gz"
expect_error "no space left on $full for $full/b.tar (needed ~6.0 MiB, 2.0 MiB free)" backup --name Full --format tar -o "$full/b.tar"
rm -rf "${full:?}/data"
expect_empty "$full"

e2e_check "read-only output directory: image build and backup"
small_fs "$E2E_TMP/ro" 1m ro
expect_error "cannot write $E2E_TMP/ro/out.wsl: $E2E_TMP/ro is on a read-only file system" image build --from tree --no-wsl-files -o "$E2E_TMP/ro/out.wsl"
[[ $hint == *"writable file system"* ]] || e2e_fail "hint: $hint"
expect_error "cannot write $E2E_TMP/ro/b.tar.gz: $E2E_TMP/ro is on a read-only file system" backup --name Full -o "$E2E_TMP/ro/b.tar.gz"
expect_empty "$E2E_TMP/ro"

e2e_check "read-only \$XDG_DATA_HOME (a read-only bind mount): install says so and how to fix it"
mkdir -p rodata
read_only_bind "$E2E_TMP/rodata"
XDG_DATA_HOME=$E2E_TMP/rodata expect_error "cannot write $E2E_TMP/rodata/azurelinux/distros: $E2E_TMP/rodata/azurelinux is on a read-only file system" install --from tree.wsl --name T --root
[[ $hint == *"XDG_DATA_HOME"* ]] || e2e_fail "hint: $hint"
[[ -z $(XDG_DATA_HOME=$E2E_TMP/rodata names) ]] || e2e_fail "list of a read-only store"
expect_empty "$E2E_TMP/rodata"
expect_error "cannot write $E2E_TMP/ro/loc" install --from tree.wsl --name T --root --location "$E2E_TMP/ro/loc"
[[ $(names) == "Full:Stopped" && ! -e $XDG_DATA_HOME/azurelinux/distros/T ]] || e2e_fail "after --location on a read-only fs: $(names)"

e2e_check "no bwrap on PATH: install, run and doctor say so, and how to install it"
mkdir nobin
runner=(env "PATH=$E2E_TMP/nobin")
expect_error "bwrap (bubblewrap) is not installed" install --from tree.wsl --name T --root
[[ $hint == *"apt-get install bubblewrap"* ]] || e2e_fail "install hint: $hint"
expect_error "bwrap (bubblewrap) is not installed" run --name Full -- true
[[ $hint == *"apt-get install bubblewrap"* ]] || e2e_fail "run hint: $hint"
runner=()
bad_inputs=$((bad_inputs + 1))
rc=0
PATH=$E2E_TMP/nobin "$azl_bin" doctor --name Full >doctor.out 2>&1 || rc=$?
((rc != 0)) || e2e_fail "doctor without bwrap succeeded"
grep -q "bwrap (bubblewrap) is not installed (install it: apt-get install bubblewrap)" doctor.out ||
    { cat doctor.out >&2; e2e_fail "doctor does not say bwrap is missing"; }
[[ $(names) == "Full:Stopped" && ! -e $XDG_DATA_HOME/azurelinux/distros/T ]] || e2e_fail "after no bwrap: $(names)"

oobe_bin=$(dirname "$azl_bin")/azurelinux-oobe
if [[ -x $oobe_bin ]]; then
    e2e_check "no useradd in the guest: setup fails naming it (exit 3), no user, and runs again at the next launch"
    guest_tar=$(azl_guest_tar)
    install -m 0600 "$here/../../oobe/examples/answers.json" answers.json
    e2e_run azl --quiet image build --from "$guest_tar" --remove /usr/sbin/useradd --oobe "$oobe_bin" \
        --no-bridge --answers answers.json --level 1 -o nouseradd.wsl >/dev/null
    guest_output=yes expect_error 'first-run setup "/usr/lib/wsl/azurelinux-oobe" of NoUseradd failed (exit 3)' install --from nouseradd.wsl --name NoUseradd
    grep -q "^azurelinux-oobe: step user failed: useradd is not installed, so no user can be created: install it with \`apt-get install passwd\`" "$E2E_TMP/err" ||
        { cat "$E2E_TMP/err" >&2; e2e_fail "the guest's error does not name useradd"; }
    root=$XDG_DATA_HOME/azurelinux/distros/NoUseradd/rootfs
    ! grep -q '^dev:' "$root/etc/passwd" "$root/etc/group" "$root/etc/shadow" || e2e_fail "a user dev was created"
    [[ ! -e $root/home/dev && -z $(compgen -G "$root/etc/sudoers.d/*azurelinux*") ]] || e2e_fail "a home or a sudoers file without a user"
    azl list --json | python3 -c 'import json,sys; d = [d for d in json.load(sys.stdin) if d["name"] == "NoUseradd"][0]; assert d["setup_pending"], d' ||
        e2e_fail "setup is not pending after it failed"
    e2e_check "... put useradd back: the next launch runs setup again, and it completes"
    tar -xpf "$guest_tar" -C "$root" ./usr/sbin/useradd 2>/dev/null || tar -xpf "$guest_tar" -C "$root" usr/sbin/useradd
    azl --quiet --name NoUseradd </dev/null >/dev/null 2>"$E2E_TMP/err" || true
    grep -q '^dev:' "$root/etc/passwd" || { cat "$E2E_TMP/err" >&2; e2e_fail "setup did not run again at the next launch"; }
    [[ $(azl run --name NoUseradd -- id -un) == dev ]] || e2e_fail "dev is not the default user after setup"
    azl --quiet uninstall --name NoUseradd --yes >/dev/null
else
    e2e_log "skipping the missing-useradd case: no $oobe_bin (build the azurelinux-oobe target)"
fi

e2e_check "cleanup"
azl --quiet uninstall --name Full --yes >/dev/null
[[ -z $(names) ]] || e2e_fail "left: $(names)"
echo "resources: all checks passed in ${SECONDS}s ($bad_inputs bad inputs)"
