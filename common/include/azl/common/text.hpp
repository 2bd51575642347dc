#pragma once
// Small text helpers every folder needs, in one place: ASCII case folding, whitespace trimming,
// hex. ASCII only, whatever the locale: names, keys and digests are ASCII, and std::tolower would
// fold other bytes in a single-byte locale.

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace azl
{

// `text` with A-Z turned into a-z; every other byte as it is.
std::string ascii_lower(std::string_view text);

// Whether `a` and `b` are equal but for the case of A-Z.
bool ascii_iequals(std::string_view a, std::string_view b) noexcept;

// `text` without the ASCII white space (space, \t, \n, \v, \f, \r) at either end.
std::string_view trim(std::string_view text) noexcept;

// Two lowercase hex digits per byte, in order.
std::string hex_encode(std::span<const unsigned char> bytes);

// The parts of `text` between any of the `separators` characters, trimmed; empty parts dropped.
std::vector<std::string> split_trimmed(std::string_view text, std::string_view separators);

} // namespace azl
