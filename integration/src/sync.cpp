#include <azl/common/error.hpp>
#include <azl/common/fs.hpp>
#include <azl/common/ini.hpp>
#include <azl/common/process.hpp>
#include <azl/integration/bridge.hpp>
#include <azl/integration/runtime.hpp>

#include <fmt/format.h>

#include <sys/stat.h>

#include <array>
#include <cstdlib>

namespace azl::integration
{

namespace fs = std::filesystem;
using nlohmann::json;

namespace
{

// The only settings copied: none of them can hold a secret. Token caches
// (msal_token_cache*, accessTokens.json), service_principal_entries* and every other file of the
// host's .azure directory are never read at all.
constexpr std::array<std::pair<std::string_view, std::string_view>, 5> kSafeSettings = {{
    {"core", "output"},
    {"core", "only_show_errors"},
    {"core", "no_color"},
    {"defaults", "group"},
    {"defaults", "location"},
}};

fs::path guest_config_dir()
{
    if (const char* dir = std::getenv("AZURE_CONFIG_DIR"); dir != nullptr && *dir == '/')
    {
        return dir;
    }
    const char* home = std::getenv("HOME");
    if (home == nullptr || *home != '/')
    {
        throw UserError("HOME is not set", "run this as a normal user in a login shell");
    }
    return fs::path(home) / ".azure";
}

// The value of section.name in `az config get`'s output: {"core": [{"name", "source", "value"}]}.
std::optional<std::string>
host_setting(const json& config, std::string_view section, std::string_view name)
{
    const auto it = config.find(std::string(section));
    if (it == config.end() || !it->is_array())
    {
        return std::nullopt;
    }
    for (const auto& item : *it)
    {
        if (item.is_object() && item.value("name", "") == name && item.contains("value"))
        {
            const auto& v = item["value"];
            return v.is_string() ? v.get<std::string>() : v.dump();
        }
    }
    return std::nullopt;
}

ProcessResult
run_guest_az(const fs::path& az, std::vector<std::string> args, ProcessOptions options = {})
{
    args.insert(args.begin(), az.string());
    options.timeout = std::chrono::minutes(2);
    return run_process(args, options);
}

} // namespace

std::optional<fs::path> find_guest_az()
{
    const char* path = std::getenv("PATH");
    const std::string root = drive_mount_root().string() + "/";
    std::string p = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
    std::size_t start = 0;
    while (start <= p.size())
    {
        const auto end = std::min(p.find(':', start), p.size());
        const fs::path candidate = fs::path(p.substr(start, end - start)) / "az";
        start = end + 1;
        // Windows' CLI2\wbin also holds a script named "az": that is the host's, not the guest's.
        struct stat st = {};
        if (candidate.string().rfind(root, 0) != 0 && ::stat(candidate.c_str(), &st) == 0
            && S_ISREG(st.st_mode) && ::access(candidate.c_str(), X_OK) == 0)
        {
            return candidate;
        }
    }
    return std::nullopt;
}

SyncResult sync_settings(const BridgeConfig& config)
{
    SyncResult result;
    try
    {
        const HostCli host = make_host_cli(config);
        const auto host_config = json::parse(host.run_json({"config", "get"}), nullptr, false);
        if (!host_config.is_object())
        {
            throw HostError(
                HostErrorKind::bad_output,
                "`az config get` printed something that is not a JSON object");
        }
        const fs::path dir = guest_config_dir();
        result.config_file = dir / "config";
        std::error_code ec;
        fs::create_directories(dir, ec);
        ::chmod(dir.c_str(), 0700);
        IniFile ini = fs::exists(result.config_file, ec)
                          ? IniFile::parse(
                              read_file(result.config_file, 1U << 20U), result.config_file.string())
                          : IniFile::parse("", result.config_file.string());
        for (const auto& [section, name] : kSafeSettings)
        {
            if (const auto value = host_setting(host_config, section, name))
            {
                ini.set(section, name, *value);
                result.settings.push_back(fmt::format("{}.{} = {}", section, name, *value));
            }
        }
        write_file_atomic(result.config_file, ini.str(), 0600);
        result.subscription = host.account_show().subscription;
    }
    catch (const HostError& e)
    {
        throw UserError(e.what());
    }
    if (const auto az = find_guest_az(); az && result.subscription && !result.subscription->empty())
    {
        // Only a guest az that is signed in (e.g. through az-login) has subscriptions to select.
        if (run_guest_az(*az, {"account", "show", "--output", "none"}).ok())
        {
            const auto set =
                run_guest_az(*az, {"account", "set", "--subscription", *result.subscription});
            result.subscription_selected = set.ok();
        }
    }
    return result;
}

void az_login(const BridgeConfig& config)
{
    const auto az = find_guest_az();
    if (!az)
    {
        throw UserError(
            "this distribution has no Azure CLI of its own (`az`)",
            "install it (e.g. `sudo tdnf install azure-cli`) to sign it in through the bridge");
    }
    const fs::path dir = runtime_dir();
    const auto state = read_server_state(dir);
    const auto secrets = load_secrets(dir);
    if (!InstanceLock::is_held(dir) || !state || !secrets)
    {
        throw UserError(
            "the Azure bridge is not running",
            "start it with `azurelinux-bridge serve --background`");
    }
    const Endpoints e = endpoints(state->port, *secrets);
    ProcessOptions options;
    options.stdout_mode = Stream::inherit;
    options.stderr_mode = Stream::inherit;
    // The guest az needs the endpoint and its secret; they go through its environment only.
    options.set_env = {
        {"IDENTITY_ENDPOINT", e.identity_endpoint},
        {"IDENTITY_HEADER", secrets->header},
        {"MSI_ENDPOINT", e.msi_endpoint}};
    options.unset_env = {"AZURE_CLIENT_ID"};
    if (!run_guest_az(
             *az, {"login", "--identity", "--allow-no-subscriptions", "--output", "none"}, options)
             .ok())
    {
        throw UserError(
            "`az login --identity` failed in this distribution (its message is above)",
            "check `azurelinux-bridge status`");
    }
    try
    {
        const auto subscription = make_host_cli(config).account_show().subscription;
        if (!subscription.empty()
            && !run_guest_az(*az, {"account", "set", "--subscription", subscription}, options).ok())
        {
            throw UserError(fmt::format(
                "could not select the Windows default subscription {} in this distribution",
                subscription));
        }
    }
    catch (const HostError& e2)
    {
        throw UserError(e2.what());
    }
}

} // namespace azl::integration
