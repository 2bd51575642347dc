// doctor: what is wrong and how to fix it, one line per check.
#include "guest.hpp"

#include <azl/common/error.hpp>
#include <azl/launcher/commands.hpp>
#include <azl/launcher/host_sync.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace azl::launcher
{

namespace
{

constexpr std::string_view kBridge = "/usr/bin/azurelinux-bridge";
constexpr std::string_view kOobe = "/usr/lib/wsl/azurelinux-oobe";

DoctorCheck check(std::string id, CheckStatus status, std::string message, std::string hint = {})
{
    return {
        .id = std::move(id),
        .status = status,
        .message = std::move(message),
        .hint = std::move(hint)};
}

std::string first_line(const std::string& text)
{
    return text.substr(0, text.find('\n'));
}

DoctorCheck check_default_user(Backend& backend, const std::string& name, std::uint32_t uid)
{
    const auto user = guest::user_of(backend, name, uid);
    if (!user)
    {
        return check(
            "default-user",
            CheckStatus::fail,
            fmt::format("the default uid {} has no user in {}", uid, name),
            fmt::format(
                "pick an existing user: azurelinux config --name {} "
                "--default-user NAME",
                name));
    }
    if (uid == 0)
    {
        return check(
            "default-user",
            CheckStatus::warn,
            "the default user is root",
            fmt::format(
                "create a user and make it the default: azurelinux run --name {0} "
                "--user root -- useradd -m -s /bin/bash NAME && azurelinux config "
                "--name {0} --default-user NAME",
                name));
    }
    return check(
        "default-user", CheckStatus::ok, fmt::format("default user {} (uid {})", *user, uid));
}

// The gpg-agent line: the relay reaches Gpg4win's agent, or why not and what to do.
DoctorCheck check_gpg_agent(const nlohmann::json& gpg)
{
    const auto str = [&gpg](const char* key)
    {
        const auto v = gpg.value(key, nlohmann::json());
        return v.is_string() ? v.get<std::string>() : std::string();
    };
    if (!gpg.value("enabled", true))
    {
        return check(
            "gpg-agent",
            CheckStatus::ok,
            "the gpg-agent relay is turned off ([gpg-agent] enabled = false in "
            "/etc/azurelinux/bridge.conf)");
    }
    if (str("socket").empty())
    {
        return check(
            "gpg-agent",
            CheckStatus::ok,
            "GnuPG is not installed in the distribution: no gpg-agent to relay");
    }
    if (gpg.value("own_agent", false))
    {
        return check(
            "gpg-agent",
            CheckStatus::ok,
            fmt::format(
                "the distribution's own gpg-agent serves {}: the Windows agent is not relayed",
                str("socket")),
            "to sign with the Windows keys instead: gpgconf --kill gpg-agent (and with systemd: "
            "systemctl --user mask --now gpg-agent.socket), then log in again");
    }
    if (str("socket_file").empty())
    {
        return check(
            "gpg-agent",
            CheckStatus::warn,
            "GnuPG's agent does not run on Windows (no S.gpg-agent.extra in "
            "%LOCALAPPDATA%\\gnupg or %APPDATA%\\gnupg)",
            "install Gpg4win and start its agent on Windows: gpgconf --launch gpg-agent");
    }
    if (!str("version").empty())
    {
        return check(
            "gpg-agent",
            CheckStatus::ok,
            fmt::format(
                "the Windows GnuPG agent (GnuPG {}) answers through the relay from {}{}",
                str("version"),
                str("socket_file"),
                gpg.value("running", false) ? "" : " (the relay starts with a login shell)"));
    }
    return check(
        "gpg-agent",
        CheckStatus::warn,
        fmt::format(
            "the Windows GnuPG agent did not answer through the relay{}",
            str("error").empty() ? std::string(" (azurelinux.exe not found on the Windows drive)")
                                 : ": " + str("error")),
        "start it on Windows: gpgconf --launch gpg-agent (a stale socket file remains after a "
        "crash: gpgconf --kill gpg-agent first)");
}

// The ssh-agent and Git Credential Manager lines from the same status (absent from older bridges).
void check_relays(const nlohmann::json& status, std::vector<DoctorCheck>& out)
{
    if (const auto ssh = status.find("ssh_agent"); ssh != status.end() && ssh->is_object())
    {
        const auto keys = ssh->value("keys", nlohmann::json());
        const auto error = ssh->value("error", nlohmann::json());
        if (!ssh->value("enabled", true))
        {
            out.push_back(check(
                "ssh-agent",
                CheckStatus::ok,
                "the ssh-agent relay is turned off ([ssh-agent] enabled = false in "
                "/etc/azurelinux/bridge.conf)"));
        }
        else if (!ssh->value("launcher", nlohmann::json()).is_string())
        {
            out.push_back(check(
                "ssh-agent",
                CheckStatus::warn,
                "the ssh-agent relay cannot find azurelinux.exe on the Windows drive",
                "install the launcher in C:\\Program Files\\AzureLinux, or set [relay] launcher "
                "= /mnt/c/…/azurelinux.exe in /etc/azurelinux/bridge.conf"));
        }
        else if (keys.is_number_unsigned())
        {
            out.push_back(check(
                "ssh-agent",
                keys.get<unsigned>() > 0 ? CheckStatus::ok : CheckStatus::warn,
                fmt::format(
                    "the Windows ssh-agent is reachable and holds {} key(s)", keys.get<unsigned>()),
                keys.get<unsigned>() > 0 ? std::string()
                                         : std::string("add a key on Windows: ssh-add")));
        }
        else
        {
            out.push_back(check(
                "ssh-agent",
                CheckStatus::warn,
                fmt::format(
                    "the Windows ssh-agent did not answer through the relay{}",
                    error.is_string() ? ": " + error.get<std::string>() : std::string()),
                "start it on Windows (as administrator): Get-Service ssh-agent | Set-Service "
                "-StartupType Automatic; Start-Service ssh-agent"));
        }
    }
    if (const auto gpg = status.find("gpg_agent"); gpg != status.end() && gpg->is_object())
    {
        out.push_back(check_gpg_agent(*gpg));
    }
    if (const auto gcm = status.find("gcm"); gcm != status.end() && gcm->is_object())
    {
        const auto path = gcm->value("path", nlohmann::json());
        if (!gcm->value("enabled", true))
        {
            out.push_back(check(
                "gcm",
                CheckStatus::ok,
                "Git Credential Manager is turned off ([gcm] enabled = false)"));
        }
        else if (path.is_string())
        {
            out.push_back(check(
                "gcm",
                CheckStatus::ok,
                fmt::format("Git Credential Manager found at {}", path.get<std::string>())));
        }
        else
        {
            out.push_back(check(
                "gcm",
                CheckStatus::warn,
                "Git Credential Manager was not found in Windows",
                "install Git for Windows (winget install Git.Git), which includes it"));
        }
    }
}

// The bridge and Azure CLI lines from `azurelinux-bridge status --json` run as the default user.
void check_bridge(Backend& backend, const std::string& name, std::vector<DoctorCheck>& out)
{
    LaunchSpec spec;
    spec.argv = {
        "/bin/sh",
        "-c",
        R"(test -x "$1" || exit 127; exec "$1" status --json --no-network)",
        "sh",
        std::string(kBridge)};
    const LaunchResult r = backend.launch(name, spec);
    const std::string skipped = "not checked: needs the bridge";
    if (r.exit_code == 127)
    {
        out.push_back(check(
            "bridge",
            CheckStatus::warn,
            fmt::format("the Azure bridge is not installed in {} ({})", name, kBridge),
            "use an image made by `azurelinux image build`, which adds it"));
        out.push_back(check("azure-cli", CheckStatus::warn, skipped));
        return;
    }
    nlohmann::json status;
    try
    {
        if (r.exit_code != 0)
        {
            throw std::runtime_error(fmt::format("exit {}: {}", r.exit_code, first_line(r.err)));
        }
        status = nlohmann::json::parse(r.out);
        const auto& server = status.at("server");
        if (server.at("running").get<bool>())
        {
            out.push_back(check(
                "bridge",
                CheckStatus::ok,
                fmt::format(
                    "bridge running on port {} (pid {})",
                    server.value("port", nlohmann::json()).dump(),
                    server.value("pid", nlohmann::json()).dump())));
        }
        else
        {
            out.push_back(check(
                "bridge",
                CheckStatus::warn,
                "the bridge is installed but not running",
                fmt::format(
                    "it starts with the distribution ([boot] command); "
                    "restart it: azurelinux terminate --name {}",
                    name)));
        }
        const auto& cli = status.at("host_cli");
        if (!cli.at("found").get<bool>())
        {
            out.push_back(check(
                "azure-cli",
                CheckStatus::warn,
                "the host's Azure CLI was not found",
                "install it on the host (Windows: winget install Microsoft.AzureCLI)"));
        }
        else if (!cli.at("signed_in").get<bool>())
        {
            const auto error = cli.value("error", nlohmann::json());
            out.push_back(check(
                "azure-cli",
                CheckStatus::warn,
                fmt::format(
                    "the host's Azure CLI is not signed in{}",
                    error.is_string() ? ": " + error.get<std::string>() : std::string()),
                "run `az login` on the host"));
        }
        else
        {
            const auto text = [&cli](const char* key)
            {
                const auto v = cli.value(key, nlohmann::json());
                return v.is_string() ? v.get<std::string>() : std::string("?");
            };
            out.push_back(check(
                "azure-cli",
                CheckStatus::ok,
                fmt::format(
                    "host Azure CLI signed in as {} (tenant {}, subscription {})",
                    text("user"),
                    text("tenant"),
                    text("subscription"))));
        }
        check_relays(status, out);
    }
    catch (const std::exception& e)
    {
        out.push_back(check(
            "bridge",
            CheckStatus::fail,
            fmt::format("`{} status --json` failed: {}", kBridge, e.what()),
            fmt::format("run it yourself: azurelinux run --name {} -- {} status", name, kBridge)));
        out.push_back(check("azure-cli", CheckStatus::warn, skipped));
    }
}

CheckStatus parse_status(const std::string& word)
{
    return word == "ok" ? CheckStatus::ok : word == "warn" ? CheckStatus::warn : CheckStatus::fail;
}

// TLS from inside the guest to its package repositories and the Azure endpoints, through the
// proxy its tools use (`azurelinux-oobe --check-network`): which proxy refused, which CA
// intercepts and whether Windows trusts it.
void check_network(Backend& backend, const std::string& name, std::vector<DoctorCheck>& out)
{
    LaunchSpec spec;
    spec.argv = {
        "/bin/sh",
        "-c",
        R"(test -x "$1" || exit 127; exec "$1" --check-network)",
        "sh",
        std::string(kOobe)};
    spec.user = "root";
    spec.cwd = "/";
    HostFacts facts = read_host_facts();
    resolve_pac(backend, name, facts); // doctor says what the PAC file gives, or why it cannot
    spec.stdin_data = network_check_request(facts);
    const LaunchResult r = backend.launch(name, spec);
    if (r.exit_code == 127)
    {
        out.push_back(check(
            "network",
            CheckStatus::warn,
            fmt::format("not checked: {} has no {}", name, kOobe),
            "use an image made by `azurelinux image build`, which adds it"));
        return;
    }
    try
    {
        if (r.exit_code != 0)
        {
            throw std::runtime_error(fmt::format("exit {}: {}", r.exit_code, first_line(r.err)));
        }
        for (const auto& c : nlohmann::json::parse(r.out))
        {
            const auto hint = c.value("hint", nlohmann::json());
            out.push_back(check(
                c.at("id").get<std::string>(),
                parse_status(c.at("status").get<std::string>()),
                c.at("message").get<std::string>(),
                hint.is_string() ? hint.get<std::string>() : std::string()));
        }
    }
    catch (const std::exception& e)
    {
        out.push_back(check(
            "network",
            CheckStatus::warn,
            fmt::format("the network check in {} failed: {}", name, e.what()),
            fmt::format(
                "run it yourself: azurelinux run --name {} --user root -- {} --check-network "
                "</dev/null",
                name,
                kOobe)));
    }
}

std::string_view status_word(CheckStatus s)
{
    switch (s)
    {
    case CheckStatus::ok:
        return "ok";
    case CheckStatus::warn:
        return "warn";
    case CheckStatus::fail:
        return "fail";
    }
    return "fail";
}

} // namespace

std::vector<DoctorCheck> doctor(Backend& backend, const std::string& name)
{
    validate_name(name);
    std::vector<DoctorCheck> out;
    const EngineInfo engine = backend.engine();
    const std::string engine_text =
        engine.version.empty() ? engine.name : fmt::format("{} {}", engine.name, engine.version);
    if (!engine.usable)
    {
        out.push_back(
            check("engine", CheckStatus::fail, fmt::format("{}: {}", engine_text, engine.problem)));
    }
    else if (!engine.problem.empty())
    {
        // Usable, with a limit worth knowing (an old WSL: no modern install).
        out.push_back(check("engine", CheckStatus::warn, engine.problem));
    }
    else
    {
        out.push_back(check("engine", CheckStatus::ok, engine_text));
    }
    bool registered = false;
    try
    {
        registered = backend.is_registered(name);
    }
    catch (const std::exception&)
    {
        // An engine that cannot run distributions may not list them either (WSL without
        // wslapi.dll): the report says so instead of ending without one.
        if (engine.usable)
        {
            throw;
        }
        const std::string skipped = "not checked: the engine cannot run distributions";
        for (const char* id : {"registered", "setup", "default-user", "bridge", "azure-cli"})
        {
            out.push_back(check(id, CheckStatus::warn, skipped));
        }
        return out;
    }
    if (!registered)
    {
        out.push_back(check(
            "registered",
            CheckStatus::fail,
            fmt::format("{} is not installed", name),
            fmt::format("install it: azurelinux install --name {} --from FILE.wsl", name)));
        return out;
    }
    const DistroConfiguration config = backend.get_configuration(name);
    out.push_back(check("registered", CheckStatus::ok, fmt::format("{} is installed", name)));
    out.push_back(
        config.setup_pending ? check(
            "setup",
            CheckStatus::warn,
            "first-run setup has not finished",
            fmt::format("finish it: azurelinux --name {}", name))
                             : check("setup", CheckStatus::ok, "first-run setup finished"));
    if (!engine.usable)
    {
        const std::string skipped = "not checked: the engine cannot run distributions";
        for (const char* id : {"default-user", "bridge", "azure-cli"})
        {
            out.push_back(check(id, CheckStatus::warn, skipped));
        }
        return out;
    }
    if (const auto status = guest_setup_status(backend, name, false))
    {
        if (status->state == "failed")
        {
            out.push_back(check(
                "first-run",
                CheckStatus::fail,
                fmt::format(
                    "first-run setup failed at step {} ({})",
                    status->step.empty() ? "unknown" : status->step,
                    status->reason),
                fmt::format(
                    "retry: azurelinux setup --name {}; its log: azurelinux run --name {} --user "
                    "root -- cat /var/log/azurelinux-oobe.log",
                    name,
                    name)));
        }
        else
        {
            out.push_back(check(
                "first-run",
                status->state == "running" ? CheckStatus::warn : CheckStatus::ok,
                fmt::format("first-run setup in the guest: {}", status->state),
                status->state == "running"
                    ? fmt::format("wait for it: azurelinux setup --name {} --wait", name)
                    : std::string()));
        }
    }
    out.push_back(check_default_user(backend, name, config.default_uid));
    check_bridge(backend, name, out);
    check_network(backend, name, out);
    return out;
}

std::string format_doctor(const std::vector<DoctorCheck>& checks)
{
    std::string out;
    for (const DoctorCheck& c : checks)
    {
        out += fmt::format("{:<4}  {}\n", status_word(c.status), c.message);
        if (!c.hint.empty())
        {
            out += fmt::format("      hint: {}\n", c.hint);
        }
    }
    return out;
}

std::string format_doctor_json(const std::vector<DoctorCheck>& checks)
{
    nlohmann::json j = nlohmann::json::array();
    for (const DoctorCheck& c : checks)
    {
        j.push_back(
            {{"id", c.id},
             {"status", status_word(c.status)},
             {"message", c.message},
             {"hint", c.hint.empty() ? nlohmann::json() : nlohmann::json(c.hint)}});
    }
    return j.dump(2) + "\n";
}

} // namespace azl::launcher
