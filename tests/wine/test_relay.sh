#!/usr/bin/env bash
# The Windows half of the ssh-agent and gpg-agent relays: the real azurelinux.exe's `relay --pipe` under Wine. A
# named-pipe server in the prefix (wslsim-pipe-agent.exe, serving \\.\pipe\openssh-ssh-agent as the
# OpenSSH Authentication Agent service does) carries each client to a real Linux ssh-agent holding a
# test key (through lib/tcp-to-unix.py). The guest half, azurelinux-bridge, runs the relay for each
# connection to its SSH_AUTH_SOCK as it would through WSL interop (here: `wine azurelinux.exe`).
# Checks: ssh-add -l end to end, repeated and concurrent; `status` counts the agent's keys through
# the relay; the relay's errors for a pipe nobody serves and for a bad name. GnuPG: `relay --assuan`
# carries an Assuan round trip and, as root, the bridge's gpg-agent relay carries `gpg --sign` to a
# real gpg-agent behind a stand-in for Gpg4win's socket emulation (TCP port and nonce); a wrong
# nonce is refused; no, malformed or dead socket files are errors saying what to do.
#   test_relay.sh BRIDGE
set -euo pipefail
BRIDGE=$(realpath "$1")
# shellcheck source=lib/wine.sh
source "$(dirname "$0")/lib/wine.sh"
LIB=$(realpath "$(dirname "$0")/lib")
E2E_LIB=$(realpath "$(dirname "$0")/../e2e/lib")
wine_require
[[ -f $AZL_MINGW_DIR/wslsim/wslsim-pipe-agent.exe ]] ||
    wine_skip "no wslsim-pipe-agent.exe in $AZL_MINGW_DIR: cmake --build --preset mingw"
wine_env
e2e_require_tools ssh-agent ssh-add ssh-keygen python3 gpg gpg-agent gpgconf
template=$(wine_template)
e2e_scratch
T=$E2E_TMP
WINE_DIR=$T # expect_exit's output files
# The process holding FILE open (the relay daemon holds its lock for its lifetime).
lock_holder() {
    local fd
    for fd in /proc/[0-9]*/fd/*; do
        if [[ $(readlink "$fd" 2>/dev/null) == "$1" ]]; then
            fd=${fd#/proc/}
            echo "${fd%%/*}"
            return
        fi
    done
}
PIDS=()
cleanup() {
    local rc=$?
    ((${#PIDS[@]} == 0)) || kill "${PIDS[@]}" 2>/dev/null || true
    [[ -n ${WINEPREFIX:-} ]] && wineserver --kill 2>/dev/null || true
    # The relay the login hook started (a daemon of the bridge: not our child).
    [[ -n ${RELAY_PID:-} ]] && kill "$RELAY_PID" 2>/dev/null || true
    [[ -d $T/gnupg ]] && GNUPGHOME=$T/gnupg gpgconf --kill gpg-agent 2>/dev/null || true
    [[ -d $T/guest-gnupg ]] && GNUPGHOME=$T/guest-gnupg gpgconf --kill gpg-agent 2>/dev/null || true
    cd / && rm -rf -- "$T"
    return "$rc"
}
e2e_on_exit cleanup
export WINEPREFIX=$T/prefix
cp -a "$template" "$WINEPREFIX"
mkdir -p "$WINEPREFIX/drive_c/Program Files/AzureLinux"
cp "$AZL_MINGW_DIR/bin/azurelinux.exe" "$WINEPREFIX/drive_c/Program Files/AzureLinux/"
cp "$AZL_MINGW_DIR/wslsim/wslsim-pipe-agent.exe" "$WINEPREFIX/drive_c/windows/system32/"
EXE='C:\Program Files\AzureLinux\azurelinux.exe'
wineserver --persistent=60

# --- the Windows side: the agent behind \\.\pipe\openssh-ssh-agent ---------------------------------------
ssh-keygen -q -t ed25519 -N '' -C wine-relayed-key -f key
KEY_FP=$(ssh-keygen -lf key.pub | awk '{ print $2 }')
eval "$(ssh-agent -a "$T/agent.sock")" >/dev/null
PIDS+=("$SSH_AGENT_PID")
SSH_AUTH_SOCK=$T/agent.sock ssh-add -q key
python3 "$LIB/tcp-to-unix.py" "$T/agent.sock" "$T/port" &
PIDS+=($!)
for ((i = 0; i < 200; i++)); do [[ -s $T/port ]] && break; sleep 0.05; done
[[ -s $T/port ]] || e2e_fail "the TCP forwarder did not start"
wine 'C:\windows\system32\wslsim-pipe-agent.exe' openssh-ssh-agent "$(cat "$T/port")" >agent.out 2>agent.err &
PIDS+=($!)
for ((i = 0; i < 400; i++)); do grep -q ready agent.out 2>/dev/null && break; sleep 0.05; done
grep -q ready agent.out || e2e_fail "the pipe agent did not start: $(cat agent.err)"

# --- the guest side: azurelinux-bridge, with interop standing in as `wine` --------------------------------
cat >interop-relay <<SH
#!/bin/sh
export WINEPREFIX='$WINEPREFIX' WINEDEBUG=-all LANG=C.UTF-8 LC_ALL=C.UTF-8
exec wine '$EXE' "\$@"
SH
chmod 0755 interop-relay
mkdir -p config/azurelinux home && install -d -m 0700 run
printf '[bridge]\nenabled = false\n[relay]\nlauncher = %s\n' "$T/interop-relay" >config/azurelinux/bridge.conf
export HOME=$T/home XDG_RUNTIME_DIR=$T/run XDG_CONFIG_HOME=$T/config
unset SSH_AUTH_SOCK SSH_AGENT_PID

e2e_check "ssh-add -l in the guest, through azurelinux.exe relay and the named pipe, lists the Windows key"
eval "$("$BRIDGE" env 2>env.err || true)"
[[ ${SSH_AUTH_SOCK:-} == "$T/run/azurelinux-bridge/ssh-agent.sock" ]] || e2e_fail "no SSH_AUTH_SOCK: $(cat env.err)"
RELAY_PID=$(lock_holder "$T/run/azurelinux-bridge/ssh-agent.lock")
ssh-add -l >list.out 2>&1 || e2e_fail "ssh-add -l: $(cat list.out)"
grep -q "$KEY_FP wine-relayed-key" list.out || e2e_fail "ssh-add -l listed: $(cat list.out)"

e2e_check "again, and 8 at once (the agent serves a pipe instance per client)"
ssh-add -l | grep -q "$KEY_FP" || e2e_fail "the second ssh-add -l"
clients=()
for i in $(seq 8); do
    ssh-add -l >"c$i.out" 2>&1 &
    clients+=($!)
done
for pid in "${clients[@]}"; do wait "$pid" || e2e_fail "a concurrent ssh-add -l failed: $(cat c*.out)"; done
[[ $(grep -l "$KEY_FP" c*.out | wc -l) == 8 ]] || e2e_fail "not every concurrent ssh-add -l listed the key"

e2e_check "status counts the Windows agent's keys through the relay"
"$BRIDGE" status --json >status.json 2>status.err || e2e_fail "status: $(cat status.err)"
python3 - status.json <<'PY' || e2e_fail "status: $(cat status.json)"
import json, sys
s = json.load(open(sys.argv[1]))["ssh_agent"]
assert s["enabled"] and s["running"] and s["keys"] == 1 and s["error"] is None, s
PY

# --- GnuPG: Gpg4win's agent stands in as a real gpg-agent behind lib/assuan-tcp-agent.py, which listens
# on 127.0.0.1 and writes C:\gnupg\S.gpg-agent.extra as libassuan does on Windows (port, nonce) ----------
install -d -m 0700 gnupg guest-gnupg
GNUPGHOME=$T/gnupg gpg --batch --quiet --pinentry-mode loopback --passphrase '' \
    --quick-gen-key 'Wine Signer <wine@example.com>' ed25519 sign never 2>gpg.err ||
    e2e_fail "making the Windows key: $(cat gpg.err)"
GNUPGHOME=$T/gnupg gpg --batch --export --armor >signer.asc
extra=$(GNUPGHOME=$T/gnupg gpgconf --list-dirs agent-extra-socket)
SOCKET_FILE=$WINEPREFIX/drive_c/gnupg/S.gpg-agent.extra
mkdir -p "$WINEPREFIX/drive_c/gnupg"
python3 "$E2E_LIB/assuan-tcp-agent.py" "$SOCKET_FILE" "$extra" &
PIDS+=($!)
for ((i = 0; i < 200; i++)); do [[ -s $SOCKET_FILE ]] && break; sleep 0.05; done
[[ -s $SOCKET_FILE ]] || e2e_fail "the Assuan-over-TCP stand-in wrote no socket file"
version=$(gpg-agent --version | awk 'NR == 1 { print $NF }')

e2e_check "relay --assuan under Wine: an Assuan round trip with GnuPG's agent (TCP port and nonce)"
printf 'GETINFO version\n' | wine "$EXE" relay --assuan 'C:\gnupg\S.gpg-agent.extra' >assuan.out 2>assuan.err ||
    e2e_fail "relay --assuan: $(cat assuan.err)"
grep -q '^OK Pleased to meet you' assuan.out && grep -qx "D $version" assuan.out ||
    e2e_fail "the agent's answers through the relay: $(cat assuan.out assuan.err)"

if [[ $(id -u) == 0 ]] && unshare --mount true 2>/dev/null; then
    e2e_check "gpg --sign in the guest through azurelinux-bridge gpg-agent and relay --assuan under Wine"
    # The bridge's relay in a mount namespace where /mnt/c is the prefix's drive C:, as in WSL.
    printf '[bridge]\nenabled = false\n[relay]\nlauncher = %s\n[gpg-agent]\nsocketFile = /mnt/c/gnupg/S.gpg-agent.extra\n' \
        "$T/interop-relay" >config/azurelinux/bridge.conf
    export GNUPGHOME=$T/guest-gnupg
    gpg --batch --quiet --no-autostart --import signer.asc 2>gpg.err || e2e_fail "importing the public key: $(cat gpg.err)"
    guest_socket=$(gpgconf --list-dirs agent-socket)
    unshare --mount --propagation private sh -c \
        'mount -t tmpfs tmpfs /mnt && mkdir /mnt/c && mount --bind "$1" /mnt/c && exec "$2" gpg-agent' \
        sh "$WINEPREFIX/drive_c" "$BRIDGE" 2>gpg-relay.err &
    PIDS+=($!)
    for ((i = 0; i < 200; i++)); do [[ -S $guest_socket ]] && break; sleep 0.05; done
    [[ -S $guest_socket ]] || e2e_fail "the gpg-agent relay did not start: $(cat gpg-relay.err)"
    echo wine-relayed | gpg --batch --no-autostart --armor --sign >signed.asc 2>sign.err ||
        e2e_fail "gpg --sign: $(cat sign.err gpg-relay.err)"
    gpg --batch --no-autostart --verify signed.asc 2>verify.out &&
        grep -q 'Good signature from "Wine Signer <wine@example.com>"' verify.out ||
        e2e_fail "the signature: $(cat verify.out)"
    unset GNUPGHOME
else
    e2e_log "not root (or no mount namespaces): gpg --sign through the bridge's relay is not run, the round trip above is"
fi

e2e_check "relay --assuan with another nonce: the agent drops it, the client sees the end"
cp "$SOCKET_FILE" good.extra
{ head -1 good.extra; printf '0123456789abcdef'; } >"$SOCKET_FILE"
printf 'GETINFO version\n' | wine "$EXE" relay --assuan 'C:\gnupg\S.gpg-agent.extra' >assuan.out 2>&1 || true
grep -q '^OK' assuan.out && e2e_fail "the agent answered a relay with a wrong nonce: $(cat assuan.out)"
cp good.extra "$SOCKET_FILE"
e2e_check "relay --assuan: no socket file, a malformed one, nothing listening: exit 1, what to do"
expect_exit 1 wine "$EXE" relay --assuan 'C:\gnupg\S.nothing'
expect_in 'there is no GnuPG agent socket file C:\gnupg\S.nothing' "$ERR" "relay --assuan"
expect_in "gpgconf --launch gpg-agent" "$ERR" "relay --assuan"
printf 'not a socket file\n' >"$WINEPREFIX/drive_c/gnupg/S.bad"
expect_exit 1 wine "$EXE" relay --assuan 'C:\gnupg\S.bad'
expect_in 'C:\gnupg\S.bad is not a GnuPG socket file' "$ERR" "relay --assuan on a malformed file"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
{ echo "$port"; head -c 16 /dev/zero; } >"$WINEPREFIX/drive_c/gnupg/S.dead"
expect_exit 1 wine "$EXE" relay --assuan 'C:\gnupg\S.dead'
expect_in "GnuPG's agent does not answer on port $port" "$ERR" "relay --assuan to a dead port"

e2e_check "relay to a pipe nobody serves: exit 1, what to start"
expect_exit 1 wine "$EXE" relay --pipe no-such-agent
expect_in 'nothing listens on \\.\pipe\no-such-agent' "$ERR" "relay to a missing pipe"
expect_in "Start-Service ssh-agent" "$ERR" "relay to a missing pipe"
e2e_check "relay with a path for a name: refused"
expect_exit 1 wine "$EXE" relay --pipe 'a\b'
expect_in "is not a named pipe's name" "$ERR" "relay --pipe a\\b"

echo "wine relay tests passed (${SECONDS}s)"
