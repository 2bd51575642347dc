#pragma once
// The one interface between the launcher's commands and what runs distributions: WSL on Windows
// (WslBackend: wslapi.dll + wsl.exe; its logic in src/wsl/, the Windows calls in src/win32/) or a
// bubblewrap sandbox on Linux (SandboxBackend, src/posix/). Commands (commands.hpp) only ever talk
// to a Backend, so they are the same on both.
//
// Commands are argv, never command lines. A LaunchSpec carries the program and its arguments as
// separate UTF-8 strings, exactly as the guest's execve() should receive them. The only place that
// quotes is a backend whose transport is a command line (WSL: WslLaunch / `wsl.exe -- …` hand one
// string to /bin/sh -c): it joins argv with shell_join() from shell_quote.hpp, which single-quotes
// every word for POSIX sh. The sandbox execs argv directly. A user's own command line
// (`azurelinux run -c "a | b"`) is the argv {"/bin/sh", "-c", "a | b"}, built by the command layer.
// An empty argv means "the user's login shell".
//
// Text is UTF-8 std::string; paths are std::filesystem::path, made from UTF-8 with path_from_utf8()
// (on Windows a path's native form is UTF-16; a plain std::string constructor would use the ANSI
// code page). Errors: azl::UserError for what the user can fix (unknown name, name taken, bad or
// corrupt image, checksum mismatch), azl::SystemError for failures of the system underneath.
// Every method that takes a name throws UserError when no distribution of that name is registered,
// except is_registered().

#include <azl/common/progress.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace azl::launcher
{

// The distribution name used when the user gives none.
inline constexpr std::string_view kDefaultName = "AzureLinux";

// The path of UTF-8 text, on every platform.
inline std::filesystem::path path_from_utf8(std::string_view text)
{
    return {std::u8string(text.begin(), text.end())};
}

// The UTF-8 text of a path, on every platform.
inline std::string path_to_utf8(const std::filesystem::path& path)
{
    const std::u8string u = path.u8string();
    return {u.begin(), u.end()};
}

// WSL_DISTRIBUTION_FLAGS as named switches. The sandbox keeps the same three in its record and
// gives them the nearest meaning it has (see sandbox_backend.hpp).
struct DistroFlags
{
    bool interop = true;      // WSL_DISTRIBUTION_FLAGS_ENABLE_INTEROP (1)
    bool append_path = true;  // WSL_DISTRIBUTION_FLAGS_APPEND_NT_PATH (2)
    bool mount_drives = true; // WSL_DISTRIBUTION_FLAGS_ENABLE_DRIVE_MOUNTING (4)

    // The WSL bit mask (default 7).
    [[nodiscard]] constexpr std::uint32_t to_wsl() const noexcept
    {
        return (interop ? 1U : 0U) | (append_path ? 2U : 0U) | (mount_drives ? 4U : 0U);
    }

    // From a WSL bit mask; unknown bits are ignored.
    static constexpr DistroFlags from_wsl(std::uint32_t bits) noexcept
    {
        return {
            .interop = (bits & 1U) != 0,
            .append_path = (bits & 2U) != 0,
            .mount_drives = (bits & 4U) != 0};
    }

    bool operator==(const DistroFlags&) const = default;
};

// What WslGetDistributionConfiguration reports, plus whether first-run setup is still to run.
struct DistroConfiguration
{
    unsigned version = 2; // WSL 1 or 2; the sandbox reports 2 (a real Linux kernel)
    std::uint32_t default_uid = 0;
    DistroFlags flags;
    std::vector<std::string> default_environment; // "NAME=value" every launch starts with
    bool setup_pending = false; // first-run setup has not finished (WSL: the RunOOBE value)
};

// What a distribution is doing, as `wsl --list --verbose` says it.
enum class DistroState
{
    stopped,
    running,
    installing,
    uninstalling,
};

// "Stopped", "Running", "Installing", "Uninstalling".
std::string_view state_name(DistroState state);

// One registered distribution, as `list` shows it.
struct DistroInfo
{
    std::string name;
    DistroState state = DistroState::stopped;
    unsigned version = 2;
    std::filesystem::path
        location; // the folder holding its files (WSL: BasePath; sandbox: rootfs/)
    std::uint32_t default_uid = 0;
    std::optional<std::string> default_user; // the uid's name when known without starting it
    bool is_default = false;                 // WSL's default distribution; the sandbox has none
    bool setup_pending = false;              // first-run setup has not finished
};

// What runs distributions here, for `doctor` and error messages.
struct EngineInfo
{
    std::string name;    // "WSL", "bubblewrap sandbox"
    std::string version; // "2.4.4.0", "0.8.0"; empty when unknown
    bool usable = false; // false: `problem` says what is wrong and how to fix it
    std::string problem;
};

// Where an install's image comes from.
enum class InstallKind
{
    image,      // a .wsl image: first-run setup is pending afterwards (wsl --install --from-file)
    image_root, // the same, registered with first-run setup already skipped (install --root)
    backup, // a backup made by export_to(): restored as it was, no first-run setup (wsl --import)
};

// One install or restore.
struct InstallSpec
{
    std::string name;
    std::filesystem::path image; // tar, tar.gz (.wsl) or tar.xz file (WSL --import also: .vhdx)
    std::optional<std::filesystem::path> location; // nullopt: the backend's default place
    std::optional<std::string> sha256; // expected lowercase hex of the file; mismatch: UserError
    InstallKind kind = InstallKind::image;
    ProgressMode progress = ProgressMode::off;
};

// Formats of export_to() and of files install() accepts.
enum class ArchiveFormat
{
    tar,
    tar_gz,
    tar_xz,
    vhdx, // WSL 2 only; the sandbox refuses it with a UserError
};

// "tar", "tar.gz", "tar.xz", "vhdx".
std::string_view archive_format_name(ArchiveFormat format);

// Parses a --format value; throws UserError listing the valid names.
ArchiveFormat parse_archive_format(std::string_view name);

// The format a file name implies (.tar, .tar.gz/.tgz/.wsl, .tar.xz/.txz, .vhdx); nullopt: none.
std::optional<ArchiveFormat> archive_format_from_path(const std::filesystem::path& file);

// One export (backup).
struct ExportSpec
{
    std::filesystem::path file; // written all or nothing: a failed export leaves no file
    ArchiveFormat format = ArchiveFormat::tar_gz;
    ProgressMode progress = ProgressMode::off;
};

// One program started inside a distribution.
struct LaunchSpec
{
    std::vector<std::string> argv;   // program and arguments, unquoted; empty: the login shell
    std::optional<std::string> user; // user name ("root" included); nullopt: the default user
    std::optional<std::string> cwd;  // guest directory; nullopt: the user's home
    std::optional<std::string> stdin_data; // launch() only: fed to stdin, then closed; else empty
    std::optional<std::filesystem::path> answers_file; // readable at answers_guest_path() meanwhile
};

// What a captured launch produced.
struct LaunchResult
{
    int exit_code = 0; // the program's exit status; 128+N when killed by signal N
    std::string out;
    std::string err;
};

// Registers, runs and removes distributions. Implementations are not thread-safe; one per process.
// Concurrent processes are safe: each distribution is locked while it is installed, changed or
// removed.
class Backend
{
public:
    Backend() = default;
    Backend(const Backend&) = delete;
    Backend& operator=(const Backend&) = delete;
    Backend(Backend&&) = delete;
    Backend& operator=(Backend&&) = delete;
    virtual ~Backend() = default;

    // The engine and whether it can run distributions; never throws for a missing engine.
    virtual EngineInfo engine() = 0;

    // Whether `name` is registered (fully installed; a half-done install does not count).
    virtual bool is_registered(const std::string& name) = 0;

    // Every registered distribution, sorted by name.
    virtual std::vector<DistroInfo> list() = 0;

    // Registers spec.name from spec.image, all or nothing: on any failure or interruption nothing
    // stays registered and no files stay behind. UserError when the name is taken or invalid, the
    // file is missing, unreadable, corrupt or fails the SHA-256 check. Shows progress when asked.
    // Afterwards: default uid 0, flags all on, setup pending iff spec.kind == image.
    virtual void install(const InstallSpec& spec) = 0;

    // Stops the distribution and removes its registration and every file of it.
    virtual void unregister(const std::string& name) = 0;

    // Stops every process of the distribution (wsl --terminate); a no-op when it is not running.
    virtual void terminate(const std::string& name) = 0;

    // Sets the default uid and flags (WslConfigureDistribution); takes effect at the next launch.
    virtual void
    configure(const std::string& name, std::uint32_t default_uid, DistroFlags flags) = 0;

    // The current configuration (WslGetDistributionConfiguration + RunOOBE).
    virtual DistroConfiguration get_configuration(const std::string& name) = 0;

    // Records whether first-run setup still has to run (WSL: the RunOOBE registry value).
    virtual void set_setup_pending(const std::string& name, bool pending) = 0;

    // Runs spec.argv to completion with stdout and stderr captured (WslLaunch). Throws only when it
    // could not be started; the program's own failure is the result's exit code.
    virtual LaunchResult launch(const std::string& name, const LaunchSpec& spec) = 0;

    // Runs spec.argv (empty: a login shell) on our terminal (WslLaunchInteractive / wsl.exe -u -d
    // --cd); returns its exit code.
    virtual int launch_interactive(const std::string& name, const LaunchSpec& spec) = 0;

    // Writes the distribution's whole file system to spec.file in spec.format (wsl --export).
    virtual void export_to(const std::string& name, const ExportSpec& spec) = 0;

    // The guest path at which `host_file` is readable during a launch whose LaunchSpec names it as
    // answers_file (sandbox: /run/azurelinux/answers.json, bind-mounted read-only; WSL: wslpath).
    virtual std::string
    answers_guest_path(const std::string& name, const std::filesystem::path& host_file) = 0;
};

// Choices for make_backend().
struct BackendOptions
{
    // Sandbox: the store's root instead of $XDG_DATA_HOME/azurelinux. WSL: ignored.
    std::optional<std::filesystem::path> data_dir;
};

// The backend of this platform: WslBackend on Windows, SandboxBackend on Linux.
std::unique_ptr<Backend> make_backend(const BackendOptions& options = {});

} // namespace azl::launcher
