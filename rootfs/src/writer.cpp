#include "archive_util.hpp"
#include "compress.hpp"

#include <azl/common/disk_space.hpp>
#include <azl/common/error.hpp>
#include <azl/common/fs.hpp>
#include <azl/common/log.hpp>
#include <azl/common/scope_guard.hpp>
#include <azl/rootfs/digest.hpp>
#include <azl/rootfs/writer.hpp>

#include <fmt/format.h>

#include <array>
#include <cerrno>
#include <exception>
#include <stdexcept>
#include <utility>
#include <vector>

namespace azl::rootfs
{

namespace fs = std::filesystem;

std::string_view compression_name(Compression c)
{
    switch (c)
    {
    case Compression::gzip:
        return "gzip";
    case Compression::xz:
        return "xz";
    case Compression::zstd:
        return "zstd";
    case Compression::none:
        return "none";
    }
    return "unknown";
}

Compression parse_compression(std::string_view name)
{
    for (const Compression c :
         {Compression::gzip, Compression::xz, Compression::zstd, Compression::none})
    {
        if (name == compression_name(c))
        {
            return c;
        }
    }
    throw UserError(
        fmt::format("unknown compression '{}'", name),
        "use one of: gzip (what WSL imports), xz, zstd, none");
}

namespace
{

// Content is copied through a buffer of this size; small enough to keep memory flat.
constexpr std::size_t kCopyBufferSize = std::size_t{256} << 10U;

// The end of the pipeline: the bytes on disk, their SHA-256 and their count.
class OutputFile final : public detail::ByteSink
{
public:
    OutputFile(const fs::path& path, std::uint64_t expected_bytes)
        : m_file(path, 0644)
    {
        m_file.expect_size(expected_bytes);
    }

    void write(std::span<const std::byte> data) override
    {
        m_file.write(data);
        m_sha.update(data);
        m_bytes += data.size();
    }

    [[nodiscard]] std::uint64_t bytes() const noexcept
    {
        return m_bytes;
    }

    std::string hex_digest()
    {
        return m_sha.hex_digest();
    }

    void commit()
    {
        m_file.commit();
    }

private:
    AtomicFile m_file;
    Hasher m_sha;
    std::uint64_t m_bytes = 0;
};

} // namespace

struct ArchiveWriter::Impl
{
    enum class State
    {
        open,
        failed,
        committed,
    };

    Impl(const fs::path& path, const WriteOptions& options);
    ~Impl();
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;
    Impl(Impl&&) = delete;
    Impl& operator=(Impl&&) = delete;

    void write_entry(const Entry& entry, ContentReader* content);
    void copy_content(const Entry& entry, ContentReader& content);
    WriteResult finish();
    void check(la_ssize_t rc, std::string_view what);
    [[noreturn]] void rethrow_sink_error();
    static la_ssize_t on_write(archive* a, void* client, const void* buf, size_t size);

    fs::path m_path;
    std::optional<std::int64_t> m_epoch;
    std::uint64_t m_expected_tar_bytes;
    bool m_compressed;
    // Declared before the archive so that they outlive the writes libarchive
    // makes when it is freed.
    OutputFile m_out;
    std::unique_ptr<detail::Compressor> m_compressor;
    detail::ArchiveWrite m_archive;
    detail::ArchiveEntryPtr m_header = detail::new_entry();
    std::exception_ptr m_sink_error;
    std::vector<std::byte> m_buffer;
    std::uint64_t m_entries = 0;
    std::uint64_t m_tar_bytes = 0;
    State m_state = State::open;
    bool m_discard = false; // abandoned: what libarchive still flushes is dropped
};

ArchiveWriter::Impl::Impl(const fs::path& path, const WriteOptions& options)
    : m_path(path)
    , m_epoch(options.source_date_epoch)
    , m_expected_tar_bytes(options.expected_tar_bytes)
    , m_compressed(options.compression != Compression::none)
    , m_out(path, options.compression == Compression::none ? options.expected_tar_bytes : 0)
{
    const int level = detail::resolve_level(options.compression, options.level);
    m_compressor = detail::make_compressor(
        options.compression, level, detail::resolve_threads(options.threads), m_out);
    m_archive.reset(archive_write_new());
    if (!m_archive)
    {
        throw std::bad_alloc();
    }
    archive* a = m_archive.get();
    check(archive_write_set_format_pax_restricted(a), "setting the tar format");
    // One SCHILY.xattr record per attribute: GNU tar, Go's archive/tar (umoci) and bsdtar all read
    // it. libarchive's default adds a LIBARCHIVE.xattr copy, which its own 3.6 reader then reports
    // as a second attribute of the same name.
    check(
        archive_write_set_format_option(a, "pax", "xattrheader", "SCHILY"),
        "choosing the xattr encoding");
    // No blocking: libarchive hands us the stream as produced (our stages buffer), and the archive
    // ends right after its two zero blocks instead of being padded to a 10 KiB record.
    check(archive_write_set_bytes_per_block(a, 0), "setting the block size");
    check(archive_write_set_bytes_in_last_block(a, 1), "setting the block size");
    check(archive_write_open(a, this, nullptr, &Impl::on_write, nullptr), "opening the archive");
    m_buffer.resize(kCopyBufferSize);
}

ArchiveWriter::Impl::~Impl()
{
    // Freeing an unclosed archive makes libarchive write its trailer; nobody wants it any more.
    m_discard = true;
}

la_ssize_t ArchiveWriter::Impl::on_write(archive* a, void* client, const void* buf, size_t size)
{
    auto* self = static_cast<Impl*>(client);
    if (self->m_discard)
    {
        return static_cast<la_ssize_t>(size);
    }
    // Exceptions must not cross libarchive's C frames: keep it and rethrow once libarchive returns.
    try
    {
        self->m_compressor->write(std::span(static_cast<const std::byte*>(buf), size));
        self->m_tar_bytes += size;
        return static_cast<la_ssize_t>(size);
    }
    catch (...)
    {
        self->m_sink_error = std::current_exception();
        archive_set_error(a, EIO, "the output stage failed");
        return -1;
    }
}

void ArchiveWriter::Impl::check(la_ssize_t rc, std::string_view what)
{
    if (rc >= ARCHIVE_WARN)
    {
        return;
    }
    if (m_sink_error)
    {
        rethrow_sink_error();
    }
    throw SystemError(
        fmt::format("writing {} ({})", m_path.string(), what),
        detail::archive_message(m_archive.get()));
}

void ArchiveWriter::Impl::rethrow_sink_error()
{
    try
    {
        std::rethrow_exception(std::exchange(m_sink_error, nullptr));
    }
    catch (const NoSpaceError& e)
    {
        // The compressed output so far, scaled by how much of the tar stream it holds, is the
        // best guess of the whole archive's size.
        // Without compression the output file knew the expected size already.
        const std::uint64_t input = m_compressed ? m_compressor->input_passed_on() : 0;
        const std::uint64_t consumed = input != 0 ? input : m_tar_bytes;
        if (!m_compressed || m_expected_tar_bytes == 0 || consumed == 0 || e.needed() == 0)
        {
            throw;
        }
        const auto ratio = static_cast<double>(e.needed()) / static_cast<double>(consumed);
        const auto estimate =
            static_cast<std::uint64_t>(ratio * static_cast<double>(m_expected_tar_bytes));
        if (estimate <= e.needed())
        {
            throw;
        }
        throw NoSpaceError(e.target(), e.space(), estimate, SizeEstimate::about);
    }
}

void ArchiveWriter::Impl::write_entry(const Entry& entry, ContentReader* content)
{
    archive_entry_clear(m_header.get());
    detail::entry_to_archive(entry, m_header.get());
    if (m_epoch && (entry.mtime > *m_epoch || (entry.mtime == *m_epoch && entry.mtime_nsec > 0)))
    {
        archive_entry_set_mtime(m_header.get(), *m_epoch, 0);
    }
    archive* a = m_archive.get();
    const int rc = archive_write_header(a, m_header.get());
    if (rc == ARCHIVE_WARN)
    {
        // e.g. a name that is not valid UTF-8: stored as raw bytes (hdrcharset=BINARY).
        logger("rootfs")->debug("{}: {}", entry.path, detail::archive_message(a));
    }
    check(rc, fmt::format("entry {}", entry.path));
    if (entry.type == EntryType::file && entry.size > 0)
    {
        if (content == nullptr)
        {
            throw std::logic_error("ArchiveWriter::add: a regular file without a content reader");
        }
        copy_content(entry, *content);
    }
    check(archive_write_finish_entry(a), fmt::format("entry {}", entry.path));
    ++m_entries;
}

void ArchiveWriter::Impl::copy_content(const Entry& entry, ContentReader& content)
{
    const std::string what = fmt::format("entry {}", entry.path);
    std::uint64_t remaining = entry.size;
    while (remaining > 0)
    {
        const std::size_t want =
            static_cast<std::size_t>(std::min<std::uint64_t>(remaining, m_buffer.size()));
        const std::size_t got = content.read(std::span(m_buffer.data(), want));
        if (got == 0)
        {
            throw UserError(
                fmt::format(
                    "/{}: the content ended after {} of its {} bytes",
                    entry.path,
                    entry.size - remaining,
                    entry.size),
                "the source is truncated or was changed while the image was built");
        }
        const la_ssize_t written = archive_write_data(m_archive.get(), m_buffer.data(), got);
        check(written, what);
        if (static_cast<std::size_t>(written) != got)
        {
            throw SystemError(
                fmt::format("writing {} ({})", m_path.string(), what),
                "libarchive took fewer bytes than given");
        }
        remaining -= got;
    }
    std::array<std::byte, 1> probe{};
    if (content.read(probe) != 0)
    {
        throw UserError(
            fmt::format("/{}: the content is longer than its {} bytes", entry.path, entry.size),
            "the source was changed while the image was built");
    }
}

WriteResult ArchiveWriter::Impl::finish()
{
    check(archive_write_close(m_archive.get()), "finishing the archive");
    try
    {
        m_compressor->finish();
    }
    catch (const NoSpaceError&)
    {
        m_sink_error = std::current_exception();
        rethrow_sink_error();
    }
    WriteResult result;
    result.path = m_path;
    result.bytes = m_out.bytes();
    result.sha256 = m_out.hex_digest();
    result.entries = m_entries;
    result.uncompressed_bytes = m_tar_bytes;
    m_out.commit();
    return result;
}

ArchiveWriter::ArchiveWriter(const fs::path& path, const WriteOptions& options)
{
    // Reject a bad level, or an archive that cannot fit, before a temporary file exists.
    detail::resolve_level(options.compression, options.level);
    if (options.compression == Compression::none && options.expected_tar_bytes != 0)
    {
        require_free_space(path, options.expected_tar_bytes);
    }
    m_impl = std::make_unique<Impl>(path, options);
}

ArchiveWriter::~ArchiveWriter() = default;

void ArchiveWriter::add(const Entry& entry, ContentReader* content)
{
    if (m_impl->m_state != Impl::State::open)
    {
        throw std::logic_error("ArchiveWriter::add after commit() or a failure");
    }
    ScopeGuard failed([this] { m_impl->m_state = Impl::State::failed; });
    m_impl->write_entry(entry, content);
    failed.dismiss();
}

WriteResult ArchiveWriter::commit()
{
    if (m_impl->m_state != Impl::State::open)
    {
        throw std::logic_error("ArchiveWriter::commit after commit() or a failure");
    }
    ScopeGuard failed([this] { m_impl->m_state = Impl::State::failed; });
    WriteResult result = m_impl->finish();
    m_impl->m_state = Impl::State::committed;
    failed.dismiss();
    return result;
}

} // namespace azl::rootfs
