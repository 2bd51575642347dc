// Layers made from the command line: --add (one host file), --add-dir (a host tree) and --remove
// (OCI whiteouts).

#include "source_internal.hpp"

#include <azl/common/error.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace azl::rootfs
{

namespace
{

// A fixed list of entries; file entries read their content from one host file.
class ListReader final : public LayerReader
{
public:
    // Copies what it reads, so it may outlive its layer.
    ListReader(std::vector<Entry> entries, std::filesystem::path content_file)
        : m_entries(std::move(entries))
        , m_content_file(std::move(content_file))
    {
    }

    bool next(Entry& entry) override
    {
        if (m_next == m_entries.size())
        {
            return false;
        }
        entry = m_entries.at(m_next++);
        m_remaining = entry.type == EntryType::file ? entry.size : 0;
        m_fd = UniqueFd();
        return true;
    }

    std::size_t read(std::span<std::byte> buf) override
    {
        if (m_remaining == 0)
        {
            return 0;
        }
        const std::string name = m_content_file.string();
        if (!m_fd)
        {
            m_fd = UniqueFd(::open(m_content_file.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
            if (!m_fd)
            {
                throw UserError(fmt::format("{}: cannot open: {}", name, std::strerror(errno)));
            }
        }
        ssize_t n = 0;
        do
        {
            n = ::read(
                m_fd.get(),
                buf.data(),
                static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), m_remaining)));
        } while (n < 0 && errno == EINTR);
        if (n < 0)
        {
            throw UserError(fmt::format("{}: cannot read: {}", name, std::strerror(errno)));
        }
        if (n == 0)
        {
            throw UserError(
                fmt::format("{}: shrank while being read", name),
                "do not modify it during a build");
        }
        m_remaining -= static_cast<std::uint64_t>(n);
        return static_cast<std::size_t>(n);
    }

private:
    std::vector<Entry> m_entries;
    std::filesystem::path m_content_file;
    std::size_t m_next = 0;
    std::uint64_t m_remaining = 0;
    UniqueFd m_fd;
};

class ListLayer final : public Layer
{
public:
    ListLayer(
        std::vector<Entry> entries,
        std::filesystem::path content_file,
        std::string name,
        bool removal)
        : m_entries(std::move(entries))
        , m_content_file(std::move(content_file))
        , m_name(std::move(name))
        , m_removal(removal)
    {
    }

    [[nodiscard]] std::unique_ptr<LayerReader> open() const override
    {
        return std::make_unique<ListReader>(m_entries, m_content_file);
    }

    [[nodiscard]] std::string describe() const override
    {
        return m_name;
    }

    [[nodiscard]] bool reports_unmatched_whiteouts() const override
    {
        return m_removal;
    }

private:
    std::vector<Entry> m_entries;
    std::filesystem::path m_content_file;
    std::string m_name;
    bool m_removal;
};

// Normalizes a user-given image path; `what` names the option in messages ("--add destination").
std::string image_path(const std::string& given, const char* what, bool allow_root)
{
    const auto path = normalize_path(given);
    if (!path)
    {
        throw UserError(
            fmt::format("{} '{}' leaves the image root", what, given),
            "use a path inside the image, e.g. /usr/local/bin/tool");
    }
    if (*path == "." && !allow_root)
    {
        throw UserError(
            fmt::format("{} '{}' is the image root itself", what, given),
            "name a path inside the image");
    }
    return *path;
}

struct stat stat_or_throw(const std::filesystem::path& path)
{
    struct stat st
    {
    };

    if (::stat(path.c_str(), &st) != 0)
    {
        throw UserError(fmt::format("{}: cannot open: {}", path.string(), std::strerror(errno)));
    }
    return st;
}

} // namespace

std::unique_ptr<Layer> make_file_layer(
    const std::filesystem::path& host_file,
    const std::string& dest,
    std::optional<std::uint32_t> mode)
{
    const std::string path = image_path(dest, "--add destination", false);
    const struct stat st = stat_or_throw(host_file);
    if (!S_ISREG(st.st_mode))
    {
        throw UserError(
            fmt::format("{}: not a regular file", host_file.string()),
            "--add takes a file; use --add-dir for a directory");
    }
    if (::access(host_file.c_str(), R_OK) != 0)
    {
        throw UserError(
            fmt::format("{}: cannot read: {}", host_file.string(), std::strerror(errno)));
    }
    std::vector<Entry> entries = detail::implicit_parents(path);
    Entry file;
    file.path = path;
    file.type = EntryType::file;
    file.mode = mode ? (*mode & 07777U) : (st.st_mode & 07777U);
    file.mtime = st.st_mtim.tv_sec;
    file.mtime_nsec = st.st_mtim.tv_nsec;
    file.size = static_cast<std::uint64_t>(st.st_size);
    entries.push_back(std::move(file));
    return std::make_unique<ListLayer>(
        std::move(entries),
        host_file,
        fmt::format("{} (added as /{})", host_file.string(), path),
        false);
}

std::unique_ptr<Layer>
make_directory_layer(const std::filesystem::path& host_dir, const std::string& dest)
{
    const std::string path = image_path(dest, "--add-dir destination", true);
    if (!S_ISDIR(stat_or_throw(host_dir).st_mode))
    {
        throw UserError(
            fmt::format("{}: not a directory", host_dir.string()),
            "--add-dir takes a directory; use --add for a file");
    }
    return detail::make_tree_layer(
        host_dir,
        detail::DirLayerOptions{.dest = path, .force_root_owner = true, .root_implicit = true});
}

std::unique_ptr<Layer> make_removal_layer(const std::vector<std::string>& paths)
{
    std::vector<Entry> entries;
    for (const auto& given : paths)
    {
        const std::string path = image_path(given, "--remove path", false);
        const std::string parent = parent_path(path);
        const std::string base = path.substr(parent == "." ? 0 : parent.size() + 1);
        if (base.starts_with(".wh."))
        {
            throw UserError(fmt::format(
                "--remove path '{}': names starting with .wh. are reserved for whiteouts", given));
        }
        Entry whiteout;
        whiteout.path =
            parent == "." ? fmt::format(".wh.{}", base) : fmt::format("{}/.wh.{}", parent, base);
        entries.push_back(std::move(whiteout));
    }
    return std::make_unique<ListLayer>(
        std::move(entries), std::filesystem::path(), "--remove", true);
}

} // namespace azl::rootfs
