#include "archive_builder.hpp"
#include "test_support.hpp"

#include <azl/common/error.hpp>
#include <azl/common/process.hpp>
#include <azl/rootfs/build.hpp>

#include <archive.h>
#include <archive_entry.h>
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <map>

namespace
{

namespace fs = std::filesystem;
using azl::rootfs::AddDir;
using azl::rootfs::AddFile;
using azl::rootfs::BuildOptions;
using azl::rootfs::BuildResult;
using azl::rootfs::Compression;
using azl::rootfs::parse_add_dir;
using azl::rootfs::parse_add_file;
using azl::test::count_files;

// What an archive holds, by path: a type letter, the mode and the content of files.
struct ArchivedMember
{
    char type = '?';
    unsigned mode = 0;
    std::string content;
};

std::map<std::string, ArchivedMember> read_members(const fs::path& file)
{
    std::unique_ptr<archive, decltype(&archive_read_free)> a(
        archive_read_new(), &archive_read_free);
    archive_read_support_filter_all(a.get());
    archive_read_support_format_tar(a.get());
    REQUIRE(archive_read_open_filename(a.get(), file.c_str(), 65536) == ARCHIVE_OK);
    std::map<std::string, ArchivedMember> members;
    archive_entry* ae = nullptr;
    while (archive_read_next_header(a.get(), &ae) == ARCHIVE_OK)
    {
        std::string name = archive_entry_pathname(ae);
        while (name.size() > 1 && name.back() == '/')
        {
            name.pop_back();
        }
        ArchivedMember m;
        m.mode = static_cast<unsigned>(archive_entry_perm(ae));
        switch (archive_entry_filetype(ae))
        {
        case AE_IFDIR:
            m.type = 'd';
            break;
        case AE_IFLNK:
            m.type = 'l';
            break;
        default:
            m.type = archive_entry_hardlink(ae) != nullptr ? 'h' : 'f';
            break;
        }
        std::array<char, 8192> buf{};
        la_ssize_t n = 0;
        while ((n = archive_read_data(a.get(), buf.data(), buf.size())) > 0)
        {
            m.content.append(buf.data(), static_cast<std::size_t>(n));
        }
        REQUIRE(n == 0);
        INFO("duplicate member " << name);
        CHECK_FALSE(members.contains(name));
        members[name] = m;
    }
    return members;
}

// A small root filesystem as a directory.
fs::path make_rootfs_dir(const azl::test::Sandbox& box, const std::string& name)
{
    box.write(name + "/etc/os-release", "ID=azurelinux\nVERSION_ID=3.0\n");
    box.write(name + "/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n");
    box.write(name + "/etc/resolv.conf", "nameserver 10.0.0.1\n");
    box.write(name + "/usr/bin/hello", "#!/bin/sh\necho hello\n", 0755);
    return box.path() / name;
}

BuildOptions base_options(const fs::path& source, const fs::path& output)
{
    BuildOptions o;
    o.sources = {source};
    o.output = output;
    o.progress = azl::ProgressMode::off;
    o.write.source_date_epoch = 1700000000;
    return o;
}

} // namespace

TEST_CASE("parse_add_file accepts SRC:DEST and SRC:DEST:MODE", "[build]")
{
    const AddFile plain = parse_add_file("./wsl.conf:/etc/wsl.conf");
    CHECK(plain.source == "./wsl.conf");
    CHECK(plain.dest == "etc/wsl.conf");
    CHECK_FALSE(plain.mode.has_value());

    CHECK(parse_add_file("a:/etc/a:0644").mode == 0644U);
    CHECK(parse_add_file("a:/usr/bin/a:755").mode == 0755U);
    CHECK(parse_add_file("a:/usr/bin/a:4755").mode == 04755U);
    CHECK(parse_add_file("a:usr/lib/wsl/oobe").dest == "usr/lib/wsl/oobe");
    // A destination ending in '/' keeps the source's file name.
    CHECK(parse_add_file("conf/wsl.conf:/etc/").dest == "etc/wsl.conf");
    CHECK(parse_add_file("conf/wsl.conf:/").dest == "wsl.conf");
}

TEST_CASE("parse_add_file rejects malformed specs, quoting them", "[build]")
{
    const std::string spec = GENERATE(
        as<std::string>{},
        "wsl.conf",
        ":/etc/wsl.conf",
        "wsl.conf:",
        "wsl.conf:.",
        "wsl.conf:../etc/x",
        "wsl.conf:/etc/x:999",
        "wsl.conf:/etc/x:12345",
        "wsl.conf:/etc/x:rw",
        "wsl.conf:/etc/x:",
        "a:b:0644:extra");
    INFO(spec);
    CHECK_THROWS_AS(parse_add_file(spec), azl::UserError);
    CHECK_THROWS_WITH(parse_add_file(spec), Catch::Contains("'" + spec + "'"));
}

TEST_CASE("parse_add_dir accepts DIR:DEST and rejects the rest", "[build]")
{
    const AddDir root = parse_add_dir("overlay:/");
    CHECK(root.source == "overlay");
    CHECK(root.dest == ".");
    CHECK(parse_add_dir("./tools/:/opt/tools/").dest == "opt/tools");

    const std::string spec =
        GENERATE(as<std::string>{}, "overlay", ":/opt", "overlay:../x", "a:/b:c", "overlay:");
    INFO(spec);
    CHECK_THROWS_WITH(parse_add_dir(spec), Catch::Contains("'" + spec + "'"));
}

TEST_CASE("build_image writes the image and a sha256sum file next to it", "[build]")
{
    const azl::test::Sandbox box;
    const fs::path src = make_rootfs_dir(box, "rootfs");
    const fs::path out = box.path() / "AzureLinux.wsl";
    const BuildResult r = azl::rootfs::build_image(base_options(src, out));

    CHECK(r.archive.path == out);
    CHECK(r.archive.bytes == fs::file_size(out));
    CHECK(r.archive.sha256 == azl::test::sha256_hex(azl::test::slurp(out)));
    CHECK(r.checksum_file == box.path() / "AzureLinux.wsl.sha256");
    CHECK(azl::test::slurp(r.checksum_file) == r.archive.sha256 + "  AzureLinux.wsl\n");
    azl::ProcessOptions in_box;
    in_box.cwd = box.path();
    const auto check =
        azl::run_process({"sha256sum", "-c", r.checksum_file.filename().string()}, in_box);
    CHECK(check.ok());
    CHECK(r.warnings.empty());

    const auto members = read_members(out);
    CHECK(members.at("etc/passwd").content == "root:x:0:0:root:/root:/bin/bash\n");
    CHECK(members.at("usr/bin/hello").mode == 0755U);
    CHECK(members.at("etc").type == 'd');
    CHECK(r.archive.entries == members.size());
    CHECK(azl::run_process({"gzip", "-t", out.string()}).ok());
}

TEST_CASE("build_image layers sources, removals, --add-dir and --add in that order", "[build]")
{
    const azl::test::Sandbox box;
    const fs::path base = box.path() / "base.tar.gz";
    azl::test::write_tar(
        base,
        {azl::test::dir("etc"),
         azl::test::file("etc/os-release", "ID=azurelinux\n"),
         azl::test::file("etc/resolv.conf", "nameserver 1.1.1.1\n"),
         azl::test::dir("var/cache/tdnf"),
         azl::test::file("var/cache/tdnf/big", "cached")},
        "gzip");
    box.write("upper/etc/motd", "welcome\n");
    box.write("overlay/usr/lib/wsl/terminal.json", "{\"profiles\":[]}", 0640);
    const fs::path wsl_conf = box.write("wsl.conf", "[boot]\nsystemd=true\n", 0600);

    BuildOptions o = base_options(base, box.path() / "out.wsl");
    o.sources.push_back(box.path() / "upper");
    o.removes = {"/etc/resolv.conf", "/var/cache/tdnf", "/no/such/path"};
    o.add_dirs = {parse_add_dir((box.path() / "overlay").string() + ":/")};
    o.add_files = {parse_add_file(wsl_conf.string() + ":/etc/wsl.conf:0644")};
    const BuildResult r = azl::rootfs::build_image(o);

    const auto members = read_members(r.archive.path);
    CHECK(members.contains("etc/os-release"));
    CHECK(members.at("etc/motd").content == "welcome\n");
    CHECK_FALSE(members.contains("etc/resolv.conf"));
    CHECK_FALSE(members.contains("var/cache/tdnf"));
    CHECK_FALSE(members.contains("var/cache/tdnf/big"));
    CHECK(members.at("usr/lib/wsl/terminal.json").mode == 0640U);
    CHECK(members.at("etc/wsl.conf").content == "[boot]\nsystemd=true\n");
    CHECK(members.at("etc/wsl.conf").mode == 0644U);
    REQUIRE(r.warnings.size() == 1);
    CHECK_THAT(r.warnings[0], Catch::Contains("/no/such/path"));
}

TEST_CASE(
    "an ImageBuild checks its options when made, and a caller's files go under the user's",
    "[build]")
{
    const azl::test::Sandbox box;
    const fs::path base = box.path() / "base.tar";
    azl::test::write_tar(base, {azl::test::dir("etc"), azl::test::file("etc/motd", "base\n")});

    // The checks come first, before a caller adds anything.
    BuildOptions bad = base_options(base, box.path() / "out.wsl");
    bad.write.compression = Compression::zstd;
    CHECK_THROWS_WITH(azl::rootfs::ImageBuild(bad), Catch::Contains("must be gzip or xz"));

    const fs::path preset_motd = box.write("preset-motd", "preset\n");
    const fs::path preset_issue = box.write("preset-issue", "preset issue\n");
    const fs::path user_motd = box.write("user-motd", "user\n");
    BuildOptions o = base_options(base, box.path() / "out.wsl");
    o.add_files = {parse_add_file(user_motd.string() + ":/etc/motd")};
    azl::rootfs::ImageBuild build(o);
    build.add_preset_file(AddFile{preset_motd, "etc/motd", 0644});
    build.add_preset_file(AddFile{preset_issue, "etc/issue", 0644});
    const BuildResult r = build.run();
    const auto members = read_members(r.archive.path);
    CHECK(members.at("etc/motd").content == "user\n"); // the user's --add wins
    CHECK(members.at("etc/issue").content == "preset issue\n");
}

TEST_CASE("build_image is reproducible", "[build]")
{
    const azl::test::Sandbox box;
    const fs::path src = make_rootfs_dir(box, "rootfs");
    BuildOptions o = base_options(src, box.path() / "a.wsl");
    o.write.threads = 1;
    const BuildResult a = azl::rootfs::build_image(o);
    o.output = box.path() / "b.wsl";
    o.write.threads = 3;
    const BuildResult b = azl::rootfs::build_image(o);
    CHECK(a.archive.sha256 == b.archive.sha256);
    CHECK((azl::test::slurp(a.archive.path) == azl::test::slurp(b.archive.path)));
}

TEST_CASE("build_image validates its inputs before writing anything", "[build]")
{
    const azl::test::Sandbox box;
    const fs::path tree = make_rootfs_dir(box, "rootfs");
    const fs::path tar = box.path() / "rootfs.tar";
    azl::test::write_tar(tar, {azl::test::file("etc/os-release", "ID=x\n")});
    const std::size_t before = count_files(box.path());

    SECTION("missing source")
    {
        const fs::path missing = box.path() / "nope.tar";
        CHECK_THROWS_WITH(
            azl::rootfs::build_image(base_options(missing, box.path() / "o.wsl")),
            Catch::Contains(missing.string()) && Catch::Contains("does not exist"));
    }
    SECTION("output is a directory")
    {
        CHECK_THROWS_WITH(
            azl::rootfs::build_image(base_options(tar, tree)),
            Catch::Contains(tree.string()) && Catch::Contains("is a directory"));
    }
    SECTION("output is the source")
    {
        CHECK_THROWS_WITH(
            azl::rootfs::build_image(base_options(tar, tar)),
            Catch::Contains("is also the source"));
        CHECK_FALSE(azl::test::slurp(tar).empty());
    }
    SECTION("output inside the source directory")
    {
        CHECK_THROWS_WITH(
            azl::rootfs::build_image(base_options(tree, tree / "etc" / "o.wsl")),
            Catch::Contains("inside the source"));
        CHECK_FALSE(fs::exists(tree / "etc" / "o.wsl"));
    }
    SECTION("a .wsl file that WSL could not import")
    {
        BuildOptions o = base_options(tar, box.path() / "o.wsl");
        o.write.compression = Compression::zstd;
        CHECK_THROWS_WITH(
            azl::rootfs::build_image(o),
            Catch::Contains("a .wsl file must be gzip or xz compressed"));
    }
    SECTION("a level out of range")
    {
        BuildOptions o = base_options(tar, box.path() / "o.wsl");
        o.write.level = 15;
        CHECK_THROWS_WITH(
            azl::rootfs::build_image(o), "--level 15 is out of range for gzip (1-12)");
    }
    SECTION("a missing --add file")
    {
        BuildOptions o = base_options(tar, box.path() / "o.wsl");
        o.add_files = {parse_add_file((box.path() / "absent.conf").string() + ":/etc/x")};
        CHECK_THROWS_WITH(azl::rootfs::build_image(o), Catch::Contains("absent.conf"));
    }
    CHECK(count_files(box.path()) == before);
}

TEST_CASE("other compressions are fine outside .wsl names", "[build]")
{
    const azl::test::Sandbox box;
    const fs::path src = make_rootfs_dir(box, "rootfs");
    BuildOptions o = base_options(src, box.path() / "image.tar.zst");
    o.write.compression = Compression::zstd;
    const BuildResult r = azl::rootfs::build_image(o);
    CHECK(
        read_members(r.archive.path).at("etc/passwd").content
        == "root:x:0:0:root:/root:/bin/bash\n");
}

TEST_CASE(
    "a failed build leaves neither the image nor its checksum, and keeps an older image", "[build]")
{
    const azl::test::Sandbox box;
    const std::string good = azl::test::tar_bytes(
        {azl::test::file("etc/os-release", "ID=x\n"),
         azl::test::file("usr/big", std::string(200000, 'x'))},
        "gzip");
    const fs::path broken = box.path() / "broken.tar.gz";
    {
        // A gzip stream cut in the middle: the failure comes while reading, after writing started.
        const std::string cut = good.substr(0, good.size() / 2);
        box.write("broken.tar.gz", cut);
    }
    const fs::path out = box.path() / "out.wsl";
    box.write("out.wsl", "previous image");
    CHECK_THROWS_AS(azl::rootfs::build_image(base_options(broken, out)), azl::UserError);
    CHECK(azl::test::slurp(out) == "previous image");
    CHECK_FALSE(fs::exists(box.path() / "out.wsl.sha256"));
    CHECK(count_files(box.path()) == 2); // the source and the previous image, no temporary files
}
