// open_source: tells a directory, a rootfs tar, an OCI layout and a docker archive apart by
// content, and provides the blob stores the OCI and docker readers work on.

#include "archive_util.hpp"
#include "source_internal.hpp"

#include <azl/common/error.hpp>
#include <azl/common/log.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace azl::rootfs
{

namespace detail
{

namespace
{

constexpr std::uint64_t kMaxManifestBytes = std::uint64_t{4} << 20U;

bool is_hex_id(std::string_view s, std::size_t len)
{
    return s.size() == len
           && std::all_of(
               s.begin(),
               s.end(),
               [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// Top-level names that occur in OCI layouts and docker-save archives (old and new formats). A
// rootfs tar has "etc", "usr", … at its top, so its scan stops at once.
bool image_archive_top_name(std::string_view top)
{
    static constexpr std::array<std::string_view, 6> kNames = {
        ".", "oci-layout", "index.json", "manifest.json", "repositories", "blobs"};
    if (std::find(kNames.begin(), kNames.end(), top) != kNames.end())
    {
        return true;
    }
    if (top.size() == 64 + 5 && top.substr(64) == ".json")
    {
        return is_hex_id(top.substr(0, 64), 64);
    }
    return is_hex_id(top, 64);
}

struct ScanClient
{
    FileRange range;
    std::string name;
    std::uint64_t pos = 0;
    std::vector<std::byte> buf = std::vector<std::byte>(std::size_t{64} << 10U);
};

la_ssize_t scan_read(archive* a, void* client, const void** out)
{
    auto* c = static_cast<ScanClient*>(client);
    try
    {
        const std::size_t n = read_range(c->range, c->pos, c->buf, c->name);
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

la_int64_t scan_skip(archive* /*a*/, void* client, la_int64_t request)
{
    auto* c = static_cast<ScanClient*>(client);
    const std::uint64_t skip = std::min<std::uint64_t>(
        static_cast<std::uint64_t>(std::max<la_int64_t>(request, 0)), c->range.length - c->pos);
    c->pos += skip;
    return static_cast<la_int64_t>(skip);
}

UserError not_a_source(const std::string& name)
{
    return UserError(
        fmt::format("{}: not a directory, tar archive, OCI layout or docker archive", name),
        "pass a root filesystem directory or tarball, an OCI image layout, or `docker save` "
        "output");
}

TarMember member_from(archive* a, archive_entry* ae, const std::string& name)
{
    TarMember m;
    if (const char* link = archive_entry_hardlink(ae))
    {
        m.kind = TarMember::Kind::hardlink;
        m.target = normalize_path(link).value_or("");
        return m;
    }
    switch (archive_entry_filetype(ae))
    {
    case AE_IFREG:
        if (archive_entry_sparse_count(ae) > 0)
        {
            throw UserError(fmt::format(
                "{}: member '{}' is a sparse file, which image archives never hold",
                name,
                archive_entry_pathname(ae)));
        }
        m.kind = TarMember::Kind::file;
        // The data of an uncompressed tar member is contiguous right after its header(s).
        m.offset = static_cast<std::uint64_t>(archive_filter_bytes(a, -1));
        m.size = static_cast<std::uint64_t>(archive_entry_size(ae));
        break;
    case AE_IFLNK:
        m.kind = TarMember::Kind::symlink;
        m.target = archive_entry_symlink(ae) != nullptr ? archive_entry_symlink(ae) : "";
        break;
    default:
        m.kind = TarMember::Kind::other;
        break;
    }
    return m;
}

class DirStore final : public BlobStore
{
public:
    explicit DirStore(std::filesystem::path root)
        : m_root(std::move(root))
    {
    }

    [[nodiscard]] std::optional<FileRange> find(const std::string& rel) const override
    {
        const std::string path = checked_member_path(rel, m_root.string());
        const std::filesystem::path full = m_root / path;

        struct stat st
        {
        };

        if (::stat(full.c_str(), &st) != 0 && (errno == ENOENT || errno == ENOTDIR))
        {
            return std::nullopt;
        }
        return open_file_range(full);
    }

    [[nodiscard]] std::string describe(const std::string& rel) const override
    {
        return (m_root / rel).string();
    }

private:
    std::filesystem::path m_root;
};

class TarStore final : public BlobStore
{
public:
    TarStore(
        std::filesystem::path archive, FileRange range, std::map<std::string, TarMember> members)
        : m_archive(std::move(archive))
        , m_range(std::move(range))
        , m_members(std::move(members))
    {
    }

    [[nodiscard]] std::optional<FileRange> find(const std::string& rel) const override
    {
        std::string path = checked_member_path(rel, m_archive.string());
        // docker save (old format) stores repeated layers as links to the first copy.
        for (int hops = 0; hops < 16; ++hops)
        {
            const auto it = m_members.find(path);
            if (it == m_members.end())
            {
                return std::nullopt;
            }
            const TarMember& m = it->second;
            switch (m.kind)
            {
            case TarMember::Kind::file:
                return FileRange{
                    .fd = m_range.fd, .offset = m_range.offset + m.offset, .length = m.size};
            case TarMember::Kind::hardlink:
                path = m.target;
                break;
            case TarMember::Kind::symlink:
                path = checked_member_path(
                    m.target.starts_with('/') ? m.target : parent_path(path) + "/" + m.target,
                    m_archive.string());
                break;
            case TarMember::Kind::other:
                throw UserError(
                    fmt::format("{}: '{}' is not a regular file", m_archive.string(), path));
            }
        }
        throw UserError(
            fmt::format("{}: too many levels of links at '{}'", m_archive.string(), rel));
    }

    [[nodiscard]] std::string describe(const std::string& rel) const override
    {
        return m_archive.string() + ":" + rel;
    }

private:
    std::filesystem::path m_archive;
    FileRange m_range;
    std::map<std::string, TarMember> m_members;
};

// A directory holding `manifest.json` that parses as docker-save's list of images.
bool is_docker_tree(const std::filesystem::path& dir)
{
    const std::filesystem::path manifest = dir / "manifest.json";

    struct stat st
    {
    };

    if (::stat(manifest.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    {
        return false;
    }
    const std::string text =
        read_small(open_file_range(manifest), manifest.string(), kMaxManifestBytes);
    const auto json = nlohmann::json::parse(text, nullptr, false);
    return json.is_array() && !json.empty() && json.front().is_object()
           && json.front().contains("Layers");
}

bool is_regular(const std::filesystem::path& p)
{
    struct stat st
    {
    };

    return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

Source open_directory(const std::filesystem::path& path, const SourceOptions& options)
{
    Source source;
    source.path = path;
    source.compression = "none";
    if (is_regular(path / "oci-layout") && is_regular(path / "index.json"))
    {
        source.format = SourceFormat::oci_layout;
        open_oci_layout(*make_dir_store(path), options, source);
    }
    else if (is_docker_tree(path))
    {
        source.format = SourceFormat::docker_archive;
        open_docker_archive(*make_dir_store(path), options, source);
    }
    else
    {
        source.format = SourceFormat::directory;
        source.layers.push_back(make_tree_layer(path, DirLayerOptions{}));
    }
    return source;
}

// Reads the first header through the file's own filter: a cheap "is this a tar at all" before
// anything is decompressed in full.
void require_tar(const std::filesystem::path& path, const std::string& compression)
{
    ArchiveRead a = new_tar_reader();
    archive_entry* ae = nullptr;
    if (archive_read_open_filename(a.get(), path.c_str(), kReadBlock) != ARCHIVE_OK)
    {
        throw not_a_source(path.string());
    }
    const int rc = archive_read_next_header(a.get(), &ae);
    if (rc == ARCHIVE_EOF)
    {
        throw UserError(fmt::format("{}: the tar archive has no entries", path.string()));
    }
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN)
    {
        if (compression == "none")
        {
            throw not_a_source(path.string());
        }
        throw UserError(
            fmt::format(
                "{}: {} data that is truncated, corrupt or not a tar archive: {}",
                path.string(),
                compression,
                archive_message(a.get())),
            "check that the file is complete and is a tarball, OCI layout or docker archive");
    }
}

Source open_file(const std::filesystem::path& path, const SourceOptions& options)
{
    const std::string name = path.string();
    FileRange whole = open_file_range(path);
    if (whole.length == 0)
    {
        throw UserError(fmt::format(
            "{}: empty file; not a directory, tar archive, OCI layout or docker archive", name));
    }
    Source source;
    source.path = path;
    source.compression = sniff_compression(whole, name);
    require_tar(path, source.compression);
    FileRange plain = whole;
    if (source.compression != "none")
    {
        // Decompressed once: detection, the index pass and the output pass all read the plain copy.
        plain = spool_decompressed(whole, spool_directory(options.spool_dir), nullptr, name);
    }
    OuterScan scan = scan_outer_tar(plain, name);
    const auto has = [&](const char* member)
    {
        const auto it = scan.members.find(member);
        return it != scan.members.end() && it->second.kind == TarMember::Kind::file;
    };
    if (scan.looks_like_image_archive && has("oci-layout") && has("index.json"))
    {
        source.format = SourceFormat::oci_layout;
        open_oci_layout(*make_tar_store(path, plain, std::move(scan.members)), options, source);
    }
    else if (scan.looks_like_image_archive && has("manifest.json"))
    {
        source.format = SourceFormat::docker_archive;
        open_docker_archive(*make_tar_store(path, plain, std::move(scan.members)), options, source);
    }
    else
    {
        source.format = SourceFormat::tar;
        source.layers.push_back(make_blob_layer(
            BlobSpec{.name = name, .range = plain, .digest = {}, .spool_dir = options.spool_dir}));
    }
    return source;
}

} // namespace

OuterScan scan_outer_tar(const FileRange& range, const std::string& name)
{
    ScanClient client{.range = range, .name = name};
    ArchiveRead a = new_tar_reader();
    if (archive_read_open2(a.get(), &client, nullptr, scan_read, scan_skip, nullptr) != ARCHIVE_OK)
    {
        throw not_a_source(name);
    }
    OuterScan scan;
    scan.looks_like_image_archive = true;
    archive_entry* ae = nullptr;
    for (;;)
    {
        const int rc = archive_read_next_header(a.get(), &ae);
        if (rc == ARCHIVE_EOF)
        {
            break;
        }
        if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN)
        {
            throw UserError(
                fmt::format("{}: corrupt or truncated tar: {}", name, archive_message(a.get())),
                "the file is damaged or incomplete; obtain it again");
        }
        const auto path =
            normalize_path(archive_entry_pathname(ae) != nullptr ? archive_entry_pathname(ae) : "");
        const std::string top = path ? path->substr(0, path->find('/')) : std::string();
        if (!path || !image_archive_top_name(top))
        {
            scan.looks_like_image_archive = false;
            scan.members.clear();
            break;
        }
        scan.members.insert_or_assign(*path, member_from(a.get(), ae, name));
    }
    return scan;
}

std::unique_ptr<BlobStore> make_dir_store(const std::filesystem::path& root)
{
    return std::make_unique<DirStore>(root);
}

std::unique_ptr<BlobStore> make_tar_store(
    const std::filesystem::path& archive, FileRange range, std::map<std::string, TarMember> members)
{
    return std::make_unique<TarStore>(archive, std::move(range), std::move(members));
}

} // namespace detail

std::string_view format_name(SourceFormat format)
{
    switch (format)
    {
    case SourceFormat::directory:
        return "directory";
    case SourceFormat::tar:
        return "tar";
    case SourceFormat::oci_layout:
        return "oci-layout";
    case SourceFormat::docker_archive:
        return "docker-archive";
    }
    return "unknown";
}

Source open_source(const std::filesystem::path& path, const SourceOptions& options)
{
    struct stat st
    {
    };

    if (::stat(path.c_str(), &st) != 0)
    {
        throw UserError(fmt::format("{}: cannot open: {}", path.string(), std::strerror(errno)));
    }
    if (S_ISDIR(st.st_mode))
    {
        return detail::open_directory(path, options);
    }
    if (S_ISREG(st.st_mode))
    {
        return detail::open_file(path, options);
    }
    throw detail::not_a_source(path.string());
}

} // namespace azl::rootfs
