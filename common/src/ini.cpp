#include <azl/common/error.hpp>
#include <azl/common/ini.hpp>
#include <azl/common/text.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace azl
{

namespace
{

bool valid_name(std::string_view name)
{
    return !name.empty()
           && std::all_of(
               name.begin(),
               name.end(),
               [](unsigned char c)
               { return std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.'; });
}

// Decodes a value: quotes group text (keeping spaces and comment characters), backslash escapes,
// unquoted `#`/`;` start a comment, unquoted outer whitespace is dropped.
std::optional<std::string> decode_value(std::string_view raw, std::string& error)
{
    std::string out;
    bool quoted = false;
    std::size_t keep = 0; // length of `out` that must survive trailing-space trimming
    for (std::size_t i = 0; i < raw.size(); ++i)
    {
        const char c = raw[i];
        if (c == '"')
        {
            quoted = !quoted;
            keep = out.size();
            continue;
        }
        if (!quoted && (c == '#' || c == ';'))
        {
            break;
        }
        if (c == '\\')
        {
            if (i + 1 >= raw.size())
            {
                error = "a backslash ends the line";
                return std::nullopt;
            }
            const char n = raw[++i];
            switch (n)
            {
            case '"':
            case '\\':
                out += n;
                break;
            case 'n':
                out += '\n';
                break;
            case 't':
                out += '\t';
                break;
            default:
                error = fmt::format("unknown escape \\{}", n);
                return std::nullopt;
            }
            keep = out.size();
            continue;
        }
        if (!quoted && (c == ' ' || c == '\t') && out.size() == keep && out.empty())
        {
            continue; // leading blanks
        }
        out += c;
        if (quoted)
        {
            keep = out.size();
        }
    }
    if (quoted)
    {
        error = "a quote is not closed";
        return std::nullopt;
    }
    while (out.size() > keep && (out.back() == ' ' || out.back() == '\t' || out.back() == '\r'))
    {
        out.pop_back();
    }
    return out;
}

std::string encode_value(std::string_view value)
{
    const bool needs_quotes = value.empty() || value.front() == ' ' || value.back() == ' '
                              || value.find_first_of("#;\"\\\n\t") != std::string_view::npos;
    if (!needs_quotes)
    {
        return std::string(value);
    }
    std::string out = "\"";
    for (const char c : value)
    {
        switch (c)
        {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\t':
            out += "\\t";
            break;
        default:
            out += c;
        }
    }
    out += '"';
    return out;
}

} // namespace

IniFile IniFile::parse(std::string_view text, std::string_view origin)
{
    IniFile ini;
    ini.m_origin = origin;
    std::string section;
    int number = 0;
    std::size_t pos = 0;
    while (pos < text.size())
    {
        const auto nl = text.find('\n', pos);
        const std::string_view raw =
            text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
        pos = nl == std::string_view::npos ? text.size() : nl + 1;
        ++number;
        const std::string_view line = trim(raw);
        Line stored{std::string(raw), section, {}};
        if (line.empty() || line.front() == '#' || line.front() == ';')
        {
            ini.m_lines.push_back(std::move(stored));
            continue;
        }
        const auto fail = [&](const std::string& why)
        {
            return UserError(
                fmt::format("{}:{}: {}", origin, number, why),
                "fix the line; the format is `[section]` then `key = value`");
        };
        if (line.front() == '[')
        {
            const auto close = line.find(']');
            const std::string_view name = close == std::string_view::npos
                                              ? std::string_view()
                                              : trim(line.substr(1, close - 1));
            const std::string_view rest =
                close == std::string_view::npos ? std::string_view() : trim(line.substr(close + 1));
            if (close == std::string_view::npos || !valid_name(name)
                || !(rest.empty() || rest.front() == '#' || rest.front() == ';'))
            {
                throw fail(fmt::format("malformed section header {}", line));
            }
            section = ascii_lower(name);
            stored.section = section;
            ini.m_lines.push_back(std::move(stored));
            continue;
        }
        const auto eq = line.find('=');
        const std::string_view key = trim(line.substr(0, eq));
        if (eq == std::string_view::npos || !valid_name(key))
        {
            throw fail(fmt::format("expected `key = value`, found {}", line));
        }
        if (section.empty())
        {
            throw fail(fmt::format("key {} is outside any [section]", key));
        }
        std::string error;
        const auto value = decode_value(line.substr(eq + 1), error);
        if (!value)
        {
            throw fail(error);
        }
        stored.key = ascii_lower(key);
        ini.m_lines.push_back(std::move(stored));
    }
    ini.reindex();
    return ini;
}

void IniFile::reindex()
{
    m_items.clear();
    int number = 0;
    for (const auto& line : m_lines)
    {
        ++number;
        if (line.key.empty())
        {
            continue;
        }
        std::string error;
        const std::string_view text = trim(line.text);
        const auto value = decode_value(text.substr(text.find('=') + 1), error);
        m_items.push_back({line.section, line.key, value.value_or(std::string()), number});
    }
}

std::optional<std::string> IniFile::get(std::string_view section, std::string_view key) const
{
    const std::string s = ascii_lower(section);
    const std::string k = ascii_lower(key);
    std::optional<std::string> found;
    for (const auto& item : m_items)
    {
        if (item.section == s && item.key == k)
        {
            found = item.value;
        }
    }
    return found;
}

void IniFile::set(std::string_view section, std::string_view key, std::string_view value)
{
    const std::string s = ascii_lower(section);
    const std::string k = ascii_lower(key);
    const std::string text = fmt::format("{} = {}", key, encode_value(value));
    for (auto it = m_lines.rbegin(); it != m_lines.rend(); ++it)
    {
        if (it->section == s && it->key == k)
        {
            it->text = text;
            reindex();
            return;
        }
    }
    // Append after the last line of the section (before trailing blank lines), or add the section.
    std::optional<std::size_t> last;
    for (std::size_t i = 0; i < m_lines.size(); ++i)
    {
        if (m_lines[i].section == s && !trim(m_lines[i].text).empty())
        {
            last = i;
        }
    }
    if (last)
    {
        m_lines.insert(m_lines.begin() + static_cast<std::ptrdiff_t>(*last + 1), Line{text, s, k});
    }
    else
    {
        if (!m_lines.empty() && !trim(m_lines.back().text).empty())
        {
            m_lines.push_back(Line{"", m_lines.back().section, {}});
        }
        m_lines.push_back(Line{fmt::format("[{}]", section), s, {}});
        m_lines.push_back(Line{text, s, k});
    }
    reindex();
}

bool IniFile::erase(std::string_view section, std::string_view key)
{
    const std::string s = ascii_lower(section);
    const std::string k = ascii_lower(key);
    const auto before = m_lines.size();
    std::erase_if(m_lines, [&](const Line& l) { return l.section == s && l.key == k; });
    reindex();
    return m_lines.size() != before;
}

std::string IniFile::str() const
{
    std::string out;
    for (const auto& line : m_lines)
    {
        out += line.text;
        out += '\n';
    }
    return out;
}

std::optional<bool> parse_ini_bool(std::string_view value)
{
    const std::string v = ascii_lower(trim(value));
    if (v == "true" || v == "1" || v == "yes" || v == "on")
    {
        return true;
    }
    if (v == "false" || v == "0" || v == "no" || v == "off")
    {
        return false;
    }
    return std::nullopt;
}

} // namespace azl
