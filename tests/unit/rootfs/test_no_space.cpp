// Full file systems under the image engine: building and extracting on a small tmpfs ends with one
// NoSpaceError whose estimate is close to the truth, and nothing left on the file system.
#include <azl/common/disk_space.hpp>
#include <azl/rootfs/build.hpp>
#include <azl/rootfs/extract.hpp>

#include <catch2/catch.hpp>

#include <archive_builder.hpp>
#include <functional>
#include <random>
#include <stdexcept>
#include <string>
#include <test_support.hpp>
#include <vector>

namespace fs = std::filesystem;

namespace
{

constexpr std::uint64_t kSmall = 256U << 10U;

// Bytes no compressor can shrink.
std::string noise(std::size_t size)
{
    std::mt19937_64 gen(42); // NOLINT(cert-msc51-cpp): the same noise every run, so failures replay
    std::string out(size, '\0');
    for (auto& c : out)
    {
        c = static_cast<char>(gen());
    }
    return out;
}

azl::NoSpaceError expect_no_space(const std::function<void()>& work)
{
    try
    {
        work();
    }
    catch (const azl::NoSpaceError& e)
    {
        return e;
    }
    FAIL("no NoSpaceError");
    throw std::logic_error("unreachable");
}

} // namespace

TEST_CASE(
    "image build on a full file system: estimate from the ratio, nothing left", "[no_space][root]")
{
    const azl::test::Sandbox box;
    const azl::test::SmallTmpfs small(box.path() / "small", kSmall);
    if (!small.mounted())
    {
        WARN("not root: no tmpfs to fill");
        return;
    }
    box.write("tree/etc/blob", noise(1U << 20U));
    for (const auto compression : {azl::rootfs::Compression::gzip, azl::rootfs::Compression::none})
    {
        azl::rootfs::BuildOptions options;
        options.sources = {box.path() / "tree"};
        options.output = small.path() / "out.tar";
        options.write.compression = compression;
        options.write.threads = 2;
        options.progress = azl::ProgressMode::off;
        const auto e = expect_no_space([&] { azl::rootfs::build_image(options); });
        CAPTURE(e.what());
        CHECK(e.target() == options.output);
        CHECK(e.estimate() == azl::SizeEstimate::about);
        CHECK(e.needed() >= (1U << 20U));
        CHECK(e.needed() <= (5U << 18U));
        CHECK(fs::is_empty(small.path()));
    }
}

TEST_CASE("extraction on a full file system: blocks counted, nothing left", "[no_space][root]")
{
    const azl::test::Sandbox box;
    const azl::test::SmallTmpfs small(box.path() / "small", kSmall);
    if (!small.mounted())
    {
        WARN("not root: no tmpfs to fill");
        return;
    }
    SECTION("many tiny files: ENOSPC half-way, the rest of the archive counted")
    {
        std::vector<azl::test::Member> members = {azl::test::dir("etc")};
        for (int i = 0; i < 200; ++i)
        {
            members.push_back(azl::test::file("etc/f" + std::to_string(i), "x"));
        }
        azl::test::write_tar(box.path() / "many.tar.gz", members, "gzip");
        const auto e = expect_no_space(
            [&]
            { azl::rootfs::extract_archive(box.path() / "many.tar.gz", small.path() / "root"); });
        CAPTURE(e.what());
        CHECK(e.estimate() == azl::SizeEstimate::about);
        // A page each on tmpfs: the directory and 200 files.
        CHECK(e.needed() >= std::uint64_t{201} * 4096U);
        CHECK(e.needed() <= std::uint64_t{251} * 4096U);
    }
    SECTION("an uncompressed archive larger than the free space: refused before writing")
    {
        azl::test::write_tar(box.path() / "big.tar", {azl::test::file("blob", noise(512U << 10U))});
        const auto e = expect_no_space(
            [&] { azl::rootfs::extract_archive(box.path() / "big.tar", small.path() / "root"); });
        CAPTURE(e.what());
        CHECK(e.estimate() == azl::SizeEstimate::about);
        CHECK(e.needed() == fs::file_size(box.path() / "big.tar"));
    }
    CHECK(fs::is_empty(small.path()));
}
