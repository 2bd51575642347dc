#include <azl/common/error.hpp>
#include <azl/common/fs.hpp>
#include <azl/common/ini.hpp>
#include <azl/integration/config.hpp>

#include <fmt/format.h>

#include <charconv>
#include <cstdlib>

namespace azl::integration
{

namespace fs = std::filesystem;

namespace
{

std::chrono::seconds
parse_seconds(const std::string& value, const fs::path& file, std::string_view key)
{
    long long n = 0;
    const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (ec != std::errc() || ptr != value.data() + value.size() || n < 0 || value.empty())
    {
        throw UserError(
            fmt::format(
                "{}: [bridge] {} = \"{}\" is not a number of seconds", file.string(), key, value),
            "use a whole number such as 3600 (0 means never)");
    }
    return std::chrono::seconds(n);
}

void read_bool(
    const IniFile& ini,
    const fs::path& file,
    std::string_view section,
    std::string_view key,
    bool& out)
{
    if (const auto v = ini.get(section, key))
    {
        const auto b = parse_ini_bool(*v);
        if (!b)
        {
            throw UserError(
                fmt::format(
                    "{}: [{}] {} = \"{}\" is not a boolean", file.string(), section, key, *v),
                "use true or false");
        }
        out = *b;
    }
}

// An absolute guest path, or nothing when the value is empty.
std::optional<fs::path> read_guest_path(
    const IniFile& ini,
    const fs::path& file,
    std::string_view section,
    std::string_view key,
    std::string_view example)
{
    const auto v = ini.get(section, key);
    if (!v || v->empty())
    {
        return std::nullopt;
    }
    if (v->front() != '/')
    {
        throw UserError(
            fmt::format(
                "{}: [{}] {} = \"{}\" is not an absolute guest path",
                file.string(),
                section,
                key,
                *v),
            fmt::format("give the path as the guest sees it, e.g. {}", example));
    }
    return fs::path(*v);
}

void apply_relay(RelayConfig& relay, const IniFile& ini, const fs::path& file)
{
    if (auto p = read_guest_path(
            ini, file, "relay", "launcher", "/mnt/c/Program Files/AzureLinux/azurelinux.exe"))
    {
        relay.launcher = std::move(p);
    }
    read_bool(ini, file, "ssh-agent", "enabled", relay.ssh_agent);
    if (const auto v = ini.get("ssh-agent", "pipe"); v && !v->empty())
    {
        // A pipe name, not a path: it is passed to the Windows relay as one argument.
        if (v->find_first_of("\\/ \t\"") != std::string::npos || v->size() > 200)
        {
            throw UserError(
                fmt::format("{}: [ssh-agent] pipe = \"{}\" is not a pipe name", file.string(), *v),
                R"(give the name after \\.\pipe\, e.g. openssh-ssh-agent)");
        }
        relay.ssh_pipe = *v;
    }
    read_bool(ini, file, "gpg-agent", "enabled", relay.gpg_agent);
    if (auto p = read_guest_path(
            ini,
            file,
            "gpg-agent",
            "socketFile",
            "/mnt/c/Users/you/AppData/Local/gnupg/S.gpg-agent.extra"))
    {
        relay.gpg_socket_file = std::move(p);
    }
    read_bool(ini, file, "gcm", "enabled", relay.gcm);
    if (auto p = read_guest_path(
            ini,
            file,
            "gcm",
            "path",
            "/mnt/c/Program Files/Git/mingw64/bin/git-credential-manager.exe"))
    {
        relay.gcm_path = std::move(p);
    }
}

void apply(BridgeConfig& config, const IniFile& ini, const fs::path& file)
{
    read_bool(ini, file, "bridge", "enabled", config.enabled);
    if (const auto v = ini.get("bridge", "idletimeout"))
    {
        config.idle_timeout = parse_seconds(*v, file, "idleTimeout");
    }
    if (const auto v = ini.get("bridge", "hosttimeout"))
    {
        config.host_timeout = parse_seconds(*v, file, "hostTimeout");
    }
    if (const auto v = ini.get("bridge", "hostaz"); v && !v->empty())
    {
        if (v->front() != '/')
        {
            throw UserError(
                fmt::format(
                    "{}: [bridge] hostAz = \"{}\" is not an absolute guest path",
                    file.string(),
                    *v),
                "give the path as the guest sees it, e.g. /mnt/c/Program Files/Microsoft "
                "SDKs/Azure/CLI2/wbin/az.cmd");
        }
        config.host_az = fs::path(*v);
    }
    if (const auto v = ini.get("bridge", "tenant"); v && !v->empty())
    {
        config.tenant = *v;
    }
    apply_relay(config.relay, ini, file);
}

} // namespace

std::vector<fs::path> config_paths()
{
    std::vector<fs::path> paths = {"/etc/azurelinux/bridge.conf"};
    const char* xdg = std::getenv("XDG_CONFIG_HOME");
    const char* home = std::getenv("HOME");
    if (xdg != nullptr && *xdg == '/')
    {
        paths.emplace_back(fs::path(xdg) / "azurelinux/bridge.conf");
    }
    else if (home != nullptr && *home == '/')
    {
        paths.emplace_back(fs::path(home) / ".config/azurelinux/bridge.conf");
    }
    return paths;
}

BridgeConfig load_config(const std::vector<fs::path>& paths)
{
    BridgeConfig config;
    for (const auto& file : paths)
    {
        std::error_code ec;
        if (!fs::exists(file, ec))
        {
            continue;
        }
        apply(config, IniFile::parse(read_file(file, 1U << 20U), file.string()), file);
        config.sources.push_back(file);
    }
    return config;
}

} // namespace azl::integration
