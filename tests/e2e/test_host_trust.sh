#!/usr/bin/env bash
# Behind a TLS-inspecting corporate proxy, end to end, loopback only: a test root CA and an
# intermediate (made with python3-cryptography), mitmproxy on 127.0.0.1 signing every site with the
# intermediate, in front of a local HTTPS apt repository and git repository on 127.0.0.2. The host
# "trusts" the root and the intermediate (the folder $AZL_SANDBOX_TRUSTED_CERTS stands in for
# Windows' Root and CA stores) and has the proxy in its environment (standing in for Internet
# Settings). The guest (Debian + curl + git) then:
#   - on its first launch, with no manual step, gets the proxy and the CAs and installs a package
#     from the repository through the interceptor (first-run setup's `packages`);
#   - reports expired, non-CA and garbage certificates as skipped; keeps the user's own anchor;
#   - after the root is removed on the host, the next launch removes it (and its now unrooted
#     intermediate): apt-get update, curl and git ls-remote fail with certificate errors, and
#     doctor names the interceptor, then says Windows trusts it once the root is back;
#   - after `azurelinux sync` all three succeed again; an unchanged host costs a launch no sync;
#   - with only a PAC file (served on 127.0.0.1) sending the repository through the proxy and the
#     rest DIRECT, sync writes that proxy and the DIRECT hosts, apt-get update goes through the
#     proxy; a broken or unreachable PAC file is one line naming it, and the guest keeps its proxy.
# Usage: test_host_trust.sh PATH/TO/azurelinux   (azurelinux-oobe built beside it)
set -euo pipefail
azl_bin=$(realpath "${1:?usage: $0 PATH/TO/azurelinux}")
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib/rootfs-cache.sh
source "$here/lib/rootfs-cache.sh"

e2e_require_root
e2e_require_tools bwrap mitmdump dpkg-deb sha256sum jq
PY=/usr/bin/python3 # Debian's, with python3-cryptography (a dependency of mitmproxy)
[[ -x $(dirname "$azl_bin")/azurelinux-oobe ]] || e2e_fail "no azurelinux-oobe beside $azl_bin"
net_tar=$(azl_net_guest_tar)
e2e_scratch
trap 'printf "FAIL: line %s: %s\n" "$LINENO" "$BASH_COMMAND" >&"$E2E_STDERR"' ERR
export XDG_DATA_HOME=$E2E_TMP/data XDG_RUNTIME_DIR=$E2E_TMP/runtime AZL_SANDBOX_DRIVE_C=$E2E_TMP/c
mkdir -p "$XDG_RUNTIME_DIR" "$AZL_SANDBOX_DRIVE_C"
unset http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY
pids=()
cleanup() {
    "$azl_bin" terminate --name Corp >/dev/null 2>&1 || true
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    cd / && rm -rf -- "$E2E_TMP"
}
e2e_on_exit cleanup
azl() { "$azl_bin" "$@"; }

# wait_for_file FILE PID: until FILE exists (the server wrote its port), or the server died.
wait_for_file() {
    local i
    for ((i = 0; i < 600; i++)); do
        [[ -s $1 ]] && return 0
        kill -0 "$2" 2>/dev/null || e2e_fail "$1: the server exited"
        sleep 0.05
    done
    e2e_fail "$1 did not appear"
}

e2e_check "a test PKI, an HTTPS apt and git repository on 127.0.0.2, mitmproxy on 127.0.0.1"
"$PY" "$here/lib/make-test-pki.py" pki
mkdir -p www/pool pkg/DEBIAN pkg/usr/share/azl-lab mitm store
cat >pkg/DEBIAN/control <<'EOF'
Package: azl-lab-hello
Version: 1.0
Architecture: all
Maintainer: AZL Test <test@example.invalid>
Description: proves a package came through the intercepting proxy
EOF
echo "installed through the proxy" >pkg/usr/share/azl-lab/hello.txt
dpkg-deb --root-owner-group -Zgzip --build pkg www/pool/azl-lab-hello_1.0_all.deb >/dev/null
deb=www/pool/azl-lab-hello_1.0_all.deb
cat >www/Packages <<EOF
Package: azl-lab-hello
Version: 1.0
Architecture: all
Maintainer: AZL Test <test@example.invalid>
Filename: ./pool/azl-lab-hello_1.0_all.deb
Size: $(stat -c %s "$deb")
SHA256: $(sha256sum "$deb" | cut -d' ' -f1)
Description: proves a package came through the intercepting proxy

EOF
cat >www/Release <<EOF
Origin: AZL Lab
Label: AZL Lab
Date: $(date -Ru)
SHA256:
 $(sha256sum www/Packages | cut -d' ' -f1) $(stat -c %s www/Packages) Packages
EOF
git init -q --bare www/lab.git
git -C www/lab.git symbolic-ref HEAD refs/heads/main
git -c init.defaultBranch=main init -q src && git -C src -c user.name=t -c user.email=t@t commit -q --allow-empty -m one
git -C src push -q ../www/lab.git HEAD:main
git -C www/lab.git update-server-info
"$PY" "$here/lib/https-serve.py" 127.0.0.2 www pki/server.pem pki/server.key repo.port 2>repo.log &
pids+=($!)
wait_for_file repo.port "$!"
repo=https://127.0.0.2:$(<repo.port)
cp pki/mitmproxy-ca.pem mitm/
# mitmproxy takes a port, not 0: a free one from the kernel, taken at once.
proxy_port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mitmdump --listen-host 127.0.0.1 --listen-port "$proxy_port" --set confdir="$E2E_TMP/mitm" \
    --set ssl_insecure=true >mitm.log 2>&1 &
pids+=($!)
mitm_pid=$!
for ((i = 0; i < 600; i++)); do
    grep -qs "listening at" mitm.log && break
    kill -0 "$mitm_pid" 2>/dev/null || { cat mitm.log >&2; e2e_fail "mitmdump exited"; }
    sleep 0.05
done
grep -q "listening at" mitm.log || e2e_fail "mitmdump did not start: $(cat mitm.log)"
proxy=http://127.0.0.1:$proxy_port
curl -sS --proxy "$proxy" --cacert <(cat pki/root.pem pki/intercept.pem) "$repo/Release" | grep -q "AZL Lab" ||
    e2e_fail "the repository is not reachable through the proxy from the host"

e2e_check "the image: the net guest tree, the repository its only apt source"
echo "deb [trusted=yes] $repo/ ./" >lab.list
azl image build --from "$net_tar" --remove /etc/apt/sources.list.d --add lab.list:/etc/apt/sources.list.d/lab.list:0644 \
    -o corp.wsl --quiet >/dev/null
cat >answers.json <<'EOF'
{"version": 1, "user": {"name": "dev", "sudo": "nopasswd"}, "packages": ["azl-lab-hello"]}
EOF

# The host: the proxy in its environment, the company root and intermediate in its "stores", and
# certificates a store may hold that must not be carried.
export AZL_SANDBOX_TRUSTED_CERTS=$E2E_TMP/store HTTPS_PROXY=$proxy HTTP_PROXY=$proxy
cp pki/root.pem store/10-root.pem
cp pki/intercept.pem store/20-intercept.pem
cp pki/expired.pem store/30-expired.pem
cp pki/leaf.der store/40-leaf.der
cp pki/garbage.pem store/50-garbage.pem

e2e_check "a fresh install reaches its repository on first launch, through the interceptor, with no manual step"
azl install --from corp.wsl --name Corp --answers answers.json >install.out 2>&1 || {
    cat install.out >&2
    e2e_fail "install behind the proxy"
}
grep -q "certificates: 2 trusted from the host" install.out || e2e_fail "install summary: $(cat install.out)"
grep -q "AZL Test Expired CA,O=AZL Test (expired, from sandbox:30-expired.pem)" install.out || e2e_fail "expired not reported: $(cat install.out)"
grep -q "AZL Test Not A CA,O=AZL Test (not a CA certificate, from sandbox:40-leaf.der)" install.out || e2e_fail "non-CA not reported: $(cat install.out)"
grep -q "(unreadable) (not a certificate, from sandbox:50-garbage.pem)" install.out || e2e_fail "garbage not reported: $(cat install.out)"
[[ $(azl run --name Corp -- cat /usr/share/azl-lab/hello.txt) == "installed through the proxy" ]] ||
    e2e_fail "the package from the repository is not installed"
ls_anchors() { azl run --name Corp --user root -- sh -c 'ls /usr/local/share/ca-certificates/azurelinux-host | sort | tr "\n" " "'; }
[[ $(ls_anchors) == *azl-test-intercept-ca-*.crt*azl-test-root-ca-*.crt* || $(ls_anchors) == *azl-test-root-ca-*.crt*azl-test-intercept-ca-*.crt* ]] ||
    e2e_fail "managed set: $(ls_anchors)"

e2e_check "the proxy where each tool looks: login shells, /etc/environment, apt, git, npm, pip"
guest_cat() { azl run --name Corp --user root -- cat "$1"; }
[[ $(azl run --name Corp -- bash -lc 'echo "$https_proxy|$HTTPS_PROXY|$no_proxy"') == "$proxy|$proxy|localhost,127.0.0.1,::1" ]] ||
    e2e_fail "login shell variables"
grep -qx "https_proxy=\"$proxy\"" <(guest_cat /etc/environment) || e2e_fail "/etc/environment: $(guest_cat /etc/environment)"
grep -qx "NO_PROXY=\"localhost,127.0.0.1,::1\"" <(guest_cat /etc/environment) || e2e_fail "/etc/environment NO_PROXY"
azl run --name Corp --user root -- apt-config dump >apt-config.out
grep -qF "Acquire::https::Proxy \"$proxy\";" apt-config.out || e2e_fail "apt proxy: $(cat apt-config.out)"
[[ $(azl run --name Corp -- git config --system http.proxy) == "$proxy" ]] || e2e_fail "git http.proxy"
grep -qx "https-proxy=$proxy" <(guest_cat /etc/npmrc) || e2e_fail "npmrc: $(guest_cat /etc/npmrc)"
grep -q "proxy = $proxy" <(guest_cat /etc/pip.conf) || e2e_fail "pip.conf: $(guest_cat /etc/pip.conf)"

e2e_check "the user's own anchor is never touched"
azl run --name Corp --user root -- sh -c 'cp /usr/share/ca-certificates/mozilla/ISRG_Root_X1.crt /usr/local/share/ca-certificates/mine.crt'

tls_works() {
    azl run --name Corp --user root -- apt-get update -q --error-on=any >apt.out 2>&1 &&
        azl run --name Corp -- bash -lc "curl -sS -o /dev/null $repo/Release" >curl.out 2>&1 &&
        azl run --name Corp -- git ls-remote "$repo/lab.git" >git.out 2>&1
}
expect_tls_fails() {
    ! azl run --name Corp --user root -- apt-get update -q --error-on=any >apt.out 2>&1 || e2e_fail "apt-get update worked: $1: $(cat apt.out)"
    grep -qiE "certificate|not trusted|issuer" apt.out || e2e_fail "apt-get: not a certificate error: $(cat apt.out)"
    ! azl run --name Corp -- bash -lc "curl -sS -o /dev/null $repo/Release" >curl.out 2>&1 || e2e_fail "curl worked: $1"
    grep -q "SSL certificate problem" curl.out || e2e_fail "curl: not a certificate error: $(cat curl.out)"
    ! azl run --name Corp -- git ls-remote "$repo/lab.git" >git.out 2>&1 || e2e_fail "git worked: $1"
    grep -qiE "certificate|SSL" git.out || e2e_fail "git: not a certificate error: $(cat git.out)"
}
tls_works || e2e_fail "after install: $(cat apt.out curl.out git.out)"

e2e_check "an unchanged host: a launch does not sync"
azl -v run --name Corp -- true 2>launch.err
! grep -q "certificates:" launch.err || e2e_fail "a launch synced with nothing changed: $(cat launch.err)"

e2e_check "the root removed in Windows: the next launch removes it, and TLS fails with certificate errors"
rm store/10-root.pem
azl -v run --name Corp -- true 2>launch.err
grep -q "certificates: 0 trusted from the host" launch.err || e2e_fail "launch sync: $(cat launch.err)"
grep -q "AZL Test Intercept CA,O=AZL Test (an intermediate whose root nobody here trusts" launch.err ||
    e2e_fail "the orphaned intermediate: $(cat launch.err)"
[[ -z $(azl run --name Corp --user root -- sh -c 'ls /usr/local/share/ca-certificates/azurelinux-host 2>/dev/null') ]] ||
    e2e_fail "the managed set was not emptied"
expect_tls_fails "after the root was removed"
azl run --name Corp --user root -- test -f /usr/local/share/ca-certificates/mine.crt || e2e_fail "the user's anchor is gone"

e2e_check "doctor names the interceptor and who trusts it"
azl doctor --name Corp --json >doctor.json || true
line=$(jq -r --arg id "tls:127.0.0.2:${repo##*:}" '.[] | select(.id == $id) | .status + " " + .message + " | " + (.hint // "")' doctor.json)
[[ $line == "fail TLS to 127.0.0.2:${repo##*:} is intercepted by CN=AZL Test Intercept CA,O=AZL Test; neither Windows nor the guest trusts it"* ]] ||
    e2e_fail "doctor, nobody trusts it: $line"
cp pki/root.pem store/10-root.pem
azl doctor --name Corp --json >doctor.json || true
line=$(jq -r --arg id "tls:127.0.0.2:${repo##*:}" '.[] | select(.id == $id) | .status + " " + .message + " | " + (.hint // "")' doctor.json)
[[ $line == "fail TLS to 127.0.0.2:${repo##*:} is intercepted by CN=AZL Test Intercept CA,O=AZL Test; Windows trusts it, the guest does not"*"run \`azurelinux sync\`" ]] ||
    e2e_fail "doctor, Windows trusts it: $line"

e2e_check "azurelinux sync: trusted again, apt-get update, curl and git ls-remote succeed"
azl sync --name Corp >sync.out
grep -q "certificates: 2 trusted from the host" sync.out || e2e_fail "sync: $(cat sync.out)"
tls_works || e2e_fail "after sync: $(cat apt.out curl.out git.out)"
azl doctor --name Corp --json >doctor.json || true
[[ $(jq -r --arg id "tls:127.0.0.2:${repo##*:}" '.[] | select(.id == $id) | .status' doctor.json) == ok ]] ||
    e2e_fail "doctor after sync: $(cat doctor.json)"
azl run --name Corp --user root -- test -f /usr/local/share/ca-certificates/mine.crt || e2e_fail "the user's anchor is gone"

e2e_check "a PAC file alone: the repository through the proxy, the rest DIRECT, apt-get update works"
unset HTTPS_PROXY HTTP_PROXY
azl sync --name Corp >sync.out
grep -qx "proxy: none" sync.out || e2e_fail "sync without a proxy: $(cat sync.out)"
! azl run --name Corp --user root -- apt-config dump | grep -q "Acquire::https::Proxy \"" || e2e_fail "apt still has a proxy"
pac_port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
pac_url=http://127.0.0.1:$pac_port/proxy.pac
mkdir pac
cat >pac/proxy.pac <<EOF
function FindProxyForURL(url, host) {
    if (host == "127.0.0.2") return "PROXY 127.0.0.1:$proxy_port; DIRECT";
    return "DIRECT";
}
EOF
"$PY" -m http.server --bind 127.0.0.1 --directory pac "$pac_port" >pac.log 2>&1 &
pids+=($!)
pac_pid=$!
for ((i = 0; i < 600; i++)); do
    curl -s -o /dev/null "$pac_url" && break
    kill -0 "$pac_pid" 2>/dev/null || e2e_fail "the PAC server exited: $(cat pac.log)"
    sleep 0.05
done
export AZL_SANDBOX_PAC_URL=$pac_url
summary="PAC file $pac_url evaluated for 3 hosts: 127.0.0.2 through $proxy; DIRECT: login.microsoftonline.com, management.azure.com"
azl sync --name Corp --dry-run >dry.out
grep -qxF "proxy: $proxy (from the PAC file $pac_url, the host's environment)" dry.out || e2e_fail "dry run: $(cat dry.out)"
grep -qxF "  $summary" dry.out || e2e_fail "dry run, DIRECT hosts: $(cat dry.out)"
azl sync --name Corp >sync.out
grep -qxF "  $summary" sync.out || e2e_fail "sync with a PAC file: $(cat sync.out)"
azl run --name Corp --user root -- apt-config dump >apt-config.out
grep -qF "Acquire::https::Proxy \"$proxy\";" apt-config.out || e2e_fail "apt proxy from the PAC file: $(cat apt-config.out)"
grep -qF 'Acquire::https::Proxy::management.azure.com "DIRECT";' apt-config.out || e2e_fail "apt DIRECT hosts: $(cat apt-config.out)"
grep -qx "NO_PROXY=\"login.microsoftonline.com,management.azure.com,localhost,127.0.0.1,::1\"" <(guest_cat /etc/environment) ||
    e2e_fail "/etc/environment NO_PROXY: $(guest_cat /etc/environment)"
seen=$(grep -c "127.0.0.2" mitm.log || true)
azl run --name Corp --user root -- apt-get update -q --error-on=any >apt.out 2>&1 || e2e_fail "apt-get update with the PAC file's proxy: $(cat apt.out)"
(($(grep -c "127.0.0.2" mitm.log) > seen)) || e2e_fail "apt-get update did not go through the proxy: $(tail -5 mitm.log)"
azl doctor --name Corp --json >doctor.json || true
[[ $(jq -r '.[] | select(.id == "pac") | .status + " " + .message' doctor.json) == "ok $summary" ]] ||
    e2e_fail "doctor, PAC evaluated: $(cat doctor.json)"
[[ $(jq -r --arg id "tls:127.0.0.2:${repo##*:}" '.[] | select(.id == $id) | .status' doctor.json) == ok ]] ||
    e2e_fail "doctor, the repository through the PAC file's proxy: $(cat doctor.json)"

e2e_check "a PAC script error and an unreachable PAC file: one line naming the URL; the guest keeps its proxy"
echo 'function FindProxyForURL(url, host) {' >pac/proxy.pac
azl sync --name Corp >sync.out
grep -qxF "proxy: unchanged: PAC script error in $pac_url: line 2: SyntaxError: missing } after function body" sync.out ||
    e2e_fail "sync, PAC script error: $(cat sync.out)"
grep -qF "Acquire::https::Proxy \"$proxy\";" <(azl run --name Corp --user root -- apt-config dump) || e2e_fail "apt lost its proxy"
kill "$pac_pid"
wait "$pac_pid" 2>/dev/null || true
azl doctor --name Corp --json >doctor.json || true
[[ $(jq -r '.[] | select(.id == "pac") | .status + " " + .message' doctor.json) == \
    "fail PAC file $pac_url unreachable: 127.0.0.1:$pac_port: Connection refused" ]] ||
    e2e_fail "doctor, PAC unreachable: $(cat doctor.json)"
unset AZL_SANDBOX_PAC_URL

e2e_check "the proxy refusing connections: doctor says so"
kill "$mitm_pid"
wait "$mitm_pid" 2>/dev/null || true
azl doctor --name Corp --json >doctor.json || true
[[ $(jq -r --arg id "tls:127.0.0.2:${repo##*:}" '.[] | select(.id == $id) | .message' doctor.json) == "proxy 127.0.0.1:$proxy_port refused the connection"* ]] ||
    e2e_fail "doctor, proxy down: $(cat doctor.json)"
