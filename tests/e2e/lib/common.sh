# shellcheck shell=bash
# Helpers shared by the end-to-end tests and the benchmark: logging, failing, scratch directories that
# clean up after themselves, and a canonical manifest of a directory tree built only from tools that
# are not ours (find, stat, sha256sum, getfattr), so two trees can be compared entry for entry.
#
# Sourced, not run. The including script sets `set -euo pipefail`.

# What the cached 3-layer OCI image does on top of the Debian minbase tree (see rootfs-cache.sh).
# Tests assert on these, so they are defined once, here.
# shellcheck disable=SC2034 # used by the scripts that source this file
E2E_OCI_TAG=latest
E2E_DELETED_FILE=etc/issue.net           # layer 3: `.wh.issue.net`
E2E_DELETED_LINK_ORIGIN=usr/bin/perl      # layer 3: removes one name of layer 1's hard link pair
E2E_SURVIVING_LINK=usr/bin/perl5.36.0     # ... whose other name must survive as a regular file
E2E_DELETED_DIR=usr/share/doc/dash        # layer 3: `.wh.dash`, a whole directory
E2E_OPAQUE_DIR=usr/share/doc/apt          # layer 3: `.wh..wh..opq` plus new content
E2E_OPAQUE_CONTENT="README.e2e examples examples/only-this"
E2E_CAP_FILE=opt/e2e/captool              # layer 2: security.capability
E2E_XATTR_FILE=opt/e2e/xattr.txt          # layer 2: user.azl.comment
E2E_TYPE_CHANGED=opt/e2e/sub              # directory in layer 2, regular file in layer 3

e2e_log() { printf '[e2e] %s\n' "$*" >&2; }

# e2e_scaled SECONDS: SECONDS times $AZL_TEST_TIMEOUT_SCALE (default 1), rounded up. For the few
# waits a test still bounds by time, which a slow machine stretches like the ctest timeouts
# (tests/e2e/CMakeLists.txt).
e2e_scaled() {
    awk -v s="$1" -v f="${AZL_TEST_TIMEOUT_SCALE:-1}" 'BEGIN { t = s * f; print (t == int(t)) ? t : int(t) + 1 }'
}

# Announces one check; every assertion in a test is preceded by one so a failure is easy to place.
e2e_check() { printf 'CHECK [%3ss]: %s\n' "$SECONDS" "$*"; }

# The script's stderr, kept so a failure is shown even from inside a redirected command.
exec {E2E_STDERR}>&2

e2e_fail() {
    printf 'FAIL: %s\n' "$*" >&"$E2E_STDERR"
    exit 1
}

# e2e_bridge_binary BUILD_DIR: the azurelinux-bridge to drive, absolute: $AZL_BRIDGE, else the one
# built in BUILD_DIR; fails the run when there is none.
e2e_bridge_binary() {
    local bridge=${AZL_BRIDGE:-$1/bin/azurelinux-bridge}
    [[ -x $bridge ]] || e2e_fail "no azurelinux-bridge at $bridge: build it or pass BUILD_DIR"
    realpath "$bridge"
}

# Fails unless every named command exists; names the Debian packages to install.
e2e_require_tools() {
    local missing=() t
    for t in "$@"; do
        command -v "$t" >/dev/null 2>&1 || missing+=("$t")
    done
    if ((${#missing[@]} > 0)); then
        e2e_fail "missing tools: ${missing[*]} (run scripts/install-deps.sh as root)"
    fi
}

# Root is needed to reproduce owners, device nodes and security.capability faithfully.
e2e_require_root() {
    [[ $(id -u) -eq 0 ]] || e2e_fail "the end-to-end tests need root (owners, device nodes, file capabilities)"
}

# Runs CMD when the current (sub)shell exits, also on SIGINT/SIGTERM/SIGHUP. One per shell: a later
# call replaces the earlier one, e2e_scratch's removal of E2E_TMP included, so CMD must remove it too.
e2e_on_exit() {
    # shellcheck disable=SC2064 # expand now: the command is fixed
    trap "$1" EXIT
    trap 'exit 129' HUP
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# Where scratch trees go: $AZL_E2E_TMPDIR, else /dev/shm when it is a tmpfs with 6 GiB free (the
# tests write a few GiB of trees; deleting them from a disk mounted with `discard` takes longer than
# the tests), else $TMPDIR or /tmp.
e2e_scratch_base() {
    if [[ -n ${AZL_E2E_TMPDIR:-} ]]; then
        printf '%s\n' "$AZL_E2E_TMPDIR"
    elif [[ $(stat -f -c %T /dev/shm 2>/dev/null) == tmpfs && -w /dev/shm ]] &&
        (($(df -P -k /dev/shm | awk 'NR == 2 { print $4 }') > 6 * 1024 * 1024)); then
        printf '%s\n' /dev/shm
    else
        printf '%s\n' "${TMPDIR:-/tmp}"
    fi
}

# Creates a scratch directory in E2E_TMP (removed on exit, whatever happens) and cd's into it.
# E2E_AZL_TMP inside it is the TMPDIR our program gets, so e2e_azl can tell what it left behind.
e2e_scratch() {
    E2E_TMP=$(mktemp -d "$(e2e_scratch_base)/azl-e2e.XXXXXX")
    e2e_on_exit "cd / && rm -rf -- '$E2E_TMP'"
    cd "$E2E_TMP" || exit 1
    E2E_AZL_TMP=$E2E_TMP/.azl-tmp
    mkdir "$E2E_AZL_TMP"
}

# Runs our program (BIN ARGS...) with TMPDIR pointing at an empty directory and fails the test if it
# left anything there (spool files, temporary outputs), whether it succeeded or not. Returns its exit
# status; stdout and stderr pass through.
e2e_azl() {
    local rc=0
    TMPDIR=$E2E_AZL_TMP "$@" || rc=$?
    if [[ -n $(ls -A "$E2E_AZL_TMP") ]]; then
        ls -lA "$E2E_AZL_TMP" >&2
        e2e_fail "$* (exit $rc) left files in TMPDIR"
    fi
    return "$rc"
}

# Runs a command, failing the test with its output if it exits non-zero.
e2e_run() {
    local out rc=0
    out=$("$@" 2>&1) || rc=$?
    if ((rc != 0)); then
        printf '%s\n' "$out" | tail -n 20 >&2
        e2e_fail "exit $rc: $*"
    fi
    [[ -z $out ]] || printf '%s\n' "$out"
}

# Fails, showing the first lines of FILE, unless FILE is empty.
e2e_expect_empty() {
    if [[ -s $1 ]]; then
        head -n 10 "$1" >&2
        e2e_fail "$2"
    fi
}

# Writes to OUT a sorted, one-line-per-entry description of the tree at ROOT: path, type, mode,
# uid:gid, then per type the size and SHA-256 (files; plus the first path of its hard link group),
# link target (symlinks) or major,minor (devices), then every xattr as name=hex. mtimes are left out.
e2e_manifest() {
    local root=$1 out=$2 work
    work=$(mktemp -d "${TMPDIR:-/tmp}/azl-manifest.XXXXXX")
    (
        cd "$root" || exit 1
        find . -printf '%P\t%y\t%m\t%U:%G\t%D:%i\t%s\t%l\n' | LC_ALL=C sort -t $'\t' -k1,1 >"$work/meta"
        find . -type f -print0 | xargs -0 -r sha256sum -- | sed -e 's|^\([0-9a-f]*\)  \./|\1\t|' >"$work/sums"
        find . \( -type b -o -type c \) -exec stat -c '%n	%t,%T' {} + | sed -e 's|^\./||' >"$work/devs"
        getfattr -R -P -h -d -m - -e hex . >"$work/getfattr"
    )
    # getfattr prints "# file: PATH" then NAME=VALUE lines; make that one "PATH<TAB>NAME=VALUE" a line.
    awk '/^# file: /{ p = substr($0, 9); next } /=/{ print p "\t" $0 }' "$work/getfattr" |
        LC_ALL=C sort >"$work/xattrs"
    LC_ALL=C awk -F '\t' -v sums="$work/sums" -v devs="$work/devs" -v xattrs="$work/xattrs" '
        BEGIN {
            while ((getline l < sums) > 0) { split(l, f, "\t"); sum[f[2]] = f[1] }
            while ((getline l < devs) > 0) { split(l, f, "\t"); dev[f[1]] = f[2] }
            while ((getline l < xattrs) > 0) {
                split(l, f, "\t")
                if (f[1] in xa) xa[f[1]] = xa[f[1]] "," f[2]; else xa[f[1]] = f[2]
            }
        }
        {
            path = ($1 == "") ? "." : $1
            mode = $3
            while (length(mode) < 4) mode = "0" mode
            line = path " " $2 " " mode " " $4
            if ($2 == "f") {
                line = line " size=" $6 " sha256=" sum[$1]
                if ($5 in first) line = line " hardlink-of=" first[$5]; else first[$5] = path
            } else if ($2 == "l") {
                line = line " -> " $7
            } else if ($2 == "b" || $2 == "c") {
                line = line " dev=" dev[$1]
            }
            if (path in xa) line = line " xattrs=" xa[path]
            print line
        }' "$work/meta" >"$out"
    rm -rf -- "$work"
}

# Compares two manifests; on a difference prints the head of the diff and fails.
e2e_compare_manifests() {
    local expected=$1 actual=$2 what=$3
    if ! diff -u --label "expected" --label "actual" "$expected" "$actual" >"$actual.diff"; then
        head -n 60 "$actual.diff" >&2
        e2e_fail "$what: trees differ ($(grep -c '^[-+][^-+]' "$actual.diff") lines, diff above)"
    fi
}

# Extracts a .wsl / tar with GNU tar (an extractor that shares no code with ours).
e2e_extract_gnutar() {
    mkdir -p "$2"
    tar --xattrs --xattrs-include='*' --numeric-owner -xpf "$1" -C "$2"
}

# Extracts a .wsl the way WSL does (bsdtar -x -p --xattrs --numeric-owner).
e2e_extract_bsdtar() {
    mkdir -p "$2"
    bsdtar -x -p --xattrs --numeric-owner -f "$1" -C "$2"
}

# Unpacks the OCI image at LAYOUT with umoci (the reference implementation) and prints the rootfs path.
e2e_umoci_unpack() {
    local layout=$1 bundle=$2
    umoci unpack --image "$layout:$E2E_OCI_TAG" "$bundle" >/dev/null
    printf '%s\n' "$bundle/rootfs"
}
