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
e2e_require_tools unshare ssh ssh-agent ssh-add ssh-keygen git python3 pgrep gpg gpg-agent gpgconf
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
# azurelinux.exe relay, standing in: \\\\.\\pipe\\NAME is a socket in $T/pipes, C:\\ is $T/c.
[ \$# -eq 3 ] || { echo "relay: bad arguments: \$*" >&2; exit 2; }
case "\$1 \$2" in
"relay --pipe")
    echo \$\$ >>"$T/relay-pids"
    exec /usr/bin/python3 "$LIB/stdio-unix.py" "$T/pipes/\$3" ;;
"relay --assuan")
    exec /usr/bin/python3 "$LIB/assuan-relay.py" "\$(printf '%s' "\$3" | sed -e 's|^C:|$T/c|' -e 's|\\\\|/|g')" ;;
*)
    echo "relay: bad arguments: \$*" >&2
    exit 2 ;;
esac
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
[[ $(pgrep -f -x "$BRIDGE env") == "$SERVER" ]] || e2e_fail "a second login started a second relay: $SERVER then $(pgrep -a -f -x "$BRIDGE env")"

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
ssh-add -l >/dev/null 2>&1 && e2e_fail "ssh-add -l worked with the relay killed"
eval "$(login_env)"
# (Not the inode: a file system may give the new socket the number the old one freed.)
NEW_SERVER=$(pgrep -f -x "$BRIDGE env" || true)
[[ -n $NEW_SERVER && $NEW_SERVER != "$SERVER" ]] || e2e_fail "the next login started no new relay: $(cat env.err)"
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

# --- the Windows GnuPG agent --------------------------------------------------------------------------
# Gpg4win's agent stands in: a real gpg-agent holding a test key in a GNUPGHOME of its own, behind
# lib/assuan-tcp-agent.py, which listens on 127.0.0.1 and writes S.gpg-agent.extra as libassuan
# does on Windows (port, line feed, 16-byte nonce) in %LOCALAPPDATA%\gnupg.
e2e_check "gpg --sign and git commit -S in the guest sign with the Windows GnuPG agent's key"
install -d -m 0700 win-gnupg guest-gnupg
GNUPGHOME=$T/win-gnupg gpg --batch --quiet --pinentry-mode loopback --passphrase '' \
    --quick-gen-key 'Relayed Signer <signer@example.com>' ed25519 sign never 2>gpg.err ||
    e2e_fail "making the Windows key: $(cat gpg.err)"
GNUPGHOME=$T/win-gnupg gpg --batch --export --armor >signer.asc
GNUPGHOME=$T/win-gnupg gpgconf --launch gpg-agent
win_extra=$(GNUPGHOME=$T/win-gnupg gpgconf --list-dirs agent-extra-socket)
SOCKET_FILE=$T/c/Users/Jane.Doe/AppData/Local/gnupg/S.gpg-agent.extra
mkdir -p "$(dirname "$SOCKET_FILE")"
python3 "$LIB/assuan-tcp-agent.py" "$SOCKET_FILE" "$win_extra" &
for ((i = 0; i < 200; i++)); do
    [[ -s $SOCKET_FILE ]] && break
    sleep 0.05
done
[[ -s $SOCKET_FILE ]] || e2e_fail "the Assuan-over-TCP stand-in wrote no socket file"
export GNUPGHOME=$T/guest-gnupg
# The guest's keyring holds the public key only; --no-autostart: no gpg-agent of the guest's own.
gpg --batch --quiet --no-autostart --import signer.asc 2>gpg.err || e2e_fail "importing the public key: $(cat gpg.err)"
GUEST_GPG=$(gpgconf --list-dirs agent-socket)
[[ ! -e $GUEST_GPG ]] || e2e_fail "a guest agent socket exists before the login hook: $GUEST_GPG"
eval "$(login_env)"
[[ -S $GUEST_GPG ]] || e2e_fail "no relay at the guest's agent socket $GUEST_GPG: $(cat env.err)"
[[ $(stat -c %a "$GUEST_GPG") == 600 ]] || e2e_fail "the gpg-agent socket's mode: $(stat -c %A "$GUEST_GPG")"
sign() { echo "$1" | gpg --batch --no-autostart --armor --sign 2>sign.err; }
sign relayed >signed.asc || e2e_fail "gpg --sign: $(cat sign.err)"
gpg --batch --no-autostart --verify signed.asc 2>verify.out || e2e_fail "gpg --verify: $(cat verify.out)"
grep -q 'Good signature from "Relayed Signer <signer@example.com>"' verify.out ||
    e2e_fail "the signature: $(cat verify.out)"
[[ -z $(ls -A "$GNUPGHOME/private-keys-v1.d" 2>/dev/null) ]] || e2e_fail "a private key reached the guest"
git -C work -c user.name=T -c user.email=signer@example.com -c user.signingkey=signer@example.com \
    commit -q -S --allow-empty -m signed 2>commit.err || e2e_fail "git commit -S: $(cat commit.err)"
git -C work verify-commit HEAD 2>verify.out || e2e_fail "git verify-commit: $(cat verify.out)"

e2e_check "status and doctor's source: the relay runs, the Windows agent answers with its version"
win_version=$(gpg-agent --version | awk 'NR == 1 { print $NF }')
"$BRIDGE" status --json >status.json 2>status.err || true
python3 - status.json "$GUEST_GPG" "$win_version" <<'PY' || e2e_fail "status --json: $(cat status.json status.err)"
import json, sys
g = json.load(open(sys.argv[1]))["gpg_agent"]
assert g["enabled"] and g["running"] and not g["own_agent"], g
assert g["socket"] == sys.argv[2] and g["socket_file"].endswith("/AppData/Local/gnupg/S.gpg-agent.extra"), g
assert g["version"] == sys.argv[3] and g["error"] is None, g
PY
"$BRIDGE" status >status.txt 2>&1 || true
grep -q "^gpg-agent: .*(running), the Windows agent answers (GnuPG $win_version)" status.txt ||
    e2e_fail "status: $(cat status.txt)"

e2e_check "a GnuPG socket file with another nonce: the agent drops the relay, gpg and status say so"
cp "$SOCKET_FILE" good.extra
{ head -1 good.extra; printf '0123456789abcdef'; } >"$SOCKET_FILE"
sign refused >/dev/null && e2e_fail "signed with a wrong nonce"
"$BRIDGE" status --json >status.json 2>/dev/null || true
python3 -c 'import json, sys; g = json.load(open(sys.argv[1]))["gpg_agent"]; assert g["version"] is None and "without an answer" in g["error"], g' status.json ||
    e2e_fail "status with a wrong nonce: $(cat status.json)"
cp good.extra "$SOCKET_FILE"
sign again >/dev/null || e2e_fail "gpg --sign with the nonce restored: $(cat sign.err)"

# The relay's process: the one holding its lock.
gpg_relay_pid() {
    local fd
    for fd in /proc/[0-9]*/fd/*; do
        [[ $(readlink "$fd" 2>/dev/null) == "$T/run/azurelinux-bridge/gpg-agent.lock" ]] && { fd=${fd#/proc/}; echo "${fd%%/*}"; return; }
    done
}
e2e_check "a stale gpg-agent socket (the relay killed) is replaced by the next login"
GPG_RELAY=$(gpg_relay_pid)
[[ -n $GPG_RELAY ]] || e2e_fail "no process holds the gpg-agent relay's lock"
kill -9 "$GPG_RELAY"
for ((i = 0; i < 200; i++)); do
    kill -0 "$GPG_RELAY" 2>/dev/null || break
    sleep 0.02
done
[[ -S $GUEST_GPG ]] || e2e_fail "the killed relay's socket is gone already (nothing stale to test)"
sign stale >/dev/null && e2e_fail "gpg --sign worked with the relay killed"
eval "$(login_env)"
# (Not the inode: a file system may give the new socket the number the old one freed.)
NEW_RELAY=$(gpg_relay_pid)
[[ -n $NEW_RELAY && $NEW_RELAY != "$GPG_RELAY" ]] || e2e_fail "the next login started no new relay: $(cat env.err)"
sign restarted >/dev/null || e2e_fail "gpg --sign after the restart (the stale socket not replaced?): $(cat sign.err)"

e2e_check "a live gpg-agent of the guest's own is left alone (status says so); gone, ours comes back"
kill "$(gpg_relay_pid)"
for ((i = 0; i < 200; i++)); do [[ -z $(gpg_relay_pid) ]] && break; sleep 0.02; done
rm -f "$GUEST_GPG"
gpg-agent --daemon >/dev/null 2>&1 || e2e_fail "starting the guest's own gpg-agent"
own_inode=$(stat -c %i "$GUEST_GPG")
eval "$(login_env)"
[[ $(stat -c %i "$GUEST_GPG") == "$own_inode" && -z $(gpg_relay_pid) ]] || e2e_fail "the login hook replaced the guest's own agent"
"$BRIDGE" status --json >status.json 2>/dev/null || true
python3 -c 'import json, sys; g = json.load(open(sys.argv[1]))["gpg_agent"]; assert g["own_agent"] and not g["running"], g' status.json ||
    e2e_fail "status with the guest's own agent: $(cat status.json)"
sign own >/dev/null && e2e_fail "the guest's own agent (no keys) signed"
gpgconf --kill gpg-agent
for ((i = 0; i < 200; i++)); do [[ -S $GUEST_GPG ]] || break; sleep 0.02; done
eval "$(login_env)"
sign back >/dev/null || e2e_fail "gpg --sign after the guest's agent ended: $(cat sign.err)"

e2e_check "turned off in bridge.conf: the login hook starts no relay, serving it says how to turn it on"
kill "$(gpg_relay_pid)"
for ((i = 0; i < 200; i++)); do [[ -z $(gpg_relay_pid) ]] && break; sleep 0.02; done
printf '[bridge]\nenabled = false\n[gpg-agent]\nenabled = false\n' >config/azurelinux/bridge.conf
eval "$(login_env)"
[[ -z $(gpg_relay_pid) ]] || e2e_fail "the login hook started the gpg-agent relay while turned off"
"$BRIDGE" gpg-agent --background >off.out 2>&1 && e2e_fail "gpg-agent served while turned off"
grep -q 'enabled = true' off.out || e2e_fail "gpg-agent turned off: $(cat off.out)"
printf '[bridge]\nenabled = false\n' >config/azurelinux/bridge.conf
unset GNUPGHOME

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
