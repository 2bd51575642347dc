#!/usr/bin/env bash
# Checks that a cross-built Windows executable runs on a bare Windows: every DLL it imports is part
# of Windows itself (no mingw runtime DLLs: libstdc++, libgcc, winpthread are linked in), and
# wslapi.dll is not imported (the launcher loads it at run time, so it starts without WSL).
# Usage: scripts/check-windows-imports.sh EXE   (exit 0 ok, 1 bad import, 77 EXE not built)
set -euo pipefail

exe=${1:?usage: $0 EXE}
objdump=${OBJDUMP:-x86_64-w64-mingw32-objdump}
if [[ ! -f $exe ]]; then
    echo "$exe does not exist; build it with: cmake --preset mingw && cmake --build --preset mingw" >&2
    exit 77
fi
command -v "$objdump" >/dev/null || { echo "$objdump not found (apt install binutils-mingw-w64-x86-64)" >&2; exit 1; }

header=$("$objdump" -f "$exe")
if ! grep -q 'file format pei-x86-64' <<<"$header"; then
    echo "$exe is not a 64-bit Windows executable" >&2
    exit 1
fi
mapfile -t dlls < <("$objdump" -p "$exe" | sed -n 's/^[[:space:]]*DLL Name: //p' | tr -d '\r')
if ((${#dlls[@]} == 0)); then
    echo "$exe imports no DLL at all: not a Windows executable of ours" >&2
    exit 1
fi

status=0
for dll in "${dlls[@]}"; do
    case ${dll,,} in
    # winhttp.dll: WinHTTP, in System32 of every Windows since XP (Server Core and Nano included):
    # PAC evaluation (WinHttpGetProxyForUrl) and `dsc` image downloads.
    kernel32.dll | user32.dll | advapi32.dll | shell32.dll | ole32.dll | bcrypt.dll | crypt32.dll | ws2_32.dll | msvcrt.dll | \
        winhttp.dll | ucrtbase.dll | api-ms-win-crt-*.dll | api-ms-win-core-*.dll)
        echo "ok   $dll"
        ;;
    wslapi.dll)
        echo "FAIL $dll: must be loaded at run time (LoadLibraryExW), or the .exe cannot start without WSL" >&2
        status=1
        ;;
    *)
        echo "FAIL $dll: not a DLL every Windows has" >&2
        status=1
        ;;
    esac
done
exit "$status"
