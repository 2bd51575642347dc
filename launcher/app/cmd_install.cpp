#include "context.hpp"

#include <azl/common/error.hpp>
#include <azl/common/program.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdio>

namespace azl::app
{

namespace
{

struct InstallArgs
{
    launcher::InstallOptions options;
    std::optional<std::string> from;
    std::optional<std::string> location;
    std::optional<std::string> answers;
    bool json = false;
};

std::string_view setup_text(launcher::SetupOutcome s)
{
    switch (s)
    {
    case launcher::SetupOutcome::done:
        return "done";
    case launcher::SetupOutcome::not_needed:
        return "not-needed";
    case launcher::SetupOutcome::skipped_root:
        return "skipped";
    case launcher::SetupOutcome::deferred:
        return "pending";
    }
    return "pending";
}

void run_install(InstallArgs& args, Context& ctx)
{
    using launcher::path_from_utf8;
    if (args.from)
    {
        args.options.from = path_from_utf8(*args.from);
    }
    if (args.location)
    {
        args.options.location = path_from_utf8(*args.location);
    }
    if (args.answers)
    {
        args.options.answers = path_from_utf8(*args.answers);
    }
    // With --json, stdout is JSON only: what first-run setup prints goes to stderr meanwhile.
    StdoutToStderr redirect(args.json);
    const launcher::InstallOutcome r =
        launcher::install(ctx.backend(), args.options, ctx.command_env(args.json));
    redirect.restore();
    if (args.json)
    {
        const nlohmann::json j = {
            {"name", r.name},
            {"image", launcher::path_to_utf8(r.image)},
            {"sha256", r.sha256 ? nlohmann::json(*r.sha256) : nullptr},
            {"setup", setup_text(r.setup)},
            {"default_uid", r.default_uid}};
        fmt::print("{}\n", j.dump(2));
        return;
    }
    fmt::print(
        "Installed {} (default uid {}; first-run setup: {})\n",
        r.name,
        r.default_uid,
        setup_text(r.setup));
    if (r.setup == launcher::SetupOutcome::deferred)
    {
        fmt::print("First-run setup runs when you open it: azurelinux --name {}\n", r.name);
    }
}

} // namespace

void add_install(CLI::App& app, Context& ctx)
{
    auto args = std::make_shared<InstallArgs>();
    CLI::App* cmd = app.add_subcommand("install", "Install a distribution from a .wsl image");
    cmd->footer(
        R"(Extracts the image into a new distribution (all or nothing: an interrupted install leaves
nothing registered), then runs its first-run setup ([oobe] command of /etc/wsl-distribution.conf)
as root. With --answers the setup runs unattended. The image's SHA-256 is checked against
--sha256, or against FILE.sha256 when that file exists.

Examples:
  azurelinux install --from AzureLinux.wsl
  azurelinux install --from AzureLinux.wsl --answers answers.json --name Dev
  azurelinux install --from AzureLinux.wsl --root --location /srv/distros/Test
  azurelinux install --from AzureLinux.wsl --sha256 9f86d0…  --no-launch)");
    add_name_option(*cmd, args->options.name);
    cmd->add_option("--from", args->from, "The image (default: the .wsl file beside azurelinux)");
    cmd->add_option("--location", args->location, "Where its files go (default: the store)");
    cmd->add_option("--answers", args->answers, "Run first-run setup unattended with this file");
    cmd->add_option("--sha256", args->options.sha256, "The image's expected SHA-256");
    cmd->add_flag("--root", args->options.root, "Skip first-run setup; the default user is root");
    cmd->add_flag(
        "--no-launch",
        args->options.no_launch,
        "Do not start it; first-run setup runs at the first launch");
    cmd->add_flag("--json", args->json, "Print a JSON summary on stdout");
    cmd->callback([args, &ctx] { run_install(*args, ctx); });
}

} // namespace azl::app
