#pragma once

#include <azl/rootfs/entry.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace azl::rootfs
{

// Compression of an output archive.
enum class Compression
{
    gzip,
    xz,
    zstd,
    none,
};

// Human name ("gzip", …) and parser (throws UserError listing the valid names).
std::string_view compression_name(Compression c);
Compression parse_compression(std::string_view name);

// How an archive is written.
struct WriteOptions
{
    Compression compression = Compression::gzip;
    std::optional<int> level; // compressor-specific; default: gzip 6, xz 6, zstd 3
    unsigned threads = 0;     // compression threads; 0: the number of CPUs
    std::optional<std::int64_t> source_date_epoch; // clamp every mtime to it (reproducible builds)
    // The tar stream's expected size (e.g. the tree's), 0 when unknown: without compression it
    // must fit in the free space before anything is written; with compression it scales the
    // "needed ~N" of a no-space error by the ratio reached so far.
    std::uint64_t expected_tar_bytes = 0;
};

// What was written.
struct WriteResult
{
    std::filesystem::path path;
    std::uint64_t bytes = 0; // compressed size on disk
    std::string sha256;      // lowercase hex of the file's bytes
    std::uint64_t entries = 0;
    std::uint64_t uncompressed_bytes = 0; // size of the tar stream before compression
};

// Writes entries as a POSIX pax tar, compressed, to a temporary file next to `path`; commit()
// fsyncs and renames it into place; destruction without commit() leaves nothing behind.
// The output is byte-identical for the same entries and options (no timestamps, host names or
// thread-count-dependent framing), and its SHA-256 is computed while writing.
class ArchiveWriter final : public EntrySink
{
public:
    ArchiveWriter(const std::filesystem::path& path, const WriteOptions& options);
    ~ArchiveWriter() override;
    ArchiveWriter(const ArchiveWriter&) = delete;
    ArchiveWriter& operator=(const ArchiveWriter&) = delete;
    ArchiveWriter(ArchiveWriter&&) = delete;
    ArchiveWriter& operator=(ArchiveWriter&&) = delete;

    void add(const Entry& entry, ContentReader* content) override;

    // Finishes the archive and renames it into place.
    WriteResult commit();

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace azl::rootfs
