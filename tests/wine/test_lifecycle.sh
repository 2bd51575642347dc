#!/usr/bin/env bash
# The whole lifecycle as azurelinux.exe runs it on Windows, under Wine against the WSL simulator:
# install from a Windows path with an answers file and --location (non-ASCII folders), run (exit
# codes, stdin, arguments), config/get, list, backup and restore (tar.gz and vhdx), terminate,
# doctor, uninstall, --log-file with a non-ASCII name. Asserts what the user sees (stdout, stderr,
# exit codes) and what WSL was asked (the simulator's call log, its registry).
#   test_lifecycle.sh LINUX_AZURELINUX WSLSIM_HOST
set -euo pipefail
# shellcheck source=lib/wine.sh
source "$(dirname "$0")/lib/wine.sh"
wine_setup "$1" "$2"

u='Ünïcødé 日本'
mkdir -p "$DRIVE_C/Images $u" "$DRIVE_C/WSL" "$DRIVE_C/Backups $u" "$DRIVE_C/logs"
cp "${AZL_WINE_IMAGE:?}" "$DRIVE_C/Images $u/AzureLinux.wsl"
cp "$AZL_WINE_IMAGE.sha256" "$DRIVE_C/Images $u/AzureLinux.wsl.sha256"
answers="$DRIVE_C/users/$(id -un)/answers.json"
mkdir -p "$(dirname "$answers")"
install -m 0600 "$(dirname "$0")/../../oobe/examples/answers.json" "$answers"

e2e_check "azurelinux.exe --version"
expect_exit 0 azl --version
expect_in "azurelinux " "$OUT" "--version"

e2e_check "install from a Windows path with answers and a --location, all non-ASCII"
expect_exit 0 azl install --from "C:\\Images $u\\AzureLinux.wsl" --location "C:\\WSL\\$u" \
    --answers "C:\\users\\$(id -un)\\answers.json"
expect_in "wsl.exe --install --from-file C:\\Images $u\\AzureLinux.wsl --name AzureLinux --location C:\\WSL\\$u --no-launch" \
    "$(<"$CALLS")" "the install call"
expect_in "WslLaunch" "$(<"$CALLS")" "first-run setup through wslapi.dll"
reg=$(lxss)
expect_in '"DistributionName"="AzureLinux"' "$reg" "registry"
expect_in "\"BasePath\"=\"C:\\\\WSL\\\\$u\"" "$reg" "registry"
expect_in '"RunOOBE"=dword:00000000' "$reg" "first-run setup recorded as done"
expect_in '"DefaultUid"=dword:000003e8' "$reg" "the user setup made is the default"
[[ -f "$DRIVE_C/WSL/$u/ext4.vhdx" ]] || e2e_fail "no disk at the --location"

e2e_check "run: the default user, exit codes, stdin, arguments"
expect_exit 0 azl run -- id -un
[[ $OUT == dev ]] || e2e_fail "default user: $OUT"
expect_exit 7 azl run -- sh -c 'exit 7'
out=$(printf 'one\ntwo\n' | azl run -- wc -l)
[[ $out == 2 ]] || e2e_fail "stdin: $out"
expect_exit 0 azl run -- printf '[%s]\n' 'a b' 'c"d' "it's" "$u" '$HOME' ''
[[ $OUT == "[a b]"$'\n''[c"d]'$'\n'"[it's]"$'\n'"[$u]"$'\n''[$HOME]'$'\n''[]' ]] ||
    e2e_fail "arguments: $OUT"
expect_exit 0 azl run --user root -- id -u
[[ $OUT == 0 ]] || e2e_fail "--user root: $OUT"
expect_in "wsl.exe --distribution AzureLinux --user root --cd ~ --exec id -u" "$(<"$CALLS")" "--user"
expect_exit 0 azl run --cwd /tmp -- pwd
[[ $OUT == /tmp ]] || e2e_fail "--cwd: $OUT"
expect_exit 0 azl run -c 'echo $((6 * 7))'
[[ $OUT == 42 ]] || e2e_fail "-c: $OUT"
echo "from C:" >"$DRIVE_C/Images $u/hello.txt"
expect_exit 0 azl run -- cat "/mnt/c/Images $u/hello.txt"
[[ $OUT == "from C:" ]] || e2e_fail "C: at /mnt/c: $OUT"

e2e_check "config and get"
expect_exit 0 azl config --default-user root
expect_exit 0 azl get --default-user
[[ $OUT == root ]] || e2e_fail "get --default-user: $OUT"
expect_exit 0 azl config --default-user dev --interop off
expect_exit 0 azl get --all --json
[[ $(jq -r '.default_user, .flags.interop, .version' <<<"$OUT" | tr '\n' ' ') == "dev false 2 " ]] ||
    e2e_fail "get --all --json: $OUT"
expect_in '"Flags"=dword:0000000e' "$(lxss)" "interop off in the registry, WSL 2 kept"
expect_exit 0 azl config --interop on
expect_exit 1 azl config --name NoSuch --default-user root
expect_in "no distribution named NoSuch" "$ERR" "config of an unknown name"

e2e_check "list"
expect_exit 0 azl list --json
[[ $(jq -r '.[0] | [.name, .default, .location, .version] | join("|")' <<<"$OUT") == "AzureLinux|true|C:\\WSL\\$u|2" ]] ||
    e2e_fail "list --json: $OUT"

e2e_check "backup: tar.gz and vhdx, non-ASCII folder, nothing else left there"
expect_exit 0 azl backup -o "C:\\Backups $u\\az.tar.gz"
expect_exit 0 azl backup -o "C:\\Backups $u\\az.vhdx"
expect_in "wsl.exe --export AzureLinux C:\\Backups $u\\.az.vhdx.tmp-" "$(<"$CALLS")" "vhdx export"
names=$(cd "$DRIVE_C/Backups $u" && ls -A | sort | tr '\n' ' ')
[[ $names == "az.tar.gz az.tar.gz.json az.vhdx az.vhdx.json " ]] || e2e_fail "backup folder: $names"
tar -tzf "$DRIVE_C/Backups $u/az.tar.gz" >"$WINE_DIR/backup.list"
grep -qxE '(\./)?etc/os-release' "$WINE_DIR/backup.list" || e2e_fail "the backup has no etc/os-release"

e2e_check "restore both, with their settings"
expect_exit 0 azl restore --from "C:\\Backups $u\\az.tar.gz" --name Copy1
expect_in "wsl.exe --import Copy1" "$(<"$CALLS")" "import"
expect_exit 0 azl run --name Copy1 -- id -un
[[ $OUT == dev ]] || e2e_fail "restored default user: $OUT"
expect_exit 0 azl restore --from "C:\\Backups $u\\az.vhdx" --name Copy2 --location 'C:\WSL\Copy2'
expect_in "--import Copy2 C:\\WSL\\Copy2 C:\\Backups $u\\az.vhdx --vhd" "$(<"$CALLS")" "vhdx import"
expect_exit 0 azl run --name Copy2 -- cat /etc/hostname

e2e_check "terminate"
expect_exit 0 azl terminate --name AzureLinux
expect_exit 0 azl list --json
[[ $(jq -r '.[] | select(.name == "AzureLinux") | .state' <<<"$OUT") == Stopped ]] ||
    e2e_fail "state after terminate: $OUT"

e2e_check "doctor"
expect_exit 0 azl doctor --json
[[ $(jq -r '.[] | select(.id == "engine") | .status + " " + .message' <<<"$OUT") == "ok WSL 2.4.4.0" ]] ||
    e2e_fail "doctor engine: $OUT"
[[ $(jq -r '.[] | select(.id == "default-user") | .status' <<<"$OUT") == ok ]] ||
    e2e_fail "doctor default user: $OUT"

e2e_check "--log-file with a non-ASCII name"
expect_exit 0 azl --log-file 'C:\logs\ログ.txt' list
[[ -s "$DRIVE_C/logs/ログ.txt" ]] || e2e_fail "no log at C:\\logs\\ログ.txt: $(ls "$DRIVE_C/logs")"

e2e_check "install --no-launch, then setup with answers"
expect_exit 0 azl install --from "C:\\Images $u\\AzureLinux.wsl" --name Later --no-launch
expect_exit 0 azl list --json
[[ $(jq -r '.[] | select(.name == "Later") | .setup_pending' <<<"$OUT") == true ]] ||
    e2e_fail "setup pending after --no-launch: $OUT"
expect_exit 0 azl setup --name Later --answers "C:\\users\\$(id -un)\\answers.json"
expect_exit 0 azl run --name Later -- id -un
[[ $OUT == dev ]] || e2e_fail "user after setup: $OUT"
expect_exit 0 azl uninstall --name Later --yes

e2e_check "install --json: stdout is JSON only, first-run setup's output went to stderr"
expect_exit 0 azl install --from "C:\\Images $u\\AzureLinux.wsl" --name Json1 --json \
    --answers "C:\\users\\$(id -un)\\answers.json"
[[ $(jq -r .name <<<"$OUT") == Json1 ]] || e2e_fail "install --json stdout: $OUT"
expect_in "user dev created" "$ERR" "setup's progress on stderr"
expect_exit 0 azl uninstall --name Json1 --yes

e2e_check "image manifest on Windows (JSON and SHA-256; the other image commands are Linux's)"
expect_exit 0 azl image manifest --flavor AzureLinux --name AzureLinux-4.0 --friendly-name "Azure Linux 4.0" \
    --amd64 "https://example.com/AzureLinux.wsl=C:\\Images $u\\AzureLinux.wsl" --default \
    -o "C:\\Images $u\\DistributionInfo.json"
want=$(sha256sum "$DRIVE_C/Images $u/AzureLinux.wsl" | cut -d' ' -f1)
[[ $(jq -r '.ModernDistributions.AzureLinux[0].Amd64Url.Sha256' "$DRIVE_C/Images $u/DistributionInfo.json") == "$want" ]] ||
    e2e_fail "manifest: $(cat "$DRIVE_C/Images $u/DistributionInfo.json")"
expect_exit 2 azl image build --from x -o y.wsl
expect_exit 0 azl image --help
expect_in "need the image engine, which runs on Linux" "$OUT" "image --help on Windows"

e2e_check "uninstall"
expect_exit 0 azl uninstall --name Copy1 --yes
expect_exit 0 azl uninstall --name Copy2 --yes
expect_exit 0 azl list --json
[[ $(jq -r '[.[].name] | join(",")' <<<"$OUT") == AzureLinux ]] || e2e_fail "after uninstall: $OUT"
[[ $(lxss | grep -c '"DistributionName"') == 1 ]] || e2e_fail "registry after uninstall: $(lxss)"
[[ ! -e $DRIVE_C/WSL/Copy2 ]] || e2e_fail "C:\\WSL\\Copy2 left behind"
expect_exit 1 azl run --name Copy1 -- true
expect_in "no distribution named Copy1" "$ERR" "run after uninstall"
echo "PASS"
