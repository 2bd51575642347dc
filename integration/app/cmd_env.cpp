#include "context.hpp"

#include <azl/integration/bridge.hpp>

#include <fmt/format.h>

namespace azl::bridge_app
{

void add_env(CLI::App& app, Context& ctx)
{
    auto* cmd = app.add_subcommand(
        "env", "Print the shell lines that point tools at the bridge, starting it if needed");
    auto clients = std::make_shared<std::string>("all");
    cmd->add_option("--for", *clients, "Only the variables these tools need (default: all)")
        ->check(CLI::Validator(
            [](const std::string& name)
            {
                return integration::parse_client_set(name)
                           ? std::string()
                           : "unknown tool '" + name + "': use az, azd, terraform, sdk or all";
            },
            "az|azd|terraform|sdk|all"));
    cmd->callback(
        [&ctx, clients]
        {
            fmt::print(
                "{}",
                integration::env_script(
                    ctx.config(), integration::parse_client_set(*clients).value()));
        });
}

} // namespace azl::bridge_app
