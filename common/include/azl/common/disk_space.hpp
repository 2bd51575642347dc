#pragma once
// The errors for file systems that are full or cannot be written, made in one place so that every
// command (image build, install, backup, a plain atomic file) says it the same way and names the
// file system, the file and how much room it needed.

#include <azl/common/error.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace azl
{

// How sure a "needed" figure is: an estimate of the whole, or only what we know is needed so far.
enum class SizeEstimate
{
    about,    // "needed ~N"
    at_least, // "needed more than N"
};

// Room on one file system.
struct SpaceInfo
{
    std::filesystem::path filesystem; // its mount point (Windows: the volume's root)
    std::uint64_t free = 0;           // bytes an unprivileged writer may still use
    std::uint64_t block_size = 4096;  // the unit files take space in
};

// The mount point and free bytes of the file system that holds `path`, or would hold it: measured
// at its nearest existing ancestor. Throws SystemError when even that cannot be examined.
SpaceInfo space_info(const std::filesystem::path& path);

// "no space left on FS for TARGET (needed ~N, M free)" — the text of NoSpaceError. `needed` 0
// means unknown and is left out.
std::string no_space_message(
    const std::filesystem::path& filesystem,
    const std::filesystem::path& target,
    std::uint64_t needed,
    std::uint64_t free,
    SizeEstimate estimate);

// A file system too full for what we were writing. Thrown before writing when a cheap estimate
// says it cannot fit, and when a write meets ENOSPC/EDQUOT; whoever throws it has removed (or is
// about to remove, by unwinding) everything it wrote.
class NoSpaceError : public UserError
{
public:
    // `target` is what we were writing; `space` where and how much was free before we wrote.
    NoSpaceError(
        std::filesystem::path target,
        SpaceInfo space,
        std::uint64_t needed,
        SizeEstimate estimate = SizeEstimate::about);

    // What we were writing.
    [[nodiscard]] const std::filesystem::path& target() const noexcept
    {
        return m_target;
    }

    // Where and how much was free.
    [[nodiscard]] const SpaceInfo& space() const noexcept
    {
        return m_space;
    }

    // The bytes we needed (0: unknown).
    [[nodiscard]] std::uint64_t needed() const noexcept
    {
        return m_needed;
    }

    // How sure needed() is.
    [[nodiscard]] SizeEstimate estimate() const noexcept
    {
        return m_estimate;
    }

private:
    std::filesystem::path m_target;
    SpaceInfo m_space;
    std::uint64_t m_needed;
    SizeEstimate m_estimate;
};

// Whether an errno value means the file system (or the user's quota) is full.
[[nodiscard]] bool is_no_space(int err) noexcept;

// Throws NoSpaceError when fewer than `needed` bytes are free where `target` is to be written.
// For estimates that are cheap to make before writing anything.
void require_free_space(
    const std::filesystem::path& target,
    std::uint64_t needed,
    SizeEstimate estimate = SizeEstimate::about);

// Whether an errno value means "you may not write here": a read-only file system or permissions.
[[nodiscard]] bool is_unwritable(int err) noexcept;

// The UserError for `target` that cannot be written because of `err` (EROFS, EACCES, EPERM), naming
// its directory; `fix` replaces the default hint ("choose a location you can write to ...").
UserError unwritable_error(const std::filesystem::path& target, int err, std::string_view fix = {});

} // namespace azl
