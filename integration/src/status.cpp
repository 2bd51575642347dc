#include "client.hpp"
#include "net_status.hpp"

#include <azl/common/error.hpp>
#include <azl/integration/bridge.hpp>
#include <azl/integration/protocols.hpp>
#include <azl/integration/relay.hpp>
#include <azl/integration/runtime.hpp>

#include <fmt/format.h>

#include <cstdlib>

namespace azl::integration
{

namespace fs = std::filesystem;
using nlohmann::json;

namespace
{

// The running server's port and secrets, if one runs.
struct Running
{
    int port = 0;
    pid_t pid = 0;
    Secrets secrets;
};

std::optional<Running> running_server(const fs::path& dir)
{
    const auto state = read_server_state(dir);
    const auto secrets = load_secrets(dir);
    if (!InstanceLock::is_held(dir) || !state || !secrets)
    {
        return std::nullopt;
    }
    return Running{state->port, state->pid, *secrets};
}

std::string error_message(const std::string& body)
{
    const auto j = json::parse(body, nullptr, false);
    if (j.is_object())
    {
        for (const char* key : {"error_description", "message"})
        {
            if (j.contains(key) && j[key].is_string())
            {
                return j[key].get<std::string>();
            }
        }
    }
    return body;
}

json nullable(const std::string& s)
{
    return s.empty() ? json(nullptr) : json(s);
}

} // namespace

json get_token(const BridgeConfig& config, const TokenRequest& request)
{
    if (const auto server = running_server(runtime_dir()))
    {
        std::string target = fmt::format(
            "/{}{}?{}={}",
            server->secrets.prefix,
            kBridgeTokenPath,
            request.kind == TargetKind::resource ? "resource" : "scope",
            url_encode(request.target));
        if (request.tenant)
        {
            target += "&tenant=" + url_encode(*request.tenant);
        }
        const auto timeout =
            std::chrono::duration_cast<std::chrono::milliseconds>(config.host_timeout)
            + std::chrono::seconds(5);
        if (const auto reply = local_get(server->port, target, server->secrets.header, timeout))
        {
            if (reply->status != 200)
            {
                throw UserError(error_message(reply->body));
            }
            return json::parse(reply->body);
        }
    }
    try
    {
        const auto token = fetch_host_token(config, request);
        return json::parse(
            render_token(Protocol::bridge_token, token, request, std::chrono::system_clock::now()));
    }
    catch (const HostError& e)
    {
        throw UserError(e.what());
    }
}

json status(const BridgeConfig& config, NetworkChecks network)
{
    json host = {
        {"found", false},
        {"path", nullptr},
        {"signed_in", false},
        {"user", nullptr},
        {"tenant", nullptr},
        {"subscription", nullptr},
        {"error", nullptr}};
    if (const auto command = find_host_az(config))
    {
        host["found"] = true;
        host["path"] = command->path.string();
        try
        {
            const auto account =
                HostCli(
                    *command,
                    std::chrono::duration_cast<std::chrono::milliseconds>(config.host_timeout))
                    .account_show();
            host["signed_in"] = true;
            host["user"] = nullable(account.user);
            host["tenant"] = nullable(account.tenant);
            host["subscription"] = nullable(account.subscription);
        }
        catch (const HostError& e)
        {
            host["error"] = e.what();
        }
    }
    else
    {
        try
        {
            (void)make_host_cli(config);
        }
        catch (const HostError& e)
        {
            host["error"] = e.what();
        }
    }
    json server = {{"running", false}, {"port", nullptr}, {"pid", nullptr}};
    json cache = json::array();
    json clients = json::array();
    if (const auto running = running_server(runtime_dir()))
    {
        server = {{"running", true}, {"port", running->port}, {"pid", running->pid}};
        const auto lookup = [](const std::string& name) -> std::optional<std::string>
        {
            const char* v = std::getenv(name.c_str());
            return v != nullptr ? std::optional<std::string>(v) : std::nullopt;
        };
        for (const auto& [set, served] :
             clients_served(endpoints(running->port, running->secrets), running->secrets, lookup))
        {
            clients.push_back(
                {{"tool", std::string(client_set_name(set))},
                 {"protocol", std::string(client_protocol(set))},
                 {"in_this_shell", served}});
        }
        const std::string target = fmt::format("/{}{}", running->secrets.prefix, kBridgeStatusPath);
        if (const auto reply =
                local_get(running->port, target, running->secrets.header, std::chrono::seconds(5));
            reply && reply->status == 200)
        {
            const auto j = json::parse(reply->body, nullptr, false);
            if (j.is_object() && j.contains("cache") && j["cache"].is_array())
            {
                cache = j["cache"];
            }
        }
    }
    json out = {
        {"enabled", config.enabled},
        {"host_cli", host},
        {"server", server},
        {"clients", clients},
        {"cache", cache}};
    out.update(relay_status(config));
    if (network == NetworkChecks::run)
    {
        out["network"] = network_status();
    }
    return out;
}

namespace
{

// The gpg-agent relay's line: off, no GnuPG, no Windows agent, the guest's own agent, or the
// relay and what the Windows agent answered.
std::string format_gpg_agent(const nlohmann::json& gpg)
{
    const auto str = [&gpg](const char* key)
    { return gpg[key].is_string() ? gpg[key].get<std::string>() : std::string(); };
    if (!gpg["enabled"].get<bool>())
    {
        return "turned off in /etc/azurelinux/bridge.conf";
    }
    if (!gpg["socket"].is_string())
    {
        return "GnuPG is not installed in the distribution";
    }
    if (gpg["own_agent"].get<bool>())
    {
        return fmt::format("{}: the distribution's own gpg-agent (left alone)", str("socket"));
    }
    if (!gpg["socket_file"].is_string())
    {
        return "GnuPG's agent does not run on Windows (no S.gpg-agent.extra; start it there: "
               "gpgconf --launch gpg-agent)";
    }
    return fmt::format(
        "{} ({}), {}",
        str("socket"),
        gpg["running"].get<bool>() ? "running" : "starts with a login shell",
        gpg["version"].is_string() ? "the Windows agent answers (GnuPG " + str("version") + ")"
        : gpg["error"].is_string() ? str("error")
                                   : "azurelinux.exe not found on the Windows drive");
}

} // namespace

std::string format_status(const json& s)
{
    const auto& host = s["host_cli"];
    const auto& server = s["server"];
    std::string out;
    out += fmt::format(
        "Bridge:          {}\n",
        s["enabled"].get<bool>() ? "enabled" : "turned off in /etc/azurelinux/bridge.conf");
    out += fmt::format(
        "Windows az:      {}\n",
        host["found"].get<bool>() ? host["path"].get<std::string>() : "not found");
    if (host["signed_in"].get<bool>())
    {
        out += fmt::format(
            "Signed in as:    {} (tenant {}, subscription {})\n",
            host["user"].is_string() ? host["user"].get<std::string>() : "?",
            host["tenant"].is_string() ? host["tenant"].get<std::string>() : "?",
            host["subscription"].is_string() ? host["subscription"].get<std::string>() : "none");
    }
    if (host["error"].is_string())
    {
        out += fmt::format("Problem:         {}\n", host["error"].get<std::string>());
    }
    out += server["running"].get<bool>()
               ? fmt::format(
                   "Server:          running on 127.0.0.1:{} (pid {})\n",
                   server["port"].get<int>(),
                   server["pid"].get<int>())
               : std::string(
                   "Server:          not running (start: azurelinux-bridge serve --background)\n");
    for (const auto& c : s["clients"])
    {
        const auto tool = c["tool"].get<std::string>();
        out += fmt::format(
            "Serves {:<10} {}: {}\n",
            tool + ":",
            c["protocol"].get<std::string>(),
            c["in_this_shell"].get<bool>()
                ? std::string("pointed at the bridge in this shell")
                : fmt::format(
                    "not in this shell's environment (eval \"$(azurelinux-bridge env --for {})\")",
                    tool));
    }
    for (const auto& e : s["cache"])
    {
        out += fmt::format(
            "Cached token:    {} (expires in {} min)\n",
            e["key"].get<std::string>(),
            e["expires_in"].get<long long>() / 60);
    }
    const auto& ssh = s["ssh_agent"];
    if (!ssh["enabled"].get<bool>())
    {
        out += "ssh-agent:       turned off in /etc/azurelinux/bridge.conf\n";
    }
    else if (!ssh["launcher"].is_string())
    {
        out +=
            "ssh-agent:       azurelinux.exe not found on the Windows drive ([relay] launcher)\n";
    }
    else
    {
        out += fmt::format(
            "ssh-agent:       {} ({}), {}\n",
            ssh["socket"].get<std::string>(),
            ssh["running"].get<bool>() ? "running" : "starts with a login shell",
            ssh["keys"].is_number()
                ? fmt::format("the Windows agent holds {} keys", ssh["keys"].get<int>())
                : ssh["error"].get<std::string>());
    }
    if (const auto gpg = s.find("gpg_agent"); gpg != s.end())
    {
        out += "gpg-agent:       " + format_gpg_agent(*gpg) + "\n";
    }
    const auto& gcm = s["gcm"];
    out += fmt::format(
        "Git credentials: {}\n",
        !gcm["enabled"].get<bool>() ? std::string("turned off in /etc/azurelinux/bridge.conf")
        : gcm["path"].is_string()   ? "Git Credential Manager at " + gcm["path"].get<std::string>()
                                    : std::string("Git Credential Manager not found in Windows"));
    if (s.contains("network"))
    {
        out += format_network_status(s["network"]);
    }
    return out;
}

} // namespace azl::integration
