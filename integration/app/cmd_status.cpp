#include "context.hpp"

#include <azl/integration/bridge.hpp>

#include <fmt/format.h>

namespace azl::bridge_app
{

void add_status(CLI::App& app, Context& ctx)
{
    auto* cmd = app.add_subcommand(
        "status", "Show the Windows Azure CLI, its account, the server and cached tokens");
    auto json = std::make_shared<bool>(false);
    cmd->add_flag("--json", *json, "Print JSON only");
    auto no_network = std::make_shared<bool>(false);
    cmd->add_flag(
        "--no-network",
        *no_network,
        "Skip the TLS checks to login.microsoftonline.com and management.azure.com");
    cmd->callback(
        [&ctx, json, no_network]
        {
            const auto s = integration::status(
                ctx.config(),
                *no_network ? integration::NetworkChecks::skip : integration::NetworkChecks::run);
            fmt::print("{}", *json ? s.dump(2) + "\n" : integration::format_status(s));
        });
}

} // namespace azl::bridge_app
