#include "context.hpp"

#include <fmt/format.h>

namespace azl::app
{

namespace
{

struct ConfigArgs
{
    launcher::ConfigOptions options;
    std::optional<std::string> interop;
    std::optional<std::string> append_path;
    std::optional<std::string> mount_drives;
    std::optional<std::string> systemd;
};

std::optional<bool> on_off(const std::optional<std::string>& value)
{
    if (!value)
    {
        return std::nullopt;
    }
    return *value == "on";
}

void run_config(ConfigArgs& args, Context& ctx)
{
    args.options.interop = on_off(args.interop);
    args.options.append_path = on_off(args.append_path);
    args.options.mount_drives = on_off(args.mount_drives);
    args.options.systemd = on_off(args.systemd);
    const launcher::ConfigOutcome r = launcher::config(ctx.backend(), args.options);
    for (const std::string& change : r.changes)
    {
        fmt::print("{}: {}\n", args.options.name, change);
    }
    for (const std::string& note : r.notes)
    {
        fmt::print(stderr, "note: {}\n", note);
    }
}

} // namespace

void add_config(CLI::App& app, Context& ctx)
{
    auto args = std::make_shared<ConfigArgs>();
    CLI::App* cmd = app.add_subcommand("config", "Change the default user and other settings");
    cmd->footer(
        R"(Applied the way WSL applies them: the default user and the interop, Windows path and drive
flags through the distribution's registration; systemd and the host name in the guest's
/etc/wsl.conf (they take effect when the distribution restarts: azurelinux terminate).

Examples:
  azurelinux config --default-user alice
  azurelinux config --default-uid 0
  azurelinux config --interop off --append-path off
  azurelinux config --name Dev --hostname dev-box --systemd on)");
    add_name_option(*cmd, args->options.name);
    const auto on_off_check = CLI::IsMember({"on", "off"});
    cmd->add_option("--default-user", args->options.default_user, "Launch as this user by default");
    cmd->add_option("--default-uid", args->options.default_uid, "Launch as this uid by default");
    cmd->add_option("--interop", args->interop, "Windows interop (on|off)")->check(on_off_check);
    cmd->add_option("--append-path", args->append_path, "Append the Windows PATH (on|off)")
        ->check(on_off_check);
    cmd->add_option("--mount-drives", args->mount_drives, "Mount the Windows drives (on|off)")
        ->check(on_off_check);
    cmd->add_option("--systemd", args->systemd, "Boot with systemd (on|off)")->check(on_off_check);
    cmd->add_option("--hostname", args->options.hostname, "The distribution's host name");
    cmd->callback([args, &ctx] { run_config(*args, ctx); });
}

} // namespace azl::app
