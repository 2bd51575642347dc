#include "context.hpp"

namespace azl::app
{

void add_run(CLI::App& app, Context& ctx)
{
    auto options = std::make_shared<launcher::RunOptions>();
    CLI::App* cmd = app.add_subcommand("run", "Run a command inside a distribution");
    cmd->footer(
        R"(Runs the command as the default user (or --user) in its home (or --cwd), on this terminal.
Everything after -- is the command and its arguments, passed as they are (no shell); -c takes
one command line for /bin/sh; with neither, the user's login shell opens. The command's exit code
is azurelinux's exit code.

Examples:
  azurelinux run -- cat /etc/os-release
  azurelinux run --user root -- useradd -m -s /bin/bash alice
  azurelinux run -c 'echo $HOME && ls | wc -l'
  azurelinux run --name Dev --cwd /tmp -- id -un
  azurelinux run --user root               # root's login shell)");
    add_name_option(*cmd, options->name);
    cmd->add_option("-u,--user", options->user, "Run as this user (name or uid)");
    cmd->add_option("--cwd", options->cwd, "Start in this guest directory");
    cmd->add_option("-c", options->command_line, "A command line run by /bin/sh -c");
    cmd->add_option("command", options->command, "The command and its arguments (after --)");
    cmd->callback([options, &ctx] { ctx.exit_code = launcher::run(ctx.backend(), *options); });
}

} // namespace azl::app
