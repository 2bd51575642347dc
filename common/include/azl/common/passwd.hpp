#pragma once
// passwd(5) entries as the C library reads them, for every side that looks users up in a guest's
// /etc/passwd (the launcher's sandbox, first-run setup).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace azl
{

// One line of passwd(5): name:password:uid:gid:gecos:home:shell.
struct PasswdEntry
{
    std::string name;
    std::optional<std::uint32_t> uid; // nullopt when the field is not a number
    std::optional<std::uint32_t> gid; // nullopt when the field is not a number
    std::string home;
    std::string shell; // the rest of the line after the sixth ':', as glibc reads it
};

// The entry on one line (no newline); nullopt for a line with fewer than seven fields or no name.
std::optional<PasswdEntry> parse_passwd_line(std::string_view line);

// The entries of a whole file, in order, skipping the lines parse_passwd_line refuses.
std::vector<PasswdEntry> parse_passwd(std::string_view text);

} // namespace azl
