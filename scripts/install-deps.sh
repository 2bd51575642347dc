#!/usr/bin/env bash
# Installs every build, test and benchmark dependency from Debian bookworm packages.
# Run as root (or through sudo) on Debian 12. Idempotent.
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
    exec sudo --preserve-env=DEBIAN_FRONTEND "$0" "$@"
fi

packages=(
    # toolchain
    build-essential cmake ninja-build pkg-config clang-format
    # libraries (see ARCHITECTURE.md for why each one is here)
    libarchive-dev libzstd-dev zlib1g-dev libdeflate-dev liblzma-dev libssl-dev
    nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev catch2
    # end-to-end tests and benchmarks: a real rootfs, an OCI reference implementation, archivers
    mmdebstrap debian-archive-keyring umoci pigz tar gzip xz-utils zstd bzip2 libarchive-tools
    attr libcap2-bin time python3 ca-certificates
)

export DEBIAN_FRONTEND=noninteractive
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} > 0)); then
    echo "Installing: ${missing[*]}"
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
