# shellcheck shell=bash
# The Wine tier: the real azurelinux.exe (cross-built with mingw-w64) run by Wine against the WSL
# simulator (tests/wslsim): its wsl.exe, wslapi.dll and wslsim-relay.exe in the prefix's System32,
# wslsim-host doing the guest work in the Linux sandbox, with the prefix's C: drive at /mnt/c.
#
# Sourced by the tests/wine/test_*.sh scripts after `set -euo pipefail`. Inputs (environment):
#   AZL_MINGW_DIR     the mingw-w64 build (bin/azurelinux.exe, wslsim/*)   [ctest sets it]
#   AZL_WINE_IMAGE    the .wsl the tests install (made by setup.sh)       [ctest sets it]
#   AZL_REQUIRE_WINE  1: a missing Wine or mingw build fails instead of skipping (CI sets it)
# Arguments of every test: LINUX_AZURELINUX WSLSIM_HOST.

# shellcheck source=../../e2e/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../e2e/lib/common.sh"
# shellcheck source=../../e2e/lib/rootfs-cache.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../e2e/lib/rootfs-cache.sh"

WINE_TEMPLATE_VERSION=1

# Skips (77) or, with AZL_REQUIRE_WINE=1, fails.
wine_skip() {
    if [[ ${AZL_REQUIRE_WINE:-0} == 1 ]]; then
        e2e_fail "$* (AZL_REQUIRE_WINE=1)"
    fi
    echo "SKIP: $*"
    exit 77
}

wine_require() {
    command -v wine >/dev/null 2>&1 || wine_skip "no wine: run scripts/install-deps.sh"
    [[ -f ${AZL_MINGW_DIR:?}/bin/azurelinux.exe && -f $AZL_MINGW_DIR/wslsim/wsl.exe ]] ||
        wine_skip "no Windows build in $AZL_MINGW_DIR: cmake --preset mingw && cmake --build --preset mingw"
}

# Wine without a display, its debug channels quiet, a UTF-8 locale (Wine reads the Linux locale to
# convert arguments: without one it mangles every non-ASCII character).
wine_env() {
    export WINEDEBUG=-all LANG=C.UTF-8 LC_ALL=C.UTF-8 WINEDLLOVERRIDES="mscoree,mshtml="
    unset DISPLAY WAYLAND_DISPLAY
}

# A fresh prefix made by `wineboot --init` (about 15 s, 700 MB), kept in the cache and copied for
# each test. Prints its path.
wine_template() {
    local dir
    dir="$(azl_cache_dir)/wine-prefix-v$WINE_TEMPLATE_VERSION"
    if [[ ! -f $dir/.complete ]]; then
        rm -rf "$dir" "$dir.partial"
        mkdir -p "$(dirname "$dir")"
        WINEPREFIX="$dir.partial" wine wineboot --init >/dev/null 2>&1 ||
            e2e_fail "wineboot --init failed for $dir.partial"
        WINEPREFIX="$dir.partial" wineserver --wait
        touch "$dir.partial/.complete"
        mv "$dir.partial" "$dir"
    fi
    printf '%s\n' "$dir"
}

# wine_setup LINUX_AZURELINUX WSLSIM_HOST [--no-wsl]: a prefix of this test's own with the
# simulator installed (not with --no-wsl), wslsim-host running, azurelinux.exe and the image at
# C:\Program Files\AzureLinux\. Sets WINE_DIR (scratch), WINEPREFIX, DRIVE_C, EXE, CALLS (the
# simulator's call log) and exports what the simulator reads. Cleans up at exit.
wine_setup() {
    LINUX_AZL=$(realpath "$1")
    WSLSIM_HOST_BIN=$(realpath "$2")
    local install_sim=1
    [[ ${3:-} == --no-wsl ]] && install_sim=0
    wine_require
    wine_env
    e2e_require_tools bwrap jq
    local template
    template=$(wine_template)
    WINE_DIR=$(mktemp -d "$(e2e_scratch_base)/azl-wine.XXXXXX")
    e2e_on_exit wine_cleanup
    export WINEPREFIX=$WINE_DIR/prefix
    cp -a "$template" "$WINEPREFIX"
    DRIVE_C=$WINEPREFIX/drive_c
    SYSTEM32=$DRIVE_C/windows/system32
    if ((install_sim)); then
        cp "$AZL_MINGW_DIR"/wslsim/{wsl.exe,wslapi.dll,wslsim-relay.exe} "$SYSTEM32/"
    fi
    mkdir -p "$DRIVE_C/Program Files/AzureLinux"
    EXE_DIR="$DRIVE_C/Program Files/AzureLinux"
    cp "$AZL_MINGW_DIR/bin/azurelinux.exe" "$EXE_DIR/"
    EXE='C:\Program Files\AzureLinux\azurelinux.exe'
    # The sandbox's side: its own store, C: of this prefix at /mnt/c.
    export XDG_DATA_HOME=$WINE_DIR/data AZL_SANDBOX_DRIVE_C=$DRIVE_C
    mkdir -p "$XDG_DATA_HOME"
    export WSLSIM_LOG=$WINE_DIR/calls.log WSLSIM_HOST_LOG=$WINE_DIR/host.log
    CALLS=$WSLSIM_LOG
    : >"$CALLS"
    wineserver --persistent=60 # one server for all the calls: ~0.2 s each instead of ~3 s
    "$WSLSIM_HOST_BIN" --azurelinux "$LINUX_AZL" --endpoint-file "$WINE_DIR/endpoint.json" &
    WSLSIM_HOST_PID=$!
    local i
    for ((i = 0; i < 100; i++)); do
        [[ -s $WINE_DIR/endpoint.json ]] && break
        kill -0 "$WSLSIM_HOST_PID" 2>/dev/null || e2e_fail "wslsim-host exited"
        sleep 0.05
    done
    WSLSIM_HOST=127.0.0.1:$(jq -r .port "$WINE_DIR/endpoint.json")
    WSLSIM_TOKEN=$(jq -r .token "$WINE_DIR/endpoint.json")
    export WSLSIM_HOST WSLSIM_TOKEN
}

wine_cleanup() {
    local rc=$?
    [[ -n ${WSLSIM_HOST_PID:-} ]] && kill "$WSLSIM_HOST_PID" 2>/dev/null
    WINEPREFIX=${WINEPREFIX:-} wineserver --kill 2>/dev/null || true
    if [[ -n ${XDG_DATA_HOME:-} && -d $XDG_DATA_HOME/azurelinux/distros ]]; then
        local d
        for d in "$XDG_DATA_HOME"/azurelinux/distros/*; do
            [[ -e $d ]] || continue
            "$LINUX_AZL" --quiet uninstall --name "$(basename "$d")" --yes >/dev/null 2>&1 || true
        done
    fi
    if ((rc != 0)) && [[ -f ${CALLS:-} ]]; then
        echo "--- simulator call log ---" >&2
        tail -n 40 "$CALLS" >&2
        echo "--- wslsim-host requests ---" >&2
        tail -n 10 "$WSLSIM_HOST_LOG" >&2
    fi
    if [[ -n ${AZL_WINE_KEEP:-} ]]; then
        echo "kept: $WINE_DIR" >&2
        return "$rc"
    fi
    [[ -n ${WINE_DIR:-} ]] && rm -rf "$WINE_DIR"
    return "$rc"
}

# azl ARGS…: azurelinux.exe under Wine; stdout and stderr as it wrote them, its exit code.
azl() { wine "$EXE" "$@"; }

# wsl ARGS…: the simulator's wsl.exe (its output is UTF-16LE unless WSL_UTF8=1).
wsl() { WSL_UTF8=1 wine 'C:\windows\system32\wsl.exe' "$@"; }

# expect_exit CODE CMD…: runs CMD, fails unless it exits with CODE; its output is in OUT and ERR
# (carriage returns dropped).
expect_exit() {
    local want=$1
    shift
    local rc=0
    "$@" >"$WINE_DIR/out" 2>"$WINE_DIR/err" </dev/null || rc=$?
    # The launcher's own lines end in CR LF (the C runtime's text mode, as on Windows).
    OUT=$(tr -d '\r' <"$WINE_DIR/out")
    ERR=$(tr -d '\r' <"$WINE_DIR/err")
    if [[ $rc != "$want" ]]; then
        printf 'stdout: %s\nstderr: %s\n' "$OUT" "$ERR" >&2
        e2e_fail "$* exited with $rc, expected $want"
    fi
}

# expect_in TEXT HAYSTACK WHAT: fails unless HAYSTACK contains TEXT.
expect_in() {
    [[ $2 == *"$1"* ]] || e2e_fail "$3: expected \"$1\" in: $2"
}

# The simulator's registry: the Lxss key as `reg export` writes it (UTF-16 .reg text, read as
# UTF-8: `reg query` prints through the console code page and loses non-ASCII characters), e.g.
#   "BasePath"="C:\\WSL\\Name"      "RunOOBE"=dword:00000000
lxss() {
    rm -f "$WINE_DIR/lxss.reg"
    wine reg export 'HKCU\Software\Microsoft\Windows\CurrentVersion\Lxss' 'Z:'"${WINE_DIR//\//\\}"'\lxss.reg' /y \
        >/dev/null 2>&1 || return 0 # no key: nothing registered yet
    iconv -f UTF-16 -t UTF-8 "$WINE_DIR/lxss.reg" | tr -d '\r'
}
