# Cross-compile the Windows launcher with Debian's mingw-w64 (g++-mingw-w64-x86-64-posix: the posix
# threads flavour, which std::thread and std::mutex need).
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(TOOLCHAIN_PREFIX x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${TOOLCHAIN_PREFIX}-gcc-posix)
set(CMAKE_CXX_COMPILER ${TOOLCHAIN_PREFIX}-g++-posix)
set(CMAKE_RC_COMPILER ${TOOLCHAIN_PREFIX}-windres)
set(CMAKE_OBJDUMP ${TOOLCHAIN_PREFIX}-objdump)

# Only the mingw-w64 sysroot: the build host's libraries and C headers must never leak in. The
# header-only libraries (CLI11, nlohmann_json, spdlog, fmt) are taken from the host's /usr/include
# through cmake/AzlHeaderOnlyDeps.cmake, which exposes those four directories and nothing else.
set(CMAKE_FIND_ROOT_PATH /usr/${TOOLCHAIN_PREFIX})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# A self-contained .exe: libgcc, libstdc++ and winpthread linked in, so it runs on a bare Windows
# that has no mingw runtime DLLs. System DLLs (KERNEL32, SHELL32, ole32, msvcrt) stay imports.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static -static-libgcc -static-libstdc++")
