// get, list, backup and uninstall.
#include "backup_config.hpp"
#include "guest.hpp"

#include <azl/common/error.hpp>
#include <azl/launcher/commands.hpp>
#include <azl/launcher/host_sync.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <system_error>

namespace azl::launcher
{

namespace
{

std::string flags_text(DistroFlags flags)
{
    return fmt::format(
        "{} (interop {}, append-path {}, mount-drives {})",
        flags.to_wsl(),
        flags.interop ? "on" : "off",
        flags.append_path ? "on" : "off",
        flags.mount_drives ? "on" : "off");
}

std::string user_text(const DistroInfo& info)
{
    return info.default_user ? *info.default_user : fmt::format("uid {}", info.default_uid);
}

// The fields asked for, in a fixed order: (key, text value, JSON value).
struct Field
{
    std::string key;
    std::string text;
    nlohmann::json json;
};

std::vector<Field> selected_fields(const DistroDetails& d, const GetFields& f)
{
    const bool all =
        f.all || !(f.default_user || f.default_uid || f.flags || f.version || f.location);
    std::vector<Field> out;
    if (all)
    {
        out.push_back({"name", d.info.name, d.info.name});
        out.push_back({"state", std::string(state_name(d.info.state)), state_name(d.info.state)});
    }
    if (all || f.default_user)
    {
        out.push_back({"default-user", d.default_user, d.default_user});
    }
    if (all || f.default_uid)
    {
        out.push_back(
            {"default-uid",
             std::to_string(d.configuration.default_uid),
             d.configuration.default_uid});
    }
    if (all || f.flags)
    {
        const DistroFlags fl = d.configuration.flags;
        out.push_back(
            {"flags",
             flags_text(fl),
             {{"value", fl.to_wsl()},
              {"interop", fl.interop},
              {"append_path", fl.append_path},
              {"mount_drives", fl.mount_drives}}});
    }
    if (all || f.version)
    {
        out.push_back(
            {"version", std::to_string(d.configuration.version), d.configuration.version});
    }
    if (all || f.location)
    {
        const std::string location = path_to_utf8(d.info.location);
        out.push_back({"location", location, location});
    }
    if (all)
    {
        const bool pending = d.configuration.setup_pending;
        out.push_back(
            {"setup", pending ? "pending" : "finished", pending ? "pending" : "finished"});
    }
    return out;
}

} // namespace

DistroDetails get_details(Backend& backend, const std::string& name)
{
    guest::require_registered(backend, name);
    DistroDetails details;
    const std::vector<DistroInfo> all = backend.list();
    const auto it = std::find_if(
        all.begin(), all.end(), [&name](const DistroInfo& i) { return i.name == name; });
    if (it == all.end())
    {
        throw UserError(fmt::format("there is no distribution named {}", name));
    }
    details.info = *it;
    details.configuration = backend.get_configuration(name);
    std::optional<std::string> user = details.info.default_user;
    if (!user || details.info.default_uid != details.configuration.default_uid)
    {
        user = guest::user_of(backend, name, details.configuration.default_uid);
    }
    details.default_user = user.value_or(std::to_string(details.configuration.default_uid));
    return details;
}

std::string format_get(const DistroDetails& details, const GetFields& fields)
{
    const std::vector<Field> selected = selected_fields(details, fields);
    if (selected.size() == 1)
    {
        return selected.front().text + "\n";
    }
    std::string out;
    for (const Field& f : selected)
    {
        out += fmt::format("{}: {}\n", f.key, f.text);
    }
    return out;
}

std::string format_get_json(const DistroDetails& details, const GetFields& fields)
{
    nlohmann::json j = nlohmann::json::object();
    for (const Field& f : selected_fields(details, fields))
    {
        std::string key = f.key;
        std::replace(key.begin(), key.end(), '-', '_');
        j[key] = f.json;
    }
    return j.dump(2) + "\n";
}

std::string format_list(const std::vector<DistroInfo>& distros)
{
    if (distros.empty())
    {
        return "No distributions are installed. Install one with: azurelinux install --from "
               "FILE.wsl\n";
    }
    std::size_t name_w = 4;
    std::size_t user_w = 12;
    for (const DistroInfo& d : distros)
    {
        name_w = std::max(name_w, d.name.size() + 2);
        user_w = std::max(user_w, user_text(d).size());
    }
    std::string out = fmt::format(
        "  {:<{}} {:<12} {:<7} {:<{}} {:<8} {}\n",
        "NAME",
        name_w,
        "STATE",
        "VERSION",
        "DEFAULT USER",
        user_w,
        "SETUP",
        "LOCATION");
    for (const DistroInfo& d : distros)
    {
        out += fmt::format(
            "{} {:<{}} {:<12} {:<7} {:<{}} {:<8} {}\n",
            d.is_default ? "*" : " ",
            d.name,
            name_w,
            state_name(d.state),
            d.version,
            user_text(d),
            user_w,
            d.setup_pending ? "pending" : "done",
            path_to_utf8(d.location));
    }
    return out;
}

std::string format_list_json(const std::vector<DistroInfo>& distros)
{
    nlohmann::json j = nlohmann::json::array();
    for (const DistroInfo& d : distros)
    {
        j.push_back(
            {{"name", d.name},
             {"state", state_name(d.state)},
             {"version", d.version},
             {"location", path_to_utf8(d.location)},
             {"default_uid", d.default_uid},
             {"default_user", d.default_user ? nlohmann::json(*d.default_user) : nullptr},
             {"default", d.is_default},
             {"setup_pending", d.setup_pending}});
    }
    return j.dump(2) + "\n";
}

ArchiveFormat backup(Backend& backend, const BackupOptions& options, const CommandEnv& env)
{
    const std::optional<ArchiveFormat> implied = archive_format_from_path(options.output);
    if (options.format && implied && *options.format != *implied)
    {
        throw UserError(
            fmt::format(
                "--format {} does not match the file name {}",
                archive_format_name(*options.format),
                path_to_utf8(options.output)),
            fmt::format(
                "name the file *.{} or drop --format", archive_format_name(*options.format)),
            ExitCode::usage);
    }
    const ArchiveFormat format = options.format.value_or(implied.value_or(ArchiveFormat::tar_gz));
    guest::require_registered(backend, options.name);
    std::error_code ec;
    if (!options.force
        && std::filesystem::exists(std::filesystem::symlink_status(options.output, ec)))
    {
        throw UserError(
            fmt::format("{} already exists", path_to_utf8(options.output)),
            "choose another file, or pass --force to replace it");
    }
    env.console.status(fmt::format(
        "Backing up {} to {} ({})",
        options.name,
        path_to_utf8(options.output),
        archive_format_name(format)));
    const DistroConfiguration config = backend.get_configuration(options.name);
    // A settings file left from an older backup must never describe the new one.
    std::filesystem::remove(backup_config_path(options.output), ec);
    backend.export_to(
        options.name, {.file = options.output, .format = format, .progress = env.progress});
    std::optional<std::string> user;
    for (const DistroInfo& d : backend.list())
    {
        if (d.name == options.name)
        {
            user = d.default_user;
        }
    }
    write_backup_config(
        options.output,
        {.default_uid = config.default_uid,
         .flags = config.flags,
         .default_user = user,
         .setup_pending = config.setup_pending});
    return format;
}

bool uninstall(Backend& backend, const UninstallOptions& options, const CommandEnv& env)
{
    guest::require_registered(backend, options.name);
    if (!options.yes)
    {
        if (!env.console.interactive())
        {
            throw UserError(
                fmt::format("refusing to remove {} without confirmation", options.name),
                "pass --yes to remove it and all its files");
        }
        if (!env.console.confirm(
                fmt::format("Remove {} and all its files? This cannot be undone.", options.name)))
        {
            return false;
        }
    }
    env.console.status(fmt::format("Removing {}", options.name));
    backend.unregister(options.name);
    forget_host_sync(options.name);
    return true;
}

} // namespace azl::launcher
