#!/usr/bin/env bash
# The newcomer's first command: installs dependencies, builds, then runs the main job on a real root
# filesystem — a Debian minbase tree (made once with mmdebstrap, cached) turned into a 3-layer OCI
# image — building build/AzureLinux-demo.wsl, checking and inspecting it.
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
