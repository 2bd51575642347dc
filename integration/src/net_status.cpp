// TLS to the Azure endpoints for `status`, by the code doctor runs in the guest (net_check).
#include "net_status.hpp"

#include <azl/oobe/net_check.hpp>

#include <fmt/format.h>

#include <map>

namespace azl::integration
{

using nlohmann::json;

namespace
{

constexpr std::chrono::milliseconds kTimeout{4000};

json as_json(const oobe::NetCheck& c)
{
    return {
        {"id", c.id},
        {"status", c.status},
        {"message", c.message},
        {"hint", c.hint.empty() ? json() : json(c.hint)}};
}

} // namespace

json network_status()
{
    const auto env = oobe::autoproxy_variables();
    const auto proxy = oobe::effective_proxy("/", env);
    json checks = json::array();
    for (const auto& c : oobe::check_targets(oobe::azure_targets(), proxy, kTimeout))
    {
        checks.push_back(as_json(c));
    }
    if (const auto pac = env.find("WSL_PAC_URL"); pac != env.end() && !pac->second.empty())
    {
        checks.push_back(as_json(oobe::check_pac_file(pac->second, kTimeout)));
    }
    json via = nullptr;
    if (proxy)
    {
        via = oobe::redact_proxy_url(proxy->https.empty() ? proxy->http : proxy->https);
    }
    return {{"proxy", via}, {"checks", checks}};
}

std::string format_network_status(const json& network)
{
    std::string out = fmt::format(
        "Network:         {}\n",
        network["proxy"].is_string() ? "through proxy " + network["proxy"].get<std::string>()
                                     : std::string("no proxy"));
    for (const auto& c : network["checks"])
    {
        out += fmt::format(
            "  {:<5} {}\n", c["status"].get<std::string>(), c["message"].get<std::string>());
        if (c["hint"].is_string())
        {
            out += fmt::format("        hint: {}\n", c["hint"].get<std::string>());
        }
    }
    return out;
}

} // namespace azl::integration
