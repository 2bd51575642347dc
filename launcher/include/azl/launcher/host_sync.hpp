#pragma once
// The host's trust and network settings carried into a distribution: the certificates Windows
// trusts beyond the public roots (its Root and CA stores, Group Policy and Enterprise included)
// and its proxy (Internet Settings; the sandbox: the host's proxy variables). The launcher reads
// them (read_host_facts: src/win32/ through crypt32 and the registry, src/posix/ from a folder of
// PEM files standing in for the stores) and hands them to the guest's `azurelinux-oobe
// --sync-host`, which decides what to trust and writes the files. A copy of the last request sent
// is kept per distribution, so a launch does no work when nothing changed.

#include <azl/launcher/backend.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace azl::launcher
{

struct CommandEnv;

// One certificate from a host store.
struct HostCertificate
{
    std::string store; // "LocalMachine\Root", "CurrentUser Group Policy\CA", "sandbox:FILE"
    std::string pem;
};

// The host's proxy configuration.
struct HostProxy
{
    std::string source; // "Windows Internet Settings", "the host's environment"
    std::string http;
    std::string https;
    std::vector<std::string> no_proxy;
    std::string pac_url; // AutoConfigURL (WSL_PAC_URL, $AZL_SANDBOX_PAC_URL): a PAC file
    // What resolve_pac made of the PAC file (http, https and no_proxy hold its answers):
    bool pac_evaluated = false;
    std::string pac_problem{}; // "PAC file … unreachable: …", "PAC script error in …"
    std::vector<std::string> pac_direct{}; // the hosts it sends DIRECT
    std::vector<std::string> pac_lines{};  // for people: where each host goes, what cannot be used
};

// Everything read_host_facts() found.
struct HostFacts
{
    bool certificates_known = false; // false: the stores could not be read; the guest keeps its set
    std::vector<HostCertificate> certificates;
    std::optional<HostProxy> proxy;
    bool loopback_reachable = true; // the guest reaches the host's 127.0.0.1 (not WSL's NAT mode)
    std::vector<std::string> notes; // what could not be read, for the user
};

// Reads this host's certificates and proxy (platform code). Never throws for a store or setting
// that is missing or unreadable: that becomes a note.
HostFacts read_host_facts();

// Where the last request sent to each distribution is kept (platform code):
// %LOCALAPPDATA%\azurelinux \host-sync on Windows, $XDG_DATA_HOME/azurelinux/host-sync elsewhere.
std::filesystem::path host_sync_state_dir();

// The PEM text of a DER certificate.
std::string der_to_pem(std::span<const unsigned char> der);

// Windows' Internet Settings values as the registry holds them.
struct InternetSettings
{
    bool proxy_enable = false;
    std::string proxy_server;   // "host:port" or "http=h:p;https=h:p;socks=h:p"
    std::string proxy_override; // "*.contoso.com;10.*;<local>"
    std::string auto_config_url;
};

// The proxy those settings describe (nullopt: none): ProxyServer's per-scheme form or one
// host:port for every scheme, ProxyOverride's list as no_proxy (<local> dropped, `*.x` kept).
std::optional<HostProxy> proxy_from_internet_settings(const InternetSettings& settings);

// Evaluates the PAC file of `facts`'s proxy, if any, for the URLs the guest must reach (its
// package repositories, asked of `name`'s azurelinux-oobe, and the Azure endpoints) and makes the
// answers explicit: http, https and no_proxy. Windows uses a PAC file before its manual server, so
// its answers replace a manual one; when the file cannot be evaluated a manual server stays, and
// the problem is recorded. Never throws for a PAC or guest problem.
void resolve_pac(Backend& backend, const std::string& name, HostFacts& facts);

// The URLs a PAC file is asked about besides the repositories: Azure sign-in and Resource Manager.
std::vector<std::string> azure_endpoint_urls();

// The guest request (JSON) for `facts`; a loopback proxy the guest cannot reach is left out and
// explained in the request's proxy problem.
std::string host_sync_request(const HostFacts& facts);

// When a sync runs.
enum class SyncWhen
{
    on_demand, // `azurelinux sync`: always
    dry_run,   // `azurelinux sync --dry-run`: read and evaluate everything, change nothing
    first_run, // before first-run setup: unless the host has nothing to carry
    launch,    // at every launch: only when the request differs from the last one sent
};

// What a sync did.
struct SyncOutcome
{
    bool ran = false;               // the guest was asked
    std::string report_json;        // the guest's report (empty when it did not run)
    std::vector<std::string> lines; // a summary for people
};

// Carries the host's facts into `name` as `when` says, recording the request on success.
// Throws UserError when the guest program fails (a launch catches it and warns instead).
SyncOutcome sync_host(Backend& backend, const std::string& name, SyncWhen when);

// The sync a launch does first (SyncWhen::launch): never in the way of the launch itself, so a
// failure is a warning on stderr.
void sync_host_at_launch(Backend& backend, const std::string& name);

// Forgets what was last sent to `name` (it was removed).
void forget_host_sync(const std::string& name);

// The summary lines of a guest report (certificates trusted and skipped, proxy and files).
std::vector<std::string> summarize_sync_report(std::string_view report_json);

// The host facts as the guest's --check-network request (its certificates and PAC verdict).
std::string network_check_request(const HostFacts& facts);

} // namespace azl::launcher
