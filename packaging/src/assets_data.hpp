#pragma once
// The files embedded at build time (generated assets_data.cpp). Private to azl::packaging.

#include <array>
#include <span>
#include <string_view>

namespace azl::packaging::detail
{

// One embedded file: its name (e.g. "icon-16.png", "wsl.conf") and bytes.
struct EmbeddedFile
{
    std::string_view name;
    std::string_view bytes;
};

// Every embedded file, in the order the build listed them.
std::span<const EmbeddedFile> embedded_files();

} // namespace azl::packaging::detail
