# The Windows cross-build's dependencies: header-only libraries from the build host's Debian packages
# (libcli11-dev, nlohmann-json3-dev, libspdlog-dev, libfmt-dev).
#
# Their CMake packages cannot be used: spdlog::spdlog and fmt::fmt name the host's shared libraries,
# and adding the host's /usr/include to the search path would let glibc's headers shadow mingw-w64's.
# So each library's own header directory is linked into one private include directory, and targets
# with the usual names are defined on top of it. fmt and spdlog are compiled once, by
# common/runtime, as on Linux.

set(AZL_HOST_INCLUDE_DIR "/usr/include" CACHE PATH
    "Where the build host's header-only libraries (CLI, nlohmann, spdlog, fmt) are installed")
set(_azl_headers "${CMAKE_BINARY_DIR}/host-headers")
file(MAKE_DIRECTORY "${_azl_headers}")

# _azl_host_header(DIR FILE REGEX MIN_VERSION NAME) — links DIR; fails clearly when missing or too old.
function(_azl_host_header dir file regex min_version name)
    set(path "${AZL_HOST_INCLUDE_DIR}/${dir}/${file}")
    if(NOT EXISTS "${path}")
        message(FATAL_ERROR "${name}: ${path} not found; install it with scripts/install-deps.sh")
    endif()
    file(STRINGS "${path}" line REGEX "${regex}" LIMIT_COUNT 1)
    string(REGEX REPLACE ".*${regex}.*" "\\1" version "${line}")
    if(version VERSION_LESS min_version)
        message(FATAL_ERROR "${name} ${version} in ${AZL_HOST_INCLUDE_DIR} is older than ${min_version}")
    endif()
    file(CREATE_LINK "${AZL_HOST_INCLUDE_DIR}/${dir}" "${_azl_headers}/${dir}" SYMBOLIC)
    message(STATUS "Header-only ${name} from ${AZL_HOST_INCLUDE_DIR}/${dir}")
endfunction()

_azl_host_header(CLI Version.hpp "CLI11_VERSION \"([0-9.]+)\"" 2.1 CLI11)
_azl_host_header(nlohmann detail/abi_macros.hpp "NLOHMANN_JSON_VERSION_MINOR ([0-9]+)" 10 nlohmann_json)
_azl_host_header(spdlog version.h "SPDLOG_VER_MINOR ([0-9]+)" 10 spdlog)
_azl_host_header(fmt core.h "FMT_VERSION ([0-9]+)" 90000 fmt)

add_library(fmt::fmt INTERFACE IMPORTED)
set_target_properties(fmt::fmt PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${_azl_headers}")
add_library(spdlog::spdlog INTERFACE IMPORTED)
set_target_properties(spdlog::spdlog PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${_azl_headers}")
add_library(CLI11::CLI11 INTERFACE IMPORTED)
set_target_properties(CLI11::CLI11 PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${_azl_headers}")
add_library(nlohmann_json::nlohmann_json INTERFACE IMPORTED)
set_target_properties(nlohmann_json::nlohmann_json PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${_azl_headers}")
