#include <azl/common/disk_space.hpp>

#include <fmt/format.h>

#include <sys/stat.h>
#include <sys/statvfs.h>

#include <cerrno>

namespace azl
{

namespace fs = std::filesystem;

namespace
{

// `path` itself when it exists, else its nearest existing ancestor.
fs::path existing_ancestor(const fs::path& path)
{
    fs::path p = fs::absolute(path).lexically_normal();
    struct stat st = {};
    while (::stat(p.c_str(), &st) != 0 && p.has_relative_path())
    {
        p = p.parent_path();
    }
    return p;
}

} // namespace

SpaceInfo space_info(const fs::path& path)
{
    fs::path p = existing_ancestor(path);
    struct statvfs sv = {};
    if (::statvfs(p.c_str(), &sv) != 0)
    {
        throw_errno(fmt::format("measuring the free space of {}", p.string()));
    }
    SpaceInfo info;
    info.free = static_cast<std::uint64_t>(sv.f_bavail) * static_cast<std::uint64_t>(sv.f_frsize);
    info.block_size = sv.f_bsize != 0 ? static_cast<std::uint64_t>(sv.f_bsize) : info.block_size;
    // The mount point: the last ancestor on the same device.
    struct stat st = {};
    if (::stat(p.c_str(), &st) != 0)
    {
        throw_errno(fmt::format("examining {}", p.string()));
    }
    const dev_t dev = st.st_dev;
    while (p.has_relative_path())
    {
        const fs::path parent = p.parent_path();
        if (::stat(parent.c_str(), &st) != 0 || st.st_dev != dev)
        {
            break;
        }
        p = parent;
    }
    info.filesystem = p;
    return info;
}

bool is_no_space(int err) noexcept
{
    return err == ENOSPC || err == EDQUOT;
}

} // namespace azl
