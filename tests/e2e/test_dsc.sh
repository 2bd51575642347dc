#!/usr/bin/env bash
# The DSC v3 resource AzureLinux.WSL/Distribution (`azurelinux dsc`) end to end in the Linux sandbox,
# on the real Debian guest tree with first-run setup, driven the way DSC drives a command resource
# (one compact JSON instance on stdin, JSON Lines on stdout, messages on stderr):
#   the manifest and the examples validate against DSC's own published schemas (tests/data);
#   set installs from an http URL checked against its SHA-256, with the inline answers of the WinGet
#   example, and prints only JSON on stdout; a second set changes nothing; test then reports no
#   drift; changed answers are drift that set applies; defaultUser; export; every state printed
#   validates against the manifest's instance schema; a wrong digest installs nothing; a location
#   elsewhere is refused; _exist false removes it; bad input is one line and exit 2.
# Usage: test_dsc.sh PATH/TO/azurelinux (azurelinux-oobe built beside it)
set -euo pipefail
azl_bin=$(realpath "${1:?usage: $0 PATH/TO/azurelinux}")
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib/rootfs-cache.sh
source "$here/lib/rootfs-cache.sh"

e2e_require_root
e2e_require_tools bwrap curl sha256sum
PY=/usr/bin/python3
oobe_bin=$(dirname "$azl_bin")/azurelinux-oobe
[[ -x $oobe_bin ]] || e2e_fail "no $oobe_bin: build the azurelinux-oobe target"
repo=$(cd "$here/../.." && pwd)
manifest=$repo/packaging/dsc/azurelinux.dsc.resource.json
schema() { "$PY" "$here/lib/dsc_schema.py" "$@"; }
guest_tar=$(azl_guest_tar)
e2e_scratch
export XDG_DATA_HOME=$E2E_TMP/data XDG_RUNTIME_DIR=$E2E_TMP/runtime AZL_SANDBOX_DRIVE_C=$E2E_TMP/c
mkdir -p "$XDG_RUNTIME_DIR" "$AZL_SANDBOX_DRIVE_C"
server_pid=
cleanup() {
    local n
    for n in $("$azl_bin" list --json 2>/dev/null | "$PY" -c 'import json,sys; print(" ".join(d["name"] for d in json.load(sys.stdin)))'); do
        "$azl_bin" terminate --name "$n" >/dev/null 2>&1 || true
    done
    [[ -z $server_pid ]] || kill "$server_pid" 2>/dev/null || true
    cd / && rm -rf -- "$E2E_TMP"
}
e2e_on_exit cleanup

# dsc OP INSTANCE-FILE: runs `azurelinux dsc OP` as DSC does (stdin = the compact JSON), stdout to
# OP.out, stderr to OP.err; returns its exit code.
dsc() {
    local rc=0
    if [[ $2 == /dev/null ]]; then
        "$azl_bin" dsc "$1" </dev/null >"$E2E_TMP/$1.out" 2>"$E2E_TMP/$1.err" || rc=$?
        return "$rc"
    fi
    "$PY" -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1])), separators=(",", ":")), end="")' "$2" |
        "$azl_bin" dsc "$1" >"$E2E_TMP/$1.out" 2>"$E2E_TMP/$1.err" || rc=$?
    return "$rc"
}
# field OP EXPR: a Python expression over s (the first line: the state) and d (the second: the diff).
field() {
    "$PY" - "$E2E_TMP/$1.out" "$2" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
s = json.loads(lines[0])
d = json.loads(lines[1]) if len(lines) > 1 else None
print(eval(sys.argv[2]))
PY
}
expect() { # expect OP EXPR WANT
    local got
    got=$(field "$1" "$2")
    [[ $got == "$3" ]] || { cat "$E2E_TMP/$1.out" "$E2E_TMP/$1.err" >&2; e2e_fail "dsc $1: $2 is '$got', expected '$3'"; }
}
only_json() { # every stdout line of OP is JSON and validates against the instance schema
    schema instances "$manifest" <"$E2E_TMP/$1.out" || e2e_fail "dsc $1 printed what the instance schema refuses"
}

e2e_check "the manifest and the examples validate against DSC's published schemas"
schema manifest "$manifest"
for doc in "$repo"/packaging/dsc/examples/*.winget "$repo"/packaging/dsc/examples/*.dsc.yaml; do
    schema config "$manifest" "$doc"
done
# The validator itself refuses what DSC refuses.
"$PY" - "$manifest" bad-manifest.json <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["set"]["return"] = "everything"
json.dump(m, open(sys.argv[2], "w"))
PY
if schema manifest bad-manifest.json >/dev/null; then e2e_fail "a manifest with set.return 'everything' validated"; fi

e2e_check "an image with first-run setup, served over http on 127.0.0.1"
mkdir www
"$azl_bin" --quiet image build --from "$guest_tar" --oobe "$oobe_bin" --no-bridge --level 1 -o www/AzureLinux.wsl >/dev/null
digest=$(cut -d' ' -f1 www/AzureLinux.wsl.sha256)
"$PY" - www port <<'PY' 2>server.log &
import functools, http.server, sys
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
open(sys.argv[2] + ".tmp", "w").write(str(server.server_address[1]))
import os; os.rename(sys.argv[2] + ".tmp", sys.argv[2])
server.serve_forever()
PY
server_pid=$!
for ((i = 0; i < 200; i++)); do [[ -s port ]] && break; sleep 0.05; done
[[ -s port ]] || e2e_fail "the http server did not start"
url=http://127.0.0.1:$(<port)/AzureLinux.wsl

# The WinGet example's instance, pointed at the local image.
"$PY" - "$repo/packaging/dsc/examples/configuration.winget" "$url" "$digest" dev.json <<'PY'
import json, sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
inst = next(r["properties"] for r in doc["resources"] if r["type"] == "AzureLinux.WSL/Distribution")
inst.update(image=sys.argv[2] + "?sig=SECRET-TOKEN", sha256=sys.argv[3])
json.dump(inst, open(sys.argv[4], "w"))
PY
name=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["name"])' dev.json)

e2e_check "test before anything: not in the desired state, _exist differs"
dsc test dev.json
expect test 's["_exist"], s["_inDesiredState"], d' "(False, False, ['_exist'])"
only_json test

e2e_check "set installs from the URL (digest checked), runs first-run setup with the answers"
dsc set dev.json || { cat set.err >&2; e2e_fail "dsc set failed"; }
expect set 's["_exist"], s["setupState"], s["defaultUser"], d' "(True, 'done', 'dev', ['_exist'])"
(($(wc -l <set.out) == 2)) || { cat set.out >&2; e2e_fail "dsc set printed more than the state and the diff on stdout"; }
only_json set
grep -q 'Setting up' set.err || e2e_fail "first-run setup's output did not go to stderr"
if grep -q SECRET-TOKEN set.err set.out; then e2e_fail "the URL's query (a SAS token) was printed"; fi
[[ $("$azl_bin" run --name "$name" -- id -un) == dev ]] || e2e_fail "the default user is not dev"
[[ $("$azl_bin" run --name "$name" -- readlink /etc/localtime) == */Europe/Berlin ]] || e2e_fail "time zone not applied"

e2e_check "a second set changes nothing; test reports no drift"
state_before=$("$azl_bin" run --name "$name" --user root -- stat -c %Y /var/lib/azurelinux-oobe/state.json)
dsc set dev.json
expect set 'd' "[]"
if grep -q 'Setting up' set.err; then e2e_fail "the second set ran first-run setup again"; fi
[[ $("$azl_bin" run --name "$name" --user root -- stat -c %Y /var/lib/azurelinux-oobe/state.json) == "$state_before" ]] ||
    e2e_fail "the second set changed first-run state"
dsc test dev.json
expect test 's["_inDesiredState"], d' "(True, [])"
only_json test

e2e_check "changed answers are drift; set applies them; then no drift"
"$PY" -c 'import json,sys; i=json.load(open(sys.argv[1])); i["answers"]["timezone"]="Asia/Tokyo"; json.dump(i, open(sys.argv[2], "w"))' dev.json tokyo.json
dsc test tokyo.json
expect test 's["_inDesiredState"], d' "(False, ['answers'])"
dsc set tokyo.json
expect set 'd' "['answers']"
[[ $("$azl_bin" run --name "$name" -- readlink /etc/localtime) == */Asia/Tokyo ]] || e2e_fail "the new time zone was not applied"
dsc test tokyo.json
expect test 's["_inDesiredState"]' "True"

e2e_check "defaultUser is drift that set fixes"
printf '{"name":"%s","defaultUser":"root"}' "$name" >root.json
dsc test root.json
expect test 'd' "['defaultUser']"
dsc set root.json
expect set 's["defaultUser"], d' "('root', ['defaultUser'])"

e2e_check "get accepts the whole desired state; export lists every distribution"
dsc get dev.json
expect get 's["name"], s["_exist"], s["defaultUser"]' "('$name', True, 'root')"
only_json get
dsc export /dev/null
expect export 's["name"]' "$name"
only_json export

e2e_check "a wrong digest installs nothing"
"$PY" -c 'import json,sys; i=json.load(open(sys.argv[1])); i["name"]="Other"; i["sha256"]="0"*64; json.dump(i, open(sys.argv[2], "w"))' dev.json wrong.json
rc=0
dsc set wrong.json || rc=$?
((rc == 1)) || e2e_fail "set with a wrong digest exited $rc"
grep -qi 'sha-256\|sha256\|checksum' set.err || { cat set.err >&2; e2e_fail "the refusal does not name the digest"; }
[[ ! -s set.out ]] || e2e_fail "a failed set printed a state"
if "$azl_bin" list --json | grep -q '"Other"'; then e2e_fail "a wrong digest left Other registered"; fi

e2e_check "a location elsewhere is drift that set refuses to fix"
printf '{"name":"%s","location":"%s/elsewhere"}' "$name" "$E2E_TMP" >moved.json
dsc test moved.json
expect test 'd' "['location']"
rc=0
dsc set moved.json || rc=$?
((rc == 1)) && grep -q 'wsl --manage' set.err || { cat set.err >&2; e2e_fail "set of another location: exit $rc"; }

e2e_check "bad input: one line, exit 2, nothing changed"
printf '{"name":"%s","colour":"blue"}' "$name" >bad.json
rc=0
dsc set bad.json || rc=$?
((rc == 2)) && grep -q '"colour" is not a property' set.err || { cat set.err >&2; e2e_fail "unknown property: exit $rc"; }
printf '{"name":"Third","image":"%s"}' "$url" >nodigest.json
rc=0
dsc set nodigest.json || rc=$?
((rc == 2)) && grep -q 'sha256' set.err || { cat set.err >&2; e2e_fail "URL without sha256: exit $rc"; }

e2e_check "_exist false removes it, and is then the desired state"
printf '{"name":"%s","_exist":false}' "$name" >absent.json
dsc set absent.json
expect set 's["_exist"], d' "(False, ['_exist'])"
dsc test absent.json
expect test 's["_inDesiredState"], d' "(True, [])"
[[ -z $("$azl_bin" list --json | "$PY" -c 'import json,sys; print(" ".join(d["name"] for d in json.load(sys.stdin)))') ]] ||
    e2e_fail "something is still installed"
e2e_log "ok"
