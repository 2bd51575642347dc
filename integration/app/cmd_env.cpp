#include "context.hpp"

#include <azl/common/error.hpp>
#include <azl/common/log.hpp>
#include <azl/integration/bridge.hpp>
#include <azl/integration/relay.hpp>

#include <fmt/format.h>

#include <cstdlib>
#include <exception>

namespace azl::bridge_app
{

void add_env(CLI::App& app, Context& ctx)
{
    auto* cmd = app.add_subcommand(
        "env",
        "Print the shell lines that point tools at the bridge and the ssh-agent relay, starting "
        "them if needed");
    auto clients = std::make_shared<std::string>("all");
    cmd->add_option(
           "--for",
           *clients,
           "Only the variables these tools need (default: all, SSH_AUTH_SOCK included)")
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
            // Each feature on its own: the ssh-agent relay works without the Azure bridge.
            std::string ssh;
            if (*clients == "all")
            {
                try
                {
                    ssh = integration::ssh_agent_env(ctx.config(), std::getenv("SSH_AUTH_SOCK"));
                }
                catch (const std::exception& e)
                {
                    logger("relay")->warn("the ssh-agent relay: {}", e.what());
                }
            }
            try
            {
                integration::start_gpg_agent_relay(ctx.config());
            }
            catch (const std::exception& e)
            {
                logger("relay")->warn("the gpg-agent relay: {}", e.what());
            }
            std::exception_ptr azure_error;
            std::string azure;
            try
            {
                azure = integration::env_script(
                    ctx.config(), integration::parse_client_set(*clients).value());
            }
            catch (const UserError&)
            {
                azure_error = std::current_exception();
            }
            fmt::print("{}{}", azure, ssh);
            if (azure_error)
            {
                std::rethrow_exception(azure_error);
            }
        });
}

} // namespace azl::bridge_app
