#!/usr/bin/env bash
# The newcomer's first command: installs dependencies, builds, then runs the main job on a real root
# filesystem — a Debian minbase tree (made once with mmdebstrap, cached) turned into a 3-layer OCI
# image — building build/AzureLinux-demo.wsl, checking and inspecting it; then the whole lifecycle:
# a .wsl of the guest tree installed into the Linux sandbox with an answers file, a command run as
# the user first-run setup created.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake --preset dev >/dev/null
cmake --build --preset dev

# shellcheck source=../tests/e2e/lib/rootfs-cache.sh
source tests/e2e/lib/rootfs-cache.sh
layout=$(azl_oci_layout)

azl=build/dev/bin/azurelinux
out=build/AzureLinux-demo.wsl
echo
echo "+ azurelinux image build --from $layout -o $out"
"$azl" image build --from "$layout" -o "$out"
echo
echo "+ azurelinux image inspect $out"
"$azl" image inspect "$out"
echo
echo "+ azurelinux image check $out"
# A Debian tree is not an Azure Linux image: the check explains what it would need; don't fail on it.
"$azl" image check "$out" || true

# The lifecycle in the Linux sandbox (bubblewrap): the guest tree (Debian minbase + sudo, locales, …;
# an Azure Linux rootfs on a real machine) as a .wsl with first-run setup and the Azure bridge,
# installed unattended from the example answers file, then a command as the user setup created.
guest=$(azl_guest_tar)
demo=build/AzureLinux-guest-demo.wsl
echo
echo "+ azurelinux image build --from $guest -o $demo"
"$azl" image build --from "$guest" -o "$demo"
"$azl" --quiet uninstall --name AzureLinux-demo --yes >/dev/null 2>&1 || true # a previous run's
answers=$(mktemp)
trap 'rm -f -- "$answers"' EXIT
install -m 0600 oobe/examples/answers.json "$answers" # answers may hold secrets: not world-readable
echo
echo "+ azurelinux install --from $demo --name AzureLinux-demo --answers oobe/examples/answers.json"
"$azl" install --from "$demo" --name AzureLinux-demo --answers "$answers"
echo
echo "+ azurelinux run --name AzureLinux-demo -- id"
"$azl" run --name AzureLinux-demo -- id
echo
echo "Open a shell in it: $azl --name AzureLinux-demo    (remove it: $azl uninstall --name AzureLinux-demo)"
