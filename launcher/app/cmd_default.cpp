// `azurelinux` without a command: install when needed, finish first-run setup, open a shell.
#include "context.hpp"

namespace azl::app
{

namespace
{

struct DefaultArgs
{
    std::string name{launcher::kDefaultName};
    std::optional<std::string> from;
};

} // namespace

void add_default(CLI::App& app, Context& ctx)
{
    auto args = std::make_shared<DefaultArgs>();
    app.add_option("-n,--name", args->name, "Without a command: the distribution to open");
    app.add_option("--from", args->from, "Without a command: the image to install when needed");
    app.footer(
        R"(Without a command, azurelinux installs the distribution when it is missing (from the
.wsl file beside the program, or --from), runs first-run setup when it has not finished,
then opens a login shell as the default user.

Examples:
  azurelinux                                   # install if needed, set up, open a shell
  azurelinux install --from AzureLinux.wsl --answers answers.json
  azurelinux run -- cat /etc/os-release
  azurelinux config --default-user alice
  azurelinux backup -o azl.tar.gz && azurelinux restore --from azl.tar.gz --name Copy
  azurelinux doctor

Each command has --help with examples.)");
    app.callback(
        [&app, &ctx, args]
        {
            if (!app.get_subcommands().empty())
            {
                return;
            }
            std::optional<std::filesystem::path> from;
            if (args->from)
            {
                from = launcher::path_from_utf8(*args->from);
            }
            ctx.exit_code =
                launcher::open_default(ctx.backend(), args->name, from, ctx.command_env(false));
        });
}

} // namespace azl::app
