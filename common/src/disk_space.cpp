#include <azl/common/disk_space.hpp>
#include <azl/common/fs.hpp>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace azl
{

namespace fs = std::filesystem;

std::string no_space_message(
    const fs::path& filesystem,
    const fs::path& target,
    std::uint64_t needed,
    std::uint64_t free,
    SizeEstimate estimate)
{
    const std::string where =
        filesystem.empty() || filesystem == target
            ? fmt::format("no space left on {}", target.string())
            : fmt::format("no space left on {} for {}", filesystem.string(), target.string());
    if (needed == 0)
    {
        return fmt::format("{} ({} free)", where, human_bytes(free));
    }
    return fmt::format(
        "{} (needed {}{}, {} free)",
        where,
        estimate == SizeEstimate::about ? "~" : "more than ",
        human_bytes(needed),
        human_bytes(free));
}

NoSpaceError::NoSpaceError(
    fs::path target, SpaceInfo space, std::uint64_t needed, SizeEstimate estimate)
    : UserError(
        no_space_message(space.filesystem, target, needed, space.free, estimate),
        fmt::format(
            "free some space on {}, or choose a location on a larger file system",
            space.filesystem.empty() ? target.parent_path().string() : space.filesystem.string()))
    , m_target(std::move(target))
    , m_space(std::move(space))
    , m_needed(needed)
    , m_estimate(estimate)
{
}

void require_free_space(const fs::path& target, std::uint64_t needed, SizeEstimate estimate)
{
    SpaceInfo space = space_info(target);
    if (space.free < needed)
    {
        throw NoSpaceError(target, std::move(space), needed, estimate);
    }
}

bool is_unwritable(int err) noexcept
{
    return err == EROFS || err == EACCES || err == EPERM;
}

UserError unwritable_error(const fs::path& target, int err, std::string_view fix)
{
    const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
    if (err == EROFS)
    {
        return UserError(
            fmt::format(
                "cannot write {}: {} is on a read-only file system", target.string(), dir.string()),
            fix.empty() ? "choose a location on a writable file system" : std::string(fix));
    }
    return UserError(
        fmt::format("cannot write {}: {} in {}", target.string(), std::strerror(err), dir.string()),
        fix.empty() ? "choose a directory you can write to, or change its permissions"
                    : std::string(fix));
}

} // namespace azl
