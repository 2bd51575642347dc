#pragma once
// Recording fakes of the WSL backend's two seams, faithful to what Windows does: wslapi.dll's
// HRESULTs, wsl.exe's UTF-16LE output with CRLF and its "Error code: Wsl/…" lines and -1 exit code,
// the Lxss registry values. One FakeWsl holds the state both fakes share, and the log of every
// call: API calls as "Function(arguments)", wsl.exe runs as the command line CreateProcessW gets.

#include <azl/common/command_line.hpp>
#include <azl/launcher/wsl_backend.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace azl::test
{

// UTF-16LE bytes of a u"…" literal, as wsl.exe writes them (no BOM).
std::string utf16le(std::u16string_view text);

// The state of one fake Windows with WSL.
struct FakeWsl
{
    struct Distro
    {
        std::string guid{};
        std::string name{};
        std::string base_path{};
        unsigned version = 2;
        std::uint32_t default_uid = 0;
        std::uint32_t flags = 7;
        bool run_oobe = false;
        bool running = false;
    };

    std::vector<Distro> distros;
    std::optional<std::string> default_guid;
    std::vector<std::string> calls; // in order

    std::string wsl_version = "2.4.4.0"; // empty: the inbox wsl.exe, which has no --version
    bool dll_missing = false;
    bool wsl_exe_missing = false;
    bool registry_read_only = false;                 // writing RunOOBE fails (access denied)
    std::map<std::string, std::uint32_t> fail_next;  // API function name -> HRESULT, once
    std::map<std::string, std::string> fail_wsl_exe; // first wsl.exe argument -> error token, once
    std::map<std::string, std::uint32_t> users = {{"root", 0}, {"azure", 1000}};

    // What a Linux command run through WslLaunch / wsl.exe --exec prints: command -> result.
    std::map<std::string, ProcessResult> guest_commands;

    // The next GUID for a registration.
    std::string next_guid();
    Distro* find(const std::string& name);
    // Takes a scripted failure of `function`, if any.
    std::optional<std::uint32_t> take_failure(const std::string& function);

private:
    int m_guids = 0;
};

// wslapi.dll over a FakeWsl.
class FakeWslApi final : public launcher::WslApi
{
public:
    explicit FakeWslApi(FakeWsl& wsl)
        : m_wsl(wsl)
    {
    }

    std::optional<std::string> unavailable_reason() override;
    bool is_distribution_registered(const std::string& name) override;
    std::uint32_t
    register_distribution(const std::string& name, const std::filesystem::path& tar_gz) override;
    std::uint32_t unregister_distribution(const std::string& name) override;
    std::uint32_t configure_distribution(
        const std::string& name, std::uint32_t default_uid, std::uint32_t flags) override;
    std::uint32_t get_distribution_configuration(
        const std::string& name, launcher::WslApiConfiguration& out) override;
    std::uint32_t launch_interactive(
        const std::string& name,
        const std::string& command,
        bool use_cwd,
        std::uint32_t& exit_code) override;
    std::uint32_t launch(
        const std::string& name,
        const std::string& command,
        bool use_cwd,
        const std::optional<std::string>& stdin_data,
        launcher::WslApiOutput& out) override;
    std::string describe(std::uint32_t hr) override;

private:
    FakeWsl& m_wsl;
};

// wsl.exe, the registry and the file system of a FakeWsl.
class FakeWslHost final : public launcher::WslHost
{
public:
    explicit FakeWslHost(FakeWsl& wsl)
        : m_wsl(wsl)
    {
    }

    std::optional<std::filesystem::path> wsl_exe() override;
    ProcessResult run(const std::vector<std::string>& argv, const ProcessOptions& options) override;
    launcher::LxssRegistry lxss() override;
    void set_run_oobe(const std::string& guid, bool pending) override;
    std::string sha256_file(const std::filesystem::path& file, ProgressMode progress) override;
    std::filesystem::path default_import_location(const std::string& name) override;
    std::filesystem::path absolute_path(const std::filesystem::path& path) override;
    void create_parent_directories(const std::filesystem::path& path) override;
    void move_replace(const std::filesystem::path& from, const std::filesystem::path& to) override;

private:
    ProcessResult wsl_exe_run(const std::vector<std::string>& args, const ProcessOptions& options);
    FakeWsl& m_wsl;
};

// What a guest command prints and returns.
ProcessResult guest_result(int exit_code, std::string out = {}, std::string err = {});

// An install of `image` as `name`, the other fields at their defaults.
launcher::InstallSpec install_spec(const std::string& name, const std::filesystem::path& image);

// A WslBackend over fakes of `wsl`.
std::unique_ptr<launcher::WslBackend> make_fake_backend(FakeWsl& wsl);

// The path of System32\wsl.exe in the fake.
inline constexpr std::string_view kWslExe = R"(C:\Windows\System32\wsl.exe)";

} // namespace azl::test
