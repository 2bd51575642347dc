#!/usr/bin/env bash
# Runs azurelinux-bridge's token server under Valgrind (memcheck; Debian `valgrind`) and drives every
# path a client can reach: host calls (worker threads, single flight, several resources at once, a
# host failure), cached tokens through the four protocols (wrk with tests/e2e/lib/bridge-valid.lua),
# and the hostile clients of tests/e2e/lib/bridge-abuse.py (malformed, slow, idle, cut-off and
# non-reading clients); then stops it with SIGTERM and reports Valgrind's findings.
# It fails (exit 1) on any memory error, any definitely lost block, or a server that does not exit 0.
# The fake host CLI (tests/fixtures/fake-az) stands in for Windows' az. Use a build without
# sanitizers (the `dev` preset); Valgrind makes the server some 20x slower, so the abuse report's
# timings are informative only.
#
# Usage: scripts/valgrind-bridge.sh [BUILD_DIR] [-d SECONDS]
#   BUILD_DIR   where azurelinux-bridge was built (default: build/dev); or set AZL_BRIDGE
#   -d SECONDS  how long the load runs (default 30)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=tests/e2e/lib/common.sh
source "$repo/tests/e2e/lib/common.sh"

duration=30 build_dir=$repo/build/dev
while (($#)); do
    case $1 in
    -d) duration=${2:?-d needs seconds}; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
    *) build_dir=$1; shift ;;
    esac
done
if ! [[ $duration =~ ^[0-9]+$ ]] || ((duration < 10)); then
    e2e_fail "-d $duration: give whole seconds, at least 10"
fi
bridge=$(e2e_bridge_binary "$build_dir")
if nm -C "$bridge" 2>/dev/null | grep -q '__asan_init\|__tsan_init'; then
    e2e_fail "$bridge is built with sanitizers: Valgrind needs a plain build (cmake --preset dev)"
fi
fake_az=$repo/tests/fixtures/fake-az/az
e2e_require_tools valgrind wrk curl python3

e2e_scratch
server_pid='' abuse_pid=''
cleanup() {
    local p
    for p in $abuse_pid $server_pid; do kill "$p" 2>/dev/null || true; done
    cd / && rm -rf -- "$E2E_TMP"
}
e2e_on_exit cleanup
export HOME=$E2E_TMP/home XDG_RUNTIME_DIR=$E2E_TMP/run XDG_CONFIG_HOME=$E2E_TMP/config FAKE_AZ_STATE=$E2E_TMP/az
mkdir -p "$HOME" "$XDG_CONFIG_HOME/azurelinux" "$FAKE_AZ_STATE" && install -d -m 0700 "$XDG_RUNTIME_DIR"
unset IDENTITY_ENDPOINT IDENTITY_HEADER MSI_ENDPOINT ARM_MSI_ENDPOINT
printf '[bridge]\nhostAz = %s\nidleTimeout = 0\n' "$fake_az" >"$XDG_CONFIG_HOME/azurelinux/bridge.conf"
log=$E2E_TMP/valgrind.log

valgrind --leak-check=full --error-exitcode=1 --errors-for-leak-kinds=definite --show-leak-kinds=definite,indirect,possible \
    --track-origins=yes --log-file="$log" "$bridge" serve 2>"$E2E_TMP/bridge.log" &
server_pid=$!
state=$XDG_RUNTIME_DIR/azurelinux-bridge/server.json
for _ in $(seq 600); do
    [[ -s $state && $(sed -e 's/.*"pid":\([0-9]*\).*/\1/' "$state") == "$server_pid" ]] && break
    kill -0 "$server_pid" 2>/dev/null || e2e_fail "the bridge exited under valgrind at start: $(tail -n 20 "$log")"
    sleep 0.1
done
[[ $(sed -e 's/.*"pid":\([0-9]*\).*/\1/' "$state") == "$server_pid" ]] || e2e_fail "the bridge did not start in 60 s"
eval "$("$bridge" env)"
port=${IDENTITY_ENDPOINT#http://127.0.0.1:}
port=${port%%/*}

get() { curl -sS -o /dev/null -w '%{http_code}\n' --max-time 60 -H "X-IDENTITY-HEADER: $IDENTITY_HEADER" "$@"; }
e2e_log "host calls: 4 resources at once (5 requests each), then a failing host"
echo 0.5 >"$FAKE_AZ_STATE/delay"
clients=()
for r in management.azure.com vault.azure.net storage.azure.com graph.microsoft.com; do
    for _ in 1 2 3 4 5; do
        get "$IDENTITY_ENDPOINT?api-version=2019-08-01&resource=https://$r" >>"$E2E_TMP/codes" &
        clients+=($!)
    done
done
for p in "${clients[@]}"; do wait "$p" || true; done
[[ $(sort -u "$E2E_TMP/codes") == 200 ]] || e2e_fail "host calls: $(sort "$E2E_TMP/codes" | uniq -c | tr '\n' ' ')"
echo 0 >"$FAKE_AZ_STATE/delay"
echo signed-out >"$FAKE_AZ_STATE/mode"
[[ $(get "$IDENTITY_ENDPOINT?api-version=2019-08-01&resource=https://database.windows.net") == 400 ]] ||
    e2e_fail "a signed-out host did not give 400"
echo signed-in >"$FAKE_AZ_STATE/mode"
[[ $(get "${IDENTITY_ENDPOINT%/msi/token}/bridge/status") == 200 ]] || e2e_fail "bridge/status failed"

e2e_log "load: ${duration}s of wrk -c32 and hostile clients"
python3 "$repo/tests/e2e/lib/bridge-abuse.py" -d "$duration" --rate 20 --idle 40 --slow 4 >"$E2E_TMP/abuse.txt" 2>&1 &
abuse_pid=$!
wrk -t1 -c32 -d"${duration}s" --timeout 30s -s "$repo/tests/e2e/lib/bridge-valid.lua" "http://127.0.0.1:$port/" \
    >"$E2E_TMP/wrk.txt" 2>&1 || e2e_fail "wrk failed: $(cat "$E2E_TMP/wrk.txt")"
wait "$abuse_pid" || true
abuse_pid=

kill -TERM "$server_pid"
server_rc=0
wait "$server_pid" || server_rc=$?
server_pid=

grep '^SOAK ' "$E2E_TMP/wrk.txt" | sed -e 's/^SOAK /wrk (valid requests): /'
head -n 1 "$E2E_TMP/abuse.txt" | sed -e 's/^/hostile clients: /'
tail -n 1 "$E2E_TMP/abuse.txt"
grep -E 'ERROR SUMMARY|definitely lost|indirectly lost|possibly lost|still reachable|All heap blocks were freed|total heap usage' "$log" |
    sed -e 's/^==[0-9]*== *//'
if ((server_rc != 0)); then
    sed -n '/HEAP SUMMARY/,$p' "$log" | head -n 80 >&2
    grep -B2 -A25 -E 'Invalid|uninitialised|definitely lost in' "$log" | head -n 120 >&2
    e2e_fail "the bridge under valgrind exited $server_rc (1: valgrind found errors; the log is above)"
fi
echo "valgrind: no memory errors, no definitely lost blocks; the bridge exited 0 on SIGTERM"
