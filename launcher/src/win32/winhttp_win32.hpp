#pragma once
// The owner of a WinHTTP handle (session, connection or request), shared by the two users of
// WinHTTP: downloads (download_win32.cpp) and PAC evaluation (pac_win32.cpp).

#include <azl/common/c_ptr.hpp>

#include <windows.h>
#include <winhttp.h>

namespace azl::launcher
{

inline void close_winhttp_handle(void* handle) noexcept
{
    ::WinHttpCloseHandle(handle);
}

using WinHttpHandle = UniqueCPtr<void, &close_winhttp_handle>;

} // namespace azl::launcher
