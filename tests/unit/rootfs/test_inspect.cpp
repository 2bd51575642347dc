#include "archive_builder.hpp"
#include "test_support.hpp"

#include <azl/common/error.hpp>
#include <azl/rootfs/inspect.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using azl::rootfs::inspect_image;
using azl::rootfs::InspectReport;
using azl::test::dir;
using azl::test::file;
using azl::test::hardlink;
using azl::test::Member;
using azl::test::Sandbox;
using nlohmann::json;

namespace
{

const char* const kOsRelease = R"(# written by hand
NAME='Azure Linux'
PRETTY_NAME="Azure \"Linux\" 3.0 \$stable"
ID=azurelinux # trailing comment
VERSION_ID="3.0"
BROKEN LINE
 ANSI_COLOR="1;34"
)";

std::vector<Member> tree()
{
    Member fifo;
    fifo.name = "run/initctl";
    fifo.kind = Member::Kind::fifo;
    return {
        dir("etc"),
        dir("usr"),
        dir("usr/lib"),
        dir("usr/lib/wsl"),
        file("usr/lib/os-release", kOsRelease),
        azl::test::symlink("etc/os-release", "../usr/lib/os-release"),
        file("etc/wsl.conf", "[boot]\nsystemd=true\n"),
        file("etc/wsl-distribution.conf", "[oobe]\ndefaultUid=1000\n"),
        file("usr/lib/wsl/terminal-profile.json", R"({"profiles":[]})"),
        file("usr/bin/tool", "12345", 0755),
        hardlink("usr/bin/tool2", "usr/bin/tool"),
        fifo,
    };
}

std::uint64_t content_of(const std::vector<Member>& members)
{
    std::uint64_t bytes = 0;
    for (const auto& m : members)
    {
        bytes += m.kind == Member::Kind::file ? m.content.size() : 0;
    }
    return bytes;
}

// A two-layer OCI image layout directory: the upper layer deletes a file and adds another.
void write_oci_layout(const Sandbox& sb, const std::string& root)
{
    std::vector<std::pair<std::string, std::string>> blobs;
    const auto blob = [&blobs](const std::string& media, const std::string& bytes)
    {
        const std::string hex = azl::test::sha256_hex(bytes);
        blobs.emplace_back("blobs/sha256/" + hex, bytes);
        return json{{"mediaType", media}, {"digest", "sha256:" + hex}, {"size", bytes.size()}};
    };
    const std::string lower = azl::test::tar_bytes(tree(), "gzip");
    const std::string upper = azl::test::tar_bytes(
        {dir("etc"), file("etc/.wh.wsl.conf", ""), file("etc/motd", "hello")}, "gzip");
    const json config = {
        {"architecture", "amd64"},
        {"os", "linux"},
        {"rootfs", {{"type", "layers"}, {"diff_ids", json::array()}}}};
    const json manifest = {
        {"schemaVersion", 2},
        {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
        {"config", blob("application/vnd.oci.image.config.v1+json", config.dump())},
        {"layers",
         {blob("application/vnd.oci.image.layer.v1.tar+gzip", lower),
          blob("application/vnd.oci.image.layer.v1.tar+gzip", upper)}}};
    json desc = blob("application/vnd.oci.image.manifest.v1+json", manifest.dump());
    desc["platform"] = {{"os", "linux"}, {"architecture", "amd64"}};
    for (const auto& [name, bytes] : blobs)
    {
        sb.write((fs::path(root) / name).string(), bytes);
    }
    sb.write(root + "/oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
    sb.write(
        root + "/index.json",
        json{{"schemaVersion", 2}, {"manifests", json::array({desc})}}.dump());
}

} // namespace

TEST_CASE("inspect summarizes a compressed image file", "[inspect]")
{
    Sandbox sb;
    const fs::path image = sb.path() / "image.wsl";
    azl::test::write_tar(image, tree(), "xz");

    const InspectReport r = inspect_image(image);

    CHECK(r.format == "tar");
    CHECK(r.compression == "xz");
    CHECK(r.file_bytes == fs::file_size(image));
    CHECK(r.layers == 1);
    // The flattened tree adds the implied directories usr/bin and run.
    CHECK(r.directories == 6);
    CHECK(r.files == 5);
    CHECK(r.symlinks == 1);
    CHECK(r.hardlinks == 1);
    CHECK(r.other == 1);
    CHECK(r.entries == r.directories + r.files + r.symlinks + r.hardlinks + r.other);
    CHECK(r.content_bytes == content_of(tree()));
    CHECK(r.os_release.at("NAME") == "Azure Linux");
    CHECK(r.os_release.at("PRETTY_NAME") == "Azure \"Linux\" 3.0 $stable");
    CHECK(r.os_release.at("ID") == "azurelinux");
    CHECK(r.os_release.at("VERSION_ID") == "3.0");
    CHECK(r.os_release.at("ANSI_COLOR") == "1;34");
    CHECK_FALSE(r.os_release.contains("BROKEN LINE"));
    CHECK(
        r.wsl_files
        == std::vector<std::string>{
            "etc/wsl-distribution.conf", "etc/wsl.conf", "usr/lib/wsl/terminal-profile.json"});
}

TEST_CASE("inspect reads directories and flattens OCI layouts", "[inspect]")
{
    Sandbox sb;
    SECTION("directory")
    {
        sb.write("root/etc/os-release", "ID=debian\nVERSION_ID=12\n");
        const InspectReport r = inspect_image(sb.path() / "root");
        CHECK(r.format == "directory");
        CHECK(r.compression == "none");
        CHECK(r.file_bytes == 0);
        CHECK(r.files == 1);
        CHECK(r.os_release.at("ID") == "debian");
        CHECK(r.wsl_files.empty());
    }
    SECTION("OCI layout")
    {
        write_oci_layout(sb, "layout");
        const InspectReport r = inspect_image(sb.path() / "layout");
        CHECK(r.format == "oci-layout");
        CHECK(r.layers == 2);
        CHECK(r.files == 5); // wsl.conf deleted, motd added
        CHECK(r.os_release.at("VERSION_ID") == "3.0");
        CHECK(
            r.wsl_files
            == std::vector<std::string>{
                "etc/wsl-distribution.conf", "usr/lib/wsl/terminal-profile.json"});
    }
}

TEST_CASE("inspect's JSON has stable snake_case keys", "[inspect]")
{
    Sandbox sb;
    const fs::path image = sb.path() / "image.tar.gz";
    azl::test::write_tar(image, tree(), "gzip");
    const json j = azl::rootfs::to_json(inspect_image(image));
    std::vector<std::string> keys;
    for (const auto& [key, value] : j.items())
    {
        keys.push_back(key);
    }
    CHECK(
        keys
        == std::vector<std::string>{
            "compression",
            "content_bytes",
            "directories",
            "entries",
            "file_bytes",
            "files",
            "format",
            "hardlinks",
            "input",
            "layers",
            "os_release",
            "other",
            "symlinks",
            "wsl_files"});
    CHECK(j["compression"] == "gzip");
    CHECK(j["os_release"]["ID"] == "azurelinux");
    CHECK(j["wsl_files"].size() == 3);
}

TEST_CASE("inspect names an unreadable input", "[inspect]")
{
    Sandbox sb;
    CHECK_THROWS_AS(inspect_image(sb.path() / "missing.wsl"), azl::UserError);
    const fs::path junk = sb.write("junk.wsl", std::string(3000, 'j'));
    CHECK_THROWS_WITH(inspect_image(junk), Catch::Matchers::Contains("junk.wsl"));
}
