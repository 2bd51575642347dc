// The host's certificates and proxy, sent to the guest's azurelinux-oobe --sync-host.
#include "guest.hpp"

#include <azl/common/error.hpp>
#include <azl/common/fs.hpp>
#include <azl/common/log.hpp>
#include <azl/common/text.hpp>
#include <azl/launcher/host_sync.hpp>
#include <azl/launcher/pac.hpp>

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

// How long fetching a PAC file may take: a launch waits for it when the host's settings changed.
constexpr std::chrono::milliseconds kPacTimeout{4000};

// "host:port" (or a URL already) as an http:// URL.
std::string as_url(std::string_view server)
{
    if (server.find("://") != std::string_view::npos)
    {
        return std::string(server);
    }
    return fmt::format("http://{}", server);
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

// The package repositories' URLs, from the guest's own files (`azurelinux-oobe
// --repository-urls`); none, with a note, when the guest cannot say.
std::vector<std::string>
repository_urls(Backend& backend, const std::string& name, std::vector<std::string>& notes)
{
    LaunchSpec spec;
    spec.argv = {
        "/bin/sh",
        "-c",
        R"(test -x "$1" || exit 127; exec "$1" --repository-urls)",
        "sh",
        std::string(kGuestProgram)};
    spec.user = "root";
    spec.cwd = "/";
    try
    {
        const LaunchResult r = backend.launch(name, spec);
        if (r.exit_code != 0)
        {
            throw std::runtime_error(
                r.exit_code == 127 ? fmt::format("{} has no {}", name, kGuestProgram)
                                   : fmt::format("exit {}: {}", r.exit_code, trim(r.err)));
        }
        std::vector<std::string> urls;
        for (const auto& u : json::parse(r.out))
        {
            urls.push_back(u.get<std::string>());
        }
        return urls;
    }
    catch (const std::exception& e)
    {
        notes.push_back(fmt::format(
            "the PAC file is asked about the Azure endpoints only: the package repositories of {} "
            "are unknown ({})",
            name,
            e.what()));
        return {};
    }
}

// Whether the guest kept its proxy files (the PAC file could not be evaluated).
bool proxy_kept(std::string_view report_json)
{
    const auto report = json::parse(report_json, nullptr, false);
    return report.is_object() && report.contains("proxy") && report["proxy"].is_object()
           && report["proxy"].value("kept", false);
}

// The PAC URL the guest's WSL exports (WSL_PAC_URL), when its sync report names one.
std::string reported_wsl_pac_url(const LaunchResult& r)
{
    if (r.exit_code != 0)
    {
        return {};
    }
    const auto report = json::parse(r.out, nullptr, false);
    if (!report.is_object() || !report.contains("proxy") || !report["proxy"].is_object())
    {
        return {};
    }
    const auto url = report["proxy"].value("wsl_pac_url", json());
    return url.is_string() ? url.get<std::string>() : std::string();
}

// The URL with any user:password@ hidden, for what is printed.
std::string redact(std::string_view url)
{
    const auto scheme = url.find("://");
    const auto at = url.rfind('@');
    if (scheme == std::string_view::npos || at == std::string_view::npos || at < scheme)
    {
        return std::string(url);
    }
    return fmt::format("{}***{}", url.substr(0, scheme + 3), url.substr(at));
}

// What a sync would send, for `azurelinux sync --dry-run`.
std::vector<std::string> dry_run_lines(const HostFacts& facts)
{
    std::vector<std::string> lines;
    lines.push_back(
        facts.certificates_known
            ? fmt::format(
                "certificates: {} in the host's stores (the guest keeps those it does not already "
                "trust)",
                facts.certificates.size())
            : std::string(
                "certificates: the host's stores cannot be read; the guest keeps its set"));
    if (!facts.proxy || (facts.proxy->http.empty() && facts.proxy->https.empty()))
    {
        lines.emplace_back(
            facts.proxy && !facts.proxy->pac_problem.empty()
                ? "proxy: the guest keeps what it has (the PAC file could not be evaluated)"
                : "proxy: none");
        return lines;
    }
    const HostProxy& p = *facts.proxy;
    lines.push_back(
        fmt::format("proxy: {} (from {})", redact(p.https.empty() ? p.http : p.https), p.source));
    if (!p.http.empty() && p.http != p.https)
    {
        lines.push_back(fmt::format("  http:// URLs: {}", redact(p.http)));
    }
    if (!p.no_proxy.empty())
    {
        lines.push_back(fmt::format("  no_proxy: {}", fmt::join(p.no_proxy, ",")));
    }
    return lines;
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
            for (const auto& part : split_trimmed(server, ";"))
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
        for (const auto& entry : split_trimmed(s.proxy_override, ";"))
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

std::vector<std::string> azure_endpoint_urls()
{
    return {"https://login.microsoftonline.com/", "https://management.azure.com/"};
}

void resolve_pac(Backend& backend, const std::string& name, HostFacts& facts)
{
    if (!facts.proxy || facts.proxy->pac_url.empty())
    {
        return;
    }
    HostProxy& p = *facts.proxy;
    std::vector<std::string> urls = repository_urls(backend, name, facts.notes);
    for (auto& u : azure_endpoint_urls())
    {
        urls.push_back(std::move(u));
    }
    const PacEvaluation eval = evaluate_pac(p.pac_url, urls, kPacTimeout);
    p.pac_evaluated = true;
    if (!eval.problem.empty())
    {
        logger("launcher")->debug("{}", eval.problem);
        p.pac_problem = eval.problem;
        return;
    }
    PacOutcome outcome = interpret_pac_answers(p.pac_url, urls, eval.answers);
    for (std::size_t i = 0; i < urls.size(); ++i)
    {
        logger("launcher")->debug("PAC {}: {} -> {}", p.pac_url, urls[i], eval.answers[i]);
    }
    p.source = fmt::format("the PAC file {}, {}", p.pac_url, p.source);
    p.http = std::move(outcome.http);
    p.https = std::move(outcome.https);
    for (const auto& host : outcome.direct)
    {
        if (std::find(p.no_proxy.begin(), p.no_proxy.end(), host) == p.no_proxy.end())
        {
            p.no_proxy.push_back(host);
        }
    }
    p.pac_direct = std::move(outcome.direct);
    p.pac_lines = std::move(outcome.lines);
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
            if (!url->empty() && is_loopback(pac_url_host(*url)) && !facts.loopback_reachable)
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
        if (p.pac_evaluated)
        {
            proxy["pac"] = {
                {"url", p.pac_url},
                {"problem", p.pac_problem},
                {"summary", p.pac_lines.empty() ? std::string() : p.pac_lines.front()},
                {"direct", p.pac_direct}};
        }
        else if (!p.pac_url.empty())
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
    if (when == SyncWhen::on_demand || when == SyncWhen::dry_run)
    {
        guest::require_registered(backend, name);
    }
    HostFacts facts = read_host_facts();
    // What the host says before a PAC file is evaluated decides whether a launch syncs: fetching
    // the file at every launch would make each one wait on the network.
    const std::string settings = host_sync_request(facts);
    const auto last = read_state(name);
    if (when == SyncWhen::launch && (last ? *last == settings : nothing_to_carry(facts)))
    {
        return outcome; // nothing changed since the last sync: no launch at all
    }
    if (when == SyncWhen::first_run && nothing_to_carry(facts))
    {
        return outcome;
    }
    resolve_pac(backend, name, facts);
    const std::string request = host_sync_request(facts);
    const auto pac_lines = [&facts, &outcome](bool kept)
    {
        if (!facts.proxy || !facts.proxy->pac_evaluated)
        {
            return;
        }
        for (const auto& line : facts.proxy->pac_lines)
        {
            outcome.lines.push_back("  " + line);
        }
        if (!facts.proxy->pac_problem.empty() && !kept)
        {
            outcome.lines.push_back("  warning: " + facts.proxy->pac_problem);
        }
    };
    if (when == SyncWhen::dry_run)
    {
        outcome.lines = dry_run_lines(facts);
        pac_lines(false);
        for (const auto& note : facts.notes)
        {
            outcome.lines.push_back(note);
        }
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
    LaunchResult r = backend.launch(name, spec);
    if (const auto wsl_pac = reported_wsl_pac_url(r); !wsl_pac.empty())
    {
        // WSL exports a PAC file (WSL_PAC_URL) that Windows' Internet Settings did not name: it
        // is evaluated here too, and the guest synced again with its answers.
        if (!facts.proxy)
        {
            facts.proxy = HostProxy{
                .source = "WSL (autoProxy)",
                .http = {},
                .https = {},
                .no_proxy = {},
                .pac_url = {}};
        }
        facts.proxy->pac_url = wsl_pac;
        resolve_pac(backend, name, facts);
        spec.stdin_data = host_sync_request(facts);
        r = backend.launch(name, spec);
    }
    if (r.exit_code == 127)
    {
        outcome.lines.push_back(fmt::format(
            "{} has no {}: the host's certificates and proxy are not carried into it",
            name,
            kGuestProgram));
        write_state(name, settings);
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
    pac_lines(proxy_kept(r.out));
    for (const auto& note : facts.notes)
    {
        outcome.lines.push_back(note);
    }
    write_state(name, settings);
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
            if (proxy.value("kept", false))
            {
                lines.push_back(
                    fmt::format("proxy: unchanged: {}", proxy.value("problem", std::string("?"))));
                return lines;
            }
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
