#include "context.hpp"

#include <fmt/format.h>

namespace azl::app
{

namespace
{

struct RestoreArgs
{
    launcher::RestoreOptions options;
    std::string from;
    std::optional<std::string> location;
};

} // namespace

void add_restore(CLI::App& app, Context& ctx)
{
    auto args = std::make_shared<RestoreArgs>();
    CLI::App* cmd = app.add_subcommand("restore", "Install a distribution from a backup");
    cmd->footer(
        R"(Installs the backup as it was made: users, files and settings inside, no first-run setup
(like wsl --import). The name must be free. FILE.sha256 is checked when it exists.

Examples:
  azurelinux restore --from azurelinux-backup.tar.gz
  azurelinux restore --from dev.tar.xz --name Dev2 --location /srv/distros/Dev2)");
    add_name_option(*cmd, args->options.name);
    cmd->add_option("--from", args->from, "The backup (tar, tar.gz or tar.xz)")->required();
    cmd->add_option("--location", args->location, "Where its files go (default: the store)");
    cmd->add_option("--sha256", args->options.sha256, "The backup's expected SHA-256");
    cmd->callback(
        [args, &ctx]
        {
            args->options.from = launcher::path_from_utf8(args->from);
            if (args->location)
            {
                args->options.location = launcher::path_from_utf8(*args->location);
            }
            launcher::restore(ctx.backend(), args->options, ctx.command_env(false));
            fmt::print("Restored {} from {}\n", args->options.name, args->from);
        });
}

} // namespace azl::app
