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
    # the sanitizer build and the libFuzzer targets (CMakePresets.json `asan`, `fuzz`)
    clang libclang-rt-14-dev
    # static analysis: scripts/tidy.py (clang-tidy 14 with the project's .clang-tidy)
    clang-tidy
    # the Windows launcher (azurelinux.exe), cross-compiled: mingw-w64 with posix threads, objdump
    g++-mingw-w64-x86-64-posix binutils-mingw-w64-x86-64
    # libraries (see ARCHITECTURE.md for why each one is here)
    libarchive-dev libzstd-dev zlib1g-dev libdeflate-dev liblzma-dev libssl-dev
    nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev catch2
    libcrypt-dev
    # first-run setup reads cloud-init user-data: YAML (#cloud-config) through yaml-cpp
    libyaml-cpp-dev
    # the sandbox launcher evaluates proxy auto-configuration (PAC) files
    libpacparser-dev
    # renders the icon source (packaging/assets/azurelinux-icon.svg) at build time
    librsvg2-bin
    # end-to-end tests and benchmarks: a real rootfs, an OCI reference implementation, archivers
    mmdebstrap debian-archive-keyring umoci pigz tar gzip xz-utils zstd bzip2 libarchive-tools
    attr libcap2-bin time python3 ca-certificates
    # the Azure bridge's tests and benchmark: real HTTP clients (curl; @azure/identity via the machine's
    # Node.js 20 and its npm), JSON checks, wrk for the load benchmark
    curl jq nodejs wrk
    # ... and the Python clients: azure-identity (python3-azure) and the Azure CLI 2.45 (azure-cli),
    # the versions Debian users have; their own requests, not ones we wrote
    python3-azure azure-cli
    # the credential relays' e2e test (tests/e2e/test_relays.sh): a real sshd to log in to with the
    # relayed agent's key, git for `git credential fill` and a push over SSH; GnuPG (gpg, gpg-agent,
    # gpgconf) for the gpg-agent relay's `gpg --sign` and `git commit -S` (also in tests/wine)
    openssh-client openssh-server git gnupg
    # the launcher's Linux sandbox backend; its image download (azurelinux dsc with an https image)
    bubblewrap curl
    # the DSC resource e2e test: DSC's JSON schemas checked with python3-jsonschema, YAML documents
    python3-yaml
    # first-run setup e2e: the guest run the way WSL runs it (bubblewrap), a real terminal (tmux)
    bubblewrap tmux openssl python3-jsonschema
    # ... and cloud-init itself, as the independent judge that the cloud-config documents the
    # translation tests read are valid (`cloud-init devel schema --config-file`)
    cloud-init
    # ... and gpg, which signs the local apt repository its user-data adds (tests/e2e/test_cloud_init.sh)
    gpg
    # the host-trust e2e test: a TLS-intercepting proxy (mitmproxy, which brings python3-cryptography
    # for the test PKI) in front of a local apt and git repository; dpkg-deb and git make them
    mitmproxy dpkg git
    # the Wine tier (tests/wine): azurelinux.exe and the WSL simulator run by Wine (64-bit only);
    # iconv (libc-bin) reads the registry files Wine's reg.exe exports
    wine wine64 libc-bin
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
