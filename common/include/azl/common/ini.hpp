#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace azl
{

// A gitconfig-style INI document as WSL reads /etc/wsl.conf and /etc/wsl-distribution.conf:
// `[section]` headers, `key = value` lines, `#`/`;` comments (also after a value, outside quotes),
// double-quoted values with \" \\ \n \t escapes, section and key names case-insensitive.
// Edits keep every other line — comments, order, spacing — as it was.
class IniFile
{
public:
    // One key=value as read.
    struct Item
    {
        std::string section; // lower-cased
        std::string key;     // lower-cased
        std::string value;   // unquoted, unescaped
        int line = 0;        // 1-based
    };

    // Parses text; throws UserError naming `origin` and the line for malformed input.
    static IniFile parse(std::string_view text, std::string_view origin);

    // The last value of section.key (case-insensitive), as WSL uses the last one.
    [[nodiscard]] std::optional<std::string>
    get(std::string_view section, std::string_view key) const;

    // Every item in file order.
    [[nodiscard]] const std::vector<Item>& items() const noexcept
    {
        return m_items;
    }

    // Sets section.key: replaces the last occurrence in place, or appends to the
    // section (creating it).
    void set(std::string_view section, std::string_view key, std::string_view value);

    // Removes every occurrence of section.key; returns whether any existed.
    bool erase(std::string_view section, std::string_view key);

    // The document as text, with edits applied.
    [[nodiscard]] std::string str() const;

private:
    struct Line
    {
        std::string text;    // verbatim for untouched lines
        std::string section; // section this line belongs to (lower-cased)
        std::string key;     // lower-cased key when this is a key line, else empty
    };

    void reindex();

    std::vector<Line> m_lines;
    std::vector<Item> m_items;
    std::string m_origin;
};

// Parses a WSL boolean ("true/false/1/0/yes/no/on/off", case-insensitive); nullopt when it is none.
std::optional<bool> parse_ini_bool(std::string_view value);

} // namespace azl
