#pragma once
// A recording Backend for the command tests. It models what the commands rely on: registered
// distributions with their configuration, and a guest with files and users that answers the
// launches the commands make (reading and writing files as guest.cpp does, `id -u`, `getent
// passwd`, the OOBE command, `azurelinux-bridge status --json`) the way a real guest would —
// missing file: exit 3; unknown user: exit 1; missing program: exit 127. Every call is recorded
// as one line of text so tests can assert the exact sequence.

#include <azl/common/error.hpp>
#include <azl/launcher/backend.hpp>
#include <azl/launcher/commands.hpp>

#include <fmt/format.h>

#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <test_support.hpp>
#include <vector>

namespace azl::test
{

// One distribution inside the fake.
struct FakeDistro
{
    launcher::DistroConfiguration config;
    std::filesystem::path location;
    std::map<std::string, std::string> files;   // guest path -> content
    std::map<std::string, std::uint32_t> users; // name -> uid
    int oobe_exit = 0;                          // what the OOBE command returns
    std::optional<std::string> oobe_status;     // `azurelinux-oobe status --json`; none: too old
    bool sealed = false;                        // `azurelinux-oobe seal` ran
    std::optional<std::string> bridge_status;   // stdout of `bridge status --json`; none: absent
    std::string network_checks = "[]";          // stdout of `azurelinux-oobe --check-network`
    std::vector<std::string> sync_requests;     // stdin of each `azurelinux-oobe --sync-host`
    std::string repository_urls = "[]";         // stdout of `azurelinux-oobe --repository-urls`
    std::string wsl_pac_url; // WSL_PAC_URL in the guest: --sync-host reports it unless sent one
    bool running = false;
    std::string applied_answers;         // the answers file the last successful OOBE run was given
    bool oobe_takes_host_layers = false; // its --help lists --host-layers
};

class FakeBackend final : public launcher::Backend
{
public:
    std::map<std::string, FakeDistro> distros;
    std::vector<std::string> calls;
    launcher::EngineInfo engine_info{
        .name = "fake", .version = "1.0", .usable = true, .problem = {}};
    // What install() writes into a new distribution's guest (e.g. /etc/wsl-distribution.conf).
    std::map<std::string, std::string> image_files;
    std::optional<std::string> install_failure; // install() throws UserError with this
    int new_oobe_exit = 0;                   // the OOBE exit code of distributions installed next
    bool new_oobe_takes_host_layers = false; // and whether their OOBE takes --host-layers

    launcher::EngineInfo engine() override
    {
        calls.emplace_back("engine");
        return engine_info;
    }

    bool is_registered(const std::string& name) override
    {
        calls.push_back("is_registered " + name);
        return distros.contains(name);
    }

    std::vector<launcher::DistroInfo> list() override
    {
        calls.emplace_back("list");
        std::vector<launcher::DistroInfo> out;
        for (const auto& [name, d] : distros)
        {
            launcher::DistroInfo info;
            info.name = name;
            info.state =
                d.running ? launcher::DistroState::running : launcher::DistroState::stopped;
            info.location = d.location;
            info.default_uid = d.config.default_uid;
            for (const auto& [user, uid] : d.users)
            {
                if (uid == d.config.default_uid)
                {
                    info.default_user = user;
                }
            }
            info.setup_pending = d.config.setup_pending;
            out.push_back(info);
        }
        return out;
    }

    void install(const launcher::InstallSpec& spec) override
    {
        calls.push_back(fmt::format(
            "install {} from {} sha256={} kind={} location={}",
            spec.name,
            spec.image.string(),
            spec.sha256.value_or("-"),
            spec.kind == launcher::InstallKind::image        ? "image"
            : spec.kind == launcher::InstallKind::image_root ? "image-root"
                                                             : "backup",
            spec.location ? spec.location->string() : "-"));
        if (install_failure)
        {
            throw UserError(*install_failure);
        }
        if (distros.contains(spec.name))
        {
            throw UserError("name taken");
        }
        FakeDistro d;
        d.config.setup_pending = spec.kind == launcher::InstallKind::image;
        d.location = spec.location.value_or("/store/" + spec.name);
        d.files = image_files;
        d.users = {{"root", 0}};
        d.oobe_exit = new_oobe_exit;
        d.oobe_takes_host_layers = new_oobe_takes_host_layers;
        distros[spec.name] = d;
    }

    void unregister(const std::string& name) override
    {
        calls.push_back("unregister " + name);
        check_registered(name);
        distros.erase(name);
    }

    void terminate(const std::string& name) override
    {
        calls.push_back("terminate " + name);
        distro(name).running = false;
    }

    void configure(const std::string& name, std::uint32_t uid, launcher::DistroFlags flags) override
    {
        calls.push_back(fmt::format("configure {} uid={} flags={}", name, uid, flags.to_wsl()));
        auto& c = distro(name).config;
        c.default_uid = uid;
        c.flags = flags;
    }

    launcher::DistroConfiguration get_configuration(const std::string& name) override
    {
        calls.push_back("get_configuration " + name);
        return distro(name).config;
    }

    void set_setup_pending(const std::string& name, bool pending) override
    {
        calls.push_back(fmt::format("set_setup_pending {} {}", name, pending));
        distro(name).config.setup_pending = pending;
    }

    launcher::LaunchResult
    launch(const std::string& name, const launcher::LaunchSpec& spec) override
    {
        calls.push_back("launch " + name + " " + describe(spec));
        return answer(distro(name), spec);
    }

    int launch_interactive(const std::string& name, const launcher::LaunchSpec& spec) override
    {
        calls.push_back("launch_interactive " + name + " " + describe(spec));
        return answer(distro(name), spec).exit_code;
    }

    void export_to(const std::string& name, const launcher::ExportSpec& spec) override
    {
        calls.push_back(fmt::format(
            "export_to {} {} {}",
            name,
            spec.file.string(),
            launcher::archive_format_name(spec.format)));
        check_registered(name);
    }

    std::string
    answers_guest_path(const std::string& name, const std::filesystem::path& /*host_file*/) override
    {
        check_registered(name);
        return "/run/azurelinux/answers.json";
    }

    // The calls whose text starts with `prefix`.
    [[nodiscard]] std::vector<std::string> calls_starting(std::string_view prefix) const
    {
        std::vector<std::string> out;
        for (const std::string& c : calls)
        {
            if (c.starts_with(prefix))
            {
                out.push_back(c);
            }
        }
        return out;
    }

private:
    // Throws UserError, as the real backends do, when no distribution is called `name`.
    void check_registered(const std::string& name) const
    {
        if (!distros.contains(name))
        {
            throw UserError("there is no distribution named " + name);
        }
    }

    // The distribution called `name`; throws like check_registered().
    FakeDistro& distro(const std::string& name)
    {
        check_registered(name);
        return distros.at(name);
    }

    static std::string describe(const launcher::LaunchSpec& spec)
    {
        std::string out =
            fmt::format("user={} cwd={}", spec.user.value_or("-"), spec.cwd.value_or("-"));
        if (spec.answers_file)
        {
            out += " answers=" + spec.answers_file->string();
        }
        out += " argv=[";
        for (std::size_t i = 0; i < spec.argv.size(); ++i)
        {
            out += (i == 0 ? "" : "|") + spec.argv[i];
        }
        return out + "]";
    }

    static std::string read_host_file(const std::filesystem::path& file)
    {
        std::ifstream in(file, std::ios::binary);
        return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    }

    // The guest's side of a launch.
    static launcher::LaunchResult answer(FakeDistro& d, const launcher::LaunchSpec& spec)
    {
        const auto& a = spec.argv;
        if (a.size() == 5 && a[0] == "/bin/sh" && a[2].find("exec cat") != std::string::npos)
        {
            const auto it = d.files.find(a[4]);
            return it == d.files.end() ? launcher::LaunchResult{3, "", ""}
                                       : launcher::LaunchResult{0, it->second, ""};
        }
        if (a.size() == 5 && a[0] == "/bin/sh" && a[2].find("cat >") != std::string::npos)
        {
            d.files[a[4]] = spec.stdin_data.value_or("");
            return {0, "", ""};
        }
        if (a.size() == 4 && a[0] == "/usr/bin/id" && a[1] == "-u")
        {
            const auto it = d.users.find(a[3]);
            return it == d.users.end()
                       ? launcher::LaunchResult{1, "", "id: '" + a[3] + "': no such user\n"}
                       : launcher::LaunchResult{0, std::to_string(it->second) + "\n", ""};
        }
        if (a.size() == 3 && a[0] == "getent" && a[1] == "passwd")
        {
            for (const auto& [user, uid] : d.users)
            {
                if (std::to_string(uid) == a[2])
                {
                    return {
                        0,
                        fmt::format("{}:x:{}:{}::/home/{}:/bin/bash\n", user, uid, uid, user),
                        ""};
                }
            }
            return {2, "", ""};
        }
        if (a.size() == 5 && a[0] == "/bin/sh" && a[4] == "/usr/bin/azurelinux-bridge")
        {
            return d.bridge_status ? launcher::LaunchResult{0, *d.bridge_status, ""}
                                   : launcher::LaunchResult{127, "", ""};
        }
        if (a.size() == 5 && a[0] == "/bin/sh" && a[2].ends_with("--check-network"))
        {
            return {0, d.network_checks, ""};
        }
        if (a.size() == 5 && a[0] == "/bin/sh" && a[2].ends_with("--repository-urls"))
        {
            return {0, d.repository_urls, ""};
        }
        if (a.size() == 5 && a[0] == "/bin/sh" && a[2].ends_with("--sync-host"))
        {
            d.sync_requests.push_back(spec.stdin_data.value_or(""));
            const bool sent_pac = d.sync_requests.back().find(R"("pac)") != std::string::npos;
            const std::string wsl_pac = d.wsl_pac_url.empty() || sent_pac
                                            ? std::string()
                                            : R"(, "wsl_pac_url": ")" + d.wsl_pac_url + "\"";
            return {
                0,
                R"({"certificates": {"enabled": true, "changed": false, "trusted": [], "skipped": []},
                    "proxy": {"enabled": true, "changed": [])"
                    + wsl_pac + "}}",
                ""};
        }
        const bool oobe =
            a.size() == 3 && a[0] == "/bin/sh" && a[2].starts_with("/usr/lib/wsl/azurelinux-oobe");
        if (oobe && a[2].find(" status ") != std::string::npos)
        {
            // An older azurelinux-oobe: CLI11's usage error for the unknown argument.
            return d.oobe_status ? launcher::LaunchResult{0, *d.oobe_status + "\n", ""}
                                 : launcher::LaunchResult{
                                     109, "", "The following argument was not expected: status\n"};
        }
        if (oobe && a[2].ends_with(" --help"))
        {
            return {
                0,
                d.oobe_takes_host_layers
                    ? "Usage: azurelinux-oobe [OPTIONS]\n  --answers FILE\n  --host-layers FILE\n"
                    : "Usage: azurelinux-oobe [OPTIONS]\n  --answers FILE\n",
                ""};
        }
        if (oobe && a[2].ends_with(" seal"))
        {
            d.sealed = true;
            return {0, "", ""};
        }
        const std::string given = spec.answers_file ? read_host_file(*spec.answers_file) : "";
        if (oobe && a[2].find(" --dry-run --json") != std::string::npos)
        {
            // Its plan: the steps are done when these answers are the ones it last applied.
            const bool done = !d.config.setup_pending && given == d.applied_answers;
            return {
                0,
                fmt::format(
                    R"({{"layers": [], "values": [], "refused": [], "steps": [{{"step": "user", "done": true, "plan": "create"}}, {{"step": "timezone", "done": {}, "plan": "set"}}]}})",
                    done),
                ""};
        }
        if (oobe)
        {
            if (d.oobe_exit == 0)
            {
                d.users["alice"] = 1000;
                d.applied_answers = given;
            }
            return {d.oobe_exit, "", ""};
        }
        return {127, "", a.empty() ? "" : a[0] + ": not found\n"};
    }
};

// Registers a fresh "AzureLinux" in `backend` with the users root (0) and alice (1000) and
// `default_uid`; returns it for the caller to adjust (flags, location, files).
inline FakeDistro& add_distro(FakeBackend& backend, std::uint32_t default_uid = 0)
{
    FakeDistro& d = backend.distros["AzureLinux"];
    d = FakeDistro{};
    d.users = {{"root", 0}, {"alice", 1000}};
    d.config.default_uid = default_uid;
    return d;
}

// A console that answers questions from a script and records status lines.
class FakeConsole final : public launcher::Console
{
public:
    bool is_interactive = false;
    std::vector<bool> answers; // consumed in order by confirm()
    std::vector<std::string> questions;
    std::vector<std::string> lines;

    bool interactive() override
    {
        return is_interactive;
    }

    bool confirm(std::string_view question) override
    {
        questions.emplace_back(question);
        const bool yes = !answers.empty() && answers.front();
        if (!answers.empty())
        {
            answers.erase(answers.begin());
        }
        return yes;
    }

    void status(std::string_view line) override
    {
        lines.emplace_back(line);
    }
};

// The /etc/wsl-distribution.conf our images carry (contracts).
inline constexpr std::string_view kDistributionConf = R"([oobe]
command = /usr/lib/wsl/azurelinux-oobe
defaultUid = 1000
defaultName = AzureLinux
[shortcut]
enabled = true
)";

// What a command needs to run against the fake: a scratch folder as the launcher's own, the fake
// backend whose images carry kDistributionConf, a non-interactive console.
struct CommandFixture
{
    Sandbox dir;
    FakeBackend backend;
    FakeConsole console;
    launcher::CommandEnv env{
        .console = console, .exe_dir = dir.path(), .progress = ProgressMode::off};

    CommandFixture()
    {
        backend.image_files["/etc/wsl-distribution.conf"] = std::string(kDistributionConf);
    }
};

} // namespace azl::test
