#include "context.hpp"

#include <azl/integration/bridge.hpp>

#include <fmt/format.h>

namespace azl::bridge_app
{

void add_sync(CLI::App& app, Context& ctx)
{
    auto* cmd = app.add_subcommand(
        "sync", "Copy the Windows Azure CLI's safe settings (defaults, output) here");
    cmd->callback(
        [&ctx]
        {
            const auto r = integration::sync_settings(ctx.config());
            for (const auto& s : r.settings)
            {
                fmt::print("{}\n", s);
            }
            fmt::print("wrote {}\n", r.config_file.string());
            if (r.subscription && !r.subscription->empty())
            {
                fmt::print(
                    "default subscription {}{}\n",
                    *r.subscription,
                    r.subscription_selected ? " selected"
                                            : " (selected by `azurelinux-bridge az-login`)");
            }
        });
}

} // namespace azl::bridge_app
