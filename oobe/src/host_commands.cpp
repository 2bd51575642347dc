// The two commands the launcher runs in the guest beside first-run setup: --sync-host and
// --check-network (see host_sync.hpp).
#include "steps.hpp"

#include <azl/common/error.hpp>
#include <azl/oobe/host_sync.hpp>
#include <azl/oobe/net_check.hpp>

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <cstdlib>
#include <ctime>

namespace azl::oobe
{

namespace
{

constexpr const char* kRequestOrigin = "the launcher's request (stdin)";

const FamilyFacts& this_family()
{
    return facts_for(detect_family(OsRelease::load()));
}

} // namespace

std::string sync_host_command(std::string_view request_text)
{
    if (::geteuid() != 0)
    {
        throw UserError(
            "--sync-host changes the trust store and system configuration: run it as root",
            "the launcher does: azurelinux sync");
    }
    const auto request = parse_host_sync_request(request_text, kRequestOrigin);
    const SyncEnvironment env{
        .facts = this_family(),
        .root = "/",
        .guest_env = autoproxy_variables(),
        .now = std::time(nullptr),
        .run_tool = [](const std::vector<std::string>& argv)
        { detail::run_checked(argv, "rebuilding the trust store"); },
    };
    return run_host_sync(request, env);
}

std::string repository_urls_command()
{
    return nlohmann::json(repository_urls(this_family())).dump() + "\n";
}

std::string check_network_command(std::string_view request_text)
{
    const auto request = parse_host_sync_request(request_text, kRequestOrigin);
    const auto& facts = this_family();
    auto targets = repository_targets(facts);
    for (auto& t : azure_targets())
    {
        targets.push_back(std::move(t));
    }
    const auto proxy = effective_proxy("/", autoproxy_variables());
    auto checks =
        check_targets(targets, proxy, request.certificates, std::chrono::milliseconds(4000));
    const auto env = autoproxy_variables();
    const auto wsl_pac = env.find("WSL_PAC_URL");
    const std::string pac = !request.pac_url.empty() ? request.pac_url
                            : wsl_pac != env.end()   ? wsl_pac->second
                                                     : "";
    if (request.pac_evaluated)
    {
        checks.push_back(
            evaluated_pac_check(request.pac_url, request.pac_problem, request.pac_summary));
    }
    else if (!pac.empty())
    {
        checks.push_back(check_pac_file(pac, std::chrono::milliseconds(4000)));
    }
    nlohmann::json out = nlohmann::json::array();
    for (const auto& c : checks)
    {
        out.push_back(
            {{"id", c.id},
             {"status", c.status},
             {"message", c.message},
             {"hint", c.hint.empty() ? nlohmann::json() : nlohmann::json(c.hint)}});
    }
    return out.dump(2) + "\n";
}

} // namespace azl::oobe
