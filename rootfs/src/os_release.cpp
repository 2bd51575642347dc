#include "os_release.hpp"

#include <azl/common/text.hpp>

#include <algorithm>
#include <cctype>
#include <cstddef>

namespace azl::rootfs::detail
{

namespace
{

bool is_key(std::string_view key)
{
    if (key.empty() || std::isdigit(static_cast<unsigned char>(key.front())) != 0)
    {
        return false;
    }
    return std::all_of(
        key.begin(),
        key.end(),
        [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; });
}

// One shell word: concatenated quoted and bare parts up to unquoted whitespace.
std::string unquote(std::string_view value)
{
    std::string out;
    std::size_t i = 0;
    while (i < value.size())
    {
        const char c = value[i];
        if (c == '\'')
        {
            const std::size_t end = value.find('\'', i + 1);
            out.append(value.substr(i + 1, end == std::string_view::npos ? end : end - i - 1));
            i = end == std::string_view::npos ? value.size() : end + 1;
        }
        else if (c == '"')
        {
            for (++i; i < value.size() && value[i] != '"'; ++i)
            {
                // Inside double quotes a backslash only escapes these, as in sh.
                if (value[i] == '\\' && i + 1 < value.size()
                    && std::string_view("\"\\$`").find(value[i + 1]) != std::string_view::npos)
                {
                    ++i;
                }
                out += value[i];
            }
            ++i;
        }
        else if (std::isspace(static_cast<unsigned char>(c)) != 0)
        {
            break;
        }
        else
        {
            if (c == '\\' && i + 1 < value.size())
            {
                ++i;
            }
            out += value[i];
            ++i;
        }
    }
    return out;
}

} // namespace

std::map<std::string, std::string> parse_os_release(std::string_view text)
{
    std::map<std::string, std::string> fields;
    std::size_t pos = 0;
    while (pos < text.size())
    {
        const std::size_t eol = std::min(text.find('\n', pos), text.size());
        const std::string_view line = trim(text.substr(pos, eol - pos));
        pos = eol + 1;
        if (line.empty() || line.front() == '#')
        {
            continue;
        }
        const std::size_t eq = line.find('=');
        if (eq == std::string_view::npos || !is_key(line.substr(0, eq)))
        {
            continue;
        }
        fields[std::string(line.substr(0, eq))] = unquote(line.substr(eq + 1));
    }
    return fields;
}

} // namespace azl::rootfs::detail
