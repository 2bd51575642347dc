#pragma once
// WslBackend: the Backend on Windows. wslapi.dll where it has the call, wsl.exe for what only it
// does
// (--install --from-file, --import, --export, --terminate, launches as another user or directory,
// --list --verbose, --version), the Lxss registry key for what neither reports (location, RunOOBE).
//
// The class is platform-neutral: it reaches Windows only through two small seams, WslApi (the DLL's
// functions) and WslHost (processes, registry, hashing, file moves). win32/ implements them with
// the real calls; the unit tests implement them with recording fakes, so every command line and API
// argument is checked on Linux. Strings are UTF-8 on both sides of the seams.

#include <azl/common/process.hpp>
#include <azl/launcher/backend.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace azl::launcher
{

// What WslGetDistributionConfiguration returns (the environment strings already copied and freed).
struct WslApiConfiguration
{
    unsigned version = 0;
    std::uint32_t default_uid = 0;
    std::uint32_t flags = 0;
    std::vector<std::string> environment;
};

// What a WslLaunch run with captured streams produced.
struct WslApiOutput
{
    std::uint32_t exit_code = 0;
    std::string out;
    std::string err;
};

// wslapi.dll, one method per function. HRESULTs are returned, not thrown: WslBackend maps them.
class WslApi
{
public:
    WslApi() = default;
    WslApi(const WslApi&) = delete;
    WslApi& operator=(const WslApi&) = delete;
    WslApi(WslApi&&) = delete;
    WslApi& operator=(WslApi&&) = delete;
    virtual ~WslApi() = default;

    // Why the DLL cannot be used (not installed, a function missing); nullopt when it can.
    virtual std::optional<std::string> unavailable_reason() = 0;
    // WslIsDistributionRegistered.
    virtual bool is_distribution_registered(const std::string& name) = 0;
    // WslRegisterDistribution: installs beside the calling executable (the classic launcher way).
    virtual std::uint32_t
    register_distribution(const std::string& name, const std::filesystem::path& tar_gz) = 0;
    // WslUnregisterDistribution.
    virtual std::uint32_t unregister_distribution(const std::string& name) = 0;
    // WslConfigureDistribution.
    virtual std::uint32_t configure_distribution(
        const std::string& name, std::uint32_t default_uid, std::uint32_t flags) = 0;
    // WslGetDistributionConfiguration (frees what the DLL allocated).
    virtual std::uint32_t
    get_distribution_configuration(const std::string& name, WslApiConfiguration& out) = 0;
    // WslLaunchInteractive on our console; `command` empty: the default shell.
    virtual std::uint32_t launch_interactive(
        const std::string& name,
        const std::string& command,
        bool use_cwd,
        std::uint32_t& exit_code) = 0;
    // WslLaunch with stdin fed from `stdin_data` (else empty) and stdout/stderr captured; waits.
    virtual std::uint32_t launch(
        const std::string& name,
        const std::string& command,
        bool use_cwd,
        const std::optional<std::string>& stdin_data,
        WslApiOutput& out) = 0;
    // The system's message for an HRESULT.
    virtual std::string describe(std::uint32_t hr) = 0;
};

// One distribution's key under HKCU\Software\Microsoft\Windows\CurrentVersion\Lxss.
struct LxssEntry
{
    std::string guid; // the key name, "{…}"
    std::string name; // DistributionName
    std::filesystem::path base_path;
    unsigned version = 2;
    std::uint32_t default_uid = 0;
    bool run_oobe = false;   // RunOOBE: WSL (and we) still have to run first-run setup
    std::uint32_t state = 1; // State: 1 installed; other values are transient
};

// The Lxss key: every distribution and the default one.
struct LxssRegistry
{
    std::vector<LxssEntry> entries;
    std::optional<std::string> default_guid; // DefaultDistribution
};

// The rest of Windows the backend uses.
class WslHost
{
public:
    WslHost() = default;
    WslHost(const WslHost&) = delete;
    WslHost& operator=(const WslHost&) = delete;
    WslHost(WslHost&&) = delete;
    WslHost& operator=(WslHost&&) = delete;
    virtual ~WslHost() = default;

    // System32\wsl.exe; nullopt when it is not there.
    virtual std::optional<std::filesystem::path> wsl_exe() = 0;
    // Runs a program to completion (azl::run_process: CreateProcessW, no shell).
    virtual ProcessResult
    run(const std::vector<std::string>& argv, const ProcessOptions& options) = 0;
    // Reads the Lxss key (empty when WSL never registered anything).
    virtual LxssRegistry lxss() = 0;
    // Writes RunOOBE of the distribution key `guid`.
    virtual void set_run_oobe(const std::string& guid, bool pending) = 0;
    // SHA-256 of a file as lowercase hex.
    virtual std::string sha256_file(const std::filesystem::path& file, ProgressMode progress) = 0;
    // Where a restored backup named `name` goes by default: %LOCALAPPDATA%\wsl\NAME.
    virtual std::filesystem::path default_import_location(const std::string& name) = 0;
    // `path` made absolute against our current directory (a Windows path).
    virtual std::filesystem::path absolute_path(const std::filesystem::path& path) = 0;
    // Creates the folder `path` is in, and its missing parents (SHCreateDirectoryExW).
    virtual void create_parent_directories(const std::filesystem::path& path) = 0;
    // Renames `from` over `to` (MoveFileExW, replacing).
    virtual void
    move_replace(const std::filesystem::path& from, const std::filesystem::path& to) = 0;
};

namespace wsl
{
struct Operation;
} // namespace wsl

// The Windows backend over the two seams.
class WslBackend final : public Backend
{
public:
    // Takes the seams (win32/: the real ones; tests: fakes).
    WslBackend(std::unique_ptr<WslApi> api, std::unique_ptr<WslHost> host);

    EngineInfo engine() override;
    bool is_registered(const std::string& name) override;
    std::vector<DistroInfo> list() override;
    void install(const InstallSpec& spec) override;
    void unregister(const std::string& name) override;
    void terminate(const std::string& name) override;
    void configure(const std::string& name, std::uint32_t default_uid, DistroFlags flags) override;
    DistroConfiguration get_configuration(const std::string& name) override;
    void set_setup_pending(const std::string& name, bool pending) override;
    LaunchResult launch(const std::string& name, const LaunchSpec& spec) override;
    int launch_interactive(const std::string& name, const LaunchSpec& spec) override;
    void export_to(const std::string& name, const ExportSpec& spec) override;
    std::string
    answers_guest_path(const std::string& name, const std::filesystem::path& host_file) override;

    // WSL only: sets the default user by name (`wsl --manage NAME --set-default-user USER`).
    void set_default_user(const std::string& name, const std::string& user);
    // WSL only: converts between WSL 1 and 2 (`wsl --set-version NAME V`).
    void set_version(const std::string& name, unsigned version);

private:
    std::filesystem::path wsl_exe();
    std::string wsl_version();
    WslApi& api();
    void require_registered(const std::string& name);
    std::optional<LxssEntry> lxss_entry(const std::string& name);
    std::string run_wsl(const std::vector<std::string>& args, const wsl::Operation& operation);
    void remove_failed_install(const std::string& name);

    std::unique_ptr<WslApi> m_api;
    std::unique_ptr<WslHost> m_host;
    std::optional<std::string> m_version; // `wsl --version`, asked once ("" when it cannot tell)
};

} // namespace azl::launcher
