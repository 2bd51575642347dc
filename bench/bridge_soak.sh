#!/usr/bin/env bash
# Soak test: the bridge's token server (a cached token from the fake host CLI, tests/fixtures/fake-az)
# for SECONDS under two loads at once:
#   - wrk (Debian `wrk`), 256 keep-alive connections of valid token requests, cycling through the four
#     protocols (App Service, IMDS, Cloud Shell, bridge/token); tests/e2e/lib/bridge-valid.lua checks
#     every reply
#   - tests/e2e/lib/bridge-abuse.py: malformed requests (each with the exact status it must get),
#     slowloris and truncated requests (408), 300 connections that never send, clients that close
#     or reset mid-request, a client that never reads its replies, and a new connection with one
#     valid request every 0.2 s (hostile connections must not starve new clients)
# while VmRSS, VmHWM and the open descriptors of the server are sampled. It fails (exit 1) when:
#   - the server dies, or does not exit 0 on SIGTERM at the end
#   - a valid request is not answered 200 with a token (wrk: non-200, socket error or 10 s timeout;
#     or a probe). The server sheds no valid load here: its only 503 is for more than 16 distinct
#     tokens being fetched from the host at once, which a cached token never needs; it has no 429
#   - a malformed request gets another answer than its expected one; a close instead counts only
#     for a connection the server's debug log says it evicted at its connection limit (on a busy
#     machine, one accepted before its first byte arrived: see bridge-abuse.py)
#   - its descriptors do not return to the baseline once the clients are gone
#   - VmRSS grows more than 2 MiB from the end of warm-up (a quarter of the run, at most 60 s) to the
#     end of the load; not judged for an AddressSanitizer build, whose quarantine keeps freed memory
#     (up to 256 MiB) on purpose: reported only
#
# Usage: bench/bridge_soak.sh [BUILD_DIR] [-d SECONDS] [--strict]
#   BUILD_DIR   where azurelinux-bridge was built (default: build/dev); or set AZL_BRIDGE
#   -d SECONDS  how long the load runs (default 600)
#   --strict    also fail when valid requests ran under 1 000 a second (a server that survives by
#               serving almost nothing)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=tests/e2e/lib/common.sh
source "$repo/tests/e2e/lib/common.sh"

duration=600 strict=0 build_dir=$repo/build/dev
while (($#)); do
    case $1 in
    -d) duration=${2:?-d needs seconds}; shift 2 ;;
    --strict) strict=1; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
    *) build_dir=$1; shift ;;
    esac
done
if ! [[ $duration =~ ^[0-9]+$ ]] || ((duration < 10)); then
    e2e_fail "-d $duration: give whole seconds, at least 10"
fi
bridge=$(e2e_bridge_binary "$build_dir")
fake_az=$repo/tests/fixtures/fake-az/az
abuse=$repo/tests/e2e/lib/bridge-abuse.py
valid_lua=$repo/tests/e2e/lib/bridge-valid.lua
e2e_require_tools wrk curl python3 ss

rss_slack_kib=2048
asan=no
grep -q -a -m1 AddressSanitizer "$bridge" && asan=yes
min_rps=1000
warmup=$((duration / 4 < 60 ? duration / 4 : 60))
interval=$((duration >= 120 ? 5 : 1))

e2e_scratch
server_pid='' sampler_pid='' abuse_pid=''
cleanup() {
    local p
    for p in $abuse_pid $sampler_pid $server_pid; do kill "$p" 2>/dev/null || true; done
    cd / && rm -rf -- "$E2E_TMP"
}
e2e_on_exit cleanup
export HOME=$E2E_TMP/home XDG_RUNTIME_DIR=$E2E_TMP/run XDG_CONFIG_HOME=$E2E_TMP/config FAKE_AZ_STATE=$E2E_TMP/az
mkdir -p "$HOME" "$XDG_CONFIG_HOME/azurelinux" "$FAKE_AZ_STATE" && install -d -m 0700 "$XDG_RUNTIME_DIR"
unset IDENTITY_ENDPOINT IDENTITY_HEADER MSI_ENDPOINT ARM_MSI_ENDPOINT
printf '[bridge]\nhostAz = %s\nidleTimeout = 0\n' "$fake_az" >"$XDG_CONFIG_HOME/azurelinux/bridge.conf"

# In the foreground (as our child), so that its exit status is ours to check; its debug log names
# each connection it evicts.
"$bridge" --log-file "$E2E_TMP/server.log" serve 2>"$E2E_TMP/bridge.log" &
server_pid=$!
state=$XDG_RUNTIME_DIR/azurelinux-bridge/server.json
until_s=$((SECONDS + $(e2e_scaled 10)))
while ((SECONDS < until_s)); do
    [[ -s $state && $(sed -e 's/.*"pid":\([0-9]*\).*/\1/' "$state") == "$server_pid" ]] && break
    kill -0 "$server_pid" 2>/dev/null || e2e_fail "the bridge exited at start: $(cat "$E2E_TMP/bridge.log")"
    sleep 0.1
done
[[ $(sed -e 's/.*"pid":\([0-9]*\).*/\1/' "$state") == "$server_pid" ]] || e2e_fail "the bridge did not start in $(e2e_scaled 10) s"
eval "$("$bridge" env)"
port=${IDENTITY_ENDPOINT#http://127.0.0.1:}
port=${port%%/*}
[[ $(curl -sS -o /dev/null -w '%{http_code}' -H "X-IDENTITY-HEADER: $IDENTITY_HEADER" \
    "$IDENTITY_ENDPOINT?api-version=2019-08-01&resource=https://management.azure.com") == 200 ]] ||
    e2e_fail "the first (uncached) request failed"

fds() { find "/proc/$server_pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
status_kib() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$server_pid/status"; }
# Sockets of the server's port that are still connected, or closed by the client only.
connected() { ss -Htn state established state close-wait "( sport = :$port )" | wc -l; }
# The baseline once the priming connection is closed on the server's side too.
until_s=$((SECONDS + $(e2e_scaled 10)))
while (($(connected) > 0 && SECONDS < until_s)); do sleep 0.05; done
fd_base=$(fds)
rss_base=$(status_kib VmRSS)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

# Samples: seconds since the start, VmRSS and VmHWM (KiB), open descriptors.
(
    start=$SECONDS
    while kill -0 "$server_pid" 2>/dev/null; do
        printf '%s %s %s %s\n' $((SECONDS - start)) "$(status_kib VmRSS)" "$(status_kib VmHWM)" "$(fds)"
        sleep "$interval"
    done
) >"$E2E_TMP/samples" 2>/dev/null &
sampler_pid=$!

e2e_log "soak: ${duration}s of wrk -c256 plus hostile clients (warm-up ${warmup}s, samples every ${interval}s)"
python3 "$abuse" -d $((duration + 2)) --json "$E2E_TMP/abuse.json" --server-log "$E2E_TMP/server.log" \
    >"$E2E_TMP/abuse.txt" 2>&1 &
abuse_pid=$!
sleep 1 # the idle connections arrive first: wrk's connections must still get in
wrk_rc=0
wrk -t1 -c256 -d"${duration}s" --timeout 10s -s "$valid_lua" "http://127.0.0.1:$port/" \
    >"$E2E_TMP/wrk.txt" 2>&1 || wrk_rc=$?
abuse_rc=0
wait "$abuse_pid" || abuse_rc=$?
abuse_pid=
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

failures=()
alive=yes
kill -0 "$server_pid" 2>/dev/null || { alive=no; failures+=("the server died: $(tail -n 3 "$E2E_TMP/bridge.log")"); }

# Every client has closed: the server's descriptors must come back to the baseline (within 10 s).
fd_after=-1
until_s=$((SECONDS + $(e2e_scaled 10)))
while [[ $alive == yes ]]; do
    fd_after=$(fds)
    ((fd_after > fd_base && SECONDS < until_s)) || break
    sleep 0.2
done
rss_after=$( [[ $alive == yes ]] && status_kib VmRSS || echo 0)
hwm_after=$( [[ $alive == yes ]] && status_kib VmHWM || echo 0)
kill "$sampler_pid" 2>/dev/null || true
wait "$sampler_pid" 2>/dev/null || true
sampler_pid=

final_code=none
if [[ $alive == yes ]]; then
    final_code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 -H "X-IDENTITY-HEADER: $IDENTITY_HEADER" \
        "$IDENTITY_ENDPOINT?api-version=2019-08-01&resource=https://management.azure.com" || true)
    kill -TERM "$server_pid"
fi
server_rc=0
until_s=$((SECONDS + $(e2e_scaled 10)))
while ((SECONDS < until_s)) && kill -0 "$server_pid" 2>/dev/null; do sleep 0.1; done
kill -0 "$server_pid" 2>/dev/null && { kill -KILL "$server_pid"; failures+=("the server ignored SIGTERM for $(e2e_scaled 10) s"); }
wait "$server_pid" || server_rc=$?
server_pid=

# --- the figures ----------------------------------------------------------------------------------
soak_line=$(grep '^SOAK ' "$E2E_TMP/wrk.txt" || true)
[[ -n $soak_line && $wrk_rc -eq 0 ]] || e2e_fail "wrk failed (exit $wrk_rc): $(cat "$E2E_TMP/wrk.txt")"
field() {
    local v=${soak_line#* "$1"=}
    printf '%s\n' "${v%% *}"
}
requests=$(field requests)
rps=$((requests * 1000000 / $(field duration_us)))
wrk_failed=$(($(field non200) + $(field nobody) + $(field connect) + $(field read) + $(field write) + $(field timeout)))
probe_ok=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["probe_ok"])' "$E2E_TMP/abuse.json" 2>/dev/null || echo 0)
probe_failed=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["probe_failed"])' "$E2E_TMP/abuse.json" 2>/dev/null || echo "?")
mismatches=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["mismatches"])' "$E2E_TMP/abuse.json" 2>/dev/null || echo "?")

# The server's evictions by reason, from its log: "N (n1 WHY1, n2 WHY2)".
evictions() {
    sed -n -e 's/^.* bridge debug: evicted 127\.0\.0\.1:[0-9]*: //p' "$E2E_TMP/server.log" | sort | uniq -c |
        awk '{ n += $1; c = $1; $1 = ""; w = w (w ? ", " : "") c substr($0, 1) } END { print n + 0 (n ? " (" w ")" : "") }'
}

# VmRSS at warm-up: the first sample at or after it; at the end: the last sample under load.
read -r rss_warm < <(awk -v w="$warmup" '$1 >= w { print $2; exit }' "$E2E_TMP/samples")
read -r rss_end < <(awk -v d="$duration" '$1 <= d + 1 && $2 != "" { r = $2 } END { print r }' "$E2E_TMP/samples")
read -r rss_max fd_max < <(awk '$2 > r { r = $2 } $4 > f { f = $4 } END { print r, f }' "$E2E_TMP/samples")
rss_warm=${rss_warm:-0} rss_end=${rss_end:-0}
growth=$((rss_end - rss_warm))

((wrk_failed == 0)) || failures+=("$wrk_failed valid wrk requests failed: $soak_line")
[[ $probe_failed == 0 ]] || failures+=("$probe_failed valid requests on new connections failed (see the abuse report)")
[[ $mismatches == 0 && $abuse_rc -eq 0 ]] || failures+=("malformed requests got unexpected answers (see the abuse report)")
((fd_after >= 0 && fd_after <= fd_base)) || failures+=("descriptors: $fd_base before, $fd_after after the clients left")
[[ $asan == yes ]] || ((growth <= rss_slack_kib)) ||
    failures+=("VmRSS grew $growth KiB after warm-up (limit $rss_slack_kib KiB)")
[[ $final_code == 200 ]] || failures+=("a valid request after the load got HTTP $final_code")
((server_rc == 0)) || failures+=("the server exited $server_rc on SIGTERM")
((!strict || rps >= min_rps)) || failures+=("$rps valid requests/s, under $min_rps")

printf '\nbridge soak: %s s, cached token, wrk -t1 -c256 + hostile clients; load average %s before, %s after\n' \
    "$duration" "$load_before" "$load_after"
printf '%-44s %s\n' "valid requests (wrk)" "$requests ($rps req/s, p99 $(field p99_us) us, max $(field max_us) us)"
printf '%-44s %s\n' "valid requests failed (wrk)" "$wrk_failed ($(sed -e 's/^SOAK requests=[0-9]* duration_us=[0-9]* //' -e 's/ p99_us.*//' <<<"$soak_line"))"
printf '%-44s %s\n' "valid requests on new connections (probe)" "$probe_ok ok, $probe_failed failed"
printf '%-44s %s\n' "connections evicted at the limit (server)" "$(evictions)"
sed -e 's/^/  /' "$E2E_TMP/abuse.txt"
printf '%-44s %s\n' "VmRSS KiB: start / warm-up / end / max" "$rss_base / $rss_warm / $rss_end / $rss_max (growth after warm-up $growth, limit $([[ $asan == yes ]] && echo "none: ASan build" || echo "$rss_slack_kib"))"
printf '%-44s %s\n' "VmRSS KiB after the load; VmHWM" "$rss_after; $hwm_after"
printf '%-44s %s\n' "open descriptors: before / max during / after" "$fd_base / $fd_max / $fd_after"
printf '%-44s %s\n' "server alive at the end; exit on SIGTERM" "$alive (HTTP $final_code); $server_rc"
if ((${#failures[@]} > 0)); then
    printf 'FAILED: %s\n' "${failures[@]}" >&2
    exit 1
fi
echo "bridge soak passed"
