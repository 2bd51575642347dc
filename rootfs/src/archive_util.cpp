#include "archive_util.hpp"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <new>

namespace azl::rootfs::detail
{

namespace
{

void check_setup(archive* a, int rc)
{
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN)
    {
        throw std::runtime_error("libarchive set-up failed: " + archive_message(a));
    }
}

} // namespace

ArchiveRead new_tar_reader()
{
    ArchiveRead a(archive_read_new());
    if (!a)
    {
        throw std::bad_alloc();
    }
    check_setup(a.get(), archive_read_support_format_tar(a.get()));
    check_setup(a.get(), archive_read_support_filter_gzip(a.get()));
    check_setup(a.get(), archive_read_support_filter_xz(a.get()));
    check_setup(a.get(), archive_read_support_filter_zstd(a.get()));
    check_setup(a.get(), archive_read_support_filter_bzip2(a.get()));
    return a;
}

ArchiveRead new_raw_reader()
{
    ArchiveRead a(archive_read_new());
    if (!a)
    {
        throw std::bad_alloc();
    }
    check_setup(a.get(), archive_read_support_format_raw(a.get()));
    check_setup(a.get(), archive_read_support_filter_gzip(a.get()));
    check_setup(a.get(), archive_read_support_filter_xz(a.get()));
    check_setup(a.get(), archive_read_support_filter_zstd(a.get()));
    check_setup(a.get(), archive_read_support_filter_bzip2(a.get()));
    return a;
}

ArchiveEntryPtr new_entry()
{
    ArchiveEntryPtr e(archive_entry_new());
    if (!e)
    {
        throw std::bad_alloc();
    }
    return e;
}

std::string archive_message(archive* a)
{
    const char* msg = a != nullptr ? archive_error_string(a) : nullptr;
    return msg != nullptr ? std::string(msg) : std::string("unknown libarchive error");
}

Entry entry_from_archive(archive_entry* ae)
{
    Entry e;
    const char* raw = archive_entry_pathname(ae);
    const std::string name = raw != nullptr ? raw : "";
    e.path = normalize_path(name).value_or(name);
    const char* hardlink = archive_entry_hardlink(ae);
    if (hardlink != nullptr)
    {
        e.type = EntryType::hardlink;
        e.link_target = normalize_path(hardlink).value_or(hardlink);
    }
    else
    {
        switch (archive_entry_filetype(ae))
        {
        case AE_IFDIR:
            e.type = EntryType::directory;
            break;
        case AE_IFLNK:
            e.type = EntryType::symlink;
            if (const char* target = archive_entry_symlink(ae))
            {
                e.link_target = target;
            }
            break;
        case AE_IFCHR:
            e.type = EntryType::char_device;
            break;
        case AE_IFBLK:
            e.type = EntryType::block_device;
            break;
        case AE_IFIFO:
            e.type = EntryType::fifo;
            break;
        default:
            e.type = EntryType::file;
            e.size = archive_entry_size_is_set(ae) != 0
                         ? static_cast<std::uint64_t>(archive_entry_size(ae))
                         : 0;
            break;
        }
    }
    e.mode = static_cast<std::uint32_t>(archive_entry_perm(ae)) & 07777U;
    e.uid = static_cast<std::uint32_t>(archive_entry_uid(ae));
    e.gid = static_cast<std::uint32_t>(archive_entry_gid(ae));
    if (const char* u = archive_entry_uname(ae))
    {
        e.uname = u;
    }
    if (const char* g = archive_entry_gname(ae))
    {
        e.gname = g;
    }
    if (archive_entry_mtime_is_set(ae) != 0)
    {
        e.mtime = archive_entry_mtime(ae);
        e.mtime_nsec = archive_entry_mtime_nsec(ae);
    }
    if (e.type == EntryType::char_device || e.type == EntryType::block_device)
    {
        e.rdev_major = static_cast<std::uint32_t>(archive_entry_rdevmajor(ae));
        e.rdev_minor = static_cast<std::uint32_t>(archive_entry_rdevminor(ae));
    }
    if (archive_entry_xattr_reset(ae) > 0)
    {
        const char* xname = nullptr;
        const void* value = nullptr;
        std::size_t size = 0;
        while (archive_entry_xattr_next(ae, &xname, &value, &size) == ARCHIVE_OK)
        {
            e.xattrs.push_back({xname, std::string(static_cast<const char*>(value), size)});
        }
        // libarchive's own writer stores each attribute twice (SCHILY.xattr and LIBARCHIVE.xattr)
        // and its 3.6 reader returns both: keep one per name, the last one read,
        // as extraction would.
        std::stable_sort(
            e.xattrs.begin(),
            e.xattrs.end(),
            [](const Xattr& a, const Xattr& b) { return a.name < b.name; });
        const auto last_of_each = [&e]
        {
            std::vector<Xattr> unique;
            for (auto& x : e.xattrs)
            {
                if (!unique.empty() && unique.back().name == x.name)
                {
                    unique.back() = std::move(x);
                }
                else
                {
                    unique.push_back(std::move(x));
                }
            }
            return unique;
        };
        e.xattrs = last_of_each();
    }
    return e;
}

void entry_to_archive(const Entry& e, archive_entry* ae)
{
    archive_entry_set_pathname(ae, e.path.c_str());
    archive_entry_set_perm(ae, static_cast<mode_t>(e.mode & 07777U));
    archive_entry_set_uid(ae, e.uid);
    archive_entry_set_gid(ae, e.gid);
    if (!e.uname.empty())
    {
        archive_entry_set_uname(ae, e.uname.c_str());
    }
    if (!e.gname.empty())
    {
        archive_entry_set_gname(ae, e.gname.c_str());
    }
    archive_entry_set_mtime(ae, e.mtime, static_cast<long>(e.mtime_nsec));
    switch (e.type)
    {
    case EntryType::file:
        archive_entry_set_filetype(ae, AE_IFREG);
        archive_entry_set_size(ae, static_cast<la_int64_t>(e.size));
        break;
    case EntryType::directory:
        archive_entry_set_filetype(ae, AE_IFDIR);
        archive_entry_set_size(ae, 0);
        break;
    case EntryType::symlink:
        archive_entry_set_filetype(ae, AE_IFLNK);
        archive_entry_set_symlink(ae, e.link_target.c_str());
        archive_entry_set_size(ae, 0);
        break;
    case EntryType::hardlink:
        archive_entry_set_filetype(ae, AE_IFREG);
        archive_entry_set_hardlink(ae, e.link_target.c_str());
        archive_entry_set_size(ae, 0);
        break;
    case EntryType::char_device:
        archive_entry_set_filetype(ae, AE_IFCHR);
        archive_entry_set_rdevmajor(ae, e.rdev_major);
        archive_entry_set_rdevminor(ae, e.rdev_minor);
        break;
    case EntryType::block_device:
        archive_entry_set_filetype(ae, AE_IFBLK);
        archive_entry_set_rdevmajor(ae, e.rdev_major);
        archive_entry_set_rdevminor(ae, e.rdev_minor);
        break;
    case EntryType::fifo:
        archive_entry_set_filetype(ae, AE_IFIFO);
        break;
    }
    for (const auto& x : e.xattrs)
    {
        archive_entry_xattr_add_entry(ae, x.name.c_str(), x.value.data(), x.value.size());
    }
}

std::string filter_name(archive* a)
{
    const int count = archive_filter_count(a);
    if (count <= 1)
    {
        return "none";
    }
    switch (archive_filter_code(a, 0))
    {
    case ARCHIVE_FILTER_GZIP:
        return "gzip";
    case ARCHIVE_FILTER_XZ:
        return "xz";
    case ARCHIVE_FILTER_ZSTD:
        return "zstd";
    case ARCHIVE_FILTER_BZIP2:
        return "bzip2";
    case ARCHIVE_FILTER_NONE:
        return "none";
    default:
        return archive_filter_name(a, 0) != nullptr ? archive_filter_name(a, 0) : "unknown";
    }
}

} // namespace azl::rootfs::detail
