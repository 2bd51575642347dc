// get, list, backup, uninstall, shell quoting and the format helpers.
#include "fake_backend.hpp"

#include <azl/common/error.hpp>
#include <azl/common/fs.hpp>
#include <azl/launcher/commands.hpp>
#include <azl/launcher/shell_quote.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <test_support.hpp>

using azl::test::FakeBackend;
using azl::test::FakeConsole;
namespace L = azl::launcher;

namespace
{

// AzureLinux with alice as its default user, append-path off, stored in /store/AzureLinux.
void add_configured_distro(FakeBackend& b)
{
    azl::test::FakeDistro& d = azl::test::add_distro(b, 1000);
    d.config.flags.append_path = false;
    d.location = "/store/AzureLinux";
}

} // namespace

TEST_CASE("get prints one value alone and several as key: value", "[get]")
{
    FakeBackend b;
    add_configured_distro(b);
    const L::DistroDetails d = L::get_details(b, "AzureLinux");
    L::GetFields one;
    one.default_user = true;
    CHECK(L::format_get(d, one) == "alice\n");
    L::GetFields two;
    two.default_uid = true;
    two.flags = true;
    CHECK(
        L::format_get(d, two)
        == "default-uid: 1000\nflags: 5 (interop on, append-path off, mount-drives on)\n");
    const std::string all = L::format_get(d, L::GetFields{});
    CHECK_THAT(all, Catch::Contains("name: AzureLinux\nstate: Stopped\ndefault-user: alice\n"));
    CHECK_THAT(all, Catch::Contains("location: /store/AzureLinux\nsetup: finished\n"));
    const auto j = nlohmann::json::parse(L::format_get_json(d, two));
    CHECK(j.at("default_uid") == 1000);
    CHECK(j.at("flags").at("value") == 5);
    CHECK(j.at("flags").at("append_path") == false);
    CHECK_FALSE(j.contains("name"));
    CHECK_THROWS_WITH(
        L::get_details(b, "Nope"), Catch::Contains("there is no distribution named Nope"));
}

TEST_CASE("list shows a table, a hint when empty, and JSON", "[list]")
{
    FakeBackend b;
    add_configured_distro(b);
    CHECK_THAT(L::format_list({}), Catch::Contains("azurelinux install"));
    const std::string table = L::format_list(b.list());
    CHECK_THAT(table, Catch::StartsWith("  NAME"));
    CHECK_THAT(
        table,
        Catch::Contains("AzureLinux") && Catch::Contains("Stopped") && Catch::Contains("alice")
            && Catch::Contains("/store/AzureLinux"));
    const auto j = nlohmann::json::parse(L::format_list_json(b.list()));
    REQUIRE(j.size() == 1);
    CHECK(j[0].at("name") == "AzureLinux");
    CHECK(j[0].at("default_user") == "alice");
    CHECK(j[0].at("state") == "Stopped");
}

TEST_CASE("backup picks the format from the name and refuses to overwrite", "[backup]")
{
    FakeBackend b;
    add_configured_distro(b);
    FakeConsole console;
    azl::test::Sandbox dir;
    const L::CommandEnv env{.console = console, .exe_dir = dir.path()};
    L::BackupOptions o;
    o.output = dir.path() / "b.tar.xz";
    CHECK(L::backup(b, o, env) == L::ArchiveFormat::tar_xz);
    o.output = dir.path() / "b.backup";
    CHECK(L::backup(b, o, env) == L::ArchiveFormat::tar_gz);
    o.format = L::ArchiveFormat::tar;
    CHECK(L::backup(b, o, env) == L::ArchiveFormat::tar);
    CHECK(b.calls_starting("export_to").size() == 3);
    CHECK(
        b.calls_starting("export_to").back()
        == "export_to AzureLinux " + o.output.string() + " tar");

    o.output = dir.path() / "b.tar.gz";
    CHECK_THROWS_WITH(L::backup(b, o, env), Catch::Contains("--format tar does not match"));
    o.format.reset();
    o.output = dir.write("exists.tar.gz", "x");
    CHECK_THROWS_WITH(L::backup(b, o, env), Catch::Contains("already exists"));
    o.force = true;
    CHECK_NOTHROW(L::backup(b, o, env));
}

TEST_CASE("backup writes the settings wsl --export leaves out beside the file", "[backup]")
{
    FakeBackend b;
    add_configured_distro(b);
    FakeConsole console;
    azl::test::Sandbox dir;
    const L::CommandEnv env{.console = console, .exe_dir = dir.path()};
    L::BackupOptions o;
    o.output = dir.path() / "b.tar.gz";
    L::backup(b, o, env);
    const auto j = nlohmann::json::parse(azl::read_file(dir.path() / "b.tar.gz.json"));
    CHECK(j.at("version") == 1);
    CHECK(j.at("default_uid") == 1000);
    CHECK(j.at("default_user") == "alice");
    CHECK(j.at("flags").at("interop") == true);
    CHECK(j.at("flags").at("append_path") == false);
    CHECK(j.at("flags").at("mount_drives") == true);
}

TEST_CASE("uninstall asks on a terminal and refuses elsewhere without --yes", "[uninstall]")
{
    FakeBackend b;
    add_configured_distro(b);
    FakeConsole console;
    const L::CommandEnv env{.console = console, .exe_dir = {}};
    L::UninstallOptions o;
    CHECK_THROWS_WITH(L::uninstall(b, o, env), Catch::Contains("without confirmation"));
    console.is_interactive = true;
    console.answers = {false};
    CHECK_FALSE(L::uninstall(b, o, env));
    CHECK(b.distros.contains("AzureLinux"));
    CHECK(console.questions.size() == 1);
    console.is_interactive = false;
    o.yes = true;
    CHECK(L::uninstall(b, o, env));
    CHECK_FALSE(b.distros.contains("AzureLinux"));
    CHECK_THROWS_WITH(L::uninstall(b, o, env), Catch::Contains("there is no distribution"));
}

TEST_CASE("shell_join quotes each word so sh -c execs exactly argv", "[quote]")
{
    CHECK(L::shell_quote("plain-word_1.2/x:y@z%+,") == "plain-word_1.2/x:y@z%+,");
    // A first word with '=' would be a variable assignment: argv[0] "A=b" must stay a command.
    CHECK(L::shell_join({"A=b", "x=y"}) == "'A=b' 'x=y'");
    CHECK(L::shell_quote("") == "''");
    CHECK(L::shell_quote("a b") == "'a b'");
    CHECK(L::shell_quote("it's") == R"('it'\''s')");
    CHECK(L::shell_quote("$HOME;`x`|&*?~") == "'$HOME;`x`|&*?~'");
    CHECK(L::shell_join({"printf", "%s\n", "a b", ""}) == "printf '%s\n' 'a b' ''");
}

TEST_CASE("archive formats by name and by file name", "[backup]")
{
    CHECK(L::parse_archive_format("tar.xz") == L::ArchiveFormat::tar_xz);
    CHECK_THROWS_WITH(L::parse_archive_format("zip"), Catch::Contains("unknown format 'zip'"));
    CHECK(L::archive_format_from_path("a/B.WSL") == L::ArchiveFormat::tar_gz);
    CHECK(L::archive_format_from_path("x.tgz") == L::ArchiveFormat::tar_gz);
    CHECK(L::archive_format_from_path("x.tar") == L::ArchiveFormat::tar);
    CHECK(L::archive_format_from_path("x.vhdx") == L::ArchiveFormat::vhdx);
    CHECK(L::archive_format_from_path("x.zip") == std::nullopt);
    CHECK(L::DistroFlags::from_wsl(5).to_wsl() == 5);
    CHECK_FALSE(L::DistroFlags::from_wsl(5).append_path);
}
