#!/usr/bin/env bash
# End to end, the launcher's whole lifecycle in the Linux sandbox on the real Debian guest tree:
# image build -> install (SHA-256 from the .sha256 file) -> run `cat /etc/os-release` -> create a
# user as root -> config --default-user -> run `id -un` as that user -> the WSL environment
# (WSL_DISTRO_NAME, /mnt/c, hostname, [boot] command once per start, one pid namespace per instance)
# -> backup tar.gz -> uninstall -> restore -> the same files. Then bad inputs (each one line and a
# non-zero exit, nothing registered) and kill -9 during install (nothing half-installed; a second
# install works). When azurelinux-oobe was built beside azurelinux: first run with an answers file.
#
# Usage: test_lifecycle.sh PATH/TO/azurelinux
set -euo pipefail
azl_bin=$(realpath "${1:?usage: $0 PATH/TO/azurelinux}")
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib/rootfs-cache.sh
source "$here/lib/rootfs-cache.sh"

e2e_require_root
e2e_require_tools bwrap sha256sum python3 getfattr
guest_tar=$(azl_guest_tar)
e2e_scratch
trap 'printf "FAIL: line %s: %s\n" "$LINENO" "$BASH_COMMAND" >&"$E2E_STDERR"' ERR
# Everything the sandbox keeps goes into the scratch directory.
export XDG_DATA_HOME=$E2E_TMP/data XDG_RUNTIME_DIR=$E2E_TMP/runtime AZL_SANDBOX_DRIVE_C=$E2E_TMP/c
mkdir -p "$XDG_RUNTIME_DIR" "$AZL_SANDBOX_DRIVE_C"
azl() { e2e_azl "$azl_bin" "$@"; }
store=$XDG_DATA_HOME/azurelinux/distros
# Whatever happens, no instance outlives the test (their processes would keep running).
stop_instances() {
    local n
    for n in $("$azl_bin" list --json 2>/dev/null | python3 -c 'import json,sys; print(" ".join(d["name"] for d in json.load(sys.stdin)))'); do
        "$azl_bin" terminate --name "$n" >/dev/null 2>&1 || true
    done
}
e2e_on_exit "stop_instances; cd / && rm -rf -- '$E2E_TMP'"

# expect_error EXPECTED_TEXT CMD...: CMD fails with "azurelinux: ..." (plus at most a hint line)
# whose first line contains EXPECTED_TEXT.
expect_error() {
    local want=$1 rc=0
    shift
    azl --quiet "$@" >"$E2E_TMP/out" 2>"$E2E_TMP/err" || rc=$?
    ((rc != 0)) || e2e_fail "$* succeeded; expected: $want"
    local first
    first=$(head -n 1 "$E2E_TMP/err")
    [[ $first == "azurelinux: "*"$want"* ]] || { cat "$E2E_TMP/err" >&2; e2e_fail "$*: expected '$want', got: $first"; }
    (($(grep -vc '^  hint: ' "$E2E_TMP/err") == 1)) || { cat "$E2E_TMP/err" >&2; e2e_fail "$*: more than one error line"; }
}

names() { azl list --json | python3 -c 'import json,sys; print(" ".join(d["name"] + ":" + d["state"] for d in json.load(sys.stdin)))'; }

e2e_check "image build of the guest tree (gzip level 1, the tree as it is)"
e2e_run azl --quiet image build --from "$guest_tar" --no-wsl-files --level 1 -o guest.wsl >/dev/null
[[ -s guest.wsl.sha256 ]] || e2e_fail "image build wrote no guest.wsl.sha256"

e2e_check "install --root verifies the SHA-256 from guest.wsl.sha256 and registers E2E"
azl --quiet install --from guest.wsl --name E2E --root --json >install.json
python3 - "$(cut -d' ' -f1 guest.wsl.sha256)" <<'PY' <install.json
import json, sys
j = json.load(sys.stdin)
assert j["name"] == "E2E" and j["setup"] == "skipped" and j["default_uid"] == 0, j
assert j["sha256"] == sys.argv[1], (j["sha256"], sys.argv[1])
PY
[[ $(names) == "E2E:Stopped" ]] || e2e_fail "list after install: $(names)"
[[ -f $store/E2E/instance.json && -d $store/E2E/rootfs/etc ]] || e2e_fail "store layout"

e2e_check "run cat /etc/os-release"
azl run --name E2E -- cat /etc/os-release >os-release
grep -q '^PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"' os-release || e2e_fail "os-release: $(head -1 os-release)"
[[ $(names) == "E2E:Running" ]] || e2e_fail "list after a launch: $(names)"

e2e_check "the exit code of the command is ours"
rc=0
azl run --name E2E -c 'exit 42' || rc=$?
((rc == 42)) || e2e_fail "run -c 'exit 42' returned $rc"

e2e_check "create a user as root, make it the default, run as it"
azl run --name E2E --user root -- useradd -m -s /bin/bash -G sudo alice
e2e_run azl config --name E2E --default-user alice >/dev/null
[[ $(azl run --name E2E -- id -un) == alice ]] || e2e_fail "id -un is not alice"
[[ $(azl run --name E2E -- id -Gn) == "alice sudo" ]] || e2e_fail "groups: $(azl run --name E2E -- id -Gn)"
[[ $(azl run --name E2E -c 'echo $HOME:$USER:$SHELL:$PWD:$WSL_DISTRO_NAME') == /home/alice:alice:/bin/bash:/home/alice:E2E ]] ||
    e2e_fail "environment: $(azl run --name E2E -c 'echo $HOME:$USER:$SHELL:$PWD:$WSL_DISTRO_NAME')"
[[ $(azl get --name E2E --default-user) == alice ]] || e2e_fail "get --default-user"
[[ $(azl run --name E2E --cwd /tmp -- pwd) == /tmp ]] || e2e_fail "--cwd"
caps=$(azl run --name E2E -- grep -E '^(Cap(Eff|Prm)|Uid|Gid):' /proc/self/status | tr -s '\t\n' '  ') ||
    e2e_fail "reading alice's /proc/self/status failed: $caps"
[[ $caps == *"CapPrm: 0000000000000000 CapEff: 0000000000000000"* ]] || e2e_fail "alice has capabilities: $caps"

e2e_check "one instance, one mount table (a mount made in one launch is seen by the next); setuid programs work"
azl run --name E2E --user root -c 'mkdir -p /mnt/shared && mount -t tmpfs shared /mnt/shared && echo seen >/mnt/shared/f'
[[ $(azl run --name E2E -- cat /mnt/shared/f) == seen ]] || e2e_fail "a launch does not see the mount the previous one made"
azl run --name E2E --user root -c "echo 'alice ALL=(ALL) NOPASSWD: ALL' >/etc/sudoers.d/alice && chmod 0440 /etc/sudoers.d/alice"
[[ $(azl run --name E2E -- sudo -n id -u) == 0 ]] || e2e_fail "sudo does not work in a launch: $(azl run --name E2E -- sudo -n id -u 2>&1)"
# /etc/hosts names the instance's host, as WSL writes it: sudo resolves it without a warning.
sudo_out=$(azl run --name E2E -- sudo -n true 2>&1) || e2e_fail "sudo -n true failed: $sudo_out"
[[ -z $sudo_out ]] || e2e_fail "sudo -n true printed: $sudo_out"
azl run --name E2E --user root -- rm /etc/sudoers.d/alice

e2e_check "the host folder is /mnt/c; the host name comes from /etc/wsl.conf"
echo "from the host" >"$AZL_SANDBOX_DRIVE_C/hello.txt"
[[ $(azl run --name E2E -- cat /mnt/c/hello.txt) == "from the host" ]] || e2e_fail "/mnt/c"
e2e_run azl config --name E2E --hostname e2e-box >/dev/null
azl terminate --name E2E >/dev/null
[[ $(names) == "E2E:Stopped" ]] || e2e_fail "list after terminate: $(names)"
[[ $(azl run --name E2E -- hostname) == e2e-box ]] || e2e_fail "hostname after restart"
hosts=$(azl run --name E2E -- cat /etc/hosts)
grep -qP '^127\.0\.0\.1\tlocalhost$' <<<"$hosts" && grep -qP '^127\.0\.1\.1\te2e-box\.localdomain\te2e-box$' <<<"$hosts" &&
    grep -qx '# generateHosts = false' <<<"$hosts" || e2e_fail "/etc/hosts is not WSL's: $hosts"
[[ $(azl run --name E2E -- getent hosts e2e-box) == "127.0.1.1"* ]] || e2e_fail "e2e-box does not resolve"

e2e_check "[network] generateHosts = false leaves /etc/hosts to the distribution"
azl run --name E2E --user root -c "printf '[network]\ngenerateHosts = false\n' >> /etc/wsl.conf && echo '10.0.0.1 mine' >/etc/hosts"
azl terminate --name E2E >/dev/null
[[ $(azl run --name E2E -- cat /etc/hosts) == "10.0.0.1 mine" ]] || e2e_fail "/etc/hosts was rewritten"
azl run --name E2E --user root -c "sed -i '/^generateHosts/d' /etc/wsl.conf"
azl terminate --name E2E >/dev/null

e2e_check "[boot] command runs once per instance start; its daemons live on, in one pid namespace"
# Quoted: an unquoted ';' starts a comment in wsl.conf, as WSL reads it.
marker=600.$$ # a sleep of our own, told apart from any other on the machine
azl run --name E2E --user root -c "printf '[boot]\\ncommand = \"echo started >> /root/boots; sleep $marker &\"\\n' >> /etc/wsl.conf"
azl terminate --name E2E >/dev/null
azl run --name E2E -- true
azl run --name E2E -- true
[[ $(azl run --name E2E --user root -- cat /root/boots) == started ]] || e2e_fail "boot command ran more than once"
azl run --name E2E -- pgrep -f "^sleep $marker\$" >/dev/null || e2e_fail "the boot command's daemon is not visible from a launch"
azl terminate --name E2E >/dev/null
pgrep -f "^sleep $marker\$" >/dev/null && e2e_fail "terminate left the boot daemon running"
azl run --name E2E -- true
(($(azl run --name E2E --user root -- wc -l /root/boots | cut -d' ' -f1) == 2)) || e2e_fail "boot command did not run after terminate"

e2e_check "backup tar.gz, uninstall, restore: the same files"
azl --quiet backup --name E2E -o backup.tar.gz >/dev/null
[[ -s backup.tar.gz && -s backup.tar.gz.sha256 ]] || e2e_fail "backup files"
azl terminate --name E2E >/dev/null
e2e_manifest "$store/E2E/rootfs" before.manifest
expect_error "refusing to remove E2E without confirmation" uninstall --name E2E </dev/null
e2e_run azl uninstall --name E2E --yes >/dev/null
[[ -z $(names) && ! -e $store/E2E ]] || e2e_fail "uninstall left: $(names) $(ls "$store")"
e2e_run azl --quiet restore --from backup.tar.gz --name E2E >/dev/null
e2e_manifest "$store/E2E/rootfs" after.manifest
e2e_compare_manifests before.manifest after.manifest "backup + restore"
[[ $(azl run --name E2E --user alice -- id -un) == alice ]] || e2e_fail "alice after restore"
# The settings wsl --export leaves out came back from backup.tar.gz.json: alice is the default user.
[[ -s backup.tar.gz.json && $(azl run --name E2E -- id -un) == alice ]] ||
    e2e_fail "restore did not bring back the default user: $(azl run --name E2E -- id -un)"

e2e_check "bad inputs: one line, non-zero exit, nothing registered"
expect_error "missing.wsl does not exist" install --from missing.wsl --name Bad --root
head -c 3000000 guest.wsl >corrupt.wsl
expect_error "corrupt.wsl" install --from corrupt.wsl --name Bad --root
expect_error "has SHA-256" install --from guest.wsl --name Bad --root --sha256 "$(printf '0%.0s' {1..64})"
expect_error "a distribution named E2E is already installed" install --from guest.wsl --name E2E --root
expect_error "there is no distribution named Nope" run --name Nope -- true
expect_error "there is no distribution named Nope" uninstall --name Nope --yes
expect_error "there is no user bob in E2E" config --name E2E --default-user bob
expect_error "invalid distribution name" install --from guest.wsl --name ../x --root
[[ $(names) == "E2E:"* && ! -e $store/Bad ]] || e2e_fail "a failed install left: $(names) $(ls "$store")"

e2e_check "kill -9 during install: nothing half-installed; a second install works"
# The program itself in the background (not a shell function), so kill -9 hits it.
TMPDIR=$E2E_AZL_TMP "$azl_bin" --quiet install --from guest.wsl --name Killed --root >/dev/null 2>&1 &
pid=$!
# Polled: the install's only outward sign of progress is the tree it extracts. The deadline scales
# with AZL_TEST_TIMEOUT_SCALE; the loop ends as soon as the tree appears or the install ends.
until_s=$((SECONDS + $(e2e_scaled 60)))
while ((SECONDS < until_s)) && kill -0 "$pid" 2>/dev/null; do
    compgen -G "$store/.Killed.installing-*/rootfs.partial*/usr" >/dev/null && break
    sleep 0.05
done
compgen -G "$store/.Killed.installing-*/rootfs.partial*/usr" >/dev/null || e2e_fail "the install never started extracting"
kill -9 "$pid"
wait "$pid" || true
[[ $(names) == "E2E:"* && $(names) != *Killed* ]] || e2e_fail "list after kill -9: $(names)"
expect_error "there is no distribution named Killed" run --name Killed -- true
e2e_run azl --quiet install --from guest.wsl --name Killed --root >/dev/null
[[ $(azl run --name Killed -- cat /etc/debian_version) == 12.* ]] || e2e_fail "the second install does not run"
[[ -z $(compgen -G "$store/.Killed.installing-*") ]] || e2e_fail "the killed install's staging directory is still there"

oobe_bin=$(dirname "$azl_bin")/azurelinux-oobe
if [[ -x $oobe_bin ]]; then
    e2e_check "first run: the image's OOBE runs as root with --answers, then its defaultUid is the default user"
    e2e_run azl --quiet image build --from "$guest_tar" --oobe "$oobe_bin" --no-bridge --level 1 -o oobe.wsl >/dev/null
    install -m 0600 "$here/../../oobe/examples/answers.json" answers.json
    azl --quiet install --from oobe.wsl --name FirstRun --answers answers.json --json >firstrun.json
    python3 -c 'import json,sys; j = json.load(open(sys.argv[1])); assert j["setup"] == "done" and j["default_uid"] == 1000, j' firstrun.json
    [[ $(azl run --name FirstRun -- id -un) == dev ]] || e2e_fail "the answers' user is not the default user"
    # The answers were mounted for the setup's launch alone: other launches see an empty file.
    [[ -z $(azl run --name FirstRun --user root -- cat /run/azurelinux/answers.json) ]] ||
        e2e_fail "the answers file is visible to later launches"
    azl --quiet uninstall --name FirstRun --yes >/dev/null
else
    e2e_log "skipping first run: no $oobe_bin (build the azurelinux-oobe target)"
fi

e2e_check "cleanup: uninstall everything"
azl --quiet uninstall --name Killed --yes >/dev/null
azl --quiet uninstall --name E2E --yes >/dev/null
[[ -z $(names) ]] || e2e_fail "left: $(names)"
echo "lifecycle: all checks passed in ${SECONDS}s"
