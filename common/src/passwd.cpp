#include <azl/common/passwd.hpp>

#include <array>
#include <charconv>

namespace azl
{

namespace
{

std::optional<std::uint32_t> to_id(std::string_view text)
{
    std::uint32_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size())
    {
        return std::nullopt;
    }
    return value;
}

} // namespace

std::optional<PasswdEntry> parse_passwd_line(std::string_view line)
{
    // Six fields end at a ':'; the shell is whatever follows (glibc's nss_files does the same).
    std::array<std::string_view, 6> f{};
    for (auto& field : f)
    {
        const auto colon = line.find(':');
        if (colon == std::string_view::npos)
        {
            return std::nullopt;
        }
        field = line.substr(0, colon);
        line.remove_prefix(colon + 1);
    }
    if (f[0].empty())
    {
        return std::nullopt;
    }
    return PasswdEntry{
        .name = std::string(f[0]),
        .uid = to_id(f[2]),
        .gid = to_id(f[3]),
        .home = std::string(f[5]),
        .shell = std::string(line)};
}

std::vector<PasswdEntry> parse_passwd(std::string_view text)
{
    std::vector<PasswdEntry> entries;
    while (!text.empty())
    {
        const auto end = text.find('\n');
        if (auto entry = parse_passwd_line(text.substr(0, end)))
        {
            entries.push_back(std::move(*entry));
        }
        text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    }
    return entries;
}

} // namespace azl
