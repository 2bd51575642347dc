// `--sync-host`: the host's certificates and proxy, made the guest's.
#include <azl/common/error.hpp>
#include <azl/common/fs.hpp>
#include <azl/common/ini.hpp>
#include <azl/common/text.hpp>
#include <azl/oobe/host_sync.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace azl::oobe
{

namespace fs = std::filesystem;
using nlohmann::json;

namespace
{

[[noreturn]] void bad_request(std::string_view origin, std::string_view problem)
{
    throw UserError(
        fmt::format("{}: {}", origin, problem),
        "the launcher and the guest's azurelinux-oobe must come from the same release",
        ExitCode::usage);
}

std::vector<std::string> string_list(const json& j)
{
    std::vector<std::string> out;
    for (const auto& item : j)
    {
        out.push_back(item.get<std::string>());
    }
    return out;
}

std::optional<std::string>
env_value(const std::map<std::string, std::string>& env, const char* upper, const char* lower)
{
    for (const char* key : {upper, lower})
    {
        if (const auto it = env.find(key); it != env.end() && !it->second.empty())
        {
            return it->second;
        }
    }
    return std::nullopt;
}

json certificate_report(
    const HostSyncRequest& request, const SyncEnvironment& env, const SyncSwitches& switches)
{
    json report = {{"enabled", switches.certificates}, {"changed", false}};
    if (!switches.certificates || !request.certificates_known)
    {
        report["trusted"] = json::array();
        report["skipped"] = json::array();
        return report;
    }
    const TrustLayout layout = trust_layout(env.facts, env.root);
    // What the guest trusts without us: its bundle less the managed set (which is in it).
    const auto managed = managed_fingerprints(layout);
    std::vector<std::string> guest;
    for (auto& fp : bundle_fingerprints(layout.system_bundle))
    {
        if (std::find(managed.begin(), managed.end(), fp) == managed.end())
        {
            guest.push_back(std::move(fp));
        }
    }
    std::error_code ec;
    const std::string bundle_text = fs::exists(layout.system_bundle, ec)
                                        ? read_file(layout.system_bundle, 64U << 20U)
                                        : std::string();
    const auto decisions = decide_certificates(request.certificates, guest, bundle_text, env.now);
    json trusted = json::array();
    json skipped = json::array();
    for (const auto& d : decisions)
    {
        json item = {{"store", d.store}, {"subject", d.subject}, {"sha256", d.sha256}};
        if (d.verdict == CertVerdict::install)
        {
            trusted.push_back(std::move(item));
        }
        else
        {
            item["reason"] = verdict_text(d.verdict);
            skipped.push_back(std::move(item));
        }
    }
    const bool changed = write_managed_set(layout, decisions);
    if (changed && env.run_tool)
    {
        env.run_tool(layout.update_tool);
    }
    report["changed"] = changed;
    report["trusted"] = std::move(trusted);
    report["skipped"] = std::move(skipped);
    report["managed"] = layout.managed.string();
    return report;
}

json proxy_report(
    const HostSyncRequest& request, const SyncEnvironment& env, const SyncSwitches& switches)
{
    json report = {{"enabled", switches.proxy}, {"changed", json::array()}};
    if (!switches.proxy)
    {
        return report;
    }
    std::optional<ProxySettings> proxy = request.proxy;
    std::string source = request.proxy_source;
    if (!proxy && !request.pac_problem.empty())
    {
        // The PAC file could not be evaluated (off the company network, a broken script): what
        // the last good evaluation wrote stays.
        report["problem"] = request.pac_problem;
        report["source"] = nullptr;
        report["proxy"] = nullptr;
        report["kept"] = true;
        return report;
    }
    if (!proxy)
    {
        proxy = wsl_env_proxy(env.guest_env);
        source = proxy ? "WSL (autoProxy)" : "";
    }
    if (const auto pac = env.guest_env.find("WSL_PAC_URL");
        pac != env.guest_env.end() && !pac->second.empty() && request.pac_url.empty())
    {
        // A PAC file WSL knows and the launcher does not: it evaluates it and syncs again.
        report["wsl_pac_url"] = pac->second;
    }
    if (!request.proxy_problem.empty())
    {
        report["problem"] = request.proxy_problem;
    }
    report["source"] = source.empty() ? json() : json(source);
    report["proxy"] =
        proxy ? json(redact_proxy_url(proxy->https.empty() ? proxy->http : proxy->https)) : json();
    if (proxy)
    {
        report["no_proxy"] = merge_no_proxy(proxy->no_proxy);
    }
    report["changed"] = apply_config_edits(proxy_config_edits(env.facts, proxy, env.root));
    return report;
}

} // namespace

HostSyncRequest parse_host_sync_request(std::string_view text, std::string_view origin)
{
    HostSyncRequest r;
    try
    {
        const json doc = json::parse(text);
        if (doc.at("version").get<int>() != 1)
        {
            bad_request(origin, "unsupported version (this program reads 1)");
        }
        if (const auto it = doc.find("certificates"); it != doc.end() && !it->is_null())
        {
            r.certificates_known = true;
            for (const auto& c : *it)
            {
                r.certificates.push_back(
                    {c.at("store").get<std::string>(), c.at("pem").get<std::string>()});
            }
        }
        if (const auto it = doc.find("proxy"); it != doc.end() && !it->is_null())
        {
            ProxySettings p;
            p.http = it->value("http", "");
            p.https = it->value("https", "");
            if (const auto np = it->find("no_proxy"); np != it->end())
            {
                p.no_proxy = string_list(*np);
            }
            r.proxy_source = it->value("source", "");
            r.proxy_problem = it->value("problem", "");
            r.pac_url = it->value("pac_url", "");
            if (const auto pac = it->find("pac"); pac != it->end() && !pac->is_null())
            {
                r.pac_evaluated = true;
                r.pac_url = pac->at("url").get<std::string>();
                r.pac_problem = pac->value("problem", "");
                r.pac_summary = pac->value("summary", "");
                if (const auto direct = pac->find("direct"); direct != pac->end())
                {
                    r.pac_direct = string_list(*direct);
                }
            }
            if (!p.http.empty() || !p.https.empty())
            {
                r.proxy = std::move(p);
            }
        }
    }
    catch (const json::exception& e)
    {
        bad_request(origin, e.what());
    }
    return r;
}

SyncSwitches read_sync_switches(const fs::path& path)
{
    SyncSwitches s;
    std::error_code ec;
    if (!fs::exists(path, ec))
    {
        return s;
    }
    const auto ini = IniFile::parse(read_file(path, 1U << 20U), path.string());
    const auto flag = [&](const char* key, bool& out)
    {
        if (const auto v = ini.get("sync", key))
        {
            const auto b = parse_ini_bool(*v);
            if (!b)
            {
                throw UserError(
                    fmt::format("{}: [sync] {} = {} is not true or false", path.string(), key, *v));
            }
            out = *b;
        }
    };
    flag("certificates", s.certificates);
    flag("proxy", s.proxy);
    return s;
}

std::optional<ProxySettings> wsl_env_proxy(const std::map<std::string, std::string>& env)
{
    ProxySettings p;
    p.http = env_value(env, "HTTP_PROXY", "http_proxy").value_or("");
    p.https = env_value(env, "HTTPS_PROXY", "https_proxy").value_or("");
    if (p.http.empty() && p.https.empty())
    {
        return std::nullopt;
    }
    p.no_proxy = split_trimmed(env_value(env, "NO_PROXY", "no_proxy").value_or(""), ",; ");
    return p;
}

std::string run_host_sync(const HostSyncRequest& request, const SyncEnvironment& env)
{
    const auto switches = read_sync_switches(env.root / fs::path(kHostSyncConf).relative_path());
    const json report = {
        {"certificates", certificate_report(request, env, switches)},
        {"proxy", proxy_report(request, env, switches)}};
    return report.dump(2) + "\n";
}

} // namespace azl::oobe
