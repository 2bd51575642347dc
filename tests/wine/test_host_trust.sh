#!/usr/bin/env bash
# The Windows half of carrying the host's trust and proxy into the guest, as azurelinux.exe runs it:
# certificates added to Wine's own crypt32 stores (LocalMachine Root and CA, through the registry
# keys crypt32 keeps them in) and Internet Settings in the registry reach the guest's trust store
# and proxy files through `azurelinux sync` (wslapi.dll's WslLaunch, stdin included); a root removed
# from the store leaves the guest at the next sync; a proxy on Windows' loopback is refused with
# WSL's NAT mode explained. Wine's Root store also holds the host's roots: the guest skips those it
# already trusts and carries the others, as it would Windows' own. A PAC file alone (AutoConfigURL,
# served on 127.0.0.1) is evaluated by Wine's WinHTTP (WinHttpGetProxyForUrl) into the guest's proxy
# and DIRECT hosts.
#   test_host_trust.sh LINUX_AZURELINUX WSLSIM_HOST
set -euo pipefail
# shellcheck source=lib/wine.sh
source "$(dirname "$0")/lib/wine.sh"
wine_setup "$1" "$2"

here=$(cd "$(dirname "$0")" && pwd)
/usr/bin/python3 "$here/../e2e/lib/make-test-pki.py" "$WINE_DIR/pki"
cp "${AZL_WINE_IMAGE:?}" "$DRIVE_C/AzureLinux.wsl"
answers="$DRIVE_C/answers.json"
# The example's answers without its proxy: the answers' proxy would win over Windows'.
jq 'del(.proxy)' "$here/../../oobe/examples/answers.json" >"$answers"
chmod 0600 "$answers"

# add_cert STORE PEM: the certificate into HKLM\...\SystemCertificates\STORE as crypt32 keeps it: a
# key named by the SHA-1 thumbprint holding a serialized element (property 32, the encoded
# certificate).
add_cert() {
    local store=$1 pem=$2 thumb blob
    thumb=$(openssl x509 -in "$pem" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g')
    blob=$(/usr/bin/python3 -c '
import struct, subprocess, sys
der = subprocess.run(["openssl", "x509", "-in", sys.argv[1], "-outform", "DER"], capture_output=True, check=True).stdout
sys.stdout.write((struct.pack("<III", 32, 1, len(der)) + der).hex())' "$pem")
    wine reg add "HKLM\\Software\\Microsoft\\SystemCertificates\\$store\\Certificates\\$thumb" \
        /v Blob /t REG_BINARY /d "$blob" /f >/dev/null 2>&1
    printf '%s\n' "$thumb"
}
internet_settings() {
    wine reg add 'HKCU\Software\Microsoft\Windows\CurrentVersion\Internet Settings' "$@" /f >/dev/null 2>&1
}
guest_root() { azl run --user root -- "$@"; }

managed() { expect_exit 0 guest_root sh -c 'ls /usr/local/share/ca-certificates/azurelinux-host 2>/dev/null | sort'; }

e2e_check "install: Wine's Root store (the host's roots) is carried before first-run setup, the public roots skipped"
expect_exit 0 azl install --from 'C:\AzureLinux.wsl' --answers 'C:\answers.json'
expect_in "already trusted" "$ERR" "install's sync: the roots the guest has"
managed
baseline=$OUT
[[ $baseline != *azl-test* ]] || e2e_fail "the company root before it was added: $baseline"

e2e_check "a company root and intermediate in Wine's crypt32 stores, a proxy in Internet Settings"
root_thumb=$(add_cert Root "$WINE_DIR/pki/root.pem")
add_cert CA "$WINE_DIR/pki/intercept.pem" >/dev/null
add_cert Root "$WINE_DIR/pki/expired.pem" >/dev/null
internet_settings /v ProxyEnable /t REG_DWORD /d 1
internet_settings /v ProxyServer /t REG_SZ /d 'proxy.contoso.test:8080'
internet_settings /v ProxyOverride /t REG_SZ /d '*.contoso.test;<local>'
expect_exit 0 azl sync
expect_in "CN=AZL Test Root CA,O=AZL Test" "$OUT" "sync names the root"
expect_in "CN=AZL Test Intercept CA,O=AZL Test" "$OUT" "sync names the intermediate"
expect_in "already trusted" "$OUT" "the public roots Wine's store holds"
expect_in "AZL Test Expired CA,O=AZL Test (expired, from LocalMachine\\Root)" "$OUT" "expired reported"
expect_in "proxy: http://proxy.contoso.test:8080 (from Windows Internet Settings)" "$OUT" "proxy"
managed
expect_in "azl-test-root-ca-" "$OUT" "the root in the guest"
expect_in "azl-test-intercept-ca-" "$OUT" "the intermediate in the guest"
[[ $(grep -vc azl-test <<<"$OUT") == $(grep -c . <<<"$baseline") ]] || e2e_fail "other certificates changed: $OUT"
expect_exit 0 guest_root cat /etc/environment
expect_in 'https_proxy="http://proxy.contoso.test:8080"' "$OUT" "/etc/environment"
expect_in 'no_proxy="*.contoso.test,localhost,127.0.0.1,::1"' "$OUT" "no_proxy merged"
expect_exit 0 azl sync --json
[[ $(jq -r '.certificates.changed' <<<"$OUT") == false ]] || e2e_fail "a second sync changed something: $OUT"

e2e_check "the root removed from Windows: the next sync removes it and its orphaned intermediate"
wine reg delete "HKLM\\Software\\Microsoft\\SystemCertificates\\Root\\Certificates\\$root_thumb" /f >/dev/null 2>&1
expect_exit 0 azl sync
expect_in "AZL Test Intercept CA,O=AZL Test (an intermediate whose root nobody here trusts" "$OUT" "orphan"
managed
[[ $OUT == "$baseline" ]] || e2e_fail "the managed set after removal: $OUT"

e2e_check "a proxy on Windows' loopback in WSL's NAT mode: not written, explained"
internet_settings /v ProxyServer /t REG_SZ /d '127.0.0.1:3128'
expect_exit 0 azl sync
expect_in "listens on Windows' loopback, which the guest cannot reach in WSL's NAT networking mode" "$OUT" "NAT"
expect_exit 0 guest_root sh -c 'grep -c proxy /etc/environment || true'
[[ $OUT == 0 ]] || e2e_fail "the loopback proxy was written: $OUT"

e2e_check "a PAC file alone (AutoConfigURL): WinHTTP evaluates it, the guest gets its proxy and the DIRECT hosts"
pac_port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
pac_url=http://127.0.0.1:$pac_port/proxy.pac
mkdir -p "$WINE_DIR/pac"
cat >"$WINE_DIR/pac/proxy.pac" <<'EOF'
function FindProxyForURL(url, host) {
    if (shExpMatch(host, "*.azure.com")) return "DIRECT";
    return "PROXY proxy.contoso.test:3128; DIRECT";
}
EOF
/usr/bin/python3 -m http.server --bind 127.0.0.1 --directory "$WINE_DIR/pac" "$pac_port" >"$WINE_DIR/pac.log" 2>&1 &
pac_pid=$!
pac_cleanup() {
    local rc=$?
    set +e
    kill "$pac_pid" 2>/dev/null
    (exit "$rc") # wine_cleanup reads the exit status
    wine_cleanup
}
e2e_on_exit pac_cleanup
for ((i = 0; i < 600; i++)); do
    curl -s -o /dev/null "$pac_url" && break
    kill -0 "$pac_pid" 2>/dev/null || e2e_fail "the PAC server exited: $(cat "$WINE_DIR/pac.log")"
    sleep 0.05
done
internet_settings /v ProxyEnable /t REG_DWORD /d 0
internet_settings /v AutoConfigURL /t REG_SZ /d "$pac_url"
expect_exit 0 azl sync
expect_in "proxy: http://proxy.contoso.test:3128 (from the PAC file $pac_url, Windows Internet Settings)" "$OUT" "the PAC file's proxy"
expect_in "DIRECT: management.azure.com" "$OUT" "the hosts it sends DIRECT"
expect_exit 0 guest_root cat /etc/environment
expect_in 'https_proxy="http://proxy.contoso.test:3128"' "$OUT" "/etc/environment from the PAC file"
