#pragma once
// What each `azurelinux` lifecycle command does, in terms of Backend calls only: the same code runs
// on Windows (WslBackend) and Linux (SandboxBackend), and unit tests drive it with a recording
// fake. The executables' app/cmd_*.cpp files only fill these option structs and print the outcomes.

#include <azl/common/progress.hpp>
#include <azl/launcher/backend.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace azl::launcher
{

// The person (or script) running a command: terminal questions and status lines.
class Console
{
public:
    Console() = default;
    Console(const Console&) = delete;
    Console& operator=(const Console&) = delete;
    Console(Console&&) = delete;
    Console& operator=(Console&&) = delete;
    virtual ~Console() = default;

    // Whether stdin and stdout are terminals (questions can be asked, a shell can be opened).
    virtual bool interactive() = 0;
    // Asks a yes/no question on the terminal; only called when interactive(). True for yes.
    virtual bool confirm(std::string_view question) = 0;
    // Tells what is happening ("Installing AzureLinux from …"): a line on stderr unless quiet.
    virtual void status(std::string_view line) = 0;
};

// What every command gets besides its options.
struct CommandEnv
{
    Console& console;
    std::filesystem::path exe_dir; // where the image shipped with the launcher is looked for
    ProgressMode progress = ProgressMode::off;
};

// Throws UserError unless `name` is a valid distribution name: WSL's rule (valid_wsl_name in
// azl/common/wsl_facts.hpp), and neither "." nor "..", which cannot name the distribution's folder.
void validate_name(std::string_view name);

// ----- install / first run / the no-argument launch -----

// `azurelinux install` options.
struct InstallOptions
{
    std::string name{kDefaultName};
    std::optional<std::filesystem::path> from; // nullopt: the image shipped beside the launcher
    std::optional<std::filesystem::path> location;
    std::optional<std::filesystem::path> answers; // first-run setup runs unattended with it
    std::optional<std::string> sha256;            // else read from FROM.sha256 when it exists
    bool root = false;                            // skip first-run setup; default user root
    bool no_launch = false;                       // register only; setup runs at the first launch
};

// How first-run setup ended for an install.
enum class SetupOutcome
{
    done,         // the OOBE command succeeded; the default user is its defaultUid
    not_needed,   // the image has no [oobe] command
    skipped_root, // --root: default user root
    deferred,     // --no-launch: runs at the first launch
};

// What install did.
struct InstallOutcome
{
    std::string name;
    std::filesystem::path image;
    std::optional<std::string> sha256; // the verified digest, when one was given or found
    SetupOutcome setup = SetupOutcome::deferred;
    std::uint32_t default_uid = 0;
};

// The image `install` uses without --from: the one .wsl file beside the launcher
// (AzureLinux.wsl preferred). Throws UserError saying to pass --from when there is none.
std::filesystem::path find_shipped_image(const std::filesystem::path& exe_dir);

// The expected SHA-256 for `image`: `given` (validated) or the first word of IMAGE.sha256 when
// that file exists; nullopt otherwise. Throws UserError for a malformed digest.
std::optional<std::string>
expected_sha256(const std::filesystem::path& image, const std::optional<std::string>& given);

// Registers the image and runs first-run setup (unless --root / --no-launch). All or nothing for
// the registration; a failed setup leaves the distribution installed with setup pending and throws.
InstallOutcome install(Backend& backend, const InstallOptions& options, const CommandEnv& env);

// Runs the guest's `[oobe] command` as root like WSL does (with `--answers GUEST_PATH` when
// `answers` is given); on exit 0 sets the default uid to `[oobe] defaultUid` and clears the pending
// flag. Throws UserError when it fails (it then runs again next time). Returns the outcome.
SetupOutcome run_first_run(
    Backend& backend,
    const std::string& name,
    const std::optional<std::filesystem::path>& answers,
    const CommandEnv& env);

// `azurelinux setup`: runs first-run setup of an installed distribution whose setup has not
// finished (an interrupted `install --answers`, an `install --no-launch`), with `answers` when
// given. Returns not_needed, doing nothing, when its setup already finished; throws UserError when
// `name` is not installed or the setup fails (it stays pending).
SetupOutcome finish_setup(
    Backend& backend,
    const std::string& name,
    const std::optional<std::filesystem::path>& answers,
    const CommandEnv& env);

// Where the guest's first-run setup stands (`azurelinux-oobe status --json`).
struct GuestSetupStatus
{
    std::string state;  // "not started", "running", "done", "failed"
    std::string step;   // the step running or failed
    std::string reason; // why it failed
};

// Asks the guest's first-run program for its status, waiting for a running setup to end when
// `wait`; nullopt when the image has no first-run program or one without `status`.
std::optional<GuestSetupStatus>
guest_setup_status(Backend& backend, const std::string& name, bool wait);

// `azurelinux setup --wait`: waits for a first-run setup running in the guest (started by the
// first launch) to end; throws UserError naming the failed step. Runs it (as finish_setup) when
// it has not started and is still pending.
SetupOutcome wait_for_setup(
    Backend& backend,
    const std::string& name,
    const std::optional<std::filesystem::path>& answers,
    const CommandEnv& env);

// `azurelinux seal`: clears the guest's per-machine identity and first-run state (the guest's
// `azurelinux-oobe seal`), stops it, and marks first-run setup pending, so that each restored copy
// of a backup gets a new identity and runs the organisation's first-run layers. With `dry_run`
// only prints what it would clear.
void seal(Backend& backend, const std::string& name, bool dry_run, const CommandEnv& env);

// `azurelinux` without a command: installs when needed (from `from` or the shipped image), finishes
// first-run setup when pending, then opens a login shell as the default user. Returns its exit
// code.
int open_default(
    Backend& backend,
    const std::string& name,
    const std::optional<std::filesystem::path>& from,
    const CommandEnv& env);

// ----- run -----

// `azurelinux run` options: exactly one of `command` and `command_line`.
struct RunOptions
{
    std::string name{kDefaultName};
    std::vector<std::string> command;        // `-- CMD ARGS…`, run without a shell
    std::optional<std::string> command_line; // `-c "…"`, run by /bin/sh -c
    std::optional<std::string> user;
    std::optional<std::string> cwd;
};

// The argv `run` starts: `command`, or {"/bin/sh", "-c", command_line}. UserError for neither/both.
std::vector<std::string> run_argv(const RunOptions& options);

// Runs the command on our terminal; returns its exit code (ours too).
int run(Backend& backend, const RunOptions& options);

// ----- config / get -----

// `azurelinux config` options; each set field is one change.
struct ConfigOptions
{
    std::string name{kDefaultName};
    std::optional<std::string> default_user;
    std::optional<std::uint32_t> default_uid;
    std::optional<bool> interop;
    std::optional<bool> append_path;
    std::optional<bool> mount_drives;
    std::optional<bool> systemd;
    std::optional<std::string> hostname;
};

// What config changed, for the user.
struct ConfigOutcome
{
    std::vector<std::string> changes; // "default user: alice (uid 1000)"
    std::vector<std::string> notes;   // e.g. "restart needed: azurelinux terminate --name N"
};

// Applies the changes the way WSL does: default uid and the three flags through configure(), the
// rest in the guest's /etc/wsl.conf. UserError when nothing is asked, a user does not exist or a
// value is invalid; nothing is changed then.
ConfigOutcome config(Backend& backend, const ConfigOptions& options);

// Everything `get` and `list` can say about one distribution.
struct DistroDetails
{
    DistroInfo info;
    DistroConfiguration configuration;
    std::string default_user; // resolved name (uid as text when the guest has no such user)
};

// Collects the details of `name` (UserError when it is not installed).
DistroDetails get_details(Backend& backend, const std::string& name);

// Which fields `azurelinux get` prints.
struct GetFields
{
    bool default_user = false;
    bool default_uid = false;
    bool flags = false;
    bool version = false;
    bool location = false;
    bool all = false; // or none of the above
};

// The text `get` prints: one value per line for a single field, "key: value" lines otherwise.
std::string format_get(const DistroDetails& details, const GetFields& fields);

// The JSON `get --json` prints (an object with the asked fields).
std::string format_get_json(const DistroDetails& details, const GetFields& fields);

// ----- backup / restore / uninstall / list / terminate -----

// `azurelinux backup` options.
struct BackupOptions
{
    std::string name{kDefaultName};
    std::filesystem::path output;
    std::optional<ArchiveFormat> format; // nullopt: from the file name, else tar.gz
    bool force = false;                  // replace an existing file
};

// Exports the distribution. UserError when the output exists (without force) or the format and
// the file name disagree. Returns the format used.
ArchiveFormat backup(Backend& backend, const BackupOptions& options, const CommandEnv& env);

// `azurelinux restore` options.
struct RestoreOptions
{
    std::string name{kDefaultName};
    std::filesystem::path from;
    std::optional<std::filesystem::path> location;
    std::optional<std::string> sha256;
};

// Installs a backup as it was (no first-run setup). UserError when the name is taken.
void restore(Backend& backend, const RestoreOptions& options, const CommandEnv& env);

// `azurelinux uninstall` options.
struct UninstallOptions
{
    std::string name{kDefaultName};
    bool yes = false;
};

// Removes the distribution after confirmation: asks on a terminal, refuses without --yes otherwise.
// Returns false when the user said no (nothing removed).
bool uninstall(Backend& backend, const UninstallOptions& options, const CommandEnv& env);

// The table `list` prints (a hint to install when empty).
std::string format_list(const std::vector<DistroInfo>& distros);

// The JSON array `list --json` prints.
std::string format_list_json(const std::vector<DistroInfo>& distros);

// ----- doctor -----

// The verdict of one check.
enum class CheckStatus
{
    ok,
    warn,
    fail,
};

// One line of `doctor`.
struct DoctorCheck
{
    std::string id; // stable key: "engine", "registered", "setup", "default-user", …
    CheckStatus status = CheckStatus::ok;
    std::string message; // what was found
    std::string hint;    // how to fix it (empty when ok)
};

// Runs every check on `name`; checks that depend on a failed one are reported as skipped (warn).
std::vector<DoctorCheck> doctor(Backend& backend, const std::string& name);

// The lines `doctor` prints ("ok   …", "warn …  hint: …").
std::string format_doctor(const std::vector<DoctorCheck>& checks);

// The JSON `doctor --json` prints.
std::string format_doctor_json(const std::vector<DoctorCheck>& checks);

} // namespace azl::launcher
