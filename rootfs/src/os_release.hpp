#pragma once
// os-release(5) parsing, shared by `image check` and `image inspect`. Private header.

#include <map>
#include <string>
#include <string_view>

namespace azl::rootfs::detail
{

// Parses os-release text: KEY=VALUE lines whose values follow shell quoting ("…" with \-escapes,
// '…' literal, or bare words); comments, blank and malformed lines are skipped.
std::map<std::string, std::string> parse_os_release(std::string_view text);

} // namespace azl::rootfs::detail
