#include <azl/common/fs.hpp>
#include <azl/oobe/answers.hpp>
#include <azl/oobe/users.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <sstream>

namespace azl::oobe
{

namespace
{

std::vector<std::string> split(const std::string& line, char sep)
{
    std::vector<std::string> out;
    std::string field;
    std::istringstream in(line);
    while (std::getline(in, field, sep))
    {
        out.push_back(field);
    }
    if (!line.empty() && line.back() == sep)
    {
        out.emplace_back();
    }
    return out;
}

} // namespace

UserDatabase UserDatabase::parse(std::string_view passwd, std::string_view group)
{
    UserDatabase db;
    db.m_users = parse_passwd(passwd);
    std::string line;
    std::istringstream gin{std::string(group)};
    while (std::getline(gin, line))
    {
        const auto f = split(line, ':');
        if (f.size() >= 3 && !f[0].empty())
        {
            db.m_groups.push_back(
                {f[0], f.size() >= 4 ? split(f[3], ',') : std::vector<std::string>{}});
        }
    }
    return db;
}

UserDatabase UserDatabase::load(const std::filesystem::path& etc)
{
    return parse(read_file(etc / "passwd"), read_file(etc / "group"));
}

std::optional<UserDatabase::User> UserDatabase::user(std::string_view name) const
{
    const auto it = std::find_if(
        m_users.begin(), m_users.end(), [name](const User& u) { return u.name == name; });
    return it == m_users.end() ? std::nullopt : std::optional<User>(*it);
}

std::optional<UserDatabase::User> UserDatabase::user_by_uid(std::uint32_t uid) const
{
    const auto it =
        std::find_if(m_users.begin(), m_users.end(), [uid](const User& u) { return u.uid == uid; });
    return it == m_users.end() ? std::nullopt : std::optional<User>(*it);
}

bool UserDatabase::has_group(std::string_view name) const
{
    return std::any_of(
        m_groups.begin(), m_groups.end(), [name](const Group& g) { return g.name == name; });
}

std::vector<std::string> UserDatabase::group_members(std::string_view name) const
{
    const auto it = std::find_if(
        m_groups.begin(), m_groups.end(), [name](const Group& g) { return g.name == name; });
    return it == m_groups.end() ? std::vector<std::string>{} : it->members;
}

std::string new_username_problem(std::string_view name, const UserDatabase& db)
{
    if (auto problem = username_problem(name); !problem.empty())
    {
        return problem;
    }
    if (db.user(name))
    {
        return fmt::format("a user named \"{}\" already exists", name);
    }
    if (db.has_group(name))
    {
        return fmt::format("a group named \"{}\" already exists", name);
    }
    return {};
}

namespace
{

// Whether the PID written in the lock file `lock` is a running shadow account tool.
bool held_by_account_tool(const std::filesystem::path& lock)
{
    std::string text;
    try
    {
        text = read_file(lock, 64);
    }
    catch (const std::exception&)
    {
        return false;
    }
    while (!text.empty() && (text.back() == '\n' || text.back() == '\0'))
    {
        text.pop_back();
    }
    std::uint32_t pid = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), pid);
    if (ec != std::errc() || end != text.data() + text.size() || pid == 0)
    {
        return false;
    }
    std::string comm;
    try
    {
        comm = read_file(fmt::format("/proc/{}/comm", pid), 64);
    }
    catch (const std::exception&)
    {
        return false; // no such process
    }
    if (!comm.empty() && comm.back() == '\n')
    {
        comm.pop_back();
    }
    constexpr std::array kTools = {"useradd",  "userdel", "usermod",  "groupadd",  "groupdel",
                                   "groupmod", "gpasswd", "chpasswd", "chgpasswd", "passwd",
                                   "chage",    "chfn",    "chsh",     "newusers",  "vipw",
                                   "vigr",     "pwconv",  "grpconv",  "pwck",      "grpck"};
    return std::find(kTools.begin(), kTools.end(), comm) != kTools.end();
}

} // namespace

std::vector<std::filesystem::path> clear_stale_account_locks(const std::filesystem::path& etc)
{
    std::vector<std::filesystem::path> removed;
    for (const char* db : {"passwd", "shadow", "group", "gshadow", "subuid", "subgid"})
    {
        const auto lock = etc / fmt::format("{}.lock", db);
        std::error_code ec;
        if (!std::filesystem::is_regular_file(std::filesystem::symlink_status(lock, ec))
            || held_by_account_tool(lock))
        {
            continue;
        }
        if (std::filesystem::remove(lock, ec))
        {
            removed.push_back(lock);
        }
    }
    return removed;
}

} // namespace azl::oobe
