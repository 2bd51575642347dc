#pragma once

#include <azl/common/progress.hpp>

#include <cstdint>
#include <filesystem>

namespace azl::rootfs
{

// Bounds that stop hostile or broken archives.
struct ExtractLimits
{
    std::uint64_t max_entry_bytes = 64ULL << 30U; // one file
    std::uint64_t max_total_bytes = 0;            // all content; 0: the free space of the target
    std::uint64_t max_entries = 10'000'000;
};

// Options of a safe extraction.
struct ExtractOptions
{
    ExtractLimits limits;
    ProgressMode progress = ProgressMode::off;
};

// What was extracted.
struct ExtractResult
{
    std::uint64_t entries = 0;
    std::uint64_t bytes = 0;
};

// Extracts a tar archive (any compression) into `dest`, which must not exist yet. Entries are
// written into a staging directory beside `dest` that is renamed to `dest` only when everything
// succeeded. Refuses — with a UserError naming the archive and the entry, and nothing left behind —
// absolute paths, ".." components, writes through symlinks that leave the tree, hard links to
// outside it, duplicate or conflicting entries, entries beyond the limits, and corrupt or truncated
// streams. Preserves modes, owners (when run as root), mtimes, symlinks, hard links, xattrs,
// devices, fifos.
ExtractResult extract_archive(
    const std::filesystem::path& archive,
    const std::filesystem::path& dest,
    const ExtractOptions& options = {});

} // namespace azl::rootfs
