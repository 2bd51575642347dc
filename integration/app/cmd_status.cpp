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
    cmd->callback(
        [&ctx, json]
        {
            const auto s = integration::status(ctx.config());
            fmt::print("{}", *json ? s.dump(2) + "\n" : integration::format_status(s));
        });
}

} // namespace azl::bridge_app
