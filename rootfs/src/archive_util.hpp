#pragma once
// libarchive glue shared by the readers, the writer, the checker and the extractor. Private header.

#include <azl/common/c_ptr.hpp>
#include <azl/rootfs/entry.hpp>

#include <archive.h>
#include <archive_entry.h>

#include <string>

namespace azl::rootfs::detail
{

using ArchiveRead = UniqueCPtr<archive, &archive_read_free>;
using ArchiveWrite = UniqueCPtr<archive, &archive_write_free>;
using ArchiveEntryPtr = UniqueCPtr<archive_entry, &archive_entry_free>;

// A reader that accepts tar formats (ustar, pax, gnu) through every filter we support
// (none, gzip, xz, zstd, bzip2). Throws on allocation failure.
ArchiveRead new_tar_reader();

// A reader for the raw bytes of any filtered stream (used to sniff and to decompress blobs).
ArchiveRead new_raw_reader();

// A new empty archive_entry.
ArchiveEntryPtr new_entry();

// The library's message for the last error on `a`, or "unknown libarchive error".
std::string archive_message(archive* a);

// Converts a libarchive header to an Entry. `path` is set from the normalized pathname (or left as
// the raw name when it cannot be normalized; callers that care call normalize_path on the raw
// name). Hard link targets are normalized too.
Entry entry_from_archive(archive_entry* ae);

// Fills `ae` (which must be clear) from an Entry, for writing. Names are written as "./"-less
// relative paths; directories get no trailing slash.
void entry_to_archive(const Entry& e, archive_entry* ae);

// The filter name of the outermost filter of an open reader: "gzip", "xz", "zstd", "bzip2", "none".
std::string filter_name(archive* a);

} // namespace azl::rootfs::detail
