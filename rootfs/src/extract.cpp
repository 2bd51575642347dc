// Safe extraction of an image archive for the launcher's install: every member name is validated
// before anything is written, into a staging directory that is renamed into place only when the
// whole archive is in.

#include "archive_util.hpp"

#include <azl/common/disk_space.hpp>
#include <azl/common/error.hpp>
#include <azl/common/fs.hpp>
#include <azl/common/log.hpp>
#include <azl/rootfs/extract.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <unordered_map>
#include <unordered_set>

namespace azl::rootfs
{

namespace fs = std::filesystem;

namespace
{

// Warnings of the same kind (xattrs a non-root user cannot set) are logged this often, then summed.
constexpr std::uint64_t kMaxLoggedWarnings = 5;

// When the disk fills, up to this much of the archive file is still read to tell how much room it
// needed; beyond it the need is extrapolated.
constexpr std::uint64_t kCountRestLimit = 64ULL << 20U;

bool is_device(EntryType t)
{
    return t == EntryType::char_device || t == EntryType::block_device;
}

// The total content limit and the room the target had before we wrote.
struct TotalLimit
{
    std::uint64_t bytes = 0;
    bool from_free_space = false;
    SpaceInfo space;
};

TotalLimit total_limit(const ExtractLimits& limits, const fs::path& staging)
{
    SpaceInfo space = space_info(staging);
    if (limits.max_total_bytes != 0)
    {
        return {limits.max_total_bytes, false, std::move(space)};
    }
    const std::uint64_t free = space.free;
    return {free, true, std::move(space)};
}

// Decides, before anything is written, whether each member may be extracted.
class MemberPolicy
{
public:
    explicit MemberPolicy(std::string archive_name)
        : m_archive(std::move(archive_name))
    {
    }

    // Validates a member and returns its normalized path; throws UserError to refuse it.
    std::string admit(const std::string& raw, EntryType type, const char* hardlink)
    {
        std::string path = checked_name(raw, raw, "its name");
        if (path == "." && type != EntryType::directory)
        {
            refuse(
                raw, fmt::format("the archive's root is a {}, not a directory", type_name(type)));
        }
        check_parents(raw, path);
        if (m_seen.contains(path))
        {
            refuse(raw, "it is stored twice (duplicate entry)");
        }
        if (type != EntryType::directory && m_implied.contains(path))
        {
            refuse(
                raw,
                fmt::format(
                    "it is a {}, but earlier members use it as a directory", type_name(type)));
        }
        if (type == EntryType::hardlink)
        {
            check_hardlink(raw, hardlink != nullptr ? hardlink : "");
        }
        m_seen.emplace(path, type);
        for (auto slash = path.rfind('/'); slash != std::string::npos;
             slash = slash == 0 ? std::string::npos : path.rfind('/', slash - 1))
        {
            if (!m_implied.insert(path.substr(0, slash)).second)
            {
                break;
            }
        }
        return path;
    }

    // Throws the UserError refusing `member` for `problem`.
    [[noreturn]] void refuse(const std::string& member, const std::string& problem) const
    {
        throw UserError(
            fmt::format("{}: refusing to extract member {}: {}", m_archive, member, problem),
            fmt::format(
                "the archive is unsafe or damaged; see: azurelinux image check {}", m_archive));
    }

private:
    std::string
    checked_name(const std::string& raw, const std::string& name, const char* what) const
    {
        if (name.empty())
        {
            refuse(raw, fmt::format("{} is empty", what));
        }
        if (name.front() == '/')
        {
            refuse(raw, fmt::format("{} is absolute ({})", what, name));
        }
        if (has_dotdot(name))
        {
            refuse(raw, fmt::format("{} has a '..' component ({})", what, name));
        }
        // Cannot fail: without ".." nothing escapes.
        return normalize_path(name).value_or(".");
    }

    // Refuses writes through earlier symlinks or files: "link -> /tmp" then "link/evil".
    void check_parents(const std::string& raw, const std::string& path) const
    {
        for (std::size_t slash = path.find('/'); slash != std::string::npos;
             slash = path.find('/', slash + 1))
        {
            const auto it = m_seen.find(path.substr(0, slash));
            if (it == m_seen.end() || it->second == EntryType::directory)
            {
                continue;
            }
            refuse(
                raw,
                it->second == EntryType::symlink
                    ? fmt::format("it would be written through the symlink {}", it->first)
                    : fmt::format(
                        "its parent {} is a {}, not a directory",
                        it->first,
                        type_name(it->second)));
        }
    }

    void check_hardlink(const std::string& raw, const std::string& target_raw) const
    {
        const std::string target = checked_name(raw, target_raw, "its hard link target");
        const auto it = m_seen.find(target);
        if (it == m_seen.end())
        {
            refuse(
                raw,
                fmt::format("it is a hard link to {}, which is not an earlier member", target_raw));
        }
        if (it->second == EntryType::directory)
        {
            refuse(raw, fmt::format("it is a hard link to the directory {}", target_raw));
        }
    }

    std::string m_archive;
    std::unordered_map<std::string, EntryType> m_seen; // explicit members
    std::unordered_set<std::string> m_implied;         // parents of members
};

class Extractor
{
public:
    Extractor(
        const fs::path& archive, const fs::path& root, fs::path dest, const ExtractOptions& options)
        : m_archive(archive)
        , m_name(archive.string())
        , m_root(root)
        , m_dest(std::move(dest))
        , m_options(options)
        , m_total(total_limit(options.limits, root))
        , m_policy(m_name)
        , m_reader(detail::new_tar_reader())
        , m_disk(archive_write_disk_new())
    {
        if (!m_disk)
        {
            throw std::bad_alloc();
        }
        // No ARCHIVE_EXTRACT_UNLINK: the staging directory starts empty and MemberPolicy refuses
        // anything that would replace an earlier member. No FFLAGS: an immutable file would make
        // the staging directory impossible to clean up. No name lookup: owners stay numeric, as
        // WSL's `bsdtar --numeric-owner`. NOABSOLUTEPATHS cannot be set because we hand libarchive
        // absolute paths under the staging directory; MemberPolicy refuses absolute names itself.
        int flags = ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT
                    | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_XATTR
                    | ARCHIVE_EXTRACT_ACL;
        if (::geteuid() == 0)
        {
            flags |= ARCHIVE_EXTRACT_OWNER;
        }
        if (archive_write_disk_set_options(m_disk.get(), flags) != ARCHIVE_OK)
        {
            throw SystemError("setting up extraction", detail::archive_message(m_disk.get()));
        }
    }

    ExtractResult run()
    {
        if (archive_read_open_filename(m_reader.get(), m_archive.c_str(), 1U << 16U) != ARCHIVE_OK)
        {
            unreadable(fmt::format(
                "corrupt, or not a tar archive ({})", detail::archive_message(m_reader.get())));
        }
        std::error_code ec;
        const auto file_size = fs::file_size(m_archive, ec);
        Progress progress(
            fmt::format("Extracting {}", m_archive.filename().string()),
            ec ? 0 : file_size,
            m_options.progress);
        archive_entry* ae = nullptr;
        for (;;)
        {
            const int rc = archive_read_next_header(m_reader.get(), &ae);
            if (rc == ARCHIVE_EOF)
            {
                break;
            }
            if (rc < ARCHIVE_WARN)
            {
                unreadable(
                    m_last.empty() ? fmt::format(
                        "corrupt, or not a tar archive ({})",
                        detail::archive_message(m_reader.get()))
                                   : fmt::format(
                                       "corrupt or truncated after member {} ({})",
                                       m_last,
                                       detail::archive_message(m_reader.get())));
            }
            if (m_result.entries == 0)
            {
                check_room_for_archive();
            }
            extract_member(ae, progress);
        }
        finish();
        return m_result;
    }

private:
    [[noreturn]] void unreadable(const std::string& problem) const
    {
        throw UserError(
            fmt::format("{}: {}", m_name, problem),
            fmt::format(
                "download or build the image again; check it with: azurelinux image check {}",
                m_name));
    }

    void extract_member(archive_entry* ae, Progress& progress)
    {
        const char* raw_c = archive_entry_pathname(ae);
        if (raw_c == nullptr)
        {
            raw_c = archive_entry_pathname_utf8(ae);
        }
        const std::string raw = raw_c != nullptr ? raw_c : "";
        const Entry e = detail::entry_from_archive(ae);
        if (++m_result.entries > m_options.limits.max_entries)
        {
            m_policy.refuse(
                raw,
                fmt::format("the archive has more than {} entries", m_options.limits.max_entries));
        }
        const std::string path = m_policy.admit(raw, e.type, archive_entry_hardlink(ae));
        const auto declared = archive_entry_size_is_set(ae) != 0 ? archive_entry_size(ae) : 0;
        check_size(raw, declared > 0 ? static_cast<std::uint64_t>(declared) : 0);
        m_last = raw;
        m_root_seen = m_root_seen || path == ".";

        const fs::path target = path == "." ? m_root : m_root / path;
        archive_entry_set_pathname(ae, target.c_str());
        if (e.type == EntryType::hardlink)
        {
            archive_entry_set_hardlink(ae, (m_root / e.link_target).c_str());
        }
        const int rc = archive_write_header(m_disk.get(), ae);
        if (rc == ARCHIVE_FAILED && is_device(e.type) && archive_errno(m_disk.get()) == EPERM)
        {
            // Creating device nodes needs CAP_MKNOD; a rootless sandbox gets its /dev elsewhere.
            warn(fmt::format("skipped device node {}: not permitted to create device nodes", raw));
            return;
        }
        check_write(rc, raw);
        copy_data(raw, progress);
        check_write(archive_write_finish_entry(m_disk.get()), raw);
    }

    void check_size(const std::string& raw, std::uint64_t size)
    {
        if (size > m_options.limits.max_entry_bytes)
        {
            m_policy.refuse(
                raw,
                fmt::format(
                    "its {} exceed the limit of {} for one file",
                    human_bytes(size),
                    human_bytes(m_options.limits.max_entry_bytes)));
        }
        m_declared += size;
        // Every entry takes whole blocks: 3000 files of 3 bytes need 12 MiB, not 9 KiB. Only the
        // estimate counts blocks; the limit stays on content, so that file systems which pack
        // small files (btrfs inlining, compression) are never refused what fits.
        m_allocated += allocation(size);
        if (m_declared <= m_total.bytes)
        {
            return;
        }
        if (m_total.from_free_space)
        {
            throw no_space();
        }
        m_policy.refuse(
            raw,
            fmt::format(
                "the archive's content exceeds the limit of {}", human_bytes(m_total.bytes)));
    }

    void copy_data(const std::string& raw, Progress& progress)
    {
        for (;;)
        {
            const void* buf = nullptr;
            std::size_t size = 0;
            la_int64_t offset = 0;
            const int rc = archive_read_data_block(m_reader.get(), &buf, &size, &offset);
            if (rc == ARCHIVE_EOF)
            {
                return;
            }
            if (rc < ARCHIVE_WARN)
            {
                unreadable(fmt::format(
                    "corrupt or truncated in member {} ({})",
                    raw,
                    detail::archive_message(m_reader.get())));
            }
            if (archive_write_data_block(m_disk.get(), buf, size, offset) < ARCHIVE_OK)
            {
                throw_write_failure(raw);
            }
            m_result.bytes += size;
            progress.set(static_cast<std::uint64_t>(archive_filter_bytes(m_reader.get(), -1)));
        }
    }

    void check_write(int rc, const std::string& raw)
    {
        if (rc == ARCHIVE_OK)
        {
            return;
        }
        if (rc == ARCHIVE_WARN)
        {
            // E.g. attributes an unprivileged user cannot set (security.capability, trusted.*).
            warn(fmt::format("{}: {}", raw, detail::archive_message(m_disk.get())));
            return;
        }
        throw_write_failure(raw);
    }

    // Before the first byte is written: an uncompressed archive is exactly as big as its tar
    // stream; a compressed one is at least as big as the file (content rarely compresses below
    // the tree it unpacks to). Compressed sizes are then caught by check_size as members come.
    void check_room_for_archive() const
    {
        if (!m_total.from_free_space)
        {
            return;
        }
        std::error_code ec;
        const std::uint64_t size = fs::file_size(m_archive, ec);
        if (ec || size <= m_total.bytes)
        {
            return;
        }
        const bool exact = archive_filter_code(m_reader.get(), 0) == ARCHIVE_FILTER_NONE;
        throw NoSpaceError(
            m_dest, m_total.space, size, exact ? SizeEstimate::about : SizeEstimate::at_least);
    }

    // What an entry of `size` content bytes takes on disk, about.
    [[nodiscard]] std::uint64_t allocation(std::uint64_t size) const
    {
        const std::uint64_t block = m_total.space.block_size;
        return std::max<std::uint64_t>(1, (size + block - 1) / block) * block;
    }

    // The whole tree's size on disk, for a no-space error: the rest of a small archive is read
    // (headers only) to count it; a large one is extrapolated from how far we got in the file.
    [[nodiscard]] NoSpaceError no_space()
    {
        std::error_code ec;
        const std::uint64_t file_size = fs::file_size(m_archive, ec);
        const auto consumed = static_cast<std::uint64_t>(
            std::max<la_int64_t>(0, archive_filter_bytes(m_reader.get(), -1)));
        if (!ec && file_size - std::min(consumed, file_size) <= kCountRestLimit && count_rest())
        {
            return {m_dest, m_total.space, m_allocated, SizeEstimate::about};
        }
        const std::uint64_t known = std::max(m_allocated, m_result.bytes);
        if (!ec && consumed > 0 && known > 0)
        {
            const auto estimate = static_cast<std::uint64_t>(
                static_cast<double>(known) * static_cast<double>(file_size)
                / static_cast<double>(consumed));
            return {m_dest, m_total.space, std::max(estimate, known), SizeEstimate::about};
        }
        return {
            m_dest, m_total.space, std::max(m_declared, m_result.bytes), SizeEstimate::at_least};
    }

    // Adds the members not read yet to m_allocated; false when the archive does not read to its
    // end (then the count is partial).
    bool count_rest()
    {
        archive_entry* ae = nullptr;
        for (;;)
        {
            const int rc = archive_read_next_header(m_reader.get(), &ae);
            if (rc == ARCHIVE_EOF)
            {
                return true;
            }
            if (rc < ARCHIVE_WARN)
            {
                return false;
            }
            const auto declared = archive_entry_size_is_set(ae) != 0 ? archive_entry_size(ae) : 0;
            m_allocated += allocation(declared > 0 ? static_cast<std::uint64_t>(declared) : 0);
        }
    }

    [[noreturn]] void throw_write_failure(const std::string& raw)
    {
        if (is_no_space(archive_errno(m_disk.get())))
        {
            throw no_space();
        }
        throw UserError(
            fmt::format(
                "{}: cannot write member {}: {}",
                m_name,
                raw,
                detail::archive_message(m_disk.get())),
            fmt::format(
                "check the free space and permissions of {}", m_root.parent_path().string()));
    }

    void warn(const std::string& message)
    {
        if (++m_warnings <= kMaxLoggedWarnings)
        {
            logger("rootfs")->warn("{}: {}", m_name, message);
        }
    }

    void finish()
    {
        // Applies the deferred directory modes and times (read-only directories are created
        // writable first so that their content can go in).
        if (archive_write_close(m_disk.get()) != ARCHIVE_OK)
        {
            if (is_no_space(archive_errno(m_disk.get())))
            {
                throw no_space();
            }
            throw UserError(
                fmt::format(
                    "{}: finishing the extraction failed: {}",
                    m_name,
                    detail::archive_message(m_disk.get())),
                fmt::format(
                    "check the free space and permissions of {}", m_root.parent_path().string()));
        }
        if (!m_root_seen && ::chmod(m_root.c_str(), 0755) != 0)
        {
            throw_errno(fmt::format("setting the mode of {}", m_root.string()));
        }
        if (m_warnings > kMaxLoggedWarnings)
        {
            logger("rootfs")->warn(
                "{}: {} more warnings like these", m_name, m_warnings - kMaxLoggedWarnings);
        }
    }

    fs::path m_archive;
    std::string m_name;
    fs::path m_root;
    fs::path m_dest;
    const ExtractOptions& m_options;
    TotalLimit m_total;
    MemberPolicy m_policy;
    detail::ArchiveRead m_reader;
    detail::ArchiveWrite m_disk;
    ExtractResult m_result;
    std::uint64_t m_declared = 0;
    std::uint64_t m_allocated = 0; // m_declared in whole blocks, an entry at least one
    std::uint64_t m_warnings = 0;
    std::string m_last;
    bool m_root_seen = false;
};

// Renames the finished tree into place without ever replacing something that appeared meanwhile.
void rename_into_place(const fs::path& staging, const fs::path& dest)
{
    if (::renameat2(AT_FDCWD, staging.c_str(), AT_FDCWD, dest.c_str(), RENAME_NOREPLACE) == 0)
    {
        return;
    }
    const int err = errno;
    if (err == EEXIST)
    {
        throw UserError(
            fmt::format("{} appeared while extracting into it", dest.string()),
            "remove it or choose another location");
    }
    // Filesystems without RENAME_NOREPLACE: rename(2) replaces only an empty directory.
    if (err != EINVAL && err != ENOSYS)
    {
        throw SystemError::from_errno(
            fmt::format("renaming {} to {}", staging.string(), dest.string()), err);
    }
    if (fs::exists(fs::symlink_status(dest)))
    {
        throw UserError(
            fmt::format("{} appeared while extracting into it", dest.string()),
            "remove it or choose another location");
    }
    if (::rename(staging.c_str(), dest.c_str()) != 0)
    {
        throw_errno(fmt::format("renaming {} to {}", staging.string(), dest.string()));
    }
}

// Flushes the extracted tree and the rename to disk: an install must survive a crash whole.
void sync_tree(const fs::path& dir)
{
    const UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd || ::syncfs(fd.get()) != 0)
    {
        throw_errno(fmt::format("flushing {} to disk", dir.string()));
    }
}

// Makes the rename durable. The tree is in place already, so a failure here is
// only worth a warning.
void sync_directory(const fs::path& dir)
{
    const UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd || ::fsync(fd.get()) != 0)
    {
        logger("rootfs")->warn("flushing {} to disk: {}", dir.string(), std::strerror(errno));
    }
}

} // namespace

ExtractResult
extract_archive(const fs::path& archive, const fs::path& dest, const ExtractOptions& options)
{
    fs::path target = fs::absolute(dest).lexically_normal();
    if (!target.has_filename()) // "dir/"
    {
        target = target.parent_path();
    }
    if (fs::exists(fs::symlink_status(target)))
    {
        throw UserError(
            fmt::format("{} already exists", dest.string()),
            "extract into a new directory: remove it or choose another location");
    }
    const fs::path parent = target.parent_path();
    if (!fs::is_directory(parent))
    {
        throw UserError(
            fmt::format("the directory {} does not exist", parent.string()), "create it first");
    }
    if (!fs::is_regular_file(archive))
    {
        throw UserError(
            fmt::format("{}: no such file", archive.string()),
            "give the path of a .wsl or tar archive");
    }
    TempDir staging(target.filename().string() + ".partial", parent);
    // Resolved so that libarchive's symlink checks never meet a symlink in our own prefix.
    const fs::path root = fs::canonical(staging.path());
    ExtractResult result;
    {
        Extractor extractor(archive, root, target, options);
        result = extractor.run();
    }
    sync_tree(root);
    rename_into_place(root, target);
    staging.release();
    sync_directory(parent);
    return result;
}

} // namespace azl::rootfs
