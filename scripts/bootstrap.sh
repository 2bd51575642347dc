#!/usr/bin/env bash
# The newcomer's first command: installs dependencies, builds the programs the demo runs (not the
# tests: `ctest --preset dev` or scripts/test.sh build those), then runs the main job on a real root
# filesystem — a Debian minbase tree with sudo, locales and the like (made once with mmdebstrap,
# cached; an Azure Linux rootfs on a real machine): builds build/AzureLinux-demo.wsl from it, checks
# and inspects it, installs it into the Linux sandbox unattended with the example answers file, and
# runs a command as the user first-run setup created. Prints how long each phase took.
set -euo pipefail
cd "$(dirname "$0")/.."

phase_name=""
phase_start=0
timings=()
# phase NAME: ends the running phase (printing its time) and starts NAME; no NAME ends the last.
phase() {
    local now
    now=$(date +%s)
    if [[ -n $phase_name ]]; then
        timings+=("$(printf '%5ss  %s' "$((now - phase_start))" "$phase_name")")
        printf '\n[bootstrap] %s: %ss\n' "$phase_name" "$((now - phase_start))"
    fi
    phase_name=${1:-}
    phase_start=$now
    if [[ -n $phase_name ]]; then
        printf '\n[bootstrap] %s\n' "$phase_name"
    fi
}
started=$(date +%s)

phase "dependencies (apt)"
scripts/install-deps.sh

phase "build (azurelinux, azurelinux-oobe, azurelinux-bridge)"
# The compiler cache, when the machine has one, makes a second bootstrap nearly free.
launcher=()
if command -v ccache >/dev/null 2>&1; then
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
cmake --preset dev "${launcher[@]}" >/dev/null
# azurelinux also builds azurelinux-sandbox-exec, the helper its sandbox runs.
cmake --build --preset dev --target azurelinux azurelinux-oobe azurelinux-bridge

phase "guest root filesystem (mmdebstrap, cached)"
# shellcheck source=../tests/e2e/lib/rootfs-cache.sh
source tests/e2e/lib/rootfs-cache.sh
guest=$(azl_guest_tar)

azl=build/dev/bin/azurelinux
out=build/AzureLinux-demo.wsl
phase "image build, inspect, check"
echo "+ azurelinux image build --from $guest -o $out"
"$azl" image build --from "$guest" -o "$out"
echo
echo "+ azurelinux image inspect $out"
"$azl" image inspect "$out"
echo
echo "+ azurelinux image check $out"
# A Debian tree is not an Azure Linux image: the check explains what it would need; don't fail on it.
"$azl" image check "$out" || true

# The lifecycle in the Linux sandbox (bubblewrap): the same .wsl, with first-run setup and the Azure
# bridge, installed unattended from the example answers file, then a command as the user setup made.
phase "install with first-run setup, run"
"$azl" --quiet uninstall --name AzureLinux-demo --yes >/dev/null 2>&1 || true # a previous run's
answers=$(mktemp)
trap 'rm -f -- "$answers"' EXIT
install -m 0600 oobe/examples/answers.json "$answers" # answers may hold secrets: not world-readable
echo "+ azurelinux install --from $out --name AzureLinux-demo --answers oobe/examples/answers.json"
"$azl" install --from "$out" --name AzureLinux-demo --answers "$answers"
echo
echo "+ azurelinux run --name AzureLinux-demo -- id"
"$azl" run --name AzureLinux-demo -- id
phase

echo
echo "[bootstrap] time per phase:"
printf '  %s\n' "${timings[@]}"
printf '  %5ss  total\n' "$(($(date +%s) - started))"
echo
echo "Open a shell in it: $azl --name AzureLinux-demo    (remove it: $azl uninstall --name AzureLinux-demo)"
