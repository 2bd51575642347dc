// WslBackend against recording fakes of wslapi.dll and wsl.exe (wsl_fakes.hpp): the exact API calls
// and command lines each Backend operation makes, and what the user gets when WSL fails.

#include "wsl_fakes.hpp"

#include <azl/common/error.hpp>
#include <azl/launcher/commands.hpp>
#include <azl/launcher/wsl_backend.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <test_support.hpp>

using namespace azl::launcher;
using azl::test::FakeWsl;
using azl::test::guest_result;
using azl::test::make_fake_backend;
namespace fs = std::filesystem;

namespace
{

const std::string kWsl = R"(C:\Windows\System32\wsl.exe)";

// A registered, set-up distribution as `wsl --install` leaves it.
FakeWsl with_distro(const std::string& name = "AzureLinux")
{
    FakeWsl wsl;
    wsl.distros.push_back(
        {.guid = "{11111111-2222-3333-4444-555555555555}",
         .name = name,
         .base_path = R"(C:\Users\me\AppData\Local\wsl\{11111111-2222-3333-4444-555555555555})",
         .default_uid = 1000});
    return wsl;
}

// An install of `image` as `name`.
InstallSpec spec(
    const std::string& name,
    const fs::path& image,
    std::optional<fs::path> location = std::nullopt,
    std::optional<std::string> sha256 = std::nullopt,
    InstallKind kind = InstallKind::image)
{
    InstallSpec out = azl::test::install_spec(name, image);
    out.location = std::move(location);
    out.sha256 = std::move(sha256);
    out.kind = kind;
    return out;
}

// The calls after the first `n` (the set-up's).
std::vector<std::string> calls_from(const FakeWsl& wsl, std::size_t n)
{
    return {
        wsl.calls.begin() + static_cast<std::ptrdiff_t>(std::min(n, wsl.calls.size())),
        wsl.calls.end()};
}

} // namespace

TEST_CASE("engine() reports WSL, its version, and what is missing", "[wsl]")
{
    FakeWsl wsl;
    auto engine = make_fake_backend(wsl)->engine();
    CHECK(engine.name == "WSL");
    CHECK(engine.version == "2.4.4.0");
    CHECK(engine.usable);
    CHECK(engine.problem.empty());
    CHECK(wsl.calls == std::vector<std::string>{kWsl + " --version"});

    FakeWsl old;
    old.wsl_version = ""; // the inbox wsl.exe of Windows 10
    engine = make_fake_backend(old)->engine();
    CHECK(engine.usable);
    CHECK_THAT(engine.problem, Catch::Contains("wsl --update"));

    FakeWsl none;
    none.dll_missing = true;
    engine = make_fake_backend(none)->engine();
    CHECK_FALSE(engine.usable);
    CHECK_THAT(engine.problem, Catch::Contains("wslapi.dll is not in the System32 folder"));
    CHECK(none.calls.empty());
}

TEST_CASE("install of an image runs wsl --install --from-file and leaves setup pending", "[wsl]")
{
    const azl::test::Sandbox box;
    const fs::path image = box.write("Zoë's Azure Linux.wsl", "image");
    FakeWsl wsl;
    auto backend = make_fake_backend(wsl);
    backend->install(spec("AzureLinux", image, path_from_utf8(R"(D:\WSL\Azure Linux)")));

    REQUIRE(wsl.distros.size() == 1);
    const std::string guid = wsl.distros[0].guid;
    CHECK(
        wsl.calls
        == std::vector<std::string>{
            kWsl + " --version",
            kWsl + " --install --from-file \"" + path_to_utf8(image)
                + "\" --name AzureLinux --location \"D:\\WSL\\Azure Linux\" --no-launch",
            "RegSetValueExW(Lxss\\" + guid + ", RunOOBE, 1)"});
    CHECK(backend->is_registered("AzureLinux"));
    const auto config = backend->get_configuration("AzureLinux");
    CHECK(config.setup_pending);
    CHECK(config.default_uid == 0);
    CHECK(config.flags == DistroFlags{});
}

TEST_CASE("install --root registers the image with setup already skipped", "[wsl]")
{
    const azl::test::Sandbox box;
    const fs::path image = box.write("root.wsl", "image");
    FakeWsl wsl;
    auto backend = make_fake_backend(wsl);
    backend->install(spec("Bare", image, std::nullopt, std::nullopt, InstallKind::image_root));

    REQUIRE(wsl.distros.size() == 1);
    CHECK(wsl.calls.back() == "RegSetValueExW(Lxss\\" + wsl.distros[0].guid + ", RunOOBE, 0)");
    CHECK_FALSE(backend->get_configuration("Bare").setup_pending);
}

TEST_CASE("install checks name, file and SHA-256 before WSL sees anything", "[wsl]")
{
    const azl::test::Sandbox box;
    const fs::path image = box.write("a.wsl", "abc");
    FakeWsl wsl = with_distro();
    auto backend = make_fake_backend(wsl);

    try
    {
        backend->install(spec("AzureLinux", image));
        FAIL("installed over an existing distribution");
    }
    catch (const azl::UserError& e)
    {
        CHECK(std::string(e.what()) == "a distribution named AzureLinux already exists");
    }
    CHECK_THROWS_WITH(
        backend->install(spec("Other", box.path() / "missing.wsl")),
        Catch::Contains("missing.wsl not found"));
    CHECK_THROWS_WITH(
        backend->install(spec("Other", image, std::nullopt, std::string(64, '0'))),
        Catch::Contains(
            "SHA-256 is ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    CHECK_THROWS_AS(backend->install(spec("bad name", image)), azl::UserError);
    CHECK(wsl.calls.empty());
    CHECK(wsl.distros.size() == 1);

    // The right digest (any case) passes.
    backend->install(spec(
        "Other",
        image,
        std::nullopt,
        "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"));
    CHECK(backend->is_registered("Other"));
}

TEST_CASE("a failed install leaves nothing registered", "[wsl]")
{
    const azl::test::Sandbox box;
    const fs::path image = box.write("a.wsl", "not an image");
    FakeWsl wsl;
    auto backend = make_fake_backend(wsl);

    wsl.fail_wsl_exe["--install"] = "WSL_E_NOT_A_LINUX_DISTRO";
    CHECK_THROWS_WITH(
        backend->install(spec("AzureLinux", image)),
        Catch::Contains("is not a Linux root file system"));
    CHECK(wsl.distros.empty());

    // Registered, then recording first-run setup fails: the registration is rolled back.
    wsl.registry_read_only = true;
    const auto before = wsl.calls.size();
    CHECK_THROWS_WITH(
        backend->install(spec("AzureLinux", image)), Catch::Contains("Access is denied"));
    const auto after = calls_from(wsl, before);
    REQUIRE(after.size() == 3);
    CHECK(after[2] == "WslUnregisterDistribution(AzureLinux)");
    CHECK(wsl.distros.empty());
}

TEST_CASE("install on a WSL older than 2.4.4 uses WslRegisterDistribution", "[wsl]")
{
    const azl::test::Sandbox box;
    const fs::path image = box.write("AzureLinux.wsl", "image");
    FakeWsl wsl;
    wsl.wsl_version = "2.0.14.0";
    auto backend = make_fake_backend(wsl);

    CHECK_THROWS_WITH(
        backend->install(spec("AzureLinux", image, path_from_utf8(R"(D:\x)"))),
        Catch::Contains("--location"));
    backend->install(spec("AzureLinux", image));
    REQUIRE(wsl.distros.size() == 1);
    CHECK(
        calls_from(wsl, 1)
        == std::vector<std::string>{
            "WslRegisterDistribution(AzureLinux, " + path_to_utf8(image) + ")",
            "RegSetValueExW(Lxss\\" + wsl.distros[0].guid + ", RunOOBE, 1)"});
    CHECK(backend->get_configuration("AzureLinux").setup_pending);
}

TEST_CASE("restoring a backup runs wsl --import, without first-run setup", "[wsl]")
{
    const azl::test::Sandbox box;
    const fs::path backup = box.write("azl backup.tar.gz", "backup");
    const fs::path vhdx = box.write("disk.vhdx", "vhdx");
    FakeWsl wsl;
    auto backend = make_fake_backend(wsl);
    backend->install(spec("AzureLinux", backup, std::nullopt, std::nullopt, InstallKind::backup));
    // wsl --import creates the folder, not its parents.
    CHECK(wsl.calls.at(0) == R"(SHCreateDirectoryExW(C:\Users\me\AppData\Local\wsl))");
    CHECK(
        wsl.calls.at(1)
        == kWsl + R"( --import AzureLinux C:\Users\me\AppData\Local\wsl\AzureLinux ")"
               + path_to_utf8(backup) + "\"");
    CHECK_FALSE(backend->get_configuration("AzureLinux").setup_pending);

    const auto before = wsl.calls.size();
    backend->install(
        spec("Disk", vhdx, path_from_utf8(R"(E:\WSL\Disk)"), std::nullopt, InstallKind::backup));
    CHECK(calls_from(wsl, before).at(0) == R"(SHCreateDirectoryExW(E:\WSL))");
    CHECK(
        calls_from(wsl, before).at(1)
        == kWsl + R"( --import Disk E:\WSL\Disk )" + path_to_utf8(vhdx) + " --vhd");
}

TEST_CASE("configure and get_configuration go through wslapi.dll", "[wsl]")
{
    FakeWsl wsl = with_distro();
    auto backend = make_fake_backend(wsl);
    backend->configure(
        "AzureLinux", 1001, {.interop = true, .append_path = false, .mount_drives = true});
    CHECK(wsl.calls == std::vector<std::string>{"WslConfigureDistribution(AzureLinux, 1001, 0x5)"});
    const auto config = backend->get_configuration("AzureLinux");
    CHECK(config.version == 2);
    CHECK(config.default_uid == 1001);
    CHECK(config.flags == DistroFlags{.interop = true, .append_path = false, .mount_drives = true});
    CHECK(config.default_environment.at(1) == "LANG=en_US.UTF-8");
    CHECK_FALSE(config.setup_pending);

    // A WSL 1 distribution: the flags say so, not WSL's "version" (the file system's).
    wsl.distros[0].version = 1;
    CHECK(backend->get_configuration("AzureLinux").version == 1);

    CHECK_THROWS_WITH(
        backend->configure("Nope", 0, {}),
        Catch::Equals("no distribution named Nope is registered"));
    wsl.fail_next["WslConfigureDistribution"] = 0x8007019e;
    CHECK_THROWS_WITH(backend->configure("AzureLinux", 0, {}), Catch::Contains("not enabled"));
}

TEST_CASE("launch as the default user uses WslLaunch with argv quoted for sh", "[wsl]")
{
    FakeWsl wsl = with_distro();
    wsl.guest_commands[R"(sh -c 'id -un; echo "$HOME"')"] = guest_result(3, "azure\n/home/azure\n");
    auto backend = make_fake_backend(wsl);
    LaunchSpec spec;
    spec.argv = {"sh", "-c", R"(id -un; echo "$HOME")"};
    spec.stdin_data = "input";
    const auto result = backend->launch("AzureLinux", spec);
    CHECK(
        wsl.calls
        == std::vector<std::string>{
            R"(WslLaunch(AzureLinux, "sh -c 'id -un; echo "$HOME"'", FALSE, stdin="input"))"});
    CHECK(result.exit_code == 3);
    CHECK(result.out == "azure\n/home/azure\n");

    // A program that does not exist is the guest's exit code 127, not an error of ours.
    spec.stdin_data.reset();
    spec.argv = {"no-such-program"};
    CHECK(backend->launch("AzureLinux", spec).exit_code == 127);
}

TEST_CASE("launch as another user or in a directory runs wsl.exe --exec", "[wsl]")
{
    FakeWsl wsl = with_distro();
    wsl.guest_commands["id -un"] = guest_result(0, "root\n");
    auto backend = make_fake_backend(wsl);
    LaunchSpec spec;
    spec.argv = {"id", "-un"};
    spec.user = "root";
    spec.stdin_data = "data";
    const auto result = backend->launch("AzureLinux", spec);
    CHECK(
        wsl.calls
        == std::vector<std::string>{
            kWsl + " --distribution AzureLinux --user root --cd ~ --exec id -un"});
    CHECK(result.out == "root\nstdin:data");

    spec.user = "nobody-here";
    CHECK_THROWS_WITH(
        backend->launch("AzureLinux", spec), Catch::Contains("no such user in AzureLinux"));
}

TEST_CASE("interactive launches: WslLaunchInteractive, or wsl.exe for a user", "[wsl]")
{
    FakeWsl wsl = with_distro();
    wsl.guest_commands[""] = guest_result(0);
    wsl.guest_commands["/usr/lib/wsl/azurelinux-oobe --answers /mnt/c/Users/me/answers.json"] =
        guest_result(2);
    auto backend = make_fake_backend(wsl);
    CHECK(backend->launch_interactive("AzureLinux", {}) == 0);
    LaunchSpec oobe;
    oobe.user = "root";
    oobe.argv = {"/usr/lib/wsl/azurelinux-oobe", "--answers", "/mnt/c/Users/me/answers.json"};
    CHECK(backend->launch_interactive("AzureLinux", oobe) == 2);
    CHECK(
        wsl.calls
        == std::vector<std::string>{
            R"(WslLaunchInteractive(AzureLinux, "", FALSE))",
            kWsl
                + " --distribution AzureLinux --user root --cd ~ --exec "
                  "/usr/lib/wsl/azurelinux-oobe --answers /mnt/c/Users/me/answers.json"});
}

TEST_CASE("export writes the backup under a temporary name and moves it into place", "[wsl]")
{
    const azl::test::Sandbox box;
    FakeWsl wsl = with_distro();
    auto backend = make_fake_backend(wsl);
    const fs::path out = box.path() / "my backup.tar.xz";
    backend->export_to("AzureLinux", {.file = out, .format = ArchiveFormat::tar_xz});
    REQUIRE(wsl.calls.size() == 1);
    const std::string prefix =
        kWsl + " --export AzureLinux \"" + path_to_utf8(box.path()) + "/.my backup.tar.xz.tmp-";
    CHECK(wsl.calls[0].substr(0, prefix.size()) == prefix);
    CHECK(wsl.calls[0].ends_with("\" --format tar.xz"));
    CHECK(azl::test::slurp(out) == "export of AzureLinux as tar.xz");
    CHECK(std::distance(fs::directory_iterator(box.path()), fs::directory_iterator()) == 1);

    // A failed export leaves neither the old backup changed nor a partial file.
    wsl.fail_wsl_exe["--export"] = "WSL_E_EXPORT_FAILED";
    CHECK_THROWS_WITH(
        backend->export_to("AzureLinux", {.file = out, .format = ArchiveFormat::vhdx}),
        Catch::Contains("exporting AzureLinux"));
    CHECK(wsl.calls.back().ends_with("--format vhd"));
    CHECK(azl::test::slurp(out) == "export of AzureLinux as tar.xz");
    CHECK(std::distance(fs::directory_iterator(box.path()), fs::directory_iterator()) == 1);

    CHECK_THROWS_WITH(
        backend->export_to(
            "AzureLinux", {.file = box.path() / "no-dir" / "b.tar", .format = ArchiveFormat::tar}),
        Catch::Contains("does not exist"));
}

TEST_CASE("list merges wsl --list --verbose with the Lxss registry", "[wsl]")
{
    FakeWsl empty;
    CHECK(make_fake_backend(empty)->list().empty());
    CHECK(empty.calls.empty()); // wsl --list would only fail with "no installed distributions"

    FakeWsl wsl = with_distro();
    wsl.distros.push_back(
        {.guid = "{aaaaaaaa-0000-0000-0000-000000000001}",
         .name = "Alpha",
         .base_path = R"(D:\WSL\Alpha)",
         .version = 1,
         .run_oobe = true,
         .running = true});
    wsl.default_guid = "{AAAAAAAA-0000-0000-0000-000000000001}";
    const auto list = make_fake_backend(wsl)->list();
    CHECK(wsl.calls == std::vector<std::string>{kWsl + " --list --verbose"});
    REQUIRE(list.size() == 2);
    CHECK(list[0].name == "Alpha");
    CHECK(list[0].state == DistroState::running);
    CHECK(list[0].version == 1);
    CHECK(list[0].is_default);
    CHECK(list[0].setup_pending);
    CHECK(path_to_utf8(list[0].location) == R"(D:\WSL\Alpha)");
    CHECK(list[0].default_user == "root");
    CHECK(list[1].name == "AzureLinux");
    CHECK(list[1].state == DistroState::stopped);
    CHECK(list[1].default_uid == 1000);
    CHECK_FALSE(list[1].default_user.has_value());
    CHECK_FALSE(list[1].is_default);
}

TEST_CASE("the answers file's guest path comes from wslpath inside the distribution", "[wsl]")
{
    FakeWsl wsl = with_distro();
    wsl.guest_commands[R"(wslpath -a -u 'C:\Users\Zoë\answers.json')"] =
        guest_result(0, "/mnt/c/Users/Zoë/answers.json\n");
    auto backend = make_fake_backend(wsl);
    CHECK(
        backend->answers_guest_path("AzureLinux", path_from_utf8(R"(C:\Users\Zoë\answers.json)"))
        == "/mnt/c/Users/Zoë/answers.json");
    CHECK(
        wsl.calls
        == std::vector<std::string>{
            R"(WslLaunch(AzureLinux, "wslpath -a -u 'C:\Users\Zoë\answers.json'", FALSE, stdin=NUL))"});

    // Relative paths are made absolute against our directory first; drives not mounted: a hint.
    wsl.guest_commands[R"(wslpath -a -u 'C:\Users\me\answers.json')"] =
        guest_result(1, "", "wslpath: C:\\Users\\me\\answers.json\n");
    CHECK_THROWS_WITH(
        backend->answers_guest_path("AzureLinux", path_from_utf8("answers.json")),
        Catch::Contains("cannot make answers.json readable inside AzureLinux"));
}

TEST_CASE("unregister, terminate, set-default-user and set-version", "[wsl]")
{
    FakeWsl wsl = with_distro();
    auto backend = make_fake_backend(wsl);
    backend->set_default_user("AzureLinux", "root");
    CHECK_THROWS_WITH(
        backend->set_default_user("AzureLinux", "ghost"), Catch::Contains("no such user"));
    backend->set_version("AzureLinux", 1);
    backend->terminate("AzureLinux");
    backend->set_setup_pending("AzureLinux", true);
    backend->unregister("AzureLinux");
    CHECK(
        wsl.calls
        == std::vector<std::string>{
            kWsl + " --manage AzureLinux --set-default-user root",
            kWsl + " --manage AzureLinux --set-default-user ghost",
            kWsl + " --set-version AzureLinux 1",
            kWsl + " --terminate AzureLinux",
            "RegSetValueExW(Lxss\\{11111111-2222-3333-4444-555555555555}, RunOOBE, 1)",
            "WslUnregisterDistribution(AzureLinux)"});
    CHECK(wsl.distros.empty());
    CHECK_THROWS_WITH(
        backend->unregister("AzureLinux"),
        Catch::Equals("no distribution named AzureLinux is registered"));
    CHECK_THROWS_WITH(
        backend->terminate("AzureLinux"),
        Catch::Equals("no distribution named AzureLinux is registered"));
}

TEST_CASE("without WSL every operation says how to install it", "[wsl]")
{
    const azl::test::Sandbox box;
    FakeWsl wsl;
    wsl.dll_missing = true;
    auto backend = make_fake_backend(wsl);
    try
    {
        backend->install(spec("AzureLinux", box.write("a.wsl", "x")));
        FAIL("installed without WSL");
    }
    catch (const azl::UserError& e)
    {
        CHECK(
            std::string(e.what())
            == "WSL cannot be used: wslapi.dll is not in the System32 folder");
        CHECK_THAT(e.hint(), Catch::Contains("wsl --install"));
    }
    CHECK_THROWS_WITH(backend->list(), Catch::Contains("WSL cannot be used"));
    CHECK_THROWS_AS(backend->is_registered("AzureLinux"), azl::UserError);
    CHECK(wsl.calls.empty());
}

TEST_CASE("doctor reports a Windows without wslapi.dll instead of failing", "[wsl][doctor]")
{
    FakeWsl wsl = with_distro();
    wsl.dll_missing = true;
    auto backend = make_fake_backend(wsl);
    const auto checks = doctor(*backend, "AzureLinux");
    REQUIRE(checks.size() == 6);
    CHECK(checks[0].id == "engine");
    CHECK(checks[0].status == CheckStatus::fail);
    CHECK_THAT(checks[0].message, Catch::Contains("wslapi.dll is not in the System32 folder"));
    for (std::size_t i = 1; i < checks.size(); ++i)
    {
        CHECK(checks[i].status == CheckStatus::warn);
        CHECK_THAT(checks[i].message, Catch::Contains("not checked"));
    }
    CHECK_THAT(format_doctor_json(checks), Catch::Contains("\"registered\""));
}
