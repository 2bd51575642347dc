#pragma once
// The platform-neutral half of the WSL backend: what to pass to wsl.exe and wslapi.dll, how to read
// what wsl.exe prints, and which error the user sees for which WSL failure. Pure functions over
// UTF-8 text, compiled and unit-tested on every platform; win32/ only adds the calls themselves.

#include <azl/common/error.hpp>
#include <azl/launcher/backend.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace azl::launcher::wsl
{

// HRESULTs WSL returns that have a specific meaning for the user (winerror.h, wslservice.idl).
// LXSS_DISTRO_FLAGS_VM_MODE: the distribution runs in WSL 2. WslGetDistributionConfiguration and
// the registry's Flags carry it beside the three public WSL_DISTRIBUTION_FLAGS; their "version" is
// the file system's (2 for every current distribution, WSL 1 or 2).
inline constexpr std::uint32_t kVmModeFlag = 0x8;
inline constexpr std::uint32_t kFileNotFound = 0x80070002;  // ERROR_FILE_NOT_FOUND
inline constexpr std::uint32_t kPathNotFound = 0x80070003;  // ERROR_PATH_NOT_FOUND
inline constexpr std::uint32_t kAccessDenied = 0x80070005;  // E_ACCESSDENIED
inline constexpr std::uint32_t kInvalidArg = 0x80070057;    // E_INVALIDARG
inline constexpr std::uint32_t kAlreadyExists = 0x800700b7; // ERROR_ALREADY_EXISTS
inline constexpr std::uint32_t kSubsystemNotPresent =
    0x8007019e;                                                // ERROR_LINUX_SUBSYSTEM_NOT_PRESENT
inline constexpr std::uint32_t kDistroNotFound = 0x80040302;   // WSL_E_DISTRO_NOT_FOUND
inline constexpr std::uint32_t kUserNotFound = 0x80040308;     // WSL_E_USER_NOT_FOUND
inline constexpr std::uint32_t kExportFailed = 0x8004030a;     // WSL_E_EXPORT_FAILED
inline constexpr std::uint32_t kImportFailed = 0x8004030b;     // WSL_E_IMPORT_FAILED
inline constexpr std::uint32_t kDistroNotStopped = 0x8004030c; // WSL_E_DISTRO_NOT_STOPPED
inline constexpr std::uint32_t kOptionalComponentRequired =
    0x80040321; // WSL_E_WSL_OPTIONAL_COMPONENT_REQUIRED
inline constexpr std::uint32_t kNotALinuxDistro = 0x80040326; // WSL_E_NOT_A_LINUX_DISTRO
inline constexpr std::uint32_t kVmPlatformRequired =
    0x8004032d; // WSL_E_VIRTUAL_MACHINE_PLATFORM_REQUIRED
inline constexpr std::uint32_t kHyperVNotInstalled = 0x80370102; // HCS_E_HYPERV_NOT_INSTALLED

// True for a failure HRESULT (severity bit set).
constexpr bool failed(std::uint32_t hr) noexcept
{
    return (hr & 0x80000000U) != 0;
}

// The first WSL release whose `wsl --install --from-file` honours /etc/wsl-distribution.conf.
inline constexpr std::string_view kModernWslVersion = "2.4.4";

// ----- wsl.exe command lines (the arguments after wsl.exe) -----

// `--install --from-file IMAGE --name NAME [--location DIR] --no-launch`: the launcher runs
// first-run setup itself, so WSL must not open a shell.
std::vector<std::string> install_from_file_args(
    const std::filesystem::path& image,
    const std::string& name,
    const std::optional<std::filesystem::path>& location);

// `--import NAME DIR FILE [--vhd]`: a backup, restored without first-run setup.
std::vector<std::string> import_args(
    const std::string& name,
    const std::filesystem::path& location,
    const std::filesystem::path& file,
    ArchiveFormat format);

// `--export NAME FILE --format tar|tar.gz|tar.xz|vhd`.
std::vector<std::string>
export_args(const std::string& name, const std::filesystem::path& file, ArchiveFormat format);

// `--terminate NAME`.
std::vector<std::string> terminate_args(const std::string& name);

// `--manage NAME --set-default-user USER` (WSL runs /usr/bin/id -u USER inside to find the uid).
std::vector<std::string> set_default_user_args(const std::string& name, const std::string& user);

// `--set-version NAME 1|2`.
std::vector<std::string> set_version_args(const std::string& name, unsigned version);

// `--list --verbose`.
std::vector<std::string> list_verbose_args();

// `--version`.
std::vector<std::string> version_args();

// `--distribution NAME [--user U] --cd DIR|~ [--exec ARGV…]`: a launch as another user or in
// another directory, which WslLaunch cannot do. No --exec (empty argv) runs the login shell.
std::vector<std::string> exec_args(const std::string& name, const LaunchSpec& spec);

// The command string WslLaunch / WslLaunchInteractive hand to the shell (`sh -c`): argv quoted
// for POSIX sh; empty (the login shell) for an empty argv.
std::string launch_command(const std::vector<std::string>& argv);

// A Windows path as a single-quoted argument of `wslpath -a -u` (run through WslLaunch).
std::string wslpath_command(const std::filesystem::path& host_file);

// ----- what wsl.exe prints -----

// wsl.exe's output as UTF-8. wsl.exe writes UTF-16LE (a BOM or not) unless WSL_UTF8=1 made it
// write UTF-8; the encoding is recognised by the NUL bytes UTF-16 has for ASCII text.
std::string decode_wsl_output(std::string_view bytes);

// One row of `wsl --list --verbose`.
struct ListedDistro
{
    std::string name;
    std::string state_text;           // as printed (localised on non-English Windows)
    std::optional<DistroState> state; // nullopt: a state word we do not know
    unsigned version = 2;
    bool is_default = false; // the row starts with '*'
};

// Parses decoded `wsl --list --verbose` output: a header row, then "[*] NAME STATE… VERSION" rows.
// Throws SystemError when a row has another shape.
std::vector<ListedDistro> parse_list_verbose(std::string_view text);

// The version `wsl --version` prints on its first line ("WSL version: 2.4.4.0", localised).
std::optional<std::string> parse_wsl_version(std::string_view text);

// Compares dotted versions numerically: "2.4.10.0" >= "2.4.4".
bool version_at_least(std::string_view version, std::string_view minimum);

// The last part of wsl.exe's "Error code: Wsl/Service/…/WSL_E_DISTRO_NOT_FOUND" line.
std::optional<std::string> error_code_token(std::string_view text);

// The HRESULT an error token names ("WSL_E_DISTRO_NOT_FOUND", "ERROR_ALREADY_EXISTS",
// "0x8007019e"); nullopt for names we do not know.
std::optional<std::uint32_t> hresult_from_token(std::string_view token);

// ----- errors -----

// What failed, for an error message: "installing AzureLinux".
struct Operation
{
    std::string doing{};  // "installing", "exporting", …
    std::string name{};   // the distribution
    std::string detail{}; // a file involved, or empty
};

// Throws the error the user should see for HRESULT `hr`: a UserError with what to do next for
// the failures a user can fix (WSL missing, name unknown or taken, file missing, …), else a
// SystemError with `system_text` (the system's message for hr) and the code.
[[noreturn]] void
throw_hresult(std::uint32_t hr, const Operation& operation, std::string_view system_text);

// Throws the error for a failed wsl.exe run: its error token mapped as throw_hresult() does, else
// its own message (decoded `output`) and exit code.
[[noreturn]] void
throw_wsl_exe_failure(int exit_code, std::string_view output, const Operation& operation);

// The UserError for "WSL is not installed / cannot be used", with how to install it.
UserError wsl_missing(std::string_view why);

} // namespace azl::launcher::wsl
