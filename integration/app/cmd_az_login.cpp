#include "context.hpp"

#include <azl/integration/bridge.hpp>

namespace azl::bridge_app
{

void add_az_login(CLI::App& app, Context& ctx)
{
    auto* cmd =
        app.add_subcommand("az-login", "Sign this distribution's own az in through the bridge");
    cmd->callback([&ctx] { integration::az_login(ctx.config()); });
}

} // namespace azl::bridge_app
