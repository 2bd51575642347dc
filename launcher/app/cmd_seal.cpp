#include "context.hpp"

namespace azl::app
{

namespace
{

struct SealArgs
{
    std::string name = std::string(launcher::kDefaultName);
    bool dry_run = false;
};

} // namespace

void add_seal(CLI::App& app, Context& ctx)
{
    auto args = std::make_shared<SealArgs>();
    CLI::App* cmd = app.add_subcommand(
        "seal", "Prepare an installed distribution for cloning (a golden image)");
    cmd->footer(
        R"(Clears what must be unique to each machine: the machine id, SSH host keys, the Azure
bridge's secrets, first-run state, logs and shell history (the first user stays). The
distribution is stopped and its first-run setup marked pending, so that a backup of it, restored
on many machines, gives each copy a new identity and runs the organisation's first-run layers
(machine policy, then the user's answers) at its first start.

Examples:
  azurelinux seal --name Golden --dry-run
  azurelinux seal --name Golden && azurelinux backup --name Golden -o golden.tar.gz
  azurelinux restore --name Dev --from golden.tar.gz && azurelinux --name Dev)");
    add_name_option(*cmd, args->name);
    cmd->add_flag("--dry-run", args->dry_run, "Only list what would be cleared");
    cmd->callback(
        [args, &ctx]
        { launcher::seal(ctx.backend(), args->name, args->dry_run, ctx.command_env(false)); });
}

} // namespace azl::app
