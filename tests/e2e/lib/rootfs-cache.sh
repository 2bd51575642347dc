#!/usr/bin/env bash
# The real root filesystems the end-to-end tests and the benchmark run on, built once and cached in
# ${AZL_CACHE_DIR:-$HOME/.cache/azurelinux-wsl}:
#   debian-minbase.tar       Debian bookworm minbase (mmdebstrap --variant=minbase --mode=root), from
#                            the machine's apt sources (or $AZL_DEBIAN_MIRROR)
#   debian-guest-v<N>.tar    Debian bookworm minbase plus what first-run setup and the launcher exercise
#                            inside a guest: sudo, ca-certificates, openssl, tzdata, locales, procps
#   debian-net-guest-v<N>.tar   the guest tree plus the network clients the host-trust test drives
#                            behind a TLS-intercepting proxy: curl, git
#   debian-oci-v<N>/         an OCI image layout (umoci), tag "latest", three layers:
#                            1. the minbase tree
#                            2. additions and changes: a file capability, a user xattr, a hard link pair,
#                               symlinks, a fifo, odd modes and owners, long and non-ASCII names, a
#                               changed file and a changed mode (umoci repack)
#                            3. a hand-made uncompressed layer: whiteouts of a file, of one name of a
#                               hard link pair and of a directory; an opaque directory with new content;
#                               a directory replaced by a file (umoci raw add-layer)
# Each is written under a temporary name and renamed when complete; the layout is rebuilt when its
# version below changes. A lock serializes concurrent callers (ctest -j).
#
# Run:    rootfs-cache.sh [layout|minbase|guest|net-guest]  builds what is missing, prints the path
# Source: azl_oci_layout / azl_minbase_tar / azl_guest_tar / azl_net_guest_tar  the same, as functions
# Needs root and: mmdebstrap debian-archive-keyring umoci tar attr libcap2-bin util-linux.

# Bump when the layout's recipe changes: the cache is rebuilt under the new name.
AZL_OCI_LAYOUT_VERSION=1
AZL_GUEST_TAR_VERSION=1
# The guest tree's packages on top of minbase (Debian names; Azure Linux has the same tools).
AZL_GUEST_PACKAGES=sudo,ca-certificates,openssl,tzdata,locales,procps
AZL_NET_GUEST_TAR_VERSION=1
AZL_NET_GUEST_PACKAGES=$AZL_GUEST_PACKAGES,curl,git

# shellcheck source=tests/e2e/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

azl_cache_dir() { printf '%s\n' "${AZL_CACHE_DIR:-${HOME:?set HOME or AZL_CACHE_DIR}/.cache/azurelinux-wsl}"; }

# Prints the Debian minbase tarball's path, building it first when missing.
azl_minbase_tar() (
    set -euo pipefail
    _azl_prepare_cache
    _azl_ensure_minbase
)

# Prints the guest tarball's path (minbase plus AZL_GUEST_PACKAGES), building it first when missing.
azl_guest_tar() (
    set -euo pipefail
    _azl_prepare_cache
    _azl_ensure_guest
)

# Prints the network guest tarball's path (the guest packages plus curl and git), building it when
# missing.
azl_net_guest_tar() (
    set -euo pipefail
    _azl_prepare_cache
    _azl_ensure_net_guest
)

# Prints the OCI layout's path, building it (and the minbase tarball) first when missing.
azl_oci_layout() (
    set -euo pipefail
    _azl_prepare_cache
    _azl_ensure_layout
)

# Checks prerequisites, creates the cache directory and takes the cache lock (on fd 9, released when
# the calling subshell exits). Under the lock, temporary names are leftovers of killed builds.
_azl_prepare_cache() {
    e2e_require_root
    e2e_require_tools mmdebstrap umoci tar setcap setfattr flock
    local cache
    cache=$(azl_cache_dir)
    mkdir -p "$cache"
    exec 9>"$cache/.lock"
    flock 9
    rm -rf -- "$cache"/.debian-minbase.* "$cache"/.debian-guest.* "$cache"/.debian-oci.* "$cache"/.bench-large.* \
        "$cache"/.debian-net-guest.*
}

# mmdebstrap MIRROR arguments from the machine's apt configuration, one per line: deb822 files that
# name a Debian archive, then one-line `deb` entries that do. Nothing: mmdebstrap's default mirror.
_azl_apt_mirrors() {
    if [[ -n ${AZL_DEBIAN_MIRROR:-} ]]; then
        printf '%s\n' "$AZL_DEBIAN_MIRROR"
        return
    fi
    local f
    for f in /etc/apt/sources.list.d/*.sources; do
        [[ -f $f ]] || continue
        if grep -qE '^URIs:.*://[^ ]*/debian(-security)?/?( |$)' "$f"; then
            printf '%s\n' "$f"
        fi
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -f $f ]] || continue
        grep -E '^deb +(\[[^]]*\] +)?[a-z+]+://[^ ]*/debian(-security)?/? ' "$f" || true
    done
}

_azl_ensure_minbase() {
    local cache tar tmp
    cache=$(azl_cache_dir)
    tar="$cache/debian-minbase.tar"
    if [[ ! -s $tar ]]; then
        local mirrors=()
        mapfile -t mirrors < <(_azl_apt_mirrors)
        e2e_log "building $tar with mmdebstrap (about a minute; mirrors: ${mirrors[*]:-default})"
        tmp=$(mktemp "$cache/.debian-minbase.XXXXXX")
        e2e_on_exit "rm -f -- '$tmp'"
        mmdebstrap --variant=minbase --mode=root --format=tar bookworm "$tmp" "${mirrors[@]}" </dev/null ||
            e2e_fail "mmdebstrap failed (check the apt sources above, or set AZL_DEBIAN_MIRROR)"
        mv -f -- "$tmp" "$tar"
    fi
    printf '%s\n' "$tar"
}

_azl_ensure_guest() {
    local cache tar tmp
    cache=$(azl_cache_dir)
    tar="$cache/debian-guest-v$AZL_GUEST_TAR_VERSION.tar"
    if [[ ! -s $tar ]]; then
        local mirrors=()
        mapfile -t mirrors < <(_azl_apt_mirrors)
        e2e_log "building $tar with mmdebstrap (about a minute; packages: $AZL_GUEST_PACKAGES)"
        tmp=$(mktemp "$cache/.debian-guest.XXXXXX")
        e2e_on_exit "rm -f -- '$tmp'"
        mmdebstrap --variant=minbase --mode=root --format=tar --include="$AZL_GUEST_PACKAGES" \
            bookworm "$tmp" "${mirrors[@]}" </dev/null ||
            e2e_fail "mmdebstrap failed (check the apt sources above, or set AZL_DEBIAN_MIRROR)"
        rm -f -- "$cache"/debian-guest-v[0-9]*.tar
        mv -f -- "$tmp" "$tar"
    fi
    printf '%s\n' "$tar"
}

_azl_ensure_net_guest() {
    local cache tar tmp
    cache=$(azl_cache_dir)
    tar="$cache/debian-net-guest-v$AZL_NET_GUEST_TAR_VERSION.tar"
    if [[ ! -s $tar ]]; then
        local mirrors=()
        mapfile -t mirrors < <(_azl_apt_mirrors)
        e2e_log "building $tar with mmdebstrap (about a minute; packages: $AZL_NET_GUEST_PACKAGES)"
        tmp=$(mktemp "$cache/.debian-net-guest.XXXXXX")
        e2e_on_exit "rm -f -- '$tmp'"
        mmdebstrap --variant=minbase --mode=root --format=tar --include="$AZL_NET_GUEST_PACKAGES" \
            bookworm "$tmp" "${mirrors[@]}" </dev/null ||
            e2e_fail "mmdebstrap failed (check the apt sources above, or set AZL_DEBIAN_MIRROR)"
        rm -f -- "$cache"/debian-net-guest-v[0-9]*.tar
        mv -f -- "$tmp" "$tar"
    fi
    printf '%s
' "$tar"
}

_azl_ensure_layout() {
    local cache layout minbase work
    cache=$(azl_cache_dir)
    layout="$cache/debian-oci-v$AZL_OCI_LAYOUT_VERSION"
    if [[ ! -f $layout/index.json ]]; then
        minbase=$(_azl_ensure_minbase)
        work=$(mktemp -d "$cache/.debian-oci.XXXXXX")
        e2e_on_exit "rm -rf -- '$work'"
        e2e_log "building the 3-layer OCI layout $layout with umoci"
        _azl_build_layout "$minbase" "$work"
        rm -rf -- "$layout" "$cache"/debian-oci-v[0-9]*
        mv -T -- "$work/oci" "$layout"
    fi
    printf '%s\n' "$layout"
}

# Builds the layout in WORK/oci from the minbase tarball.
_azl_build_layout() {
    local minbase=$1 work=$2
    local image="$work/oci:$E2E_OCI_TAG"
    umoci init --layout "$work/oci"
    umoci new --image "$image"

    umoci unpack --image "$image" "$work/b1" >/dev/null
    tar --xattrs --xattrs-include='*' --numeric-owner -xpf "$minbase" -C "$work/b1/rootfs"
    [[ $(stat -c %h "$work/b1/rootfs/$E2E_SURVIVING_LINK") -eq 2 ]] ||
        e2e_fail "$E2E_SURVIVING_LINK is not one name of a hard link pair in the minbase tree"
    umoci repack --history.created_by "mmdebstrap --variant=minbase bookworm" --image "$image" "$work/b1"
    rm -rf -- "$work/b1"

    umoci unpack --image "$image" "$work/b2" >/dev/null
    _azl_layer2_changes "$work/b2/rootfs"
    umoci repack --history.created_by "e2e layer 2: additions and changes" --image "$image" "$work/b2"
    rm -rf -- "$work/b2"

    _azl_layer3_tar "$work/l3" "$work/layer3.tar"
    umoci raw add-layer --history.created_by "e2e layer 3: whiteouts and an opaque directory" \
        --image "$image" "$work/layer3.tar"
    umoci gc --layout "$work/oci"

    local layers
    layers=$(umoci stat --image "$image" | grep -c '^sha256:')
    [[ $layers -eq 3 ]] || e2e_fail "expected 3 layers in the new layout, found $layers"
}

# Layer 2, made by changing an unpacked bundle's rootfs at R.
_azl_layer2_changes() {
    local r=$1 e=$1/opt/e2e
    install -d -m 0755 "$e" "$e/sub"
    cp -- "$r/usr/bin/true" "$r/$E2E_CAP_FILE"
    setcap cap_net_raw,cap_net_bind_service+ep "$r/$E2E_CAP_FILE"
    printf 'has a user xattr\n' >"$r/$E2E_XATTR_FILE"
    setfattr -n user.azl.comment -v 'hello e2e' "$r/$E2E_XATTR_FILE"
    printf 'hard link pair\n' >"$e/hl-a"
    ln -- "$e/hl-a" "$e/hl-b"
    ln -s ../../etc/os-release "$e/rel"
    ln -s /etc/hostname "$e/abs"
    ln -s does-not-exist "$e/dangling"
    mkfifo -m 0640 "$e/fifo"
    printf 'inner\n' >"$e/sub/inner"
    : >"$e/empty"
    printf 'spaces and UTF-8\n' >"$e/name with spaces é.txt"
    seq 1 400000 >"$e/numbers.txt" # a few MiB: spans several compression chunks
    cp -- "$r/usr/bin/true" "$e/setgid-tool"
    chmod 2755 "$e/setgid-tool"
    install -d -m 1777 "$e/sticky"
    install -d -m 0700 -o 1000 -g 1000 "$e/private"
    printf 'owned by 1000:1000\n' >"$e/private/secret"
    chown 1000:1000 "$e/private/secret"
    chmod 0640 "$e/private/secret"
    # A path well over 255 bytes, with a 150-byte file name: needs pax or GNU long names.
    local long
    long="$e/$(printf 'd%.0s' {1..100})/$(printf 'e%.0s' {1..100})"
    mkdir -p "$long"
    printf 'long path\n' >"$long/$(printf 'f%.0s' {1..146}).txt"
    # Changes to layer 1 files: content, and mode only.
    printf 'Debian minbase, changed by layer 2 of the azurelinux-wsl e2e image\n' >"$r/etc/motd"
    chmod 0600 "$r/etc/debian_version"
}

# Layer 3 as an uncompressed tar made by hand (umoci repack never writes opaque whiteouts). Only the
# listed entries go in, in this order; their parents are taken from lower layers.
_azl_layer3_tar() {
    local s=$1 out=$2
    mkdir -p "$s/etc" "$s/opt/e2e" "$s/usr/bin" "$s/$E2E_OPAQUE_DIR/examples"
    : >"$s/etc/.wh.${E2E_DELETED_FILE##*/}"
    printf 'a directory in layer 2, a file in layer 3\n' >"$s/$E2E_TYPE_CHANGED"
    : >"$s/usr/bin/.wh.${E2E_DELETED_LINK_ORIGIN##*/}"
    : >"$s/usr/share/doc/.wh.${E2E_DELETED_DIR##*/}"
    chmod 0750 "$s/$E2E_OPAQUE_DIR"
    : >"$s/$E2E_OPAQUE_DIR/.wh..wh..opq"
    printf 'the only file left here\n' >"$s/$E2E_OPAQUE_DIR/README.e2e"
    printf 'the examples directory was made opaque too\n' >"$s/$E2E_OPAQUE_DIR/examples/only-this"
    chmod 0644 "$s"/etc/.wh.* "$s/$E2E_TYPE_CHANGED" "$s"/usr/bin/.wh.* "$s"/usr/share/doc/.wh.* \
        "$s/$E2E_OPAQUE_DIR"/.wh..wh..opq "$s/$E2E_OPAQUE_DIR/README.e2e" "$s/$E2E_OPAQUE_DIR/examples/only-this"
    printf '%s\n' \
        "etc/.wh.${E2E_DELETED_FILE##*/}" \
        "$E2E_TYPE_CHANGED" \
        "usr/bin/.wh.${E2E_DELETED_LINK_ORIGIN##*/}" \
        "usr/share/doc/.wh.${E2E_DELETED_DIR##*/}" \
        "$E2E_OPAQUE_DIR" \
        "$E2E_OPAQUE_DIR/.wh..wh..opq" \
        "$E2E_OPAQUE_DIR/README.e2e" \
        "$E2E_OPAQUE_DIR/examples" \
        "$E2E_OPAQUE_DIR/examples/only-this" >"$s.list"
    tar -C "$s" --format=gnu --numeric-owner --owner=0 --group=0 --mtime=@1700000000 \
        --no-recursion -T "$s.list" -cf "$out"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    set -euo pipefail
    case ${1:-layout} in
    layout) azl_oci_layout ;;
    minbase) azl_minbase_tar ;;
    guest) azl_guest_tar ;;
    net-guest) azl_net_guest_tar ;;
    *)
        echo "usage: $0 [layout|minbase|guest|net-guest]" >&2
        exit 2
        ;;
    esac
fi
