#pragma once
// `azurelinux-oobe --check-network`, which `azurelinux doctor` runs inside the guest: TLS to the
// package repositories and the Azure endpoints through the proxy the guest's tools use, and a
// failure explained: which proxy refused, which CA intercepts TLS and whether Windows trusts it.

#include <azl/oobe/family.hpp>
#include <azl/oobe/host_proxy.hpp>
#include <azl/oobe/host_trust.hpp>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace azl::oobe
{

// One endpoint to reach.
struct NetTarget
{
    std::string host;
    unsigned port = 443;
    std::string why; // "package repository", "Azure sign-in", …
};

// Where a proxy is.
struct ProxyAddress
{
    std::string host;
    unsigned port = 0;
};

// "http://user:pw@host:port/" → host and port (default 80, or 443 for https://); nullopt when
// it is not such a URL.
std::optional<ProxyAddress> parse_proxy_address(std::string_view url);

// Whether `host` matches a no_proxy list (exact names, .domain and *.domain suffixes, "*").
bool bypasses_proxy(std::string_view host, const std::vector<std::string>& no_proxy);

// The http:// and https:// URLs of the package repositories the guest's files name, below `root`
// (the files repository_targets reads), each once, in file order.
std::vector<std::string>
repository_urls(const FamilyFacts& facts, const std::filesystem::path& root = "/");

// The https:// hosts of the package repositories the guest's files name, below `root` (apt's
// sources.list(.d) one-line and deb822 files; yum.repos.d baseurl/mirrorlist/metalink).
std::vector<NetTarget>
repository_targets(const FamilyFacts& facts, const std::filesystem::path& root = "/");

// The proxy the guest's tools use: /etc/environment's variables (written by sync and first-run
// setup), else `env` (WSL's autoProxy); nullopt when none.
std::optional<ProxySettings>
effective_proxy(const std::filesystem::path& root, const std::map<std::string, std::string>& env);

// One verdict, shaped as the launcher's doctor lines.
struct NetCheck
{
    std::string id;     // "tls:HOST:PORT"
    std::string status; // "ok", "warn", "fail"
    std::string message;
    std::string hint;
};

// Connects to each target (through `proxy` unless bypassed), completes a verified TLS handshake
// with the guest's trust store, and explains each failure; `host_certificates` are what Windows
// trusts, to tell "Windows trusts it, the guest does not". `timeout` bounds each connection.
std::vector<NetCheck> check_targets(
    const std::vector<NetTarget>& targets,
    const std::optional<ProxySettings>& proxy,
    const std::vector<HostCertificate>& host_certificates,
    std::chrono::milliseconds timeout);

// As above where Windows' certificates are unknown (`azurelinux-bridge status` in the guest): an
// untrusted interceptor is named, with what to do whether or not Windows trusts it.
std::vector<NetCheck> check_targets(
    const std::vector<NetTarget>& targets,
    const std::optional<ProxySettings>& proxy,
    std::chrono::milliseconds timeout);

// The Azure endpoints the guest's tools need: sign-in (login.microsoftonline.com) and Resource
// Manager (management.azure.com), port 443.
std::vector<NetTarget> azure_targets();

// Fetches the proxy auto-configuration file at `url` (http:// only, direct): warn when it answers
// 200 (reachable, but only the launcher evaluates it), fail ("PAC file … unreachable: …")
// otherwise.
NetCheck check_pac_file(const std::string& url, std::chrono::milliseconds timeout);

// The check for a PAC file the launcher evaluated on the host: fail with its `problem` ("PAC file
// … unreachable", "PAC script error in …"), else ok with its `summary` (which hosts go DIRECT).
NetCheck
evaluated_pac_check(const std::string& url, const std::string& problem, const std::string& summary);

// The proxy variables of this process's environment that WSL's autoProxy exports (HTTP_PROXY,
// HTTPS_PROXY, NO_PROXY in both cases, WSL_PAC_URL): what the guest's tools use when
// /etc/environment names no proxy.
std::map<std::string, std::string> autoproxy_variables();

} // namespace azl::oobe
