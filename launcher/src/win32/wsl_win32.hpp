#pragma once
// The real seams of WslBackend on Windows (wsl_api_win32.cpp, wsl_host_win32.cpp).

#include <azl/launcher/wsl_backend.hpp>

#include <memory>

namespace azl::launcher
{

// wslapi.dll loaded from System32; reports itself unavailable when it cannot be loaded.
std::unique_ptr<WslApi> make_wsl_api();

// wsl.exe, the Lxss registry key, BCrypt hashing and file moves of this Windows.
std::unique_ptr<WslHost> make_wsl_host();

} // namespace azl::launcher
