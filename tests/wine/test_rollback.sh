#!/usr/bin/env bash
# WSL failing in the middle of an operation (the simulator's fault injection, WSLSIM_FAIL): the
# user gets one clear error and a non-zero exit code, and nothing half-done is left: no registered
# distribution, no install folder, no partial backup; the next attempt works.
#   test_rollback.sh LINUX_AZURELINUX WSLSIM_HOST
set -euo pipefail
# shellcheck source=lib/wine.sh
source "$(dirname "$0")/lib/wine.sh"
wine_setup "$1" "$2"
cp "${AZL_WINE_IMAGE:?}" "$DRIVE_C/AzureLinux.wsl"
mkdir -p "$DRIVE_C/WSL" "$DRIVE_C/Backups"

e2e_check "an import that fails after WSL created its key is rolled back"
WSLSIM_FAIL=import-step=WSL_E_IMPORT_FAILED expect_exit 1 azl install --from 'C:\AzureLinux.wsl' \
    --root --location 'C:\WSL\Failing'
expect_in "Importing the distribution failed." "$ERR" "the error"
[[ -z $(lxss | grep '"DistributionName"' || true) ]] || e2e_fail "left registered: $(lxss)"
[[ ! -e $DRIVE_C/WSL/Failing ]] || e2e_fail "the install folder was left behind"
[[ -z $(ls -A "$XDG_DATA_HOME/azurelinux/distros" 2>/dev/null) ]] ||
    e2e_fail "a root file system was left behind"

e2e_check "wsl.exe refusing the install (access denied)"
WSLSIM_FAIL=install=E_ACCESSDENIED expect_exit 1 azl install --from 'C:\AzureLinux.wsl' --root
expect_in "access denied" "$ERR" "E_ACCESSDENIED"
[[ -z $(lxss | grep '"DistributionName"' || true) ]] || e2e_fail "left registered: $(lxss)"

e2e_check "after the failures, the same install works"
expect_exit 0 azl install --from 'C:\AzureLinux.wsl' --root --location 'C:\WSL\Failing'
expect_exit 0 azl run -- true

e2e_check "a failed export leaves no backup file"
WSLSIM_FAIL=export=WSL_E_EXPORT_FAILED expect_exit 1 azl backup -o 'C:\Backups\b.tar.gz'
expect_in "Exporting the distribution failed." "$ERR" "the export error"
[[ -z $(ls -A "$DRIVE_C/Backups") ]] || e2e_fail "left in C:\\Backups: $(ls -A "$DRIVE_C/Backups")"

e2e_check "a failed restore is not registered"
expect_exit 0 azl backup -o 'C:\Backups\b.tar.gz'
WSLSIM_FAIL=import=WSL_E_IMPORT_FAILED expect_exit 1 azl restore --from 'C:\Backups\b.tar.gz' --name R
[[ $(lxss | grep -c '"DistributionName"') == 1 ]] || e2e_fail "registered after a failed restore: $(lxss)"
expect_exit 0 azl restore --from 'C:\Backups\b.tar.gz' --name R
expect_exit 0 azl uninstall --name R --yes
expect_exit 0 azl uninstall --yes
echo "PASS"
