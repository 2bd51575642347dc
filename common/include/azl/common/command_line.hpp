#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace azl
{

// Quotes one argument so that CommandLineToArgvW and the Microsoft C runtime read it back unchanged
// (backslashes are literal except before a quote; quotes are escaped as \"). Works on UTF-8 bytes:
// every character the rules look at is ASCII.
std::string quote_windows_arg(std::string_view arg);

// Joins argv into one Windows command line, as CreateProcessW takes it. argv[0] follows the simpler
// program-name rule (quoted when it has blanks, never escaped), so it must not contain a quote:
// throws std::invalid_argument then, or when argv is empty.
std::string windows_command_line(const std::vector<std::string>& argv);

} // namespace azl
