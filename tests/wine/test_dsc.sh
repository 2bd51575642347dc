#!/usr/bin/env bash
# The DSC v3 resource as azurelinux.exe serves it on Windows, under Wine against the WSL simulator:
# `dsc set` downloads the image over http with WinHTTP (checked against its SHA-256), installs it
# through WSL and runs first-run setup with an answers file, and stdout carries only the two JSON
# lines DSC reads (the guest's setup output, written through WslLaunchInteractive, goes to stderr);
# the organisation's registry policy, read by the launcher (the guest has no reg.exe), wins; a second
# set changes nothing; test reports no drift; _exist false unregisters it.
#   test_dsc.sh LINUX_AZURELINUX WSLSIM_HOST
set -euo pipefail
# shellcheck source=lib/wine.sh
source "$(dirname "$0")/lib/wine.sh"
wine_setup "$1" "$2"

mkdir -p "$WINE_DIR/www"
cp "${AZL_WINE_IMAGE:?}" "$WINE_DIR/www/AzureLinux.wsl"
digest=$(cut -d' ' -f1 "$AZL_WINE_IMAGE.sha256")
python3 - "$WINE_DIR/www" "$WINE_DIR/port" <<'PY' 2>"$WINE_DIR/http.log" &
import functools, http.server, os, sys
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
open(sys.argv[2] + ".tmp", "w").write(str(server.server_address[1]))
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
server.serve_forever()
PY
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null || true; wine_cleanup' EXIT
for ((i = 0; i < 200; i++)); do [[ -s $WINE_DIR/port ]] && break; sleep 0.05; done
[[ -s $WINE_DIR/port ]] || e2e_fail "the http server did not start"
answers_dir="$DRIVE_C/users/$(id -un)"
mkdir -p "$answers_dir"
install -m 0600 "$(dirname "$0")/../../oobe/examples/answers.json" "$answers_dir/answers.json"
instance=$(jq -cn --arg url "http://127.0.0.1:$(<"$WINE_DIR/port")/AzureLinux.wsl?sig=SECRET" \
    --arg sha "$digest" --arg answers "C:\\users\\$(id -un)\\answers.json" \
    '{name: "AzureLinux", image: $url, sha256: $sha, answersFile: $answers, defaultUser: "dev"}')

# dsc OP JSON: azurelinux.exe dsc OP with JSON on stdin; stdout in OUT (CR dropped), stderr in ERR.
dsc() {
    local rc=0
    printf '%s' "$2" | wine "$EXE" dsc "$1" >"$WINE_DIR/out" 2>"$WINE_DIR/err" || rc=$?
    OUT=$(tr -d '\r' <"$WINE_DIR/out")
    ERR=$(tr -d '\r' <"$WINE_DIR/err")
    ((rc == 0)) || { printf 'stdout: %s\nstderr: %s\n' "$OUT" "$ERR" >&2; e2e_fail "dsc $1 exited with $rc"; }
}
state() { sed -n 1p <<<"$OUT" | jq -c "$1"; }
diff_line() { sed -n 2p <<<"$OUT"; }

# The organisation's policy, which the launcher reads from the registry itself (the guest here has no
# reg.exe): its locked time zone must beat the answers file's Etc/UTC.
wine reg add 'HKLM\SOFTWARE\Policies\AzureLinux\WSL' /v Timezone /t REG_SZ /d Asia/Tokyo /f >/dev/null 2>&1
wine reg add 'HKLM\SOFTWARE\Policies\AzureLinux\WSL' /v LockedKeys /t REG_MULTI_SZ /d '/timezone' /f >/dev/null 2>&1

e2e_check "dsc test before the install: _exist differs"
dsc test "$instance"
[[ $(state '[._exist, ._inDesiredState]') == '[false,false]' && $(diff_line) == '["_exist"]' ]] ||
    e2e_fail "test: $OUT"

e2e_check "dsc set: WinHTTP download, install through WSL, first-run setup, only JSON on stdout"
dsc set "$instance"
(($(wc -l <<<"$OUT") == 2)) || e2e_fail "stdout is not exactly the state and the diff: $OUT"
[[ $(state '[._exist, .setupState, .defaultUser]') == '[true,"done","dev"]' && $(diff_line) == '["_exist"]' ]] ||
    e2e_fail "set: $OUT"
expect_in "GET /AzureLinux.wsl" "$(<"$WINE_DIR/http.log")" "the image came over http"
expect_in "WslLaunch" "$(<"$CALLS")" "first-run setup through wslapi.dll"
expect_in '"DefaultUid"=dword:000003e8' "$(lxss)" "the default user"
[[ $OUT$ERR != *SECRET* ]] || e2e_fail "the URL's query was printed"
expect_in 'is locked by the organisation (HKLM\SOFTWARE\Policies\AzureLinux\WSL)' "$ERR" "the policy's refusal"
expect_exit 0 azl run -- readlink /etc/localtime
[[ $OUT == */Asia/Tokyo ]] || e2e_fail "the registry policy's locked time zone did not apply: $OUT"

e2e_check "a second set changes nothing; test reports no drift"
calls_before=$(wc -l <"$CALLS")
dsc set "$instance"
[[ $(diff_line) == '[]' ]] || e2e_fail "second set: $OUT"
if tail -n +"$((calls_before + 1))" "$CALLS" | grep -q -- '--install\|--unregister'; then
    e2e_fail "the second set installed or removed something"
fi
dsc test "$instance"
[[ $(state '._inDesiredState') == true && $(diff_line) == '[]' ]] || e2e_fail "test after set: $OUT"

e2e_check "_exist false unregisters it"
dsc set '{"name":"AzureLinux","_exist":false}'
[[ $(state '._exist') == false && $(diff_line) == '["_exist"]' ]] || e2e_fail "removal: $OUT"
[[ $(lxss) != *'"DistributionName"="AzureLinux"'* ]] || e2e_fail "still registered"
e2e_log "ok"
