#include <azl/common/text.hpp>

#include <algorithm>

namespace azl
{

namespace
{

constexpr char fold(char c) noexcept
{
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

constexpr bool is_space(char c) noexcept
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

} // namespace

std::string ascii_lower(std::string_view text)
{
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), fold);
    return out;
}

bool ascii_iequals(std::string_view a, std::string_view b) noexcept
{
    return std::equal(
        a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) { return fold(x) == fold(y); });
}

std::string_view trim(std::string_view text) noexcept
{
    while (!text.empty() && is_space(text.front()))
    {
        text.remove_prefix(1);
    }
    while (!text.empty() && is_space(text.back()))
    {
        text.remove_suffix(1);
    }
    return text;
}

std::string hex_encode(std::span<const unsigned char> bytes)
{
    static constexpr std::string_view kDigits = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (const unsigned char b : bytes)
    {
        out.push_back(kDigits[b >> 4U]);
        out.push_back(kDigits[b & 0x0FU]);
    }
    return out;
}

std::vector<std::string> split_trimmed(std::string_view text, std::string_view separators)
{
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= text.size())
    {
        auto end = text.find_first_of(separators, start);
        if (end == std::string_view::npos)
        {
            end = text.size();
        }
        const auto item = trim(text.substr(start, end - start));
        if (!item.empty())
        {
            out.emplace_back(item);
        }
        start = end + 1;
    }
    return out;
}

} // namespace azl
