#include <azl/common/disk_space.hpp>

#include <fmt/format.h>

#include <windows.h>

#include <array>
#include <cerrno>

namespace azl
{

namespace fs = std::filesystem;

SpaceInfo space_info(const fs::path& path)
{
    fs::path p = fs::absolute(path).lexically_normal();
    std::error_code ec;
    while (!fs::exists(p, ec) && p.has_relative_path())
    {
        p = p.parent_path();
    }
    SpaceInfo info;
    ULARGE_INTEGER available{};
    if (::GetDiskFreeSpaceExW(p.c_str(), &available, nullptr, nullptr) == 0)
    {
        throw SystemError(
            fmt::format("measuring the free space of {}", p.string()),
            std::system_category().message(static_cast<int>(::GetLastError())));
    }
    info.free = available.QuadPart;
    std::array<wchar_t, MAX_PATH + 1> volume{};
    info.filesystem = ::GetVolumePathNameW(p.c_str(), volume.data(), MAX_PATH) != 0
                          ? fs::path(volume.data())
                          : p.root_path();
    return info;
}

bool is_no_space(int err) noexcept
{
    return err == ENOSPC;
}

} // namespace azl
