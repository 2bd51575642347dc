#pragma once
// Character-class checks shared by the answers validation and the user name rules.

#include <algorithm>
#include <cctype>
#include <string_view>

namespace azl::oobe::detail
{

// Whether every character is an ASCII letter or digit or one of `extra`.
inline bool all_chars(std::string_view s, std::string_view extra)
{
    return std::all_of(
        s.begin(),
        s.end(),
        [extra](char c)
        {
            return std::isalnum(static_cast<unsigned char>(c)) != 0
                   || extra.find(c) != std::string_view::npos;
        });
}

// Whether `s` has no control characters (newlines, escapes) that could break a config file.
inline bool no_control_chars(std::string_view s)
{
    return std::none_of(
        s.begin(),
        s.end(),
        [](char c) { return std::iscntrl(static_cast<unsigned char>(c)) != 0; });
}

} // namespace azl::oobe::detail
