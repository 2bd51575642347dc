#pragma once

// The one platform primitive UniqueFd needs: close(2) on POSIX, the C runtime's _close on Windows
// (fs_posix.cpp / fs_win32.cpp). The rest of UniqueFd is the same everywhere (unique_fd.cpp).

namespace azl::detail
{

// Closes `fd`; 0 on success, else -1 with errno set.
int close_descriptor(int fd) noexcept;

} // namespace azl::detail
