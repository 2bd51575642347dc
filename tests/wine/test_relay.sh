#!/usr/bin/env bash
# The Windows half of the ssh-agent relay: the real azurelinux.exe's `relay --pipe` under Wine. A
# named-pipe server in the prefix (wslsim-pipe-agent.exe, serving \\.\pipe\openssh-ssh-agent as the
# OpenSSH Authentication Agent service does) carries each client to a real Linux ssh-agent holding a
# test key (through lib/tcp-to-unix.py). The guest half, azurelinux-bridge, runs the relay for each
# connection to its SSH_AUTH_SOCK as it would through WSL interop (here: `wine azurelinux.exe`).
# Checks: ssh-add -l end to end, repeated and concurrent; `status` counts the agent's keys through
# the relay; the relay's errors for a pipe nobody serves and for a bad name.
#   test_relay.sh BRIDGE
set -euo pipefail
BRIDGE=$(realpath "$1")
# shellcheck source=lib/wine.sh
source "$(dirname "$0")/lib/wine.sh"
LIB=$(realpath "$(dirname "$0")/lib")
wine_require
[[ -f $AZL_MINGW_DIR/wslsim/wslsim-pipe-agent.exe ]] ||
    wine_skip "no wslsim-pipe-agent.exe in $AZL_MINGW_DIR: cmake --build --preset mingw"
wine_env
e2e_require_tools ssh-agent ssh-add ssh-keygen python3
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

e2e_check "relay to a pipe nobody serves: exit 1, what to start"
expect_exit 1 wine "$EXE" relay --pipe no-such-agent
expect_in 'nothing listens on \\.\pipe\no-such-agent' "$ERR" "relay to a missing pipe"
expect_in "Start-Service ssh-agent" "$ERR" "relay to a missing pipe"
e2e_check "relay with a path for a name: refused"
expect_exit 1 wine "$EXE" relay --pipe 'a\b'
expect_in "is not a named pipe's name" "$ERR" "relay --pipe a\\b"

echo "wine relay tests passed (${SECONDS}s)"
