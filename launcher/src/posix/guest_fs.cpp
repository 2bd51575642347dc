#include "guest_fs.hpp"

#include <azl/common/error.hpp>
#include <azl/common/fs.hpp>
#include <azl/common/passwd.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>

namespace azl::launcher::sandbox
{

namespace
{

constexpr std::size_t kMaxGuestFile = 4U << 20U;

std::vector<std::string> split(const std::string& line, char sep)
{
    std::vector<std::string> out;
    std::size_t start = 0;
    for (;;)
    {
        const std::size_t end = line.find(sep, start);
        out.push_back(line.substr(start, end - start));
        if (end == std::string::npos)
        {
            return out;
        }
        start = end + 1;
    }
}

std::optional<std::uint32_t> parse_number(const std::string& text)
{
    std::uint32_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size())
    {
        return std::nullopt;
    }
    return value;
}

// Fills in the supplementary groups of `user` from the guest's /etc/group.
void add_groups(const std::filesystem::path& root, GuestUser& user)
{
    const auto text = read_guest_file(root, "/etc/group");
    if (!text)
    {
        return;
    }
    std::size_t start = 0;
    while (start < text->size())
    {
        const std::size_t end = text->find('\n', start);
        const std::string line = text->substr(start, end - start);
        start = end == std::string::npos ? text->size() : end + 1;
        const auto f = split(line, ':');
        if (f.size() < 4)
        {
            continue;
        }
        const auto gid = parse_number(f[2]);
        if (!gid || *gid == user.gid)
        {
            continue;
        }
        for (const std::string& member : split(f[3], ','))
        {
            if (member == user.name)
            {
                user.groups.push_back(*gid);
                break;
            }
        }
    }
}

template <class Match>
std::optional<GuestUser> find_in_passwd(const std::filesystem::path& root, Match match)
{
    const auto text = read_guest_file(root, "/etc/passwd");
    if (!text)
    {
        return std::nullopt;
    }
    for (const PasswdEntry& e : parse_passwd(*text))
    {
        if (!e.uid || !e.gid || !match(e.name, *e.uid))
        {
            continue;
        }
        // Defaults as login(1) takes them for empty fields.
        GuestUser user{
            .name = e.name,
            .uid = *e.uid,
            .gid = *e.gid,
            .home = e.home.empty() ? "/" : e.home,
            .shell = e.shell.empty() ? "/bin/sh" : e.shell,
            .groups = {}};
        add_groups(root, user);
        return user;
    }
    return std::nullopt;
}

} // namespace

std::optional<std::string>
read_guest_file(const std::filesystem::path& root, const std::string& guest_path)
{
    const UniqueFd root_fd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root_fd)
    {
        throw SystemError::from_errno(fmt::format("opening {}", root.string()), errno);
    }
    open_how how{};
    how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    const std::string relative = guest_path.substr(guest_path.find_first_not_of('/'));
    const UniqueFd fd(static_cast<int>(
        ::syscall(SYS_openat2, root_fd.get(), relative.c_str(), &how, sizeof how)));
    if (!fd)
    {
        if (errno == ENOENT || errno == ENOTDIR)
        {
            return std::nullopt;
        }
        throw SystemError::from_errno(
            fmt::format("reading {} of the guest in {}", guest_path, root.string()), errno);
    }
    std::string out;
    std::array<char, 65536> buffer{};
    for (;;)
    {
        const ssize_t got = ::read(fd.get(), buffer.data(), buffer.size());
        if (got < 0 && errno == EINTR)
        {
            continue;
        }
        if (got < 0)
        {
            throw SystemError::from_errno(
                fmt::format("reading {} of the guest in {}", guest_path, root.string()), errno);
        }
        if (got == 0)
        {
            return out;
        }
        out.append(buffer.data(), static_cast<std::size_t>(got));
        if (out.size() > kMaxGuestFile)
        {
            throw UserError(fmt::format(
                "{} of the guest in {} is larger than 4 MiB", guest_path, root.string()));
        }
    }
}

std::optional<GuestUser> find_guest_user(const std::filesystem::path& root, const std::string& user)
{
    if (const auto uid = parse_number(user))
    {
        return find_guest_uid(root, *uid);
    }
    return find_in_passwd(
        root, [&user](const std::string& name, std::uint32_t) { return name == user; });
}

std::optional<GuestUser> find_guest_uid(const std::filesystem::path& root, std::uint32_t uid)
{
    return find_in_passwd(
        root, [uid](const std::string&, std::uint32_t candidate) { return candidate == uid; });
}

} // namespace azl::launcher::sandbox
