#!/usr/bin/env bash
# The bridge inside the real guest tree (the cached Debian guest rootfs: glibc and libcrypto only, no
# Python, no curl): the static-C++ binary runs there; it finds the host CLI in the default Windows
# install directory under /mnt/c and runs CLI2\python.exe -IBm azure.cli (no cmd.exe); the runtime
# directory falls back to /tmp/azurelinux-bridge-UID without XDG_RUNTIME_DIR; the login-shell hook
# starts the server and exports the endpoints; tokens are cached across requests.
#
# Usage: test_bridge_guest.sh BRIDGE_BINARY HOOK_SCRIPT      (root: chroot, mount)
set -euo pipefail
BRIDGE=$(realpath "$1")
HOOK=$(realpath "$2")
# shellcheck source=tests/e2e/lib/rootfs-cache.sh
source "$(dirname "$0")/lib/rootfs-cache.sh"
e2e_require_root
e2e_require_tools unshare chroot tar
guest_tar=$(azl_guest_tar)
e2e_scratch
root=$E2E_TMP/root
mkdir "$root"
# Documentation and caches are not needed to run programs.
tar -xf "$guest_tar" -C "$root" --exclude='./usr/share/*' --exclude='./var/cache/*'
install -m 0755 "$BRIDGE" "$root/usr/bin/azurelinux-bridge"
install -m 0644 "$HOOK" "$root/etc/profile.d/azurelinux-bridge.sh"

# A stand-in for the Windows Azure CLI at its default install path: python.exe here is a shell script
# answering `-IBm azure.cli account get-access-token` as az does (CRLF JSON), logging its argv.
cli=$root/mnt/c/Program\ Files/Microsoft\ SDKs/Azure/CLI2
mkdir -p "$cli/wbin"
printf '@"%%~dp0\\..\\python.exe" -IBm azure.cli %%*\r\n' >"$cli/wbin/az.cmd"
cat >"$cli/python.exe" <<'SH'
#!/bin/sh
echo "$*" >>/tmp/host-az-calls
exp=$(($(date +%s) + 3600))
printf '{\r\n  "accessToken": "eyJguest.%s.sig",\r\n  "expiresOn": "%s",\r\n  "expires_on": %s,\r\n  "tenant": "72f988bf-86f1-41af-91ab-2d7cd011db47",\r\n  "tokenType": "Bearer"\r\n}\r\n' \
    "$(wc -l </tmp/host-az-calls)" "$(date -d "@$exp" '+%Y-%m-%d %H:%M:%S.000000')" "$exp"
SH
chmod 0755 "$cli/python.exe"

# Inside: a private mount namespace with /proc (the peer check reads /proc/net/tcp), a clean
# environment as a WSL login shell has.
guest() {
    unshare --mount --fork sh -c 'mount -t proc proc "$0/proc" && exec chroot "$0" "$@"' "$root" \
        /usr/bin/env -i HOME=/root PATH=/usr/bin:/bin WSL_DISTRO_NAME=AzureLinux "$@"
}

e2e_check "the binary runs in the guest tree: no C++ runtime or spdlog/fmt needed there"
guest /usr/bin/azurelinux-bridge --version | grep -q '^azurelinux-bridge ' || e2e_fail "--version in the guest"

e2e_check "token without a server: the default install dir, python.exe -IBm azure.cli, CRLF JSON"
guest /usr/bin/azurelinux-bridge token --resource https://management.azure.com/ >token.json ||
    e2e_fail "token in the guest failed"
grep -q '"accessToken": "eyJguest.1.sig"' token.json || e2e_fail "token: $(cat token.json)"
[[ $(cat "$root/tmp/host-az-calls") == "-IBm azure.cli account get-access-token --output json --resource https://management.azure.com/" ]] ||
    e2e_fail "the host CLI got: $(cat "$root/tmp/host-az-calls")"

e2e_check "login hook: starts the server, exports the endpoints; the token is then cached"
guest /bin/sh -c '. /etc/profile.d/azurelinux-bridge.sh
    [ -n "$IDENTITY_ENDPOINT" ] && [ -n "$IDENTITY_HEADER" ] || { echo "no endpoints exported" >&2; exit 1; }
    for i in 1 2 3; do azurelinux-bridge token --resource https://vault.azure.net/ >/tmp/t$i.json || exit 1; done
    azurelinux-bridge status --json >/tmp/status.json
    kill "$(sed -e "s/.*\"pid\":\([0-9]*\).*/\1/" /tmp/azurelinux-bridge-0/server.json)"' || e2e_fail "login hook flow"
[[ $(grep -c vault.azure.net "$root/tmp/host-az-calls") -eq 1 ]] || e2e_fail "3 requests, expected 1 host call: $(cat "$root/tmp/host-az-calls")"
cmp -s "$root/tmp/t1.json" "$root/tmp/t3.json" || e2e_fail "the cached token changed"
grep -q '"running": true' "$root/tmp/status.json" || e2e_fail "status in the guest: $(cat "$root/tmp/status.json")"
[[ $(stat -c %a "$root/tmp/azurelinux-bridge-0") == 700 && $(stat -c %a "$root/tmp/azurelinux-bridge-0/secrets") == 600 ]] ||
    e2e_fail "the /tmp fallback runtime directory is not private"

echo "bridge guest tests passed (${SECONDS}s)"
