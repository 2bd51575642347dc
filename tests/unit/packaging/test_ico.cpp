#include <azl/common/error.hpp>
#include <azl/packaging/assets.hpp>
#include <azl/packaging/ico.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

using azl::UserError;
using azl::packaging::icon_ico;
using azl::packaging::icon_png;
using azl::packaging::icon_sizes;
using azl::packaging::read_png_info;
using azl::packaging::write_ico;
using Catch::Matchers::Contains;

namespace
{

std::uint32_t le(const std::string& b, std::size_t off, std::size_t n)
{
    std::uint32_t v = 0;
    for (std::size_t i = n; i-- > 0;)
    {
        v = (v << 8U) | static_cast<unsigned char>(b[off + i]);
    }
    return v;
}

// A PNG header of the given size: signature and IHDR only (enough for the writer).
std::string png_header(std::uint32_t w, std::uint32_t h, char color = 6)
{
    std::string png("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", 16);
    for (const std::uint32_t v : {w, h})
    {
        for (int shift = 24; shift >= 0; shift -= 8)
        {
            png.push_back(static_cast<char>((v >> static_cast<unsigned>(shift)) & 0xffU));
        }
    }
    png += std::string{'\x08', color, '\0', '\0', '\0'};
    png += std::string(4, '\0'); // CRC (not checked by the writer)
    return png;
}

struct IcoEntry
{
    unsigned width;
    unsigned height;
    unsigned bpp;
    std::uint32_t size;
    std::uint32_t offset;
};

// Reads an ICO directory the way Windows does, independently of the writer.
std::vector<IcoEntry> read_directory(const std::string& ico)
{
    REQUIRE(ico.size() >= 6);
    REQUIRE(le(ico, 0, 2) == 0);
    REQUIRE(le(ico, 2, 2) == 1);
    const std::uint32_t count = le(ico, 4, 2);
    std::vector<IcoEntry> entries;
    for (std::uint32_t i = 0; i < count; ++i)
    {
        const std::size_t e = 6 + 16 * static_cast<std::size_t>(i);
        REQUIRE(e + 16 <= ico.size());
        CHECK(ico[e + 2] == 0);        // colour count
        CHECK(ico[e + 3] == 0);        // reserved
        CHECK(le(ico, e + 4, 2) == 1); // planes
        const auto w = static_cast<unsigned char>(ico[e]);
        const auto h = static_cast<unsigned char>(ico[e + 1]);
        entries.push_back(
            {w == 0 ? 256U : w,
             h == 0 ? 256U : h,
             le(ico, e + 6, 2),
             le(ico, e + 8, 4),
             le(ico, e + 12, 4)});
        REQUIRE(entries.back().offset + entries.back().size <= ico.size());
    }
    return entries;
}

} // namespace

TEST_CASE("write_ico packs PNG frames with a correct directory", "[ico]")
{
    const std::vector<std::string> frames = {
        png_header(16, 16), png_header(256, 256), png_header(48, 32, 2)};
    const std::vector<std::string_view> views(frames.begin(), frames.end());
    const std::string ico = write_ico(views, "test.ico");
    const auto entries = read_directory(ico);
    REQUIRE(entries.size() == 3);
    CHECK(entries[0].width == 16);
    CHECK(entries[1].width == 256); // stored as 0
    CHECK(entries[1].height == 256);
    CHECK(entries[2].width == 48);
    CHECK(entries[2].height == 32);
    CHECK(entries[0].bpp == 32);
    CHECK(entries[2].bpp == 24);
    CHECK(entries[0].offset == 6 + 3 * 16);
    for (std::size_t i = 0; i < 3; ++i)
    {
        CHECK(ico.substr(entries[i].offset, entries[i].size) == frames[i]);
    }
    CHECK(ico.size() == 6 + 3 * 16 + frames[0].size() + frames[1].size() + frames[2].size());
}

TEST_CASE("write_ico refuses what an icon cannot hold", "[ico]")
{
    const std::string big = png_header(257, 257);
    const std::string a = png_header(32, 32);
    CHECK_THROWS_WITH(
        write_ico(std::vector<std::string_view>{big}, "x.ico"), Contains("at most 256x256"));
    CHECK_THROWS_WITH(
        write_ico(std::vector<std::string_view>{a, a}, "x.ico"), Contains("a second 32x32 frame"));
    CHECK_THROWS_WITH(
        write_ico(std::vector<std::string_view>{"GIF89a...."}, "x.ico"),
        Contains("x.ico frame 1: not a PNG"));
    CHECK_THROWS_AS(write_ico(std::vector<std::string_view>{}, "x.ico"), UserError);
    std::string no_ihdr = a;
    no_ihdr[12] = 'X';
    CHECK_THROWS_WITH(read_png_info(no_ihdr, "f.png"), Contains("f.png: corrupt PNG"));
}

TEST_CASE("the built-in icon has every size from 16 to 256 as real PNG frames", "[ico]")
{
    const std::string ico = icon_ico();
    CHECK(ico.size() <= (1U << 20U));
    const auto entries = read_directory(ico);
    std::vector<unsigned> sizes;
    for (const auto& entry : entries)
    {
        CHECK(entry.width == entry.height);
        sizes.push_back(entry.width);
        const auto info = read_png_info(ico.substr(entry.offset, entry.size), "frame");
        CHECK(info.width == entry.width);
        // A whole PNG: it ends with the IEND chunk.
        CHECK(ico.substr(entry.offset + entry.size - 8, 4) == "IEND");
    }
    CHECK(sizes == std::vector<unsigned>(icon_sizes().begin(), icon_sizes().end()));
    CHECK(sizes == std::vector<unsigned>{16, 24, 32, 48, 64, 128, 256});
    for (const unsigned store : {44U, 50U, 71U, 150U, 310U})
    {
        CHECK(read_png_info(icon_png(store), "logo").width == store);
    }
    CHECK_THROWS_AS(icon_png(17), std::out_of_range);
}
