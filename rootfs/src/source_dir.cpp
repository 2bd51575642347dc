// A host directory tree as a layer: walked in sorted order (deterministic), lstat'ed, with
// extended attributes, hard links found by (device, inode), and content read with O_NOFOLLOW.

#include "source_internal.hpp"

#include <azl/common/error.hpp>
#include <azl/common/log.hpp>

#include <fmt/format.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>

namespace azl::rootfs::detail
{

namespace
{

using DirPtr = UniqueCPtr<DIR, &closedir>;

[[noreturn]] void unreadable(const std::string& path, const char* what, int err)
{
    throw UserError(
        fmt::format("{}: cannot {}: {}", path, what, std::strerror(err)),
        err == EACCES ? "run as root or make the tree readable" : "");
}

std::vector<std::string> sorted_names(const std::string& dir)
{
    DirPtr d(::opendir(dir.c_str()));
    if (!d)
    {
        unreadable(dir, "read the directory", errno);
    }
    std::vector<std::string> names;
    for (;;)
    {
        errno = 0;
        const dirent* ent = ::readdir(d.get());
        if (ent == nullptr)
        {
            if (errno != 0)
            {
                unreadable(dir, "read the directory", errno);
            }
            break;
        }
        const std::string_view name = ent->d_name;
        if (name != "." && name != "..")
        {
            names.emplace_back(name);
        }
    }
    std::sort(names.begin(), names.end());
    return names;
}

// Returns false when the filesystem keeps no attributes.
bool list_xattr_names(const std::string& path, std::vector<std::string>& names)
{
    std::vector<char> buf;
    for (;;)
    {
        const ssize_t size = ::llistxattr(path.c_str(), nullptr, 0);
        if (size < 0)
        {
            if (errno == ENOTSUP)
            {
                return false;
            }
            unreadable(path, "list extended attributes", errno);
        }
        buf.resize(static_cast<std::size_t>(size));
        const ssize_t got = size == 0 ? 0 : ::llistxattr(path.c_str(), buf.data(), buf.size());
        if (got < 0 && errno == ERANGE)
        {
            continue; // grew in between
        }
        if (got < 0)
        {
            unreadable(path, "list extended attributes", errno);
        }
        for (std::size_t i = 0; i < static_cast<std::size_t>(got);)
        {
            const std::string name(buf.data() + i);
            i += name.size() + 1;
            names.push_back(name);
        }
        return true;
    }
}

std::vector<Xattr> read_xattrs(const std::string& path)
{
    std::vector<std::string> names;
    std::vector<Xattr> out;
    if (!list_xattr_names(path, names))
    {
        return out;
    }
    for (const auto& name : names)
    {
        // The host's SELinux label belongs to the host's policy, not to the image.
        if (name == "security.selinux")
        {
            continue;
        }
        for (;;)
        {
            const ssize_t size = ::lgetxattr(path.c_str(), name.c_str(), nullptr, 0);
            if (size < 0 && errno == ENODATA)
            {
                break; // removed in between
            }
            if (size < 0)
            {
                unreadable(path, "read extended attributes", errno);
            }
            std::string value(static_cast<std::size_t>(size), '\0');
            const ssize_t got =
                size == 0 ? 0 : ::lgetxattr(path.c_str(), name.c_str(), value.data(), value.size());
            if (got < 0 && errno == ERANGE)
            {
                continue;
            }
            if (got < 0)
            {
                unreadable(path, "read extended attributes", errno);
            }
            value.resize(static_cast<std::size_t>(got));
            out.push_back({name, std::move(value)});
            break;
        }
    }
    std::sort(
        out.begin(), out.end(), [](const Xattr& a, const Xattr& b) { return a.name < b.name; });
    return out;
}

std::string read_link(const std::string& path, std::size_t hint)
{
    std::string target(std::max<std::size_t>(hint, 64) + 1, '\0');
    for (;;)
    {
        const ssize_t n = ::readlink(path.c_str(), target.data(), target.size());
        if (n < 0)
        {
            unreadable(path, "read the symbolic link", errno);
        }
        if (static_cast<std::size_t>(n) < target.size())
        {
            target.resize(static_cast<std::size_t>(n));
            return target;
        }
        target.resize(target.size() * 2);
    }
}

class TreeReader final : public LayerReader
{
public:
    TreeReader(std::filesystem::path root, const DirLayerOptions& options)
        : m_root(std::move(root))
        , m_options(options)
        , m_pending(implicit_parents(options.dest))
    {
    }

    bool next(Entry& entry) override
    {
        m_file = UniqueFd();
        m_done = 0;
        if (m_next_pending < m_pending.size())
        {
            entry = m_pending.at(m_next_pending++);
            return true;
        }
        if (!m_started)
        {
            m_started = true;
            emit("", entry);
            return true;
        }
        while (!m_stack.empty())
        {
            Frame& top = m_stack.back();
            if (top.next == top.names.size())
            {
                m_stack.pop_back();
                continue;
            }
            const std::string rel =
                top.rel.empty() ? top.names.at(top.next) : top.rel + "/" + top.names.at(top.next);
            ++top.next;
            if (emit(rel, entry))
            {
                return true;
            }
        }
        return false;
    }

    std::size_t read(std::span<std::byte> buf) override
    {
        if (m_done >= m_size)
        {
            return 0;
        }
        if (!m_file)
        {
            m_file = UniqueFd(::open(m_host.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY));
            if (!m_file)
            {
                unreadable(m_host, "open", errno);
            }
            ::posix_fadvise(m_file.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
        }
        const std::size_t want =
            static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), m_size - m_done));
        ssize_t n = 0;
        do
        {
            n = ::read(m_file.get(), buf.data(), want);
        } while (n < 0 && errno == EINTR);
        if (n < 0)
        {
            unreadable(m_host, "read", errno);
        }
        if (n == 0)
        {
            throw UserError(
                fmt::format("{}: shrank while being read", m_host),
                "do not modify the tree during a build");
        }
        m_done += static_cast<std::uint64_t>(n);
        return static_cast<std::size_t>(n);
    }

private:
    struct Frame
    {
        std::string rel;
        std::vector<std::string> names;
        std::size_t next = 0;
    };

    [[nodiscard]] std::string image_path(const std::string& rel) const
    {
        if (m_options.dest == ".")
        {
            return rel.empty() ? std::string(".") : rel;
        }
        return rel.empty() ? m_options.dest : m_options.dest + "/" + rel;
    }

    // Fills `entry` for the host object at `rel` ("" is the root); false for skipped sockets.
    bool emit(const std::string& rel, Entry& entry)
    {
        m_host = rel.empty() ? m_root.string() : (m_root / rel).string();

        struct stat st
        {
        };

        if (::lstat(m_host.c_str(), &st) != 0)
        {
            unreadable(m_host, "stat", errno);
        }
        if (S_ISSOCK(st.st_mode))
        {
            logger("rootfs")->debug("{}: skipping socket", m_host);
            return false;
        }
        entry = Entry{};
        entry.path = image_path(rel);
        entry.mode = st.st_mode & 07777U;
        entry.uid = m_options.force_root_owner ? 0 : st.st_uid;
        entry.gid = m_options.force_root_owner ? 0 : st.st_gid;
        entry.mtime = st.st_mtim.tv_sec;
        entry.mtime_nsec = st.st_mtim.tv_nsec;
        entry.xattrs = read_xattrs(m_host);
        m_size = 0;
        if (S_ISDIR(st.st_mode))
        {
            entry.type = EntryType::directory;
            if (rel.empty() && m_options.root_implicit)
            {
                entry = implicit_directory(entry.path);
            }
            m_stack.push_back(Frame{rel, sorted_names(m_host), 0});
            return true;
        }
        if (st.st_nlink > 1)
        {
            const auto [it, inserted] = m_links.try_emplace({st.st_dev, st.st_ino}, entry.path);
            if (!inserted)
            {
                entry.type = EntryType::hardlink;
                entry.link_target = it->second;
                return true;
            }
        }
        if (S_ISREG(st.st_mode))
        {
            entry.type = EntryType::file;
            entry.size = static_cast<std::uint64_t>(st.st_size);
            m_size = entry.size;
        }
        else if (S_ISLNK(st.st_mode))
        {
            entry.type = EntryType::symlink;
            entry.link_target = read_link(m_host, static_cast<std::size_t>(st.st_size));
        }
        else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
        {
            entry.type = S_ISCHR(st.st_mode) ? EntryType::char_device : EntryType::block_device;
            entry.rdev_major = major(st.st_rdev);
            entry.rdev_minor = minor(st.st_rdev);
        }
        else if (S_ISFIFO(st.st_mode))
        {
            entry.type = EntryType::fifo;
        }
        else
        {
            logger("rootfs")->debug("{}: skipping object of unknown type", m_host);
            return false;
        }
        return true;
    }

    std::filesystem::path m_root;
    DirLayerOptions m_options;
    std::vector<Entry> m_pending; // implicit parents of dest
    std::size_t m_next_pending = 0;
    bool m_started = false;
    std::vector<Frame> m_stack;
    std::map<std::pair<dev_t, ino_t>, std::string> m_links;
    std::string m_host; // the current object's host path
    std::uint64_t m_size = 0;
    std::uint64_t m_done = 0;
    UniqueFd m_file;
};

class TreeLayer final : public Layer
{
public:
    TreeLayer(std::filesystem::path root, DirLayerOptions options)
        : m_root(std::move(root))
        , m_options(std::move(options))
    {
    }

    [[nodiscard]] std::unique_ptr<LayerReader> open() const override
    {
        return std::make_unique<TreeReader>(m_root, m_options);
    }

    [[nodiscard]] std::string describe() const override
    {
        return m_root.string() + "/";
    }

private:
    std::filesystem::path m_root;
    DirLayerOptions m_options;
};

} // namespace

std::unique_ptr<Layer> make_tree_layer(const std::filesystem::path& root, DirLayerOptions options)
{
    // The walk lstat()s everything, so a root given as a symlink to a directory is resolved first.
    UniqueCPtr<char, &::free> resolved(::realpath(root.c_str(), nullptr));
    if (!resolved)
    {
        unreadable(root.string(), "resolve the path", errno);
    }

    struct stat st
    {
    };

    if (::stat(resolved.get(), &st) != 0 || !S_ISDIR(st.st_mode))
    {
        throw UserError(fmt::format("{}: not a directory", root.string()));
    }
    return std::make_unique<TreeLayer>(resolved.get(), std::move(options));
}

Entry implicit_directory(std::string path)
{
    Entry e;
    e.path = std::move(path);
    e.type = EntryType::directory;
    e.mode = 0755;
    e.implicit = true;
    return e;
}

std::vector<Entry> implicit_parents(const std::string& path)
{
    std::vector<Entry> out;
    if (path == ".")
    {
        return out;
    }
    for (std::size_t slash = path.find('/'); slash != std::string::npos;
         slash = path.find('/', slash + 1))
    {
        out.push_back(implicit_directory(path.substr(0, slash)));
    }
    return out;
}

} // namespace azl::rootfs::detail
