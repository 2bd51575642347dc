#!/usr/bin/env bash
# The Linux sandbox without root: the launcher run by an unprivileged user (nobody here) keeps its
# distributions under that user's $XDG_DATA_HOME and runs each launch in a user namespace of its own
# (bubblewrap --unshare-user), since it cannot enter namespaces that another user namespace owns.
# install --root -> run (uid 0 inside, exit codes, stdin, environment, /mnt/c) -> backup -> uninstall
# -> restore, all as nobody, on a .wsl of the real guest tree. Needs root (to become nobody) and
# unprivileged user namespaces (kernel.unprivileged_userns_clone / max_user_namespaces); skipped
# (77) without them.
#
# Usage: test_rootless.sh PATH/TO/azurelinux
set -euo pipefail
azl_bin=$(realpath "${1:?usage: $0 PATH/TO/azurelinux}")
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib/rootfs-cache.sh
source "$here/lib/rootfs-cache.sh"

e2e_require_root
e2e_require_tools bwrap setpriv
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups --reset-env -- env "${user_env[@]}" "$@"; }
user_env=()
if ! as_nobody unshare --user true 2>/dev/null; then
    echo "SKIP: unprivileged user namespaces are disabled here" >&2
    exit 77
fi
guest_tar=$(azl_guest_tar)
e2e_scratch
chmod 0755 "$E2E_TMP"
home=$E2E_TMP/home
mkdir -p "$home/bin" "$home/runtime" "$home/c"
# Our programs where nobody can run them (the build tree may sit under a private directory).
install -m 0755 "$azl_bin" "$home/bin/azurelinux"
install -m 0755 "$(dirname "$azl_bin")/azurelinux-sandbox-exec" "$home/bin/azurelinux-sandbox-exec"
chmod 0700 "$home/runtime"
chown -R nobody:nogroup "$home"
user_env=(HOME="$home" PATH=/usr/sbin:/usr/bin:/sbin:/bin XDG_DATA_HOME="$home/data"
    XDG_RUNTIME_DIR="$home/runtime" AZL_SANDBOX_DRIVE_C="$home/c" TMPDIR="$home")
azl() { as_nobody "$home/bin/azurelinux" "$@"; }

e2e_check "a .wsl of the guest tree, readable by nobody"
"$azl_bin" --quiet image build --from "$guest_tar" --no-wsl-files --level 1 -o guest.wsl >/dev/null
chmod 0644 guest.wsl guest.wsl.sha256

e2e_check "install --root as nobody: under nobody's own \$XDG_DATA_HOME, owned by nobody"
azl --quiet install --from "$E2E_TMP/guest.wsl" --name Mine --root >/dev/null
[[ $(stat -c %U "$home/data/azurelinux/distros/Mine/instance.json") == nobody ]] ||
    e2e_fail "the record is not nobody's"
[[ $(azl list --json | python3 -c 'import json,sys; print([d["name"] for d in json.load(sys.stdin)])') == "['Mine']" ]] ||
    e2e_fail "list as nobody: $(azl list --json)"

e2e_check "run: root inside the user namespace, exit codes, stdin, environment, the host folder"
[[ $(azl run --name Mine -- id -u) == 0 ]] || e2e_fail "not uid 0 inside: $(azl run --name Mine -- id -u)"
rc=0
azl run --name Mine -c 'exit 7' || rc=$?
((rc == 7)) || e2e_fail "exit code $rc, not 7"
[[ $(echo piped | azl run --name Mine -- cat) == piped ]] || e2e_fail "stdin does not reach the command"
[[ $(azl run --name Mine -- printenv WSL_DISTRO_NAME) == Mine ]] || e2e_fail "WSL_DISTRO_NAME"
echo "from the host" >"$home/c/hello.txt" && chown nobody:nogroup "$home/c/hello.txt"
[[ $(azl run --name Mine -- cat /mnt/c/hello.txt) == "from the host" ]] || e2e_fail "/mnt/c"
[[ $(azl run --name Mine -- cat /etc/debian_version) == 12.* ]] || e2e_fail "the guest's files"
# Nothing of ours runs as real root: the launch's processes belong to nobody outside.
[[ $(azl run --name Mine -- cat /proc/self/uid_map | awk '{ print $2 }') == "$(id -u nobody)" ]] ||
    e2e_fail "uid 0 inside is not nobody outside: $(azl run --name Mine -- cat /proc/self/uid_map)"

e2e_check "backup, uninstall, restore as nobody"
azl --quiet backup --name Mine -o "$home/mine.tar.gz" >/dev/null
[[ -s $home/mine.tar.gz && -s $home/mine.tar.gz.json ]] || e2e_fail "backup files"
azl --quiet uninstall --name Mine --yes >/dev/null
[[ ! -e $home/data/azurelinux/distros/Mine ]] || e2e_fail "uninstall left the directory"
azl --quiet restore --from "$home/mine.tar.gz" --name Again >/dev/null
[[ $(azl run --name Again -- cat /etc/debian_version) == 12.* ]] || e2e_fail "the restored distribution does not run"
azl terminate --name Again >/dev/null
azl --quiet uninstall --name Again --yes >/dev/null
echo "rootless: all checks passed in ${SECONDS}s"
