#include "text.hpp"

#include <azl/common/text.hpp>
#include <azl/oobe/answers.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace azl::oobe
{

using detail::all_chars;
using detail::no_control_chars;

namespace
{

constexpr std::size_t kMaxUsername = 32;

// Names that belong to the system on either family, whether or not the image has them yet.
constexpr std::array kReservedNames = {
    "root",
    "bin",
    "daemon",
    "adm",
    "lp",
    "sync",
    "shutdown",
    "halt",
    "mail",
    "news",
    "uucp",
    "operator",
    "games",
    "ftp",
    "nobody",
    "sys",
    "man",
    "proxy",
    "www-data",
    "backup",
    "list",
    "irc",
    "gnats",
    "systemd-network",
    "systemd-resolve",
    "systemd-timesync",
    "messagebus",
    "sshd",
    "polkitd",
    "tss",
    "wheel",
    "sudo",
    "admin",
    "users",
    "staff",
    "audio",
    "video",
    "dialout",
    "disk",
};

} // namespace

std::string username_problem(std::string_view name)
{
    if (name.empty())
    {
        return "the user name is empty";
    }
    if (name.size() > kMaxUsername)
    {
        return fmt::format("\"{}\" is longer than {} characters", name, kMaxUsername);
    }
    const char first = name.front();
    if (!((first >= 'a' && first <= 'z') || first == '_'))
    {
        return fmt::format(
            "\"{}\" must start with a lower-case letter or '_'",
            no_control_chars(name) ? name : "");
    }
    for (const char c : name)
    {
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
        {
            return fmt::format(
                "\"{}\" may contain only lower-case letters, digits, '_' and '-'",
                no_control_chars(name) ? name : "");
        }
    }
    if (std::find(kReservedNames.begin(), kReservedNames.end(), name) != kReservedNames.end())
    {
        return fmt::format("\"{}\" is reserved for the system", name);
    }
    return {};
}

std::string suggest_username(std::string_view windows_name)
{
    std::string out;
    for (const char lc : ascii_lower(windows_name))
    {
        if ((lc >= 'a' && lc <= 'z') || (lc >= '0' && lc <= '9') || lc == '_' || lc == '-')
        {
            out.push_back(lc);
        }
    }
    while (!out.empty() && !((out.front() >= 'a' && out.front() <= 'z') || out.front() == '_'))
    {
        out.erase(out.begin());
    }
    if (out.size() > kMaxUsername)
    {
        out.resize(kMaxUsername);
    }
    return username_problem(out).empty() ? out : std::string{};
}

bool is_crypt_hash(std::string_view text)
{
    static constexpr std::array kPrefixes = {"$y$", "$gy$", "$7$", "$6$", "$5$", "$2b$", "$2y$"};
    const bool known = std::any_of(
        kPrefixes.begin(),
        kPrefixes.end(),
        [text](std::string_view p) { return text.starts_with(p); });
    return known && text.size() >= 20 && all_chars(text, "$./=");
}

} // namespace azl::oobe
