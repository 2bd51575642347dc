#!/usr/bin/env bash
# End-to-end test of azurelinux-bridge: the real program, a fake Windows `az` (tests/fixtures/fake-az,
# faithful to Azure CLI's output and failures), and clients nobody here wrote: curl and the Azure SDK
# for JavaScript (@azure/identity from the npm registry, cached, with the @azure/msal-node it brings:
# az >= 2.73's managed-identity logic), Debian's Python azure-identity and Azure CLI 2.45, and azd's
# and Terraform's requests written from their source (tests/fixtures/azd-auth). Checks what a user
# and their tools
# see: tokens through every protocol, caching and expiry, the host's errors, the refusals, single
# flight, secrets kept private, settings sync.
#
# Usage: test_bridge.sh BRIDGE_BINARY FAKE_AZ
set -euo pipefail
BRIDGE=$(realpath "$1")
FAKE_AZ=$(realpath "$2")
# shellcheck source=tests/e2e/lib/common.sh
source "$(dirname "$0")/lib/common.sh"
LIB=$(realpath "$(dirname "$0")/lib")
IDENTITY_VERSION=4.13.0 # @azure/identity: needs Node >= 20

e2e_require_tools curl jq node npm setpriv az
/usr/bin/python3 -c 'import azure.identity' 2>/dev/null ||
    e2e_fail "missing Debian's python3-azure (run scripts/install-deps.sh as root)"
e2e_scratch
SERVER_PID=
e2e_on_exit "[[ -z \$SERVER_PID ]] || kill \$SERVER_PID 2>/dev/null; cd / && rm -rf -- '$E2E_TMP'"

HOME_REAL=$HOME
# --- a user environment of our own: runtime dir, config, home, the fake host CLI's state -------------
export HOME=$E2E_TMP/home XDG_RUNTIME_DIR=$E2E_TMP/run XDG_CONFIG_HOME=$E2E_TMP/config FAKE_AZ_STATE=$E2E_TMP/az-state
mkdir -p "$HOME" "$XDG_CONFIG_HOME/azurelinux" "$FAKE_AZ_STATE" && install -d -m 0700 "$XDG_RUNTIME_DIR"
unset IDENTITY_ENDPOINT IDENTITY_HEADER MSI_ENDPOINT ARM_MSI_ENDPOINT AZURE_CLIENT_ID AZD_AUTH_ENDPOINT AZD_AUTH_KEY ARM_USE_MSI
printf '[bridge]\n\tenabled = true\n\thostAz = %s\n\tidleTimeout = 0\n' "$FAKE_AZ" >"$XDG_CONFIG_HOME/azurelinux/bridge.conf"
LOG=$E2E_TMP/bridge.log

json() { jq -r "$1"; }
# stopped PID: waits for PID (not our child: the server detached) to exit; false after 10 s, scaled.
stopped() {
    timeout "$(e2e_scaled 10)" tail --pid="$1" -s 0.05 -f /dev/null
}
host_calls() { grep -c -- "${1:-get-access-token}" "$FAKE_AZ_STATE/calls" 2>/dev/null || true; }
# curl_status OUT CURL_ARGS... — the HTTP status; the body goes to OUT.
curl_status() {
    local out=$1
    shift
    curl -sS -o "$out" -w '%{http_code}' --max-time 20 "$@"
}

# --- @azure/identity from the npm registry, installed once into the cache ----------------------------
IDENTITY_DIR=${AZL_CACHE_DIR:-$HOME_REAL/.cache/azurelinux-wsl}/npm-azure-identity-$IDENTITY_VERSION
npm_install() {
    if [[ ! -f $IDENTITY_DIR/node_modules/@azure/identity/package.json ]]; then
        e2e_log "installing @azure/identity@$IDENTITY_VERSION into $IDENTITY_DIR"
        local staging=$IDENTITY_DIR.tmp.$$
        mkdir -p "$staging"
        npm install --prefix "$staging" --no-audit --no-fund --silent --cache "$staging/.npm-cache" \
            "@azure/identity@$IDENTITY_VERSION" >/dev/null
        rm -rf "$staging/.npm-cache"
        mv -T "$staging" "$IDENTITY_DIR" 2>/dev/null || rm -rf "$staging" # a concurrent run won the race
    fi
}
sdk() { AZL_IDENTITY_DIR=$IDENTITY_DIR PATH=/usr/bin:/bin node "$LIB/identity-client.cjs" "$@"; }

e2e_check "serve --background starts one server per user"
"$BRIDGE" --log-file "$LOG" -vv serve --background
"$BRIDGE" serve --background # already running: returns at once, starts nothing
SERVER_PID=$(json .pid <"$XDG_RUNTIME_DIR/azurelinux-bridge/server.json")
ours=0
for pid in $(pgrep -f "^$BRIDGE" || true); do
    tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qx "XDG_RUNTIME_DIR=$XDG_RUNTIME_DIR" && ours=$((ours + 1))
done
[[ $ours -eq 1 ]] || e2e_fail "$ours bridge processes run for this user, not 1"
eval "$("$BRIDGE" env)"
[[ $IDENTITY_ENDPOINT =~ ^http://127\.0\.0\.1:[0-9]+/[0-9a-f]{64}/msi/token$ ]] || e2e_fail "IDENTITY_ENDPOINT: $IDENTITY_ENDPOINT"
[[ $IDENTITY_HEADER =~ ^[0-9a-f]{64}$ && -n $MSI_ENDPOINT && -n $ARM_MSI_ENDPOINT ]] || e2e_fail "env lines incomplete"
PREFIX_URL=${IDENTITY_ENDPOINT%/msi/token}
PORT=$(json .port <"$XDG_RUNTIME_DIR/azurelinux-bridge/server.json")

e2e_check "secrets: private runtime directory, not on any command line"
[[ $(stat -c %a "$XDG_RUNTIME_DIR/azurelinux-bridge") == 700 ]] || e2e_fail "runtime dir is not 0700"
for f in secrets server.json lock; do
    [[ $(stat -c %a "$XDG_RUNTIME_DIR/azurelinux-bridge/$f") == 600 ]] || e2e_fail "$f is not 0600"
done
if tr '\0' ' ' <"/proc/$SERVER_PID/cmdline" | grep -q "$IDENTITY_HEADER"; then e2e_fail "secret on the command line"; fi

npm_install &
NPM_PID=$!

e2e_check "curl: App Service, Cloud Shell and IMDS shapes answer with the host's token"
code=$(curl_status app.json -H "X-IDENTITY-HEADER: $IDENTITY_HEADER" \
    "$IDENTITY_ENDPOINT?api-version=2019-08-01&resource=https://management.azure.com")
[[ $code == 200 ]] || e2e_fail "App Service request: HTTP $code $(cat app.json)"
[[ $(json 'keys | join(",")' <app.json) == access_token,client_id,expires_on,resource,token_type ]] ||
    e2e_fail "App Service reply fields: $(cat app.json)"
TOKEN1=$(json .access_token <app.json)
[[ $(json .token_type <app.json) == Bearer && $(json .resource <app.json) == https://management.azure.com ]] ||
    e2e_fail "App Service reply: $(cat app.json)"
code=$(curl_status cs.json -X POST -H "Metadata: true" --data-urlencode "resource=https://management.azure.com" "$MSI_ENDPOINT")
[[ $code == 200 && $(json .access_token <cs.json) == "$TOKEN1" ]] || e2e_fail "Cloud Shell: HTTP $code"
code=$(curl_status imds.json -H "Metadata: true" "$ARM_MSI_ENDPOINT?api-version=2018-02-01&resource=https://management.azure.com")
[[ $code == 200 && $(json .access_token <imds.json) == "$TOKEN1" && $(json '.expires_in | tonumber > 3000' <imds.json) == true ]] ||
    e2e_fail "IMDS shape: HTTP $code $(cat imds.json)"
[[ $(host_calls) -eq 1 ]] || e2e_fail "three protocols, one resource: expected 1 host call, got $(host_calls)"

e2e_check "token prints az's JSON shape; status --json reports host, server and cache"
"$BRIDGE" token --resource https://management.azure.com >token.json
[[ $(json .accessToken <token.json) == "$TOKEN1" && $(json .tokenType <token.json) == Bearer ]] || e2e_fail "token: $(cat token.json)"
"$BRIDGE" status --json >status.json
json '.host_cli.found and .host_cli.signed_in and .host_cli.user == "dev@contoso.com"' <status.json | grep -qx true ||
    e2e_fail "status host_cli: $(cat status.json)"
json ".server.running and .server.port == $PORT and .server.pid == $SERVER_PID" <status.json | grep -qx true ||
    e2e_fail "status server: $(cat status.json)"
json '.cache[] | select(.expires_in > 3000) | .key' <status.json | grep -q "resource=https://management.azure.com" ||
    e2e_fail "status cache: $(cat status.json)"
if grep -q "$TOKEN1" status.json; then e2e_fail "status shows a token"; fi
"$BRIDGE" status | grep -q "Signed in as:    dev@contoso.com" || e2e_fail "status text"

e2e_check "refused: wrong or missing header, wrong prefix, malformed query, oversized request"
expect() {
    local want=$1 code
    shift
    code=$(curl_status refused.json "$@")
    [[ $code == "$want" ]] || e2e_fail "expected HTTP $want, got $code for: $* ($(cat refused.json))"
    jq -e 'has("error") or has("message")' <refused.json >/dev/null || e2e_fail "error body is not JSON: $(cat refused.json)"
}
expect 401 -H "X-IDENTITY-HEADER: ${IDENTITY_HEADER/a/b}0" "$IDENTITY_ENDPOINT?api-version=2019-08-01&resource=https://management.azure.com"
expect 401 -H "X-IDENTITY-HEADER: $(printf '%064d' 0)" "$IDENTITY_ENDPOINT?api-version=2019-08-01&resource=https://management.azure.com"
expect 401 "$IDENTITY_ENDPOINT?api-version=2019-08-01&resource=https://management.azure.com"
expect 401 "$ARM_MSI_ENDPOINT?api-version=2018-02-01&resource=https://management.azure.com"
expect 403 -H "X-IDENTITY-HEADER: $IDENTITY_HEADER" "http://127.0.0.1:$PORT/$(printf '%064d' 1)/msi/token?api-version=2019-08-01&resource=r"
expect 403 -H "X-IDENTITY-HEADER: $IDENTITY_HEADER" "http://127.0.0.1:$PORT/msi/token?api-version=2019-08-01&resource=r"
expect 400 -H "X-IDENTITY-HEADER: $IDENTITY_HEADER" "$IDENTITY_ENDPOINT?api-version=2019-08-01&resource=%zz"
expect 400 -H "X-IDENTITY-HEADER: $IDENTITY_HEADER" "$IDENTITY_ENDPOINT?api-version=2019-08-01"
expect 431 -H "X-IDENTITY-HEADER: $IDENTITY_HEADER" -H "X-Pad: $(head -c 9000 /dev/zero | tr '\0' a)" "$IDENTITY_ENDPOINT?api-version=2019-08-01&resource=r"
expect 413 -X POST -H "Metadata: true" --data "resource=$(head -c 5000 /dev/zero | tr '\0' a)" "$MSI_ENDPOINT"

e2e_check "refused: another user's connection (setpriv as nobody)"
if [[ $(id -u) -eq 0 ]]; then
    code=$(setpriv --reuid=nobody --regid=nogroup --clear-groups curl -sS -o /dev/null -w '%{http_code}' --max-time 10 \
        -H "X-IDENTITY-HEADER: $IDENTITY_HEADER" "$IDENTITY_ENDPOINT?api-version=2019-08-01&resource=https://management.azure.com" || true)
    [[ $code == 403 ]] || e2e_fail "a connection from uid nobody got HTTP $code, not 403"
else
    e2e_log "not root: cannot connect as another user; skipped"
fi

e2e_check "refused: a slowloris request is cut off after the request timeout"
exec 5<>"/dev/tcp/127.0.0.1/$PORT"
printf 'GET %s/msi/token?api-version=2019-08-01 HTTP/1.1\r\nHost: 127.0.0.1\r\n' "${PREFIX_URL#http://127.0.0.1:"$PORT"}" >&5
start=$SECONDS
reply=$(timeout "$(e2e_scaled 15)" head -n 1 <&5 | tr -d '\r')
exec 5>&-
[[ $reply == "HTTP/1.1 408 Request Timeout" ]] || e2e_fail "slowloris: got '$reply'"
# The 5 s request timeout, not the 60 s keep-alive one (a busy machine may add a little).
((SECONDS - start <= $(e2e_scaled 15))) || e2e_fail "slowloris connection held for $((SECONDS - start)) s"
code=$(curl_status ok.json -H "X-IDENTITY-HEADER: $IDENTITY_HEADER" "$IDENTITY_ENDPOINT?api-version=2019-08-01&resource=https://management.azure.com")
[[ $code == 200 ]] || e2e_fail "the server stopped serving after the refusals (HTTP $code)"

e2e_check "200 concurrent requests for one resource: exactly one host call"
echo 1 >"$FAKE_AZ_STATE/delay"
before=$(host_calls)
# One curl, 200 transfers at once: each its own connection (HTTP/1.1), all in flight together.
for i in $(seq 200); do
    printf 'url = "%s?api-version=2019-08-01&resource=https://vault.azure.net"\noutput = "conc-%s.json"\n' "$IDENTITY_ENDPOINT" "$i"
done >parallel.cfg
curl -sS --no-progress-meter --max-time 60 --parallel --parallel-immediate --parallel-max 200 -H "X-IDENTITY-HEADER: $IDENTITY_HEADER" \
    --config parallel.cfg || e2e_fail "curl --parallel failed"
[[ $(($(host_calls) - before)) -eq 1 ]] || e2e_fail "expected 1 host call, got $(($(host_calls) - before))"
[[ $(jq -r .access_token conc-*.json | sort -u | wc -l) -eq 1 ]] ||
    e2e_fail "the 200 replies do not all carry the one token: $(jq -r .access_token conc-*.json | sort | uniq -c | head -5)"
[[ $(grep -l access_token conc-*.json | wc -l) -eq 200 ]] || e2e_fail "not all 200 requests got a token"
rm -f conc-*.json
echo 0 >"$FAKE_AZ_STATE/delay"

wait "$NPM_PID" || e2e_fail "npm install @azure/identity@$IDENTITY_VERSION failed"

e2e_check "@azure/identity: ManagedIdentityCredential and DefaultAzureCredential get the host's token"
sdk managed https://management.azure.com/.default >mi.json || e2e_fail "ManagedIdentityCredential: $(cat mi.json)"
[[ $(json .token <mi.json) == "$TOKEN1" ]] || e2e_fail "ManagedIdentityCredential got another token: $(cat mi.json)"
sdk default https://management.azure.com/.default >dac.json || e2e_fail "DefaultAzureCredential: $(cat dac.json)"
[[ $(json .token <dac.json) == "$TOKEN1" ]] || e2e_fail "DefaultAzureCredential got another token"

e2e_check "@azure/identity: after expiry the SDK gets a new token from the host"
echo 303 >"$FAKE_AZ_STATE/lifetime" # served for 3 s: tokens are only handed out with > 5 min left
before=$(host_calls)
sdk managed https://storage.azure.com/.default 5 >expiry.json || e2e_fail "expiry: $(cat expiry.json)"
[[ $(json '.first.token != .second.token' <expiry.json) == true ]] || e2e_fail "no new token after expiry"
[[ $(($(host_calls) - before)) -eq 2 ]] || e2e_fail "expected 2 host calls around expiry, got $(($(host_calls) - before))"
echo 3600 >"$FAKE_AZ_STATE/lifetime"

e2e_check "host signed out: the SDKs and curl show our message"
echo signed-out >"$FAKE_AZ_STATE/mode"
sdk managed https://graph.microsoft.com/.default >out.json && e2e_fail "signed out, yet a token"
grep -q 'run `az login` in Windows' out.json || e2e_fail "ManagedIdentityCredential's error lacks our advice: $(cat out.json)"
sdk default https://graph.microsoft.com/.default >out.json && e2e_fail "signed out, yet a token"
grep -q 'run `az login` in Windows' out.json || e2e_fail "DefaultAzureCredential's error lacks our advice: $(cat out.json)"
code=$(curl_status out.json -H "Metadata: true" "$ARM_MSI_ENDPOINT?api-version=2018-02-01&resource=https://graph.microsoft.com")
[[ $code == 400 ]] && grep -q 'run `az login` in Windows' out.json || e2e_fail "IMDS shape signed out: $code $(cat out.json)"
"$BRIDGE" token --resource https://graph.microsoft.com 2>err.txt && e2e_fail "token: signed out, yet a token"
grep -q 'run `az login` in Windows' err.txt || e2e_fail "token's error: $(cat err.txt)"
"$BRIDGE" status --json >status.json
json '.host_cli.signed_in == false and (.host_cli.error | contains("az login"))' <status.json | grep -qx true ||
    e2e_fail "status while signed out: $(cat status.json)"
echo signed-in >"$FAKE_AZ_STATE/mode"

e2e_check "env --for prints exactly the variables each tool needs; all of them by default"
names() { grep -oE '^export [A-Z_]+' "$1" | cut -d' ' -f2 | sort | tr '\n' ' '; }
for tool in az azd terraform sdk all; do "$BRIDGE" env --for "$tool" >"env-$tool.sh"; done
"$BRIDGE" env >env-default.sh
[[ $(names env-az.sh) == "IDENTITY_ENDPOINT IDENTITY_HEADER MSI_ENDPOINT " ]] || e2e_fail "env --for az: $(names env-az.sh)"
[[ $(names env-sdk.sh) == "IDENTITY_ENDPOINT IDENTITY_HEADER " ]] || e2e_fail "env --for sdk: $(names env-sdk.sh)"
[[ $(names env-azd.sh) == "AZD_AUTH_ENDPOINT AZD_AUTH_KEY " ]] || e2e_fail "env --for azd: $(names env-azd.sh)"
[[ $(names env-terraform.sh) == "ARM_MSI_ENDPOINT ARM_USE_MSI " ]] || e2e_fail "env --for terraform: $(names env-terraform.sh)"
[[ $(names env-all.sh) == "ARM_MSI_ENDPOINT ARM_USE_MSI AZD_AUTH_ENDPOINT AZD_AUTH_KEY IDENTITY_ENDPOINT IDENTITY_HEADER MSI_ENDPOINT " ]] ||
    e2e_fail "env --for all: $(names env-all.sh)"
cmp -s env-all.sh env-default.sh || e2e_fail "env without --for is not env --for all"
grep -qx 'unset IDENTITY_SERVER_THUMBPRINT AZURE_CLIENT_ID MSI_SECRET' env-az.sh || e2e_fail "env --for az unsets: $(grep unset env-az.sh)"
"$BRIDGE" env --for kubectl >/dev/null 2>err.txt && e2e_fail "env --for an unknown tool succeeded"
grep -q "az, azd, terraform, sdk or all" err.txt || e2e_fail "env --for kubectl: $(cat err.txt)"
# Each client below runs with only its tool's variables, in an otherwise empty environment.
only() { # only TOOL COMMAND...
    local tool=$1
    shift
    env -i PATH=/usr/bin:/bin HOME="$HOME" AZL_IDENTITY_DIR="$IDENTITY_DIR" \
        bash -c 'eval "$(cat "$1")"; shift; exec "$@"' only "env-$tool.sh" "$@"
}
"$BRIDGE" status --json >status.json
json '[.clients[] | .in_this_shell] == [true, true, true, true]' <status.json | grep -qx true ||
    e2e_fail "status: this shell (env evaluated) should serve every tool: $(json .clients <status.json)"
only azd env XDG_RUNTIME_DIR="$XDG_RUNTIME_DIR" XDG_CONFIG_HOME="$XDG_CONFIG_HOME" FAKE_AZ_STATE="$FAKE_AZ_STATE" \
    "$BRIDGE" status --json >status.json
json '[.clients[] | select(.in_this_shell) | .tool] == ["azd"]' <status.json | grep -qx true ||
    e2e_fail "status with only azd's variables: $(json .clients <status.json)"
"$BRIDGE" status | grep -q '^Serves azd:.*pointed at the bridge in this shell' || e2e_fail "status text: $("$BRIDGE" status)"
aud() { jq -R 'split(".")[1] | gsub("-";"+") | gsub("_";"/") | @base64d | fromjson | .aud' -r <<<"$1"; }

e2e_check "azd: its external authentication (a client written from azd's source) gets the host's token"
only azd node "$LIB/azd-client.cjs" https://management.azure.com//.default >azd.json || e2e_fail "azd: $(cat azd.json)"
[[ $(aud "$(json .token <azd.json)") == https://management.azure.com//.default ]] || e2e_fail "azd got a token for $(aud "$(json .token <azd.json)")"
(($(json .expiresInSeconds <azd.json) > 3000)) || e2e_fail "azd's token expires too soon: $(json .expiresOn <azd.json)"
grep -q -- "--scope https://management.azure.com//.default$" "$FAKE_AZ_STATE/calls" || e2e_fail "azd's scope did not reach the host as --scope"
only azd node "$LIB/azd-client.cjs" https://vault.azure.net/.default 72f988bf-86f1-41af-91ab-2d7cd011db47 >azd-t.json ||
    e2e_fail "azd with its tenant: $(cat azd-t.json)"
grep -q -- "--scope https://vault.azure.net/.default --tenant 72f988bf-86f1-41af-91ab-2d7cd011db47" "$FAKE_AZ_STATE/calls" ||
    e2e_fail "azd's tenantId did not reach the host as --tenant"
only azd node "$LIB/azd-client.cjs" https://vault.azure.net/.default fabrikam.com >azd-t.json && e2e_fail "another tenant, yet a token"
grep -q 'code: GetTokenError message: azurelinux-bridge: the tenant was not found.*az login --tenant fabrikam.com' azd-t.json ||
    e2e_fail "azd, another tenant: $(cat azd-t.json)"
AZD_AUTH_KEY=$(printf '%064d' 0) AZD_AUTH_ENDPOINT=$(grep -oP "AZD_AUTH_ENDPOINT='\K[^']+" env-azd.sh) \
    node "$LIB/azd-client.cjs" https://management.azure.com//.default >azd-k.json && e2e_fail "a wrong AZD_AUTH_KEY, yet a token"
grep -q "unexpected status code: 401" azd-k.json || e2e_fail "azd, wrong key: $(cat azd-k.json)"

e2e_check "MSAL (az >= 2.73's managed identity, @azure/msal-node): env --for az leads it to App Service"
only az node "$LIB/msal-client.cjs" https://management.azure.com >msal.json || e2e_fail "MSAL: $(cat msal.json)"
[[ $(json .source <msal.json) == AppService && $(json .token <msal.json) == "$TOKEN1" ]] || e2e_fail "MSAL: $(cat msal.json)"

e2e_check "Terraform (go-azure-sdk's MSI authorizer): its request to ARM_MSI_ENDPOINT, and expires_in it parses"
# As go-azure-sdk's azureMetadata sends it: GET, only "Metadata: true", resource = the ARM URL with its slash.
ARM_MSI=$(grep -oP "ARM_MSI_ENDPOINT='\K[^']+" env-terraform.sh)
code=$(curl_status tf.json -H "Metadata: true" -H "User-Agent: Go-http-client/1.1" \
    "$ARM_MSI?api-version=2018-02-01&resource=https%3A%2F%2Fmanagement.azure.com%2F")
[[ $code == 200 && $(json '.expires_in | test("^[0-9]+$")' <tf.json) == true && $(json '.expires_in | tonumber > 3000' <tf.json) == true ]] ||
    e2e_fail "Terraform's request: HTTP $code $(cat tf.json)"
[[ $(aud "$(json .access_token <tf.json)") == https://management.azure.com/ ]] || e2e_fail "Terraform got a token for another resource"

e2e_check "Python: Debian's azure-identity (ManagedIdentityCredential, DefaultAzureCredential) with env --for sdk"
pyid() { only sdk /usr/bin/python3 "$LIB/python-identity-client.py" "$@" 2>>py.err; } # stderr: the SDK's log
pyid managed https://management.azure.com/.default >py-mi.json || e2e_fail "azure-identity (Python): $(cat py-mi.json)"
[[ $(json .token <py-mi.json) == "$TOKEN1" ]] || e2e_fail "azure-identity (Python) got another token: $(cat py-mi.json)"
pyid default https://management.azure.com/.default >py-dac.json || e2e_fail "DefaultAzureCredential (Python): $(cat py-dac.json)"
[[ $(json .token <py-dac.json) == "$TOKEN1" ]] || e2e_fail "DefaultAzureCredential (Python) got another token"

e2e_check "Azure CLI 2.45 (Debian's azure-cli): az account get-access-token through a managed-identity sign-in"
# The profile `az login --identity` writes (azure/cli/core/_profile.py: a systemAssignedIdentity
# service principal, assignedIdentityInfo "MSI"). It is written here because az login also lists the
# account's subscriptions from ARM, which a loopback test cannot reach; every token request after it
# is az's own: msrestazure's MSIAuthentication POSTs to MSI_ENDPOINT (the Cloud Shell shape).
AZ_DIR=$E2E_TMP/az-cli
mkdir -p "$AZ_DIR"
cat >"$AZ_DIR/azureProfile.json" <<'JSON'
{"installationId": "6b1f0c52-9d5e-11ee-8c90-0242ac120002", "subscriptions": [{"id": "00000000-0000-0000-0000-0000000000aa", "name": "Dev", "state": "Enabled", "user": {"name": "systemAssignedIdentity", "type": "servicePrincipal", "assignedIdentityInfo": "MSI"}, "isDefault": true, "tenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47", "environmentName": "AzureCloud", "homeTenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47", "managedByTenants": []}]}
JSON
printf '[core]\ncollect_telemetry = false\nfirst_run = no\n' >"$AZ_DIR/config"
az245() { only az env AZURE_CONFIG_DIR="$AZ_DIR" /usr/bin/az "$@"; }
az245 account get-access-token --resource https://management.azure.com/ -o json >az.json 2>az.err ||
    e2e_fail "az 2.45: $(cat az.json az.err)"
[[ $(json .accessToken <az.json) == "$(json .accessToken <<<"$("$BRIDGE" token --resource https://management.azure.com/)")" ]] ||
    e2e_fail "az 2.45 got another token: $(cat az.json)"
[[ $(aud "$(json .accessToken <az.json)") == https://management.azure.com/ ]] || e2e_fail "az 2.45: a token for another resource"

e2e_check "sign-in problems reach every client as what to do in Windows"
echo failure >"$FAKE_AZ_STATE/mode"
n=0
while IFS='|' read -r failure advice; do
    n=$((n + 1))
    printf '%s\nInteractive authentication is needed. Please run:\naz login --scope https://management.core.windows.net//.default\n' \
        "$failure" >"$FAKE_AZ_STATE/failure"
    res=https://problem$n.example # a resource of its own: failures are remembered for a few seconds
    # The clients at once (each needs a second to start): each must fail, with the advice.
    only az node "$LIB/msal-client.cjs" "$res" </dev/null >p-msal.json &
    only sdk node "$LIB/identity-client.cjs" managed "$res/.default" </dev/null >p-identity.json &
    only azd node "$LIB/azd-client.cjs" "$res/.default" </dev/null >p-azd.json &
    pyid managed "$res/.default" </dev/null >p-python.json &
    wait
    for client in msal identity azd python; do
        jq -e 'has("error") and (has("token") | not)' "p-$client.json" >/dev/null || e2e_fail "$client: a token despite '$failure'"
        grep -qF "$advice" "p-$client.json" || e2e_fail "$client's error lacks '$advice': $(cat "p-$client.json")"
    done
    grep -qF "code: GetTokenError" p-azd.json || e2e_fail "azd's error code: $(cat p-azd.json)"
    code=$(curl_status p.json -H "Metadata: true" "$ARM_MSI?api-version=2018-02-01&resource=$res")
    [[ $code == 400 ]] && grep -qF "$advice" p.json || e2e_fail "Terraform's shape: HTTP $code $(cat p.json)"
done <<'EOF'
AADSTS50076: Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '797f4846-ba00-4fd7-ba43-dac1f8f63013'.|complete the MFA prompt
AADSTS53003: Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.|ask your administrator which policy applies
AADSTS700082: The refresh token has expired due to inactivity. The token was issued on 2026-01-02T10:11:12.000Z and was inactive for 90.00:00:00.|run `az login --scope https://management.core.windows.net//.default` in Windows
EOF
echo signed-out >"$FAKE_AZ_STATE/mode"
only azd node "$LIB/azd-client.cjs" https://problem0.example/.default >p.json && e2e_fail "azd: signed out, yet a token"
grep -q 'code: NotSignedInError message: .*run `az login` in Windows' p.json || e2e_fail "azd signed out: $(cat p.json)"
only az node "$LIB/msal-client.cjs" https://problem0.example >p.json && e2e_fail "MSAL: signed out, yet a token"
grep -q 'run `az login` in Windows' p.json || e2e_fail "MSAL signed out: $(cat p.json)"
pyid managed https://problem0.example/.default >p.json && e2e_fail "azure-identity (Python): signed out, yet a token"
grep -q 'run `az login` in Windows' p.json || e2e_fail "azure-identity (Python) signed out: $(cat p.json)"
# az 2.45 (msrestazure) reports the HTTP status without the body: "Failed to connect to MSI ...
# returned: <Response [400]>". The failure shows, our advice does not; azurelinux-bridge status and
# doctor give it.
az245 account get-access-token --resource https://problem0.example >p.json 2>p.err && e2e_fail "az 2.45: signed out, yet a token"
grep -q 'Failed to connect to MSI' p.err && grep -qF '<Response [400]>' p.err || e2e_fail "az 2.45 signed out: $(cat p.err)"
echo signed-in >"$FAKE_AZ_STATE/mode"

e2e_check "sync copies only the safe settings"
"$BRIDGE" sync >sync.txt
grep -q '^output = table' "$HOME/.azure/config" && grep -q '^group = rg-dev' "$HOME/.azure/config" &&
    grep -q '^location = westeurope' "$HOME/.azure/config" || e2e_fail "sync: $(cat "$HOME/.azure/config")"
if grep -q collect_telemetry "$HOME/.azure/config"; then e2e_fail "sync copied a setting not on the safe list"; fi
[[ $(stat -c %a "$HOME/.azure/config") == 600 ]] || e2e_fail "synced config is not 0600"
[[ -z $(find "$HOME/.azure" -name 'msal_token_cache*' -o -name accessTokens.json -o -name 'service_principal_entries*') ]] ||
    e2e_fail "sync brought a token cache along"

e2e_check "no token or secret in the log; SIGTERM stops the server"
for secret in "$TOKEN1" "$IDENTITY_HEADER" "${PREFIX_URL##*/}"; do
    if grep -qF "$secret" "$LOG"; then e2e_fail "a secret is in the log"; fi
done
grep -q "asking the host for a token" "$LOG" || e2e_fail "the log is empty: the check above proves nothing"
kill -TERM "$SERVER_PID"
stopped "$SERVER_PID" || e2e_fail "the server ignored SIGTERM"
SERVER_PID=
"$BRIDGE" status --json | json .server.running | grep -qx false || e2e_fail "status: server still running"

e2e_check "env (the login-shell hook) restarts the server on the URLs shells already have"
old_endpoint=$IDENTITY_ENDPOINT
eval "$("$BRIDGE" env)"
SERVER_PID=$(json .pid <"$XDG_RUNTIME_DIR/azurelinux-bridge/server.json")
[[ $IDENTITY_ENDPOINT == "$old_endpoint" ]] || e2e_fail "restarted on another URL: $IDENTITY_ENDPOINT"
code=$(curl_status ok.json -H "X-IDENTITY-HEADER: $IDENTITY_HEADER" "$IDENTITY_ENDPOINT?api-version=2019-08-01&resource=https://management.azure.com")
[[ $code == 200 ]] || e2e_fail "restarted server: HTTP $code"
kill -TERM "$SERVER_PID"
stopped "$SERVER_PID" || e2e_fail "the restarted server ignored SIGTERM" # its lock goes with it
SERVER_PID=
sed -i 's/enabled = true/enabled = false/' "$XDG_CONFIG_HOME/azurelinux/bridge.conf"
"$BRIDGE" env >env.out 2>env.err && e2e_fail "env succeeded with the bridge turned off"
[[ ! -s env.out ]] && grep -q "turned off" env.err || e2e_fail "turned off: stdout '$(cat env.out)', stderr '$(cat env.err)'"

echo "bridge end-to-end tests passed (${SECONDS}s)"
