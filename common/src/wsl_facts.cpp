#include <azl/common/text.hpp>
#include <azl/common/wsl_facts.hpp>

#include <algorithm>

namespace azl
{

bool valid_wsl_name(std::string_view name) noexcept
{
    const auto allowed = [](char c)
    {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
               || c == '.' || c == '_' || c == '-';
    };
    return !name.empty() && name.size() <= kWslNameMax
           && std::all_of(name.begin(), name.end(), allowed)
           && !ascii_iequals(name, kWslReservedName);
}

std::string clean_wsl_hostname(std::string_view name)
{
    constexpr std::size_t kMaxHostname = 64;
    bool dot = false;
    std::string out;
    for (const char c : name)
    {
        const bool alnum =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        const bool after_separator = out.empty() || out.back() == '-' || out.back() == '.';
        if (alnum || (c == '-' && !after_separator) || (c == '.' && !dot && !after_separator))
        {
            dot = dot || c == '.';
            out.push_back(c);
        }
    }
    if (out.size() > kMaxHostname)
    {
        out.resize(kMaxHostname);
    }
    while (!out.empty() && (out.back() == '.' || out.back() == '-'))
    {
        out.pop_back();
    }
    return out.empty() ? std::string("localhost") : out;
}

bool has_wsl_extension(const std::filesystem::path& file)
{
    const std::u8string ext = file.extension().u8string();
    return ascii_iequals(std::string(ext.begin(), ext.end()), ".wsl");
}

} // namespace azl
