// install, first-run setup, the no-argument launch and restore.
#include "backup_config.hpp"
#include "guest.hpp"

#include <azl/common/error.hpp>
#include <azl/common/fs.hpp>
#include <azl/common/scope_guard.hpp>
#include <azl/common/text.hpp>
#include <azl/common/wsl_facts.hpp>
#include <azl/launcher/commands.hpp>
#include <azl/launcher/host_layers.hpp>
#include <azl/launcher/host_sync.hpp>
#include <azl/launcher/shell_quote.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <system_error>

namespace azl::launcher
{

namespace
{

bool is_hex_digest(std::string_view text)
{
    return text.size() == 64
           && std::all_of(
               text.begin(),
               text.end(),
               [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// Throws UserError unless `file` is an existing regular file we can open.
void require_readable_file(const std::filesystem::path& file, std::string_view what)
{
    std::error_code ec;
    const auto status = std::filesystem::status(file, ec);
    if (ec || !std::filesystem::exists(status))
    {
        throw UserError(fmt::format("{} {} does not exist", what, path_to_utf8(file)));
    }
    if (!std::filesystem::is_regular_file(status))
    {
        throw UserError(fmt::format("{} {} is not a regular file", what, path_to_utf8(file)));
    }
    if (!std::ifstream(file, std::ios::binary))
    {
        throw UserError(fmt::format("cannot read {} {}", what, path_to_utf8(file)));
    }
}

void require_not_registered(Backend& backend, const std::string& name)
{
    if (backend.is_registered(name))
    {
        if (backend.get_configuration(name).setup_pending)
        {
            throw UserError(
                fmt::format(
                    "a distribution named {} is already installed; its first-run setup did not "
                    "finish",
                    name),
                fmt::format(
                    "finish it with: azurelinux setup --name {} [--answers FILE]; or remove it: "
                    "azurelinux uninstall --name {}",
                    name,
                    name));
        }
        throw UserError(
            fmt::format("a distribution named {} is already installed", name),
            fmt::format(
                "choose another --name, or remove it first: azurelinux uninstall --name {}", name));
    }
}

// Before first-run setup, so that the packages it installs come through the company's proxy and
// TLS inspection; a failure does not stop setup (`azurelinux sync` retries).
void carry_host_settings(Backend& backend, const std::string& name, const CommandEnv& env)
{
    try
    {
        const auto outcome = sync_host(backend, name, SyncWhen::first_run);
        if (outcome.ran)
        {
            env.console.status(
                fmt::format("Carried the host's certificates and proxy into {}:", name));
        }
        for (const auto& line : outcome.lines)
        {
            env.console.status("  " + line);
        }
    }
    catch (const UserError& e)
    {
        env.console.status(fmt::format("warning: {}", e.what()));
    }
}

// Whether the guest's first-run program reads the Windows side's layers from the launcher
// (`--host-layers`, in its --help since it has them); images made before take --answers only.
bool takes_host_layers(Backend& backend, const std::string& name, const std::string& command)
{
    LaunchSpec spec;
    spec.user = "root";
    spec.argv = {"/bin/sh", "-c", command + " --help"};
    const LaunchResult r = backend.launch(name, spec);
    return r.exit_code == 0 && r.out.find("--host-layers") != std::string::npos;
}

} // namespace

void validate_name(std::string_view name)
{
    // WSL's rule, and not a name that means a folder of its own: the launcher keeps a folder per
    // distribution named after it.
    if (!valid_wsl_name(name) || name == "." || name == "..")
    {
        throw UserError(
            fmt::format("invalid distribution name '{}'", name),
            "use 1 to 256 letters, digits, '.', '_' or '-' (not . or .. alone, not Legacy)");
    }
}

std::filesystem::path find_shipped_image(const std::filesystem::path& exe_dir)
{
    std::filesystem::path preferred = exe_dir / "AzureLinux.wsl";
    std::error_code ec;
    if (std::filesystem::is_regular_file(preferred, ec))
    {
        return preferred;
    }
    std::vector<std::filesystem::path> found;
    for (const auto& entry : std::filesystem::directory_iterator(exe_dir, ec))
    {
        if (has_wsl_extension(entry.path()) && entry.is_regular_file(ec))
        {
            found.push_back(entry.path());
        }
    }
    if (found.size() == 1)
    {
        return found.front();
    }
    if (found.empty())
    {
        throw UserError(
            fmt::format(
                "no image to install: no .wsl file beside the launcher in {}",
                path_to_utf8(exe_dir)),
            "pass the image with --from FILE");
    }
    std::sort(found.begin(), found.end());
    throw UserError(
        fmt::format(
            "{} .wsl files beside the launcher in {}; which one to install is unclear",
            found.size(),
            path_to_utf8(exe_dir)),
        fmt::format("pass one with --from, e.g. --from {}", path_to_utf8(found.front())));
}

std::optional<std::string>
expected_sha256(const std::filesystem::path& image, const std::optional<std::string>& given)
{
    if (given)
    {
        std::string digest = ascii_lower(*given);
        if (digest.starts_with("sha256:"))
        {
            digest.erase(0, 7);
        }
        if (!is_hex_digest(digest))
        {
            throw UserError(
                fmt::format("--sha256 '{}' is not a SHA-256 digest", *given),
                "give the 64 hexadecimal digits `sha256sum FILE` prints");
        }
        return digest;
    }
    std::filesystem::path sum_file = image;
    sum_file += ".sha256";
    std::error_code ec;
    if (!std::filesystem::is_regular_file(sum_file, ec))
    {
        return std::nullopt;
    }
    std::ifstream in(sum_file);
    std::string word;
    if (!(in >> word) || !is_hex_digest(ascii_lower(word)))
    {
        throw UserError(
            fmt::format("{} does not start with a SHA-256 digest", path_to_utf8(sum_file)),
            "regenerate it with `sha256sum IMAGE > IMAGE.sha256`, or pass --sha256");
    }
    return ascii_lower(word);
}

FirstRunAnswers first_run_answers(
    Backend& backend,
    const std::string& name,
    const std::string& command,
    const std::optional<std::filesystem::path>& answers,
    std::optional<TempDir>& holder,
    const CommandEnv& env)
{
    if (takes_host_layers(backend, name, command))
    {
        // The Windows side's layers, the user's answers among them, in one private file.
        const HostLayers layers = read_host_layers(name, answers);
        for (const std::string& note : layers.notes)
        {
            env.console.status(note);
        }
        // In the launcher's own folder, not $TMPDIR: a launcher killed here (kill -9) leaves its
        // folder behind, and the next first run of this distribution removes it.
        const std::filesystem::path dir = host_sync_state_dir().parent_path() / "first-run";
        std::filesystem::create_directories(dir);
        const std::string prefix = "layers." + name; // TempDir adds "-XXXXXX"
        std::error_code ec;
        for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end;
             it.increment(ec))
        {
            const std::string entry = path_to_utf8(it->path().filename());
            if (entry.size() == prefix.size() + 7 && entry.starts_with(prefix + "-"))
            {
                std::filesystem::remove_all(it->path(), ec);
            }
        }
        holder.emplace(prefix, dir);
        const auto file = holder->path() / "host-layers.json";
        write_file_atomic(file, host_layers_json(layers), 0600);
        return {" --host-layers " + shell_quote(backend.answers_guest_path(name, file)), file};
    }
    if (answers)
    {
        return {" --answers " + shell_quote(backend.answers_guest_path(name, *answers)), *answers};
    }
    return {};
}

SetupOutcome run_first_run(
    Backend& backend,
    const std::string& name,
    const std::optional<std::filesystem::path>& answers,
    const CommandEnv& env)
{
    const guest::OobeConfig oobe = guest::read_oobe_config(backend, name);
    if (!oobe.command)
    {
        if (answers)
        {
            env.console.status(fmt::format(
                "{} has no first-run setup ([oobe] command); {} was not used",
                name,
                path_to_utf8(*answers)));
        }
        backend.set_setup_pending(name, false);
        return SetupOutcome::not_needed;
    }
    // WSL runs the command with /bin/sh -c; the answers path is one more quoted word.
    std::string line = *oobe.command;
    LaunchSpec spec;
    spec.user = "root";
    std::optional<TempDir> layers_dir;
    const FirstRunAnswers given =
        first_run_answers(backend, name, *oobe.command, answers, layers_dir, env);
    line += given.args;
    spec.answers_file = given.file;
    spec.argv = {"/bin/sh", "-c", line};
    carry_host_settings(backend, name, env);
    env.console.status(fmt::format("Running first-run setup of {}: {}", name, line));
    const int rc = backend.launch_interactive(name, spec);
    if (rc != 0)
    {
        throw UserError(
            fmt::format("first-run setup \"{}\" of {} failed (exit {})", *oobe.command, name, rc),
            fmt::format(
                "it runs again at the next launch; its log: azurelinux run --name {} "
                "--user root -- cat /var/log/azurelinux-oobe.log",
                name));
    }
    // The uid first: if we are interrupted in between, setup simply runs again.
    if (oobe.default_uid)
    {
        const DistroConfiguration current = backend.get_configuration(name);
        backend.configure(name, *oobe.default_uid, current.flags);
    }
    backend.set_setup_pending(name, false);
    return SetupOutcome::done;
}

InstallOutcome install(Backend& backend, const InstallOptions& options, const CommandEnv& env)
{
    validate_name(options.name);
    if (options.answers && (options.root || options.no_launch))
    {
        throw UserError(
            fmt::format(
                "--answers runs first-run setup, which {} skips",
                options.root ? "--root" : "--no-launch"),
            "drop one of the two options",
            ExitCode::usage);
    }
    InstallOutcome outcome;
    outcome.name = options.name;
    outcome.image = options.from ? *options.from : find_shipped_image(env.exe_dir);
    require_readable_file(outcome.image, "image");
    if (options.answers)
    {
        require_readable_file(*options.answers, "answers file");
    }
    require_not_registered(backend, options.name);
    outcome.sha256 = expected_sha256(outcome.image, options.sha256);

    env.console.status(
        fmt::format("Installing {} from {}", options.name, path_to_utf8(outcome.image)));
    backend.install(
        {.name = options.name,
         .image = outcome.image,
         .location = options.location,
         .sha256 = outcome.sha256,
         .kind = options.root ? InstallKind::image_root : InstallKind::image,
         .progress = env.progress});
    if (options.root)
    {
        outcome.setup = SetupOutcome::skipped_root;
    }
    else if (options.no_launch)
    {
        outcome.setup = SetupOutcome::deferred;
    }
    else
    {
        outcome.setup = run_first_run(backend, options.name, options.answers, env);
    }
    outcome.default_uid = backend.get_configuration(options.name).default_uid;
    return outcome;
}

SetupOutcome finish_setup(
    Backend& backend,
    const std::string& name,
    const std::optional<std::filesystem::path>& answers,
    const CommandEnv& env)
{
    validate_name(name);
    if (answers)
    {
        require_readable_file(*answers, "answers file");
    }
    if (!backend.is_registered(name))
    {
        throw UserError(
            fmt::format("there is no distribution named {}", name),
            "`azurelinux list` shows the installed ones");
    }
    if (!backend.get_configuration(name).setup_pending)
    {
        env.console.status(fmt::format("First-run setup of {} has finished already", name));
        return SetupOutcome::not_needed;
    }
    return run_first_run(backend, name, answers, env);
}

std::optional<GuestSetupStatus>
guest_setup_status(Backend& backend, const std::string& name, bool wait)
{
    const guest::OobeConfig oobe = guest::read_oobe_config(backend, name);
    if (!oobe.command)
    {
        return std::nullopt;
    }
    LaunchSpec spec;
    spec.user = "root";
    spec.argv = {
        "/bin/sh", "-c", *oobe.command + (wait ? " status --wait --json" : " status --json")};
    const LaunchResult r = backend.launch(name, spec);
    try
    {
        const auto j = nlohmann::json::parse(r.out.substr(0, r.out.find('\n')));
        return GuestSetupStatus{
            .state = j.at("state").get<std::string>(),
            .step = j.value("step", ""),
            .reason = j.value("reason", "")};
    }
    catch (const nlohmann::json::exception&)
    {
        return std::nullopt; // an older azurelinux-oobe, without `status`
    }
}

SetupOutcome wait_for_setup(
    Backend& backend,
    const std::string& name,
    const std::optional<std::filesystem::path>& answers,
    const CommandEnv& env)
{
    guest::require_registered(backend, name);
    env.console.status(fmt::format("Waiting for first-run setup of {}", name));
    const auto status = guest_setup_status(backend, name, true);
    if (status && status->state == "failed")
    {
        throw UserError(
            fmt::format(
                "first-run setup of {} failed at step {} ({})",
                name,
                status->step.empty() ? "unknown" : status->step,
                status->reason),
            fmt::format(
                "retry: azurelinux setup --name {}; its log: azurelinux run --name {} --user root "
                "-- cat /var/log/azurelinux-oobe.log",
                name,
                name));
    }
    if (status && status->state == "done" && !backend.get_configuration(name).setup_pending)
    {
        return SetupOutcome::not_needed;
    }
    return finish_setup(backend, name, answers, env);
}

void seal(Backend& backend, const std::string& name, bool dry_run, const CommandEnv& env)
{
    guest::require_registered(backend, name);
    const guest::OobeConfig oobe = guest::read_oobe_config(backend, name);
    if (!oobe.command)
    {
        throw UserError(
            fmt::format(
                "{} has no first-run setup ([oobe] command): nothing would run again", name),
            "seal a distribution installed from an image made by `azurelinux image build --oobe`");
    }
    LaunchSpec spec;
    spec.user = "root";
    spec.argv = {"/bin/sh", "-c", *oobe.command + (dry_run ? " seal --dry-run" : " seal")};
    const int rc = backend.launch_interactive(name, spec);
    if (rc != 0)
    {
        throw UserError(
            fmt::format("sealing {} failed (exit {})", name, rc),
            "see the message above; nothing was marked for first-run setup");
    }
    if (dry_run)
    {
        return;
    }
    // Nothing of this instance may write a new identity or history after the seal.
    backend.terminate(name);
    backend.set_setup_pending(name, true);
    env.console.status(fmt::format(
        "{} is sealed: back it up (azurelinux backup) and restore the copies; each runs first-run "
        "setup at its first start",
        name));
}

int open_default(
    Backend& backend,
    const std::string& name,
    const std::optional<std::filesystem::path>& from,
    const CommandEnv& env)
{
    validate_name(name);
    if (!backend.is_registered(name))
    {
        InstallOptions options;
        options.name = name;
        options.from = from;
        install(backend, options, env);
    }
    else if (backend.get_configuration(name).setup_pending)
    {
        run_first_run(backend, name, std::nullopt, env);
    }
    else
    {
        sync_host_at_launch(backend, name);
    }
    return backend.launch_interactive(name, LaunchSpec{});
}

void restore(Backend& backend, const RestoreOptions& options, const CommandEnv& env)
{
    validate_name(options.name);
    require_readable_file(options.from, "backup");
    require_not_registered(backend, options.name);
    const auto sha256 = expected_sha256(options.from, options.sha256);
    const std::optional<BackupConfig> config = read_backup_config(options.from);
    env.console.status(
        fmt::format("Restoring {} from {}", options.name, path_to_utf8(options.from)));
    backend.install(
        {.name = options.name,
         .image = options.from,
         .location = options.location,
         .sha256 = sha256,
         .kind = InstallKind::backup,
         .progress = env.progress});
    if (!config)
    {
        env.console.status(fmt::format(
            "{} has no settings file {}: the default user is root (azurelinux config "
            "--default-user NAME changes it)",
            path_to_utf8(options.from),
            path_to_utf8(backup_config_path(options.from))));
        return;
    }
    // All or nothing: a restore that cannot get its settings back does not stay registered.
    ScopeGuard unregister([&] { backend.unregister(options.name); });
    backend.configure(options.name, config->default_uid, config->flags);
    if (config->setup_pending)
    {
        // A sealed backup: this copy makes its own identity and runs first-run setup at its
        // first start.
        backend.set_setup_pending(options.name, true);
    }
    unregister.dismiss();
}

} // namespace azl::launcher
