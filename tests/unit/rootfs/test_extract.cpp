#include "archive_builder.hpp"
#include "test_support.hpp"

#include <azl/common/error.hpp>
#include <azl/rootfs/extract.hpp>

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using azl::UserError;
using azl::rootfs::extract_archive;
using azl::rootfs::ExtractOptions;
using azl::test::dir;
using azl::test::file;
using azl::test::hardlink;
using azl::test::Member;
using azl::test::Sandbox;
using azl::test::write_tar;
using Catch::Matchers::Contains;

namespace
{

std::vector<std::string> listing(const fs::path& d)
{
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(d))
    {
        names.push_back(e.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
}

struct stat lstat_of(const fs::path& p)
{
    struct stat st = {};
    REQUIRE(::lstat(p.c_str(), &st) == 0);
    return st;
}

std::string xattr_of(const fs::path& p, const char* name)
{
    std::array<char, 256> buf{};
    const ssize_t n = ::lgetxattr(p.c_str(), name, buf.data(), buf.size());
    return n < 0 ? std::string("<none>") : std::string(buf.data(), static_cast<std::size_t>(n));
}

// Extracting `archive` must fail with a UserError naming the archive and `needle` (usually the
// member), and leave nothing but `expected_listing` in the sandbox.
void expect_refused(
    const Sandbox& sb,
    const fs::path& archive,
    const std::string& needle,
    const ExtractOptions& options = {},
    std::vector<std::string> expected_listing = {})
{
    const fs::path dest = sb.path() / "dest";
    try
    {
        extract_archive(archive, dest, options);
        FAIL("extraction of " << archive << " succeeded");
    }
    catch (const UserError& e)
    {
        CHECK_THAT(e.what(), Contains(archive.string()));
        CHECK_THAT(e.what(), Contains(needle));
    }
    if (expected_listing.empty())
    {
        expected_listing = {archive.filename().string()};
    }
    CHECK(listing(sb.path()) == expected_listing);
}

// Overwrites the size field of the ustar header at `offset` with a base-256 number and fixes the
// header checksum: a header that claims more content than follows.
void patch_declared_size(std::string& tar, std::size_t offset, std::uint64_t size)
{
    char* h = tar.data() + offset;
    h[124] = static_cast<char>(0x80);
    for (int i = 11; i >= 1; --i)
    {
        h[124 + i] = static_cast<char>(size & 0xFFU);
        size >>= 8U;
    }
    std::memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (int i = 0; i < 512; ++i)
    {
        sum += static_cast<unsigned char>(h[i]);
    }
    REQUIRE(std::snprintf(h + 148, 8, "%06o", sum) == 6);
    h[155] = ' ';
}

} // namespace

TEST_CASE("extract refuses hostile member names and leaves nothing behind", "[extract]")
{
    struct Case
    {
        const char* title;
        std::vector<Member> members;
        std::string needle;
    };

    const std::vector<Case> cases = {
        {"parent traversal", {file("ok", "x"), file("../escape", "evil")}, "../escape"},
        {"absolute name", {file("/abs/path", "evil")}, "/abs/path"},
        {"traversal in the middle", {dir("a"), file("a/../../b", "evil")}, "a/../../b"},
        {"harmless-looking dotdot", {dir("a"), file("a/../b", "x")}, "a/../b"},
        {"symlink then write through it (relative)",
         {azl::test::symlink("link", "../.."), file("link/evil", "evil")},
         "link/evil"},
        {"hard link to an absolute path", {hardlink("pw", "/etc/passwd")}, "/etc/passwd"},
        {"hard link out of the tree", {file("a", "x"), hardlink("b", "../outside")}, "../outside"},
        {"hard link to a missing member", {file("a", "x"), hardlink("b", "nothere")}, "nothere"},
        {"hard link to a later member", {hardlink("b", "a"), file("a", "x")}, "b"},
        {"hard link to a directory", {dir("d"), hardlink("b", "d")}, "b"},
        {"duplicate file", {file("a", "one"), file("a", "two")}, "duplicate"},
        {"duplicate via another spelling",
         {file("etc/a", "one"), file("./etc//a", "two")},
         "./etc//a"},
        {"file replacing an implied directory",
         {file("d/x", "1"), file("d", "2")},
         "earlier members"},
        {"symlink replacing an implied directory",
         {file("d/x", "1"), azl::test::symlink("d", "/")},
         "earlier members"},
        {"write below a file", {file("f", "1"), file("f/child", "2")}, "f/child"},
        {"root that is not a directory", {azl::test::symlink("./", "/")}, "root"},
        {"empty name", {file("", "x")}, "empty"},
        {"refusal after a read-only directory",
         {dir("ro", 0555), file("ro/x", "1"), dir("ro/sub", 0500), file("../escape", "e")},
         "../escape"},
    };
    for (const auto& c : cases)
    {
        DYNAMIC_SECTION(c.title)
        {
            Sandbox sb;
            const fs::path archive = sb.path() / "hostile.tar";
            write_tar(archive, c.members);
            expect_refused(sb, archive, c.needle);
        }
    }
}

TEST_CASE("extract refuses writes through a symlink that points outside", "[extract]")
{
    Sandbox sb;
    const fs::path outside = sb.path() / "outside";
    fs::create_directory(outside);
    const fs::path archive = sb.path() / "escape.tar.gz";
    write_tar(
        archive,
        {dir("etc"),
         azl::test::symlink("etc/link", outside.string()),
         file("etc/link/evil", "pwned")},
        "gzip");
    expect_refused(sb, archive, "etc/link/evil", {}, {"escape.tar.gz", "outside"});
    CHECK(fs::is_empty(outside));
}

TEST_CASE("extract refuses truncated and corrupt compressed streams", "[extract]")
{
    Sandbox sb;
    std::string big(1U << 20U, '\0');
    for (std::size_t i = 0; i < big.size(); ++i)
    {
        big[i] = static_cast<char>((i * 7919U) >> 5U);
    }
    const std::vector<Member> members = {dir("etc"), file("etc/big", big), file("etc/after", "x")};

    SECTION("truncated gzip")
    {
        const std::string gz = azl::test::tar_bytes(members, "gzip");
        const fs::path archive = sb.write("cut.tar.gz", gz.substr(0, gz.size() / 2));
        expect_refused(sb, archive, "truncated");
    }
    SECTION("corrupt xz")
    {
        std::string xz = azl::test::tar_bytes(members, "xz");
        for (std::size_t i = xz.size() / 2; i < xz.size() / 2 + 64; ++i)
        {
            xz[i] = static_cast<char>(~static_cast<unsigned char>(xz[i]));
        }
        const fs::path archive = sb.write("bad.tar.xz", xz);
        expect_refused(sb, archive, "corrupt");
    }
    SECTION("not an archive")
    {
        const fs::path archive = sb.write("random.wsl", std::string(4096, 'z'));
        expect_refused(sb, archive, "not a tar archive");
    }
}

TEST_CASE("extract enforces its limits", "[extract]")
{
    Sandbox sb;
    ExtractOptions options;

    SECTION("a decompression bomb hits the total limit")
    {
        const fs::path archive = sb.path() / "bomb.tar.gz";
        write_tar(archive, {dir("d"), file("d/zeros", std::string(32U << 20U, '\0'))}, "gzip");
        REQUIRE(fs::file_size(archive) < (1U << 20U));
        options.limits.max_total_bytes = 1U << 20U;
        expect_refused(sb, archive, "d/zeros", options);
    }
    SECTION("many files together exceed the total limit")
    {
        const fs::path archive = sb.path() / "many.tar";
        const std::string chunk(600U << 10U, 'a');
        write_tar(archive, {file("a", chunk), file("b", chunk), file("c", chunk)});
        options.limits.max_total_bytes = 1U << 20U;
        expect_refused(sb, archive, "member b", options);
    }
    SECTION("one entry over the per-file limit")
    {
        const fs::path archive = sb.path() / "big.tar";
        write_tar(archive, {file("small", "x"), file("large", std::string(2000, 'b'))});
        options.limits.max_entry_bytes = 1000;
        expect_refused(sb, archive, "large", options);
    }
    SECTION("too many entries")
    {
        const fs::path archive = sb.path() / "count.tar";
        write_tar(archive, {file("1", ""), file("2", ""), file("3", ""), file("4", "")});
        options.limits.max_entries = 3;
        expect_refused(sb, archive, "more than 3 entries", options);
    }
    SECTION("a header claiming more than the free space")
    {
        std::string tar = azl::test::tar_bytes({file("huge", "tiny")});
        patch_declared_size(tar, 0, 1ULL << 60U);
        options.limits.max_entry_bytes = ~0ULL;
        const fs::path archive = sb.write("liar.tar", tar);
        // The one no-space error (common/disk_space.hpp): it names the destination, the claim.
        CHECK_THROWS_WITH(
            extract_archive(archive, sb.path() / "dest", options),
            Contains("for " + (sb.path() / "dest").string() + " (needed ~4096.0 PiB"));
        CHECK(listing(sb.path()) == std::vector<std::string>{"liar.tar"});
    }
}

TEST_CASE("extract needs a new destination in an existing directory", "[extract]")
{
    Sandbox sb;
    const fs::path archive = sb.path() / "ok.tar";
    write_tar(archive, {file("a", "x")});
    fs::create_directory(sb.path() / "dest");
    sb.write("dest/keep", "mine");
    CHECK_THROWS_AS(extract_archive(archive, sb.path() / "dest"), UserError);
    CHECK(listing(sb.path() / "dest") == std::vector<std::string>{"keep"});
    CHECK(listing(sb.path()) == std::vector<std::string>{"dest", "ok.tar"});

    CHECK_THROWS_WITH(
        extract_archive(archive, sb.path() / "no" / "dest"), Contains("does not exist"));
    CHECK_THROWS_WITH(
        extract_archive(sb.path() / "missing.tar", sb.path() / "d2"), Contains("missing.tar"));
    CHECK(listing(sb.path()) == std::vector<std::string>{"dest", "ok.tar"});
}

TEST_CASE("extract round-trips modes, links, fifos, times and xattrs", "[extract]")
{
    Sandbox sb;
    Member tool = file("./usr/bin/tool", "#!ELF-ish", 0755);
    tool.mtime = 1600000000;
    Member tagged = file("./etc/tagged", "t");
    tagged.xattrs = {{"user.origin", "test"}, {"trusted.note", "root-only"}};
    Member fifo;
    fifo.name = "./run/fifo";
    fifo.kind = Member::Kind::fifo;
    fifo.mode = 0600;
    Member ro_dir = dir("./ro", 0555);
    ro_dir.mtime = 1500000000;
    const std::vector<Member> members = {
        dir("./", 0755),
        dir("./etc", 0755),
        file("./etc/passwd", "root:x:0:0:root:/root:/bin/sh\n", 0644),
        tagged,
        tool,
        hardlink("./usr/bin/tool2", "./usr/bin/tool"),
        azl::test::symlink("./bin", "usr/bin"),
        azl::test::symlink("./etc/abs", "/etc/passwd"),
        azl::test::symlink("./dangling", "nowhere/at/all"),
        ro_dir,
        file("./ro/inside", "frozen", 0444),
        fifo,
        file("./usr/a/./b", "normalized"),
    };
    const fs::path archive = sb.path() / "good.wsl";
    write_tar(archive, members, "gzip");
    const fs::path dest = sb.path() / "rootfs";

    const auto result = extract_archive(archive, dest);

    CHECK(result.entries == members.size());
    std::uint64_t content = 0;
    for (const auto& m : members)
    {
        content += m.content.size();
    }
    CHECK(result.bytes == content);
    CHECK(listing(sb.path()) == std::vector<std::string>{"good.wsl", "rootfs"});
    CHECK((lstat_of(dest).st_mode & 07777) == 0755);
    CHECK(azl::test::slurp(dest / "etc/passwd") == "root:x:0:0:root:/root:/bin/sh\n");
    CHECK((lstat_of(dest / "usr/bin/tool").st_mode & 07777) == 0755);
    CHECK(lstat_of(dest / "usr/bin/tool").st_mtime == 1600000000);
    CHECK(lstat_of(dest / "usr/bin/tool").st_ino == lstat_of(dest / "usr/bin/tool2").st_ino);
    CHECK(fs::read_symlink(dest / "bin") == "usr/bin");
    CHECK(fs::read_symlink(dest / "etc/abs") == "/etc/passwd");
    CHECK(fs::read_symlink(dest / "dangling") == "nowhere/at/all");
    CHECK((lstat_of(dest / "ro").st_mode & 07777) == 0555);
    CHECK(lstat_of(dest / "ro").st_mtime == 1500000000);
    CHECK(azl::test::slurp(dest / "ro/inside") == "frozen");
    CHECK(S_ISFIFO(lstat_of(dest / "run/fifo").st_mode));
    CHECK(azl::test::slurp(dest / "usr/a/b") == "normalized");
    CHECK(xattr_of(dest / "etc/tagged", "user.origin") == "test");
    if (::geteuid() == 0)
    {
        CHECK(xattr_of(dest / "etc/tagged", "trusted.note") == "root-only");
    }
}

TEST_CASE("extract gives the tree 0755 when the archive has no root entry", "[extract]")
{
    Sandbox sb;
    const fs::path archive = sb.path() / "noroot.tar.xz";
    write_tar(archive, {dir("etc", 0700), file("etc/x", "1")}, "xz");
    extract_archive(archive, sb.path() / "out");
    CHECK((lstat_of(sb.path() / "out").st_mode & 07777) == 0755);
    CHECK((lstat_of(sb.path() / "out/etc").st_mode & 07777) == 0700);
}

TEST_CASE("extract as root keeps owners, setuid bits, capabilities and devices", "[extract][root]")
{
    if (::geteuid() != 0)
    {
        WARN("needs root: skipped");
        return;
    }
    Sandbox sb;
    Member owned = file("home/u/file", "mine", 0640);
    owned.uid = 1234;
    owned.gid = 2345;
    Member suid = file("usr/bin/su", "su", 04755);
    Member ping = file("usr/bin/ping", "ping", 0755);
    // vfs_cap_data revision 2, effective, permitted = CAP_NET_RAW (13).
    const std::string cap(
        "\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", 20);
    ping.xattrs = {{"security.capability", cap}};
    Member null;
    null.name = "dev/null";
    null.kind = Member::Kind::char_device;
    null.mode = 0666;
    const fs::path archive = sb.path() / "root.tar";
    write_tar(archive, {dir("home/u", 0700), owned, suid, ping, null});
    const fs::path dest = sb.path() / "tree";

    extract_archive(archive, dest);

    const struct stat st = lstat_of(dest / "home/u/file");
    CHECK(st.st_uid == 1234);
    CHECK(st.st_gid == 2345);
    CHECK((st.st_mode & 07777) == 0640);
    CHECK((lstat_of(dest / "usr/bin/su").st_mode & 07777) == 04755);
    CHECK(xattr_of(dest / "usr/bin/ping", "security.capability") == cap);
    const struct stat dev = lstat_of(dest / "dev/null");
    CHECK(S_ISCHR(dev.st_mode));
    CHECK(major(dev.st_rdev) == 1);
    CHECK(minor(dev.st_rdev) == 3);
}
