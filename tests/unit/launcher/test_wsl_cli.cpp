// The WSL backend's platform-neutral half: wsl.exe command lines, the shell command WslLaunch runs,
// reading wsl.exe's UTF-16 output, and the errors users see for WSL's failures.

#include "wsl_fakes.hpp"

#include <azl/common/command_line.hpp>
#include <azl/common/error.hpp>
#include <azl/launcher/wsl_cli.hpp>

#include <catch2/catch.hpp>

using namespace azl::launcher;
using azl::test::utf16le;

namespace
{

std::string wsl_line(const std::vector<std::string>& args)
{
    std::vector<std::string> argv = {std::string(azl::test::kWslExe)};
    argv.insert(argv.end(), args.begin(), args.end());
    return azl::windows_command_line(argv);
}

} // namespace

TEST_CASE("wsl.exe command lines for every operation", "[wsl]")
{
    CHECK(
        wsl_line(wsl::install_from_file_args(
            path_from_utf8(R"(C:\Users\Zoë\Downloads\Azure Linux.wsl)"),
            "AzureLinux",
            path_from_utf8(R"(D:\WSL\AzureLinux)")))
        == R"(C:\Windows\System32\wsl.exe --install --from-file "C:\Users\Zoë\Downloads\Azure Linux.wsl" --name AzureLinux --location D:\WSL\AzureLinux --no-launch)");
    CHECK(
        wsl_line(
            wsl::install_from_file_args(path_from_utf8(R"(C:\img\a.wsl)"), "Dev-1", std::nullopt))
        == R"(C:\Windows\System32\wsl.exe --install --from-file C:\img\a.wsl --name Dev-1 --no-launch)");
    CHECK(
        wsl_line(wsl::import_args(
            "AzureLinux",
            path_from_utf8(R"(C:\Users\me\AppData\Local\wsl\AzureLinux)"),
            path_from_utf8(R"(E:\backups\azl 2024.tar.gz)"),
            ArchiveFormat::tar_gz))
        == R"(C:\Windows\System32\wsl.exe --import AzureLinux C:\Users\me\AppData\Local\wsl\AzureLinux "E:\backups\azl 2024.tar.gz")");
    CHECK(
        wsl_line(wsl::import_args(
            "AzureLinux",
            path_from_utf8(R"(D:\wsl\)"),
            path_from_utf8(R"(E:\b.vhdx)"),
            ArchiveFormat::vhdx))
        == R"(C:\Windows\System32\wsl.exe --import AzureLinux D:\wsl\ E:\b.vhdx --vhd)");
    CHECK(
        wsl_line(wsl::export_args(
            "AzureLinux", path_from_utf8(R"(E:\My Backups\)"), ArchiveFormat::tar_xz))
        == R"(C:\Windows\System32\wsl.exe --export AzureLinux "E:\My Backups\\" --format tar.xz)");
    CHECK(
        wsl_line(
            wsl::export_args("AzureLinux", path_from_utf8(R"(E:\b.vhdx)"), ArchiveFormat::vhdx))
        == R"(C:\Windows\System32\wsl.exe --export AzureLinux E:\b.vhdx --format vhd)");
    CHECK(
        wsl_line(wsl::terminate_args("AzureLinux"))
        == R"(C:\Windows\System32\wsl.exe --terminate AzureLinux)");
    CHECK(
        wsl_line(wsl::set_default_user_args("AzureLinux", "azure"))
        == R"(C:\Windows\System32\wsl.exe --manage AzureLinux --set-default-user azure)");
    CHECK(
        wsl_line(wsl::set_version_args("AzureLinux", 2))
        == R"(C:\Windows\System32\wsl.exe --set-version AzureLinux 2)");
    CHECK(wsl_line(wsl::list_verbose_args()) == R"(C:\Windows\System32\wsl.exe --list --verbose)");
    CHECK(wsl_line(wsl::version_args()) == R"(C:\Windows\System32\wsl.exe --version)");
}

TEST_CASE(
    "launches as another user or directory go through wsl.exe --exec with argv intact", "[wsl]")
{
    LaunchSpec spec;
    spec.user = "root";
    spec.argv = {"/usr/lib/wsl/azurelinux-oobe", "--answers", "/mnt/c/Users/Zoë/answers file.json"};
    CHECK(
        wsl_line(wsl::exec_args("AzureLinux", spec))
        == R"(C:\Windows\System32\wsl.exe --distribution AzureLinux --user root --cd ~ --exec /usr/lib/wsl/azurelinux-oobe --answers "/mnt/c/Users/Zoë/answers file.json")");

    LaunchSpec shell; // a login shell in a directory, as the default user
    shell.cwd = "/srv/my project";
    CHECK(
        wsl_line(wsl::exec_args("AzureLinux", shell))
        == R"(C:\Windows\System32\wsl.exe --distribution AzureLinux --cd "/srv/my project")");

    LaunchSpec tricky;
    tricky.user = "azure";
    tricky.argv = {"sh", "-c", R"(printf '%s\n' "a b" \\ "$HOME")", ""};
    CHECK(
        wsl_line(wsl::exec_args("AzureLinux", tricky))
        == R"(C:\Windows\System32\wsl.exe --distribution AzureLinux --user azure --cd ~ --exec sh -c "printf '%s\n' \"a b\" \\ \"$HOME\"" "")");
}

TEST_CASE("the command WslLaunch hands to sh -c quotes argv for POSIX sh", "[wsl]")
{
    CHECK(wsl::launch_command({}).empty()); // the login shell
    CHECK(wsl::launch_command({"cat", "/etc/os-release"}) == "cat /etc/os-release");
    CHECK(
        wsl::launch_command({"printf", "%s|", "it's", "a b", "$HOME", "", "Zoë"})
        == R"(printf '%s|' 'it'\''s' 'a b' '$HOME' '' 'Zoë')");
    CHECK(
        wsl::launch_command({"sh", "-c", "echo \"$1\" | tr a-z A-Z"})
        == R"(sh -c 'echo "$1" | tr a-z A-Z')");
    CHECK(
        wsl::wslpath_command(path_from_utf8(R"(C:\Users\O'Brien\answers.json)"))
        == R"(wslpath -a -u 'C:\Users\O'\''Brien\answers.json')");
}

TEST_CASE("wsl.exe output is decoded from UTF-16LE with or without BOM, or taken as UTF-8", "[wsl]")
{
    CHECK(wsl::decode_wsl_output(utf16le(u"Zoë ✓\r\n")) == "Zoë ✓\r\n");
    CHECK(wsl::decode_wsl_output("\xFF\xFE" + utf16le(u"BOM\r\n")) == "BOM\r\n");
    CHECK(wsl::decode_wsl_output(utf16le(u"\U0001F427 penguin")) == "\U0001F427 penguin");
    // An unpaired surrogate cannot be UTF-8: it becomes U+FFFD.
    CHECK(
        wsl::decode_wsl_output(utf16le(std::u16string(1, char16_t(0xD800)) + u"x"))
        == "\xEF\xBF\xBDx");
    // WSL_UTF8=1 makes wsl.exe write UTF-8.
    CHECK(wsl::decode_wsl_output("WSL version: 2.4.4.0\r\n") == "WSL version: 2.4.4.0\r\n");
    CHECK(wsl::decode_wsl_output("\xEF\xBB\xBFok") == "ok");
    CHECK(wsl::decode_wsl_output("").empty());
}

TEST_CASE("wsl --list --verbose output is parsed from its real format", "[wsl]")
{
    // Exactly what wsl.exe 2.4 writes: UTF-16LE, no BOM, CRLF, '*' for the default distribution.
    const std::string raw = utf16le(u"  NAME                   STATE           VERSION\r\n"
                                    u"* Ubuntu-24.04           Running         2\r\n"
                                    u"  AzureLinux             Stopped         2\r\n"
                                    u"  legacy.v1_test         Installing      1\r\n"
                                    u"  Old                    Uninstalling    2\r\n");
    const auto rows = wsl::parse_list_verbose(wsl::decode_wsl_output(raw));
    REQUIRE(rows.size() == 4);
    CHECK(rows[0].name == "Ubuntu-24.04");
    CHECK(rows[0].is_default);
    CHECK(rows[0].state == DistroState::running);
    CHECK(rows[0].version == 2);
    CHECK(rows[1].name == "AzureLinux");
    CHECK_FALSE(rows[1].is_default);
    CHECK(rows[1].state == DistroState::stopped);
    CHECK(rows[2].name == "legacy.v1_test");
    CHECK(rows[2].state == DistroState::installing);
    CHECK(rows[2].version == 1);
    CHECK(rows[3].state == DistroState::uninstalling);

    // A German Windows: the header and the state words are translated, some have blanks.
    const auto de = wsl::parse_list_verbose(
        wsl::decode_wsl_output(utf16le(u"  NAME          STATUS              VERSION\r\n"
                                       u"* AzureLinux    Wird ausgeführt     2\r\n")));
    REQUIRE(de.size() == 1);
    CHECK(de[0].state_text == "Wird ausgeführt");
    CHECK_FALSE(de[0].state.has_value());
    CHECK(de[0].is_default);

    CHECK(wsl::parse_list_verbose(wsl::decode_wsl_output(utf16le(u"  NAME STATE VERSION\r\n")))
              .empty());
    CHECK_THROWS_AS(
        wsl::parse_list_verbose("  NAME STATE VERSION\r\n  AzureLinux Stopped\r\n"),
        azl::SystemError);
}

TEST_CASE("the WSL version is read from wsl --version, in any language", "[wsl]")
{
    CHECK(
        wsl::parse_wsl_version("WSL version: 2.4.4.0\r\nKernel version: 5.15.167.4-1\r\n")
        == "2.4.4.0");
    CHECK(wsl::parse_wsl_version("WSL-Version: 2.3.26.0\r\nKernelversion: 5.15\r\n") == "2.3.26.0");
    CHECK_FALSE(wsl::parse_wsl_version("Usage: wsl.exe [Argument]\r\n").has_value());
    CHECK(wsl::version_at_least("2.4.4.0", "2.4.4"));
    CHECK(wsl::version_at_least("2.4.10.0", "2.4.4"));
    CHECK(wsl::version_at_least("10.0", "2.4.4"));
    CHECK_FALSE(wsl::version_at_least("2.4.3.9", "2.4.4"));
    CHECK_FALSE(wsl::version_at_least("0", "2.4.4"));
}

TEST_CASE("wsl.exe error codes are found and named", "[wsl]")
{
    const std::string out =
        wsl::decode_wsl_output(utf16le(u"There is no distribution with the supplied name.\r\n"
                                       u"Error code: Wsl/Service/WSL_E_DISTRO_NOT_FOUND\r\n"));
    REQUIRE(wsl::error_code_token(out) == "WSL_E_DISTRO_NOT_FOUND");
    CHECK(wsl::hresult_from_token("WSL_E_DISTRO_NOT_FOUND") == 0x80040302U);
    CHECK(
        wsl::error_code_token("Fehlercode: Wsl/Service/RegisterDistro/ERROR_ALREADY_EXISTS")
        == "ERROR_ALREADY_EXISTS");
    CHECK(wsl::hresult_from_token("ERROR_ALREADY_EXISTS") == 0x800700b7U);
    CHECK(wsl::hresult_from_token("0x8007019e") == 0x8007019eU);
    CHECK_FALSE(wsl::hresult_from_token("WSL_E_SOMETHING_NEW").has_value());
    CHECK_FALSE(wsl::hresult_from_token("0x8007019").has_value());
    CHECK_FALSE(wsl::error_code_token("no code here").has_value());
}

namespace
{

// The error throw_hresult throws, caught: its type, text and hint.
struct Caught
{
    bool user = false;
    std::string message;
    std::string hint;
};

template <class Fn>
Caught catch_error(Fn fn)
{
    try
    {
        fn();
    }
    catch (const azl::UserError& e)
    {
        return {true, e.what(), e.hint()};
    }
    catch (const azl::SystemError& e)
    {
        return {false, e.what(), {}};
    }
    FAIL("nothing was thrown");
    return {};
}

Caught for_hresult(std::uint32_t hr, std::string_view system_text = "")
{
    return catch_error(
        [&]
        {
            wsl::throw_hresult(
                hr,
                {.doing = "installing", .name = "AzureLinux", .detail = R"(C:\img\AzureLinux.wsl)"},
                system_text);
        });
}

} // namespace

TEST_CASE("WSL's HRESULTs become errors that say what to do", "[wsl]")
{
    auto e = for_hresult(wsl::kSubsystemNotPresent);
    CHECK(e.user);
    CHECK(e.message == "WSL cannot be used: the Windows Subsystem for Linux is not enabled");
    CHECK_THAT(e.hint, Catch::Contains("wsl --install"));

    e = for_hresult(wsl::kDistroNotFound);
    CHECK(e.message == "no distribution named AzureLinux is registered");
    CHECK_THAT(e.hint, Catch::Contains("azurelinux list"));

    e = for_hresult(wsl::kAlreadyExists);
    CHECK(e.message == "a distribution named AzureLinux already exists");
    CHECK_THAT(e.hint, Catch::Contains("--name"));

    e = for_hresult(wsl::kFileNotFound);
    CHECK(e.message == R"(installing AzureLinux: C:\img\AzureLinux.wsl not found)");

    e = for_hresult(wsl::kHyperVNotInstalled);
    CHECK(e.user);
    CHECK_THAT(e.hint, Catch::Contains("Virtual Machine Platform"));

    e = for_hresult(wsl::kNotALinuxDistro);
    CHECK_THAT(e.message, Catch::Contains("is not a Linux root file system"));

    e = for_hresult(wsl::kDistroNotStopped);
    CHECK_THAT(e.hint, Catch::Contains("wsl --terminate AzureLinux"));

    // Anything else is a system failure with the system's words and the code.
    e = for_hresult(0x80004005, "Unspecified error");
    CHECK_FALSE(e.user);
    CHECK(e.message == "installing AzureLinux: Unspecified error (0x80004005)");
}

TEST_CASE("a failed wsl.exe run is reported with its error code or its own words", "[wsl]")
{
    const wsl::Operation op{.doing = "exporting", .name = "AzureLinux"};
    auto e = catch_error(
        [&]
        {
            wsl::throw_wsl_exe_failure(
                -1,
                "There is no distribution with the supplied name.\r\n"
                "Error code: Wsl/Service/WSL_E_DISTRO_NOT_FOUND\r\n",
                op);
        });
    CHECK(e.user);
    CHECK(e.message == "no distribution named AzureLinux is registered");

    e = catch_error(
        [&]
        {
            wsl::throw_wsl_exe_failure(
                -1, "Something new went wrong.\r\nError code: Wsl/Service/WSL_E_NEW_THING\r\n", op);
        });
    CHECK_FALSE(e.user);
    CHECK(
        e.message
        == "exporting AzureLinux: Something new went wrong. (Error code: WSL_E_NEW_THING)");

    // Progress lines come first (`--import`, `--install`): the message is the line before the
    // error code.
    e = catch_error(
        [&]
        {
            wsl::throw_wsl_exe_failure(
                -1,
                "Import in progress, this may take a few minutes.\r\n"
                "Importing the distribution failed.\r\n"
                "Error code: Wsl/Service/RegisterDistro/WSL_E_IMPORT_FAILED\r\n",
                op);
        });
    CHECK(e.message == "exporting AzureLinux: Importing the distribution failed. (0x8004030b)");

    // An old wsl.exe prints its usage for an option it does not know: update WSL.
    e = catch_error(
        [&]
        {
            wsl::throw_wsl_exe_failure(
                -1,
                "Copyright (c) Microsoft Corporation.\r\n\r\nUsage: wsl.exe [Argument]\r\n",
                op);
        });
    CHECK(e.user);
    CHECK_THAT(e.hint, Catch::Contains("wsl --update"));
}
