// ICO layout (little endian): ICONDIR {reserved 0, type 1, count}, then one 16-byte ICONDIRENTRY
// per frame {width, height (0 means 256), colour count 0, reserved 0, planes 1, bits per pixel,
// size, offset}, then the frames. A frame that starts with the PNG signature is read as a PNG.

#include <azl/common/error.hpp>
#include <azl/packaging/ico.hpp>

#include <fmt/format.h>

#include <array>
#include <limits>
#include <set>
#include <utility>

namespace azl::packaging
{

namespace
{

constexpr std::string_view kPngSignature("\x89PNG\r\n\x1a\n", 8);
constexpr std::size_t kIconDirBytes = 6;
constexpr std::size_t kIconEntryBytes = 16;
constexpr std::uint32_t kMaxSide = 256;

std::uint32_t read_be32(std::string_view bytes, std::size_t offset)
{
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < 4; ++i)
    {
        v = (v << 8U) | static_cast<unsigned char>(bytes[offset + i]);
    }
    return v;
}

void put_le16(std::string& out, std::uint32_t v)
{
    out.push_back(static_cast<char>(v & 0xffU));
    out.push_back(static_cast<char>((v >> 8U) & 0xffU));
}

void put_le32(std::string& out, std::uint32_t v)
{
    put_le16(out, v & 0xffffU);
    put_le16(out, v >> 16U);
}

// Bits per pixel of a PNG colour type and depth, as the directory entry records it.
std::uint32_t bits_per_pixel(const PngInfo& info)
{
    switch (info.color_type)
    {
    case 0: // grey
    case 3: // palette
        return info.bit_depth;
    case 2: // RGB
        return 3U * info.bit_depth;
    case 4: // grey + alpha
        return 2U * info.bit_depth;
    default: // 6: RGBA
        return 4U * info.bit_depth;
    }
}

} // namespace

PngInfo read_png_info(std::string_view png, std::string_view origin)
{
    // Signature (8), then the first chunk: length (4), "IHDR" (4), width, height, depth, colour.
    if (png.size() < 33 || png.substr(0, kPngSignature.size()) != kPngSignature)
    {
        throw UserError(fmt::format("{}: not a PNG image", origin), "give PNG frames");
    }
    if (png.substr(12, 4) != "IHDR" || read_be32(png, 8) != 13)
    {
        throw UserError(fmt::format("{}: corrupt PNG (no IHDR chunk first)", origin));
    }
    PngInfo info;
    info.width = read_be32(png, 16);
    info.height = read_be32(png, 20);
    info.bit_depth = static_cast<std::uint8_t>(png[24]);
    info.color_type = static_cast<std::uint8_t>(png[25]);
    static constexpr std::array<std::uint8_t, 5> kColorTypes = {0, 2, 3, 4, 6};
    bool known = false;
    for (const std::uint8_t t : kColorTypes)
    {
        known = known || t == info.color_type;
    }
    if (!known || info.bit_depth == 0 || info.bit_depth > 16 || info.width == 0 || info.height == 0)
    {
        throw UserError(fmt::format("{}: corrupt PNG header", origin));
    }
    return info;
}

std::string write_ico(std::span<const std::string_view> pngs, std::string_view origin)
{
    if (pngs.empty() || pngs.size() > std::numeric_limits<std::uint16_t>::max())
    {
        throw UserError(fmt::format("{}: an icon needs 1 to 65535 frames", origin));
    }
    std::string out;
    put_le16(out, 0); // reserved
    put_le16(out, 1); // type: icon
    put_le16(out, static_cast<std::uint32_t>(pngs.size()));
    std::uint64_t offset = kIconDirBytes + kIconEntryBytes * pngs.size();
    std::set<std::pair<std::uint32_t, std::uint32_t>> sizes;
    for (std::size_t i = 0; i < pngs.size(); ++i)
    {
        const std::string frame = fmt::format("{} frame {}", origin, i + 1);
        const PngInfo info = read_png_info(pngs[i], frame);
        if (info.width > kMaxSide || info.height > kMaxSide)
        {
            throw UserError(fmt::format(
                "{} is {}x{}: icon frames are at most 256x256", frame, info.width, info.height));
        }
        if (!sizes.emplace(info.width, info.height).second)
        {
            throw UserError(
                fmt::format("{}: a second {}x{} frame", frame, info.width, info.height),
                "give one frame per size");
        }
        if (offset + pngs[i].size() > std::numeric_limits<std::uint32_t>::max())
        {
            throw UserError(fmt::format("{}: the icon would exceed 4 GiB", origin));
        }
        out.push_back(static_cast<char>(info.width == kMaxSide ? 0 : info.width));
        out.push_back(static_cast<char>(info.height == kMaxSide ? 0 : info.height));
        out.push_back(0); // colour count: not a palette icon
        out.push_back(0); // reserved
        put_le16(out, 1); // colour planes
        put_le16(out, bits_per_pixel(info));
        put_le32(out, static_cast<std::uint32_t>(pngs[i].size()));
        put_le32(out, static_cast<std::uint32_t>(offset));
        offset += pngs[i].size();
    }
    for (const std::string_view png : pngs)
    {
        out.append(png);
    }
    return out;
}

} // namespace azl::packaging
