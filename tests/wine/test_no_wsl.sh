#!/usr/bin/env bash
# azurelinux.exe on a Windows without WSL (no wslapi.dll; wslapi.dll but no wsl.exe) and with the
# wsl.exe of Windows itself, which predates `--version` and `--install --from-file`: each says what
# is wrong and what to do, doctor still reports, and the old WSL gets the classic install.
#   test_no_wsl.sh LINUX_AZURELINUX WSLSIM_HOST
set -euo pipefail
# shellcheck source=lib/wine.sh
source "$(dirname "$0")/lib/wine.sh"
wine_setup "$1" "$2" --no-wsl
cp "${AZL_WINE_IMAGE:?}" "$EXE_DIR/AzureLinux.wsl"

e2e_check "no wslapi.dll: one clear error, exit 1"
expect_exit 1 azl list
expect_in "WSL cannot be used: wslapi.dll is not in the System32 folder" "$ERR" "list without WSL"
expect_in "wsl --install" "$ERR" "the hint"

e2e_check "no wslapi.dll: doctor still prints its report (text and JSON)"
expect_exit 1 azl doctor
expect_in "fail  WSL: WSL cannot be used: wslapi.dll is not in the System32 folder" "$OUT" "doctor"
expect_in "warn  not checked: the engine cannot run distributions" "$OUT" "doctor"
expect_exit 1 azl doctor --json
[[ $(jq -r '[.[] | .id + "=" + .status] | join(" ")' <<<"$OUT") == \
    "engine=fail registered=warn setup=warn default-user=warn bridge=warn azure-cli=warn" ]] ||
    e2e_fail "doctor --json: $OUT"

e2e_check "wslapi.dll without wsl.exe"
cp "$AZL_MINGW_DIR"/wslsim/{wslapi.dll,wslsim-relay.exe} "$SYSTEM32/"
expect_exit 1 azl install --root
expect_in "WSL cannot be used: wsl.exe is not in the System32 folder" "$ERR" "install without wsl.exe"
[[ -z $(lxss | grep '"DistributionName"' || true) ]] || e2e_fail "registered without wsl.exe: $(lxss)"

e2e_check "the inbox wsl.exe (no --version): the classic install beside the launcher"
cp "$AZL_MINGW_DIR/wslsim/wsl.exe" "$SYSTEM32/"
export WSLSIM_VERSION=inbox
expect_exit 1 azl install --root --location 'C:\WSL\Old'
expect_in "with --location: WSL is older than 2.4.4" "$ERR" "--location on an old WSL"
expect_exit 0 azl install --root
expect_in 'WslRegisterDistribution "AzureLinux" "C:\Program Files\AzureLinux\AzureLinux.wsl"' \
    "$(<"$CALLS")" "the classic API"
expect_in '"BasePath"="C:\\Program Files\\AzureLinux"' "$(lxss)" "installed beside the exe"
expect_exit 0 azl run -- cat /etc/os-release
expect_in "ID=debian" "$OUT" "run on the classic install"
expect_exit 0 azl doctor --json
[[ $(jq -r '.[] | select(.id == "engine") | .status' <<<"$OUT") == fail ]] && e2e_fail "engine: $OUT"
expect_in "older than 2.4.4" "$OUT" "doctor names the old WSL"
expect_exit 0 azl uninstall --yes
echo "PASS"
