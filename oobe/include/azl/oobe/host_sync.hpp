#pragma once
// `azurelinux-oobe --sync-host`: what the launcher read on the host (trusted certificates, proxy
// settings) made the guest's own. The launcher sends a JSON document on stdin; the program answers
// with a JSON report on stdout. /etc/azurelinux/host-sync.conf ([sync] certificates/proxy = false,
// from the answers' host_sync key) turns either half off.

#include <azl/oobe/family.hpp>
#include <azl/oobe/host_proxy.hpp>
#include <azl/oobe/host_trust.hpp>

#include <ctime>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace azl::oobe
{

// Where the switches live (an INI file, [sync] certificates / proxy).
inline constexpr const char* kHostSyncConf = "/etc/azurelinux/host-sync.conf";

// The host's facts as the launcher sends them.
struct HostSyncRequest
{
    bool certificates_known = false; // false: the host could not read its stores; keep the set
    std::vector<HostCertificate> certificates;
    std::optional<ProxySettings> proxy; // what the host configures; nullopt: nothing
    std::string proxy_source;           // "Windows Internet Settings", "PAC …", …
    std::string proxy_problem;          // why the host's proxy is not carried (loopback in NAT)
    std::string pac_url; // a PAC file the host did not evaluate: doctor checks it is reachable
    // A PAC file the launcher evaluated on the host (its answers are in `proxy`):
    bool pac_evaluated = false;
    std::string pac_problem; // "PAC file … unreachable: …": the guest keeps its files
    std::string pac_summary; // which hosts go through which proxy, which go DIRECT
    std::vector<std::string> pac_direct; // the hosts the PAC file sends DIRECT
};

// Parses the launcher's document; throws UserError naming `origin` for anything malformed.
HostSyncRequest parse_host_sync_request(std::string_view text, std::string_view origin);

// What the sync may touch and how it runs tools, so tests can aim it at a folder.
struct SyncEnvironment
{
    const FamilyFacts& facts;
    std::filesystem::path root = "/";
    std::map<std::string, std::string> guest_env; // WSL's autoProxy variables, when set
    std::time_t now = 0;
    std::function<void(const std::vector<std::string>&)> run_tool; // runs the trust tool
};

// What one sync did, as JSON text for the launcher (see oobe/README.md).
std::string run_host_sync(const HostSyncRequest& request, const SyncEnvironment& env);

// Which halves the guest's switches allow (both when the file is absent).
struct SyncSwitches
{
    bool certificates = true;
    bool proxy = true;
};

// Reads `path` (kHostSyncConf below a root); throws UserError for a malformed file.
SyncSwitches read_sync_switches(const std::filesystem::path& path);

// The proxy WSL exports into the guest (autoProxy): HTTP_PROXY, HTTPS_PROXY, NO_PROXY (either
// case); nullopt when neither proxy variable is set.
std::optional<ProxySettings> wsl_env_proxy(const std::map<std::string, std::string>& env);

// `azurelinux-oobe --sync-host`: syncs this system (as root) with the request; the JSON report.
std::string sync_host_command(std::string_view request_text);

// `azurelinux-oobe --repository-urls`: the JSON array of the package repositories' http(s) URLs,
// for the launcher to ask a PAC file about.
std::string repository_urls_command();

// `azurelinux-oobe --check-network`: the JSON array of TLS checks doctor shows; the request
// carries the host's certificates, to say whether Windows trusts an interceptor.
std::string check_network_command(std::string_view request_text);

} // namespace azl::oobe
