#include "context.hpp"

#include <fmt/format.h>

namespace azl::app
{

namespace
{

struct SetupArgs
{
    std::string name = std::string(launcher::kDefaultName);
    std::optional<std::string> answers;
    bool wait = false;
};

} // namespace

void add_setup(CLI::App& app, Context& ctx)
{
    auto args = std::make_shared<SetupArgs>();
    CLI::App* cmd = app.add_subcommand(
        "setup", "Finish first-run setup of an installed distribution (unattended with --answers)");
    cmd->footer(
        R"(Runs the distribution's first-run setup as root, as the first launch would: after
`install --no-launch`, or to finish a setup that was interrupted (a failed or killed
`install --answers`). Setup is idempotent: what an interrupted run did is finished or rolled back.
Does nothing when setup has already finished.

With --wait, first waits for a setup already running in the distribution (the first launch's,
from wsl.exe or another window) and fails naming the step when it failed; automation (Intune
scripts, DSC) uses it to know when a machine is ready.

Examples:
  azurelinux setup --answers answers.json
  azurelinux setup --name Dev --wait)");
    add_name_option(*cmd, args->name);
    cmd->add_option("--answers", args->answers, "Run it unattended with this file");
    cmd->add_flag("--wait", args->wait, "Wait for a running setup; fail naming a failed step");
    cmd->callback(
        [args, &ctx]
        {
            std::optional<std::filesystem::path> answers;
            if (args->answers)
            {
                answers = launcher::path_from_utf8(*args->answers);
            }
            const launcher::SetupOutcome outcome =
                args->wait ? launcher::wait_for_setup(
                    ctx.backend(), args->name, answers, ctx.command_env(false))
                           : launcher::finish_setup(
                               ctx.backend(), args->name, answers, ctx.command_env(false));
            if (outcome == launcher::SetupOutcome::done)
            {
                fmt::print(
                    "First-run setup of {} finished (default uid {})\n",
                    args->name,
                    ctx.backend().get_configuration(args->name).default_uid);
            }
        });
}

} // namespace azl::app
