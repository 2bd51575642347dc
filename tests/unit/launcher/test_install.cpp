// install, first-run setup, the no-argument launch and restore, against the recording fake.
#include "fake_backend.hpp"

#include <azl/common/error.hpp>
#include <azl/launcher/commands.hpp>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <test_support.hpp>

using azl::test::FakeBackend;
using azl::test::FakeConsole;
namespace L = azl::launcher;

namespace
{

const std::string kDigest(64, 'a');

struct InstallFixture : azl::test::CommandFixture
{
    [[nodiscard]] L::InstallOptions options_for(const std::string& image) const
    {
        L::InstallOptions o;
        o.from = dir.write(image, "image bytes");
        return o;
    }
};

} // namespace

TEST_CASE("install registers the image, then runs first-run setup as root like WSL", "[install]")
{
    InstallFixture f;
    L::InstallOptions o = f.options_for("AzureLinux.wsl");
    f.dir.write("AzureLinux.wsl.sha256", kDigest + "  AzureLinux.wsl\n");
    const L::InstallOutcome r = L::install(f.backend, o, f.env);

    CHECK(r.setup == L::SetupOutcome::done);
    CHECK(r.default_uid == 1000);
    CHECK(r.sha256 == kDigest);
    const std::string image = (f.dir.path() / "AzureLinux.wsl").string();
    const std::string read_conf = fmt::format(
        "launch AzureLinux user=root cwd=/ argv=[/bin/sh|-c|{}|sh|/etc/wsl-distribution.conf]",
        R"(test -e "$1" || exit 3; exec cat -- "$1")");
    const std::string run_oobe = fmt::format(
        "launch_interactive AzureLinux user=root cwd=- argv=[/bin/sh|-c|{}]",
        "/usr/lib/wsl/azurelinux-oobe");
    const std::string probe_oobe =
        "launch AzureLinux user=root cwd=- argv=[/bin/sh|-c|/usr/lib/wsl/azurelinux-oobe --help]";
    CHECK(
        f.backend.calls
        == std::vector<std::string>{
            "is_registered AzureLinux",
            "install AzureLinux from " + image + " sha256=" + kDigest + " kind=image location=-",
            read_conf,
            probe_oobe,
            run_oobe,
            "get_configuration AzureLinux",
            "configure AzureLinux uid=1000 flags=7",
            "set_setup_pending AzureLinux false",
            "get_configuration AzureLinux",
        });
    CHECK_FALSE(f.backend.distros.at("AzureLinux").config.setup_pending);
}

TEST_CASE(
    "install --answers shares the file and appends its guest path to the OOBE command", "[install]")
{
    InstallFixture f;
    L::InstallOptions o = f.options_for("img.wsl");
    o.name = "Dev";
    o.answers = f.dir.write("answers.json", "{}");
    L::install(f.backend, o, f.env);
    const auto runs = f.backend.calls_starting("launch_interactive");
    REQUIRE(runs.size() == 1);
    CHECK(
        runs[0]
        == "launch_interactive Dev user=root cwd=- answers=" + o.answers->string()
               + " argv=[/bin/sh|-c|/usr/lib/wsl/azurelinux-oobe --answers "
                 "/run/azurelinux/answers.json]");
}

TEST_CASE("install --root and --no-launch start nothing", "[install]")
{
    InstallFixture f;
    L::InstallOptions o = f.options_for("img.wsl");
    o.root = true;
    CHECK(L::install(f.backend, o, f.env).setup == L::SetupOutcome::skipped_root);
    CHECK(f.backend.calls_starting("launch").empty());
    // Registered without setup pending in one step: no window in which a kill leaves it pending.
    CHECK(f.backend.calls_starting("set_setup_pending").empty());
    CHECK(f.backend.calls_starting("install").at(0).find("kind=image-root") != std::string::npos);
    CHECK_FALSE(f.backend.distros.at("AzureLinux").config.setup_pending);
    CHECK(f.backend.distros.at("AzureLinux").config.default_uid == 0);

    o.root = false;
    o.no_launch = true;
    o.name = "Later";
    CHECK(L::install(f.backend, o, f.env).setup == L::SetupOutcome::deferred);
    CHECK(f.backend.calls_starting("launch").empty());
    CHECK(f.backend.distros.at("Later").config.setup_pending);
}

TEST_CASE(
    "a failed first-run setup leaves the distribution installed with setup pending", "[install]")
{
    InstallFixture f;
    f.backend.new_oobe_exit = 3;
    L::InstallOptions o = f.options_for("img.wsl");
    CHECK_THROWS_WITH(
        L::install(f.backend, o, f.env),
        Catch::Contains("first-run setup \"/usr/lib/wsl/azurelinux-oobe\" of "
                        "AzureLinux failed (exit 3)"));
    CHECK(f.backend.distros.at("AzureLinux").config.setup_pending);
    CHECK(f.backend.calls_starting("configure").empty());
    CHECK(f.backend.calls_starting("set_setup_pending").empty());

    // The next launch runs it again; this time it succeeds.
    f.backend.distros.at("AzureLinux").oobe_exit = 0;
    CHECK(L::run_first_run(f.backend, "AzureLinux", std::nullopt, f.env) == L::SetupOutcome::done);
    CHECK_FALSE(f.backend.distros.at("AzureLinux").config.setup_pending);
    CHECK(f.backend.distros.at("AzureLinux").config.default_uid == 1000);
}

TEST_CASE(
    "after an interrupted install --answers, install points to setup, which finishes it",
    "[install]")
{
    InstallFixture f;
    f.backend.new_oobe_exit = 137; // killed
    L::InstallOptions o = f.options_for("img.wsl");
    o.answers = f.dir.write("answers.json", "{}");
    CHECK_THROWS(L::install(f.backend, o, f.env));

    // The same install again is refused, saying how to finish instead.
    CHECK_THROWS_MATCHES(
        L::install(f.backend, o, f.env),
        azl::UserError,
        Catch::Matchers::Predicate<azl::UserError>(
            [](const azl::UserError& e)
            {
                return std::string(e.what()).find("did not finish") != std::string::npos
                       && e.hint().find("azurelinux setup --name AzureLinux") != std::string::npos;
            },
            "names the unfinished setup and the setup command"));

    f.backend.distros.at("AzureLinux").oobe_exit = 0;
    const std::size_t before = f.backend.calls_starting("launch_interactive").size();
    CHECK(L::finish_setup(f.backend, "AzureLinux", o.answers, f.env) == L::SetupOutcome::done);
    const auto launches = f.backend.calls_starting("launch_interactive");
    REQUIRE(launches.size() == before + 1);
    CHECK_THAT(launches.back(), Catch::Contains("answers=" + o.answers->string()));
    CHECK_FALSE(f.backend.distros.at("AzureLinux").config.setup_pending);
    CHECK(f.backend.distros.at("AzureLinux").config.default_uid == 1000);

    // Finished: running it again does nothing.
    CHECK(
        L::finish_setup(f.backend, "AzureLinux", std::nullopt, f.env)
        == L::SetupOutcome::not_needed);
    CHECK(f.backend.calls_starting("launch_interactive").size() == before + 1);
    CHECK_THROWS_WITH(
        L::finish_setup(f.backend, "Nope", std::nullopt, f.env),
        Catch::Contains("there is no distribution named Nope"));
}

TEST_CASE("an image without an [oobe] command needs no setup", "[install]")
{
    InstallFixture f;
    f.backend.image_files.clear();
    L::InstallOptions o = f.options_for("plain.tar.gz");
    o.answers = f.dir.write("answers.json", "{}");
    CHECK(L::install(f.backend, o, f.env).setup == L::SetupOutcome::not_needed);
    CHECK(f.backend.calls_starting("launch_interactive").empty());
    CHECK_FALSE(f.backend.distros.at("AzureLinux").config.setup_pending);
    REQUIRE(f.console.lines.size() == 2);
    CHECK_THAT(f.console.lines[1], Catch::Contains("was not used"));
}

TEST_CASE("install refuses bad input before touching the backend", "[install]")
{
    InstallFixture f;
    L::InstallOptions o = f.options_for("img.wsl");

    SECTION("a missing image")
    {
        o.from = f.dir.path() / "missing.wsl";
        CHECK_THROWS_WITH(
            L::install(f.backend, o, f.env), Catch::Contains("missing.wsl does not exist"));
    }
    SECTION("a name taken")
    {
        f.backend.distros["AzureLinux"] = {};
        CHECK_THROWS_WITH(
            L::install(f.backend, o, f.env),
            Catch::Contains("a distribution named AzureLinux is already installed"));
    }
    SECTION("an invalid name")
    {
        o.name = "../etc";
        CHECK_THROWS_WITH(
            L::install(f.backend, o, f.env), Catch::Contains("invalid distribution name"));
    }
    SECTION("a malformed --sha256")
    {
        o.sha256 = "abc";
        CHECK_THROWS_WITH(
            L::install(f.backend, o, f.env), Catch::Contains("is not a SHA-256 digest"));
    }
    SECTION("a malformed .sha256 file")
    {
        f.dir.write("img.wsl.sha256", "not a digest\n");
        CHECK_THROWS_WITH(
            L::install(f.backend, o, f.env),
            Catch::Contains("img.wsl.sha256 does not start with a SHA-256 digest"));
    }
    SECTION("a missing answers file")
    {
        o.answers = f.dir.path() / "nope.json";
        CHECK_THROWS_WITH(
            L::install(f.backend, o, f.env),
            Catch::Contains("answers file") && Catch::Contains("nope.json does not exist"));
    }
    SECTION("--answers with --root")
    {
        o.answers = f.dir.write("a.json", "{}");
        o.root = true;
        CHECK_THROWS_WITH(
            L::install(f.backend, o, f.env), Catch::Contains("--answers runs first-run setup"));
    }
    CHECK(f.backend.calls_starting("install").empty());
}

TEST_CASE("install: --sha256 wins over the .sha256 file and is normalized", "[install]")
{
    azl::test::Sandbox dir;
    const auto image = dir.write("x.wsl", "x");
    dir.write("x.wsl.sha256", kDigest + "  x.wsl\n");
    const std::string upper = "sha256:" + std::string(64, 'B');
    CHECK(L::expected_sha256(image, upper) == std::string(64, 'b'));
    CHECK(L::expected_sha256(image, std::nullopt) == kDigest);
    CHECK(L::expected_sha256(dir.write("y.wsl", "y"), std::nullopt) == std::nullopt);
}

TEST_CASE("the shipped image is the one .wsl file beside the launcher", "[install]")
{
    azl::test::Sandbox dir;
    CHECK_THROWS_WITH(L::find_shipped_image(dir.path()), Catch::Contains("no image to install"));
    const auto one = dir.write("Other.wsl", "x");
    CHECK(L::find_shipped_image(dir.path()) == one);
    dir.write("Second.wsl", "x");
    CHECK_THROWS_WITH(L::find_shipped_image(dir.path()), Catch::Contains("2 .wsl files"));
    const auto preferred = dir.write("AzureLinux.wsl", "x");
    CHECK(L::find_shipped_image(dir.path()) == preferred);
}

TEST_CASE("azurelinux without a command installs, sets up and opens a login shell", "[install]")
{
    InstallFixture f;
    f.dir.write("AzureLinux.wsl", "image");
    CHECK(
        L::open_default(f.backend, "AzureLinux", std::nullopt, f.env)
        == 127); // the fake has no shell
    CHECK(f.backend.calls_starting("install").size() == 1);
    CHECK(f.backend.calls.back() == "launch_interactive AzureLinux user=- cwd=- argv=[]");

    SECTION("setup pending: it runs again, then the shell")
    {
        f.backend.distros.at("AzureLinux").config.setup_pending = true;
        f.backend.calls.clear();
        L::open_default(f.backend, "AzureLinux", std::nullopt, f.env);
        CHECK(f.backend.calls_starting("install").empty());
        CHECK(f.backend.calls_starting("launch_interactive").size() == 2);
    }
    SECTION("installed and set up: just the shell")
    {
        f.backend.calls.clear();
        L::open_default(f.backend, "AzureLinux", std::nullopt, f.env);
        CHECK(
            f.backend.calls
            == std::vector<std::string>{
                "is_registered AzureLinux",
                "get_configuration AzureLinux",
                "launch_interactive AzureLinux user=- cwd=- argv=[]"});
    }
}

TEST_CASE("restore installs a backup as it was, without first-run setup", "[restore]")
{
    InstallFixture f;
    L::RestoreOptions o;
    o.name = "Copy";
    o.from = f.dir.write("backup.tar.gz", "b");
    o.location = "/srv/Copy";
    L::restore(f.backend, o, f.env);
    CHECK(
        f.backend.calls
        == std::vector<std::string>{
            "is_registered Copy",
            "install Copy from " + o.from.string() + " sha256=- kind=backup location=/srv/Copy"});
    CHECK_FALSE(f.backend.distros.at("Copy").config.setup_pending);
    CHECK_THROWS_WITH(L::restore(f.backend, o, f.env), Catch::Contains("already installed"));
}

TEST_CASE("restore gives back the default user and flags the backup recorded", "[restore]")
{
    InstallFixture f;
    L::RestoreOptions o;
    o.name = "Copy";
    o.from = f.dir.write("backup.tar.gz", "b");

    // A damaged settings file: one line naming it, before anything is installed.
    f.dir.write("backup.tar.gz.json", R"({"version": 1, "default_uid": -1})");
    CHECK_THROWS_WITH(
        L::restore(f.backend, o, f.env),
        Catch::Contains("backup.tar.gz.json: default_uid is not a user id"));
    CHECK(f.backend.calls_starting("install").empty());

    f.dir.write(
        "backup.tar.gz.json",
        R"({"version": 1, "default_uid": 1000, "default_user": "alice",
            "flags": {"interop": false, "append_path": true, "mount_drives": true}})");
    L::restore(f.backend, o, f.env);
    CHECK(f.backend.calls.back() == "configure Copy uid=1000 flags=6");
    CHECK(f.backend.distros.at("Copy").config.default_uid == 1000);

    // Without one (a plain `wsl --export`), root it is, and the user is told how to change it.
    std::filesystem::remove(f.dir.path() / "backup.tar.gz.json");
    o.name = "Plain";
    L::restore(f.backend, o, f.env);
    CHECK(f.backend.calls_starting("configure").size() == 1);
    CHECK_THAT(f.console.lines.back(), Catch::Contains("the default user is root"));
}

TEST_CASE("distribution names follow WSL's rule", "[install]")
{
    for (const char* good : {"AzureLinux", "dev-1", "a.b_c", "X", ".hidden"})
    {
        CHECK_NOTHROW(L::validate_name(good));
    }
    CHECK_NOTHROW(L::validate_name(std::string(256, 'a'))); // WSL's limit
    // WSL refuses these; "." and ".." cannot name the folder the launcher keeps per distribution.
    for (const char* bad : {"", ".", "..", "a/b", "a b", "é", "a;b", "Legacy", "legacy"})
    {
        CHECK_THROWS_AS(L::validate_name(bad), azl::UserError);
    }
    CHECK_THROWS_AS(L::validate_name(std::string(257, 'a')), azl::UserError);
}

namespace
{

std::string login_name()
{
    const passwd* pw = ::getpwuid(::getuid());
    return pw != nullptr ? pw->pw_name : "user";
}

// Sets an environment variable for a scope.
class EnvGuard
{
public:
    EnvGuard(const char* name, const std::string& value)
        : m_name(name)
    {
        if (const char* old = std::getenv(name); old != nullptr)
        {
            m_old = old;
        }
        ::setenv(name, value.c_str(), 1);
    }

    EnvGuard(const EnvGuard&) = delete;
    EnvGuard& operator=(const EnvGuard&) = delete;
    EnvGuard(EnvGuard&&) = delete;
    EnvGuard& operator=(EnvGuard&&) = delete;

    ~EnvGuard()
    {
        if (m_old)
        {
            ::setenv(m_name, m_old->c_str(), 1);
        }
        else
        {
            ::unsetenv(m_name);
        }
    }

private:
    const char* m_name;
    std::optional<std::string> m_old;
};

} // namespace

TEST_CASE("first-run setup hands the Windows side's layers to a guest that takes them", "[install]")
{
    InstallFixture f;
    f.backend.new_oobe_takes_host_layers = true;
    (void)f.dir.write(
        "c/ProgramData/AzureLinux/oobe.json", R"({"version":1,"timezone":"Etc/UTC"})");
    (void)f.dir.write(
        "c/.registry/HKLM/SOFTWARE/Policies/AzureLinux/WSL",
        "Timezone\tREG_SZ\tEurope/Paris\r\nPackages\tREG_MULTI_SZ\tgit\\0curl\r\n");
    (void)f.dir.write(
        "c/Users/" + login_name() + "/.cloud-init/default.user-data", "#cloud-config\n");
    const EnvGuard drive("AZL_SANDBOX_DRIVE_C", (f.dir.path() / "c").string());
    L::InstallOptions o = f.options_for("img.wsl");
    o.name = "Dev";
    o.answers = f.dir.write("answers.json", R"({"version":1,"hostname":"dev"})");
    L::install(f.backend, o, f.env);

    const auto runs = f.backend.calls_starting("launch_interactive");
    REQUIRE(runs.size() == 1);
    CHECK_THAT(
        runs[0],
        Catch::EndsWith("argv=[/bin/sh|-c|/usr/lib/wsl/azurelinux-oobe --host-layers "
                        "/run/azurelinux/answers.json]"));
    // What the guest read: every layer of the Windows side, the user's file among them.
    const auto bundle = nlohmann::json::parse(f.backend.distros.at("Dev").applied_answers);
    CHECK(bundle["registry"]["read"] == true);
    CHECK(
        bundle["registry"]["values"]["Timezone"]
        == nlohmann::json{{"type", "REG_SZ"}, {"items", {"Europe/Paris"}}});
    CHECK(bundle["registry"]["values"]["Packages"]["items"] == nlohmann::json{"git", "curl"});
    CHECK(bundle["program_data"]["origin"] == R"(C:\ProgramData\AzureLinux\oobe.json)");
    CHECK(bundle["program_data"]["text"] == R"({"version":1,"timezone":"Etc/UTC"})");
    CHECK(bundle["user"]["origin"] == o.answers->string());
    CHECK(bundle["user"]["text"] == R"({"version":1,"hostname":"dev"})");
    CHECK(bundle["cloud_init"]["default.user-data"]["text"] == "#cloud-config\n");
    // The file (answers can hold password hashes) lived only as long as the setup.
    const auto path = runs[0].substr(runs[0].find("answers=") + 8);
    CHECK_FALSE(std::filesystem::exists(path.substr(0, path.find(' '))));
}
