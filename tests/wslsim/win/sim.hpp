#pragma once
// The Windows half of the WSL simulator, shared by its wsl.exe, wslapi.dll and wslsim-relay.exe:
// WSL's per-user registry (the Lxss key), WSL's errors and messages, the connection to the Linux
// half (wslsim-host), the call log and fault injection. Everything here follows WSL's own source
// (github.com/microsoft/WSL); tests/wslsim/README.md lists what comes from where.
//
// Environment (set by the tests; Wine passes the Linux environment to Windows programs):
//   WSLSIM_HOST      127.0.0.1:PORT of wslsim-host      WSLSIM_TOKEN  its secret
//   WSLSIM_LOG       file the call log is appended to (a Linux path is read as Z:)
//   WSLSIM_FAIL      faults to inject: "VERB=ERROR[,VERB=ERROR…]", VERB a wsl.exe verb (install,
//                    import, export, unregister, terminate, list, manage, set-version, launch) or
//                    a wslapi function (WslRegisterDistribution, WslLaunch, …); ERROR a name
//                    (WSL_E_IMPORT_FAILED, E_ACCESSDENIED, …) or 0xHRESULT
//   WSLSIM_VERSION   what `wsl --version` reports (default 2.4.4.0); "inbox": the wsl.exe of
//                    Windows without the WSL package, which has no --version

#include <nlohmann/json.hpp>

#include <windows.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wslsim
{

std::wstring widen(std::string_view utf8);
std::string narrow(std::wstring_view wide);
std::optional<std::wstring> env(const wchar_t* name);

// An HRESULT from WSL's tables: its symbolic name, and the message wsl.exe prints for it.
struct ErrorInfo
{
    HRESULT hr;
    const wchar_t* name;
    const wchar_t* message; // nullptr: the system's message for the code
};

std::optional<ErrorInfo> error_by_name(std::wstring_view name);
std::wstring error_name(HRESULT hr);
std::wstring error_message(HRESULT hr);

// A failure as wsl.exe reports it: the message and "Error code: Wsl/<context>/<name>".
struct WslError
{
    HRESULT hr;
    std::wstring message; // empty: error_message(hr)
    std::wstring context; // e.g. L"Service/RegisterDistro"
};

// The fault WSLSIM_FAIL injects for `verb`, if any.
std::optional<HRESULT> injected(std::wstring_view verb);

// Appends one line to WSLSIM_LOG.
void log_call(std::wstring_view line);

// --- the registry --------------------------------------------------------------------------

constexpr DWORD kFlagsDefault = 0x7; // interop, append Windows PATH, mount drives
constexpr DWORD kFlagVmMode = 0x8;   // WSL 2
constexpr DWORD kFlagsAll = 0xF;
constexpr DWORD kStateInstalled = 1;
constexpr DWORD kStateInstalling = 3;
constexpr DWORD kStateUninstalling = 4;

struct Distro
{
    std::wstring guid; // "{…}", the key name
    std::wstring name;
    std::wstring base_path;
    DWORD version = 2; // the file system version, not WSL 1 or 2 (that is kFlagVmMode)
    DWORD flags = kFlagsDefault | kFlagVmMode;
    DWORD default_uid = 0;
    DWORD state = kStateInstalled;
    DWORD run_oobe = 0;
};

class Registry
{
public:
    Registry(); // opens (creates) HKCU\Software\Microsoft\Windows\CurrentVersion\Lxss
    Registry(const Registry&) = delete;
    Registry& operator=(const Registry&) = delete;
    Registry(Registry&&) = delete;
    Registry& operator=(Registry&&) = delete;
    ~Registry();

    [[nodiscard]] std::vector<Distro> distros(bool include_transient = false) const;
    // By name, case-insensitively, installed ones only (as GetDistributionId).
    [[nodiscard]] std::optional<Distro> find(std::wstring_view name) const;
    [[nodiscard]] std::optional<std::wstring> default_guid() const;
    // The default distribution, or WSL_E_DEFAULT_DISTRO_NOT_FOUND.
    [[nodiscard]] Distro default_distro() const;

    // A new key in the Installing state (DistributionRegistration::Create).
    Distro create(
        std::wstring_view name, std::wstring_view base_path, bool run_oobe, DWORD default_uid = 0);
    void set_dword(const std::wstring& guid, const wchar_t* value, DWORD data);
    void set_string(const std::wstring& guid, const wchar_t* value, std::wstring_view data);
    // Installed, and the default if there is none (_SetDistributionInstalled).
    void mark_installed(const Distro& distro);
    void set_default(const Distro& distro);
    void remove(const Distro& distro); // the key, and DefaultDistribution when it named it

private:
    HKEY m_key = nullptr;
};

// Throws WslError{WSL_E_DISTRO_NOT_FOUND} for an unknown name.
Distro require(const Registry& registry, std::wstring_view name);
// s_ValidateDistroName: ^[a-zA-Z0-9._-]{1,256}$ and not "Legacy".
bool valid_name(std::wstring_view name);

// --- the Linux half ----------------------------------------------------------------------------

// A Windows path as the Linux side sees it (Wine's drive mapping).
std::string unix_path(const std::wstring& windows_path);
// A Windows path as the distribution sees it (/mnt/c/…), for --cd and the current directory.
std::string guest_path(const std::wstring& windows_path);

struct HostStreams
{
    HANDLE in = nullptr; // nullptr: no input
    HANDLE out = nullptr;
    HANDLE err = nullptr;
    bool console = false; // stdin is a console: the guest gets a terminal, input is raw
};

// Runs `request` ({"op": …}) on wslsim-host, relaying the streams; returns the exit status and
// the JSON replies. Throws WslError when the host cannot be reached.
int host_call(
    nlohmann::json request, const HostStreams& streams, std::vector<nlohmann::json>* replies);

// Runs `request` with no input and its output captured.
struct Captured
{
    int status = 0;
    std::string out;
    std::string err;
    std::vector<nlohmann::json> replies;
};

Captured host_capture(nlohmann::json request);

// The distributions that are running, by GUID.
std::vector<std::wstring> running_guids();

// Runs a launch request ("op": "launch") for `distro`: first-run setup when it is pending and
// the launch is the default shell, recording its result in the registry as WSL's service does.
int launch(
    Registry& registry, const Distro& distro, nlohmann::json request, const HostStreams& streams);

} // namespace wslsim
