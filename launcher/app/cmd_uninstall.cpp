#include "context.hpp"

#include <fmt/format.h>

namespace azl::app
{

void add_uninstall(CLI::App& app, Context& ctx)
{
    auto options = std::make_shared<launcher::UninstallOptions>();
    CLI::App* cmd = app.add_subcommand("uninstall", "Remove a distribution and all its files");
    cmd->footer(
        R"(Stops the distribution and deletes it. Asks first on a terminal; elsewhere it refuses
without --yes. Make a backup first if you may need the files: azurelinux backup -o FILE.

Examples:
  azurelinux uninstall
  azurelinux uninstall --name Dev --yes)");
    add_name_option(*cmd, options->name);
    cmd->add_flag("-y,--yes", options->yes, "Do not ask for confirmation");
    cmd->callback(
        [options, &ctx]
        {
            const launcher::CommandEnv env = ctx.command_env(false);
            if (launcher::uninstall(ctx.backend(), *options, env))
            {
                // On the stream of "Removing NAME" (uninstall prints no data): two streams showed
                // the two lines out of order, run together, wherever stdout and stderr were
                // captured apart.
                env.console.status(fmt::format("Removed {}", options->name));
            }
            else
            {
                fmt::print(stderr, "Nothing removed.\n");
                ctx.exit_code = 1;
            }
        });
}

} // namespace azl::app
