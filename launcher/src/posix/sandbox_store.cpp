// The sandbox's store: records, locks, install, removal, configuration and export.
#include "guest_fs.hpp"
#include "sandbox_backend.hpp"

#include <azl/common/disk_space.hpp>
#include <azl/common/error.hpp>
#include <azl/common/fs.hpp>
#include <azl/common/log.hpp>
#include <azl/common/process.hpp>
#include <azl/common/program.hpp>
#include <azl/common/scope_guard.hpp>
#include <azl/launcher/commands.hpp>
#include <azl/rootfs/build.hpp>
#include <azl/rootfs/digest.hpp>
#include <azl/rootfs/extract.hpp>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>

namespace azl::launcher::sandbox
{

namespace fs = std::filesystem;

namespace
{

constexpr std::string_view kPendingFile = "install.pending";

// Every launch runs bubblewrap: without it nothing installed here can start.
constexpr std::string_view kBwrapMissing = "bwrap (bubblewrap) is not installed";
constexpr std::string_view kBwrapInstall = "install it: apt-get install bubblewrap";

void require_bwrap()
{
    if (!find_program("bwrap"))
    {
        throw UserError(
            fmt::format("{}: the Linux sandbox runs distributions with it", kBwrapMissing),
            std::string(kBwrapInstall));
    }
}

// create_directories with the errors a user can fix (read-only, permissions, full) as UserErrors
// whose hint is `fix`.
void create_store_directory(const fs::path& dir, std::string_view fix)
{
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (!ec)
    {
        return;
    }
    const int err = ec.value();
    if (is_unwritable(err))
    {
        throw unwritable_error(dir, err, fix);
    }
    if (is_no_space(err))
    {
        throw NoSpaceError(dir, space_info(dir), 0);
    }
    throw SystemError(fmt::format("creating {}", dir.string()), ec.message());
}

// The fix when the store itself cannot be written.
std::string store_fix(const fs::path& data)
{
    return fmt::format(
        "distributions are kept in {}: make it writable, or set XDG_DATA_HOME to a directory you "
        "can write to",
        data.string());
}

// An flock on locks/NAME.lock, released on destruction.
class NameLock
{
public:
    enum class Mode
    {
        exclusive,
        shared,
    };
    enum class Wait
    {
        yes,
        no,
    };

    NameLock(const StorePaths& paths, const std::string& name, Mode mode, Wait wait)
    {
        const fs::path dir = paths.data / "locks";
        create_store_directory(dir, store_fix(paths.data));
        const fs::path file = dir / (name + ".lock");
        m_fd = UniqueFd(::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
        if (!m_fd)
        {
            throw_errno(fmt::format("opening the lock {}", file.string()));
        }
        const int op =
            (mode == Mode::exclusive ? LOCK_EX : LOCK_SH) | (wait == Wait::no ? LOCK_NB : 0);
        while (::flock(m_fd.get(), op) != 0)
        {
            if (errno == EWOULDBLOCK)
            {
                throw UserError(
                    fmt::format(
                        "{} is being installed, changed or removed by another azurelinux", name),
                    "try again when that has finished");
            }
            if (errno != EINTR)
            {
                throw_errno(fmt::format("locking {}", file.string()));
            }
        }
    }

    // Whether some process holds an exclusive lock on NAME right now (an install in progress).
    static bool busy(const StorePaths& paths, const std::string& name)
    {
        const fs::path file = paths.data / "locks" / (name + ".lock");
        const UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
        return fd && ::flock(fd.get(), LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    }

private:
    UniqueFd m_fd;
};

std::string random_id()
{
    std::random_device rd;
    return fmt::format("{:08x}{:08x}", rd(), rd());
}

std::string utc_now()
{
    return fmt::format(
        "{:%Y-%m-%dT%H:%M:%SZ}",
        std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()));
}

// ID and VERSION_ID of the guest's /etc/os-release (empty when absent).
std::pair<std::string, std::string> os_release(const fs::path& rootfs)
{
    std::pair<std::string, std::string> out;
    const auto text = read_guest_file(rootfs, "/etc/os-release");
    if (!text)
    {
        return out;
    }
    std::size_t start = 0;
    while (start < text->size())
    {
        const std::size_t end = text->find('\n', start);
        std::string line = text->substr(start, end - start);
        start = end == std::string::npos ? text->size() : end + 1;
        const auto eq = line.find('=');
        if (eq == std::string::npos)
        {
            continue;
        }
        std::string value = line.substr(eq + 1);
        if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'')
            && value.back() == value.front())
        {
            value = value.substr(1, value.size() - 2);
        }
        if (line.compare(0, eq, "ID") == 0)
        {
            out.first = value;
        }
        else if (line.compare(0, eq, "VERSION_ID") == 0)
        {
            out.second = value;
        }
    }
    return out;
}

// Hidden siblings of an instance directory: one being built by an install, or one being deleted by
// an uninstall. Each appears or leaves the name in one rename.
constexpr std::string_view kInstallingTag = ".installing-";
constexpr std::string_view kRemovingTag = ".removing-";

// The longest name the store holds: the hidden ".NAME.removing-ID" sibling (ID: 16 hex digits) must
// fit in a file name, whose limit is 255 bytes on every Linux file system.
constexpr std::size_t kMaxStoreName = 255 - (1 + kRemovingTag.size() + 16);

// Throws UserError unless the store can hold a distribution called `name`: WSL's rule (and the
// launcher's), no leading '.' (the store's own hidden entries start with one), and room for the
// hidden siblings' decoration.
void validate_store_name(const std::string& name)
{
    validate_name(name);
    if (name.starts_with('.') || name.size() > kMaxStoreName)
    {
        throw UserError(
            fmt::format("the Linux sandbox cannot hold a distribution named '{}'", name),
            fmt::format(
                "use a name of at most {} characters that does not start with '.'", kMaxStoreName));
    }
}

// The name whose hidden directory `dir_name` is (".NAME.installing-ID"), or empty.
std::string hidden_owner(const std::string& dir_name, std::string_view tag)
{
    const auto at = dir_name.rfind(tag);
    return dir_name.starts_with('.') && at != std::string::npos && at > 1
               ? dir_name.substr(1, at - 1)
               : std::string();
}

// Deletes an instance directory no longer in view, and the rootfs at the external --location that
// its install.pending names.
void remove_instance_files(const fs::path& dir)
{
    std::error_code ec;
    const fs::path pending = dir / kPendingFile;
    if (fs::exists(pending, ec))
    {
        const fs::path location = fs::path(read_file(pending));
        for (const auto& entry : fs::directory_iterator(location, ec))
        {
            const std::string n = entry.path().filename().string();
            if (n == "rootfs" || n.starts_with("rootfs.partial"))
            {
                fs::remove_all(entry.path());
            }
        }
    }
    fs::remove_all(dir);
}

// Removes what a killed install or uninstall of `name` left behind (we hold its lock, so nobody
// else works on it).
void remove_leftovers(const StorePaths& paths, const std::string& name)
{
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(paths.data / "distros", ec))
    {
        const std::string n = entry.path().filename().string();
        if (hidden_owner(n, kInstallingTag) == name || hidden_owner(n, kRemovingTag) == name)
        {
            logger("launcher")->info("removing {}, left by an interrupted run", n);
            remove_instance_files(entry.path());
        }
    }
    // An instance directory without a record: what a killed install of an earlier version left.
    const fs::path dir = paths.distro_dir(name);
    if (fs::exists(dir, ec) && !fs::exists(paths.record_file(name), ec))
    {
        logger("launcher")
            ->info("removing what an interrupted install of {} left in {}", name, dir.string());
        remove_instance_files(dir);
    }
}

// Renames the directory `from` to `to`, which must not exist.
void rename_noreplace(const fs::path& from, const fs::path& to)
{
    if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0)
    {
        return;
    }
    // File systems without RENAME_NOREPLACE: rename(2) replaces only an empty directory.
    if (errno != EINVAL || ::rename(from.c_str(), to.c_str()) != 0)
    {
        throw_errno(fmt::format("renaming {} to {}", from.string(), to.string()));
    }
}

void verify_sha256(const InstallSpec& spec, const std::string& actual)
{
    if (spec.sha256 && *spec.sha256 != actual)
    {
        throw UserError(
            fmt::format(
                "{} has SHA-256 {}, expected {}", path_to_utf8(spec.image), actual, *spec.sha256),
            "the file is damaged or not the one published: download it again");
    }
}

void require_root_filesystem(const InstallSpec& spec, const fs::path& rootfs)
{
    std::error_code ec;
    const bool has_etc = fs::is_directory(fs::symlink_status(rootfs / "etc", ec));
    const bool has_sh = fs::exists(fs::symlink_status(rootfs / "bin" / "sh", ec))
                        || fs::exists(fs::symlink_status(rootfs / "usr" / "bin" / "sh", ec));
    if (!has_etc && !has_sh)
    {
        throw UserError(
            fmt::format(
                "{} is not a root file system: it has neither /etc nor /bin/sh",
                path_to_utf8(spec.image)),
            "check it with: azurelinux image check FILE");
    }
}

// instance.json's name for where an install came from (its "source"."kind").
std::string_view install_kind_in_record(InstallKind kind)
{
    switch (kind)
    {
    case InstallKind::image:
        return "image";
    case InstallKind::image_root:
        return "image-root";
    case InstallKind::backup:
        return "backup";
    }
    return "image";
}

// The reverse; a name no version of the store wrote makes the record damaged (json's
// out_of_range, reported by load_record).
InstallKind install_kind_from_record(const std::string& name)
{
    for (const InstallKind kind :
         {InstallKind::image, InstallKind::image_root, InstallKind::backup})
    {
        if (name == install_kind_in_record(kind))
        {
            return kind;
        }
    }
    throw nlohmann::json::out_of_range::create(
        403, fmt::format("unknown source kind \"{}\"", name), nullptr);
}

} // namespace

StorePaths store_paths(const BackendOptions& options)
{
    StorePaths p;
    const char* home = std::getenv("HOME");
    if (options.data_dir)
    {
        p.data = fs::absolute(*options.data_dir);
    }
    else if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg != nullptr && *xdg == '/')
    {
        p.data = fs::path(xdg) / "azurelinux";
    }
    else if (home != nullptr && *home == '/')
    {
        p.data = fs::path(home) / ".local/share/azurelinux";
    }
    else
    {
        throw UserError("cannot tell where to keep distributions: neither XDG_DATA_HOME nor HOME "
                        "is set");
    }
    if (const char* rt = std::getenv("XDG_RUNTIME_DIR"); rt != nullptr && *rt == '/')
    {
        p.runtime = fs::path(rt) / "azurelinux";
    }
    else
    {
        p.runtime = ::geteuid() == 0 ? fs::path("/run/azurelinux")
                                     : fs::path(fmt::format("/tmp/azurelinux-{}", ::geteuid()));
    }
    const char* drive = std::getenv("AZL_SANDBOX_DRIVE_C");
    p.drive_c = (drive != nullptr && *drive != '\0') ? fs::absolute(drive) : p.data / "host" / "c";
    p.helper = executable_path().parent_path() / "azurelinux-sandbox-exec";
    return p;
}

Record load_record(const StorePaths& paths, const std::string& name)
{
    validate_store_name(name);
    const fs::path file = paths.record_file(name);
    std::error_code ec;
    if (!fs::exists(file, ec))
    {
        throw UserError(
            fmt::format("there is no distribution named {}", name),
            "`azurelinux list` shows the installed ones");
    }
    try
    {
        const auto j = nlohmann::json::parse(read_file(file));
        Record r;
        r.name = j.at("name").get<std::string>();
        r.id = j.at("id").get<std::string>();
        r.location = j.at("location").get<std::string>();
        r.default_uid = j.at("default_uid").get<std::uint32_t>();
        r.flags = DistroFlags::from_wsl(j.at("flags").get<std::uint32_t>());
        r.setup_pending = j.at("setup_pending").get<bool>();
        const auto& source = j.at("source");
        r.source_file = source.at("file").get<std::string>();
        r.source_sha256 = source.at("sha256").get<std::string>();
        r.kind = install_kind_from_record(source.at("kind").get<std::string>());
        r.os_id = j.at("os").at("id").get<std::string>();
        r.os_version = j.at("os").at("version_id").get<std::string>();
        r.installed_at = j.at("installed_at").get<std::string>();
        return r;
    }
    catch (const nlohmann::json::exception& e)
    {
        throw UserError(
            fmt::format("the record {} is damaged: {}", file.string(), e.what()),
            fmt::format("remove the distribution: azurelinux uninstall --name {}", name));
    }
}

namespace
{

void write_record(const fs::path& file, const Record& r)
{
    const nlohmann::json j = {
        {"name", r.name},
        {"id", r.id},
        {"version", 2},
        {"location", r.location.string()},
        {"default_uid", r.default_uid},
        {"flags", r.flags.to_wsl()},
        {"setup_pending", r.setup_pending},
        {"source",
         {{"file", r.source_file},
          {"sha256", r.source_sha256},
          {"kind", install_kind_in_record(r.kind)}}},
        {"os", {{"id", r.os_id}, {"version_id", r.os_version}}},
        {"installed_at", r.installed_at},
    };
    write_file_atomic(file, j.dump(2) + "\n", 0644);
}

} // namespace

void save_record(const StorePaths& paths, const Record& r)
{
    write_record(paths.record_file(r.name), r);
}

SandboxBackend::SandboxBackend(const BackendOptions& options)
    : m_paths(store_paths(options))
{
}

EngineInfo SandboxBackend::engine()
{
    EngineInfo info{.name = "bubblewrap sandbox", .version = {}, .usable = false, .problem = {}};
    if (!find_program("bwrap"))
    {
        info.problem = fmt::format("{} ({})", kBwrapMissing, kBwrapInstall);
        return info;
    }
    const ProcessResult v = run_process({"bwrap", "--version"});
    info.version = v.out.substr(v.out.rfind(' ') + 1);
    while (!info.version.empty() && info.version.back() == '\n')
    {
        info.version.pop_back();
    }
    std::error_code ec;
    if (!fs::is_regular_file(m_paths.helper, ec))
    {
        info.problem =
            fmt::format("{} is missing: rebuild or reinstall azurelinux", m_paths.helper.string());
        return info;
    }
    // What every launch needs: new pid/ipc/uts namespaces and mounts (a user namespace too when
    // not root).
    std::vector<std::string> probe = {"bwrap", "--unshare-pid", "--unshare-ipc", "--unshare-uts"};
    if (::geteuid() != 0)
    {
        probe.emplace_back("--unshare-user");
    }
    for (const char* a : {"--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "true"})
    {
        probe.emplace_back(a);
    }
    const ProcessResult r = run_process(probe);
    if (!r.ok())
    {
        info.problem = fmt::format(
            "bwrap cannot create namespaces here: {}{}",
            r.err.substr(0, r.err.find('\n')),
            ::geteuid() != 0 ? " (unprivileged user namespaces may be "
                               "disabled: run as root, or set "
                               "kernel.unprivileged_userns_clone=1)"
                             : "");
        return info;
    }
    info.usable = true;
    return info;
}

bool SandboxBackend::is_registered(const std::string& name)
{
    validate_store_name(name);
    std::error_code ec;
    return fs::exists(m_paths.record_file(name), ec);
}

std::vector<DistroInfo> SandboxBackend::list()
{
    std::vector<DistroInfo> out;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(m_paths.data / "distros", ec))
    {
        const std::string name = entry.path().filename().string();
        if (!entry.is_directory(ec))
        {
            continue;
        }
        // An install in progress shows as such; what a killed one left is not a distribution.
        if (const std::string owner = hidden_owner(name, kInstallingTag);
            !owner.empty() && NameLock::busy(m_paths, owner))
        {
            DistroInfo installing;
            installing.name = owner;
            installing.state = DistroState::installing;
            out.push_back(std::move(installing));
        }
        if (name.starts_with('.') || !fs::exists(m_paths.record_file(name), ec))
        {
            continue;
        }
        const Record r = load_record(m_paths, name);
        DistroInfo info{
            .name = r.name,
            .state = instance_running(m_paths, r) ? DistroState::running : DistroState::stopped,
            .version = 2,
            .location = r.location,
            .default_uid = r.default_uid,
            .default_user = std::nullopt,
            .is_default = false,
            .setup_pending = r.setup_pending};
        if (const auto user = find_guest_uid(r.rootfs(), r.default_uid))
        {
            info.default_user = user->name;
        }
        out.push_back(std::move(info));
    }
    std::sort(
        out.begin(),
        out.end(),
        [](const DistroInfo& a, const DistroInfo& b) { return a.name < b.name; });
    return out;
}

void SandboxBackend::install(const InstallSpec& spec)
{
    validate_store_name(spec.name);
    if (archive_format_from_path(spec.image) == ArchiveFormat::vhdx)
    {
        throw UserError(
            fmt::format("{}: the Linux sandbox cannot use .vhdx disks", path_to_utf8(spec.image)),
            "use a tar, tar.gz (.wsl) or tar.xz file");
    }
    require_bwrap();
    create_store_directory(m_paths.data / "distros", store_fix(m_paths.data));
    const NameLock lock(m_paths, spec.name, NameLock::Mode::exclusive, NameLock::Wait::no);
    if (is_registered(spec.name))
    {
        throw UserError(fmt::format("a distribution named {} is already installed", spec.name));
    }
    remove_leftovers(m_paths, spec.name);

    // Hashing first: a wrong file is refused before anything is written.
    const std::string sha256 = rootfs::sha256_file(spec.image);
    verify_sha256(spec, sha256);

    const fs::path dir = m_paths.distro_dir(spec.name);
    const fs::path location = spec.location ? fs::absolute(*spec.location) : dir;
    // The instance directory is built under a hidden name and renamed into place whole, record
    // included: killed at any point, the name is either installed or absent.
    TempDir stage(fmt::format(".{}.installing", spec.name), m_paths.data / "distros");
    const fs::path staged_rootfs = location == dir ? stage.path() / "rootfs" : location / "rootfs";
    if (location != dir)
    {
        create_store_directory(location, "choose a --location you can write to");
        std::error_code ec;
        if (fs::exists(fs::symlink_status(staged_rootfs, ec)))
        {
            throw UserError(
                fmt::format("{} already exists", staged_rootfs.string()),
                "choose an empty --location");
        }
        write_file_atomic(stage.path() / kPendingFile, location.string(), 0644);
    }
    // Until the rename below, a failure removes what this install wrote.
    ScopeGuard rollback(
        [&]
        {
            std::error_code ec;
            fs::remove_all(staged_rootfs, ec);
            fs::remove_all(stage.path(), ec);
        });

    rootfs::ExtractOptions options;
    options.progress = spec.progress;
    try
    {
        rootfs::extract_archive(spec.image, staged_rootfs, options);
    }
    catch (const NoSpaceError& e)
    {
        // Named by where the distribution goes, not by its hidden staging directory.
        throw NoSpaceError(location / "rootfs", e.space(), e.needed(), e.estimate());
    }
    require_root_filesystem(spec, staged_rootfs);

    Record r;
    r.name = spec.name;
    r.id = random_id();
    r.location = location;
    r.setup_pending = spec.kind == InstallKind::image;
    r.source_file = fs::absolute(spec.image).string();
    r.source_sha256 = sha256;
    r.kind = spec.kind;
    std::tie(r.os_id, r.os_version) = os_release(staged_rootfs);
    r.installed_at = utc_now();
    write_record(stage.path() / "instance.json", r);
    rename_noreplace(stage.path(), dir);
    stage.release();
    rollback.dismiss();
    // Only now: until the rename it tells a later install where this one's rootfs went.
    std::error_code ec;
    fs::remove(dir / kPendingFile, ec);
}

void SandboxBackend::unregister(const std::string& name)
{
    const NameLock lock(m_paths, name, NameLock::Mode::exclusive, NameLock::Wait::no);
    const Record r = load_record(m_paths, name);
    stop_instance(m_paths, r);
    remove_leftovers(m_paths, name);
    // One rename unregisters: from then on the name is free and the directory out of view, whatever
    // happens to the files. install.pending tells whoever finishes the deletion where the rootfs
    // is.
    const fs::path dir = m_paths.distro_dir(name);
    if (r.location != dir)
    {
        write_file_atomic(dir / kPendingFile, r.location.string(), 0644);
    }
    const fs::path removing =
        m_paths.data / "distros" / fmt::format(".{}{}{}", name, kRemovingTag, random_id());
    rename_noreplace(dir, removing);
    remove_instance_files(removing);
    std::error_code ec;
    fs::remove(r.location, ec); // a --location folder, when empty
}

void SandboxBackend::terminate(const std::string& name)
{
    stop_instance(m_paths, load_record(m_paths, name));
}

void SandboxBackend::configure(
    const std::string& name, std::uint32_t default_uid, DistroFlags flags)
{
    const NameLock lock(m_paths, name, NameLock::Mode::exclusive, NameLock::Wait::yes);
    Record r = load_record(m_paths, name);
    r.default_uid = default_uid;
    r.flags = flags;
    save_record(m_paths, r);
}

DistroConfiguration SandboxBackend::get_configuration(const std::string& name)
{
    const Record r = load_record(m_paths, name);
    return {
        .version = 2,
        .default_uid = r.default_uid,
        .flags = r.flags,
        .default_environment =
            {"HOSTTYPE=x86_64",
             "LANG=C.UTF-8",
             "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
             "TERM=xterm-256color"},
        .setup_pending = r.setup_pending};
}

void SandboxBackend::set_setup_pending(const std::string& name, bool pending)
{
    const NameLock lock(m_paths, name, NameLock::Mode::exclusive, NameLock::Wait::yes);
    Record r = load_record(m_paths, name);
    r.setup_pending = pending;
    save_record(m_paths, r);
}

LaunchResult SandboxBackend::launch(const std::string& name, const LaunchSpec& spec)
{
    require_bwrap();
    return run_launch(m_paths, load_record(m_paths, name), spec, LaunchMode::capture);
}

int SandboxBackend::launch_interactive(const std::string& name, const LaunchSpec& spec)
{
    require_bwrap();
    return run_launch(m_paths, load_record(m_paths, name), spec, LaunchMode::interactive).exit_code;
}

void SandboxBackend::export_to(const std::string& name, const ExportSpec& spec)
{
    if (spec.format == ArchiveFormat::vhdx)
    {
        throw UserError(
            "vhdx backups need WSL 2 on Windows",
            "the Linux sandbox writes tar, tar.gz or tar.xz: pass --format tar.gz");
    }
    const NameLock lock(m_paths, name, NameLock::Mode::shared, NameLock::Wait::yes);
    const Record r = load_record(m_paths, name);
    const fs::path parent = fs::absolute(spec.file).parent_path();
    std::error_code ec;
    if (!fs::is_directory(parent, ec))
    {
        throw UserError(
            fmt::format("the directory {} does not exist", parent.string()), "create it first");
    }
    rootfs::BuildOptions options;
    options.sources = {r.rootfs()};
    options.output = spec.file;
    options.write.compression = spec.format == ArchiveFormat::tar      ? rootfs::Compression::none
                                : spec.format == ArchiveFormat::tar_xz ? rootfs::Compression::xz
                                                                       : rootfs::Compression::gzip;
    options.progress = spec.progress;
    rootfs::build_image(options);
}

std::string SandboxBackend::answers_guest_path(const std::string& name, const fs::path& /*host*/)
{
    load_record(m_paths, name);
    return std::string(kAnswersGuestPath);
}

} // namespace azl::launcher::sandbox
