#pragma once
// The Linux backend: distributions as directory trees run with bubblewrap.
//
// Store: $XDG_DATA_HOME/azurelinux (or BackendOptions::data_dir) holds distros/NAME/instance.json
// (the record: written last, atomically — a distribution exists iff its record does) and, unless
// --location moved it, distros/NAME/rootfs/. locks/NAME.lock serializes changes to one name.
// The host folder standing in for the Windows C: drive is $AZL_SANDBOX_DRIVE_C, else host/c.
//
// Instances: like WSL, a distribution "starts" at its first launch after host boot or terminate():
// a detached bwrap with its own pid/ipc/uts namespaces runs `azurelinux-sandbox-exec init`, which
// runs /etc/wsl.conf's [boot] command and keeps the instance alive. Running as root, every launch
// joins that pid namespace, so all sessions and boot daemons see each other as in one WSL
// instance; terminate() kills the instance's pid 1, which ends every process in it. Per-instance
// state lives in a runtime directory cleared at host boot ($XDG_RUNTIME_DIR/azurelinux, else
// /run/azurelinux for root, else /tmp/azurelinux-UID): the guest's /run and /tmp come from there.
//
// Users: as root, bwrap starts the helper as root and the helper drops to the guest user's
// uid/gid/groups read from the guest's /etc/passwd and /etc/group. As a non-root host user, each
// launch gets its own user namespace mapping the host user to the guest user (bwrap --uid/--gid);
// such launches do not join the instance's pid namespace.
//
// Flags: mount_drives mounts the drive folder at [automount] root + "c" (default /mnt/c); interop
// sets WSL_INTEROP (what guest tools test); append_path appends the drive's Windows and
// Windows/System32 folders to PATH, as WSL appends the Windows PATH.

#include <azl/launcher/backend.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace azl::launcher::sandbox
{

// The record of one distribution (instance.json).
struct Record
{
    std::string name;
    std::string id; // random; names the runtime directory, new for every install
    std::filesystem::path location;
    std::uint32_t default_uid = 0;
    DistroFlags flags;
    bool setup_pending = false;
    std::string source_file;
    std::string source_sha256;
    InstallKind kind = InstallKind::image; // instance.json: "image", "image-root" or "backup"
    std::string os_id;
    std::string os_version;
    std::string installed_at; // UTC, ISO 8601

    // The distribution's root directory.
    [[nodiscard]] std::filesystem::path rootfs() const
    {
        return location / "rootfs";
    }
};

// Where everything lives.
struct StorePaths
{
    std::filesystem::path data;    // …/azurelinux
    std::filesystem::path runtime; // cleared at boot
    std::filesystem::path drive_c;
    std::filesystem::path helper; // azurelinux-sandbox-exec beside the running executable

    [[nodiscard]] std::filesystem::path distro_dir(const std::string& name) const
    {
        return data / "distros" / name;
    }

    [[nodiscard]] std::filesystem::path record_file(const std::string& name) const
    {
        return distro_dir(name) / "instance.json";
    }

    [[nodiscard]] std::filesystem::path instance_runtime(const Record& r) const
    {
        return runtime / r.id;
    }
};

// The paths for `options` and the environment.
StorePaths store_paths(const BackendOptions& options);

// Loads the record of `name`; UserError when it is not installed.
Record load_record(const StorePaths& paths, const std::string& name);

// Writes a record atomically.
void save_record(const StorePaths& paths, const Record& record);

// Whether the instance of `record` is running (its pid 1 is alive).
bool instance_running(const StorePaths& paths, const Record& record);

// Kills the instance of `record` and removes its runtime state; a no-op when not running.
void stop_instance(const StorePaths& paths, const Record& record);

// Runs one launch: captured (launch) or on our terminal (launch_interactive).
enum class LaunchMode
{
    capture,
    interactive,
};

// The result of one launch (exit code; output when captured).
LaunchResult
run_launch(const StorePaths& paths, const Record& record, const LaunchSpec& spec, LaunchMode mode);

// The guest path of the answers file during a launch.
inline constexpr std::string_view kAnswersGuestPath = "/run/azurelinux/answers.json";

// The Backend over the functions above.
class SandboxBackend final : public Backend
{
public:
    explicit SandboxBackend(const BackendOptions& options);

    EngineInfo engine() override;
    bool is_registered(const std::string& name) override;
    std::vector<DistroInfo> list() override;
    void install(const InstallSpec& spec) override;
    void unregister(const std::string& name) override;
    void terminate(const std::string& name) override;
    void configure(const std::string& name, std::uint32_t default_uid, DistroFlags flags) override;
    DistroConfiguration get_configuration(const std::string& name) override;
    void set_setup_pending(const std::string& name, bool pending) override;
    LaunchResult launch(const std::string& name, const LaunchSpec& spec) override;
    int launch_interactive(const std::string& name, const LaunchSpec& spec) override;
    void export_to(const std::string& name, const ExportSpec& spec) override;
    std::string
    answers_guest_path(const std::string& name, const std::filesystem::path& host_file) override;

private:
    StorePaths m_paths;
};

} // namespace azl::launcher::sandbox
