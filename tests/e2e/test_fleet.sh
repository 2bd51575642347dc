#!/usr/bin/env bash
# Fleet provisioning end to end, inside the real Debian guest tree run the way WSL runs first-run setup
# (lib/guest.sh): the layers of answers, with the organisation's machine policy on top.
#   machine policy from the registry (a fake reg.exe printing what `reg query` prints) and from
#   %ProgramData%\AzureLinux\oobe.json, the user's default.json, the image's oobe.json: --dry-run shows
#   each value's layer (secrets as "(set)"), --json the same as JSON; a locked organisation value beats
#   the user's and the refusal names the key, the user's file and the policy; the run applies it.
# The directory $tmpdir/c stands in for the Windows C: drive (bound at /mnt/c, as WSL mounts it); fake
# cmd.exe, wslpath and reg.exe answer the way Windows' do through interop.
#   status: not started, running (a run held at a gate), --wait returning when it fails and naming the
#   step, the one-line notice of a login shell after the failure, done after a fixed re-run.
#   golden images through the launcher's sandbox: seal, back up, restore twice; each copy runs
#   first-run setup again and gets its own machine id and SSH host keys.
# Usage: test_fleet.sh AZURELINUX-OOBE AZURELINUX
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib/common.sh
source "$here/lib/common.sh"
# shellcheck source=tests/e2e/lib/guest.sh
source "$here/lib/guest.sh"
# shellcheck source=tests/e2e/lib/rootfs-cache.sh
source "$here/lib/rootfs-cache.sh"

oobe_bin=$(realpath "${1:?usage: test_fleet.sh AZURELINUX-OOBE AZURELINUX}")
azl_bin=$(realpath "${2:?usage: test_fleet.sh AZURELINUX-OOBE AZURELINUX}")
e2e_require_root
e2e_require_tools bwrap unshare chroot setpriv
PY=/usr/bin/python3
guest_tar=$(azl_guest_tar)
e2e_scratch
tmpdir=$E2E_TMP
OOBE=/usr/lib/wsl/azurelinux-oobe
drive=$tmpdir/c
profile=$drive/Users/Jane.Doe
POLICY_KEY='HKLM\SOFTWARE\Policies\AzureLinux\WSL'

new_guest() {
    e2e_guest_extract "$guest_tar" "$1"
    install -D -m 0755 "$oobe_bin" "$1$OOBE"
    # Interop as WSL gives it: Windows' environment through cmd.exe, paths through wslpath, the registry
    # through reg.exe. The registry stand-in: one "NAME<TAB>TYPE<TAB>DATA" line per value of the key.
    cat >"$1/usr/local/bin/cmd.exe" <<'SH'
#!/bin/sh
case "$*" in
"/c echo %USERNAME%") printf 'Jane.Doe\r\n' ;;
"/c echo %USERPROFILE%") printf 'C:\\Users\\Jane.Doe\r\n' ;;
"/c echo %ProgramData%") printf 'C:\\ProgramData\r\n' ;;
"/c echo "*) printf '%s\r\n' "${3}" ;;
*) exit 1 ;;
esac
SH
    cat >"$1/usr/local/bin/wslpath" <<'SH'
#!/bin/sh
[ "$1" = -u ] || exit 1
printf '%s\n' "$2" | sed -e 's|^\([A-Za-z]\):|/mnt/\L\1|' -e 's|\\|/|g'
SH
    cat >"$1/usr/local/bin/reg.exe" <<'SH'
#!/bin/bash
# `reg query KEY`: the key's line, then "    NAME    TYPE    DATA" per value, CRLF; exit 1 without it.
values=/mnt/c/.registry/HKLM/SOFTWARE/Policies/AzureLinux/WSL
if [[ $1 != query || ${2,,} != 'hklm\software\policies\azurelinux\wsl' || ! -f $values ]]; then
    printf 'ERROR: The system was unable to find the specified registry key or value.\r\n' >&2
    exit 1
fi
printf '\r\nHKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\AzureLinux\\WSL\r\n'
while IFS=$'\t' read -r name type data; do printf '    %s    %s    %s\r\n' "$name" "$type" "$data"; done <"$values"
printf '\r\n'
SH
    chmod 755 "$1/usr/local/bin/cmd.exe" "$1/usr/local/bin/wslpath" "$1/usr/local/bin/reg.exe"
}

# Runs the program in ROOTFS with the stand-in C: drive at /mnt/c; output in $tmpdir/out and
# $tmpdir/err, exit status in $rc.
oobe_run() {
    local root=$1
    shift
    rc=0
    e2e_guest_run "$root" --bind "$drive" /mnt/c -- "$OOBE" "$@" >"$tmpdir/out" 2>"$tmpdir/err" || rc=$?
}

expect_rc() {
    if [[ $rc -ne $1 ]]; then
        cat "$tmpdir/out" "$tmpdir/err" >&2
        e2e_fail "$2: exit $rc, expected $1"
    fi
}

expect_in() { # FILE TEXT
    if ! grep -qF -- "$2" "$1"; then
        cat "$1" >&2
        e2e_fail "expected $(basename "$1") to contain: $2"
    fi
}

hash=$("$PY" -W ignore -c 'import crypt; print(crypt.crypt("Jane s3cret!", crypt.mksalt(crypt.METHOD_SHA512)))')

case_layers() {
    local root=$1
    new_guest "$root"
    mkdir -p "$drive/.registry/HKLM/SOFTWARE/Policies/AzureLinux" "$drive/ProgramData/AzureLinux" \
        "$profile/.azurelinux" "$root/etc/azurelinux"
    printf '%s\t%s\t%s\n' \
        LockedKeys REG_MULTI_SZ 'timezone\0/user/sudo' \
        Timezone REG_SZ Etc/UTC \
        Packages REG_MULTI_SZ 'openssl' \
        >"$drive/.registry/HKLM/SOFTWARE/Policies/AzureLinux/WSL"
    cat >"$drive/ProgramData/AzureLinux/oobe.json" <<'JSON'
{"version": 1, "locked": ["/hostname"], "hostname": "corp-box",
 "run": ["echo org >/root/org-marker"]}
JSON
    "$PY" - "$profile/.azurelinux/default.json" "$hash" <<'PYEOF'
import json, sys
json.dump({"version": 1,
           "user": {"name": "jane", "sudo": "nopasswd", "password_hash": sys.argv[2]},
           "timezone": "Europe/Paris", "hostname": "janes-box", "packages": ["sudo"],
           "run": ["echo user >/root/user-marker"]}, open(sys.argv[1], "w"))
PYEOF
    printf '{"version": 1, "hostname": "image-box", "systemd": false}\n' >"$root/etc/azurelinux/oobe.json"
    chmod 600 "$profile/.azurelinux/default.json" "$drive/ProgramData/AzureLinux/oobe.json" \
        "$root/etc/azurelinux/oobe.json"
    local user_file=/mnt/c/Users/Jane.Doe/.azurelinux/default.json
    local org_file=/mnt/c/ProgramData/AzureLinux/oobe.json

    e2e_check "--dry-run: each effective value with its layer; secrets as (set); nothing changes"
    oobe_run "$root" --dry-run
    expect_rc 0 "--dry-run"
    expect_in "$tmpdir/out" "/timezone = \"Etc/UTC\"  [machine policy: $POLICY_KEY]"
    expect_in "$tmpdir/out" "/hostname = \"corp-box\"  [machine policy: $org_file]"
    expect_in "$tmpdir/out" "/user/name = \"jane\"  [user: $user_file]"
    expect_in "$tmpdir/out" "/user/password_hash = \"(set)\"  [user: $user_file]"
    expect_in "$tmpdir/out" "/systemd = false  [image: /etc/azurelinux/oobe.json]"
    expect_in "$tmpdir/out" "/packages/0 = \"openssl\"  [machine policy: $POLICY_KEY]"
    expect_in "$tmpdir/out" "/packages/1 = \"sudo\"  [user: $user_file]"
    expect_in "$tmpdir/out" "/run/0 = \"(set)\"  [machine policy: $org_file]"
    if grep -qF -- "${hash:3:8}" "$tmpdir/out" "$tmpdir/err"; then e2e_fail "--dry-run showed the hash"; fi
    e2e_check "a user value for a locked key is refused, naming the key, the user's file and the policy"
    expect_in "$tmpdir/err" "$user_file: /timezone is locked by the organisation ($POLICY_KEY)"
    expect_in "$tmpdir/err" "$user_file: /user/sudo is locked by the organisation ($POLICY_KEY)"
    expect_in "$tmpdir/err" "$user_file: /hostname is locked by the organisation ($org_file)"
    expect_in "$tmpdir/err" "/etc/azurelinux/oobe.json: /hostname is locked by the organisation ($org_file)"
    [[ ! -e $root/var/lib/azurelinux-oobe ]] || e2e_fail "--dry-run left state behind"

    e2e_check "--dry-run --json: stdout is one JSON document with the same values and refusals"
    oobe_run "$root" --dry-run --json
    expect_rc 0 "--dry-run --json"
    "$PY" - "$tmpdir/out" "$POLICY_KEY" "$user_file" <<'PYEOF' || e2e_fail "--json output"
import json, sys
doc = json.load(open(sys.argv[1]))
key, user_file = sys.argv[2:]
values = {v["key"]: v for v in doc["values"]}
assert values["/timezone"] == {"key": "/timezone", "value": "Etc/UTC", "layer": "machine policy", "origin": key}, values["/timezone"]
assert values["/user/password_hash"]["value"] == "(set)"
assert values["/user/name"]["origin"] == user_file
assert {"key": "/timezone", "origin": user_file, "locked_by": key} in doc["refused"], doc["refused"]
assert [l["layer"] for l in doc["layers"]] == ["machine policy", "machine policy", "user", "image"], doc["layers"]
assert any(s["step"] == "user" and not s["done"] for s in doc["steps"])
PYEOF

    e2e_check "the run applies the organisation's locked values over the user's"
    oobe_run "$root"
    expect_rc 0 "run with layers"
    [[ $(cat "$root/etc/timezone") == Etc/UTC ]] || e2e_fail "/etc/timezone: $(cat "$root/etc/timezone")"
    [[ $(cat "$root/etc/hostname") == corp-box ]] || e2e_fail "/etc/hostname: $(cat "$root/etc/hostname")"
    grep -q '^jane:' "$root/etc/passwd" || e2e_fail "the user's layer did not create jane"
    if grep -q NOPASSWD "$root/etc/sudoers.d/10-azurelinux-jane"; then
        e2e_fail "the user's locked sudo mode (nopasswd) was applied"
    fi
    [[ -f $root/root/org-marker && -f $root/root/user-marker ]] || e2e_fail "run commands of both layers did not run"
}

case_admx() {
    e2e_check "the ADMX/ADML templates: well-formed, every string and presentation defined, the value names read"
    "$PY" - "$here/../../packaging/policy" <<'PYEOF' || e2e_fail "packaging/policy templates"
import re, sys, xml.etree.ElementTree as ET
d = sys.argv[1]
ns = {"p": "http://schemas.microsoft.com/GroupPolicy/2006/07/PolicyDefinitions"}
admx_text = open(f"{d}/AzureLinuxWSL.admx", encoding="utf-8").read()
admx = ET.fromstring(admx_text.encode())
adml = ET.parse(f"{d}/en-US/AzureLinuxWSL.adml").getroot()
strings = {s.get("id") for s in adml.iterfind(".//p:string", ns)}
presentations = {p.get("id"): p for p in adml.iterfind(".//p:presentation", ns)}
for ref in re.findall(r"\$\(string\.([A-Za-z0-9_]+)\)", admx_text):
    assert ref in strings, f"ADML has no string {ref}"
names = set()
for policy in admx.iterfind(".//p:policy", ns):
    assert policy.get("key") == r"SOFTWARE\Policies\AzureLinux\WSL" and policy.get("class") == "Machine"
    if policy.get("valueName"):
        names.add(policy.get("valueName"))
    pres = re.fullmatch(r"\$\(presentation\.(\w+)\)", policy.get("presentation") or "")
    elements = list(policy.iterfind("p:elements/*", ns))
    if elements:
        assert pres and pres.group(1) in presentations, policy.get("name")
        refs = {c.get("refId") for c in presentations[pres.group(1)]}
        for e in elements:
            assert e.get("id") in refs, f"{e.get('id')} has no presentation"
            names.add(e.get("valueName"))
want = {"Answers", "LockedKeys", "Timezone", "Locale", "HttpProxy", "HttpsProxy", "NoProxy", "Packages", "AzureBridge"}
assert names == want, names ^ want
PYEOF
}

case_status() {
    local root=$1
    rm -rf "$drive" && mkdir -p "$drive"
    new_guest "$root"
    e2e_check "status before any run: not started (exit 4)"
    oobe_run "$root" status
    expect_rc 4 "status before setup"
    expect_in "$tmpdir/out" "status: not started"

    # The run's last command waits at a gate (a FIFO), after saying so on another one, then fails.
    mkfifo "$tmpdir/started" "$tmpdir/gate"
    printf '{"version": 1, "user": {"name": "dev", "sudo": "nopasswd"}, "run": ["echo started >/run/started; read go </run/gate; exit 7"]}\n' >"$tmpdir/fail.json"
    chmod 600 "$tmpdir/fail.json"
    local bind=(--bind "$tmpdir/started" /run/started --bind "$tmpdir/gate" /run/gate
        --ro-bind "$tmpdir/fail.json" /run/azurelinux/answers.json)
    e2e_guest_run "$root" "${bind[@]}" -- "$OOBE" --answers /run/azurelinux/answers.json \
        >"$tmpdir/run.out" 2>&1 &
    local runner=$!
    read -r _ <"$tmpdir/started"
    e2e_check "status while a run is at its run step: running (exit 4), naming the step"
    oobe_run "$root" status
    expect_rc 4 "status while running"
    expect_in "$tmpdir/out" "status: running (step run)"
    e2e_check "status --wait waits for the run, then reports the failed step (exit 3)"
    e2e_guest_run "$root" -- "$OOBE" status --wait --json >"$tmpdir/wait.out" 2>&1 &
    local waiter=$!
    # The waiter blocks on the run's lock: /proc/locks lists it as a blocked FLOCK ("->").
    local until_s=$((SECONDS + $(e2e_scaled 15)))
    until grep -q -- '-> FLOCK' /proc/locks; do
        kill -0 "$waiter" 2>/dev/null || e2e_fail "status --wait returned while the run was running"
        ((SECONDS < until_s)) || e2e_fail "status --wait never blocked on the run's lock"
        sleep 0.05
    done
    echo go >"$tmpdir/gate"
    rc=0
    wait "$runner" || rc=$?
    [[ $rc == 3 ]] || { cat "$tmpdir/run.out" >&2; e2e_fail "the failing run exited $rc, expected 3"; }
    rc=0
    wait "$waiter" || rc=$?
    [[ $rc == 3 ]] || { cat "$tmpdir/wait.out" >&2; e2e_fail "status --wait exited $rc, expected 3"; }
    "$PY" -c 'import json,sys; j = json.load(open(sys.argv[1])); assert j["state"] == "failed" and j["step"] == "run" and j["reason"] == "step failed", j' \
        "$tmpdir/wait.out" || e2e_fail "status --wait --json: $(cat "$tmpdir/wait.out")"
    oobe_run "$root" status
    expect_rc 3 "status after the failure"
    expect_in "$tmpdir/out" "status: failed at step run (step failed)"

    e2e_check "a login shell after the failed setup prints one line saying so and how to retry"
    e2e_guest_as_user "$root" dev -- bash -l -c true >"$tmpdir/login.out" 2>&1
    [[ $(wc -l <"$tmpdir/login.out") == 1 ]] || { cat "$tmpdir/login.out" >&2; e2e_fail "the login notice is not one line"; }
    expect_in "$tmpdir/login.out" "First-run setup failed at step run; retry with: sudo /usr/lib/wsl/azurelinux-oobe"

    e2e_check "fixed answers: the re-run finishes, status is done (exit 0), the login is quiet"
    printf '{"version": 1, "user": {"name": "dev", "sudo": "nopasswd"}, "run": ["true"]}\n' >"$tmpdir/fail.json"
    rc=0
    e2e_guest_run "$root" --ro-bind "$tmpdir/fail.json" /run/azurelinux/answers.json -- \
        "$OOBE" --answers /run/azurelinux/answers.json >"$tmpdir/out" 2>&1 || rc=$?
    expect_rc 0 "the fixed re-run"
    oobe_run "$root" status --json
    expect_rc 0 "status after success"
    expect_in "$tmpdir/out" '"state":"done"'
    e2e_guest_as_user "$root" dev -- bash -l -c true >"$tmpdir/login.out" 2>&1
    [[ ! -s $tmpdir/login.out ]] || { cat "$tmpdir/login.out" >&2; e2e_fail "the login notice after success"; }
}

case_golden() {
    e2e_check "golden image: install with answers, give it SSH host keys and history, seal"
    export XDG_DATA_HOME=$tmpdir/data XDG_RUNTIME_DIR=$tmpdir/runtime AZL_SANDBOX_DRIVE_C=$tmpdir/gc
    mkdir -p "$XDG_RUNTIME_DIR" "$AZL_SANDBOX_DRIVE_C"
    azl() { e2e_azl "$azl_bin" "$@"; }
    local store=$XDG_DATA_HOME/azurelinux/distros n
    e2e_on_exit "for n in Golden CopyA CopyB; do '$azl_bin' terminate --name \$n >/dev/null 2>&1 || true; done; cd / && rm -rf -- '$E2E_TMP'"
    e2e_run azl --quiet image build --from "$guest_tar" --oobe "$oobe_bin" --no-bridge --level 1 -o oobe.wsl >/dev/null
    printf '{"version": 1, "user": {"name": "dev", "sudo": "nopasswd", "password_hash": "%s"}}\n' "$hash" >golden.json
    chmod 600 golden.json
    azl --quiet install --from oobe.wsl --name Golden --answers golden.json >/dev/null
    # An SSH server's part (the host's ssh-keygen: the guest is the same Debian release) and its keys.
    install -m 0755 /usr/bin/ssh-keygen "$store/Golden/rootfs/usr/bin/ssh-keygen"
    mkdir -p "$store/Golden/rootfs/etc/ssh" && : >"$store/Golden/rootfs/etc/ssh/sshd_config"
    azl run --name Golden --user root -- ssh-keygen -A >/dev/null
    azl run --name Golden --user root -- sh -c 'echo "history with a token" >/root/.bash_history; mkdir -p /tmp/azurelinux-bridge-1000 && echo s >/tmp/azurelinux-bridge-1000/secrets'
    local golden_id golden_key
    golden_id=$(azl run --name Golden --user root -- cat /etc/machine-id)
    golden_key=$(sha256sum <"$store/Golden/rootfs/etc/ssh/ssh_host_ed25519_key.pub")
    [[ $golden_id =~ ^[0-9a-f]{32}$ ]] || e2e_fail "first-run setup gave no machine id: '$golden_id'"
    azl seal --name Golden >seal.out
    grep -qF "removed /etc/ssh/ssh_host_ed25519_key" seal.out || { cat seal.out >&2; e2e_fail "seal did not remove the host keys"; }
    e2e_check "sealed: no machine id, host keys, history, bridge secrets, status; setup pending"
    [[ ! -s $store/Golden/rootfs/etc/machine-id ]] || e2e_fail "the sealed machine-id is not empty"
    [[ -z $(compgen -G "$store/Golden/rootfs/etc/ssh/ssh_host_*") ]] || e2e_fail "host keys left after seal"
    [[ ! -e $store/Golden/rootfs/root/.bash_history ]] || e2e_fail "root's history left after seal"
    [[ ! -e $store/Golden/rootfs/tmp/azurelinux-bridge-1000 ]] || e2e_fail "the bridge's secrets left after seal"
    [[ ! -s $store/Golden/rootfs/var/log/azurelinux-oobe.log ]] || e2e_fail "the setup log left after seal"
    azl list --json | "$PY" -c 'import json,sys; d = {x["name"]: x for x in json.load(sys.stdin)}; assert d["Golden"]["setup_pending"], d' ||
        e2e_fail "seal did not mark first-run setup pending"

    e2e_check "back up, restore twice: each copy runs first-run setup and gets its own identity"
    azl --quiet backup --name Golden -o golden.tar.gz >/dev/null
    azl --quiet restore --from golden.tar.gz --name CopyA >/dev/null
    azl --quiet restore --from golden.tar.gz --name CopyB >/dev/null
    local ids=() keys=()
    for n in CopyA CopyB; do
        azl --quiet setup --name "$n" >/dev/null
        [[ $(azl run --name "$n" -- id -un) == dev ]] || e2e_fail "$n: the golden image's user is not the default user"
        ids+=("$(azl run --name "$n" --user root -- cat /etc/machine-id)")
        keys+=("$(sha256sum <"$store/$n/rootfs/etc/ssh/ssh_host_ed25519_key.pub")")
        [[ ${ids[-1]} =~ ^[0-9a-f]{32}$ ]] || e2e_fail "$n: machine id '${ids[-1]}'"
        azl setup --name "$n" --wait >"$tmpdir/out" 2>&1 || { cat "$tmpdir/out" >&2; e2e_fail "$n: setup --wait"; }
    done
    [[ ${ids[0]} != "${ids[1]}" && ${ids[0]} != "$golden_id" && ${ids[1]} != "$golden_id" ]] ||
        e2e_fail "machine ids not unique: golden $golden_id, copies ${ids[*]}"
    [[ ${keys[0]} != "${keys[1]}" && ${keys[0]} != "$golden_key" && ${keys[1]} != "$golden_key" ]] ||
        e2e_fail "SSH host keys not unique"
    azl doctor --name CopyA >doctor.out 2>&1 || true
    grep -qF "first-run setup in the guest: done" doctor.out || { cat doctor.out >&2; e2e_fail "doctor's first-run line"; }
}

case_host_layers() {
    e2e_check "the launcher hands the Windows side's layers to first-run setup: no interop in the guest"
    # The sandbox's guest has no cmd.exe or reg.exe: only the launcher can read C:'s policy and files.
    local drive=$AZL_SANDBOX_DRIVE_C login
    login=$(id -un)
    mkdir -p "$drive/.registry/HKLM/SOFTWARE/Policies/AzureLinux" "$drive/ProgramData/AzureLinux" \
        "$drive/Users/$login/.azurelinux"
    printf 'Timezone\tREG_SZ\tAsia/Tokyo\r\nLockedKeys\tREG_MULTI_SZ\t/timezone\\0/proxy\r\n' \
        >"$drive/.registry/HKLM/SOFTWARE/Policies/AzureLinux/WSL"
    printf '{"version": 1, "hostname": "corp-dev"}\n' >"$drive/ProgramData/AzureLinux/oobe.json"
    printf '{"version": 1, "timezone": "Europe/Paris", "hostname": "mine", "user": {"name": "dev", "sudo": "nopasswd", "password_hash": "%s"}}\n' \
        "$hash" >"$drive/Users/$login/.azurelinux/default.json"
    e2e_on_exit "for n in Golden CopyA CopyB Layered; do '$azl_bin' terminate --name \$n >/dev/null 2>&1 || true; done; cd / && rm -rf -- '$E2E_TMP'"
    azl install --from oobe.wsl --name Layered >layered.out 2>&1 || { cat layered.out >&2; e2e_fail "install with the host's layers"; }
    [[ $(azl run --name Layered -- id -un) == dev ]] || e2e_fail "the user's profile file did not make the user"
    [[ $(azl run --name Layered -- readlink /etc/localtime) == */Asia/Tokyo ]] ||
        e2e_fail "the locked registry time zone did not win: $(azl run --name Layered -- readlink /etc/localtime)"
    grep -q "^hostname *= *corp-dev" "$XDG_DATA_HOME/azurelinux/distros/Layered/rootfs/etc/wsl.conf" || { cat "$XDG_DATA_HOME/azurelinux/distros/Layered/rootfs/etc/wsl.conf" >&2; e2e_fail "%ProgramData%'s host name over the user's"; }
    grep -qF "C:\\Users\\$login\\.azurelinux\\default.json: /timezone is locked by the organisation (HKLM\\SOFTWARE\\Policies\\AzureLinux\\WSL)" layered.out ||
        { cat layered.out >&2; e2e_fail "the refusal does not name the user's file and the policy"; }
}

case_admx
case_layers "$tmpdir/g1"
case_status "$tmpdir/g2"
case_golden
case_host_layers
e2e_log "all fleet provisioning checks passed (${SECONDS}s)"
