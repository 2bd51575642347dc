// The host's certificates and proxy, sent to the guest's azurelinux-oobe --sync-host.
#include "guest.hpp"

#include <azl/common/error.hpp>
#include <azl/common/fs.hpp>
#include <azl/common/log.hpp>
#include <azl/common/text.hpp>
#include <azl/launcher/host_sync.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <fstream>
#include <sstream>

namespace azl::launcher
{

namespace fs = std::filesystem;
using nlohmann::json;

namespace
{

constexpr std::string_view kGuestProgram = "/usr/lib/wsl/azurelinux-oobe";

std::vector<std::string> split(std::string_view text, char sep)
{
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= text.size())
    {
        auto end = text.find(sep, start);
        if (end == std::string_view::npos)
        {
            end = text.size();
        }
        const auto item = trim(text.substr(start, end - start));
        if (!item.empty())
        {
            out.emplace_back(item);
        }
        start = end + 1;
    }
    return out;
}

// "host:port" (or a URL already) as an http:// URL.
std::string as_url(std::string_view server)
{
    if (server.find("://") != std::string_view::npos)
    {
        return std::string(server);
    }
    return fmt::format("http://{}", server);
}

// The host of a proxy URL, lower-cased, without user info, brackets or port.
std::string url_host(std::string_view url)
{
    if (const auto scheme = url.find("://"); scheme != std::string_view::npos)
    {
        url.remove_prefix(scheme + 3);
    }
    url = url.substr(0, url.find('/'));
    if (const auto at = url.rfind('@'); at != std::string_view::npos)
    {
        url.remove_prefix(at + 1);
    }
    if (url.starts_with('['))
    {
        return ascii_lower(url.substr(1, url.find(']') - 1));
    }
    return ascii_lower(url.substr(0, url.find(':')));
}

bool is_loopback(std::string_view host)
{
    return host == "localhost" || host.starts_with("127.") || host == "::1";
}

std::string state_file(const std::string& name)
{
    return path_to_utf8(host_sync_state_dir() / (name + ".json"));
}

std::optional<std::string> read_state(const std::string& name)
{
    const fs::path file = path_from_utf8(state_file(name));
    std::error_code ec;
    if (!fs::is_regular_file(file, ec))
    {
        return std::nullopt;
    }
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

void write_state(const std::string& name, const std::string& request)
{
    const fs::path dir = host_sync_state_dir();
    std::error_code ec;
    fs::create_directories(dir, ec);
    // The request may carry a proxy password: readable by this user only.
    write_file_atomic(path_from_utf8(state_file(name)), request, 0600);
}

bool nothing_to_carry(const HostFacts& facts)
{
    return facts.certificates.empty() && !facts.proxy;
}

} // namespace

std::string der_to_pem(std::span<const unsigned char> der)
{
    static constexpr std::string_view kAlphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string b64;
    b64.reserve((der.size() + 2) / 3 * 4);
    for (std::size_t i = 0; i < der.size(); i += 3)
    {
        const std::size_t left = der.size() - i;
        const unsigned v = (static_cast<unsigned>(der[i]) << 16U)
                           | (left > 1 ? static_cast<unsigned>(der[i + 1]) << 8U : 0U)
                           | (left > 2 ? static_cast<unsigned>(der[i + 2]) : 0U);
        b64.push_back(kAlphabet[(v >> 18U) & 63U]);
        b64.push_back(kAlphabet[(v >> 12U) & 63U]);
        b64.push_back(left > 1 ? kAlphabet[(v >> 6U) & 63U] : '=');
        b64.push_back(left > 2 ? kAlphabet[v & 63U] : '=');
    }
    std::string pem = "-----BEGIN CERTIFICATE-----\n";
    for (std::size_t i = 0; i < b64.size(); i += 64)
    {
        pem += b64.substr(i, 64) + "\n";
    }
    return pem + "-----END CERTIFICATE-----\n";
}

std::optional<HostProxy> proxy_from_internet_settings(const InternetSettings& s)
{
    HostProxy p;
    p.source = "Windows Internet Settings";
    p.pac_url = s.auto_config_url;
    if (s.proxy_enable && !trim(s.proxy_server).empty())
    {
        const auto server = trim(s.proxy_server);
        if (server.find('=') == std::string_view::npos)
        {
            p.http = p.https = as_url(server);
        }
        else
        {
            for (const auto& part : split(server, ';'))
            {
                const auto eq = part.find('=');
                const auto scheme = ascii_lower(trim(std::string_view(part).substr(0, eq)));
                const auto value = eq == std::string::npos
                                       ? std::string_view()
                                       : trim(std::string_view(part).substr(eq + 1));
                if (scheme == "http" && !value.empty())
                {
                    p.http = as_url(value);
                }
                else if (scheme == "https" && !value.empty())
                {
                    p.https = as_url(value);
                }
            }
        }
        for (const auto& entry : split(s.proxy_override, ';'))
        {
            // <local> means "names without a dot", which no_proxy cannot say: the loopback names
            // the guest always bypasses cover what matters.
            if (entry != "<local>")
            {
                p.no_proxy.push_back(entry);
            }
        }
    }
    if (p.http.empty() && p.https.empty() && p.pac_url.empty())
    {
        return std::nullopt;
    }
    return p;
}

std::string host_sync_request(const HostFacts& facts)
{
    json doc = {{"version", 1}};
    if (facts.certificates_known)
    {
        json certs = json::array();
        for (const auto& c : facts.certificates)
        {
            certs.push_back({{"store", c.store}, {"pem", c.pem}});
        }
        doc["certificates"] = std::move(certs);
    }
    else
    {
        doc["certificates"] = nullptr;
    }
    doc["proxy"] = nullptr;
    if (facts.proxy)
    {
        const auto& p = *facts.proxy;
        json proxy = {{"source", p.source}, {"no_proxy", p.no_proxy}};
        std::string problem;
        for (const auto* url : {&p.http, &p.https})
        {
            if (!url->empty() && is_loopback(url_host(*url)) && !facts.loopback_reachable)
            {
                problem = fmt::format(
                    "the proxy {} listens on Windows' loopback, which the guest cannot reach in "
                    "WSL's NAT networking mode: set networkingMode=mirrored in %USERPROFILE%\\"
                    ".wslconfig, or point the proxy setting at an address the guest can reach",
                    *url);
            }
        }
        if (problem.empty())
        {
            proxy["http"] = p.http;
            proxy["https"] = p.https;
        }
        else
        {
            proxy["problem"] = problem;
        }
        if (!p.pac_url.empty())
        {
            proxy["pac_url"] = p.pac_url;
        }
        doc["proxy"] = std::move(proxy);
    }
    return doc.dump() + "\n";
}

std::string network_check_request(const HostFacts& facts)
{
    return host_sync_request(facts);
}

SyncOutcome sync_host(Backend& backend, const std::string& name, SyncWhen when)
{
    SyncOutcome outcome;
    if (when == SyncWhen::on_demand)
    {
        guest::require_registered(backend, name);
    }
    const HostFacts facts = read_host_facts();
    const std::string request = host_sync_request(facts);
    const auto last = read_state(name);
    if (when == SyncWhen::launch && (last ? *last == request : nothing_to_carry(facts)))
    {
        return outcome; // nothing changed since the last sync: no launch at all
    }
    if (when == SyncWhen::first_run && nothing_to_carry(facts))
    {
        return outcome;
    }
    LaunchSpec spec;
    spec.argv = {
        "/bin/sh",
        "-c",
        R"(test -x "$1" || exit 127; exec "$1" --sync-host)",
        "sh",
        std::string(kGuestProgram)};
    spec.user = "root";
    spec.cwd = "/";
    spec.stdin_data = request;
    const LaunchResult r = backend.launch(name, spec);
    if (r.exit_code == 127)
    {
        outcome.lines.push_back(fmt::format(
            "{} has no {}: the host's certificates and proxy are not carried into it",
            name,
            kGuestProgram));
        write_state(name, request);
        return outcome;
    }
    if (r.exit_code != 0)
    {
        const auto err = trim(r.err);
        throw UserError(
            fmt::format(
                "carrying the host's certificates and proxy into {} failed (exit {}): {}",
                name,
                r.exit_code,
                err.substr(0, err.find('\n'))),
            fmt::format("run it again with: azurelinux sync --name {}", name));
    }
    outcome.ran = true;
    outcome.report_json = r.out;
    outcome.lines = summarize_sync_report(r.out);
    for (const auto& note : facts.notes)
    {
        outcome.lines.push_back(note);
    }
    write_state(name, request);
    return outcome;
}

void sync_host_at_launch(Backend& backend, const std::string& name)
{
    try
    {
        const auto outcome = sync_host(backend, name, SyncWhen::launch);
        for (const auto& line : outcome.lines)
        {
            logger("launcher")->info("{}: {}", name, line);
        }
    }
    catch (const std::exception& e)
    {
        logger("launcher")->warn("{}", e.what());
    }
}

void forget_host_sync(const std::string& name)
{
    std::error_code ec;
    fs::remove(path_from_utf8(state_file(name)), ec);
}

std::vector<std::string> summarize_sync_report(std::string_view report_json)
{
    std::vector<std::string> lines;
    json report;
    try
    {
        report = json::parse(report_json);
        const auto& certs = report.at("certificates");
        if (!certs.at("enabled").get<bool>())
        {
            lines.emplace_back("certificates: not carried (host_sync certificates = false)");
        }
        else
        {
            std::vector<std::string> trusted;
            for (const auto& c : certs.at("trusted"))
            {
                trusted.push_back(c.at("subject").get<std::string>());
            }
            std::size_t already = 0;
            std::vector<std::string> skipped;
            for (const auto& c : certs.at("skipped"))
            {
                const auto reason = c.at("reason").get<std::string>();
                if (reason == "already trusted by the guest" || reason == "duplicate")
                {
                    ++already;
                    continue;
                }
                const auto subject = c.at("subject").get<std::string>();
                skipped.push_back(fmt::format(
                    "{} ({}, from {})",
                    subject.empty() ? std::string("(unreadable)") : subject,
                    reason,
                    c.at("store").get<std::string>()));
            }
            lines.push_back(fmt::format(
                "certificates: {} trusted from the host{}{}{}",
                trusted.size(),
                trusted.empty() ? "" : fmt::format(" ({})", fmt::join(trusted, "; ")),
                already == 0 ? "" : fmt::format(", {} already trusted", already),
                certs.at("changed").get<bool>() ? ", trust store rebuilt" : ", unchanged"));
            for (const auto& s : skipped)
            {
                lines.push_back("  skipped: " + s);
            }
        }
        const auto& proxy = report.at("proxy");
        if (!proxy.at("enabled").get<bool>())
        {
            lines.emplace_back(
                "proxy: not carried (host_sync proxy = false, or the answers set one)");
        }
        else
        {
            const auto p = proxy.value("proxy", json());
            lines.push_back(
                p.is_string() ? fmt::format(
                    "proxy: {} (from {})", p.get<std::string>(), proxy.value("source", "?"))
                              : std::string("proxy: none"));
            if (const auto problem = proxy.value("problem", json()); problem.is_string())
            {
                lines.push_back("  warning: " + problem.get<std::string>());
            }
            const auto& changed = proxy.at("changed");
            if (!changed.empty())
            {
                std::vector<std::string> files;
                for (const auto& f : changed)
                {
                    files.push_back(f.get<std::string>());
                }
                lines.push_back(fmt::format("  written: {}", fmt::join(files, ", ")));
            }
        }
    }
    catch (const json::exception& e)
    {
        throw UserError(
            fmt::format("the guest's sync report is not what this launcher reads: {}", e.what()));
    }
    return lines;
}

} // namespace azl::launcher
