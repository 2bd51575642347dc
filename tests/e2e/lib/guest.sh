# shellcheck shell=bash
# Running programs inside a guest tree the way WSL runs them: as root, the tree as `/`, its own /proc,
# /dev, /run (tmpfs), pid, ipc and uts namespaces, the host's network, WSL_DISTRO_NAME set. Shared by
# the end-to-end tests of first-run setup and the launcher.
#
# Sourced, not run, after common.sh. Needs root, bubblewrap, util-linux (unshare, chroot, setpriv).

# The name WSL would give the distribution inside the tests.
E2E_GUEST_DISTRO=${E2E_GUEST_DISTRO:-AzureLinux}

# Extracts the cached guest tarball (rootfs-cache.sh azl_guest_tar) into the new directory DIR.
e2e_guest_extract() {
    local tar=$1 dir=$2
    mkdir -p "$dir"
    tar --xattrs --xattrs-include='*' --numeric-owner -xpf "$tar" -C "$dir"
}

# e2e_guest_run ROOTFS [--tty] [BWRAP-OPTION...] -- CMD [ARG...]
# Runs CMD as root inside ROOTFS through bubblewrap. Without --tty the command gets a new session and
# stdin from /dev/null, as when WSL starts it without a terminal; with --tty it keeps ours, so
# /dev/tty is the terminal it was started on. Extra bubblewrap options (e.g. --ro-bind) go before --.
# Returns the command's exit status.
e2e_guest_run() {
    local root=$1 tty=no
    shift
    local extra=()
    while (($# > 0)) && [[ $1 != -- ]]; do
        if [[ $1 == --tty ]]; then tty=yes; else extra+=("$1"); fi
        shift
    done
    [[ ${1:-} == -- ]] || e2e_fail "e2e_guest_run: missing -- before the command"
    shift
    # /run is a tmpfs, as under WSL: files bound there (answers, certificates) leave the tree untouched.
    local args=(--bind "$root" / --proc /proc --dev /dev --tmpfs /run --unshare-pid --unshare-ipc --unshare-uts
        --die-with-parent --clearenv
        --setenv PATH /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
        --setenv HOME /root --setenv USER root --setenv LOGNAME root --setenv SHELL /bin/bash
        --setenv LANG C.UTF-8 --setenv TERM "${TERM:-xterm}" --setenv WSL_DISTRO_NAME "$E2E_GUEST_DISTRO"
        "${extra[@]}")
    if [[ $tty == yes ]]; then
        bwrap "${args[@]}" -- "$@"
    else
        bwrap "${args[@]}" --new-session -- "$@" </dev/null
    fi
}

# e2e_guest_as_user ROOTFS USER -- CMD [ARG...]
# Runs CMD inside ROOTFS as USER (uid, gid and groups from the guest's files), with setuid programs
# working: bubblewrap always sets no_new_privs, which sudo and su refuse, so this uses a chroot in a
# private mount, pid and uts namespace instead.
e2e_guest_as_user() {
    local root=$1 user=$2
    shift 2
    [[ ${1:-} == -- ]] || e2e_fail "e2e_guest_as_user: missing -- before the command"
    shift
    local uid gid
    uid=$(awk -F: -v u="$user" '$1 == u { print $3 }' "$root/etc/passwd")
    gid=$(awk -F: -v u="$user" '$1 == u { print $4 }' "$root/etc/passwd")
    [[ -n $uid ]] || e2e_fail "no user $user in $root/etc/passwd"
    # shellcheck disable=SC2016 # expanded by the inner shell
    unshare --mount --pid --uts --fork --propagation private sh -c '
        root=$1 uid=$2 gid=$3; shift 3
        mount --rbind /dev "$root/dev" && mount -t proc proc "$root/proc" &&
            hostname localhost &&
            exec chroot "$root" setpriv --reuid="$uid" --regid="$gid" --init-groups \
                env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/ LANG=C.UTF-8 "$@"
    ' sh "$root" "$uid" "$gid" "$@"
}
