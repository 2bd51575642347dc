#include "guest.hpp"

#include <azl/common/error.hpp>
#include <azl/common/ini.hpp>
#include <azl/launcher/commands.hpp>

#include <fmt/format.h>

#include <charconv>

namespace azl::launcher::guest
{

namespace
{

LaunchSpec as_root(std::vector<std::string> argv)
{
    LaunchSpec spec;
    spec.argv = std::move(argv);
    spec.user = "root";
    spec.cwd = "/";
    return spec;
}

std::string first_line(const std::string& text)
{
    const auto end = text.find('\n');
    return end == std::string::npos ? text : text.substr(0, end);
}

} // namespace

void require_registered(Backend& backend, const std::string& name)
{
    validate_name(name);
    if (!backend.is_registered(name))
    {
        throw UserError(
            fmt::format("there is no distribution named {}", name),
            "`azurelinux list` shows the installed ones; `azurelinux install` adds one");
    }
}

std::optional<std::string>
read_file(Backend& backend, const std::string& name, const std::string& path)
{
    // `test -e` first: cat's failure could also mean a directory or no permission, which must not
    // read as "absent" (config would then overwrite the file).
    LaunchResult r = backend.launch(
        name,
        as_root({"/bin/sh", "-c", R"(test -e "$1" || exit 3; exec cat -- "$1")", "sh", path}));
    if (r.exit_code == 3 && r.out.empty())
    {
        return std::nullopt;
    }
    if (r.exit_code != 0)
    {
        throw UserError(fmt::format("cannot read {} in {}: {}", path, name, first_line(r.err)));
    }
    return std::move(r.out);
}

void write_file(
    Backend& backend, const std::string& name, const std::string& path, const std::string& content)
{
    LaunchSpec spec = as_root(
        {"/bin/sh",
         "-c",
         R"(umask 022 && cat > "$1.azl-new" && chown 0:0 "$1.azl-new" && mv -f -- "$1.azl-new" "$1")",
         "sh",
         path});
    spec.stdin_data = content;
    const LaunchResult r = backend.launch(name, spec);
    if (r.exit_code != 0)
    {
        throw UserError(fmt::format("cannot write {} in {}: {}", path, name, first_line(r.err)));
    }
}

std::optional<std::uint32_t>
uid_of(Backend& backend, const std::string& name, const std::string& user)
{
    // The same probe `wsl --manage --set-default-user` uses.
    const LaunchResult r = backend.launch(name, as_root({"/usr/bin/id", "-u", "--", user}));
    if (r.exit_code != 0)
    {
        return std::nullopt;
    }
    const std::string text = first_line(r.out);
    std::uint32_t uid = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), uid);
    if (ec != std::errc{} || end != text.data() + text.size())
    {
        throw UserError(fmt::format("`id -u {}` in {} printed '{}', not a uid", user, name, text));
    }
    return uid;
}

std::optional<std::string> user_of(Backend& backend, const std::string& name, std::uint32_t uid)
{
    const LaunchResult r = backend.launch(name, as_root({"getent", "passwd", std::to_string(uid)}));
    if (r.exit_code != 0)
    {
        return std::nullopt;
    }
    const std::string line = first_line(r.out);
    const auto colon = line.find(':');
    if (colon == std::string::npos || colon == 0)
    {
        return std::nullopt;
    }
    return line.substr(0, colon);
}

OobeConfig read_oobe_config(Backend& backend, const std::string& name)
{
    OobeConfig config;
    const std::string path = "/etc/wsl-distribution.conf";
    const auto text = read_file(backend, name, path);
    if (!text)
    {
        return config;
    }
    const IniFile ini = IniFile::parse(*text, fmt::format("{}:{}", name, path));
    config.command = ini.get("oobe", "command");
    if (config.command && config.command->empty())
    {
        config.command.reset();
    }
    if (const auto uid = ini.get("oobe", "defaultUid"))
    {
        std::uint32_t value = 0;
        const auto [end, ec] = std::from_chars(uid->data(), uid->data() + uid->size(), value);
        if (ec != std::errc{} || end != uid->data() + uid->size())
        {
            throw UserError(
                fmt::format("{}:{}: [oobe] defaultUid '{}' is not a number", name, path, *uid));
        }
        config.default_uid = value;
    }
    return config;
}

} // namespace azl::launcher::guest
