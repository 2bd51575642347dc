#!/usr/bin/env bash
# The developer-credential relays of azurelinux-bridge, as a user in the guest sees them, in a
# sandbox of its own (private mount and pid namespaces): drive C: is a host folder at /mnt/c, as in
# the launcher's sandbox ($AZL_SANDBOX_DRIVE_C). The Windows side stands in faithfully: a real
# ssh-agent holding a test key is the OpenSSH agent, and the launcher's `relay --pipe NAME` is a
# program at C:\Program Files\AzureLinux\azurelinux.exe that copies stdio to that agent's socket
# (lib/stdio-unix.py), as the real one does to \\.\pipe\NAME. Git Credential Manager is a fake
# answering git's credential protocol, put in turn at every place it is installed.
#
# ssh-agent: SSH_AUTH_SOCK from the login hook's `env`, 0600 in a 0700 directory; ssh-add -l, an ssh
# login to a local sshd and a git push over SSH with the relayed key; 100 concurrent connections;
# the Windows side killed mid-session, then the next connection; a stale socket replaced; a live
# agent of the user's own left alone; turned off. GCM: `git credential fill` through /etc/gitconfig's
# helper in each location, Azure DevOps' path passed, turned off.
#
# Usage: test_relays.sh BRIDGE_BINARY GITCONFIG      (root: namespaces, sshd)
set -euo pipefail
BRIDGE=$(realpath "$1")
GITCONFIG=$(realpath "$2")
# shellcheck source=tests/e2e/lib/common.sh
source "$(dirname "$0")/lib/common.sh"
LIB=$(realpath "$(dirname "$0")/lib")
e2e_require_root
e2e_require_tools unshare ssh ssh-agent ssh-add ssh-keygen git python3 pgrep
[[ -x /usr/sbin/sshd ]] || e2e_fail "no /usr/sbin/sshd (run scripts/install-deps.sh as root)"
if [[ -z ${AZL_RELAYS_SANDBOX:-} ]]; then
    # Every process the test starts (agents, relays, sshd) ends with it: the namespace's init is us.
    exec unshare --mount --pid --fork --mount-proc --propagation private \
        env AZL_RELAYS_SANDBOX=1 bash "$0" "$@"
fi
e2e_scratch
T=$E2E_TMP
mkdir -p c/Windows/System32 "c/Program Files/AzureLinux" c/Users/Jane.Doe/AppData/Local pipes home config/azurelinux
install -d -m 0700 run
mount -t tmpfs tmpfs /mnt && mkdir /mnt/c && mount --bind "$T/c" /mnt/c
mount -t tmpfs tmpfs /run && install -d -m 0755 /run/sshd # sshd's privilege separation directory
export HOME=$T/home XDG_RUNTIME_DIR=$T/run XDG_CONFIG_HOME=$T/config
unset SSH_AUTH_SOCK SSH_AGENT_PID IDENTITY_ENDPOINT IDENTITY_HEADER MSI_ENDPOINT ARM_MSI_ENDPOINT
# Only the relays: the Azure bridge has its own tests.
printf '[bridge]\nenabled = false\n' >config/azurelinux/bridge.conf
SOCK=$T/run/azurelinux-bridge/ssh-agent.sock

# --- the Windows side --------------------------------------------------------------------------------
ssh-keygen -q -t ed25519 -N '' -C relayed-test-key -f key
KEY_FP=$(ssh-keygen -lf key.pub | awk '{ print $2 }')
ssh-agent -a "$T/pipes/openssh-ssh-agent" >agent.env
SSH_AUTH_SOCK=$T/pipes/openssh-ssh-agent ssh-add -q key
rm key # the key now lives in the agent alone, as on Windows
cat >"c/Program Files/AzureLinux/azurelinux.exe" <<SH
#!/bin/sh
# azurelinux.exe relay --pipe NAME, standing in: \\\\.\\pipe\\NAME is a socket in $T/pipes.
[ "\$1 \$2" = "relay --pipe" ] && [ \$# -eq 3 ] || { echo "relay: bad arguments: \$*" >&2; exit 2; }
echo \$\$ >>"$T/relay-pids"
exec /usr/bin/python3 "$LIB/stdio-unix.py" "$T/pipes/\$3"
SH
chmod 0755 "c/Program Files/AzureLinux/azurelinux.exe"
: >relay-pids

login_env() { "$BRIDGE" env 2>>env.err || true; } # exits 1: the Azure bridge is off here

e2e_check "the login hook's env: SSH_AUTH_SOCK at a 0600 socket in a 0700 directory, the relay started"
eval "$(login_env)"
[[ ${SSH_AUTH_SOCK:-} == "$SOCK" ]] || e2e_fail "SSH_AUTH_SOCK is '${SSH_AUTH_SOCK:-}', expected $SOCK ($(cat env.err))"
[[ -S $SOCK && $(stat -c %a "$SOCK") == 600 && $(stat -c %a "$T/run/azurelinux-bridge") == 700 ]] ||
    e2e_fail "modes: $(stat -c '%A %n' "$SOCK" "$T/run/azurelinux-bridge" 2>&1)"
SERVER=$(pgrep -f -x "$BRIDGE env")
[[ $(wc -l <<<"$SERVER") == 1 ]] || e2e_fail "expected one relay server, found: $SERVER"
eval "$(login_env)"
[[ $(pgrep -f -x "$BRIDGE env") == "$SERVER" ]] || e2e_fail "a second login started a second relay"

e2e_check "ssh-add -l through the relay lists the Windows agent's key"
ssh-add -l >list.out || e2e_fail "ssh-add -l failed: $(cat list.out)"
grep -q "$KEY_FP relayed-test-key" list.out || e2e_fail "ssh-add -l: $(cat list.out)"
[[ $(sort -u relay-pids | wc -l) -ge 1 ]] || e2e_fail "the relay program was not run"

e2e_check "an ssh login to a local sshd and a git push over SSH with the relayed key"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ssh-keygen -q -t ed25519 -N '' -f host_key
cp key.pub authorized_keys
cat >sshd_config <<CONF
Port $PORT
ListenAddress 127.0.0.1
HostKey $T/host_key
AuthorizedKeysFile $T/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
PidFile $T/sshd.pid
CONF
/usr/sbin/sshd -D -e -f "$T/sshd_config" 2>sshd.log &
for ((i = 0; i < 200; i++)); do
    grep -q "Server listening on 127.0.0.1 port $PORT" sshd.log && break
    sleep 0.05
done
grep -q "Server listening" sshd.log || e2e_fail "sshd did not start: $(cat sshd.log)"
SSH="ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -p $PORT"
[[ $($SSH root@127.0.0.1 echo logged-in 2>ssh.err) == logged-in ]] || e2e_fail "ssh login: $(cat ssh.err; tail -5 sshd.log)"
grep -q "Accepted publickey for root .* ED25519 $KEY_FP" sshd.log || e2e_fail "sshd did not see the relayed key: $(tail -5 sshd.log)"
git init -q --bare remote.git
git init -q -b main work && git -C work -c user.name=T -c user.email=t@example.com commit -q --allow-empty -m relayed
GIT_SSH_COMMAND=$SSH git -C work push -q "root@127.0.0.1:$T/remote.git" main 2>push.err || e2e_fail "git push over SSH: $(cat push.err)"
[[ $(git -C remote.git log --format=%s main) == relayed ]] || e2e_fail "the push did not arrive"

e2e_check "100 concurrent connections each get the key"
clients=()
for i in $(seq 100); do
    ssh-add -l >"c$i.out" 2>&1 &
    clients+=($!)
done
failed=0
for pid in "${clients[@]}"; do
    wait "$pid" || failed=$((failed + 1))
done
((failed == 0)) || e2e_fail "$failed of 100 concurrent ssh-add -l failed: $(grep -Lh "$KEY_FP" c*.out | head -3 | xargs cat)"
[[ $(grep -l "$KEY_FP" c*.out | wc -l) == 100 ]] || e2e_fail "not every concurrent ssh-add -l listed the key"

e2e_check "the Windows side killed mid-session: that connection ends, the next one works"
before=$(wc -l <relay-pids)
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
print("closed" if s.recv(1) == b"" else "data", flush=True)' "$SOCK" >hold.out &
HOLD=$!
for ((i = 0; i < 200; i++)); do
    (($(wc -l <relay-pids) > before)) && break
    sleep 0.05
done
(($(wc -l <relay-pids) > before)) || e2e_fail "the held connection started no relay"
kill -9 "$(tail -1 relay-pids)"
wait "$HOLD"
[[ $(cat hold.out) == closed ]] || e2e_fail "the client of the killed relay saw: $(cat hold.out)"
ssh-add -l | grep -q "$KEY_FP" || e2e_fail "ssh-add -l after the kill"

e2e_check "a stale socket (the relay killed) is replaced by the next login"
kill -9 "$SERVER"
for ((i = 0; i < 200; i++)); do # reparented to us, this namespace's init: bash reaps it
    kill -0 "$SERVER" 2>/dev/null || break
    sleep 0.02
done
[[ -S $SOCK ]] || e2e_fail "the killed relay's socket is gone already (nothing stale to test)"
old_inode=$(stat -c %i "$SOCK")
ssh-add -l >/dev/null 2>&1 && e2e_fail "ssh-add -l worked with the relay killed"
eval "$(login_env)"
[[ $(stat -c %i "$SOCK") != "$old_inode" ]] || e2e_fail "the stale socket was not replaced"
ssh-add -l | grep -q "$KEY_FP" || e2e_fail "ssh-add -l after the restart"

e2e_check "a live agent of the user's own is left alone; a dead one is not"
SSH_AUTH_SOCK=$T/pipes/openssh-ssh-agent login_env >own.out
grep -q SSH_AUTH_SOCK own.out && e2e_fail "env replaced a live SSH_AUTH_SOCK: $(cat own.out)"
SSH_AUTH_SOCK=$T/no-such.sock login_env | grep -qx "export SSH_AUTH_SOCK='$SOCK'" ||
    e2e_fail "env kept a dead SSH_AUTH_SOCK"

e2e_check "turned off in bridge.conf: no SSH_AUTH_SOCK"
printf '[bridge]\nenabled = false\n[ssh-agent]\nenabled = false\n' >config/azurelinux/bridge.conf
SSH_AUTH_SOCK= login_env >off.out
[[ ! -s off.out ]] || e2e_fail "env with the relay off printed: $(cat off.out)"
printf '[bridge]\nenabled = false\n' >config/azurelinux/bridge.conf

# --- Git Credential Manager ----------------------------------------------------------------------------
grep -qxF $'\thelper = /usr/bin/azurelinux-bridge git-credential' "$GITCONFIG" ||
    e2e_fail "$GITCONFIG does not name azurelinux-bridge as the credential helper"
sed "s|/usr/bin/azurelinux-bridge|$BRIDGE|" "$GITCONFIG" >gitconfig
export GIT_CONFIG_SYSTEM=$T/gitconfig GIT_CONFIG_GLOBAL=/dev/null GIT_TERMINAL_PROMPT=0
# GCM answering git's credential protocol: the request on stdin (key=value lines up to a blank one),
# `get` answered with a user and a password naming where it runs from.
cat >fake-gcm <<SH
#!/bin/sh
req=\$(sed '/^\$/q')
printf '%s %s\n%s\n' "\$0" "\$1" "\$req" >>"$T/gcm.log"
[ "\$1" = get ] && printf 'username=gcm-user\npassword=from:%s\n' "\$0"
exit 0
SH
fill() { printf 'protocol=https\nhost=%s\npath=%s\n\n' "$1" "$2" | git credential fill 2>fill.err; }
for where in "Program Files/Git/ucrt64/bin/git-credential-manager.exe" \
    "Program Files/Git/mingw64/bin/git-credential-manager.exe" \
    "Program Files/Git/mingw64/libexec/git-core/git-credential-manager.exe" \
    "Program Files/Git/mingw64/libexec/git-core/git-credential-manager-core.exe" \
    "Program Files (x86)/Git Credential Manager/git-credential-manager.exe" \
    "Program Files/Git Credential Manager/git-credential-manager.exe" \
    "Users/Jane.Doe/AppData/Local/Programs/Git/mingw64/bin/git-credential-manager.exe" \
    "Users/Jane.Doe/AppData/Local/Programs/Git Credential Manager/git-credential-manager.exe" \
    "Users/Jane.Doe/AppData/Local/Programs/Git Credential Manager Core/git-credential-manager.exe"; do
    e2e_check "git credential fill with GCM at C:\\$where"
    mkdir -p "c/$(dirname "$where")"
    install -m 0755 fake-gcm "c/$where"
    : >gcm.log
    fill github.com owner/repo.git >fill.out || e2e_fail "git credential fill: $(cat fill.err)"
    grep -qx "password=from:/mnt/c/$where" fill.out || e2e_fail "fill with GCM at $where: $(cat fill.out fill.err)"
    grep -q '^path=' gcm.log && e2e_fail "a github.com path was passed to GCM: $(cat gcm.log)"
    rm "c/$where"
done

e2e_check "Azure DevOps: the path reaches GCM (useHttpPath); GCM moved by an update is found without setup"
install -m 0755 fake-gcm "c/Program Files/Git/mingw64/bin/git-credential-manager.exe"
: >gcm.log
fill dev.azure.com contoso/web/_git/app >fill.out || e2e_fail "fill for dev.azure.com: $(cat fill.err)"
grep -qx 'path=contoso/web/_git/app' gcm.log || e2e_fail "GCM did not get the Azure DevOps path: $(cat gcm.log)"
mv "c/Program Files/Git/mingw64/bin/git-credential-manager.exe" "c/Program Files/Git/ucrt64/bin/"
fill github.com owner/repo.git >fill.out || e2e_fail "fill after the move: $(cat fill.err)"
grep -q 'ucrt64' fill.out || e2e_fail "GCM's new place was not used: $(cat fill.out)"

e2e_check "GCM turned off or not installed: git asks as usual (here: no prompt, so it fails)"
printf '[bridge]\nenabled = false\n[gcm]\nenabled = false\n' >config/azurelinux/bridge.conf
: >gcm.log
fill github.com owner/repo.git >fill.out && e2e_fail "fill succeeded with GCM turned off"
[[ ! -s gcm.log ]] || e2e_fail "GCM ran while turned off"
printf '[bridge]\nenabled = false\n' >config/azurelinux/bridge.conf
rm "c/Program Files/Git/ucrt64/bin/git-credential-manager.exe"
fill github.com owner/repo.git >fill.out && e2e_fail "fill succeeded without GCM"
grep -q 'terminal prompts disabled' fill.err || e2e_fail "without GCM: $(cat fill.err)"

echo "relay tests passed (${SECONDS}s)"
