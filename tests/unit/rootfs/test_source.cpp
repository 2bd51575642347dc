#include "archive_builder.hpp"
#include "collect_sink.hpp"
#include "test_support.hpp"

#include <azl/common/error.hpp>
#include <azl/rootfs/flatten.hpp>
#include <azl/rootfs/source.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>

using namespace azl::rootfs;
using azl::test::dir;
using azl::test::file;
using azl::test::hardlink;
using azl::test::Member;
using nlohmann::json;
namespace fs = std::filesystem;

namespace
{

std::unique_ptr<azl::test::CollectSink> flatten_source(const Source& s)
{
    return azl::test::flatten_all(azl::test::layer_ptrs(s));
}

void write_bytes(const fs::path& path, const std::string& bytes)
{
    fs::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    REQUIRE(out.good());
}

constexpr const char* kLayerTar = "application/vnd.oci.image.layer.v1.tar";
constexpr const char* kLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
constexpr const char* kLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
constexpr const char* kManifest = "application/vnd.oci.image.manifest.v1+json";
constexpr const char* kIndex = "application/vnd.oci.image.index.v1+json";

// An OCI image layout built in memory, written as a directory or a tar.
struct Layout
{
    std::map<std::string, std::string> files;

    json blob(const std::string& media_type, const std::string& bytes)
    {
        const std::string hex = azl::test::sha256_hex(bytes);
        files["blobs/sha256/" + hex] = bytes;
        return {{"mediaType", media_type}, {"digest", "sha256:" + hex}, {"size", bytes.size()}};
    }

    // An image manifest descriptor; `layers` are (media type, blob bytes).
    json image(
        const std::vector<std::pair<std::string, std::string>>& layers,
        const std::string& arch = "amd64")
    {
        json config = {
            {"architecture", arch},
            {"os", "linux"},
            {"rootfs", {{"type", "layers"}, {"diff_ids", json::array()}}}};
        json manifest = {
            {"schemaVersion", 2},
            {"mediaType", kManifest},
            {"config", blob("application/vnd.oci.image.config.v1+json", config.dump())},
            {"layers", json::array()}};
        for (const auto& [media, bytes] : layers)
        {
            manifest["layers"].push_back(blob(media, bytes));
        }
        return blob(kManifest, manifest.dump());
    }

    void index(const json& manifests)
    {
        files["oci-layout"] = R"({"imageLayoutVersion":"1.0.0"})";
        files["index.json"] =
            json{{"schemaVersion", 2}, {"mediaType", kIndex}, {"manifests", manifests}}.dump();
    }

    void write_dir(const fs::path& root) const
    {
        for (const auto& [name, bytes] : files)
        {
            write_bytes(root / name, bytes);
        }
    }

    void write_tar(const fs::path& path, const std::string& compression = "none") const
    {
        std::vector<Member> members{dir("blobs"), dir("blobs/sha256")};
        for (const auto& [name, bytes] : files)
        {
            members.push_back(file(name, bytes));
        }
        azl::test::write_tar(path, members, compression);
    }
};

json with_platform(
    json desc, const std::string& os, const std::string& arch, const std::string& variant = "")
{
    desc["platform"] = {{"os", os}, {"architecture", arch}};
    if (!variant.empty())
    {
        desc["platform"]["variant"] = variant;
    }
    return desc;
}

std::string layer_with(
    const std::string& path, const std::string& content, const std::string& compression = "none")
{
    return azl::test::tar_bytes({file(path, content)}, compression);
}

} // namespace

TEST_CASE("source: a directory is walked in sorted order with its metadata", "[source]")
{
    azl::test::Sandbox box;
    const fs::path root = box.path() / "root";
    box.write("root/b/file", "bee", 0640);
    box.write("root/a", "aaa", 0755);
    fs::create_symlink("/etc/passwd", root / "link");
    REQUIRE(::link((root / "a").c_str(), (root / "hard").c_str()) == 0);
    REQUIRE(::mkfifo((root / "fifo").c_str(), 0600) == 0);
    const int sock = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const std::string sock_path = (root / "sock").string();
    std::strncpy(addr.sun_path, sock_path.c_str(), sizeof(addr.sun_path) - 1);
    REQUIRE(::bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    ::close(sock);

    const Source s = open_source(root);
    CHECK(s.format == SourceFormat::directory);
    REQUIRE(s.layers.size() == 1);
    const auto sink = flatten_source(s);
    CHECK(
        sink->paths() == std::vector<std::string>{".", "b", "a", "b/file", "fifo", "hard", "link"});
    CHECK(sink->at("a").content == "aaa");
    CHECK(sink->at("a").entry.mode == 0755);
    CHECK(sink->at("b/file").entry.mode == 0640);
    CHECK(sink->at("hard").entry.type == EntryType::hardlink);
    CHECK(sink->at("hard").entry.link_target == "a");
    CHECK(sink->at("link").entry.type == EntryType::symlink);
    CHECK(sink->at("link").entry.link_target == "/etc/passwd");
    CHECK(sink->at("fifo").entry.type == EntryType::fifo);
    CHECK(sink->find("sock") == nullptr);

    // A root given through a symlink is the directory it points to.
    fs::create_directory_symlink(root, box.path() / "alias");
    const auto via_link = flatten_source(open_source(box.path() / "alias"));
    CHECK(via_link->at(".").entry.type == EntryType::directory);
    CHECK(via_link->items.size() == sink->items.size());
}

TEST_CASE("source: directory xattrs (security.capability) and device nodes", "[source][root]")
{
    azl::test::Sandbox box;
    const fs::path root = box.path() / "root";
    box.write("root/ping", "elf", 0755);
    // VFS_CAP_REVISION_2 with CAP_NET_RAW permitted and effective.
    const std::string cap(
        "\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", 20);
    if (::setxattr((root / "ping").c_str(), "security.capability", cap.data(), cap.size(), 0) != 0)
    {
        WARN("cannot set security.capability here: " << std::strerror(errno));
        return;
    }
    const bool devices = ::mknod((root / "null").c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0;
    const auto sink = flatten_source(open_source(root));
    REQUIRE(sink->at("ping").entry.xattrs.size() == 1);
    CHECK(sink->at("ping").entry.xattrs.at(0).name == "security.capability");
    CHECK(sink->at("ping").entry.xattrs.at(0).value == cap);
    if (devices)
    {
        CHECK(sink->at("null").entry.type == EntryType::char_device);
        CHECK(sink->at("null").entry.rdev_major == 1);
        CHECK(sink->at("null").entry.rdev_minor == 3);
    }
}

TEST_CASE("source: tars are detected by content in every compression", "[source]")
{
    azl::test::Sandbox box;
    const std::vector<Member> members{
        dir("./etc"),
        file("./etc/os-release", "ID=azurelinux\n"),
        azl::test::symlink("./bin", "usr/bin"),
        hardlink("./etc/copy", "./etc/os-release")};
    for (const std::string compression : {"none", "gzip", "xz", "zstd", "bzip2"})
    {
        DYNAMIC_SECTION(compression)
        {
            const fs::path path = box.path() / ("rootfs-" + compression + ".txt");
            azl::test::write_tar(path, members, compression);
            const Source s = open_source(path);
            CHECK(s.format == SourceFormat::tar);
            CHECK(s.compression == compression);
            const auto sink = flatten_source(s);
            CHECK(
                sink->paths()
                == std::vector<std::string>{"etc", "etc/os-release", "bin", "etc/copy"});
            CHECK(sink->at("etc/os-release").content == "ID=azurelinux\n");
            CHECK(sink->at("etc/copy").entry.link_target == "etc/os-release");
            // Layers can be read again (the flattener reads each twice; builds may run twice).
            CHECK(flatten_source(s)->items.size() == 4);
        }
    }
}

TEST_CASE("source: garbage, empty and missing inputs are refused with their name", "[source]")
{
    azl::test::Sandbox box;
    const auto garbage = box.write("garbage.tar", std::string(4096, 'x'));
    CHECK_THROWS_WITH(
        open_source(garbage),
        Catch::Contains("garbage.tar: not a directory, tar archive, OCI layout or docker archive"));
    const auto empty = box.write("empty.tar.gz", "");
    CHECK_THROWS_WITH(open_source(empty), Catch::Contains("empty.tar.gz: empty file"));
    CHECK_THROWS_WITH(open_source(box.path() / "nothing"), Catch::Contains("nothing: cannot open"));
    write_bytes(
        box.path() / "text.gz", azl::test::tar_bytes({file("a", "b")}, "gzip").substr(0, 10));
    CHECK_THROWS_AS(open_source(box.path() / "text.gz"), azl::UserError);
}

TEST_CASE("source: corrupt and truncated layers give errors naming the file", "[source]")
{
    azl::test::Sandbox box;
    // Incompressible content, so that cutting the file cuts member data.
    std::string noise(300000, '\0');
    std::uint32_t x = 12345;
    for (auto& c : noise)
    {
        x = x * 1103515245U + 12345U;
        c = static_cast<char>(x >> 24U);
    }
    SECTION("truncated gzip stream")
    {
        const std::string full = azl::test::tar_bytes({file("a", noise)}, "gzip");
        write_bytes(box.path() / "cut.tar.gz", full.substr(0, full.size() / 2));
        CHECK_THROWS_WITH(
            open_source(box.path() / "cut.tar.gz"),
            Catch::Contains("cut.tar.gz") && Catch::Contains("truncated"));
    }
    SECTION("truncated plain tar")
    {
        const std::string full = azl::test::tar_bytes({file("first", "1"), file("big", noise)});
        write_bytes(box.path() / "cut.tar", full.substr(0, full.size() / 2));
        const Source s = open_source(box.path() / "cut.tar");
        CHECK_THROWS_WITH(
            flatten_source(s), Catch::Contains("cut.tar") && Catch::Contains("runcated"));
    }
    SECTION("corrupt xz data (the xz check catches it)")
    {
        std::string full = azl::test::tar_bytes({file("a", noise)}, "xz");
        full[full.size() / 2] = static_cast<char>(full[full.size() / 2] ^ 0x55);
        write_bytes(box.path() / "bad.tar.xz", full);
        CHECK_THROWS_WITH(open_source(box.path() / "bad.tar.xz"), Catch::Contains("bad.tar.xz"));
    }
    SECTION("hostile member name")
    {
        azl::test::write_tar(
            box.path() / "evil.tar", {file("ok", "1"), file("../../etc/passwd", "x")});
        const Source s = open_source(box.path() / "evil.tar");
        CHECK_THROWS_WITH(
            flatten_source(s),
            Catch::Contains("evil.tar") && Catch::Contains("'../../etc/passwd'"));
    }
}

TEST_CASE("source: OCI layout selects the manifest for the platform", "[source][oci]")
{
    azl::test::Sandbox box;
    Layout layout;
    const json amd = with_platform(
        layout.image(
            {{kLayerTar, layer_with("arch", "amd64")},
             {kLayerGzip, layer_with("two", "2", "gzip")}}),
        "linux",
        "amd64");
    const json arm = with_platform(
        layout.image({{kLayerZstd, layer_with("arch", "arm64", "zstd")}}, "arm64"),
        "linux",
        "arm64",
        "v8");
    layout.index(json::array({amd, arm}));
    const fs::path oci_dir = box.path() / "layout";
    layout.write_dir(oci_dir);
    layout.write_tar(box.path() / "image.bin");

    for (const fs::path& path : {oci_dir, box.path() / "image.bin"})
    {
        const Source amd_source = open_source(path);
        CHECK(amd_source.format == SourceFormat::oci_layout);
        REQUIRE(amd_source.layers.size() == 2);
        const auto amd_sink = flatten_source(amd_source);
        CHECK(amd_sink->at("arch").content == "amd64");
        CHECK(amd_sink->at("two").content == "2");

        const Source arm_source =
            open_source(path, SourceOptions{.platform = "linux/arm64", .spool_dir = box.path()});
        CHECK(flatten_source(arm_source)->at("arch").content == "arm64");

        CHECK_THROWS_WITH(
            open_source(path, SourceOptions{.platform = "linux/riscv64", .spool_dir = {}}),
            Catch::Contains("no image for platform linux/riscv64")
                && Catch::Contains("linux/amd64, linux/arm64/v8"));
        CHECK_THROWS_WITH(
            open_source(path, SourceOptions{.platform = "linux", .spool_dir = {}}),
            Catch::Contains("os/arch"));
    }
}

TEST_CASE("source: nested index and a single manifest without platform", "[source][oci]")
{
    azl::test::Sandbox box;
    Layout layout;
    const json inner =
        with_platform(layout.image({{kLayerTar, layer_with("x", "nested")}}), "linux", "amd64");
    const json nested =
        layout.blob(kIndex, json{{"schemaVersion", 2}, {"manifests", json::array({inner})}}.dump());
    layout.index(json::array({nested}));
    layout.write_dir(box.path() / "nested");
    CHECK(flatten_source(open_source(box.path() / "nested"))->at("x").content == "nested");

    Layout single;
    single.index(json::array({single.image({{kLayerTar, layer_with("y", "single")}}, "arm64")}));
    single.write_tar(box.path() / "single.tar", "gzip");
    const Source s = open_source(
        box.path() / "single.tar", SourceOptions{.platform = "linux/arm64/v8", .spool_dir = {}});
    CHECK(s.compression == "gzip");
    CHECK(flatten_source(s)->at("y").content == "single");
    // Its config says arm64: asking for amd64 is an error that names the right platform.
    CHECK_THROWS_WITH(
        open_source(box.path() / "single.tar"), Catch::Contains("linux/arm64/v8, not linux/amd64"));
}

TEST_CASE("source: empty layers are fine", "[source][oci]")
{
    azl::test::Sandbox box;
    Layout layout;
    layout.index(json::array({layout.image(
        {{kLayerTar, layer_with("a", "1")},
         {kLayerTar, azl::test::tar_bytes({})},
         {kLayerGzip, azl::test::tar_bytes({}, "gzip")}})}));
    layout.write_dir(box.path() / "l");
    const Source s = open_source(box.path() / "l");
    REQUIRE(s.layers.size() == 3);
    CHECK(flatten_source(s)->paths() == std::vector<std::string>{"a"});
}

TEST_CASE("source: OCI blobs are checked against digests and sizes", "[source][oci]")
{
    azl::test::Sandbox box;
    Layout layout;
    const std::string layer = layer_with("f", "good content");
    layout.index(json::array({layout.image({{kLayerTar, layer}})}));
    const std::string hex = azl::test::sha256_hex(layer);

    SECTION("content mismatch in a plain layer")
    {
        std::string bad = layer;
        bad.replace(bad.find("good"), 4, "evil");
        layout.files["blobs/sha256/" + hex] = bad;
        layout.write_dir(box.path() / "l");
        const Source s = open_source(box.path() / "l");
        CHECK_THROWS_WITH(
            flatten_source(s),
            Catch::Contains(hex) && Catch::Contains("does not match its digest"));
    }
    SECTION("content mismatch in a compressed layer")
    {
        Layout gz;
        const std::string compressed = layer_with("f", "good", "gzip");
        gz.index(json::array({gz.image({{kLayerGzip, compressed}})}));
        const std::string gz_hex = azl::test::sha256_hex(compressed);
        gz.files["blobs/sha256/" + gz_hex] = layer_with("f", "evil", "gzip");
        gz.files["blobs/sha256/" + gz_hex].resize(compressed.size());
        gz.write_tar(box.path() / "gz.tar");
        const Source s = open_source(box.path() / "gz.tar");
        CHECK_THROWS_WITH(flatten_source(s), Catch::Contains(gz_hex));
    }
    SECTION("missing blob")
    {
        layout.files.erase("blobs/sha256/" + hex);
        layout.write_tar(box.path() / "missing.tar");
        CHECK_THROWS_WITH(
            open_source(box.path() / "missing.tar"),
            Catch::Contains("sha256:" + hex) && Catch::Contains("missing"));
    }
    SECTION("size mismatch")
    {
        layout.files["blobs/sha256/" + hex] += std::string(512, '\0');
        layout.write_dir(box.path() / "size");
        CHECK_THROWS_WITH(open_source(box.path() / "size"), Catch::Contains("descriptor says"));
    }
}

TEST_CASE("source: docker save archives, old and new layouts", "[source][docker]")
{
    azl::test::Sandbox box;
    const std::string l1 = layer_with("etc/hostname", "one");
    const std::string l2 =
        azl::test::tar_bytes({file("etc/.wh.hostname", ""), file("etc/motd", "hi")});
    const std::string config = json{{"architecture", "amd64"}, {"os", "linux"}}.dump();
    const std::string config_name = azl::test::sha256_hex(config) + ".json";
    const std::string id1(64, 'a');
    const std::string id2(64, 'b');
    const std::string id3(64, 'c');
    json manifest = json::array(
        {{{"Config", config_name},
          {"RepoTags", {"azl:latest"}},
          {"Layers", {id1 + "/layer.tar", id2 + "/layer.tar", id3 + "/layer.tar"}}}});
    // Old docker stores a repeated layer as a symlink to its first copy.
    std::vector<Member> members{
        file("manifest.json", manifest.dump()),
        file(config_name, config),
        dir(id1),
        file(id1 + "/layer.tar", l1),
        dir(id2),
        file(id2 + "/layer.tar", l2),
        dir(id3),
        azl::test::symlink(id3 + "/layer.tar", "../" + id1 + "/layer.tar")};
    azl::test::write_tar(box.path() / "saved.tar", members);
    const Source s = open_source(box.path() / "saved.tar");
    CHECK(s.format == SourceFormat::docker_archive);
    REQUIRE(s.layers.size() == 3);
    const auto sink = flatten_source(s);
    CHECK(sink->at("etc/hostname").content == "one");
    CHECK(sink->at("etc/motd").content == "hi");

    SECTION("compressed outer archive and blobs/ layout")
    {
        const std::string layer_hex = azl::test::sha256_hex(l1);
        json m2 = json::array(
            {{{"Config", "blobs/sha256/" + azl::test::sha256_hex(config)},
              {"Layers", {"blobs/sha256/" + layer_hex}}}});
        azl::test::write_tar(
            box.path() / "new.tar.zst",
            {file("manifest.json", m2.dump()),
             file("blobs/sha256/" + azl::test::sha256_hex(config), config),
             file("blobs/sha256/" + layer_hex, l1)},
            "zstd");
        const Source s2 = open_source(box.path() / "new.tar.zst");
        CHECK(s2.format == SourceFormat::docker_archive);
        CHECK(flatten_source(s2)->at("etc/hostname").content == "one");
    }
    SECTION("several images are refused")
    {
        manifest.push_back(
            {{"Config", config_name}, {"RepoTags", {"other:1"}}, {"Layers", json::array()}});
        members.at(0) = file("manifest.json", manifest.dump());
        azl::test::write_tar(box.path() / "two.tar", members);
        CHECK_THROWS_WITH(
            open_source(box.path() / "two.tar"), Catch::Contains("2 images (azl:latest, other:1)"));
    }
    SECTION("a missing layer is named")
    {
        members.pop_back();
        azl::test::write_tar(box.path() / "short.tar", members);
        CHECK_THROWS_WITH(
            open_source(box.path() / "short.tar"), Catch::Contains(id3 + "/layer.tar"));
    }
}

TEST_CASE("source: injected layers validate their destinations", "[source]")
{
    azl::test::Sandbox box;
    const auto host = box.write("f", "x");
    CHECK_THROWS_WITH(
        make_file_layer(host, "../etc/x", std::nullopt), Catch::Contains("leaves the image root"));
    CHECK_THROWS_WITH(
        make_file_layer(host, "/", std::nullopt), Catch::Contains("image root itself"));
    CHECK_THROWS_AS(make_file_layer(box.path(), "/x", std::nullopt), azl::UserError);
    CHECK_THROWS_AS(make_directory_layer(host, "/x"), azl::UserError);
    CHECK_THROWS_AS(make_removal_layer({"/"}), azl::UserError);

    box.write("tree/sub/file", "content", 0600);
    const auto layer = make_directory_layer(box.path() / "tree", "/opt/app");
    const auto sink = azl::test::flatten_all({layer.get()});
    CHECK(
        sink->paths()
        == std::vector<std::string>{"opt", "opt/app", "opt/app/sub", "opt/app/sub/file"});
    CHECK(
        sink->at("opt/app").entry.mode == 0755); // the host directory's own metadata is not imposed
    CHECK(sink->at("opt/app/sub/file").entry.mode == 0600);
    CHECK(sink->at("opt/app/sub/file").entry.uid == 0);
    CHECK(sink->at("opt/app/sub/file").content == "content");

    const auto with_mode = make_file_layer(host, "/usr/bin/x", 04755U);
    CHECK(azl::test::flatten_all({with_mode.get()})->at("usr/bin/x").entry.mode == 04755);
}

TEST_CASE("source: an xattr stored in both pax forms is read once", "[source]")
{
    // libarchive's default pax writer (used by many image tools) records each xattr as SCHILY.xattr
    // and as LIBARCHIVE.xattr; the image must still carry it once.
    const azl::test::Sandbox box;
    Member m = file("usr/bin/ping", "ELF");
    m.xattrs = {{"security.capability", std::string("\x01\x00\x00\x02", 4)}, {"user.note", "v"}};
    const auto tar = box.path() / "caps.tar";
    azl::test::write_tar(tar, {dir("usr"), dir("usr/bin"), m});
    const auto sink = flatten_source(open_source(tar));
    const auto& xattrs = sink->at("usr/bin/ping").entry.xattrs;
    REQUIRE(xattrs.size() == 2);
    CHECK(xattrs.at(0).name == "security.capability");
    CHECK(xattrs.at(0).value == std::string("\x01\x00\x00\x02", 4));
    CHECK(xattrs.at(1).name == "user.note");
}
