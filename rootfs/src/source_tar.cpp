// Tar layers stored in file ranges: reading with libarchive over pread, decompressing once into an
// unlinked spool file, and checking blob digests while the bytes go by.

#include "archive_util.hpp"
#include "source_internal.hpp"

#include <azl/common/error.hpp>
#include <azl/common/log.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace azl::rootfs::detail
{

namespace
{

bool is_lower_hex(std::string_view s)
{
    return std::all_of(
        s.begin(),
        s.end(),
        [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// libarchive client reading a file range; optionally hashing everything it hands out.
struct RangeClient
{
    FileRange range;
    std::string name;
    Digester* digester = nullptr;
    bool can_skip = false;
    std::uint64_t pos = 0;
    std::vector<std::byte> buf = std::vector<std::byte>(kReadBlock);

    // Reads the rest of the range into the digester, so a digest covers every stored byte even
    // where libarchive stopped early (end-of-archive blocks, padding).
    void drain()
    {
        while (digester != nullptr && pos < range.length)
        {
            const std::size_t n = read_range(range, pos, buf, name);
            if (n == 0)
            {
                break;
            }
            digester->update(std::span(buf.data(), n));
            pos += n;
        }
    }
};

la_ssize_t range_read(archive* a, void* client, const void** out)
{
    auto* c = static_cast<RangeClient*>(client);
    try
    {
        const std::size_t n = read_range(c->range, c->pos, c->buf, c->name);
        if (c->digester != nullptr)
        {
            c->digester->update(std::span(c->buf.data(), n));
        }
        c->pos += n;
        *out = c->buf.data();
        return static_cast<la_ssize_t>(n);
    }
    catch (const std::exception& e)
    {
        archive_set_error(a, EIO, "%s", e.what());
        return -1;
    }
}

la_int64_t range_skip(archive* /*a*/, void* client, la_int64_t request)
{
    auto* c = static_cast<RangeClient*>(client);
    if (!c->can_skip || request <= 0)
    {
        return 0; // libarchive then reads through
    }
    const std::uint64_t skip =
        std::min<std::uint64_t>(static_cast<std::uint64_t>(request), c->range.length - c->pos);
    c->pos += skip;
    return static_cast<la_int64_t>(skip);
}

void open_reader(archive* a, RangeClient& client)
{
    if (archive_read_open2(
            a, &client, nullptr, range_read, client.can_skip ? range_skip : nullptr, nullptr)
        != ARCHIVE_OK)
    {
        throw UserError(
            fmt::format("{}: not a tar archive ({})", client.name, archive_message(a)),
            "the image is corrupt or not in a supported format");
    }
}

UniqueFd create_spool(const std::filesystem::path& dir)
{
    int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL))
    {
        // Filesystems without O_TMPFILE: a named file, unlinked at once.
        std::string pattern = (dir / "azl-spool-XXXXXX").string();
        fd = ::mkostemp(pattern.data(), O_CLOEXEC);
        if (fd >= 0)
        {
            ::unlink(pattern.c_str());
        }
    }
    if (fd < 0)
    {
        throw UserError(
            fmt::format(
                "cannot create a temporary file in {}: {}", dir.string(), std::strerror(errno)),
            "set TMPDIR to a writable directory with room for the uncompressed layers");
    }
    return UniqueFd(fd);
}

struct BlobState
{
    std::optional<FileRange> plain; // the uncompressed tar, once known
    bool verified = false;          // the digest was checked (or there is none)
};

// Reads one layer's tar; when given a digester it hashes every byte and checks it at the end.
class TarLayerReader final : public LayerReader
{
public:
    TarLayerReader(
        std::string name,
        FileRange plain,
        std::shared_ptr<BlobState> state,
        std::unique_ptr<Digester> digester)
        : m_state(std::move(state))
        , m_digester(std::move(digester))
        , m_archive(new_tar_reader())
    {
        m_client.name = std::move(name);
        m_client.range = std::move(plain);
        m_client.digester = m_digester.get();
        m_client.can_skip = m_digester == nullptr;
        open_reader(m_archive.get(), m_client);
    }

    bool next(Entry& entry) override
    {
        archive_entry* ae = nullptr;
        const int rc = archive_read_next_header(m_archive.get(), &ae);
        if (rc == ARCHIVE_EOF)
        {
            finish();
            return false;
        }
        if (rc == ARCHIVE_WARN)
        {
            logger("rootfs")->debug("{}: {}", m_client.name, archive_message(m_archive.get()));
        }
        else if (rc != ARCHIVE_OK)
        {
            fail("corrupt or truncated tar: " + archive_message(m_archive.get()));
        }
        entry = entry_from_archive(ae);
        const char* raw = archive_entry_pathname(ae);
        entry.path = checked_member_path(raw != nullptr ? raw : "", m_client.name);
        if (entry.type == EntryType::hardlink)
        {
            entry.link_target = checked_member_path(archive_entry_hardlink(ae), m_client.name);
        }
        if (entry.path == "." && entry.type != EntryType::directory)
        {
            throw UserError(
                fmt::format(
                    "{}: member '{}' is a {} in place of the root directory",
                    m_client.name,
                    raw,
                    type_name(entry.type)),
                "the layer is malformed or hostile; do not use it");
        }
        m_current = entry.path;
        return true;
    }

    std::size_t read(std::span<std::byte> buf) override
    {
        const la_ssize_t n = archive_read_data(m_archive.get(), buf.data(), buf.size());
        if (n < 0)
        {
            fail(fmt::format("reading '{}': {}", m_current, archive_message(m_archive.get())));
        }
        return static_cast<std::size_t>(n);
    }

private:
    void finish()
    {
        if (m_digester != nullptr)
        {
            m_client.drain();
            m_digester->verify();
            m_digester.reset();
            m_client.digester = nullptr;
            m_state->verified = true;
        }
    }

    // A damaged blob shows as a tar error first; its digest names the real problem better.
    [[noreturn]] void fail(const std::string& what)
    {
        if (m_digester != nullptr)
        {
            m_client.drain();
            m_digester->verify();
        }
        throw UserError(
            fmt::format("{}: {}", m_client.name, what),
            "the image is corrupt or truncated; obtain it again");
    }

    RangeClient m_client;
    std::shared_ptr<BlobState> m_state;
    std::unique_ptr<Digester> m_digester;
    ArchiveRead m_archive;
    std::string m_current;
};

class BlobLayer final : public Layer
{
public:
    explicit BlobLayer(BlobSpec spec)
        : m_spec(std::move(spec))
        , m_state(std::make_shared<BlobState>())
    {
    }

    [[nodiscard]] std::unique_ptr<LayerReader> open() const override
    {
        if (!m_state->plain)
        {
            prepare();
        }
        std::unique_ptr<Digester> digester;
        if (!m_state->verified)
        {
            digester = std::make_unique<Digester>(m_spec.digest, m_spec.name);
        }
        return std::make_unique<TarLayerReader>(
            m_spec.name, *m_state->plain, m_state, std::move(digester));
    }

    [[nodiscard]] std::string describe() const override
    {
        return m_spec.name;
    }

private:
    void prepare() const
    {
        const std::string compression = sniff_compression(m_spec.range, m_spec.name);
        if (compression == "none")
        {
            m_state->plain = m_spec.range;
            m_state->verified = m_spec.digest.empty();
            return;
        }
        std::optional<Digester> digester;
        if (!m_spec.digest.empty())
        {
            digester.emplace(m_spec.digest, m_spec.name);
        }
        m_state->plain = spool_decompressed(
            m_spec.range,
            spool_directory(m_spec.spool_dir),
            digester ? &*digester : nullptr,
            m_spec.name);
        m_state->verified = true;
    }

    BlobSpec m_spec;
    std::shared_ptr<BlobState> m_state;
};

} // namespace

FileRange open_file_range(const std::filesystem::path& path)
{
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
    {
        throw UserError(fmt::format("{}: cannot open: {}", path.string(), std::strerror(errno)));
    }
    auto owned = std::make_shared<const UniqueFd>(fd);

    struct stat st
    {
    };

    if (::fstat(fd, &st) != 0)
    {
        throw UserError(fmt::format("{}: cannot stat: {}", path.string(), std::strerror(errno)));
    }
    if (!S_ISREG(st.st_mode))
    {
        throw UserError(fmt::format("{}: not a regular file", path.string()));
    }
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    return FileRange{
        .fd = std::move(owned), .offset = 0, .length = static_cast<std::uint64_t>(st.st_size)};
}

std::size_t read_range(
    const FileRange& range, std::uint64_t pos, std::span<std::byte> buf, const std::string& name)
{
    if (pos >= range.length || buf.empty())
    {
        return 0;
    }
    const std::size_t want =
        static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), range.length - pos));
    for (;;)
    {
        const ssize_t n =
            ::pread(range.fd->get(), buf.data(), want, static_cast<off_t>(range.offset + pos));
        if (n < 0 && errno == EINTR)
        {
            continue;
        }
        if (n < 0)
        {
            throw SystemError::from_errno("reading " + name, errno);
        }
        if (n == 0)
        {
            throw UserError(
                fmt::format("{}: file ended early (it shrank while being read?)", name));
        }
        return static_cast<std::size_t>(n);
    }
}

std::string sniff_compression(const FileRange& range, const std::string& name)
{
    std::array<std::byte, 6> head{};
    std::size_t got = 0;
    while (got < head.size() && got < range.length)
    {
        got += read_range(range, got, std::span(head).subspan(got), name);
    }
    const auto starts = [&](std::initializer_list<unsigned> magic)
    {
        if (got < magic.size())
        {
            return false;
        }
        std::size_t i = 0;
        for (const unsigned m : magic)
        {
            if (std::to_integer<unsigned>(head.at(i++)) != m)
            {
                return false;
            }
        }
        return true;
    };
    if (starts({0x1f, 0x8b, 0x08}))
    {
        return "gzip";
    }
    if (starts({0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00}))
    {
        return "xz";
    }
    if (starts({0x28, 0xb5, 0x2f, 0xfd}))
    {
        return "zstd";
    }
    if (starts({0x42, 0x5a, 0x68}) && got >= 4 && std::to_integer<unsigned>(head.at(3)) >= '1'
        && std::to_integer<unsigned>(head.at(3)) <= '9')
    {
        return "bzip2";
    }
    return "none";
}

namespace
{

// Validates "algorithm:hex" and picks the algorithm; throws UserError naming `what` otherwise.
HashAlgorithm digest_algorithm(const std::string& expected, const std::string& what)
{
    const auto colon = expected.find(':');
    const std::string algorithm = expected.substr(0, colon == std::string::npos ? 0 : colon);
    const std::string_view hex = colon == std::string::npos
                                     ? std::string_view()
                                     : std::string_view(expected).substr(colon + 1);
    if (algorithm == "sha256" && hex.size() == 64 && is_lower_hex(hex))
    {
        return HashAlgorithm::sha256;
    }
    if (algorithm == "sha512" && hex.size() == 128 && is_lower_hex(hex))
    {
        return HashAlgorithm::sha512;
    }
    throw UserError(
        fmt::format("{}: unsupported or malformed digest '{}'", what, expected),
        "only sha256 and sha512 digests are supported");
}

} // namespace

Digester::Digester(const std::string& expected, const std::string& what)
    : m_hasher(digest_algorithm(expected, what))
    , m_expected(expected)
    , m_algorithm(expected.substr(0, expected.find(':')))
    , m_what(what)
{
}

void Digester::update(std::span<const std::byte> data)
{
    m_hasher.update(data);
}

void Digester::verify()
{
    const std::string actual = m_algorithm + ":" + m_hasher.hex_digest();
    if (actual != m_expected)
    {
        throw UserError(
            fmt::format(
                "{}: content does not match its digest {} (it hashes to {})",
                m_what,
                m_expected,
                actual),
            "the image is corrupt or was modified; obtain it again");
    }
}

std::filesystem::path spool_directory(const std::filesystem::path& configured)
{
    if (!configured.empty())
    {
        return configured;
    }
    const char* tmp = std::getenv("TMPDIR");
    return (tmp != nullptr && *tmp != '\0') ? std::filesystem::path(tmp)
                                            : std::filesystem::path("/tmp");
}

FileRange spool_decompressed(
    const FileRange& input,
    const std::filesystem::path& dir,
    Digester* digester,
    const std::string& name)
{
    RangeClient client;
    client.range = input;
    client.name = name;
    client.digester = digester;
    ArchiveRead a = new_raw_reader();
    if (archive_read_open2(a.get(), &client, nullptr, range_read, nullptr, nullptr) != ARCHIVE_OK)
    {
        throw UserError(fmt::format("{}: cannot decompress: {}", name, archive_message(a.get())));
    }
    archive_entry* ae = nullptr;
    if (archive_read_next_header(a.get(), &ae) != ARCHIVE_OK)
    {
        throw UserError(fmt::format("{}: cannot decompress: {}", name, archive_message(a.get())));
    }
    UniqueFd out = create_spool(dir);
    const std::string what =
        fmt::format("writing the uncompressed copy of {} in {}", name, dir.string());
    std::vector<std::byte> buf(kReadBlock);
    std::uint64_t total = 0;
    for (;;)
    {
        const la_ssize_t n = archive_read_data(a.get(), buf.data(), buf.size());
        if (n == 0)
        {
            break;
        }
        if (n < 0)
        {
            if (digester != nullptr)
            {
                client.drain();
                digester->verify();
            }
            throw UserError(
                fmt::format(
                    "{}: corrupt or truncated {} stream: {}",
                    name,
                    filter_name(a.get()),
                    archive_message(a.get())),
                "the file is damaged or incomplete; obtain it again");
        }
        write_all(out.get(), std::span(buf.data(), static_cast<std::size_t>(n)), what);
        total += static_cast<std::uint64_t>(n);
    }
    if (digester != nullptr)
    {
        client.drain();
        digester->verify();
    }
    ::posix_fadvise(out.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
    return FileRange{
        .fd = std::make_shared<const UniqueFd>(std::move(out)), .offset = 0, .length = total};
}

std::string read_small(const FileRange& range, const std::string& name, std::uint64_t max_bytes)
{
    if (range.length > max_bytes)
    {
        throw UserError(fmt::format(
            "{}: {} is too large for an image manifest or configuration",
            name,
            human_bytes(range.length)));
    }
    std::string out(static_cast<std::size_t>(range.length), '\0');
    std::uint64_t pos = 0;
    while (pos < range.length)
    {
        auto* data = reinterpret_cast<std::byte*>(out.data());
        pos += read_range(range, pos, std::span(data + pos, out.size() - pos), name);
    }
    return out;
}

std::unique_ptr<Layer> make_blob_layer(BlobSpec spec)
{
    return std::make_unique<BlobLayer>(std::move(spec));
}

std::string checked_member_path(std::string_view raw, const std::string& source)
{
    auto normalized = normalize_path(raw);
    if (!normalized)
    {
        throw UserError(
            fmt::format("{}: member '{}' points outside the root filesystem", source, raw),
            "the archive is malformed or hostile; do not use it");
    }
    return std::move(*normalized);
}

} // namespace azl::rootfs::detail
