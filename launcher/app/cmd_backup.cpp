#include "context.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace azl::app
{

namespace
{

struct BackupArgs
{
    launcher::BackupOptions options;
    std::string output;
    std::optional<std::string> format;
    bool json = false;
    bool seal = false;
};

void run_backup(BackupArgs& args, Context& ctx)
{
    args.options.output = launcher::path_from_utf8(args.output);
    if (args.format)
    {
        args.options.format = launcher::parse_archive_format(*args.format);
    }
    if (args.seal)
    {
        launcher::seal(ctx.backend(), args.options.name, false, ctx.command_env(args.json));
    }
    const launcher::ArchiveFormat format =
        launcher::backup(ctx.backend(), args.options, ctx.command_env(args.json));
    if (args.json)
    {
        const nlohmann::json j = {
            {"name", args.options.name},
            {"file", args.output},
            {"format", launcher::archive_format_name(format)}};
        fmt::print("{}\n", j.dump(2));
        return;
    }
    fmt::print(
        "Backed up {} to {} ({})\n",
        args.options.name,
        args.output,
        launcher::archive_format_name(format));
}

} // namespace

void add_backup(CLI::App& app, Context& ctx)
{
    auto args = std::make_shared<BackupArgs>();
    CLI::App* cmd = app.add_subcommand("backup", "Write a distribution's files to an archive");
    cmd->footer(
        R"(The format follows the file name (.tar, .tar.gz/.wsl, .tar.xz, .vhdx), else --format, else tar.gz.
The file is written under a temporary name and renamed when complete; FILE.sha256 is written too.
vhdx needs WSL 2 on Windows. `azurelinux restore` installs a backup again.

Examples:
  azurelinux backup -o azurelinux-backup.tar.gz
  azurelinux backup --name Dev -o dev.tar.xz
  azurelinux backup -o dev.vhdx          # Windows only)");
    add_name_option(*cmd, args->options.name);
    cmd->add_option("-o,--output", args->output, "The archive to write")->required();
    cmd->add_option("--format", args->format, "tar, tar.gz, tar.xz or vhdx")
        ->check(CLI::IsMember({"tar", "tar.gz", "tar.xz", "vhdx"}));
    cmd->add_flag("--force", args->options.force, "Replace the file when it exists");
    cmd->add_flag("--json", args->json, "Print a JSON summary on stdout");
    cmd->add_flag(
        "--seal",
        args->seal,
        "Seal the distribution first (azurelinux seal): a golden image whose restored copies "
        "each get a new identity");
    cmd->callback([args, &ctx] { run_backup(*args, ctx); });
}

} // namespace azl::app
