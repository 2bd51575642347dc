// run and config.
#include "guest.hpp"

#include <azl/common/error.hpp>
#include <azl/common/ini.hpp>
#include <azl/launcher/commands.hpp>
#include <azl/launcher/host_sync.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace azl::launcher
{

namespace
{

constexpr std::string_view kWslConf = "/etc/wsl.conf";

// RFC 1123 host name: labels of letters, digits and '-', not starting or ending with '-'.
void validate_hostname(std::string_view host)
{
    bool valid = !host.empty() && host.size() <= 64 && host.front() != '-' && host.back() != '-'
                 && host.front() != '.' && host.back() != '.';
    for (std::size_t i = 0; valid && i < host.size(); ++i)
    {
        const char c = host[i];
        valid = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || c == '-' || (c == '.' && host[i - 1] != '.');
    }
    if (!valid)
    {
        throw UserError(
            fmt::format("invalid host name '{}'", host),
            "use letters, digits, '-' and '.', up to 64 characters, not starting or ending with "
            "'-' or '.'");
    }
}

std::string on_off(bool value)
{
    return value ? "on" : "off";
}

// The /etc/wsl.conf part of config: [boot] systemd and [network] hostname.
void apply_wsl_conf(Backend& backend, const ConfigOptions& options, ConfigOutcome& outcome)
{
    if (!options.systemd && !options.hostname)
    {
        return;
    }
    const std::string path{kWslConf};
    const auto text = guest::read_file(backend, options.name, path);
    IniFile ini = IniFile::parse(text.value_or(""), fmt::format("{}:{}", options.name, path));
    if (options.systemd)
    {
        ini.set("boot", "systemd", *options.systemd ? "true" : "false");
        outcome.changes.push_back(
            fmt::format("systemd: {} ([boot] systemd in {})", on_off(*options.systemd), path));
    }
    if (options.hostname)
    {
        ini.set("network", "hostname", *options.hostname);
        outcome.changes.push_back(
            fmt::format("host name: {} ([network] hostname in {})", *options.hostname, path));
    }
    guest::write_file(backend, options.name, path, ini.str());
    outcome.notes.push_back(fmt::format(
        "{} changes take effect when {} restarts: azurelinux terminate --name {}",
        path,
        options.name,
        options.name));
}

// A note when the guest's [user] default overrides the default uid just set (as WSL lets it).
void note_user_override(Backend& backend, const std::string& name, ConfigOutcome& outcome)
{
    const auto text = guest::read_file(backend, name, std::string(kWslConf));
    if (!text)
    {
        return;
    }
    const IniFile ini = IniFile::parse(*text, fmt::format("{}:{}", name, kWslConf));
    if (const auto user = ini.get("user", "default"))
    {
        outcome.notes.push_back(fmt::format(
            "{} sets [user] default = {}, which overrides the default user; remove that line to "
            "use this setting",
            kWslConf,
            *user));
    }
}

} // namespace

std::vector<std::string> run_argv(const RunOptions& options)
{
    if (!options.command.empty() && options.command_line.has_value())
    {
        throw UserError(
            "give either -c or a command, not both",
            "azurelinux run -- CMD ARGS…   or   azurelinux run -c \"command line\"",
            ExitCode::usage);
    }
    // Neither: the user's login shell, as `wsl -u USER` opens it.
    if (options.command_line)
    {
        return {"/bin/sh", "-c", *options.command_line};
    }
    return options.command;
}

int run(Backend& backend, const RunOptions& options)
{
    std::vector<std::string> argv = run_argv(options);
    guest::require_registered(backend, options.name);
    sync_host_at_launch(backend, options.name);
    LaunchSpec spec;
    spec.argv = std::move(argv);
    spec.user = options.user;
    spec.cwd = options.cwd;
    return backend.launch_interactive(options.name, spec);
}

ConfigOutcome config(Backend& backend, const ConfigOptions& options)
{
    if (!options.default_user && !options.default_uid && !options.interop && !options.append_path
        && !options.mount_drives && !options.systemd && !options.hostname)
    {
        throw UserError("nothing to change", "see azurelinux config --help", ExitCode::usage);
    }
    if (options.default_user && options.default_uid)
    {
        throw UserError("give --default-user or --default-uid, not both", {}, ExitCode::usage);
    }
    if (options.hostname)
    {
        validate_hostname(*options.hostname);
    }
    guest::require_registered(backend, options.name);
    const DistroConfiguration current = backend.get_configuration(options.name);
    ConfigOutcome outcome;

    // Resolve everything before changing anything.
    std::uint32_t uid = current.default_uid;
    if (options.default_user)
    {
        const auto found = guest::uid_of(backend, options.name, *options.default_user);
        if (!found)
        {
            throw UserError(
                fmt::format("there is no user {} in {}", *options.default_user, options.name),
                fmt::format(
                    "create it first: azurelinux run --name {} --user root -- useradd -m "
                    "-s /bin/bash {}",
                    options.name,
                    *options.default_user));
        }
        uid = *found;
        outcome.changes.push_back(
            fmt::format("default user: {} (uid {})", *options.default_user, uid));
    }
    else if (options.default_uid)
    {
        uid = *options.default_uid;
        outcome.changes.push_back(fmt::format("default uid: {}", uid));
    }
    DistroFlags flags = current.flags;
    const auto set_flag = [&outcome](bool& flag, std::optional<bool> value, std::string_view what)
    {
        if (value)
        {
            flag = *value;
            outcome.changes.push_back(fmt::format("{}: {}", what, on_off(*value)));
        }
    };
    set_flag(flags.interop, options.interop, "interop");
    set_flag(flags.append_path, options.append_path, "append Windows path");
    set_flag(flags.mount_drives, options.mount_drives, "mount drives");

    apply_wsl_conf(backend, options, outcome);
    if (uid != current.default_uid || flags != current.flags)
    {
        backend.configure(options.name, uid, flags);
    }
    if (options.default_user || options.default_uid)
    {
        note_user_override(backend, options.name, outcome);
    }
    return outcome;
}

} // namespace azl::launcher
