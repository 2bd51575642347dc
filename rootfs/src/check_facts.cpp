// One pass over an image — an archive read member by member with its raw names, or a directory
// walked without following symlinks — collecting what the rules of `image check` judge.

#include "archive_util.hpp"
#include "check_internal.hpp"

#include <azl/common/error.hpp>
#include <azl/common/fs.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <set>
#include <utility>

namespace azl::rootfs::check_detail
{

namespace fs = std::filesystem;

namespace
{

// Larger configuration files are read only this far: enough for any real passwd or os-release.
constexpr std::size_t kCaptureLimit = 4U << 20U;

constexpr std::array<std::string_view, 7> kCapturedFiles = {
    "etc/passwd",
    "etc/group",
    "etc/shadow",
    "etc/os-release",
    "usr/lib/os-release",
    "etc/wsl.conf",
    "etc/wsl-distribution.conf",
};

[[noreturn]] void unusable(const fs::path& input, const std::string& problem)
{
    throw UserError(
        fmt::format("{}: {}", input.string(), problem),
        "image check reads a tar archive (.wsl, .tar, .tar.gz, .tar.xz, .tar.zst) or an unpacked "
        "root directory",
        ExitCode::usage);
}

void probe_elf(Member& m, std::string_view head)
{
    if (const auto elf = parse_elf_header(head))
    {
        m.elf_probe = ElfProbe::elf;
        m.elf = *elf;
    }
    else
    {
        m.elf_probe = ElfProbe::not_elf;
    }
}

// ---- archives -------------------------------------------------------------------------------

// Reads up to `limit` bytes of the current member's content.
std::string read_prefix(archive* a, std::size_t limit, const fs::path& input, const Member& m)
{
    std::string out;
    std::array<char, 16384> buf{};
    while (out.size() < limit)
    {
        const std::size_t want = std::min(buf.size(), limit - out.size());
        const la_ssize_t n = archive_read_data(a, buf.data(), want);
        if (n < 0)
        {
            unusable(
                input,
                fmt::format(
                    "corrupt or truncated in member {} ({})", m.raw, detail::archive_message(a)));
        }
        if (n == 0)
        {
            break;
        }
        out.append(buf.data(), static_cast<std::size_t>(n));
    }
    return out;
}

Member member_from_archive(archive_entry* ae)
{
    const Entry e = detail::entry_from_archive(ae);
    Member m;
    const char* raw = archive_entry_pathname(ae);
    if (raw == nullptr)
    {
        raw = archive_entry_pathname_utf8(ae);
    }
    m.raw = raw != nullptr ? raw : "";
    m.path = e.path;
    m.type = e.type;
    m.mode = e.mode;
    m.uid = e.uid;
    m.gid = e.gid;
    m.size = e.size;
    if (e.type == EntryType::hardlink)
    {
        const char* target = archive_entry_hardlink(ae);
        m.link_target = target != nullptr ? target : "";
        m.hardlink_path = e.link_target;
    }
    else
    {
        m.link_target = e.link_target;
    }
    for (const auto& x : e.xattrs)
    {
        m.xattr_names.push_back(x.name);
    }
    return m;
}

void collect_archive(ImageFacts& facts)
{
    const fs::path& input = facts.input;
    detail::ArchiveRead a = detail::new_tar_reader();
    if (archive_read_open_filename(a.get(), input.c_str(), 1U << 16U) != ARCHIVE_OK)
    {
        unusable(
            input,
            fmt::format("corrupt, or not a tar archive ({})", detail::archive_message(a.get())));
    }
    facts.compression = detail::filter_name(a.get());
    for (;;)
    {
        archive_entry* ae = nullptr;
        const int rc = archive_read_next_header(a.get(), &ae);
        if (rc == ARCHIVE_EOF)
        {
            break;
        }
        if (rc < ARCHIVE_WARN)
        {
            unusable(
                input,
                facts.members.empty() ? fmt::format(
                    "corrupt, or not a tar archive ({})", detail::archive_message(a.get()))
                                      : fmt::format(
                                          "corrupt or truncated after member {} ({})",
                                          facts.members.back().raw,
                                          detail::archive_message(a.get())));
        }
        Member m = member_from_archive(ae);
        if (m.type == EntryType::file)
        {
            facts.content_bytes += m.size;
            const bool capture = captured_path(m.path);
            if (m.size > 0)
            {
                const std::string head =
                    read_prefix(a.get(), capture ? kCaptureLimit + 1 : kElfProbeBytes, input, m);
                probe_elf(m, head);
                if (capture)
                {
                    CapturedFile& f = facts.files[m.path];
                    f.truncated = head.size() > kCaptureLimit;
                    f.content = head.substr(0, kCaptureLimit);
                }
            }
            else
            {
                m.elf_probe = ElfProbe::not_elf;
                if (capture)
                {
                    facts.files[m.path] = CapturedFile{};
                }
            }
        }
        facts.members.push_back(std::move(m));
    }
}

// ---- directories ----------------------------------------------------------------------------

// Reads up to `limit` bytes of a regular file without following a symlink put there meanwhile;
// nullopt with `err` set when it cannot be read.
std::optional<std::string> read_host_prefix(const fs::path& file, std::size_t limit, int& err)
{
    UniqueFd fd(::open(file.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY));
    if (!fd)
    {
        err = errno;
        return std::nullopt;
    }
    std::string out(limit, '\0');
    std::size_t got = 0;
    while (got < limit)
    {
        const ssize_t n = ::read(fd.get(), out.data() + got, limit - got);
        if (n < 0 && errno == EINTR)
        {
            continue;
        }
        if (n < 0)
        {
            err = errno;
            return std::nullopt;
        }
        if (n == 0)
        {
            break;
        }
        got += static_cast<std::size_t>(n);
    }
    out.resize(got);
    return out;
}

std::vector<std::string> xattr_names(const fs::path& file)
{
    std::vector<std::string> names;
    const ssize_t size = ::llistxattr(file.c_str(), nullptr, 0);
    if (size <= 0)
    {
        return names;
    }
    std::string buf(static_cast<std::size_t>(size), '\0');
    const ssize_t got = ::llistxattr(file.c_str(), buf.data(), buf.size());
    if (got <= 0)
    {
        return names;
    }
    buf.resize(static_cast<std::size_t>(got));
    for (std::size_t i = 0; i < buf.size();)
    {
        const std::size_t end = std::min(buf.find('\0', i), buf.size());
        if (end > i)
        {
            names.emplace_back(buf.substr(i, end - i));
        }
        i = end + 1;
    }
    std::sort(names.begin(), names.end());
    return names;
}

class DirectoryWalker
{
public:
    explicit DirectoryWalker(ImageFacts& facts)
        : m_facts(facts)
    {
    }

    void walk()
    {
        struct stat st = {};
        // The root is what the user named: follow it if it is a symlink, unlike anything below.
        if (::stat(m_facts.input.c_str(), &st) != 0)
        {
            unusable(m_facts.input, std::strerror(errno));
        }
        add(".", st);
        std::vector<std::string> pending = {"."};
        while (!pending.empty())
        {
            const std::string dir = std::move(pending.back());
            pending.pop_back();
            std::vector<std::string> subdirs = list(dir);
            // Reversed so that directories are visited in name order.
            pending.insert(pending.end(), subdirs.rbegin(), subdirs.rend());
        }
    }

private:
    [[nodiscard]] fs::path host(const std::string& rel) const
    {
        return rel == "." ? m_facts.input : m_facts.input / rel;
    }

    // Adds the children of `dir`, returns its subdirectories.
    std::vector<std::string> list(const std::string& dir)
    {
        std::vector<std::string> names;
        std::error_code ec;
        for (fs::directory_iterator it(host(dir), ec), end; !ec && it != end; it.increment(ec))
        {
            names.push_back(it->path().filename().string());
        }
        if (ec)
        {
            m_facts.unreadable.push_back(
                fmt::format("cannot list {}: {}", image_path(dir), ec.message()));
        }
        std::sort(names.begin(), names.end());
        std::vector<std::string> subdirs;
        for (const auto& name : names)
        {
            const std::string rel = dir == "." ? name : fmt::format("{}/{}", dir, name);
            struct stat st = {};
            if (::lstat(host(rel).c_str(), &st) != 0)
            {
                m_facts.unreadable.push_back(
                    fmt::format("cannot stat {}: {}", image_path(rel), std::strerror(errno)));
                continue;
            }
            if (add(rel, st) && S_ISDIR(st.st_mode))
            {
                subdirs.push_back(rel);
            }
        }
        return subdirs;
    }

    // Records one object; false for sockets, which tar archives cannot hold.
    bool add(const std::string& rel, const struct stat& st)
    {
        Member m;
        m.raw = rel;
        m.path = rel;
        m.mode = st.st_mode & 07777U;
        m.uid = st.st_uid;
        m.gid = st.st_gid;
        m.xattr_names = xattr_names(host(rel));
        switch (st.st_mode & S_IFMT)
        {
        case S_IFDIR:
            m.type = EntryType::directory;
            break;
        case S_IFLNK:
            m.type = EntryType::symlink;
            m.link_target = read_link(rel);
            break;
        case S_IFCHR:
            m.type = EntryType::char_device;
            break;
        case S_IFBLK:
            m.type = EntryType::block_device;
            break;
        case S_IFIFO:
            m.type = EntryType::fifo;
            break;
        case S_IFREG:
            add_regular(m, st);
            break;
        default:
            return false;
        }
        m_facts.members.push_back(std::move(m));
        return true;
    }

    void add_regular(Member& m, const struct stat& st)
    {
        if (st.st_nlink > 1)
        {
            const auto [it, first] = m_inodes.try_emplace({st.st_dev, st.st_ino}, m.path);
            if (!first)
            {
                m.type = EntryType::hardlink;
                m.link_target = it->second;
                m.hardlink_path = it->second;
                return;
            }
        }
        m.type = EntryType::file;
        m.size = static_cast<std::uint64_t>(st.st_size);
        m_facts.content_bytes += m.size;
        const bool capture = captured_path(m.path);
        // Opening every file of a large tree is slow; shells and init must be executable anyway.
        if (!capture && (m.mode & 0111U) == 0)
        {
            return;
        }
        int err = 0;
        const auto head =
            read_host_prefix(host(m.path), capture ? kCaptureLimit + 1 : kElfProbeBytes, err);
        if (!head)
        {
            m_facts.unreadable.push_back(
                fmt::format("cannot read {}: {}", image_path(m.path), std::strerror(err)));
            return;
        }
        probe_elf(m, *head);
        if (capture)
        {
            m_facts.files[m.path] = {head->substr(0, kCaptureLimit), head->size() > kCaptureLimit};
        }
    }

    std::string read_link(const std::string& rel)
    {
        std::error_code ec;
        const fs::path target = fs::read_symlink(host(rel), ec);
        if (ec)
        {
            m_facts.unreadable.push_back(
                fmt::format("cannot read symlink {}: {}", image_path(rel), ec.message()));
        }
        return target.string();
    }

    ImageFacts& m_facts;
    std::map<std::pair<dev_t, ino_t>, std::string> m_inodes;
};

} // namespace

bool captured_path(std::string_view path)
{
    // /etc/wsl-distribution.conf names its icon and Terminal profile: WSL looks for them here.
    for (const std::string_view dir : {"usr/lib/wsl/", "usr/share/wsl/", "usr/libexec/wsl/"})
    {
        if (path.starts_with(dir) && (path.ends_with(".ico") || path.ends_with(".json")))
        {
            return true;
        }
    }
    return std::find(kCapturedFiles.begin(), kCapturedFiles.end(), path) != kCapturedFiles.end();
}

std::string image_path(std::string_view path)
{
    return path == "." ? std::string("/") : "/" + std::string(path);
}

void ImageFacts::build_index()
{
    m_index.clear();
    m_parents.clear();
    for (std::size_t i = 0; i < members.size(); ++i)
    {
        const std::string& path = members[i].path;
        m_index[path] = i;
        for (auto slash = path.rfind('/'); slash != std::string::npos && slash > 0;
             slash = path.rfind('/', slash - 1))
        {
            if (!m_parents.insert(path.substr(0, slash)).second)
            {
                break; // its own parents are in already
            }
        }
    }
}

const Member* ImageFacts::find(std::string_view path) const
{
    const auto it = m_index.find(std::string(path));
    return it == m_index.end() ? nullptr : &members[it->second];
}

bool ImageFacts::exists(std::string_view path) const
{
    return find(path) != nullptr || m_parents.contains(std::string(path));
}

Resolved ImageFacts::resolve(std::string_view path) const
{
    const ImagePath reached = resolve_image_path(
        path,
        [this](const std::string& p) -> const std::string*
        {
            const Member* m = find(p);
            return m != nullptr && m->type == EntryType::symlink ? &m->link_target : nullptr;
        });
    Resolved r;
    r.path = reached.path;
    r.loop = reached.loop;
    if (r.loop)
    {
        return r;
    }
    r.member = find(r.path);
    for (int i = 0; r.member != nullptr && r.member->type == EntryType::hardlink; ++i)
    {
        r.member = i < kMaxSymlinkHops ? find(r.member->hardlink_path) : nullptr;
    }
    return r;
}

const CapturedFile* ImageFacts::content(std::string_view path) const
{
    const Resolved r = resolve(path);
    if (r.member == nullptr || r.member->type != EntryType::file)
    {
        return nullptr;
    }
    const auto it = files.find(r.member->path);
    return it == files.end() ? nullptr : &it->second;
}

std::vector<std::string> ImageFacts::top_level() const
{
    std::set<std::string> tops;
    for (const auto& m : members)
    {
        if (m.path != "." && !m.path.empty())
        {
            tops.insert(m.path.substr(0, m.path.find('/')));
        }
    }
    return {tops.begin(), tops.end()};
}

ImageFacts collect_facts(const fs::path& input)
{
    ImageFacts facts;
    facts.input = input;
    std::error_code ec;
    const fs::file_status st = fs::status(input, ec);
    if (ec || !fs::exists(st))
    {
        unusable(input, ec ? ec.message() : std::string("no such file or directory"));
    }
    if (fs::is_directory(st))
    {
        facts.format = "directory";
        facts.compression = "none";
        DirectoryWalker(facts).walk();
    }
    else
    {
        if (fs::is_regular_file(st) && fs::file_size(input, ec) == 0 && !ec)
        {
            unusable(input, "the file is empty");
        }
        facts.format = "tar";
        collect_archive(facts);
    }
    facts.build_index();
    return facts;
}

} // namespace azl::rootfs::check_detail
