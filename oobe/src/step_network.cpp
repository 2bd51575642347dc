#include "interrupt.hpp"
#include "steps.hpp"

#include <azl/common/error.hpp>
#include <azl/common/fs.hpp>
#include <azl/oobe/host_proxy.hpp>
#include <azl/oobe/host_sync.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace azl::oobe
{

namespace fs = std::filesystem;
using detail::run_checked;

namespace
{

ProxySettings settings_of(const ProxyAnswers& p)
{
    return {.http = p.http, .https = p.https, .no_proxy = p.no_proxy};
}

fs::path anchor_path(const FamilyFacts& facts, const CaCertificate& ca)
{
    return fs::path(facts.ca_anchor_dir)
           / fmt::format("azurelinux-{}{}", ca.name, facts.ca_anchor_suffix);
}

std::string repo_file(const FamilyFacts& facts, const Repository& r)
{
    if (facts.family == Family::debian)
    {
        return fmt::format(
            "# Written by azurelinux-oobe (first-run setup).\ndeb {}{} {}{}{}\n",
            r.gpg_key_file.empty() ? "" : fmt::format("[signed-by={}] ", r.gpg_key_file),
            r.url,
            r.suite,
            r.components.empty() ? "" : " ",
            fmt::join(r.components, " "));
    }
    return fmt::format(
        "# Written by azurelinux-oobe (first-run setup).\n[{0}]\nname={0}\nbaseurl={1}\nenabled=1\n"
        "gpgcheck=1\n{2}",
        r.name,
        r.url,
        r.gpg_key_file.empty() ? "" : fmt::format("gpgkey=file://{}\n", r.gpg_key_file));
}

fs::path repo_path(const FamilyFacts& facts, const Repository& r)
{
    return fs::path(facts.repo_dir)
           / fmt::format(
               "azurelinux-{}.{}", r.name, facts.family == Family::debian ? "list" : "repo");
}

bool package_installed(const FamilyFacts& facts, const std::string& name)
{
    const auto result = run_process(detail::command(facts.package_query, {name}));
    if (facts.family == Family::debian)
    {
        return result.ok() && result.out.starts_with("installed");
    }
    return result.ok();
}

} // namespace

std::string plan_proxy(const StepContext& ctx)
{
    const auto& p = *ctx.answers.proxy;
    std::vector<std::string> files;
    for (const auto& e : proxy_config_edits(ctx.facts, settings_of(p)))
    {
        files.push_back(e.path.string());
    }
    return fmt::format(
        "proxy {} for login shells and tools: {}",
        detail::redact_url(p.https.empty() ? p.http : p.https),
        files.empty() ? std::string("(already set)") : fmt::format("{}", fmt::join(files, ", ")));
}

std::string apply_proxy(StepContext& ctx)
{
    const auto& p = *ctx.answers.proxy;
    if (detail::redact_url(p.http) != p.http || detail::redact_url(p.https) != p.https)
    {
        ctx.log->warn(
            "the proxy URL carries credentials; {} is readable by every user", kProxyProfile);
    }
    apply_config_edits(proxy_config_edits(ctx.facts, settings_of(p)));
    // The answers' proxy wins over the host's: the launcher's sync leaves it alone.
    detail::edit_ini(kHostSyncConf, 0644, [](IniFile& ini) { ini.set("sync", "proxy", "false"); });
    return fmt::format("proxy {}", detail::redact_url(p.https.empty() ? p.http : p.https));
}

std::string plan_ca(const StepContext& ctx)
{
    std::vector<std::string> files;
    for (const auto& ca : ctx.answers.ca_certificates)
    {
        files.push_back(anchor_path(ctx.facts, ca).string());
    }
    return fmt::format(
        "trust {} CA certificate(s): {}, then {}",
        files.size(),
        fmt::join(files, ", "),
        fmt::join(ctx.facts.ca_update, " "));
}

std::string apply_ca(StepContext& ctx)
{
    bool changed = false;
    for (const auto& ca : ctx.answers.ca_certificates)
    {
        auto pem = ca.pem;
        if (!pem.ends_with('\n'))
        {
            pem.push_back('\n');
        }
        changed = detail::write_if_changed(anchor_path(ctx.facts, ca), pem, 0644) || changed;
    }
    if (changed)
    {
        throw_if_interrupted();
        run_checked(detail::command(ctx.facts.ca_update), "rebuilding the trust store");
    }
    return fmt::format("{} CA certificate(s) trusted", ctx.answers.ca_certificates.size());
}

std::string plan_repositories(const StepContext& ctx)
{
    std::vector<std::string> files;
    for (const auto& r : ctx.answers.repositories)
    {
        files.push_back(repo_path(ctx.facts, r).string());
    }
    return fmt::format("add repositories: {}", fmt::join(files, ", "));
}

std::string apply_repositories(StepContext& ctx)
{
    for (const auto& r : ctx.answers.repositories)
    {
        detail::write_if_changed(repo_path(ctx.facts, r), repo_file(ctx.facts, r), 0644);
    }
    return fmt::format(
        "{} repositor{} added",
        ctx.answers.repositories.size(),
        ctx.answers.repositories.size() == 1 ? "y" : "ies");
}

std::string plan_packages(const StepContext& ctx)
{
    return fmt::format(
        "install packages with {}: {}",
        ctx.facts.package_install.front(),
        fmt::join(ctx.answers.packages, " "));
}

std::string apply_packages(StepContext& ctx)
{
    std::vector<std::string> missing;
    for (const auto& p : ctx.answers.packages)
    {
        if (!package_installed(ctx.facts, p))
        {
            missing.push_back(p);
        }
    }
    if (missing.empty())
    {
        return fmt::format("{} package(s) already installed", ctx.answers.packages.size());
    }
    ProcessOptions opts;
    opts.set_env = detail::proxy_environment(ctx.answers);
    opts.set_env["DEBIAN_FRONTEND"] = "noninteractive";
    opts.timeout = std::chrono::minutes(30);
    ctx.log->info("installing {}", fmt::join(missing, " "));
    run_checked(detail::command(ctx.facts.package_refresh), "refreshing the package lists", opts);
    throw_if_interrupted();
    run_checked(
        detail::command(ctx.facts.package_install, missing),
        fmt::format("installing {}", fmt::join(missing, " ")),
        opts);
    return fmt::format("installed {}", fmt::join(missing, " "));
}

} // namespace azl::oobe
