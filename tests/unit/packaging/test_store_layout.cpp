#include "test_support.hpp"

#include <azl/common/error.hpp>
#include <azl/packaging/ico.hpp>
#include <azl/packaging/store_layout.hpp>

#include <catch2/catch.hpp>

#include <string>

namespace fs = std::filesystem;
using azl::UserError;
using azl::packaging::read_png_info;
using azl::packaging::render_appx_manifest;
using azl::packaging::StoreLayoutOptions;
using azl::packaging::write_store_layout;
using azl::test::Sandbox;
using azl::test::slurp;
using Catch::Matchers::Contains;

TEST_CASE("store-layout writes the manifest, logos, launcher and install.tar.gz", "[store]")
{
    Sandbox sb;
    const std::string gz("\x1f\x8b\x08\x00rest-of-a-gzip", 18);
    StoreLayoutOptions o;
    o.image = sb.write("AzureLinux.wsl", gz);
    o.launcher = sb.write("azurelinux.exe", "MZ\x90\x00");
    o.output_dir = sb.path() / "layout";
    o.display_name = "Azure Linux <&> \"4\"";
    const auto result = write_store_layout(o);
    CHECK(result.launcher_included);
    CHECK(slurp(o.output_dir / "install.tar.gz") == gz);
    CHECK(slurp(o.output_dir / "azurelinux.exe") == "MZ\x90");
    const std::string manifest = slurp(o.output_dir / "AppxManifest.xml");
    CHECK_THAT(manifest, Contains("Category=\"windows.appExecutionAlias\""));
    CHECK_THAT(manifest, Contains("Alias=\"azurelinux.exe\""));
    CHECK_THAT(manifest, Contains("Azure Linux &lt;&amp;&gt; &quot;4&quot;"));
    CHECK(read_png_info(slurp(o.output_dir / "Assets/Square150x150Logo.png"), "logo").width == 150);
    CHECK(read_png_info(slurp(o.output_dir / "Assets/StoreLogo.png"), "logo").width == 50);
    for (const auto& f : result.files)
    {
        CHECK(fs::is_regular_file(o.output_dir / f));
    }
    // Nothing but the layout beside it: the staging folder is gone.
    std::size_t entries = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(sb.path()))
    {
        ++entries;
    }
    CHECK(entries == 3);

    // A second run refuses the non-empty folder.
    CHECK_THROWS_WITH(write_store_layout(o), Contains("exists and is not an empty folder"));
}

TEST_CASE("store-layout refuses a non-gzip image and malformed fields", "[store]")
{
    Sandbox sb;
    StoreLayoutOptions o;
    o.image = sb.write(
        "AzureLinux.wsl",
        "\xfd"
        "7zXZ\x00");
    o.output_dir = sb.path() / "layout";
    CHECK_THROWS_WITH(write_store_layout(o), Contains("not gzip-compressed"));
    CHECK_FALSE(fs::exists(o.output_dir));

    StoreLayoutOptions bad;
    bad.version = "1.0";
    CHECK_THROWS_WITH(render_appx_manifest(bad), Contains("--version '1.0'"));
    bad = {};
    bad.version = "1.0.0.70000";
    CHECK_THROWS_AS(render_appx_manifest(bad), UserError);
    bad = {};
    bad.architecture = "x86";
    CHECK_THROWS_WITH(render_appx_manifest(bad), Contains("x64 or arm64"));
    bad = {};
    bad.publisher = "Contoso";
    CHECK_THROWS_WITH(render_appx_manifest(bad), Contains("CN="));
    bad = {};
    bad.identity_name = "a b";
    CHECK_THROWS_AS(render_appx_manifest(bad), UserError);
    bad = {};
    bad.alias = "azurelinux";
    CHECK_THROWS_WITH(render_appx_manifest(bad), Contains("--alias"));
}
