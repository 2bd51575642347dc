#!/usr/bin/env bash
# The Wine tier's fixture: the cached Wine prefix template, and the .wsl image the tests install
# (the guest tree with first-run setup and the bridge, made by the Linux launcher of this build).
#   setup.sh LINUX_AZURELINUX OUT.wsl
set -euo pipefail
# shellcheck source=lib/wine.sh
source "$(dirname "$0")/lib/wine.sh"
wine_require
wine_env
e2e_check "the Wine prefix template"
wine_template
e2e_check "the image: $2"
guest=$(azl_guest_tar)
mkdir -p "$(dirname "$2")"
"$1" --quiet image build --from "$guest" -o "$2" --default-name AzureLinux
