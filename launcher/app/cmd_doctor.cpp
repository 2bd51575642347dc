#include "context.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace azl::app
{

void add_doctor(CLI::App& app, Context& ctx)
{
    auto name = std::make_shared<std::string>(launcher::kDefaultName);
    auto json = std::make_shared<bool>(false);
    CLI::App* cmd = app.add_subcommand("doctor", "Check what is needed and say how to fix it");
    cmd->footer(
        R"(Checks the engine (WSL or the Linux sandbox), that the distribution is installed, that
first-run setup finished, that the default user exists, and, through `azurelinux-bridge status`
inside it, the Azure bridge and the host's Azure CLI sign-in; then, from inside it, TLS to its
https:// package repositories, login.microsoftonline.com and management.azure.com through the proxy
its tools use, explaining a failure: a proxy that refuses connections, a TLS-inspecting CA and
whether Windows trusts it (then `azurelinux sync` fixes it). Each line is ok, warn or fail with a
hint; the exit code is 1 when any check fails (an endpoint that is merely unreachable warns).

Examples:
  azurelinux doctor
  azurelinux doctor --name Dev --json)");
    add_name_option(*cmd, *name);
    cmd->add_flag("--json", *json, "Print the checks as JSON on stdout");
    cmd->callback(
        [name, json, &ctx]
        {
            const auto checks = launcher::doctor(ctx.backend(), *name);
            fmt::print(
                "{}",
                *json ? launcher::format_doctor_json(checks) : launcher::format_doctor(checks));
            const bool failed = std::any_of(
                checks.begin(),
                checks.end(),
                [](const auto& c) { return c.status == launcher::CheckStatus::fail; });
            ctx.exit_code = failed ? 1 : 0;
        });
}

} // namespace azl::app
