#pragma once
// A Windows icon (.ico) writer: PNG images packed as the frames of one multi-resolution icon, the
// form Windows Vista and later read for every size (WSL's Start-menu shortcut, Explorer).

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace azl::packaging
{

// What the IHDR chunk of a PNG says.
struct PngInfo
{
    std::uint32_t width = 0;
    std::uint32_t height = 0;
    std::uint8_t bit_depth = 0;
    std::uint8_t color_type = 0; // 6: RGBA
};

// Reads the signature and IHDR of a PNG; throws UserError naming `origin` when `png` is not one.
PngInfo read_png_info(std::string_view png, std::string_view origin);

// Packs PNG frames (1 to 256 pixels a side, at most one frame per size) into an .ico, in the
// order given; frames are stored as PNG. Throws UserError naming `origin` for a bad frame.
std::string write_ico(std::span<const std::string_view> pngs, std::string_view origin);

} // namespace azl::packaging
