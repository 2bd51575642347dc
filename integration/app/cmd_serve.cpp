#include "context.hpp"

#include <azl/integration/bridge.hpp>

namespace azl::bridge_app
{

void add_serve(CLI::App& app, Context& ctx)
{
    auto* cmd =
        app.add_subcommand("serve", "Serve tokens to this user's tools (one server per user)");
    auto background = std::make_shared<bool>(false);
    cmd->add_flag(
        "-b,--background",
        *background,
        "Detach once the server is ready (the login-shell hook uses this)");
    cmd->callback(
        [&ctx, background]
        {
            ctx.exit_code = integration::serve(
                ctx.config(), *background ? integration::Detach::yes : integration::Detach::no);
        });
}

} // namespace azl::bridge_app
