#include "context.hpp"

#include <azl/integration/bridge.hpp>

#include <fmt/format.h>

namespace azl::bridge_app
{

void add_env(CLI::App& app, Context& ctx)
{
    auto* cmd = app.add_subcommand(
        "env", "Print the shell lines that point tools at the bridge, starting it if needed");
    cmd->callback([&ctx] { fmt::print("{}", integration::env_script(ctx.config())); });
}

} // namespace azl::bridge_app
