#!/usr/bin/env bash
# Fault injection: kill -9 at spread-out points during `image build`, `install`, `backup`, `restore`,
# `uninstall` and first-run setup (azurelinux-oobe in the guest tree, run the way WSL runs it).
# Half the kills hit the program only (its children, if any, run on), half its whole process group
# at once (a power loss). After each kill the state must be the old one or the new one:
#   image/backup: the output is absent, the old file or the new one, never partial; FILE.sha256 never
#     disagrees with FILE; nothing else is left in the output directory or in TMPDIR.
#   install/restore/uninstall: `list --json` shows the name installed or not at all, never
#     installing; the store holds the instance's directory complete (record + rootfs) or not at all;
#     the instance that is left at the end of each part runs.
#   first-run setup: no account without a password hash, no sudoers rule without its user, a user with
#     sudo rights only once its password is set; a half-created user is marked for rollback.
# And each time the next run of the same operation succeeds. The kills land on small trees (a few
# programs from the guest; for first-run setup, the guest tree without what setup never reads), so
# that each of the ~150 runs is cheap; the full guest tree is installed once, uninterrupted, at the
# end. The seed is printed; rerun a failure with
# AZL_FAULTS_SEED=N, and AZL_FAULTS_KILLS=N changes the number of kills per operation (default 20).
#
# Usage: test_faults.sh PATH/TO/azurelinux PATH/TO/azurelinux-oobe
set -euo pipefail
azl_bin=$(realpath "${1:?usage: $0 PATH/TO/azurelinux PATH/TO/azurelinux-oobe}")
oobe_bin=$(realpath "${2:?usage: $0 PATH/TO/azurelinux PATH/TO/azurelinux-oobe}")
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib/rootfs-cache.sh
source "$here/lib/rootfs-cache.sh"
# shellcheck source=tests/e2e/lib/guest.sh
source "$here/lib/guest.sh"

e2e_require_root
e2e_require_tools bwrap setsid sha256sum ps openssl
PY=/usr/bin/python3 # Debian's, with crypt
guest_tar=$(azl_guest_tar)
e2e_scratch
trap 'printf "FAIL: line %s: %s\n" "$LINENO" "$BASH_COMMAND" >&"$E2E_STDERR"' ERR
export XDG_DATA_HOME=$E2E_TMP/data XDG_RUNTIME_DIR=$E2E_TMP/runtime AZL_SANDBOX_DRIVE_C=$E2E_TMP/c
mkdir -p "$XDG_RUNTIME_DIR" "$AZL_SANDBOX_DRIVE_C"
store=$XDG_DATA_HOME/azurelinux/distros
azl() { e2e_azl "$azl_bin" "$@"; }
stop_instances() {
    local n
    for n in $("$azl_bin" list --json 2>/dev/null | "$PY" -c 'import json,sys; print(" ".join(d["name"] for d in json.load(sys.stdin)))'); do
        "$azl_bin" terminate --name "$n" >/dev/null 2>&1 || true
    done
}
e2e_on_exit "stop_instances; cd / && rm -rf -- '$E2E_TMP'"

seed=${AZL_FAULTS_SEED:-$((RANDOM * 32768 + RANDOM))}
kills=${AZL_FAULTS_KILLS:-20}
RANDOM=$seed
e2e_log "seed $seed (rerun with AZL_FAULTS_SEED=$seed), $kills kills per operation"

now_ms() { local t=${EPOCHREALTIME/./}; printf '%s\n' $((t / 1000)); }

# The pids of every descendant of PID.
descendants() {
    ps -e -o pid=,ppid= | awk -v root="$1" '
        { parent[$1] = $2 }
        END {
            want[root] = 1
            do { n = 0; for (p in parent) if (!(p in want) && (parent[p] in want)) { want[p] = 1; n++ } } while (n)
            for (p in want) if (p != root) print p
        }'
}

# Whether a process of the process group PGID still runs. Zombies do not count: they run nothing,
# and orphans wait as zombies for whoever reaps them (an init that reaps every few seconds, in some
# VMs and containers).
group_runs() {
    ps -e -o pgid=,stat= | awk -v g="$1" '$1 == g && $2 !~ /^Z/ { found = 1 } END { exit !found }'
}

# The gate in front of the OOBE (gated-oobe below: a script in its place in the trees and images
# the kills run on). When the file oobe-gated exists in the folder the sandbox shows at /mnt/c,
# the script says "ready" on the FIFO oobe-gate and waits for a line on the FIFO oobe-go before it
# runs the real OOBE; otherwise it runs it at once. The test holds both FIFOs open at both ends, so
# no open blocks. A kill's delay then counts from the OOBE's start exactly: a busy machine notices
# a process late, and the OOBE's setup takes a tenth of a second.
gates=$AZL_SANDBOX_DRIVE_C
mkfifo "$gates/oobe-gate" "$gates/oobe-go"
exec {gate_fd}<>"$gates/oobe-gate" {go_fd}<>"$gates/oobe-go"
mkfifo "$E2E_TMP/.pause"
exec {pause_fd}<>"$E2E_TMP/.pause"

# pause SECONDS: sleeps without starting a process (a read from a FIFO nobody writes to, timing
# out), so that a kill lands when it should on a busy machine too.
pause() { read -r -t "$1" -u "$pause_fd" _ || true; }

# Empties FD (a FIFO we hold open) of what a killed run left in it.
drain() { while read -r -t 0 -u "$1"; do read -r -u "$1" _; done; }

# inject MODE DELAY_MS CMD...: runs CMD in a session and process group of its own and after
# DELAY_MS sends SIGKILL: MODE pid to the program only (its children run on; or, with $kill_comm
# set, to the descendant of that name instead), MODE tree to the whole process group at once (a
# power loss). With $gate set, CMD runs the gated OOBE: the delay counts from its start, and a
# $kill_comm target is found while it waits at the gate. Then waits until no process of the group
# is left. Returns 0 when the kill hit a running program, 1 when CMD had already finished (nothing
# injected); fails the test if CMD failed by itself.
inject() {
    local mode=$1 delay=$2 pid rc=0 hit=yes target='' p n seconds
    shift 2
    printf -v seconds '%d.%03d' $((delay / 1000)) $((delay % 1000))
    if [[ -n ${gate:-} ]]; then
        drain "$gate_fd"
        drain "$go_fd"
        : >"$gates/oobe-gated"
    fi
    TMPDIR=$E2E_AZL_TMP setsid "$@" >"$E2E_TMP/op.out" 2>&1 &
    pid=$!
    # A run that never reaches the gate has failed before its setup: judged below once it ended.
    if [[ -n ${gate:-} ]] && read -r -t "$(e2e_scaled 60)" -u "$gate_fd" _; then
        if [[ -n ${kill_comm:-} ]]; then # the OOBE (under bubblewrap, in the instance), held here
            for p in $(descendants "$pid"); do
                [[ $(cat "/proc/$p/comm" 2>/dev/null) == "$kill_comm" ]] && target=$p
            done
        fi
        printf 'go\n' >&"$go_fd"
    fi
    rm -f "$gates/oobe-gated"
    pause "$seconds"
    if [[ $mode == tree ]]; then
        kill -KILL -- "-$pid" 2>/dev/null || true
    else
        [[ -n ${kill_comm:-} ]] || target=$pid
        [[ -n $target ]] && kill -KILL "$target" 2>/dev/null || hit=no
    fi
    wait "$pid" 2>/dev/null || rc=$?
    # bash reaps on its own: whether the kill landed shows in the exit status.
    if [[ $mode == tree || -z ${kill_comm:-} ]]; then [[ $rc == 137 ]] || hit=no; fi
    n=$((SECONDS + $(e2e_scaled 12)))
    while ((SECONDS < n)) && group_runs "$pid"; do sleep 0.01; done
    group_runs "$pid" && e2e_fail "processes of the killed $1 outlived it by $(e2e_scaled 12) s"
    if [[ $hit == no ]]; then
        ((rc == 0)) || { cat "$E2E_TMP/op.out" >&2; e2e_fail "uninterrupted $* failed (exit $rc)"; }
        return 1
    fi
    return 0
}

# Kill point k of n over a duration of T ms: k*T/(n+1), give or take a third of the step.
kill_point() {
    local k=$1 n=$2 t=$3 step
    step=$((t / (n + 1)))
    printf '%s\n' $((k * step + (RANDOM % (2 * step / 3 + 1)) - step / 3 + 1))
}

# The names in DIR other than the NAMEs given.
others() {
    local dir=$1 f
    shift
    for f in "$dir"/* "$dir"/.[!.]*; do
        [[ -e $f ]] || continue
        [[ " $* " == *" ${f##*/} "* ]] || printf '%s\n' "${f##*/}"
    done
}

# Whether the TMPDIR our program gets is empty (without a process: the loops run this often).
tmp_empty() {
    local left
    left=$(shopt -s nullglob dotglob; echo "$E2E_AZL_TMP"/*)
    [[ -z $left ]]
}

# Runs the program to completion, printing how long it took in ms; fails the test if it fails.
timed() {
    local start out rc=0
    start=$(now_ms)
    out=$(TMPDIR=$E2E_AZL_TMP "$@" 2>&1) || rc=$?
    ((rc == 0)) || { printf '%s\n' "$out" >&2; e2e_fail "exit $rc: $*"; }
    tmp_empty || e2e_fail "$* left files in TMPDIR"
    printf '%s\n' $(($(now_ms) - start))
}

declare -A injected survived
summary=()

# faults OP PREPARE CHECK NEXT T CMD...: injects kills over T ms; before each PREPARE sets the old state, after it CHECK asserts the state is old or new and NEXT runs
# the operation to completion. $kills kills, or $op_kills when set.
faults() {
    local op=$1 prepare=$2 check=$3 next=$4 t=$5 t0=$5 attempt=0 mode delay done=0 kills=${op_kills:-$kills}
    shift 5
    injected[$op]=0 survived[$op]=0
    while ((done < kills)); do
        ((attempt < 3 * kills)) || e2e_fail "$op: only $done of $kills kills landed in $attempt tries"
        mode=$([[ $((attempt % 2)) == 0 ]] && echo pid || echo tree)
        delay=$(kill_point $((done % kills + 1)) "$kills" "$t")
        attempt=$((attempt + 1))
        "$prepare" "$attempt"
        if ! inject "$mode" "$delay" "$@"; then
            # It finished before the kill: the points were spread over too long a time.
            t=$((t * 3 / 4))
            "$next" "$attempt" already-done
            continue
        fi
        done=$((done + 1))
        injected[$op]=$((injected[$op] + 1))
        tmp_empty || { ls -lA "$E2E_AZL_TMP" >&2; e2e_fail "$op killed ($mode at ${delay} ms) left files in TMPDIR"; }
        "$check" "$attempt" "$mode at ${delay} ms"
        "$next" "$attempt" after-kill
        survived[$op]=$((survived[$op] + 1))
    done
    summary+=("$op: ${injected[$op]} kills injected (half program only, half process tree), ${survived[$op]} survived, $((attempt - done)) runs finished first; T=${t0} ms")
    e2e_log "${summary[-1]}"
}

# NAME:STATE of each listed distribution; read from the pretty-printed JSON (sorted keys, one a
# line) without Python, whose start-up would dominate the loop.
names() {
    local line name="" out=""
    while IFS= read -r line; do
        if [[ $line =~ ^\ *\"name\":\ \"(.*)\",?$ ]]; then
            name=${BASH_REMATCH[1]}
        elif [[ $line =~ ^\ *\"state\":\ \"(.*)\",?$ ]]; then
            out+="$name:${BASH_REMATCH[1]} "
        fi
    done < <("$azl_bin" list --json)
    printf '%s\n' "$out"
}

# --- the fixture: a small tree from the guest (/etc, a shell, a few programs) ----------------------
e2e_check "a small fixture tree from the guest (/etc, a shell, cat), so that $kills kills per operation fit the time budget"
mkdir small
tar --xattrs --xattrs-include='*' --numeric-owner -xpf "$guest_tar" -C small ./etc ./bin ./lib ./lib64 ./sbin \
    ./usr/lib64 ./usr/bin/bash ./usr/bin/dash ./usr/bin/sh ./usr/bin/cat ./usr/bin/true ./usr/bin/id ./usr/bin/ls \
    ./usr/lib/x86_64-linux-gnu/libc.so.6 ./usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 \
    ./usr/lib/x86_64-linux-gnu/libtinfo.so.6 ./usr/lib/x86_64-linux-gnu/libtinfo.so.6.4 \
    ./usr/lib/x86_64-linux-gnu/libselinux.so.1 ./usr/lib/x86_64-linux-gnu/libpcre2-8.so.0 \
    ./usr/lib/x86_64-linux-gnu/libpcre2-8.so.0.11.2 ./root ./tmp ./var/tmp
tar --xattrs --xattrs-include='*' --numeric-owner -cpf small.tar -C small .
echo "fault injection" >marker.txt
mkdir out

# --- image build ------------------------------------------------------------------------------------
build_cmd=("$azl_bin" --quiet image build --from small.tar --no-wsl-files --level 1 --add marker.txt:/etc/marker.txt -o out/image.wsl)
"$azl_bin" --quiet image build --from small.tar --no-wsl-files --level 1 -o old.wsl >/dev/null
old_sha=$(sha256sum <old.wsl | cut -d' ' -f1)
t_build=$(timed "${build_cmd[@]}")
new_sha=$(cut -d' ' -f1 out/image.wsl.sha256)
[[ $new_sha != "$old_sha" ]] || e2e_fail "the old and new images are the same"
azl image check out/image.wsl >/dev/null

build_prepare() { # odd attempts: no output yet; even ones: the old image and its checksum
    rm -f out/*
    if (($1 % 2 == 0)); then cp old.wsl out/image.wsl && cp old.wsl.sha256 out/image.wsl.sha256; fi
}
build_check() {
    local extra sha
    extra=$(others out image.wsl image.wsl.sha256)
    [[ -z $extra ]] || e2e_fail "image build killed ($2) left in the output directory: $extra"
    if [[ -e out/image.wsl ]]; then
        sha=$(sha256sum <out/image.wsl | cut -d' ' -f1)
        [[ $sha == "$new_sha" || ($sha == "$old_sha" && $(($1 % 2)) == 0) ]] ||
            e2e_fail "image build killed ($2) left a half-written image ($(stat -c %s out/image.wsl) bytes)"
    fi
    if [[ -e out/image.wsl.sha256 ]]; then
        [[ -e out/image.wsl && $(cut -d' ' -f1 out/image.wsl.sha256) == "$sha" ]] ||
            e2e_fail "image build killed ($2): image.wsl.sha256 does not describe image.wsl"
    fi
}
build_next() {
    [[ $2 == already-done ]] || timed "${build_cmd[@]}" >/dev/null
    [[ $(sha256sum <out/image.wsl | cut -d' ' -f1) == "$new_sha" && $(cut -d' ' -f1 out/image.wsl.sha256) == "$new_sha" ]] ||
        e2e_fail "the image build after a kill wrote another image"
}
e2e_check "kill -9 during image build (T=${t_build} ms)"
faults "image build" build_prepare build_check build_next "$t_build" "${build_cmd[@]}"
azl image check out/image.wsl >/dev/null

# --- install and uninstall, alternately ---------------------------------------------------------------
cp out/image.wsl small.wsl && cp out/image.wsl.sha256 small.wsl.sha256
sed -i 's/image.wsl/small.wsl/' small.wsl.sha256

# Asserts that NAME is either installed, complete and working, or not there at all; prints which.
instance_state() {
    local name=$1 what=$2 list
    list=$(names)
    [[ $list != *Installing* ]] || e2e_fail "$what: list shows an install in progress: $list"
    if [[ " $list " == *" $name:"* ]]; then
        [[ -f $store/$name/instance.json && $(<"$store/$name/rootfs/etc/marker.txt") == "fault injection" ]] ||
            e2e_fail "$what: $name is listed but its directory is incomplete"
        grep -q "^  \"name\": \"$name\",\$" "$store/$name/instance.json" || e2e_fail "$what: the record of $name is damaged"
        echo installed
    else
        [[ ! -e $store/$name ]] || e2e_fail "$what: $name is not listed but $store/$name exists: $(ls -A "$store/$name")"
        echo absent
    fi
}

install_cmd=("$azl_bin" --quiet install --from small.wsl --name K --root)
t_install=$(timed "${install_cmd[@]}")
t_uninstall=$(timed "$azl_bin" --quiet uninstall --name K --yes)

# What the CHECK step found: the NEXT step then knows whether the operation still has to run.
last_state=unknown
install_prepare() { :; }
install_check() { last_state=$(instance_state K "install killed ($2)"); }
install_next() { # the next install succeeds (if the killed one finished, the name is taken: that is the new state)
    [[ $2 == after-kill ]] || last_state=$(instance_state K "before the next install")
    if [[ $last_state == absent ]]; then timed "${install_cmd[@]}" >/dev/null; fi
    [[ $(instance_state K "after the next install") == installed ]] || e2e_fail "not installed after the next install"
    timed "$azl_bin" --quiet uninstall --name K --yes >/dev/null
}
e2e_check "kill -9 during install (T=${t_install} ms)"
faults install install_prepare install_check install_next "$t_install" "${install_cmd[@]}"

uninstall_prepare() { timed "${install_cmd[@]}" >/dev/null; }
uninstall_check() { last_state=$(instance_state K "uninstall killed ($2)"); }
uninstall_next() {
    [[ $2 == after-kill ]] || last_state=$(instance_state K "before the next uninstall")
    if [[ $last_state == installed ]]; then
        timed "$azl_bin" --quiet uninstall --name K --yes >/dev/null
    fi
    [[ $(instance_state K "after the next uninstall") == absent ]] || e2e_fail "still installed after the next uninstall"
}
# Uninstall takes a few ms: kill points spread over ten times that still hit it early, and the
# instance is installed again between kills.
e2e_check "kill -9 during uninstall (T=${t_uninstall} ms)"
faults uninstall uninstall_prepare uninstall_check uninstall_next "$t_uninstall" "$azl_bin" --quiet uninstall --name K --yes

# Runs `cat /etc/marker.txt` in NAME: an instance that survived the kills also starts.
runs_ok() {
    local out rc=0
    out=$("$azl_bin" run --name "$1" -- cat /etc/marker.txt 2>&1 </dev/null) || rc=$?
    [[ $out == "fault injection" ]] || e2e_fail "$1 does not run (exit $rc): $out"
    "$azl_bin" terminate --name "$1" >/dev/null
}

# --- backup and restore -------------------------------------------------------------------------------
timed "${install_cmd[@]}" >/dev/null
runs_ok K
backup_cmd=("$azl_bin" --quiet backup --name K -o out/backup.tar.gz)
rm -f out/*
t_backup=$(timed "${backup_cmd[@]}")
backup_sha=$(sha256sum <out/backup.tar.gz | cut -d' ' -f1)
cp out/backup.tar.gz backup.tar.gz && cp out/backup.tar.gz.sha256 backup.tar.gz.sha256 && cp out/backup.tar.gz.json backup.tar.gz.json
backup_prepare() { rm -f out/*; }
backup_check() {
    local extra
    extra=$(others out backup.tar.gz backup.tar.gz.sha256 backup.tar.gz.json)
    [[ -z $extra ]] || e2e_fail "backup killed ($2) left in the output directory: $extra"
    if [[ -e out/backup.tar.gz ]]; then
        [[ $(sha256sum <out/backup.tar.gz | cut -d' ' -f1) == "$backup_sha" ]] ||
            e2e_fail "backup killed ($2) left a half-written backup ($(stat -c %s out/backup.tar.gz) bytes)"
    fi
    if [[ -e out/backup.tar.gz.json ]]; then # written last: never without the backup it describes
        [[ -e out/backup.tar.gz ]] && cmp -s out/backup.tar.gz.json backup.tar.gz.json ||
            e2e_fail "backup killed ($2): backup.tar.gz.json without its backup, or not its settings"
    fi
    if [[ -e out/backup.tar.gz.sha256 ]]; then
        [[ -e out/backup.tar.gz && $(cut -d' ' -f1 out/backup.tar.gz.sha256) == "$backup_sha" ]] ||
            e2e_fail "backup killed ($2): backup.tar.gz.sha256 does not describe backup.tar.gz"
    fi
    [[ $(instance_state K "backup killed ($2)") == installed ]] || e2e_fail "a killed backup lost the instance"
}
backup_next() { # --force: a backup killed after its rename has left the complete file
    [[ $2 == already-done ]] || timed "${backup_cmd[@]}" --force >/dev/null
    [[ $(sha256sum <out/backup.tar.gz | cut -d' ' -f1) == "$backup_sha" ]] || e2e_fail "the next backup differs"
}
e2e_check "kill -9 during backup (T=${t_backup} ms)"
faults backup backup_prepare backup_check backup_next "$t_backup" "${backup_cmd[@]}"
timed "$azl_bin" --quiet uninstall --name K --yes >/dev/null

restore_cmd=("$azl_bin" --quiet restore --from backup.tar.gz --name R)
t_restore=$(timed "${restore_cmd[@]}")
timed "$azl_bin" --quiet uninstall --name R --yes >/dev/null
restore_check() { last_state=$(instance_state R "restore killed ($2)"); }
restore_next() {
    [[ $2 == after-kill ]] || last_state=$(instance_state R "before the next restore")
    if [[ $last_state == absent ]]; then timed "${restore_cmd[@]}" >/dev/null; fi
    [[ $(instance_state R "after the next restore") == installed ]] || e2e_fail "not restored after the next restore"
    timed "$azl_bin" --quiet uninstall --name R --yes >/dev/null
}
e2e_check "kill -9 during restore (T=${t_restore} ms)"
faults restore install_prepare restore_check restore_next "$t_restore" "${restore_cmd[@]}"
timed "${restore_cmd[@]}" >/dev/null
runs_ok R
timed "$azl_bin" --quiet uninstall --name R --yes >/dev/null

# --- first-run setup in the guest tree ------------------------------------------------------------------
# The kills run on the guest tree without what first-run setup never reads (documentation, locale
# and time zone data, perl, apt's lists and dpkg's file lists): a third of its size and a sixth of
# its files, so that each install in the kill loops below costs that much less. The full tree is
# installed once, at the end, uninterrupted.
e2e_check "first-run setup: the guest tree (without docs, locales, perl) with the OOBE where images put it"
OOBE=/usr/lib/wsl/azurelinux-oobe
guest=$E2E_TMP/guest
mkdir "$guest"
tar --xattrs --xattrs-include='*' --numeric-owner -xpf "$guest_tar" -C "$guest" \
    --exclude=usr/share/doc --exclude=usr/share/man --exclude=usr/share/info --exclude=usr/share/locale \
    --exclude=usr/share/i18n --exclude=usr/share/zoneinfo --exclude=usr/share/common-licenses \
    --exclude=usr/share/perl --exclude=usr/share/perl5 --exclude='usr/bin/perl*' \
    --exclude=usr/lib/x86_64-linux-gnu/perl --exclude=usr/lib/x86_64-linux-gnu/perl-base \
    --exclude='usr/lib/x86_64-linux-gnu/libperl*' --exclude=usr/lib/x86_64-linux-gnu/gconv \
    --exclude=usr/lib/locale --exclude=var/cache --exclude=var/lib/apt --exclude=var/lib/dpkg/info
# The OOBE behind the gate (see inject): a script in its place that runs the real one (its comm is
# "azurelinux-oobe" before and after its exec).
cat >gated-oobe <<'SH'
#!/bin/sh
if [ -e /mnt/c/oobe-gated ]; then
    echo ready >/mnt/c/oobe-gate
    read -r go </mnt/c/oobe-go
fi
exec /usr/lib/wsl/azurelinux-oobe.real "$@"
SH
# The image for install --answers below, from the tree as it is now (before any setup ran in it).
"$azl_bin" --quiet image build --from "$guest" --oobe "$oobe_bin" --no-bridge --level 1 \
    --add "$oobe_bin:$OOBE.real:0755" --add "gated-oobe:$OOBE:0755" -o oobe.wsl >/dev/null
install -D -m 0755 "$oobe_bin" "$guest$OOBE.real"
install -D -m 0755 gated-oobe "$guest$OOBE"
cp -a "$guest/etc" "$E2E_TMP/guest-etc"
password='Corr3ct horse!'
# A SHA-512 hash rather than a password: hashing with yescrypt is slow by design, and 20 runs add up.
"$PY" - "$(openssl passwd -6 "$password")" >answers.json <<'PY'
import json, sys
print(json.dumps({"version": 1, "user": {"name": "dev", "gecos": "Dev", "groups": [], "sudo": "password",
    "password_hash": sys.argv[1]}, "hostname": "faultbox", "systemd": False}))
PY
chmod 600 answers.json
oobe_cmd=(bwrap --bind "$guest" / --bind "$gates" /mnt/c --proc /proc --dev /dev --tmpfs /run
    --unshare-pid --unshare-ipc --unshare-uts --die-with-parent --clearenv --setenv PATH /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
    --setenv HOME /root --setenv LANG C.UTF-8 --setenv WSL_DISTRO_NAME "$E2E_GUEST_DISTRO"
    --ro-bind "$E2E_TMP/answers.json" /run/azurelinux/answers.json
    -- "$OOBE" --answers /run/azurelinux/answers.json)

oobe_prepare() {
    rm -rf "${guest:?}/etc" "$guest/home/dev" "$guest/var/lib/azurelinux-oobe" "$guest/var/log/azurelinux-oobe.log"
    cp -a "$E2E_TMP/guest-etc" "$guest/etc"
}
password_ok() { # [ROOT]: the guest tree, $guest by default
    "$PY" -W ignore - "${1:-$guest}/etc/shadow" dev "$password" <<'PY'
import crypt, sys
for line in open(sys.argv[1]):
    f = line.rstrip("\n").split(":")
    if f[0] == sys.argv[2]:
        sys.exit(0 if f[1] not in ("", "!", "*") and crypt.crypt(sys.argv[3], f[1]) == f[1] else 1)
sys.exit(2)
PY
}
# setup_state_ok ROOT WHAT: the accounts of the guest tree ROOT are in a state a kill may leave.
oobe_check() { setup_state_ok "$guest" "first-run setup killed ($2)"; }
setup_state_ok() {
    local guest=$1 what=$2 f user state=$1/var/lib/azurelinux-oobe/state.json
    awk -F: '$2 == "" { print "account " $1 " has an empty password field"; bad = 1 } END { exit bad }' "$guest/etc/shadow" ||
        e2e_fail "$what: an account without a password"
    for f in "$guest"/etc/sudoers.d/10-azurelinux-*; do
        [[ -e $f ]] || continue
        user=${f##*/10-azurelinux-}
        grep -q "^$user:" "$guest/etc/passwd" || e2e_fail "$what: $f without its user"
        password_ok "$guest" || e2e_fail "$what: $user has sudo rights before its password is set"
    done
    if grep -q '^dev:' "$guest/etc/passwd"; then
        if grep -q '"user"' "$state" 2>/dev/null && ! grep -q '"creating_user": "dev"' "$state"; then
            password_ok "$guest" || e2e_fail "$what: user step done but the password does not verify"
            [[ -e $guest/etc/sudoers.d/10-azurelinux-dev ]] || e2e_fail "$what: user step done but no sudoers rule"
        else
            grep -q '"creating_user": "dev"' "$state" 2>/dev/null ||
                e2e_fail "$what: a half-created user dev that the next run does not know to roll back"
        fi
    fi
}
oobe_next() {
    local out rc=0
    out=$("${oobe_cmd[@]}" </dev/null 2>&1) || rc=$?
    ((rc == 0)) || { printf '%s\n' "$out" >&2; e2e_fail "first-run setup after a kill: exit $rc"; }
    password_ok || e2e_fail "the password after the next run"
    [[ -e $guest/etc/sudoers.d/10-azurelinux-dev && $(grep -c '^dev:' "$guest/etc/passwd") == 1 ]] ||
        e2e_fail "user or sudoers after the next run"
    [[ $(cat "$guest/etc/hostname") == faultbox ]] || e2e_fail "hostname after the next run"
}
oobe_prepare 0
start=$(now_ms)
oobe_next 0
t_oobe=$(($(now_ms) - start))
e2e_check "kill -9 during first-run setup (T=${t_oobe} ms, from the OOBE's start)"
kill_comm=azurelinux-oobe gate=yes # "program only" kills the OOBE inside the sandbox, not bwrap
faults "first-run setup" oobe_prepare oobe_check oobe_next "$t_oobe" "${oobe_cmd[@]}"
kill_comm='' gate=''

# --- first-run setup run by the launcher: install --answers --------------------------------------------
# The launcher extracts the image, then runs the image's OOBE in the instance; the kills land in the
# setup part: counted from the OOBE's start (the gate), over the time it took above with bubblewrap's
# start-up (so the last points reach the launcher setting the default user and clearing the pending
# flag). "Program only" kills alternate between the launcher (the setup it started runs on in the
# instance, as on WSL) and the OOBE inside.
e2e_check "install --answers: an image of the guest tree (as above) with the OOBE"
setup_cmd=("$azl_bin" --quiet install --from oobe.wsl --name S --answers answers.json)
timed "${setup_cmd[@]}" >/dev/null
timed "$azl_bin" --quiet uninstall --name S --yes >/dev/null
setup_prepare() {
    "$azl_bin" --quiet uninstall --name S --yes >/dev/null 2>&1 || true
    if (($1 % 4 == 1)); then kill_comm=azurelinux-oobe; else kill_comm=; fi
}
setup_check() {
    last_state=$(instance_state_any S "install --answers killed ($2)")
    if [[ $last_state == installed ]]; then
        setup_state_ok "$store/S/rootfs" "install --answers killed ($2)"
    fi
}
setup_next() { # the same install again: refused, pointing to `setup`, which finishes it
    local out rc=0
    if [[ $2 == after-kill && $last_state == installed ]]; then
        out=$(TMPDIR=$E2E_AZL_TMP "${setup_cmd[@]}" 2>&1) || rc=$?
        ((rc == 1)) || e2e_fail "install --answers again after a kill in setup: exit $rc: $out"
        # Killed before the launcher cleared the pending flag: pointed to setup; after: done.
        [[ $out == *"did not finish"*"azurelinux setup --name S"* || ($out == *"is already installed"* &&
            $out != *"did not finish"*) ]] || e2e_fail "install --answers again after a kill in setup: $out"
        timed "$azl_bin" --quiet setup --name S --answers answers.json >/dev/null
    elif [[ $2 == after-kill ]]; then
        timed "${setup_cmd[@]}" >/dev/null
    fi
    [[ $("$azl_bin" run --name S -- id -un </dev/null) == dev ]] || e2e_fail "setup did not make dev the default user"
    password_ok "$store/S/rootfs" || e2e_fail "the password of dev after the next setup"
    timed "$azl_bin" --quiet uninstall --name S --yes >/dev/null
}
# Like instance_state, for an instance of the full guest tree (no marker file).
instance_state_any() {
    local list
    list=$(names)
    [[ $list != *Installing* ]] || e2e_fail "$2: list shows an install in progress: $list"
    if [[ " $list " == *" $1:"* ]]; then
        [[ -f $store/$1/instance.json && -x $store/$1/rootfs/bin/sh ]] || e2e_fail "$2: $1 is listed but incomplete"
        echo installed
    else
        [[ ! -e $store/$1 ]] || e2e_fail "$2: $1 is not listed but $store/$1 exists"
        echo absent
    fi
}
e2e_check "kill -9 during the setup part of install --answers (T=${t_oobe} ms from the OOBE's start)"
gate=yes op_kills=$(((kills + 1) / 2))
faults "install --answers (setup)" setup_prepare setup_check setup_next "$t_oobe" "${setup_cmd[@]}"
gate='' op_kills=''

# The kills above ran on a trimmed tree: the full guest tree, once, without a kill.
e2e_check "install --answers of the full guest tree, uninterrupted"
"$azl_bin" --quiet image build --from "$guest_tar" --oobe "$oobe_bin" --no-bridge --level 1 -o full.wsl >/dev/null
timed "$azl_bin" --quiet install --from full.wsl --name F --answers answers.json >/dev/null
rm -f full.wsl full.wsl.sha256
[[ $("$azl_bin" run --name F -- id -un </dev/null) == dev ]] || e2e_fail "full tree: setup did not make dev the default user"
password_ok "$store/F/rootfs" || e2e_fail "full tree: the password of dev"
timed "$azl_bin" --quiet uninstall --name F --yes >/dev/null

e2e_log "fault injection summary (seed $seed):"
printf '  %s\n' "${summary[@]}" >&2
echo "faults: all checks passed in ${SECONDS}s"
