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

Examples:
  azurelinux setup --answers answers.json
  azurelinux setup --name Dev)");
    add_name_option(*cmd, args->name);
    cmd->add_option("--answers", args->answers, "Run it unattended with this file");
    cmd->callback(
        [args, &ctx]
        {
            std::optional<std::filesystem::path> answers;
            if (args->answers)
            {
                answers = launcher::path_from_utf8(*args->answers);
            }
            const launcher::SetupOutcome outcome =
                launcher::finish_setup(ctx.backend(), args->name, answers, ctx.command_env(false));
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
