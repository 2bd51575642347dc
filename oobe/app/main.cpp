// azurelinux-oobe: first-run setup, run by WSL as root inside the new distribution.
#include <azl/common/error.hpp>
#include <azl/common/log.hpp>
#include <azl/common/program.hpp>
#include <azl/oobe/cloud_init.hpp>
#include <azl/oobe/host_sync.hpp>
#include <azl/oobe/runner.hpp>
#include <azl/oobe/seal.hpp>
#include <azl/oobe/status.hpp>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <clocale>
#include <iostream>
#include <iterator>

namespace
{

// The log holds no secrets but names users and hosts: root only, created so before spdlog opens it.
void start_log_file(const std::filesystem::path& path, azl::Verbosity verbosity)
{
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0 || ::fchmod(fd, 0600) != 0)
    {
        azl::throw_errno(fmt::format("opening the log {}", path.string()));
    }
    ::close(fd);
    azl::setup_logging({.verbosity = verbosity, .log_file = path});
}

// `status`: one line (or JSON) and the exit code automation tests.
int print_status(bool wait, bool json)
{
    using namespace azl::oobe;
    const StatusReport r = read_status(
        wait ? WaitForSetup::yes : WaitForSetup::no,
        std::filesystem::path(kStatusFile).parent_path());
    if (json)
    {
        const nlohmann::json doc{
            {"state", state_name(r.state)},
            {"step", r.step},
            {"reason", r.reason},
            {"log", "/var/log/azurelinux-oobe.log"}};
        fmt::print("{}\n", doc.dump());
    }
    else if (r.state == SetupState::failed)
    {
        fmt::print(
            "status: failed at step {} ({}); retry with: sudo /usr/lib/wsl/azurelinux-oobe; log: "
            "/var/log/azurelinux-oobe.log\n",
            r.step.empty() ? "unknown" : r.step,
            r.reason);
    }
    else if (r.state == SetupState::running)
    {
        fmt::print("status: running (step {})\n", r.step.empty() ? "starting" : r.step);
    }
    else
    {
        fmt::print("status: {}\n", state_name(r.state));
    }
    return status_exit_code(r);
}

// Everything but the top-level catch (azl::run_program): option parsing, logging set-up and the
// run, whose exceptions (CLI11's construction errors and spdlog's included) all reach it.
int run(int argc, char** argv)
{
    using azl::oobe::Action;
    azl::oobe::RunOptions options;
    int verbose = 0;
    bool quiet = false;
    bool check = false;
    bool reset = false;
    bool dry_run = false;
    std::string answers;
    CLI::App app{
        "azurelinux-oobe — first-run setup of Azure Linux on WSL: the first user, sudo, host "
        "name, locale, time zone, proxy, CA certificates, repositories, packages, systemd, the "
        "Azure bridge and enterprise commands. Interactive on a terminal; unattended with an "
        "answers file.\nExit codes: 0 done, 1 input problem or interrupted, 2 bad answers file "
        "(nothing changed), 3 a step failed (see /var/log/azurelinux-oobe.log).",
        "azurelinux-oobe"};
    app.add_option("--answers", answers, "Answers file (JSON, oobe/schema/answers.schema.json)")
        ->option_text("FILE");
    std::string host_layers;
    app.add_option(
           "--host-layers",
           host_layers,
           "The Windows side's layers as the launcher read them (machine policy, the user's and "
           "cloud-init files): used instead of reading them through interop")
        ->option_text("FILE");
    auto* check_flag =
        app.add_flag("--check", check, "Validate the answers against this image; change nothing");
    app.add_flag(
        "--dry-run",
        dry_run,
        "Print every effective answer with the layer it came from, and what would be done; "
        "change nothing");
    bool json = false;
    app.add_flag("--json", json, "With --dry-run: print one JSON document");
    app.add_flag("--reset", reset, "Forget the state and log (for image builders)")
        ->excludes(check_flag);
    app.require_subcommand(0, 1);
    bool wait = false;
    CLI::App* status = app.add_subcommand(
        "status",
        "Where first-run setup stands: not started, running, done, or failed (with the step). "
        "Exit 0 done, 3 failed, 4 not started or running. Needs no root.");
    status->add_flag("--wait", wait, "Wait until a running setup ends");
    status->add_flag("--json", json, "One JSON object: state, step, reason");
    CLI::App* seal = app.add_subcommand(
        "seal",
        "Prepare this distribution for cloning (a golden image): clear the machine id, SSH host "
        "keys, the bridge's secrets, first-run state, logs and shell history; each copy gets a new "
        "identity at its first setup.");
    seal->add_flag("--dry-run", dry_run, "Only say what would be cleared");
    std::string user_data;
    CLI::App* cloud_init = app.add_subcommand(
        "cloud-init",
        "Show what cloud-init user-data FILE (#cloud-config, as for Ubuntu on WSL) gives here: "
        "each answer (secrets as (set)) and each key that is not used; change nothing. Exit 2 "
        "when it does not parse or its values are not valid.");
    cloud_init->add_option("FILE", user_data, "The user-data file")->required();
    cloud_init->add_flag("--json", json, "One JSON object: origin, values, ignored");
    bool sync_host = false;
    bool check_network = false;
    app.add_flag(
        "--sync-host",
        sync_host,
        "Make the host's trusted certificates and proxy (a JSON request on stdin, from the "
        "launcher) the guest's; print a JSON report");
    app.add_flag(
        "--check-network",
        check_network,
        "Check TLS to the package repositories and Azure endpoints through the proxy (the "
        "launcher's request on stdin); print JSON checks");
    bool repository_urls = false;
    app.add_flag(
        "--repository-urls",
        repository_urls,
        "Print the package repositories' http(s) URLs as a JSON array (the launcher asks a PAC "
        "file about them)");
    app.add_flag("-v,--verbose", verbose, "More output on stderr (-vv for debug)");
    app.add_flag("-q,--quiet", quiet, "Only errors on stderr");
    try
    {
        app.parse(argc, argv);
    }
    catch (const CLI::ParseError& e)
    {
        return app.exit(e) == 0 ? 0 : static_cast<int>(azl::oobe::OobeExit::user_input);
    }
    const azl::Verbosity verbosity = azl::verbosity_from_flags(verbose, quiet);
    azl::setup_logging({.verbosity = verbosity, .log_file = {}});
    if (status->parsed())
    {
        return print_status(wait, json);
    }
    if (seal->parsed())
    {
        if (::geteuid() != 0)
        {
            throw azl::UserError("azurelinux-oobe seal must run as root", "run it with sudo");
        }
        azl::oobe::seal_system(dry_run ? azl::oobe::DryRun::yes : azl::oobe::DryRun::no);
        return 0;
    }
    if (cloud_init->parsed())
    {
        fmt::print("{}", azl::oobe::preview_cloud_init(user_data, json));
        return 0;
    }
    if (repository_urls)
    {
        fmt::print("{}", azl::oobe::repository_urls_command());
        return 0;
    }
    if (sync_host || check_network)
    {
        const std::string request{std::istreambuf_iterator<char>(std::cin), {}};
        fmt::print(
            "{}",
            sync_host ? azl::oobe::sync_host_command(request)
                      : azl::oobe::check_network_command(request));
        return 0;
    }
    if (!answers.empty())
    {
        options.answers_file = answers;
    }
    if (!host_layers.empty())
    {
        options.host_layers_file = host_layers;
    }
    options.action = reset ? Action::reset : check ? Action::check : Action::setup;
    options.dry_run = dry_run ? azl::oobe::DryRun::yes : azl::oobe::DryRun::no;
    options.output = json ? azl::oobe::Output::json : azl::oobe::Output::text;
    options.start_log_file = [verbosity](const std::filesystem::path& p)
    { start_log_file(p, verbosity); };
    return static_cast<int>(azl::oobe::run_oobe(options));
}

} // namespace

int main(int argc, char** argv)
{
    // If this fails, "C" stays: names pass through as bytes.
    (void)std::setlocale(LC_CTYPE, "C.UTF-8");
    // A failure that is not the person's (an OS or library error, or a bug) is a step that did not
    // finish: exit 3, and the next run continues (oobe/README.md, "Exit codes").
    constexpr auto kStepFailed = static_cast<int>(azl::oobe::OobeExit::step_failed);
    return azl::run_program(
        "azurelinux-oobe",
        [&] { return run(argc, argv); },
        {.system_error = kStepFailed, .unexpected = kStepFailed});
}
