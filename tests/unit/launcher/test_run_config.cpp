// run and config, against the recording fake.
#include "fake_backend.hpp"

#include <azl/common/error.hpp>
#include <azl/launcher/commands.hpp>

#include <catch2/catch.hpp>

using azl::test::add_distro;
using azl::test::FakeBackend;
namespace L = azl::launcher;

TEST_CASE("run passes argv unquoted, or a command line to /bin/sh -c", "[run]")
{
    L::RunOptions o;
    o.command = {"printf", "%s\\n", "a b", "$HOME"};
    CHECK(L::run_argv(o) == o.command);
    o.command.clear();
    o.command_line = "echo $HOME | wc -c";
    CHECK(L::run_argv(o) == std::vector<std::string>{"/bin/sh", "-c", "echo $HOME | wc -c"});
    o.command = {"id"};
    CHECK_THROWS_WITH(L::run_argv(o), Catch::Contains("not both"));
    // Neither: the login shell (empty argv), as `wsl -u USER` opens it.
    CHECK(L::run_argv(L::RunOptions{}).empty());
}

TEST_CASE("run launches on the terminal as the asked user and returns the exit code", "[run]")
{
    FakeBackend b;
    add_distro(b);
    L::RunOptions o;
    o.command = {"no-such-program", "x"};
    o.user = "alice";
    o.cwd = "/tmp";
    CHECK(L::run(b, o) == 127);
    CHECK(
        b.calls.back()
        == "launch_interactive AzureLinux user=alice cwd=/tmp argv=[no-such-program|x]");

    o.name = "Missing";
    CHECK_THROWS_WITH(L::run(b, o), Catch::Contains("there is no distribution named Missing"));
}

TEST_CASE("config --default-user resolves the uid inside, as wsl --manage does", "[config]")
{
    FakeBackend b;
    add_distro(b);
    L::ConfigOptions o;
    o.default_user = "alice";
    const L::ConfigOutcome r = L::config(b, o);
    CHECK(
        b.calls_starting("launch AzureLinux user=root cwd=/ argv=[/usr/bin/id|-u|--|alice]").size()
        == 1);
    CHECK(
        b.calls_starting("configure")
        == std::vector<std::string>{"configure AzureLinux uid=1000 flags=7"});
    CHECK(r.changes == std::vector<std::string>{"default user: alice (uid 1000)"});
    CHECK(r.notes.empty());
}

TEST_CASE("config refuses a user that does not exist and changes nothing", "[config]")
{
    FakeBackend b;
    add_distro(b);
    L::ConfigOptions o;
    o.default_user = "bob";
    o.interop = false;
    CHECK_THROWS_WITH(L::config(b, o), Catch::Contains("there is no user bob in AzureLinux"));
    CHECK(b.calls_starting("configure").empty());
}

TEST_CASE("config flags go through configure, wsl.conf keys into the guest file", "[config]")
{
    FakeBackend b;
    add_distro(b);
    b.distros["AzureLinux"].files["/etc/wsl.conf"] =
        "# kept\n[boot]\ncommand = /usr/bin/azurelinux-bridge serve\n";
    L::ConfigOptions o;
    o.interop = false;
    o.mount_drives = false;
    o.systemd = true;
    o.hostname = "dev-box";
    const L::ConfigOutcome r = L::config(b, o);
    CHECK(
        b.calls_starting("configure")
        == std::vector<std::string>{"configure AzureLinux uid=0 flags=2"});
    const std::string conf = b.distros["AzureLinux"].files["/etc/wsl.conf"];
    CHECK_THAT(
        conf, Catch::StartsWith("# kept\n[boot]\ncommand = /usr/bin/azurelinux-bridge serve\n"));
    CHECK_THAT(conf, Catch::Contains("systemd = true"));
    CHECK_THAT(conf, Catch::Contains("[network]\nhostname = dev-box"));
    REQUIRE(r.notes.size() == 1);
    CHECK_THAT(r.notes[0], Catch::Contains("azurelinux terminate --name AzureLinux"));
    CHECK(r.changes.size() == 4);
}

TEST_CASE("config notes a [user] default that overrides the default user", "[config]")
{
    FakeBackend b;
    add_distro(b);
    b.distros["AzureLinux"].files["/etc/wsl.conf"] = "[user]\ndefault = root\n";
    L::ConfigOptions o;
    o.default_uid = 1000;
    const L::ConfigOutcome r = L::config(b, o);
    REQUIRE(r.notes.size() == 1);
    CHECK_THAT(r.notes[0], Catch::Contains("[user] default = root"));
}

TEST_CASE("config validates before changing anything", "[config]")
{
    FakeBackend b;
    add_distro(b);
    L::ConfigOptions o;
    CHECK_THROWS_WITH(L::config(b, o), Catch::Contains("nothing to change"));
    o.hostname = "-bad";
    o.interop = false;
    CHECK_THROWS_WITH(L::config(b, o), Catch::Contains("invalid host name '-bad'"));
    o.hostname.reset();
    o.default_uid = 1;
    o.default_user = "alice";
    CHECK_THROWS_WITH(L::config(b, o), Catch::Contains("not both"));
    CHECK(b.calls_starting("configure").empty());
    CHECK(b.calls_starting("launch").empty());
}
